"""Files of ClassAds read by the query tools instead of a daemon: ``condor_q -jobads FILE``
and ``condor_status -ads FILE`` (``-`` reads standard input).

Formats follow src/condor_utils/compat_classad_util.cpp ``parseAdsFileFormat`` (the
``-jobads:FORM`` / ``-ads:FORM`` suffix: ``long``, ``json``, ``jsonl``, ``xml``, ``new``,
``newl``, ``auto``) and compat_classad.cpp ``CondorClassAdFileParseHelper``:

* ``long`` -- ``Name = expr`` lines in old syntax; an ad ends at a blank line (condor_q's
  helper, queue.cpp ``CondorQClassAdFileParseHelper::PreParse``, also ends one at a line
  starting ``...`` or ``***`` and at a ``-- Schedd: NAME : <addr>`` banner, whose name and
  address it remembers); ``#`` lines are comments.
* ``json`` -- a JSON array of objects (what ``-json`` prints); ``jsonl`` -- one object per line.
* ``xml`` -- what ``-xml`` prints.  ``new``/``newl`` -- ``[ ... ]`` records, optionally in a
  ``{ ..., ... }`` list (``-long:new``).
* ``auto`` -- decided by the first line that is not blank or a comment: ``<?xml`` is XML,
  ``[`` followed by ``{`` is a JSON list, ``{`` followed by ``[`` a list of new-syntax ads,
  a line ``{...}`` JSON lines, a line or text starting ``[`` new syntax, anything else long.

A text that does not parse raises :class:`AdsFileError` naming the file and line (HTCondor
itself stops quietly at the first bad ad; pyhtc reports it).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Optional

from pyhtc import classad as C
from pyhtc.classad.errors import ClassAdParseError
from pyhtc.classad.oldsyntax import parse_old_lines
from pyhtc.classad.parser import parse_record

#: ``-jobads:FORM`` words (parseAdsFileFormat); anything else keeps the default
FORMATS = ("long", "json", "jsonl", "xml", "new", "newl", "auto")


class AdsFileError(ValueError):
    """A file of ads that cannot be parsed; ``str()`` is ``FILE:LINE: reason``."""


def parse_ads_format(words: Optional[str], default: str) -> str:
    """The file format named by the text after ``-jobads:``/``-ads:`` (the last known word of
    a comma list wins; unknown words are ignored, as parseAdsFileFormat does)."""
    fmt = default
    for w in (words or "").split(","):
        if w in FORMATS:
            fmt = w
    return fmt


@dataclass
class AdsFile:
    """Ads read from a file: ``ads`` (ClassAds in file order), and from a condor_q
    ``-- Schedd: NAME : <addr>`` banner ``schedd_name``/``schedd_addr`` (``is_submitter``
    for a ``-- Submitter:`` banner)."""
    ads: list = field(default_factory=list)
    schedd_name: str = ""
    schedd_addr: str = ""
    is_submitter: bool = False


def read_ads_file(path: str, fmt: str = "auto", queue_banners: bool = False) -> AdsFile:
    """Read the ads of file ``path`` (``-``: standard input) in format ``fmt`` (one of
    :data:`FORMATS`).  ``queue_banners``: condor_q's long-form delimiters (``...``, ``***``,
    ``-- Schedd:`` lines).  Raises OSError when the file cannot be read and AdsFileError
    (``path:line: reason``) when it does not parse."""
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
    return read_ads_text(text, fmt, path, queue_banners)


def _first_content(text: str) -> tuple[str, int]:
    """The first line that is not blank or a ``#`` comment, and its offset."""
    pos = 0
    for line in text.splitlines(True):
        s = line.strip()
        if s and not s.startswith("#"):
            return s, pos
        pos += len(line)
    return "", len(text)


def detect_format(text: str) -> str:
    """The format ``auto`` picks for ``text`` (compat_classad.cpp ``Parse_auto``)."""
    line, pos = _first_content(text)
    if line.startswith("<?xml") or line.startswith("<classads"):
        return "xml"
    after = text[pos:].lstrip()[1:].lstrip()[:1]
    if line.startswith("["):
        if after == "{":
            return "json"
        return "newl" if line.endswith("]") else "new"
    if line.startswith("{"):
        if after == "[":
            return "new"
        return "jsonl" if line.endswith("}") and len(line) > 2 else "json"
    return "long"


def read_ads_text(text: str, fmt: str = "auto", source: str = "<ads>",
                  queue_banners: bool = False) -> AdsFile:
    """:func:`read_ads_file` of a text already read; ``source`` names it in errors."""
    if fmt == "auto":
        fmt = detect_format(text)
    out = AdsFile()
    try:
        if fmt == "long":
            _read_long(text, out, queue_banners)
        elif fmt in ("json", "jsonl"):
            out.ads = list(C.parseAds(text, C.ParserType.JSON)) if text.strip() else []
        elif fmt == "xml":
            out.ads = list(C.parseAds(text, C.ParserType.XML)) if text.strip() else []
        else:
            out.ads = _read_new(text)
    except ClassAdParseError as exc:
        line = getattr(exc, "line", None) or 1
        raise AdsFileError(f"{source}:{line}: {getattr(exc, 'reason', exc)}") from None
    except C.ClassAdException as exc:
        raise AdsFileError(f"{source}: {exc}") from None
    return out


_BANNER = re.compile(r"-- (Schedd|Submitter):\s*([^:\s]*)[:\s]*(\S*)")


def _read_long(text: str, out: AdsFile, queue_banners: bool) -> None:
    block: list[str] = []
    start = 1

    def flush():
        if block:
            attrs: dict = {}
            parse_old_lines(block, attrs, strict=True, first_line=start)
            if attrs:
                ad = C.ClassAd()
                ad._attrs.update(attrs)
                out.ads.append(ad)

    lines = text.split("\n")
    for lineno, raw in enumerate(lines, 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        s = line.strip()
        delim = not s
        if queue_banners and not delim:
            if s.startswith("...") or s.startswith("***"):
                delim = True
            elif line.startswith("-- "):
                m = _BANNER.match(line)
                if m:
                    out.is_submitter = m.group(1) == "Submitter"
                    out.schedd_name, out.schedd_addr = m.group(2), m.group(3)
                delim = True
        if delim:
            flush()
            block = []
            start = lineno + 1
        else:
            if not block:
                start = lineno
            block.append(line)
    flush()


_SEP = re.compile(r"(?:\s+|,|/\*.*?\*/)*", re.S)


def _read_new(text: str) -> list:
    """New-syntax records, bare or in a ``{ [..], [..] }`` list."""
    ads = []
    pos = _SEP.match(text, 0).end()
    if text.startswith("{", pos):
        pos += 1
    n = len(text)
    while True:
        pos = _SEP.match(text, pos).end()
        if pos >= n or text[pos] == "}":
            return ads
        attrs, pos = parse_record(text, pos)
        ads.append(C.ClassAd._view(attrs, None))


# --------------------------------------------------------------------------- writing

def _json_line(items) -> str:
    """One ad as ClassAdJsonUnParser(oneline=true) writes it (src/classad/jsonSink.cpp):
    ``{"A": 1,"B": [1,2]}`` -- no blanks or newlines but the one after each colon."""
    from pyhtc.classad.printing import _Json

    class _OneLine(_Json):
        def list(self, out, nodes):
            out.append("[")
            for k, n in enumerate(nodes):
                if k:
                    out.append(",")
                self.node(out, n)
            out.append("]")

        def record(self, out, its):
            from pyhtc.classad.printing import _json_str
            out.append("{")
            for k, (name, n) in enumerate(its):
                if k:
                    out.append(",")
                out.append('"' + _json_str(name) + '": ')
                self.node(out, n)
            out.append("}")
    out: list = []
    _OneLine().record(out, items)
    return "".join(out)


def format_ads(form: str, ads, attrs=None) -> str:
    """``ads`` written as ``-long:FORM`` does (compat_classad.cpp
    ``CondorClassAdListWriter::appendAd``), attributes sorted case-insensitively and
    limited to ``attrs`` when given: ``long``, ``json`` (``[`` ... ``]``), ``jsonl`` (one
    JSON object per line), ``xml``, ``new`` (``{`` ... ``}``), ``newl`` (one ``[ ... ]`` per
    line).  Ads left empty by ``attrs`` are not written."""
    from pyhtc.classad.unparse import quote_name, unparse_node
    from pyhtc.classad.xmlsink import format_xml_ads
    from pyhtc.tools.common import _sorted_attrs, format_json, format_long
    ads = list(ads)
    if form == "long":
        return "".join(format_long(a, attrs) for a in ads if _sorted_attrs(a, attrs))
    if form == "json":
        return format_json([a for a in ads if _sorted_attrs(a, attrs)], attrs)
    if form == "xml":
        return format_xml_ads(_sorted_attrs(a, attrs) for a in ads)
    if form == "jsonl":
        return "".join(_json_line(items) + "\n" for items in (_sorted_attrs(a, attrs) for a in ads)
                       if items)
    records = ["[ " + "; ".join(quote_name(n) + " = " + unparse_node(node) for n, node in items) + " ]"
               for items in (_sorted_attrs(a, attrs) for a in ads) if items]
    if form == "newl":
        return "".join(r + "\n" for r in records)
    return "{\n" + "\n,\n".join(records) + "\n}\n" if records else ""
