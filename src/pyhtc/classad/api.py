"""Module-level functions of the ``classad2`` API: parsing streams of ads, quoting, user
function registration (classad2: parseOne/parseNext/parseAds/quote/unquote/register)."""
from __future__ import annotations

import enum
import io
import json
import re

from .classad import ClassAd, ExprTree
from .errors import ClassAdException, ClassAdParseError
from .functions import REGISTRY, Builtin
from .lexer import tokenize
from .oldsyntax import parse_old_lines
from .parser import parse_expr, parse_record
from .nodes import ListExpr, Literal, RelTimeLiteral
from .pyvalue import from_python, to_python
from .values import AbsTime
from .unparse import quote_string

__all__ = ["ParserType", "Parser", "parseOne", "parseNext", "parseAds", "quote", "unquote",
           "register", "version", "lastError"]

_last_error = ""


class ParserType(enum.IntEnum):
    """Which syntax to read (classad2.ParserType)."""

    Auto = -1
    Old = 0
    XML = 1
    JSON = 2
    New = 3
    FileAuto = 4


Parser = ParserType


def version() -> str:
    """The ClassAd library version (the HTCondor version pyhtc is compatible with)."""
    return "25.14.1"


def lastError() -> str:
    """Text of the last parse error ('' if none)."""
    return _last_error


def _set_error(msg: str) -> None:
    global _last_error
    _last_error = msg


def quote(input: str) -> str:
    """``input`` as a ClassAd string literal (new syntax escaping)."""
    if not isinstance(input, str):
        raise TypeError("quote() takes a string")
    return quote_string(input)


def unquote(input: str) -> str:
    """The string value of a ClassAd string literal (ValueError if it is not one)."""
    toks = tokenize(input)
    if len(toks) < 2 or toks[0][0] != "str" or any(t[0] != "str" for t in toks[:-1]) \
            or toks[-1][0] != "eof":
        raise ValueError(f"String does not parse to a ClassAd literal: {input!r}")
    return "".join(t[1] for t in toks[:-1])


def register(function, name: str | None = None) -> None:
    """Make Python callable ``function`` callable from ClassAd expressions as ``name``
    (default its ``__name__``). Arguments arrive as Python values (see to_python); the
    result is converted back; an exception makes the call evaluate to ERROR."""
    if name is None:
        name = function.__name__

    def impl(ctx, *args):
        r = function(*[to_python(a) for a in args])
        return from_python(r).ev(ctx)

    REGISTRY[name.lower()] = Builtin(name, 0, None, False, impl)


# ---------------------------------------------------------------- parsing streams

def _read_all(input) -> str:
    if isinstance(input, str):
        return input
    if hasattr(input, "read"):
        data = input.read()
        return data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    return "".join(input)


def _detect(text: str, pos: int = 0) -> ParserType:
    m = re.compile(r"\s*").match(text, pos)
    c = text[m.end():m.end() + 1]
    if c == "[":
        return ParserType.New
    if c == "{":
        return ParserType.JSON
    return ParserType.Old  # classad2's Auto never reads XML: "<..." is (bad) old syntax


def _iter_ads(text: str, parser):
    parser = ParserType(parser)
    if parser in (ParserType.Auto, ParserType.FileAuto):
        parser = _detect(text)
    if parser == ParserType.New:
        pos = 0
        ws = re.compile(r"(?:\s+|/\*.*?\*/)*", re.S)
        single = True  # most texts hold one ad: try the one-split path once
        while True:
            pos = ws.match(text, pos).end()
            if pos >= len(text):
                return
            try:
                attrs, pos = parse_record(text, pos, single=single)
                single = False
            except ClassAdParseError as e:
                # classad2 ends the stream at text that does not parse (see lastError())
                _set_error(str(e))
                return
            yield ClassAd._view(attrs, None)
    elif parser == ParserType.Old:
        # only "\n" ends a line (a "\r" before it is dropped), as in HTCondor
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        block: list = []
        start = 1
        for i, line in enumerate(lines + [""], 1):
            if line.strip() == "":
                if block:
                    ad = ClassAd()
                    parse_old_lines(block, ad._attrs, first_line=start)
                    if ad._attrs:  # a block without any attribute is no ad
                        yield ad
                    block = []
                start = i + 1
            else:
                block.append(line)
    elif parser == ParserType.JSON:
        yield from _json_ads(text)
    elif parser == ParserType.XML:
        from .xmlsource import parse_xml_ads
        for attrs in parse_xml_ads(text):
            yield ClassAd._view(attrs, None)
    else:
        raise ClassAdException(f"unknown parser type {parser!r}")


def _json_value(v):
    if isinstance(v, str):
        if v.startswith("/Expr(") and v.endswith(")/"):
            return ExprTree._wrap(parse_expr(v[6:-2]), None)
        return v
    if isinstance(v, dict):
        ad = ClassAd()
        for k, x in v.items():
            ad[k] = _json_value(x)
        return ad
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


def _json_ads(text: str):
    dec = json.JSONDecoder()
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            return
        if text[pos] == "[":
            pos += 1
            continue
        if text[pos] == "]":
            pos += 1
            continue
        try:
            obj, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise ClassAdParseError(f"invalid JSON ClassAd: {e.msg}", text, e.pos) from None
        if not isinstance(obj, dict):
            raise ClassAdParseError("JSON ClassAd must be an object", text, pos)
        yield _json_value(obj)


def parseAds(input, parser=ParserType.Auto):
    """Iterate over the ads in ``input`` (a string or a file), in old syntax (ads separated
    by blank lines), new syntax (successive ``[ ... ]``) or JSON; Auto detects by the first
    character."""
    if hasattr(input, "read") and not isinstance(input, io.StringIO):
        pass
    return _iter_ads(_read_all(input), parser)


def parseNext(input, parser=ParserType.Auto) -> ClassAd:
    """The next ad of ``input``. For a file, the file position moves past that ad (old
    syntax: past the blank line ending it). None when no ad is left (as classad2)."""
    if isinstance(input, str):
        for ad in _iter_ads(input, parser):
            return ad
        return None
    if not hasattr(input, "read"):
        raise TypeError("parseNext() input must be a string or a file")
    ptype = ParserType(parser)
    if ptype in (ParserType.Auto, ParserType.FileAuto):
        pos = input.tell() if hasattr(input, "tell") else None
        first = ""
        while True:
            ch = input.read(1)
            if not ch or not ch.isspace():
                first = ch
                break
        if pos is not None:
            input.seek(pos)
        ptype = ParserType.New if first == "[" else ParserType.JSON if first == "{" \
            else ParserType.Old
    if ptype == ParserType.Old:
        block = []
        for line in iter(input.readline, ""):
            if line.strip() == "":
                if block:
                    break
                continue
            block.append(line.rstrip("\n"))
        if not block:
            return None
        ad = ClassAd()
        parse_old_lines(block, ad._attrs)
        return ad
    rest = input.read()
    ads = _iter_ads(rest, ptype)
    for ad in ads:
        return ad
    return None


def parseOne(input, parser=ParserType.Auto) -> ClassAd:
    """All ads of ``input`` merged into one (later attributes win), as classad2 does.
    Raises ClassAdException (ClassAdParseError) if the text does not parse."""
    text = _read_all(input)
    out = ClassAd()
    for ad in _iter_ads(text, parser):
        # classad2 merges through Python values (ad.update): literals are converted to
        # Python and back, so a relTime("...") literal becomes a real and an absTime is
        # shown in UTC, while other expressions stay as they are
        for low, (name, node) in ad._attrs.items():
            out._set_node(name, _through_python(node))
    return out


def _through_python(node):
    """``from_python(node_to_python(node))`` without the round trip for the nodes it does
    not change (everything but relTime/absTime literals, also inside literal lists)."""
    t = type(node)
    if t is RelTimeLiteral:
        return Literal(node.secs)
    if t is Literal:
        v = node.value
        if type(v) is AbsTime and v.offset != 0:
            return Literal(AbsTime(v.secs, 0))
        return node
    if t is ListExpr:
        items = tuple(_through_python(n) for n in node.items)
        if any(a is not b for a, b in zip(items, node.items)):
            return ListExpr(items)
    return node
