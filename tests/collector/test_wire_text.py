"""WireText: ads kept as their wire text (get_ad(as_text=True)), against the per-attribute
reader on the same bytes."""
import pytest
from hypothesis import given, settings, strategies as st

from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.wire_ad import WireAd, WireText, get_ad, put_ad


def lines(*strings, crypto=False):
    enc = Encoder(crypto)
    enc.put_int(len(strings))
    for x in strings:
        enc.put_string(x)
    enc.put_string("")
    enc.put_string("")
    return enc.data


@pytest.mark.parametrize("crypto", [False, True])
def test_same_ad_as_the_attribute_reader(crypto):
    data = lines("A = 1", "  b=  \"x y\"  ", "C = \"two\nlines\"", "a = 2", "Req = B && A > 1",
                 crypto=crypto)
    d1, d2 = Decoder(data, crypto), Decoder(data, crypto)
    text = get_ad(d1, as_text=True)
    ad = get_ad(d2)
    d1.finish()
    d2.finish()
    assert isinstance(text, WireText) and len(text) == 5
    assert text.to_wire_ad() == ad
    assert text.expr("A") == "2" and text.expr("b") == '"x y"' and text.expr("nope") is None
    assert text.exprs(["req", "C"]) == {"req": ("Req", "B && A > 1"), "c": ("C", '"two\nlines"')}


def test_unusual_lines_fall_back_and_bad_lines_fail_with_offsets():
    # a Unicode blank around the expression: the strict fast rule declines, the line reader
    # accepts it (stripped) -- the result is the same ad either way
    data = lines("A = 1\u00a0", "B = 2")
    text = get_ad(Decoder(data), as_text=True)
    assert text.to_wire_ad() == WireAd([("A", "1"), ("B", "2")])
    with pytest.raises(ProtocolError, match="malformed"):
        get_ad(Decoder(lines("A = 1", "no equals")), as_text=True)
    with pytest.raises(ProtocolError, match="unterminated"):
        get_ad(Decoder(lines("A = 1")[:-3]), as_text=True)


def test_without_with_pairs_project_and_encode():
    t = get_ad(Decoder(lines("A = 1", "Secret = 2", "B = 3", "secret = 4")), as_text=True)
    u = t.without(["SECRET"]).with_pairs([("Z", '"z"')])
    assert u.pairs() == [("A", "1"), ("B", "3"), ("Z", '"z"')]
    assert t.project(["b", "a", "missing"]).pairs() == [("A", "1"), ("B", "3")]
    for crypto in (False, True):
        assert u.encode(crypto) == put_ad(Encoder(crypto), u.to_wire_ad()).data
        assert put_ad(Encoder(crypto), u).data == u.encode(crypto)
    exprs, rest = t.scan(frozenset(("a", "secret")), frozenset(("secret",)))
    assert exprs == {"a": ("A", "1")} and rest.pairs() == [("A", "1"), ("B", "3")]
    assert t.scan(frozenset(("b",)), frozenset(("nope",)))[1] is t
    with pytest.raises(ValueError):
        WireText.from_pairs([("A", "1\x002")])


_name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_expr = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                min_size=1, max_size=20).filter(lambda e: e.strip())


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(_name, _expr), max_size=8), crypto=st.booleans())
def test_property_text_reader_agrees_with_attribute_reader(pairs, crypto):
    enc = Encoder(crypto)
    enc.put_int(len(pairs))
    for n, e in pairs:
        enc.put_string(f"{n} = {e}")
    enc.put_string("")
    enc.put_string("")
    data = enc.data
    try:
        expect = get_ad(Decoder(data, crypto))
    except ProtocolError:
        with pytest.raises(ProtocolError):
            get_ad(Decoder(data, crypto), as_text=True)
        return
    got = get_ad(Decoder(data, crypto), as_text=True)
    assert got.to_wire_ad() == expect
    # what the collector sends back reads as the same ad
    assert get_ad(Decoder(got.encode(crypto), crypto)) == expect


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(_name, _expr), max_size=8), crypto=st.booleans(),
       dup=st.booleans())
def test_property_fast_attribute_reader_agrees_with_the_line_loop(pairs, crypto, dup):
    from pyhtc.cedar import wire_ad
    if dup and pairs:
        pairs = pairs + [(pairs[0][0].upper(), "2")]
    enc = Encoder(crypto)
    enc.put_int(len(pairs))
    for n, e in pairs:
        enc.put_string(f"{n} = {e}")
    enc.put_string("")
    enc.put_string("")
    data = enc.data

    def read(fast):
        saved = wire_ad._fast_lines
        if not fast:
            wire_ad._fast_lines = lambda dec, count: None
        try:
            d = Decoder(data, crypto)
            return get_ad(d), d.pos
        except ProtocolError as exc:
            return "error", str(exc)
        finally:
            wire_ad._fast_lines = saved
    assert read(True) == read(False)


def test_crypto_form_is_kept_from_the_wire_and_follows_appended_lines():
    data = lines("A = 1", "B = \"x\"", "Req = A > 0", crypto=True)
    t = get_ad(Decoder(data, True), as_text=True)
    assert t._crypto == data  # the bytes read are the encoding later queries send
    u = t.with_pairs([("LastHeardFrom", "7")])
    assert u._crypto is not None
    assert u.encode(True) == put_ad(Encoder(True), u.to_wire_ad()).data
    # a wrong length prefix is not taken by the fast reader: the line reader refuses it
    bad = bytearray(data)
    bad[8 + 7] += 1
    with pytest.raises(ProtocolError):
        get_ad(Decoder(bytes(bad), True), as_text=True)


def test_without_lines_removes_every_copy():
    t = WireText.from_pairs([("A", "1"), ("X", "2"), ("X", "2"), ("B", "3"), ("X", "2")])
    u = t.without_lines([b"X = 2"])
    assert u.pairs() == [("A", "1"), ("B", "3")] and len(u) == 2
    assert t.without_lines([b"nope = 1"]) is t


def test_to_classad_shares_parsed_expressions_but_not_nested_ads():
    from pyhtc.cedar.wire_ad import to_classad
    w = WireAd([("A", "1"), ("Req", "A > 0 && B =?= undefined"), ("Nested", "[x = 1]")])
    one, two = to_classad(w), to_classad(w)
    assert one.printOld() == two.printOld()
    assert one.lookup("Req").eval(one) is True
    one["Nested"]["x"] = 2  # a caller changing what it read must not change other ads
    assert two["Nested"]["x"] == 1 and to_classad(w)["Nested"]["x"] == 1
