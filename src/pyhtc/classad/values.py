"""ClassAd runtime values: the contract shared by the evaluator and the built-in functions.

A *value* is what evaluating an expression yields (HTCondor: ``classad::Value``,
src/classad/value.cpp). pyhtc represents values with plain Python objects where one fits,
so evaluation allocates as little as possible:

=============  ==========================================================================
ClassAd type   Python representation
=============  ==========================================================================
undefined      ``UNDEFINED`` (singleton of :class:`Undefined`)
error          ``ERROR`` (singleton of :class:`Error`)
boolean        ``bool`` (test with ``type(v) is bool`` *before* testing for ``int``)
integer        ``int``, always within the signed 64-bit range (use :func:`wrap64`)
real           ``float`` (IEEE double; inf and nan allowed)
string         ``str``; bytes that are not valid UTF-8 are carried as lone surrogates
               (``errors="surrogateescape"``), so :func:`to_bytes` gives back the exact bytes.
               ClassAd strings have *byte* semantics (``size``, ``substr``): use :func:`to_bytes`.
absTime        :class:`AbsTime` (epoch seconds + the zone offset it is shown in)
relTime        :class:`RelTime` (seconds, a float)
list           :class:`ListValue` (element expressions plus a way to evaluate them)
classad        the ``ClassAd`` class of :mod:`pyhtc.classad` (a nested record)
=============  ==========================================================================

Built-in functions receive and return values in this representation (see
:mod:`pyhtc.classad.functions` for how they are registered).
"""
from __future__ import annotations

__all__ = [
    "Undefined", "Error", "UNDEFINED", "ERROR", "AbsTime", "RelTime", "ListValue",
    "wrap64", "to_bytes", "from_bytes", "INT64_MIN", "INT64_MAX", "type_name",
]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class Undefined:
    """The UNDEFINED value (an attribute that does not exist, or depends on one)."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __reduce__(self):
        return (Undefined, ())


class Error:
    """The ERROR value (a type mismatch or other evaluation failure)."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "error"

    def __reduce__(self):
        return (Error, ())


UNDEFINED = Undefined()
ERROR = Error()


def wrap64(x: int) -> int:
    """Wrap a Python int to the signed 64-bit range, as C++ int64 arithmetic does."""
    if INT64_MIN <= x <= INT64_MAX:
        return x
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= (1 << 63) else x


def to_bytes(s: str) -> bytes:
    """The exact bytes of a ClassAd string value (inverse of :func:`from_bytes`)."""
    return s.encode("utf-8", "surrogateescape")


def from_bytes(b: bytes) -> str:
    """A ClassAd string value holding exactly the bytes ``b`` (UTF-8 or not)."""
    return b.decode("utf-8", "surrogateescape")


class AbsTime:
    """An absolute time: ``secs`` since the Unix epoch (int) shown in zone ``offset``.

    ``offset`` is seconds east of UTC used when printing (HTCondor: ``abstime_t``,
    src/classad/classad/value.h). Two AbsTimes compare by ``secs`` only.
    """

    __slots__ = ("secs", "offset")

    def __init__(self, secs: int, offset: int = 0):
        self.secs = secs
        self.offset = offset

    def __eq__(self, other):
        return isinstance(other, AbsTime) and self.secs == other.secs

    def __hash__(self):
        return hash(("abstime", self.secs))

    def __repr__(self) -> str:
        return f"AbsTime({self.secs!r}, {self.offset!r})"


class RelTime:
    """A relative time (duration) of ``secs`` seconds (float, may be negative).

    HTCondor keeps reltimes as a double (src/classad/value.cpp).
    """

    __slots__ = ("secs",)

    def __init__(self, secs: float):
        self.secs = secs

    def __eq__(self, other):
        return isinstance(other, RelTime) and self.secs == other.secs

    def __hash__(self):
        return hash(("reltime", self.secs))

    def __repr__(self) -> str:
        return f"RelTime({self.secs!r})"


class ListValue:
    """A ClassAd list value.

    A list keeps its element *expressions* (printing a list shows them unevaluated:
    ``{a, 1+2}`` prints ``{ a,1 + 2 }``) and evaluates them on demand in the scope the
    list was found in.

    - ``exprs``: tuple of element expression nodes (owned by the evaluator), or ``None``
      when the list was built from values (e.g. the result of ``split()``).
    - ``values()``: list of the evaluated elements, computed once and cached.

    Built-in functions construct result lists with ``ListValue.of(values)``.
    """

    __slots__ = ("exprs", "_eval", "_values")

    def __init__(self, exprs, evaluate=None, values=None):
        self.exprs = exprs
        self._eval = evaluate
        self._values = values

    @classmethod
    def of(cls, values) -> "ListValue":
        """A list whose elements are the given (already evaluated) values."""
        return cls(None, None, list(values))

    def values(self) -> list:
        """The evaluated elements (a Python list of values)."""
        if self._values is None:
            self._values = [self._eval(e) for e in self.exprs]
        return self._values

    def __len__(self) -> int:
        return len(self.exprs) if self._values is None else len(self._values)

    def __repr__(self) -> str:
        return f"ListValue({self.values()!r})"


def type_name(v) -> str:
    """The ClassAd type name of a value: 'undefined', 'error', 'boolean', 'integer', 'real',
    'string', 'abstime', 'reltime', 'list' or 'classad'."""
    t = type(v)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "real"
    if t is str:
        return "string"
    if v is UNDEFINED:
        return "undefined"
    if v is ERROR:
        return "error"
    if t is AbsTime:
        return "abstime"
    if t is RelTime:
        return "reltime"
    if t is ListValue:
        return "list"
    return "classad"
