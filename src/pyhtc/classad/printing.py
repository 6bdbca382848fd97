"""Pretty (``str(ad)``) and JSON (``printJson``) printing of ClassAds.

Pretty form follows src/classad/sink.cpp ``PrettyPrint`` (records indented 4, lists 3);
JSON follows src/classad/jsonSink.cpp ``ClassAdJsonUnParser`` (2-space indent; expressions
that are not literals, records or lists print as ``"\\/Expr(<new syntax>)\\/"``).
"""
from __future__ import annotations

from .nodes import ListExpr, Literal, RecordExpr, RelTimeLiteral
from .timefmt import abstime_to_string, reltime_to_string
from .unparse import format_real, quote_name, unparse_node, value_to
from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime

__all__ = ["Pretty", "pretty_ad", "json_ad"]


class Pretty:
    """Unparse mode object for the pretty printer (falsy, so nodes treat it as new syntax)."""

    __slots__ = ("indent",)

    def __init__(self):
        self.indent = 0

    def __bool__(self):
        return False

    def record(self, out, items):
        """items: iterable of (name, node)."""
        self.indent += 4
        out.append("\n" + " " * self.indent + "[")
        self.indent += 4
        items = list(items)
        for k, (name, node) in enumerate(items):
            out.append("\n" + " " * self.indent)
            out.append(quote_name(name) + " = ")
            node.unparse(out, self)
            if k + 1 != len(items):
                out.append("; ")
        self.indent -= 4
        out.append("\n" + " " * self.indent + "]")
        self.indent -= 4

    def list(self, out, elems, are_values=False):
        self.indent += 3
        out.append("\n" + " " * self.indent + "{")
        self.indent += 3
        elems = list(elems)
        for k, e in enumerate(elems):
            out.append("\n" + " " * self.indent)
            if are_values:
                value_to(out, e, self)
            else:
                e.unparse(out, self)
            if k + 1 != len(elems):
                out.append(",")
        self.indent -= 3
        out.append("\n" + " " * self.indent + "}")
        self.indent -= 3


def pretty_ad(ad) -> str:
    """``str(ad)``: the pretty multi-line form."""
    out: list = []
    Pretty().record(out, ad._items())
    return "".join(out)


def _json_str(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\\":
            out.append("\\\\")
        elif 0 < o < 32:
            out.append("\\u00%02X" % o)
        else:
            out.append(ch)
    return "".join(out)


def _quote_expr(text: str) -> str:
    return '"\\/Expr(' + _json_str(text) + ')\\/"'


class _Json:
    def __init__(self):
        self.indent = 0

    def value(self, out, v):
        t = type(v)
        if t is str:
            out.append('"' + _json_str(v) + '"')
        elif t is bool:
            out.append("true" if v else "false")
        elif t is int:
            out.append(str(v))
        elif t is float:
            if v == 0.0 or v == v and v not in (float("inf"), float("-inf")):
                out.append(format_real(v, True))
            else:
                out.append(_quote_expr(format_real(v)))
        elif v is UNDEFINED:
            out.append("null")
        elif v is ERROR:
            out.append(_quote_expr("error"))
        elif t is AbsTime:
            out.append(_quote_expr('absTime("' + abstime_to_string(v) + '")'))
        elif t is RelTime:
            out.append(_quote_expr('relTime("' + reltime_to_string(v.secs) + '")'))
        elif t is ListValue:
            if v.exprs is not None:
                self.list(out, v.exprs)
            else:
                self.list(out, [Literal(x) for x in v.values()])
        else:
            self.record(out, v._items())

    def node(self, out, n):
        t = type(n)
        if t is Literal:
            self.value(out, n.value)
        elif t is RelTimeLiteral:
            self.value(out, n.secs)  # the literal's value is a real (SPEC-NOTES 1)
        elif t is RecordExpr:
            self.record(out, _sorted_items(n.attrs))
        elif t is ListExpr:
            self.list(out, n.items)
        else:
            out.append(_quote_expr(unparse_node(n)))

    def list(self, out, nodes):
        out.append("[")
        self.indent += 2
        for k, n in enumerate(nodes):
            if k:
                out.append(",")
            out.append("\n" + " " * self.indent)
            self.node(out, n)
        self.indent -= 2
        out.append("\n" + " " * self.indent + "]")

    def record(self, out, items):
        out.append("{")
        self.indent += 2
        for k, (name, n) in enumerate(items):
            if k:
                out.append(",")
            out.append("\n" + " " * self.indent + '"' + _json_str(name) + '": ')
            self.node(out, n)
        self.indent -= 2
        out.append("\n" + " " * self.indent + "}")


def _sorted_items(attrs: dict):
    return [attrs[k] for k in sorted(attrs, key=lambda k: (len(k), k))]


def json_ad(ad) -> str:
    """``printJson()`` text of an ad."""
    out: list = []
    _Json().record(out, ad._items())
    return "".join(out)
