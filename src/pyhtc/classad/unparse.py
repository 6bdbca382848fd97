"""Printing ClassAd values and expressions (HTCondor: src/classad/sink.cpp ``ClassAdUnParser``).

New syntax (``repr``): reals ``%1.15E`` (zeros ``0.0``/``-0.0``, ``real("NaN")``,
``real("INF")``, ``real("-INF")``); strings double-quoted with C escapes and octal escapes for
every byte outside printable ASCII. Old syntax (``printOld``): reals ``%.16G`` plus ``.0`` when
the text looks integral; strings escape only ``"``.
"""
from __future__ import annotations

import math
import re

from .timefmt import abstime_to_string, reltime_to_string
from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime, to_bytes

__all__ = ["unparse_value", "format_real", "quote_string", "quote_name", "unparse_node"]

_RESERVED = {"error", "false", "is", "isnt", "parent", "true", "undefined"}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ESC = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 0x5C: "\\\\"}
_SAFE_STR = re.compile(r'[ !#-\[\]-~]*\Z')


def format_real(x: float, old: bool = False) -> str:
    """A real as the unparser prints it (new syntax unless ``old``)."""
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if x != x:
        return 'real("NaN")'
    if x == math.inf:
        return 'real("INF")'
    if x == -math.inf:
        return 'real("-INF")'
    if old:
        s = "%.16G" % x
        if "." not in s and "E" not in s:
            s += ".0"
        return s
    return "%.15E" % x


def _escape_bytes(s: str, delim: str, old: bool) -> str:
    out = []
    d = ord(delim)
    for c in to_bytes(s):
        if c == d:
            out.append("\\" + delim)
        elif c in _ESC:
            out.append(_ESC[c])
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append("\\%03o" % c)
    return "".join(out)


def quote_string(s: str, old: bool = False) -> str:
    """A string value as a double-quoted literal."""
    if _SAFE_STR.match(s):
        return '"' + s + '"'
    if old:
        return '"' + s.replace('"', '\\"') + '"'
    return '"' + _escape_bytes(s, '"', False) + '"'


def quote_name(name: str) -> str:
    """An attribute name, quoted with ``'`` when it is not a plain identifier or is reserved."""
    if _PLAIN_NAME.match(name) and name.lower() not in _RESERVED:
        return name
    if _PLAIN_NAME.match(name):
        return "'" + name + "'"
    return "'" + _escape_bytes(name, "'", False) + "'"


def _int32_secs(x: float) -> float:
    if x != x or not (-2147483649.0 < x < 2147483648.0):
        return -2147483648.0
    return float(int(x))


def unparse_value(v, old: bool = False) -> str:
    """The new-syntax text of a value (``string()``/``strcat()`` and ``repr`` of results)."""
    out: list = []
    value_to(out, v, old)
    return "".join(out)


def value_to(out: list, v, old: bool = False) -> None:
    """Append the text of value ``v`` to ``out``."""
    t = type(v)
    if t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(format_real(v, old))
    elif t is str:
        out.append(quote_string(v, old))
    elif v is UNDEFINED:
        out.append("undefined")
    elif v is ERROR:
        out.append("error")
    elif t is AbsTime:
        out.append('absTime("' + abstime_to_string(v) + '")')
    elif t is RelTime:
        # literals.cpp MakeLiteral reads a relTime value into a C int (time_t)(int)
        out.append('relTime("' + reltime_to_string(_int32_secs(v.secs)) + '")')
    elif t is ListValue:
        if old is not False and old is not True:
            if v.exprs is not None:
                old.list(out, v.exprs)
            else:
                old.list(out, v.values(), True)
            return
        out.append("{ ")
        if v.exprs is not None:
            first = True
            for e in v.exprs:
                if not first:
                    out.append(",")
                first = False
                e.unparse(out, old)
        else:
            first = True
            for e in v.values():
                if not first:
                    out.append(",")
                first = False
                value_to(out, e, old)
        out.append(" }")
    else:
        # a ClassAd record
        v._unparse_to(out, old)


def unparse_node(node, old: bool = False) -> str:
    """The text of an expression node."""
    out: list = []
    node.unparse(out, old)
    return "".join(out)
