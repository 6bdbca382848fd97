"""The small part of ClassAd text the event log needs: literal values in and out.

Event bodies embed ClassAd text in a few places: the structured notes of a submit event
(``[ DAGNodeName = "A" ]``), the ``attr = value`` lines of a JOB_AD_INFORMATION event, the
execute-event properties and the values of the resource usage table.  This module turns such
text into plain Python values and back, without depending on a full ClassAd engine:

==============  =================================================================
ClassAd text    Python value
==============  =================================================================
integer         ``int``
real            ``float``
true / false    ``bool``
"string"        ``str`` (new ClassAd escapes: ``\\\\ \\" \\n \\t \\r``...)
[ a = 1; ... ]  ``dict`` (attribute name -> value, insertion order kept)
{ 1, "a" }      ``list``
anything else   :class:`Expression` (the expression's text, e.g. ``time()``)
==============  =================================================================

Semantics follow HTCondor's src/classad/lexer.cpp (literal syntax) and
src/classad/sink.cpp (unparsing: strings with backslash escapes, lists ``{ a,b }``, nested ads
``[ a = 1; b = 2 ]``).
"""
from __future__ import annotations

import math
import re

__all__ = ["Expression", "parse_value", "parse_value_old", "unparse_value", "unparse_old",
           "old_to_new_escaping", "split_assignment", "AdTextError"]


class AdTextError(ValueError):
    """Text that is not a well-formed ClassAd value or ``attr = value`` line."""


class Expression:
    """A ClassAd expression that is not a literal (kept as its text, e.g. ``time()``).

    The htcondor API layer may turn it into a real ``ExprTree``; here it only round-trips.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text.strip()

    def __eq__(self, other):
        return isinstance(other, Expression) and other.text == self.text

    def __hash__(self):
        return hash(("Expression", self.text))

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"Expression({self.text!r})"


_INT_RE = re.compile(r"[+-]?\d+\Z")
_REAL_RE = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?\Z")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a",
            "\\": "\\", '"': '"', "'": "'", "?": "?"}


def _scan_string(text: str, i: int) -> int:
    """Index just past the string literal that starts with the quote at ``text[i]``."""
    quote = text[i]
    i += 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    raise AdTextError(f"unterminated string literal in {text!r}")


def _unescape(body: str) -> str:
    """Decode the backslash escapes of a ClassAd string literal's body (lexer.cpp rules)."""
    if "\\" not in body:
        return body
    out = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8) & 0xFF))
            i = j
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` where it is outside strings and brackets."""
    parts, depth, start, i, n = [], 0, 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            i = _scan_string(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _matching_close(text: str) -> bool:
    """True when the bracket opening ``text`` closes at its last character."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            i = _scan_string(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i == n - 1
        i += 1
    return False


def split_assignment(line: str) -> tuple[str, str]:
    """Split an ``attr = expr`` line as ClassAd::Insert(const char*) does (classad.cpp).

    Returns ``(attr, rhs)``; raises :class:`AdTextError` if there is no ``=`` or no name.
    """
    s = line.lstrip()
    if s.startswith("'"):
        raise AdTextError(f"quoted attribute names are not allowed: {line!r}")
    eq = s.find("=")
    if eq < 0:
        raise AdTextError(f"no '=' in attribute line {line!r}")
    attr = s[:eq].rstrip(" ")
    if not attr:
        raise AdTextError(f"no attribute name in {line!r}")
    return attr, s[eq + 1:].lstrip(" ")


def parse_ad(text: str) -> dict:
    """Parse ``[ a = 1; b = "x" ]`` into a dict."""
    t = text.strip()
    if not (t.startswith("[") and t.endswith("]")):
        raise AdTextError(f"not a ClassAd: {text!r}")
    out: dict = {}
    for part in _split_top(t[1:-1], ";"):
        if not part.strip():
            continue
        attr, rhs = split_assignment(part)
        out[attr] = parse_value(rhs)
    return out


def parse_value(text: str):
    """Parse the text of a ClassAd expression into a Python value (see the module table).

    Raises :class:`AdTextError` for empty text or an unterminated string.
    """
    t = text.strip()
    if not t:
        raise AdTextError("empty expression")
    if _INT_RE.match(t):
        return int(t)
    if _REAL_RE.match(t):
        return float(t)
    low = t.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if t[0] == '"':
        end = _scan_string(t, 0)
        if end == len(t):
            return _unescape(t[1:-1])
        return Expression(t)
    if t[0] == "[" and _matching_close(t):
        try:
            return parse_ad(t)
        except AdTextError:
            return Expression(t)
    if t[0] == "{" and _matching_close(t):
        inner = t[1:-1]
        if not inner.strip():
            return []
        return [parse_value(p) for p in _split_top(inner, ",")]
    return Expression(t)


def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _real_new(x: float) -> str:
    if math.isnan(x):
        return 'real("NaN")'
    if math.isinf(x):
        return 'real("INF")' if x > 0 else 'real("-INF")'
    return "%.15E" % x


def unparse_value(v) -> str:
    """New-ClassAd text of a value (ClassAdUnParser::Unparse, sink.cpp)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _real_new(v)
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, Expression):
        return v.text
    if isinstance(v, dict):
        if not v:
            return "[  ]"
        return "[ " + "; ".join(f"{k} = {unparse_value(x)}" for k, x in v.items()) + " ]"
    if isinstance(v, (list, tuple)):
        return "{ " + ",".join(unparse_value(x) for x in v) + " }"
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} as ClassAd text")


def unparse_old(v) -> str:
    """Text of a value as HTCondor prints it on an ``attr = value`` line (sPrintAd).

    Old ClassAd syntax: reals use the short ``%.16G`` form with ``.0`` added to whole
    numbers (so they stay reals); in strings only ``"`` is escaped and a backslash is
    literal; a newline in a string is written as ``|`` (a line holds one attribute).
    Nested ads and lists are written as :func:`unparse_value` does.
    """
    if isinstance(v, float) and math.isfinite(v):
        s = "%.16G" % v
        if not any(c in s for c in ".EN"):
            s += ".0"
        return s
    if isinstance(v, str):
        return '"' + v.replace("\n", "|").replace("\r", " ").replace('"', '\\"') + '"'
    return unparse_value(v)


def old_to_new_escaping(text: str) -> str:
    """ConvertEscapingOldToNew (compat_classad.cpp): in old ClassAd text a backslash is
    literal unless it escapes a quote that does not end the text; double every other
    backslash so the new-syntax parser reads the same string.  Trailing whitespace goes."""
    if "\\" not in text:
        return text.rstrip(" \t\r\n")
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        out.append(ch)
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            quote_ends = i + 2 >= n or text[i + 2] in "\r\n"
            if nxt != '"' or quote_ends:
                out.append("\\")
        i += 1
    return "".join(out).rstrip(" \t\r\n")


def parse_value_old(text: str):
    """Parse the value of an old-syntax ``attr = value`` line (see :func:`parse_value`)."""
    return parse_value(old_to_new_escaping(text))
