"""Old-syntax ads: one ``Name = expr`` per line, as ``condor_q -l`` prints them.

Rules (src/condor_utils/compat_classad.cpp ``SplitLongFormAttrValue`` and
``ConvertEscapingOldToNew``): leading blanks are skipped; lines starting with ``#`` and
blank lines are ignored; the name is everything before the first ``=`` (trailing blanks
removed); in the value a backslash is literal except in ``\\"`` not at the end of the line;
the value is then read as the longest new-syntax expression at its start (what follows is
ignored). The first line that is not ``Name = expr`` or whose value does not parse ends the
ad (the attributes read so far are kept, as classad2 does).
"""
from __future__ import annotations

from .errors import ClassAdParseError

import re

from .parser import parse_expr, parse_prefix

_ADJACENT_STRINGS = re.compile(r'"\s*"')

__all__ = ["convert_escaping", "parse_old_lines", "parse_old_value"]

_VALUE_CACHE: dict = {}


def convert_escaping(rhs: str) -> str:
    """Old-syntax value text -> new-syntax text (backslashes doubled except ``\\"``)."""
    if "\\" not in rhs:
        return rhs.rstrip(" \t\r\n")
    out = []
    i, n = 0, len(rhs)
    while i < n:
        c = rhs[i]
        out.append(c)
        i += 1
        if c == "\\":
            if i >= n or rhs[i] != '"' or i + 1 >= n or rhs[i + 1] in "\n\r":
                out.append("\\")
    s = "".join(out)
    return s.rstrip(" \t\r\n") if len(s) > 1 else s


def parse_old_value(rhs: str):
    """The node for an old-syntax value text (interned). Raises ClassAdParseError."""
    node = _VALUE_CACHE.get(rhs)
    if node is None:
        text = convert_escaping(rhs)
        try:
            node = parse_expr(text)
            if '"' in text and _ADJACENT_STRINGS.search(text):
                raise ClassAdParseError("re-read without joining strings", text, 0)
        except ClassAdParseError:
            node = parse_prefix(text)

        if len(_VALUE_CACHE) > 200_000:
            _VALUE_CACHE.clear()
        _VALUE_CACHE[rhs] = node
    return node


def parse_old_lines(lines, attrs: dict, strict: bool = False, first_line: int = 1) -> int:
    """Add ``Name = expr`` lines to ``attrs`` (lower-name -> (name, node)).

    Stops at the first malformed line (raising ClassAdParseError if ``strict``); returns the
    number of attributes added.
    """
    added = 0
    get = attrs.get
    cache = _VALUE_CACHE
    for lineno, line in enumerate(lines, first_line):
        s = line.lstrip()
        if not s or s[0] == "#":
            continue
        eq = s.find("=")
        if eq <= 0:
            if strict:
                raise ClassAdParseError("expected 'Name = value'", line, 0, lineno, 1)
            break
        name = s[:eq].rstrip(" ")
        rhs = s[eq + 1:].lstrip(" ")
        if not name:
            if strict:
                raise ClassAdParseError("missing attribute name", line, 0, lineno, 1)
            break
        node = cache.get(rhs)
        if node is None:
            try:
                node = parse_old_value(rhs)
            except ClassAdParseError as e:
                if strict:
                    col = len(line) - len(rhs) + e.pos + 1
                    raise ClassAdParseError(e.reason, line, col - 1, lineno, col) from None
                break
        low = name.lower()
        prev = get(low)
        attrs[low] = (prev[0] if prev else name, node)
        added += 1
    return added
