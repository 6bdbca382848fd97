"""Focused tests of ClassAd language rules that the corpus does not pin down (expected values
checked against classad2 from HTCondor 25.14.1)."""
import io

import pytest

import pyhtc.classad as P
from pyhtc.classad import parser
from pyhtc.classad.values import ERROR, UNDEFINED


def ev(text, scope=None, target=None):
    return repr(P.ExprTree(text).simplify(scope, target))


# ---------------------------------------------------------------- old syntax

def test_old_syntax_backslashes_are_literal_except_quote():
    ad = P.parseOne('Path = "C:\\Program Files\\x"\nQ = "say \\"hi\\""\nT = "ends with \\\\"',
                    P.ParserType.Old)
    assert ad["Path"] == "C:\\Program Files\\x"
    assert ad["Q"] == 'say "hi"'
    assert ad["T"] == "ends with \\\\"
    assert ad.printOld() == ('Q = "say \\"hi\\""\nT = "ends with \\\\"\n'
                             'Path = "C:\\Program Files\\x"\n')


def test_old_syntax_stops_at_first_bad_line_and_reads_value_prefix():
    assert repr(P.parseOne("A = 1\nB = 007\nC = 3", P.ParserType.Old)) == "[ A = 1 ]"
    assert repr(P.parseOne("A = 1 2\nB = f(1) g", P.ParserType.Old)) == "[ A = 1; B = f(1) ]"
    assert repr(P.parseOne("# comment\n\n  X   =   4   \n", P.ParserType.Old)) == "[ X = 4 ]"
    assert repr(P.parseOne('A = "x" "y"', P.ParserType.Old)) == '[ A = "x" ]'


def test_old_syntax_reltime_literal_is_stored_as_real():
    ad = P.parseOne('Rel = relTime("1:00:00")\nT = absTime("2024-03-01T12:00:00Z")',
                    P.ParserType.Old)
    assert repr(ad) == '[ T = absTime("2024-03-01T12:00:00-00:00"); Rel = 3.600000000000000E+03 ]'
    assert repr(P.ClassAd('[d = relTime("2+03:04:05")]')) == '[ d = relTime("2+03:04:05") ]'


def test_old_syntax_printing_of_reals_and_meta_operators():
    ad = P.ClassAd("[a = 1e10; b = 0.1; c = 3.0e20; d = x =?= y; e = -0.0; f = 100.0]")
    assert ad.printOld() == ("a = 10000000000.0\nb = 0.1\nc = 3E+20\nd = x =?= y\ne = -0.0\n"
                             "f = 100.0\n")


# ---------------------------------------------------------------- streams and files

def test_parse_ads_from_real_files(tmp_path):
    p = tmp_path / "ads.old"
    p.write_text("A = 1\nB = \"x\"\n\n\nC = 3\n\n")
    with open(p) as f:
        ads = list(P.parseAds(f))
    assert [repr(a) for a in ads] == ['[ A = 1; B = "x" ]', "[ C = 3 ]"]
    q = tmp_path / "ads.new"
    q.write_text("[a = 1]\n[b = [c = 2]]\n")
    with open(q) as f:
        assert [repr(a) for a in P.parseAds(f, P.ParserType.New)] == ["[ a = 1 ]",
                                                                      "[ b = [ c = 2 ] ]"]


def test_parse_next_advances_through_a_file(tmp_path):
    p = tmp_path / "q.old"
    p.write_text("A = 1\n\nB = 2\n")
    with open(p) as f:
        assert repr(P.parseNext(f)) == "[ A = 1 ]"
        assert repr(P.parseNext(f)) == "[ B = 2 ]"
        assert P.parseNext(f) is None


def test_json_roundtrip():
    ad = P.ClassAd('[a = 1; b = "s\\t"; c = {1, 2.5}; d = [e = undefined]; f = x + 1; g = error]')
    back = next(P.parseAds(io.StringIO(ad.printJson()), P.ParserType.JSON))
    assert repr(back) == repr(ad)


# ---------------------------------------------------------------- errors

def test_parse_error_positions():
    with pytest.raises(P.ClassAdParseError) as ei:
        P.ExprTree("a + (b * 2")
    assert ei.value.offset == 10 and ei.value.line == 1 and ei.value.column == 11
    with pytest.raises(P.ClassAdParseError) as ei:
        P.ClassAd("[\n  a = 1;\n  b = @\n]")
    e = ei.value
    assert (e.line, e.column) == (3, 7) and "unexpected character" in str(e)
    with pytest.raises(SyntaxError):
        P.ExprTree('absTime("garbage")')
    with pytest.raises(P.ClassAdParseError):
        P.ExprTree("(" * 30000 + "1" + ")" * 30000)


def test_lexical_rules():
    assert ev("5 -3") == "2" and repr(P.ExprTree("- 1")) == " -1"
    assert repr(P.ExprTree("-1")) == "-1"
    for bad in ("007", "1.", "0x1F", "1_000", '"\\0"', "a // b", "#", "{1,}", "[;]"):
        with pytest.raises(P.ClassAdParseError):
            P.ExprTree(bad)
    assert ev('"\\101\\x41"') == '"Ax41"'
    assert ev("9223372036854775808") == "0"
    assert repr(P.ExprTree("a..b")) == "a.b"
    assert repr(P.ExprTree("a ? : b + 1")) == "a ?: b + 1"
    assert ev("a + 0 ?: 5") == "undefined"  # Elvis binds like a postfix operator


# ---------------------------------------------------------------- evaluation

def test_cycles_and_deep_chains_do_not_raise():
    ad = P.ClassAd("[a = b + 1; b = a + 1; s = s]")
    assert ad.eval("a") is P.Value.Undefined and ad.eval("s") is P.Value.Undefined
    chain = "[" + "; ".join(f"a{i} = a{i + 1} + 1" for i in range(3000)) + "; a3000 = 0]"
    big = P.ClassAd(chain)
    assert big.eval("a0") in (3000, P.Value.Error)
    assert P.ExprTree("+".join(["1"] * 30000)).eval() is P.Value.Error


def test_match_scoping():
    job = P.ClassAd('[Owner = "me"; n = [q = TARGET.Memory]; Requirements = other.Memory > 1]')
    mach = P.ClassAd("[Memory = 4096; Only = 9; Requirements = TARGET.Owner == \"ME\"]")
    assert ev("Only", job, mach) == "9"            # unqualified name falls back to TARGET
    assert ev("n.q", job, mach) == "4096"          # nested record reaches TARGET via lCtx
    assert ev(".Owner", job, mach) == "undefined"  # the root is the match ad
    assert ev("TARGET.TARGET.Owner", job, mach) == '"me"'
    assert job.symmetricMatch(mach) and mach.matches(job)
    assert not P.ClassAd("[Requirements = 0.0]").symmetricMatch(mach)


def test_list_projection_and_subscripts():
    ad = P.ClassAd('[l = {[q = 1], [q = 2], 3}; r = [X = 5; b = X]; b = 7]')
    assert ev("l.q", ad) == "{ 1,2,error }"
    assert ev('r["x"]', ad) == "5" and ev('r["b"]', ad) == "5" and ev('r["nope"]', ad) == "undefined"
    assert ev("l[4294967297]", ad) == "[ q = 2 ]"  # the index is read as a C int
    assert ev("l[-1]", ad) == "error" and ev("l[undefined]", ad) == "undefined"


def test_values_representation():
    ad = P.ClassAd("[a = 1; b = {1, a}; c = relTime(60); d = absTime(0, 3600)]")
    assert P.ExprTree("a").simplify(ad)._node.value == 1
    assert P.ExprTree("b").eval(ad)[0] == 1 and repr(P.ExprTree("b").eval(ad)[1]) == "a"
    assert P.ExprTree("c").eval(ad) == 60.0
    assert ev("d", ad) == 'absTime("1970-01-01T01:00:00+01:00")'
    assert UNDEFINED is not ERROR


def test_expressions_are_interned():
    a = P.ClassAd('[Requirements = TARGET.Memory > 2048 && TARGET.Arch == "X86_64"]')
    b = P.parseOne('Requirements = TARGET.Memory > 2048 && TARGET.Arch == "X86_64"',
                   P.ParserType.Old)
    assert a._attrs["requirements"][1] is b._attrs["requirements"][1]
    assert parser.parse_expr("x + 1") is parser.parse_expr("x + 1")


def test_pretty_printing():
    assert str(P.ClassAd("[a = 1; b = {1, [x = 1]}]")) == (
        "\n    [\n        a = 1; \n        b = \n           {\n              1,\n"
        "              \n                  [\n                      x = 1\n"
        "                  ]\n           }\n    ]")
    assert str(P.ClassAd()) == "\n    [\n    ]"
