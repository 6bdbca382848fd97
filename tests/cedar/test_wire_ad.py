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


# -- get_ads_bulk: many one-ad messages at once ------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from pyhtc.cedar.wire_ad import AdColumns, get_ads_bulk  # noqa: E402


def _payload(pairs, crypto):
    return bytes(put_ad(Encoder(crypto), WireAd(pairs)).data)


def _one_by_one(payloads, crypto):
    out = []
    for p in payloads:
        d = Decoder(p, crypto)
        out.append(get_ad(d))
        while d.remaining:
            out.append(get_ad(d))
    return [list(ad) for ad in out]


def _flat(blocks):
    return [list(ad) for b in blocks for ad in (b.ads() if isinstance(b, AdColumns) else b)]


@pytest.mark.parametrize("crypto", [False, True])
def test_bulk_uniform_ads_come_as_columns(crypto):
    payloads = [_payload([("ClusterId", "3"), ("JobStatus", str(1 + p % 2)), ("ProcId", str(p)),
                          ("Out", f'"out.{p}"')], crypto) for p in range(50)]
    blocks = get_ads_bulk(payloads, crypto)
    assert len(blocks) == 1 and isinstance(blocks[0], AdColumns)
    cols = blocks[0]
    assert cols.names == ("ClusterId", "JobStatus", "ProcId", "Out") and len(cols) == 50
    assert cols.columns[2] == [str(p) for p in range(50)]
    assert cols.columns[3][7] == '"out.7"'
    assert _flat(blocks) == _one_by_one(payloads, crypto)


@pytest.mark.parametrize("crypto", [False, True])
def test_bulk_mixed_runs_keep_order(crypto):
    payloads = []
    for p in range(30):
        pairs = [("A", str(p)), ("B", '"x"')]
        if p % 7 == 3:
            pairs.append(("C", "A + 1"))  # another count: a run of its own
        if p % 11 == 5:
            pairs = [("A", str(p)), ("Other", "true")]  # same count, other names
        if p == 13:
            pairs = [("A", "  spaced  ")]  # not as putClassAd writes it: read ad by ad
        payloads.append(_payload(pairs, crypto))
    blocks = get_ads_bulk(payloads, crypto)
    assert _flat(blocks) == _one_by_one(payloads, crypto)
    assert any(isinstance(b, AdColumns) for b in blocks) and any(isinstance(b, list) for b in blocks)


def test_bulk_several_ads_in_one_message_and_utf8():
    two = _payload([("A", "1")], True) + _payload([("A", "2")], True)
    payloads = [_payload([("A", '"é"')], True), two, _payload([("A", "3")], True)]
    assert _flat(get_ads_bulk(payloads, True)) == [[("A", '"é"')], [("A", "1")], [("A", "2")], [("A", "3")]]


def test_bulk_errors_name_the_message():
    good = _payload([("A", "1")], True)
    bad = good[:-3]  # cut inside the TargetType string
    with pytest.raises(ProtocolError) as e:
        get_ads_bulk([good, good, bad, good], True, "job ad message", 100)
    assert "job ad message #102" in str(e.value)


def test_bulk_checks_each_length_prefix():
    # a length that disagrees with the NUL the line ends at: not taken as columns; read as
    # get_ad reads it (here: the ad is malformed)
    good = _payload([("A", "12"), ("B", "3")], True)
    i = good.index(b"A = 12")
    tampered = good[:i - 1] + bytes([good[i - 1] - 2]) + good[i:]
    payloads = [good, tampered, good]
    try:
        ref = _one_by_one(payloads, True)
    except ProtocolError:
        with pytest.raises(ProtocolError):
            get_ads_bulk(payloads, True)
    else:
        assert _flat(get_ads_bulk(payloads, True)) == ref


_names = st.sampled_from(["A", "b", "ClusterId", "ProcId", "Foo.Bar", "_x"])
_texts = st.one_of(st.integers(-10**12, 10**12).map(str), st.sampled_from(
    ['"s"', '""', "true", "A + 1", "x y", '"ü"', " 1", "1 ", "undefined", '"a\\"b"', "[a=1]"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(_names, _texts, max_size=4), max_size=12), st.booleans())
def test_bulk_agrees_with_get_ad(ads, crypto):
    payloads = [_payload(list(d.items()), crypto) for d in ads]
    assert _flat(get_ads_bulk(payloads, crypto)) == _one_by_one(payloads, crypto)
