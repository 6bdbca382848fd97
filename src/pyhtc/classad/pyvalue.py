"""Conversion between ClassAd values and Python objects, as classad2 does it.

* ClassAd -> Python (:func:`to_python`): bool/int/float/str as themselves; undefined ->
  ``Value.Undefined``; error -> ``Value.Error``; absTime -> aware ``datetime``; relTime ->
  float seconds; list -> Python list (literal elements converted, other elements as
  ``ExprTree``); record -> ``ClassAd``.
* Python -> ClassAd (:func:`from_python`): None -> undefined; list/tuple -> list;
  dict/ClassAd -> record; ExprTree -> its expression; datetime -> absTime (naive = local).
"""
from __future__ import annotations

import datetime
import enum

from .nodes import ListExpr, Literal, RecordExpr, RelTimeLiteral
from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime

__all__ = ["Value", "to_python", "from_python", "node_to_python"]


class Value(enum.IntEnum):
    """The two special ClassAd values as Python objects (classad2.Value)."""

    Error = 1
    Undefined = 2


def _datetime(v: AbsTime):
    # classad2 hands out absolute times as UTC datetimes whatever their display zone
    return datetime.datetime.fromtimestamp(v.secs, datetime.timezone.utc)


def to_python(v):
    """The Python object for evaluated value ``v``."""
    t = type(v)
    if t is bool or t is int or t is float or t is str:
        return v
    if v is UNDEFINED:
        return Value.Undefined
    if v is ERROR:
        return Value.Error
    if t is AbsTime:
        return _datetime(v)
    if t is RelTime:
        return float(v.secs)
    if t is ListValue:
        if v.exprs is not None:
            return [node_to_python(n, None) for n in v.exprs]
        return [to_python(x) for x in v.values()]
    # a record: hand out an independent copy
    from .classad import ClassAd
    return ClassAd._view(dict(v._attrs), None)


def node_to_python(node, scope):
    """The Python object for a stored expression: literals convert, others are ExprTree."""
    t = type(node)
    if t is Literal:
        return to_python(node.value)
    if t is RelTimeLiteral:
        return node.secs
    if t is ListExpr:
        return [node_to_python(n, scope) for n in node.items]
    from .classad import ClassAd, ExprTree
    if t is RecordExpr:
        return ClassAd._view(dict(node.attrs), None)
    return ExprTree._wrap(node, scope)


_LIT_CACHE: dict = {}


def from_python(v):
    """An expression node for Python value ``v`` (TypeError if it has no ClassAd form)."""
    from .classad import ClassAd, ExprTree
    t = type(v)
    if t is float:
        return Literal(v)
    if t is int or t is str or t is bool:
        if t is int and not (-(1 << 63) <= v < (1 << 63)):
            raise OverflowError("integer out of the 64-bit range of ClassAd integers")
        key = (t, v)
        n = _LIT_CACHE.get(key)
        if n is None:
            n = Literal(v)
            if len(_LIT_CACHE) < 100_000:
                _LIT_CACHE[key] = n
        return n
    if v is None:
        return Literal(UNDEFINED)
    if isinstance(v, ExprTree):
        return v._node
    if isinstance(v, Value):
        return Literal(UNDEFINED if v is Value.Undefined else ERROR)
    if isinstance(v, enum.Enum):
        return from_python(v.value)
    if isinstance(v, ClassAd):
        return RecordExpr(dict(v._attrs))
    if isinstance(v, dict):
        attrs = {}
        for k, x in v.items():
            attrs[str(k).lower()] = (str(k), from_python(x))
        return RecordExpr(attrs)
    if isinstance(v, (list, tuple)):
        return ListExpr(tuple(from_python(x) for x in v))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            secs = int(v.timestamp())
            off = int(v.astimezone().utcoffset().total_seconds())
        else:
            secs = int(v.timestamp())
            off = int(v.utcoffset().total_seconds())
        return Literal(AbsTime(secs, off))
    if isinstance(v, datetime.timedelta):
        return Literal(RelTime(v.total_seconds()))
    if isinstance(v, int):
        return from_python(int(v))
    if isinstance(v, float):
        return from_python(float(v))
    if isinstance(v, str):
        return from_python(str(v))
    from .errors import ClassAdException
    raise ClassAdException(
        f"Unable to convert Python object of type {type(v).__name__} to a ClassAd expression.")
