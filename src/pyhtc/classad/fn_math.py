"""ClassAd built-ins: floor, ceiling/ceil, round, pow, quantize, random.

Semantics follow HTCondor's ``src/classad/fnCall.cpp`` (``doRound``, ``doMath2``,
``random``), including its C arithmetic: results are C ``(long long)`` casts of doubles
(NaN / out of range -> INT64_MIN), ``round`` is ``rint`` (half to even) and integer ``pow``
is computed in double precision (``pow(3, 39)`` is 4052555153018976256, not exact).
"""
from __future__ import annotations

import math
import random as _random

from .errors import EvalFailure
from .fn_string import double_to_int64, int32, real_of
from .functions import builtin
from .values import ERROR, ListValue, wrap64

__all__ = ["c_pow", "EvaluationFailure"]


class EvaluationFailure(EvalFailure):
    """Raised by a built-in whose HTCondor counterpart reports an *evaluation failure*
    (``Evaluate()`` returning false, e.g. ``random(0)``); like classad2, the API turns it
    into ``ClassAdException("failed to evaluate expression")`` instead of a value."""


def c_pow(x: float, y: float) -> float:
    """C ``pow(3)`` (IEEE/C99 Annex F): never raises; overflow -> ±inf, domain -> NaN."""
    try:
        return math.pow(x, y)
    except OverflowError:
        # |result| too large: sign is negative only for a negative base and odd integral y
        if x < 0 and y == int(y) and int(y) % 2 == 1:
            return -math.inf
        return math.inf
    except ValueError:
        if x == 0.0:
            # pow(±0, y<0): ±inf (negative only for -0 with an odd integral exponent)
            if y == int(y) and int(y) % 2 == 1 and math.copysign(1.0, x) < 0:
                return -math.inf
            return math.inf
        return math.nan


def _rounder(fn):
    def impl(ctx, v):
        if type(v) is int:
            return v
        r = real_of(v)
        if type(r) is not float:
            return ERROR
        if r != r or math.isinf(r):
            return double_to_int64(r)
        return double_to_int64(float(fn(r)))
    return impl


builtin("floor", 1)(_rounder(math.floor))
builtin("ceiling", 1, aliases=("ceil",))(_rounder(math.ceil))
builtin("round", 1)(_rounder(round))  # Python round() on floats is half-to-even, like rint


@builtin("pow", 2)
def _pow(ctx, base, exp):
    """pow(b, e): int^non-negative-int -> int (double computation + 0.5, truncated, as
    fnCall.cpp doMath2); otherwise real via C pow. Non-numbers (incl. undefined) -> error."""
    if type(base) is int and type(exp) is int and exp >= 0:
        return double_to_int64(c_pow(float(base), float(exp)) + 0.5)
    rb, re_ = real_of(base), real_of(exp)
    if type(rb) is not float or type(re_) is not float:
        return ERROR
    return c_pow(rb, re_)


@builtin("quantize", 2)
def _quantize(ctx, a, b):
    """quantize(a, b): round a up to a multiple of b; for a list b, the first element >= a,
    else multiples of the last element (fnCall.cpp doMath2). b == 0 returns a unchanged."""
    rval = real_of(a)
    if type(rval) is not float:
        return ERROR
    if type(b) is ListValue:
        base = 0.0
        rbase = 0.0
        for item in b.values():
            r = real_of(item)
            if type(r) is not float:
                return ERROR
            base = item
            rbase = r
            if rbase >= rval:
                return item
        b = base
    else:
        rbase = real_of(b)
        if type(rbase) is not float:
            return ERROR
    if type(b) is int:
        if b == 0:
            return a
        if type(a) is int:
            return wrap64(_cdiv(wrap64(a + b - 1), b) * b)
        return _c_ceil(rval / b) * b
    if -1e-8 <= rbase <= 1e-8:
        return a
    return _c_ceil(rval / rbase) * rbase


def _c_ceil(x: float) -> float:
    """C ``ceil``: a float, keeping the sign of zero (``ceil(-0.5)`` is ``-0.0``)."""
    if not math.isfinite(x):
        return x
    r = float(math.ceil(x))
    return math.copysign(0.0, x) if r == 0.0 else r


def _cdiv(x: int, y: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


_rng = _random.SystemRandom()


@builtin("random", 0, 1)
def _random_fn(ctx, n=1.0):
    """random([n]): int n -> int in [0, n); real n -> real in [0, n); default 1.0.
    n <= 0 is an evaluation failure (raises :class:`EvaluationFailure`); other types error."""
    if type(n) is int:
        m = int32(n)
        if m <= 0:
            raise EvaluationFailure("random(): the range must be positive")
        return _rng.randrange(1 << 31) % m
    if type(n) is float:
        if n <= 0:
            raise EvaluationFailure("random(): the range must be positive")
        return n * _rng.random()
    return ERROR
