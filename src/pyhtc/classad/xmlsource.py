"""Reading ClassAds written as XML (``parseAds(text, ParserType.XML)``), the form
``condor_q -xml`` prints.

HTCondor 25's src/classad/xmlSource.cpp (ClassAdXMLParser) over the lexer of
src/classad/xmlLexer.cpp, which is lenient rather than a validating XML parser: text outside
``<c>`` is skipped; ``&amp;``, ``&lt;`` and ``&gt;`` are the only entities; leading
whitespace of a text is dropped except inside ``<s>``; a text runs to the next ``<``.
Values: ``<i>`` (leading digits, else ERROR), ``<r>`` (strtod's prefix, ``NaN``/``INF``),
``<s>`` (C escapes decoded; ``\\0`` makes the ad invalid), ``<b v="t"/>``, ``<un/>``,
``<er/>``, ``<at>`` and ``<rt>`` (malformed: the ad is invalid), ``<l>``, a nested ``<c>``, and ``<e>`` parsed as a new-syntax
expression.  An attribute without a usable value makes the whole ad invalid: the stream
then ends with ClassAdParseError (classad2 raises ValueError "Unable to parse input stream
into a ClassAd.").  Another tag inside an ad ends that ad.  An ad with no attribute ends the
stream, as with classad2.
"""
from __future__ import annotations

import re
from typing import Iterator, Optional

from .errors import ClassAdParseError
from .lexer import decode_escapes
from .nodes import ListExpr, Literal, RecordExpr, RelTimeLiteral
from .timefmt import parse_abstime, parse_reltime
from .values import ERROR, UNDEFINED

__all__ = ["parse_xml_ads", "XMLParseError"]


class XMLParseError(ClassAdParseError, ValueError):
    """An invalid ad in an XML stream: a ClassAdParseError that is also the ValueError
    classad2 raises there ("Unable to parse input stream into a ClassAd.")."""

_TAGS = {"classads", "c", "a", "i", "r", "s", "b", "un", "er", "at", "rt", "l", "e", "?xml",
         "?xml-stylesheet", "DOCTYPE"}
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_INT = re.compile(r"[+-]?\d+")
_REAL = re.compile(r"\s*[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
                   re.IGNORECASE)
_SPACE = " \t\n\r\f\v"

START, END, EMPTY, INVALID = "start", "end", "empty", "invalid"


class _Tag:
    __slots__ = ("name", "kind", "attrs")

    def __init__(self, name: str, kind: str, attrs: dict):
        self.name, self.kind, self.attrs = name, kind, attrs


def _entity_text(text: str) -> str:
    """GrabText's entity handling: ``&name;`` replaced when known, kept otherwise; an
    ``&`` followed by a space or another ``&`` is kept as it is."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        j = i + 1
        while j < n and text[j] not in " &;":
            j += 1
        if j < n and text[j] == ";":
            ent = text[i:j + 1]
            out.append(_ENTITIES.get(ent, ent))
            i = j + 1
        else:
            stop = j + 1 if j < n and text[j] == " " else j
            out.append(text[i:stop])
            i = stop
    return "".join(out)


def _breakdown(body: str) -> _Tag:
    """BreakdownTag: the tag's kind, name and attributes (entities and C escapes decoded
    in attribute values; a ``\\0`` escape makes the tag invalid)."""
    i, n = 0, len(body)
    while i < n and body[i] in _SPACE:
        i += 1
    if i < n and body[i] == "/":
        kind = END
        i += 1
    elif n and body[-1] == "/":
        kind, n = EMPTY, n - 1
    else:
        kind = START
    start = i
    while i < n and body[i] not in _SPACE:
        i += 1
    name = body[start:i]
    attrs: dict = {}
    while i < n:
        while i < n and body[i] in _SPACE:
            i += 1
        start = i
        while i < n and body[i] not in _SPACE and body[i] != "=":
            i += 1
        aname = body[start:i]
        while i < n and (body[i] in _SPACE or body[i] == "="):
            i += 1
        i += 1  # the opening quote
        value = []
        prev = ""
        while i < n and (body[i] != '"' or prev == "\\"):
            prev = body[i]
            value.append(prev)
            i += 1
        text = "".join(value)
        if "&" in text:
            for ent, rep in _ENTITIES.items():
                text = text.replace(ent, rep)
        decoded = decode_escapes(text)
        if decoded is None:
            kind = INVALID
        elif aname and decoded:
            attrs[aname] = decoded
    return _Tag(name if name in _TAGS else "", kind, attrs)


def _tokens(text: str) -> list:
    """The lexer's tokens: _Tag for tags, str for texts."""
    out: list = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        if not in_string:
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                break
        if text[i] == "<":
            j = text.find(">", i + 1)
            if j < 0:
                break  # an unclosed tag ends the input
            tag = _breakdown(text[i + 1:j].lstrip(_SPACE))
            out.append(tag)
            in_string = tag.name == "s" and tag.kind == START
            i = j + 1
        else:
            j = text.find("<", i)
            j = n if j < 0 else j
            out.append(_entity_text(text[i:j]))
            in_string = False
            i = j
    return out


class _Parser:
    def __init__(self, toks: list):
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def swallow_end(self, name: str) -> None:
        """SwallowEndTag: skip to (and past) the end tag ``name``."""
        while self.i < len(self.toks):
            t = self.take()
            if isinstance(t, _Tag) and t.kind == END and t.name == name:
                return

    def classad(self) -> Optional[dict]:
        """ParseClassAd: the attributes ``{lower name: (name, node)}`` of the next ad, {}
        when the input ends without one, None when the ad is invalid."""
        attrs: dict = {}
        in_ad = False
        while self.i < len(self.toks):
            t = self.peek()
            if not in_ad:
                self.take()
                if isinstance(t, _Tag) and t.name == "c":
                    if t.kind == START:
                        in_ad = True
                    else:
                        break
                continue
            if isinstance(t, _Tag):
                if t.name == "a":
                    if t.kind == INVALID:
                        return None
                    if t.kind == START:
                        name, node = self.attribute()
                        if node is None:
                            return None
                        attrs[name.lower()] = (name, node)
                    else:
                        self.take()
                elif t.name == "c":
                    self.take()
                    if t.kind == END:
                        break
                elif t.name not in ("?xml", "?xml-stylesheet", "DOCTYPE", "classads"):
                    self.take()  # anything else inside an ad ends it
                    break
                else:
                    self.take()
            else:
                self.take()
        return attrs

    def attribute(self):
        t = self.take()
        name = t.attrs.get("n", "")
        node = self.thing() if name else None
        self.swallow_end("a")
        return name, node

    def thing(self):
        """ParseThing: one value, or None."""
        t = self.peek()
        if not isinstance(t, _Tag):
            return None
        name = t.name
        if name == "c":
            attrs = self.classad()
            return None if attrs is None else RecordExpr(attrs)
        if name == "l":
            self.take()
            items = []
            while self.i < len(self.toks):
                u = self.peek()
                if isinstance(u, _Tag) and u.kind == END and u.name == "l":
                    self.take()
                    break
                if isinstance(u, _Tag) and u.kind != END:
                    items.append(self.thing())
                else:
                    self.take()
            if any(x is None for x in items):
                return None
            return ListExpr(tuple(items))
        if name in ("i", "r", "s", "at", "rt", "e"):
            return self.text_value(name)
        if name == "b":
            self.take()
            if t.kind == START:
                self.swallow_end("b")
            return Literal(t.attrs.get("v") in ("t", "T"))
        if name in ("un", "er"):
            self.take()
            if t.kind == START:
                self.swallow_end(name)
            return Literal(UNDEFINED if name == "un" else ERROR)
        return None

    def text_value(self, name: str):
        self.take()
        t = self.peek()
        node = None
        if isinstance(t, str):
            self.take()
            node = _value_of(name, t)
        elif name == "s":
            node = Literal("")  # <s></s>: the empty string (the lexer skipped no text)
        self.swallow_end(name)
        return node


def _value_of(tag: str, text: str):
    if tag == "i":
        m = _INT.match(text)
        if not m:
            return Literal(ERROR)
        v = int(m.group(0))
        return Literal(v) if -(1 << 63) <= v < (1 << 63) else Literal(ERROR)
    if tag == "r":
        m = _REAL.match(text)
        return Literal(float(m.group(0))) if m else Literal(ERROR)
    if tag == "s":
        s = decode_escapes(text)
        return None if s is None else Literal(s)
    if tag == "at":  # a malformed time makes the ad invalid (Literal::MakeAbsTime fails)
        v = parse_abstime(text)
        return None if v is None else Literal(v)
    if tag == "rt":
        r = parse_reltime(text)
        return None if r is None else RelTimeLiteral(r)
    # <e>: a new-syntax expression
    from .parser import parse_expr
    try:
        return parse_expr(text)
    except ClassAdParseError:
        return None


def parse_xml_ads(text: str) -> Iterator[dict]:
    """The ads of an XML text as attribute tables ``{lower name: (name, node)}``, in order.
    Raises ClassAdParseError at an invalid ad (after yielding the ads before it)."""
    p = _Parser(_tokens(text))
    while p.i < len(p.toks):
        attrs = p.classad()
        if attrs is None:
            raise XMLParseError("Unable to parse input stream into a ClassAd.", text, 0)
        if not attrs:
            return
        yield attrs
