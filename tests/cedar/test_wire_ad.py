from __future__ import annotations

import pytest

from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.wire_ad import (NotALiteral, WireAd, get_ad, literal, parse_literal, put_ad,
                                 quote_string)


def _roundtrip(ad, crypto=False, **kw):
    data = put_ad(Encoder(crypto), ad, **kw).data
    d = Decoder(data, crypto)
    out = get_ad(d)
    d.finish()
    return data, out


def test_layout():
    ad = WireAd.from_values({"A": 1, "B": "x"})
    data, back = _roundtrip(ad)
    assert data == bytes(7) + b"\x02" + b"A = 1\0B = \"x\"\0\0\0"
    assert back == ad


def test_old_syntax_strings():
    assert quote_string('say "hi"\\there') == '"say \\"hi\\"\\there"'
    assert parse_literal('"say \\"hi\\"\\there"') == 'say "hi"\\there'
    assert literal(True) == "true" and literal(2.0) == "2.0" and literal(0.25) == "0.25"
    assert parse_literal("1e3") == 1000.0 and parse_literal("FALSE") is False
    with pytest.raises(NotALiteral):
        parse_literal("Cpus > 1")


def test_private_attributes():
    ad = WireAd.from_values({"Name": "n", "ClaimId": "secret", "_condor_privX": "p"})
    _, pub = _roundtrip(ad, include_private=False)
    assert pub.names() == ["Name"]
    _, v1 = _roundtrip(ad, private_v2=False)
    assert v1.names() == ["Name", "ClaimId"]
    _, everything = _roundtrip(ad, crypto=True)
    assert everything.names() == ["Name", "ClaimId", "_condor_privX"]


def test_projection_sorted_and_server_time():
    ad = WireAd.from_values({"Zeta": 1, "alpha": 2, "Mid": 3})
    _, out = _roundtrip(ad, whitelist=["zeta", "ALPHA"], server_time=42)
    assert out.names() == ["alpha", "Zeta", "ServerTime"] and out.get("ServerTime") == 42


def test_expressions_kept_verbatim_and_case_insensitive_names():
    ad = WireAd([("Requirements", "TARGET.Cpus >= 2 && (Memory > 10)")])
    _, out = _roundtrip(ad)
    assert out.expr("requirements") == "TARGET.Cpus >= 2 && (Memory > 10)"
    assert not out.is_literal_only()


@pytest.mark.parametrize("payload, what", [
    (bytes(8), None),
    (b"\xff" * 8, "invalid ClassAd attribute count"),
    (bytes(7) + b"\x64" + b"A = 1\0", "invalid ClassAd attribute count"),
    (bytes(7) + b"\x05" + b"A = 1\0", "unterminated string"),
    (bytes(7) + b"\x01" + b"no equals sign\0\0\0", "malformed"),
    (bytes(7) + b"\x01" + b"1bad = 2\0\0\0", "malformed"),
])
def test_bad_ads(payload, what):
    d = Decoder(payload)
    if what is None:
        with pytest.raises(ProtocolError, match="unterminated"):
            get_ad(d)  # count 0 but no MyType/TargetType strings
        return
    with pytest.raises(ProtocolError, match=what):
        get_ad(d)


def test_literal_only_security_ads():
    data = put_ad(Encoder(), WireAd([("X", "Y + 1")])).data
    with pytest.raises(ProtocolError, match="not a literal"):
        get_ad(Decoder(data), literal_only=True)


def test_classad_conversion():
    C = pytest.importorskip("pyhtc.classad")
    if not hasattr(C, "ClassAd"):
        pytest.skip("pyhtc.classad is not written yet")
    from pyhtc.cedar.wire_ad import from_classad, to_classad
    ad = WireAd([("A", "1"), ("S", '"say \\"hi\\"\\there"'), ("P", '"Name\nCpus"'),
                 ("R", "TARGET.Cpus >= 2 && Memory > 10")])
    c = to_classad(ad)
    assert c["A"] == 1 and c["S"] == 'say "hi"\\there' and c["P"] == "Name\nCpus"
    back = from_classad(c)
    assert sorted(back) == sorted(ad)
    # the real client's ads arrive intact through the wire encoding
    classad2 = pytest.importorskip("classad2")
    real = classad2.ClassAd({"S": 'say "hi"\\there', "N": 3})
    w = from_classad(real)
    assert w.get("S") == 'say "hi"\\there' and w.get("N") == 3
