"""Differential property tests: random expressions against HTCondor's C++ library
(classad2, the oracle), which must be importable."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyhtc.classad as P
from classad_strategies import SCOPE, TARGET, _compound, exprs

classad2 = pytest.importorskip("classad2")
pytest.importorskip("htcondor2")

C_SCOPE = classad2.ClassAd(repr(SCOPE))
C_TARGET = classad2.ClassAd(repr(TARGET))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs)
def test_differential_against_classad2(text):
    """Random expressions evaluate and print exactly as in the C++ library."""
    try:
        ce = classad2.ExprTree(text)
    except Exception:
        with pytest.raises(P.ClassAdParseError):
            P.ExprTree(text)
        return
    pe = P.ExprTree(text)
    assert repr(pe) == repr(ce)
    for (ps, pt), (cs, ct) in (((None, None), (None, None)),
                               ((SCOPE, None), (C_SCOPE, None)),
                               ((SCOPE, TARGET), (C_SCOPE, C_TARGET))):
        try:
            want = repr(ce.simplify(cs, ct))
        except classad2.ClassAdException:
            with pytest.raises(P.ClassAdException):
                pe.simplify(ps, pt)
            continue
        assert repr(pe.simplify(ps, pt)) == want, (ps is not None, pt is not None)


_RICH_ATOMS = st.sampled_from([
    "0", "1", "-1", "2", "3.5", "-0.0", "1e308", "9223372036854775807", "-9223372036854775808",
    '""', '"abc"', '"ABC"', '"10"', "true", "false", "undefined", "error", "a", "b", "c", "x",
    "lst", "n", "n.x", "n.y", "x.a", "lst.a", "MY", "TARGET", "TARGET.a", "TARGET.b", "MY.c",
    "PARENT", "Self", "missing", "{}", "[]", '{1, "a", undefined}', "[a = 5; z = a + 1]",
    "relTime(60)", 'relTime("1:00")', "absTime(0)", 'absTime("2024-01-01T00:00:00Z")',
    "Requirements", "other", "root", "'q n'", "_u1"])
_CORE_FUNCS = ["isUndefined", "isError", "isString", "isInteger", "isReal", "isList",
               "isClassAd", "isBoolean", "isAbsTime", "isRelTime", "ifThenElse", "eval",
               "unparse", "debug", "member", "identicalMember", "sum", "avg", "min", "max",
               "size", "absTime", "relTime"]


def _rich(children):
    return st.one_of(
        _compound(children),
        st.tuples(st.sampled_from(_CORE_FUNCS), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(["<", "==", "is", "isnt", ">=", "!="]), children,
                  children).map(lambda t: f'anyCompare("{t[0]}", {t[1]}, {t[2]})'),
    )


rich_exprs = st.recursive(_RICH_ATOMS, _rich, max_leaves=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_exprs)
def test_differential_core_functions_and_scoping(text):
    """Scoping (MY/TARGET/PARENT/match ad), lists, records and the core built-ins against
    the C++ library."""
    test_differential_against_classad2.hypothesis.inner_test(text)
