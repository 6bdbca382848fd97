"""Tokenizer for new-syntax ClassAd expressions (HTCondor: src/classad/lexer.cpp).

Tokens are tuples ``(kind, value, start, end)`` where ``kind`` is one of

* ``"int"`` / ``"real"`` (value: the Python number; out-of-range integers are 0, as in
  HTCondor), ``"str"`` (value: the decoded string), ``"name"`` (an identifier),
  ``"qname"`` (a ``'quoted'`` attribute name), ``"kw"`` (value: ``true``/``false``/
  ``undefined``/``error``/``is``/``isnt``, lower-cased), ``"op"`` (value: the operator text),
  ``"eof"``.

Positions are character offsets into the text. Lexical errors raise
:class:`~pyhtc.classad.errors.ClassAdParseError`.
"""
from __future__ import annotations

import re

from .errors import ClassAdParseError
from .values import from_bytes, to_bytes

__all__ = ["tokenize", "decode_escapes"]

_KEYWORDS = {"true", "false", "undefined", "error", "is", "isnt"}
_SIMPLE_ESC = {ord('"'): 0x22, ord("'"): 0x27, ord("?"): 0x3F, ord("a"): 7, ord("b"): 8,
               ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("v"): 11,
               ord("\\"): 0x5C}
_INT64_MAX = (1 << 63) - 1


def decode_escapes(body: str):
    """Decode the backslash escapes of a string literal body (HTCondor util.cpp
    ``convert_escapes``). Returns the string, or None if it contains a NUL byte."""
    if "\\" not in body:
        return body
    b = to_bytes(body)
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c == 0x5C and i < n - 1:
            i += 1
            c = b[i]
            if c in _SIMPLE_ESC:
                out.append(_SIMPLE_ESC[c])
            elif 0x30 <= c <= 0x37:
                num = c - 0x30
                if i + 1 < n and 0x30 <= b[i + 1] <= 0x37:
                    i += 1
                    num = (num << 3) + b[i] - 0x30
                    if num < 0x20 and i + 1 < n and 0x30 <= b[i + 1] <= 0x37:
                        i += 1
                        num = (num << 3) + b[i] - 0x30
                num &= 0xFF
                if num == 0:
                    return None
                out.append(num)
            else:
                out.append(c)
        else:
            out.append(c)
        i += 1
    return from_bytes(bytes(out))


def tokenize(text: str) -> list:
    """Split ``text`` into tokens (see module docstring). A lexical error ends the list with
    an ``("err", reason, pos, pos)`` token (the parser raises when it reaches it, so text
    after a complete ad does not matter)."""
    toks = []
    try:
        _scan(text, toks)
    except ClassAdParseError as e:
        toks.append(("err", e.reason, e.pos, e.pos))
    return toks


_TOKEN = re.compile(r"""
 (?P<ws>(?:\s+|/\*.*?\*/)+)
|(?P<real>(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
|(?P<int>\d+)
|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
|(?P<str>"(?:[^"\\]|\\.)*")
|(?P<qname>'(?:[^'\\]|\\.)*')
|(?P<op>>>>|=\?=|=!=|\?:|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%!~&|^<>=()\[\]{},;.?:])
""", re.S | re.X | re.A)


# The same tokens with the blanks before each token absorbed (fewer matches); used when the
# text has no comment.
_TOKEN_NOWS = re.compile(r"""[ \t\n\r\f\v]*(?:
 (?P<name>[A-Za-z_][A-Za-z0-9_]*)
|(?P<real>(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
|(?P<int>\d+)
|(?P<op>>>>|=\?=|=!=|\?:|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%!~&|^<>=()\[\]{},;.?:])
|(?P<str>"(?:[^"\\]|\\.)*")
|(?P<qname>'(?:[^'\\]|\\.)*')
)""", re.S | re.X | re.A)
_TRAILING_WS = re.compile(r"[ \t\n\r\f\v]*")


def _scan(text: str, toks: list) -> None:
    if "/*" in text:
        return _scan_with_comments(text, toks)
    append = toks.append
    n = len(text)
    keywords = _KEYWORDS
    pos = 0
    for m in _TOKEN_NOWS.finditer(text):
        kind = m.lastgroup
        start = m.start(kind)
        if m.start() != pos:
            break
        pos = m.end()
        if kind == "name":
            word = m.group(kind)
            low = word.lower()
            if low in keywords:
                append(("kw", low, start, pos))
            else:
                append(("name", word, start, pos))
        elif kind == "op":
            op = m.group(kind)
            if op == "/" and (text.startswith("*", pos) or text.startswith("/", pos)):
                if text.startswith("*", pos):
                    raise ClassAdParseError("unterminated comment", text, start)
                raise ClassAdParseError("'//' is not allowed (no line comments)", text, start)
            append(("op", op, start, pos))
        elif kind == "int":
            s = m.group(kind)
            if len(s) > 1 and s[0] == "0":
                raise ClassAdParseError("octal-looking integer literal is not allowed", text, start)
            if pos < n and text[pos] == ".":
                raise ClassAdParseError("malformed real literal", text, start)
            if s == "0" and pos < n and text[pos] in "xX":
                raise ClassAdParseError("hexadecimal literals are not allowed", text, start)
            append(("int", int(s), start, pos))
        elif kind == "real":
            append(("real", float(m.group(kind)), start, pos))
        elif kind == "str":
            v = decode_escapes(text[start + 1:pos - 1])
            if v is None:
                raise ClassAdParseError("string literal contains a NUL character", text, start)
            append(("str", v, start, pos))
        else:  # qname
            v = decode_escapes(text[start + 1:pos - 1])
            if v is None:
                raise ClassAdParseError("attribute name contains a NUL character", text, start)
            append(("qname", v, start, pos))
    pos = _TRAILING_WS.match(text, pos).end()
    _finish(text, toks, pos)


def _finish(text: str, toks: list, pos: int) -> None:
    n = len(text)
    if pos < n:
        c = text[pos]
        if c == '"':
            raise ClassAdParseError("unterminated string literal", text, pos)
        if c == "'":
            raise ClassAdParseError("unterminated quoted attribute name", text, pos)
        if text.startswith("/*", pos):
            raise ClassAdParseError("unterminated comment", text, pos)
        raise ClassAdParseError(f"unexpected character {c!r}", text, pos)
    toks.append(("eof", None, n, n))


def _scan_with_comments(text: str, toks: list) -> None:
    append = toks.append
    n = len(text)
    scanner = _TOKEN.scanner(text)
    match = scanner.match
    keywords = _KEYWORDS
    pos = 0
    while True:
        m = match()
        if m is None:
            break
        kind = m.lastgroup
        start, pos = m.span()
        if kind == "ws":
            continue
        if kind == "name":
            word = m.group()
            low = word.lower()
            if low in keywords:
                append(("kw", low, start, pos))
            else:
                append(("name", word, start, pos))
        elif kind == "op":
            op = m.group()
            if op == "/" and text.startswith("*", pos):
                raise ClassAdParseError("unterminated comment", text, start)
            if op == "/" and text.startswith("/", pos):
                # lexer.cpp: "//" comments do not exist in ClassAds; it is a token error
                raise ClassAdParseError("'//' is not allowed (no line comments)", text, start)
            append(("op", op, start, pos))
        elif kind == "int":
            s = m.group()
            if len(s) > 1 and s[0] == "0":
                raise ClassAdParseError("octal-looking integer literal is not allowed", text, start)
            if pos < n and text[pos] == ".":
                raise ClassAdParseError("malformed real literal", text, start)
            if s == "0" and pos < n and text[pos] in "xX":
                raise ClassAdParseError("hexadecimal literals are not allowed", text, start)
            append(("int", int(s), start, pos))
        elif kind == "real":
            append(("real", float(m.group()), start, pos))
        elif kind == "str":
            v = decode_escapes(text[start + 1:pos - 1])
            if v is None:
                raise ClassAdParseError("string literal contains a NUL character", text, start)
            append(("str", v, start, pos))
        else:  # qname
            v = decode_escapes(text[start + 1:pos - 1])
            if v is None:
                raise ClassAdParseError("attribute name contains a NUL character", text, start)
            append(("qname", v, start, pos))
    _finish(text, toks, pos)
