"""Normalise ClassAd expression text the way HTCondor's unparser prints it.

condor_submit hands every user expression (``requirements``, ``+Attr``,
``periodic_*`` ...) to the ClassAd parser and sends the re-printed tree
(src/classad/sink.cpp, ClassAdUnParser in old-ClassAd mode).  The printer:

* puts one space on each side of a binary operator (``a == b``, ``x && y``)
  and one before a unary one (`` -x``, `` !x``; a negative number is ``-1``);
* keeps explicit parentheses, prints calls as ``f(a,b)`` and lists as ``{ a,b }``;
* lower-cases the literals ``true``, ``false``, ``undefined``, ``error``;
* reads strings with old-ClassAd escaping (a backslash matters only before
  a quote), as ParseClassAdRvalExpr does;
* prints reals with ``%.16G`` (plus ``.0`` when that looks like an integer) and
  strings with only ``"`` escaped.

This module works on tokens, which is all that printing rule needs.  It is used
until ``pyhtc.classad`` offers a full parser/unparser.
"""
from __future__ import annotations

import re

__all__ = ["ExprSyntaxError", "normalize", "token_normalize", "quote", "references", "unquote_classad_string"]

try:  # the ClassAd layer below us; optional so this module also works on its own
    from pyhtc.classad.errors import ClassAdParseError as _ParseError
    from pyhtc.classad.oldsyntax import convert_escaping as _convert_escaping
    from pyhtc.classad.parser import parse_expr as _parse_expr
    from pyhtc.classad.unparse import unparse_node as _unparse_node

    def _parse_old_value(text: str):
        # ParseClassAdRvalExpr: old-syntax escaping, and the WHOLE text must be one expression
        return _parse_expr(_convert_escaping(text))
    _classad = (_parse_old_value, _unparse_node, _ParseError)
except ImportError:  # pragma: no cover - only while pyhtc.classad is absent
    _classad = None


class ExprSyntaxError(ValueError):
    """Raised when text is not a ClassAd expression (message names the offset)."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<qattr>'(?:[^'\\]|\\.)*')
  | (?P<real>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<int>0[xX][0-9a-fA-F]+|\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>=\?=|=!=|==|!=|<=|>=|&&|\|\||\?:|<<|>>>|>>|[-+*/%<>!~&|^?:.,()\[\]{}])
    """,
    re.VERBOSE,
)

_KEYWORDS = {"true", "false", "undefined", "error"}
_WORD_OPS = {"is": "=?=", "isnt": "=!="}
# Tokens after which an operator is unary (or a value starts).
_BINARY = {"=?=", "=!=", "==", "!=", "<=", ">=", "&&", "||", "?:", "<<", ">>>", ">>",
           "+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "?", ":"}


def _old_string(text: str, pos: int, delim: str) -> tuple[str, int]:
    """Scan an old-syntax string literal starting at ``text[pos] == delim``.

    Old ClassAd lexing (src/classad/lexer.cpp tokenizeStringOld): a backslash
    is special only before the delimiter, and only when more text follows.
    Returns (value, index after the closing delimiter).
    """
    j = pos + 1
    buf = []
    while True:
        k = text.find(delim, j)
        if k < 0:
            raise ExprSyntaxError(f"unterminated string starting at offset {pos} in expression: {text}")
        if k > j - 1 and text[k - 1] == "\\" and k + 1 < len(text) and text[k + 1] != "\n":
            buf.append(text[j:k - 1] + delim)
            j = k + 1
            continue
        buf.append(text[j:k])
        return "".join(buf), k + 1


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos] == '"':
            value, pos = _old_string(text, pos, '"')
            out.append(("strval", value))
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprSyntaxError(f"unexpected character {text[pos]!r} at offset {pos} in expression: {text}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


def unquote_classad_string(tok: str) -> str:
    """Decode a ClassAd string literal token (with its quotes) into its value."""
    body = tok[1:-1]
    out = []
    i = 0
    esc = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "?": "?"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in esc:
                out.append(esc[n])
                i += 2
                continue
            if n in "01234567":
                m = re.match(r"[0-7]{1,3}", body[i + 1:])
                out.append(chr(int(m.group(), 8)))
                i += 1 + len(m.group())
                continue
            out.append(c)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def quote(value: str) -> str:
    """Print a string value as an old-syntax ClassAd literal (only ``"`` escaped)."""
    return '"' + value.replace('"', '\\"') + '"'


def _real(text: str) -> str:
    v = float(text)
    if v == 0.0:
        return "%.1f" % v
    s = "%.16G" % v
    if not re.search(r"[.Ee]", s):
        s += ".0"
    return s


def normalize(text: str) -> str:
    """Return ``text`` re-printed in HTCondor's canonical expression form.

    Parses with pyhtc.classad (old-syntax value rules, as ParseClassAdRvalExpr)
    and prints with its old-syntax unparser; when that package is not
    importable, falls back to the token printer below (the two agree on every
    expression of the shared corpus).  Raises ExprSyntaxError.
    """
    if _classad is not None:
        parse_old_value, unparse_node, parse_error = _classad
        if not text.strip():
            raise ExprSyntaxError("empty expression")
        try:
            return unparse_node(parse_old_value(text), old=True)
        except parse_error as e:
            raise ExprSyntaxError(f"{e} in expression: {text}") from None
    return token_normalize(text)


def token_normalize(text: str) -> str:
    """Token-level re-printer (no full parse); see the module docstring."""
    toks = _tokens(text)
    if not toks:
        raise ExprSyntaxError("empty expression")
    out: list[str] = []
    stack: list[str] = []
    prev: tuple[str, str] | None = None  # previous significant token
    for i, (kind, tok) in enumerate(toks):
        if kind == "ident" and tok.lower() in _WORD_OPS:
            kind, tok = "op", _WORD_OPS[tok.lower()]
        value_expected = prev is None or (prev[0] == "op" and prev[1] in _BINARY | {"(", "[", "{", ",", "!", "~", "u-", "u+"})
        if kind == "op":
            if tok in ("(", "[", "{"):
                # a call or subscript glues to the preceding operand
                stack.append(tok)
                out.append("{ " if tok == "{" else tok)
                prev = ("op", tok)
                continue
            if tok in (")", "]", "}"):
                want = {")": "(", "]": "[", "}": "{"}[tok]
                if not stack or stack.pop() != want:
                    raise ExprSyntaxError(f"unbalanced {tok!r} in expression: {text}")
                out.append(" }" if tok == "}" else tok)
                prev = ("close", tok)
                continue
            if tok == ",":
                out.append(",")
                prev = ("op", ",")
                continue
            if tok == ".":
                out.append(".")
                prev = ("op", ".")
                continue
            if value_expected and tok in ("-", "+", "!", "~"):
                nxt = toks[i + 1] if i + 1 < len(toks) else None
                folded = tok in "-+" and nxt is not None and nxt[0] in ("int", "real") and \
                    text.find(nxt[1]) == text.find(tok) + 1
                out.append(tok if folded else " " + tok)
                prev = ("op", "u" + tok if tok in "+-" else tok)
                continue
            if value_expected:
                raise ExprSyntaxError(f"unexpected operator {tok!r} in expression: {text}")
            out.append(f" {tok} ")
            prev = ("op", tok)
            continue
        if not value_expected and not (prev and prev[1] == "."):
            raise ExprSyntaxError(f"missing operator before {tok!r} in expression: {text}")
        if kind == "ident":
            low = tok.lower()
            out.append(low if low in _KEYWORDS and not (prev and prev[1] == ".") else tok)
        elif kind == "real":
            out.append(_real(tok))
        elif kind == "int":
            out.append(str(int(tok, 0)) if tok.lower().startswith("0x") else str(int(tok)))
        elif kind == "strval":
            out.append(quote(tok))
        else:  # quoted attribute name 'a b'
            out.append(tok)
        prev = ("val", tok)
    if stack:
        raise ExprSyntaxError(f"unclosed {stack[-1]!r} in expression: {text}")
    if prev and prev[0] == "op" and prev[1] not in (".",):
        raise ExprSyntaxError(f"expression ends with an operator: {text}")
    s = "".join(out)
    # `{ }` for an empty list
    return s.replace("{  }", "{  }")


def references(text: str) -> tuple[set[str], set[str]]:
    """Attribute names an expression refers to: (my_refs, target_refs), lower-cased.

    Unscoped names count as target references (as GetExprReferences does for
    names the job ad does not define); ``MY.x`` counts as a job reference.
    Function names and literal keywords are excluded.
    """
    my: set[str] = set()
    target: set[str] = set()
    try:
        toks = _tokens(text)
    except ExprSyntaxError:
        return my, target
    for i, (kind, tok) in enumerate(toks):
        if kind != "ident":
            continue
        low = tok.lower()
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        prv = toks[i - 1][1] if i > 0 else ""
        if low in _KEYWORDS or low in _WORD_OPS or nxt == "(":
            continue
        if nxt == ".":
            continue  # scope prefix
        if prv == ".":
            scope = toks[i - 2][1].lower() if i >= 2 else ""
            (my if scope == "my" else target).add(low)
            continue
        target.add(low)
    return my, target
