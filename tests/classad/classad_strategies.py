"""Hypothesis strategies shared by the ClassAd property tests: random new-syntax expression
texts and the scope/target ads they are evaluated in."""
from hypothesis import strategies as st

import pyhtc.classad as P

_NAMES = ["a", "b", "c", "x", "Self", "lst", "n", "MY", "TARGET", "missing", "_u1"]
_FUNCS = ["isUndefined", "isError", "ifThenElse", "size", "member", "sum", "max", "strcat",
          "int", "real", "string", "floor", "substr", "toUpper", "eval", "unparse",
          "nosuchfn", "regexp", "split", "stringListMember", "relTime", "absTime"]
_BINOPS = ["+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "=?=", "=!=", " is ",
           " isnt ", "&&", "||", "&", "|", "^", "<<", ">>", ">>>"]

_atoms = st.one_of(
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1).map(str),
    # (reals so close to DBL_MAX that "%.15E" rounds them up re-read as INF, in HTCondor too)
    st.floats(min_value=0, max_value=1e308).map(repr),
    st.text(alphabet=st.characters(blacklist_characters='"\\\x00', max_codepoint=0x3000),
            max_size=8).map(lambda s: '"' + s + '"'),
    st.sampled_from(_NAMES),
    st.sampled_from(["true", "FALSE", "undefined", "error", "'q n'", ".a", "MY.a",
                     "TARGET.b", "n.x", "lst[1]"]),
)


def _compound(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(_BINOPS), children).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(["-", "!", "~", "+"]), children).map(lambda t: t[0] + t[1]),
        children.map(lambda c: f"({c})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]} ?: {t[1]}"),
        st.tuples(st.sampled_from(_FUNCS), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(children, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}"),
        st.lists(st.tuples(st.sampled_from(_NAMES[:5]), children), max_size=3).map(
            lambda kv: "[" + "; ".join(f"{k} = {v}" for k, v in kv) + "]"),
        st.tuples(children, st.sampled_from(["a", "x", "q"])).map(lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}]"),
    )


exprs = st.recursive(_atoms, _compound, max_leaves=12)

SCOPE = P.ClassAd('[a = 1; b = a + 2.5; c = "Str"; x = {1, 2, [a = 3]}; Self = Self + 1; '
                  'lst = {a, b, c}; n = [x = a; y = PARENT.c]; _u1 = undefined]')
TARGET = P.ClassAd('[a = 10; b = "tgt"; Requirements = MY.a > TARGET.a]')
