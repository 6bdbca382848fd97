"""Operator semantics on ClassAd values (HTCondor: src/classad/operators.cpp).

Every function takes already-evaluated operand values (see :mod:`pyhtc.classad.values`) and
returns a value; none raises. The non-strict operators (``&&``, ``||``, ``?:``) live in
:mod:`pyhtc.classad.nodes` because they decide which operands to evaluate.
"""
from __future__ import annotations

import math

from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime, wrap64

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_MASK64 = (1 << 64) - 1
_INF = math.inf

_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def fold(s: str) -> str:
    """ASCII-only lower-casing (C ``strcasecmp`` semantics)."""
    if s.isascii():
        return s.lower()
    return s.translate(_ASCII_LOWER)


def _real(x: float):
    # A real result equal to +inf is an error; -inf and NaN are kept (operators.cpp doRealArithmetic).
    return ERROR if x == _INF else x


def _bad(a, b):
    """ERROR if either operand is error, UNDEFINED if either is undefined, else None."""
    if a is ERROR or b is ERROR:
        return ERROR
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    return None


def _num(v):
    """int/float for a numeric operand (bool -> int), else None."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is bool:
        return int(v)
    return None


def c_int32(x) -> int:
    """C ``(int)`` conversion of a number (x86: NaN / out-of-range doubles give INT_MIN,
    integers wrap modulo 2**32)."""
    if type(x) is float:
        if x != x or not (-2147483649.0 < x < 2147483648.0):
            return -2147483648
        return int(x)
    x = int(x) & 0xFFFFFFFF
    return x - (1 << 32) if x >= (1 << 31) else x


def make_reltime(x) -> RelTime:
    """A relTime value from a number as ``relTime(x)`` makes it (fnCall.cpp convTime): an
    integer is read into a C ``int`` first; a real is kept as it is."""
    if type(x) is float:
        return RelTime(x)
    return RelTime(float(c_int32(x)))


def _rt(x) -> RelTime:
    # value.cpp SetRelativeTimeValue(double) keeps the double; it is cut to a C int only
    # when the value is turned into a literal for printing (see unparse.value_to)
    return RelTime(float(x))


def _time_arith(op: str, a, b):
    # operators.cpp doTimeArithmetic
    ta, tb = type(a), type(b)
    if op == "+":
        if ta is AbsTime and tb is RelTime:
            return AbsTime(a.secs + int(b.secs), a.offset)
        if ta is RelTime and tb is AbsTime:
            return AbsTime(b.secs + int(a.secs), b.offset)
        if ta is RelTime and tb is RelTime:
            return _rt(a.secs + b.secs)
    elif op == "-":
        if ta is AbsTime and tb is AbsTime:
            return _rt(float(a.secs - b.secs))
        if ta is AbsTime and tb is RelTime:
            return AbsTime(a.secs - int(b.secs), a.offset)
        if ta is RelTime and tb is RelTime:
            return _rt(a.secs - b.secs)
    elif op in ("*", "/"):
        if ta is RelTime and (tb is int or tb is float):
            if op == "*":
                return _rt(a.secs * b)
            if b == 0:  # IEEE double division
                x = a.secs
                return _rt(math.nan if x == 0 or x != x else
                           math.copysign(math.inf, x) * math.copysign(1.0, b))
            return _rt(a.secs / b)
        if tb is RelTime and op == "*":
            if ta is int:
                return _rt(a * b.secs)
            if ta is float:
                return _rt(a * b.secs)
    return ERROR


def _is_time(v) -> bool:
    t = type(v)
    return t is AbsTime or t is RelTime


def add(a, b):
    """``a + b``."""
    if type(a) is int and type(b) is int:
        r = a + b
        return r if INT64_MIN <= r <= INT64_MAX else wrap64(r)
    return _arith("+", a, b)


def sub(a, b):
    """``a - b``."""
    if type(a) is int and type(b) is int:
        r = a - b
        return r if INT64_MIN <= r <= INT64_MAX else wrap64(r)
    return _arith("-", a, b)


def mul(a, b):
    """``a * b``."""
    if type(a) is int and type(b) is int:
        return wrap64(a * b)
    return _arith("*", a, b)


def div(a, b):
    """``a / b`` (integer division truncates toward zero)."""
    return _arith("/", a, b)


def mod(a, b):
    """``a % b`` (integers only; sign follows the dividend)."""
    return _arith("%", a, b)


def _arith(op: str, a, b):
    bad = _bad(a, b)
    if bad is not None:
        return bad
    if _is_time(a) or _is_time(b):
        return _time_arith(op, a, b)
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return ERROR
    if type(x) is int and type(y) is int:
        if op == "+":
            return wrap64(x + y)
        if op == "-":
            return wrap64(x - y)
        if op == "*":
            return wrap64(x * y)
        if y == 0:
            return ERROR
        if x == INT64_MIN and y == -1:
            return INT64_MAX if op == "/" else 0
        q = abs(x) // abs(y)
        if op == "/":
            return q if (x < 0) == (y < 0) else -q
        r = abs(x) - q * abs(y)
        return -r if x < 0 else r
    x, y = float(x), float(y)
    if op == "+":
        return _real(x + y)
    if op == "-":
        return _real(x - y)
    if op == "*":
        return _real(x * y)
    if op == "/":
        if y == 0.0:
            if x == 0.0 or x != x:
                return math.nan
            neg = (x < 0) != (math.copysign(1.0, y) < 0)
            return -math.inf if neg else ERROR
        return _real(x / y)
    return ERROR  # % on reals


# ---------------------------------------------------------------- comparisons

def _cmp_values(a, b):
    """(x, y) comparable pair, or a value (ERROR/UNDEFINED) when not comparable."""
    bad = _bad(a, b)
    if bad is not None:
        return bad
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        return (fold(a), fold(b))
    x, y = _num(a), _num(b)
    if x is not None and y is not None:
        if type(x) is not type(y):
            return (float(x), float(y))  # C++ compares mixed numbers as doubles
        return (x, y)
    if ta is AbsTime and tb is AbsTime:
        return (a.secs, b.secs)
    if ta is RelTime and tb is RelTime:
        return (a.secs, b.secs)
    return ERROR


def _fast_num(a, b):
    ta, tb = type(a), type(b)
    return (ta is int and tb is int) or (ta is float and tb is float)


def lt(a, b):
    """``a < b``."""
    if _fast_num(a, b):
        return a < b
    p = _cmp_values(a, b)
    return p[0] < p[1] if type(p) is tuple else p


def le(a, b):
    """``a <= b``."""
    if _fast_num(a, b):
        return a <= b
    p = _cmp_values(a, b)
    return p[0] <= p[1] if type(p) is tuple else p


def gt(a, b):
    """``a > b``."""
    if _fast_num(a, b):
        return a > b
    p = _cmp_values(a, b)
    return p[0] > p[1] if type(p) is tuple else p


def ge(a, b):
    """``a >= b``."""
    if _fast_num(a, b):
        return a >= b
    p = _cmp_values(a, b)
    return p[0] >= p[1] if type(p) is tuple else p


def eq(a, b):
    """``a == b`` (strings case-insensitive)."""
    if _fast_num(a, b):
        return a == b
    p = _cmp_values(a, b)
    return p[0] == p[1] if type(p) is tuple else p


def ne(a, b):
    """``a != b``."""
    if _fast_num(a, b):
        return a != b
    p = _cmp_values(a, b)
    return p[0] != p[1] if type(p) is tuple else p


def identical(a, b):
    """``a =?= b`` as a Python bool; ERROR when both operands are lists or both records."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        if _is_ad(a) and _is_ad(b):
            return ERROR
        return False
    if ta is ListValue or _is_ad(a):
        return ERROR
    if ta is AbsTime or ta is RelTime:
        return a.secs == b.secs
    return a == b


def _is_ad(v) -> bool:
    return hasattr(v, "_attrs")


def meta_eq(a, b):
    """``a =?= b`` / ``a is b``."""
    return identical(a, b)


def meta_ne(a, b):
    """``a =!= b`` / ``a isnt b``."""
    r = identical(a, b)
    return r if r is ERROR else not r


# ---------------------------------------------------------------- bitwise

def _ints(a, b):
    bad = _bad(a, b)
    if bad is not None:
        return bad
    if type(a) is int and type(b) is int:
        return None
    return ERROR


def bit_and(a, b):
    """``a & b``."""
    bad = _ints(a, b)
    return (a & b) if bad is None else bad


def bit_or(a, b):
    """``a | b``."""
    bad = _ints(a, b)
    return (a | b) if bad is None else bad


def bit_xor(a, b):
    """``a ^ b``."""
    bad = _ints(a, b)
    return (a ^ b) if bad is None else bad


def shl(a, b):
    """``a << b`` (count mod 64)."""
    bad = _ints(a, b)
    return wrap64(a << (b & 63)) if bad is None else bad


def shr(a, b):
    """``a >> b`` (arithmetic, count mod 64)."""
    bad = _ints(a, b)
    if bad is not None:
        return bad
    if a >= 0:
        return a >> (b & 63)  # the C shift count is taken mod 64
    # operators.cpp shifts a negative number one bit at a time, min(64, b) times
    return a >> min(64, b) if b > 0 else a


def ushr(a, b):
    """``a >>> b`` (logical, count mod 64)."""
    bad = _ints(a, b)
    if bad is not None:
        return bad
    n = b & 63
    if a >= 0:
        return a >> n
    # operators.cpp: shift once, clear the sign bit, then shift (n - 1) more; the C shift
    # count is taken mod 64, so a count of 0 gives 0 for negative numbers.
    return ((a >> 1) & INT64_MAX) >> ((n - 1) & 63)


# ---------------------------------------------------------------- unary

def neg(a):
    """Unary ``-``."""
    t = type(a)
    if t is int:
        return wrap64(-a)
    if t is float:
        return -a
    if a is UNDEFINED:
        return UNDEFINED
    if t is RelTime:
        return _rt(-a.secs)
    return ERROR


def pos(a):
    """Unary ``+``."""
    t = type(a)
    if t is int or t is float or t is RelTime:
        return a
    if a is UNDEFINED:
        return UNDEFINED
    return ERROR


def bit_not(a):
    """Unary ``~``."""
    if type(a) is int:
        return ~a
    if a is UNDEFINED:
        return UNDEFINED
    return ERROR


def to_bool(v):
    """Truth of a value for ``&&``/``||``/``!``/``?:``: True/False, UNDEFINED or ERROR."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if v is UNDEFINED:
        return UNDEFINED
    return ERROR


def lnot(a):
    """Unary ``!``."""
    b = to_bool(a)
    if type(b) is bool:
        return not b
    return b


BINARY = {
    "+": add, "-": sub, "*": mul, "/": div, "%": mod,
    "<": lt, "<=": le, ">": gt, ">=": ge, "==": eq, "!=": ne,
    "=?=": meta_eq, "is": meta_eq, "=!=": meta_ne, "isnt": meta_ne,
    "&": bit_and, "|": bit_or, "^": bit_xor, "<<": shl, ">>": shr, ">>>": ushr,
}
UNARY = {"-": neg, "+": pos, "~": bit_not, "!": lnot}
