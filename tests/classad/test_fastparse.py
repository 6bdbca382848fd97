"""The fast expression path (pyhtc.classad.fastparse) against the full parser: whenever the
fast path accepts a text it must build exactly the tree the full parser builds, and it must
decline (return None) every text the full parser rejects."""
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyhtc.classad as P
from pyhtc.classad import nodes, parser
from pyhtc.classad.errors import ClassAdParseError
from pyhtc.classad.fastparse import fast_parse, simple_node

from classad_strategies import exprs  # noqa: E402

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_FIELDS = {
    nodes.Literal: ("value",), nodes.RelTimeLiteral: ("secs",),
    nodes.AttrRef: ("name", "base", "absolute"), nodes.Binary: ("op", "left", "right"),
    nodes.Logical: ("op", "left", "right"), nodes.Unary: ("op", "operand"),
    nodes.Paren: ("inner",), nodes.Ternary: ("cond", "then", "other"),
    nodes.Elvis: ("left", "right"), nodes.Subscript: ("base", "index"),
    nodes.Call: ("name", "args"), nodes.ListExpr: ("items",), nodes.RecordExpr: ("attrs",),
}


def dump(x):
    """A comparable structure of a node tree (class, fields; values with their types)."""
    if isinstance(x, nodes.Node):
        return (type(x).__name__,) + tuple(dump(getattr(x, f)) for f in _FIELDS[type(x)])
    if isinstance(x, tuple):
        return tuple(dump(v) for v in x)
    if isinstance(x, dict):
        return tuple((k, v[0], dump(v[1])) for k, v in x.items())
    if isinstance(x, float):
        return ("float", math.copysign(1, x), repr(x))
    return (type(x).__name__, repr(x))


def check(text):
    """fast_parse(text) is None or the full parser's tree; None whenever the full parser
    raises. Returns the fast result."""
    fast = fast_parse(text)
    simple = simple_node(text)
    try:
        full = parser.parse_whole(text)
    except ClassAdParseError:
        assert fast is None, text
        assert simple is None, text
        return None
    if fast is not None:
        assert dump(fast) == dump(full), text
    if simple is not None:
        assert dump(simple) == dump(full), text
    return fast


def full_record(text):
    """The full parser's attrs for a one-record text (ClassAdParseError if it fails)."""
    p = parser.Parser(text)
    t = p.next()
    if t[1] != "[":
        p.error("expected '['", t)
    return p.record_body()


def check_ad(text):
    """ClassAd(text) (the split fast path) has the full parser's attributes, or both fail
    (the constructor with a positioned error)."""
    try:
        full = full_record(text)
    except ClassAdParseError:
        full = None
    try:
        ad = P.ClassAd(text)
    except ClassAdParseError as e:
        assert full is None, text
        assert 0 <= e.offset <= len(text) and e.line == text.count("\n", 0, e.offset) + 1
        return
    assert full is not None, text
    assert dump(ad._attrs) == dump(full), text


@pytest.mark.parametrize("text", [
    "a-5", "a -5", "a - 5", "-5", "- 5", "--5", "5--5", "-.5", "a-.5", "x*-2", "!-5",
    "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "a-9223372036854775808", "1e5", "1.5E-3", ".5", "00.5", "a ?: -1", "a?:-1.5",
    "a ?: - 1", "a ?: !b", "a ? : b", "a ? b : c", "a ?: b ?: c", "a + b ?: c",
    "a..b", ".a", "..a", ". true", "a.true", "a.'q n'", "'q n'", "'q\\'x'", ".'q'",
    "a is b", "a ISNT b", "a =?= b", "is", "a is", "x[1]", "x[1][2]", "{}", "{1,}", "{1, 2}",
    "[]", "[;]", "[a=1;;b=2]", "[a=1;]", "[;a=1]", "[A=1; a=2]", "[true=1]", "['x y' = 2]",
    "[a == 1]", '"a" "b"', '"a"  "b" "c"', '"\\101\\n"', '"\\0"', '"abc', "'abc",
    "f()", "f(1,)", "f(1, 2)", 'absTime("2020-01-01T00:00:00Z")', 'relTime("1:00")',
    'absTime("garbage")', 'relTime("x")', "absTime(1)", "1.x", "1.5.x", "0x10", "012",
    "0", "1e", "3ab", "a // b", "a /* c */ + b", "a / *b", "a @ b", "a $", "a\xa0b",
    "a = 1", "(a", "a)", "", " ", "a b", "((((a))))", "a && b || c && d", "!a && !b",
    "~a | b ^ c & d", "a << 1 >> 2 >>> 3", "a < b <= c > d >= e == f != g",
    "a ? b ? c : d : e", "x[a ? b : c]", "f(a ? b : c, {1, [x = y]})",
    "MY.a + TARGET.b * 2", "(a == b)", "(a)", "(a == b c)", "(1 + 2) * 3", "(a && b)",
    "(a.b.c >= -1)", "(a - -1)", '("x" == "y" "z")', "(a . b)", "(x ?: y)", "(a [1])",
    "(a == b) && (c != d) || !(e < f)", "(a == (b))", "f((a == b))", "(is == 1)", "[a = [b = [c = {1, {2, [d = 3]}}]]]",
])
def test_tricky_texts(text):
    check(text)


@pytest.mark.parametrize("text", [
    "[a = 1; b = 2]", "[a=1;b=2;]", "[ a = 1 ; ; b = 2 ; ]", "[]", "[ ]", "[;]", "[;a=1]",
    "[a = 1; A = 2; a = 3]", "['q x' = 1; b = 'q x']", "['true' = 1]", "[true = 1]",
    "[a = 1; is = 2]", "[a = 1 'b' = 2]", "[a = 1 b = 2]", "[a = ]", "[a = 1; b = )]",
    "[a == 1]", "[a = 1", "[a = \"x;]\"; b = {1, [c = 2; d = {3}]}]", "[a = [b = [c = [d = 1]]]]",
    "[a = 1 /* c */; b = 2]", "[a = x // y]", "[a = -1; b = -0; c = 007]", "[a = 1.5e3; b = .5]",
    "[a = \"\\\"q\\\"\"; b = \"\\101\"]", "[a = 1] [b = 2]", "[a = 1] b = 2", "[a = 1]  ",
    "  [a=1]", "[a = b.c.d; e = .f; g = h[1]]", "[a = 9223372036854775808]",
    "[a = 1;\n b = (2\n + )]", "[\n a = 1;\n b = @\n]", "[a = \"\u00e9\"; b = \"\t\"]",
])
def test_ad_texts(text):
    check_ad(text)


@pytest.mark.parametrize("text", [
    # the bulk value classification of parser._split_single: every string plain, one
    # string with an escape / an inner quote / a lone quote among plain ones, integers
    # with a leading zero, beyond 18 digits, beyond 64 bits, non-ASCII digits
    '[a = "x"; b = "y z"; c = ""; d = "\u00e9"]', '[a = "x"; b = "q\\"r"; c = "s"]',
    '[a = "x"; b = "q" "r"; c = "s"]', '[a = "x"; b = "q"+"r"]', '[a = "x"; b = "]',
    '[a = "x"; b = """"]', '[a = "x"; b = "\\"]', '[a = 1; b = 22; c = 0; d = 07]',
    "[a = 1; b = 999999999999999999; c = 1000000000000000000]",
    "[a = 1; b = 9223372036854775807; c = 9223372036854775808; d = 99999999999999999999]",
    "[a = 1; b = \u0663; c = 1\u0663]", "[a = 1; b = 2; c = a; d = -3; e = 0.5]",
])
def test_ad_value_classes(text):
    check_ad(text)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a", "B", "c1", "'q n'", "true", "A"]), exprs),
                max_size=4),
       st.sampled_from(["; ", ";", " ; ; ", "\n"]))
def test_generated_ads_agree(defs, sep):
    check_ad("[" + sep.join(f"{k} = {v}" for k, v in defs) + "]")


def test_common_expressions_take_the_fast_path():
    for text in ["TARGET.Mips * 2 + ifThenElse(TARGET.HasFileTransfer, 1, 0) + x / 1e6",
                 "(ExitCode isnt undefined) && (ExitCode != 0)", "a - 1", "x ?: -1",
                 "[a = 1; b = {1, 2}]", "a.b.c", '"a" "b"']:
        assert check(text) is not None, text


@pytest.mark.parametrize("text", [
    '(TARGET.Arch == "X86_64")', "(a-5)", "(a -5)", "(a - 5)", "(a && b) || (c || d)",
    "(a=?=b)", "(a =!= b)", "(a >>> 1)", "(a>>1)", "(a >= 9223372036854775808)",
    "(true == x)", "(error || a)", "(is == 1)", "(a == isnt)", "(x.is == 1)",
    "(a // b\n)", "(a / /* c */ b)", "(a /b)", "(a == 1.5)", "(a == 012)", "(a == 1e5)",
    '(a == "x\\"y")', '(a == "x" "y")', "f(a == b)", "f(a == b, c)", "f((a == b))",
    'absTime("x" + "y")', "true(a == b)", "(a == b).c", "(a == b)[1]", "-(a * b)",
    "!(a < b)", "{(a < b), (c > d)}", "[x = (a == b)]", "(a == b) ? (c + 1) : (d - 1)",
    "x ?: (a | b)", "a.(b == c)", "(a == b) (c == d)", "((a == b)", "(a == b))",
    "(a is b)", "(a IS 13)", "(ExitCode isnt undefined)", "(a Isnt b)", "(a isb)",
    "(a is.b)", "(a isnt -1)", "(a is is)", "(is is a)", "(a is(b))", "(a\tis\n\"x\")",
])
def test_compound_paren_tokens(text):
    """``(a op b)`` is cut as one token by the fast tokenizer: same tree as the full parser
    in every context, declined wherever the full parser fails."""
    check(text)


def test_compound_paren_tokens_take_the_fast_path():
    for text in ['(TARGET.Arch == "X86_64") && (TARGET.Disk >= RequestDisk)', "f(a == b)",
                 "(HoldReasonCode is 13) && (ExitCode isnt undefined)",
                 "(a-5)", "!(a < b)", "{(a < b), (c > d)}"]:
        assert check(text) is not None, text


def _corpus_texts(shared_dir):
    texts = []
    corpus = shared_dir / "classad" / "corpus"
    for line in (corpus / "public.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts += [row["expr"], row.get("ad"), row.get("target")]
    for line in (corpus / "match.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts += [row["job"], row["machine"]]
    return [t for t in texts if isinstance(t, str)]


def test_corpus_texts_agree(shared_dir):
    texts = _corpus_texts(shared_dir)
    assert len(texts) > 2000
    taken = sum(check(t) is not None for t in texts)
    assert taken > len(texts) * 0.9  # the fast path is the common path


def test_corpus_ads_agree_through_classad(shared_dir):
    """Whole ads: ClassAd(text) equals the full parser's record for every corpus ad."""
    ads = [t for t in _corpus_texts(shared_dir) if t.lstrip().startswith("[")]
    assert len(ads) > 100
    for text in ads:
        check_ad(text)


def test_benchmark_ads_agree(shared_dir):
    for name in ("job.old", "machine.old"):
        ad = P.parseOne((shared_dir / "classad" / "ads" / name).read_text(), P.ParserType.Old)
        text = repr(ad)
        check_ad(text)
        assert parser._split_single(text, 0) is not None  # whole ad on the fastest path


@SETTINGS
@given(exprs)
def test_generated_expressions_agree(text):
    check(text)


@SETTINGS
@given(st.text(alphabet="[]{}()=;,.+-*/<>!?:&|^~ \n\"'\\ab1_e05x", max_size=30))
def test_punctuation_soup_agrees(text):
    check(text)


@SETTINGS
@given(st.text(max_size=30))
def test_any_text_agrees(text):
    check(text)


def test_entry_points_agree(shared_dir):
    """ClassAd(), parseOne, parseNext and parseAds read one ad and streams alike."""
    text = repr(P.parseOne((shared_dir / "classad" / "ads" / "machine.old").read_text(),
                           P.ParserType.Old))
    ad = P.ClassAd(text)
    assert P.parseOne(text, P.ParserType.New) == ad
    assert P.parseNext(text, P.ParserType.New) == ad
    assert list(P.parseAds(text)) == [ad]
    stream = "[a = 1; b = a + 1] [c = {1, 2}]\n/* note */ [d = \"x;]\"]\n"
    ads = list(P.parseAds(stream, P.ParserType.New))
    assert [dict(x) for x in ads] == [{"a": 1, "b": P.ExprTree("a + 1")}, {"c": [1, 2]},
                                      {"d": "x;]"}]
    assert dict(P.parseOne(stream, P.ParserType.New)) == {
        "a": 1, "b": P.ExprTree("a + 1"), "c": [1, 2], "d": "x;]"}
    with pytest.raises(P.ClassAdParseError) as e:
        P.ClassAd("[a = 1;\n b = (2 + ]")
    assert (e.value.line, e.value.column) == (2, 11)


# -- the ';' cut of whole ads (parser._split_pieces): first-seen ads are cut at "; name =",
# ads like earlier ones through the table of pieces; both must give the full parser's attrs

_CUT_TEXTS = [
    '[a = "x; b = 2"; c = 3]', '[a = "x;"; b = "; c = 1"]', "[a = [b = 1; c = 2]; d = 3]",
    "[a = 1 /* ; b = 2 */; c = 3]", "[a = 1 /* c; */ ; d = 4]", "['b; c' = 1; d = 2]",
    "[a = 1;; b = 2]", "[a = 1; b = 2;]", "[a = 1; b = 2; ]", "[a = 1;b=2 ;c = 3 ]",
    "[a = 1; b == 2]", "[a = 1; b =?= 2]", "[a = 1; b = = 2]", "[a = 1; true = 2]",
    "[a = 1; b = 2; A = 3]", "[a = 1; b = 2; a = 3]", "[a = 1;\xa0b = 2]", "[a = 1\xa0]",
    "[\xa0a = 1]", "\xa0[a = 1]", "[a = 1; b = 2]\xa0", "[a = 1; 'b' = 2]", "[a = 1; b]",
    "[a = 1; ; ]", "[a = x;\n b = {1, 2};\n c = \"s\" ]", "[a = 1] ;", "[a = 1; b = 2] ]",
    "[a = 1; b = (2; c = 3)]", "[a = 1; b = f(2; c = 3)]", "[a = 1; b = {2; c = 3}]",
    '[a = "q\\"; b = 1"; c = 2]', "[a = 1; b = 2 + ; c = 3]", "[a = 1; B = 2; b = 3]",
]


def check_ad_thrice(text):
    """Cold (caches cleared), then twice more (the second and third parse may take the table
    of pieces): every time the full parser's attrs, or an error when it fails."""
    parser.clear_caches()
    for _ in range(3):
        check_ad(text)


@pytest.mark.parametrize("text", _CUT_TEXTS)
def test_cut_texts(text):
    check_ad_thrice(text)


def test_queue_of_similar_ads_takes_the_pieces_table(shared_dir):
    """Ads of one cluster differing in a few definitions (the second one on takes the table
    of pieces); variants whose changed definition the ';' cut cannot take, or which are
    errors, still agree with the full parser."""
    base = P.parseOne((shared_dir / "classad" / "ads" / "job.old").read_text(),
                      P.ParserType.Old)
    parser.clear_caches()
    variants = ['"out_%d.txt"', '"a; b = %d"', "[x = %d; y = 2]", "%d /* ; */", "%d +",
                "'q;%d'", "%d; true = 1", "%d; Args = 7", "{%d, 2}", "x%d"]
    for i in range(40):
        ad = P.ClassAd(base)
        ad["ProcId"] = i
        text = repr(ad)
        value = variants[i % len(variants)] % i
        text = text[:-1].rstrip() + "; Out = " + value + " ]"
        check_ad(text)
    pieces = parser._INTERN.get(parser._PIECES_KEY)
    assert pieces and len(pieces) > len(base)  # the table is in use


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a", "B", "c1", "'q n'", "true", "A", "x_2"]),
                          exprs), max_size=5),
       st.sampled_from(["; ", ";", " ; ; ", ";\n", "; ;"]))
def test_generated_ads_agree_thrice(defs, sep):
    check_ad_thrice("[" + sep.join(f"{k} = {v}" for k, v in defs) + "]")


@SETTINGS
@given(st.lists(st.text(alphabet='ab=;"[]{}/* \'1', max_size=8), min_size=1, max_size=5))
def test_semicolon_soup_ads_agree(chunks):
    check_ad_thrice("[a = 1; " + "; ".join(chunks) + "]")
