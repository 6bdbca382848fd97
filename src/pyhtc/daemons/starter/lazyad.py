"""The starter's view of the job and machine ad files: each value parsed when first read.

The startd hands the starter two old-syntax ad files (``.job.ad``, ``.machine.ad``; see
src/condor_starter.V6.1/jic_shadow.cpp).  The starter moves them into the sandbox as they
are (``_CONDOR_JOB_AD`` / ``_CONDOR_MACHINE_AD``) and itself reads a few dozen attributes,
nearly all plain literals (strings, integers, booleans).  Parsing ~70 expressions per ad
and building a ClassAd costs a forked starter milliseconds, mostly in first touches of the
parser's code and tables (copy-on-write faults), for attributes it never looks at.

:class:`LazyAd` keeps the text of each ``Name = value`` line and converts a value when it is
read: a plain literal -- a string without backslashes or inner quotes, a decimal integer
without leading zeros, a decimal real ``digits.digits``, ``true``/``false`` -- directly,
anything else through the real parse of the whole file (:meth:`LazyAd.full`, which is
``classad.parseOne(text, Old)``: the same ClassAd :func:`pyhtc.daemoncore.adfile.read_ad`
gives).  Line rules follow :mod:`pyhtc.classad.oldsyntax` (compat_classad.cpp
``SplitLongFormAttrValue``): blanks before the name are skipped, ``#`` lines and blank lines
are no attributes, blank lines separate ads that are merged (the last value wins, the first
spelling of the name stays), a line without ``=`` or without a name ends its ad.  One
difference remains by design: a value that does not parse ends its ad for the full parse,
which the line index cannot know without parsing; an attribute after such a line is read
from its text until something needs the full parse.  The startd writes both files from ads
it parsed itself, so their values always parse.

Methods other than ``get``, ``[]`` and ``in`` (``lookup``, ``eval``, ``printOld``,
iteration...) are those of the fully parsed ClassAd.
"""
from __future__ import annotations

import re

from pyhtc import classad as C
from pyhtc.daemoncore.adfile import read_text

__all__ = ["LazyAd"]

_MISSING = object()
_NOT_SIMPLE = object()
_INT = re.compile(r"(?:0|[1-9][0-9]{0,17})\Z")
_REAL = re.compile(r"[0-9]+\.[0-9]+\Z")


def _literal(rhs: str):
    """The Python value of a plain literal's text (see the module doc), else _NOT_SIMPLE."""
    if "\\" in rhs:
        return _NOT_SIMPLE
    v = rhs.rstrip(" \t\r\n")
    if not v:
        return _NOT_SIMPLE
    c = v[0]
    if c == '"':
        if len(v) >= 2 and v[-1] == '"' and '"' not in v[1:-1]:
            return v[1:-1]
        return _NOT_SIMPLE
    if "0" <= c <= "9":
        if _INT.match(v):
            return int(v)
        if _REAL.match(v):
            return float(v)
        return _NOT_SIMPLE
    low = v.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    return _NOT_SIMPLE


class LazyAd:
    """An old-syntax ad ``text`` (read from ``path``, named in errors) whose values are
    converted when read (see the module doc).  ``get(name, default)``, ``ad[name]``
    (KeyError when absent) and ``name in ad`` are case-insensitive as for a ClassAd."""

    def __init__(self, text: str, path: str = "<ad>"):
        self.text, self.path = text, path
        self._full: C.ClassAd | None = None
        self._raw: dict[str, tuple[str, str]] = {}     # lower name -> (name, value text)
        raw = self._raw
        ended = False                     # a malformed line ends its ad (up to a blank line)
        for line in text.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            s = line.lstrip()
            if not s:
                ended = False
                continue
            if ended or s[0] == "#":
                continue
            eq = s.find("=")
            name = s[:eq].rstrip(" ") if eq > 0 else ""
            if not name:
                ended = True
                continue
            low = name.lower()
            prev = raw.get(low)
            raw[low] = (prev[0] if prev else name, s[eq + 1:].lstrip(" "))

    @classmethod
    def read(cls, path: str) -> "LazyAd":
        """The ad in the file ``path`` (read as ``open(path).read()`` would: the locale's
        encoding, ``\r\n`` and ``\r`` as ``\n``).  Raises OSError, or ValueError
        (UnicodeDecodeError) when its bytes are not text in that encoding."""
        return cls(read_text(path), path)

    def full(self) -> C.ClassAd:
        """The whole ad parsed (once): what ``read_ad`` of the file gives.  Raises
        SyntaxError naming the file when the text does not parse."""
        if self._full is None:
            try:
                self._full = C.parseOne(self.text, C.ParserType.Old)
            except SyntaxError as exc:
                raise type(exc)(f"{self.path}: {exc}") from None
        return self._full

    def get(self, key, default=None):
        if self._full is None and isinstance(key, str):
            ent = self._raw.get(key.lower())
            if ent is None:
                return default
            value = _literal(ent[1])
            if value is not _NOT_SIMPLE:
                return value
        return self.full().get(key, default)

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        if self._full is None and isinstance(key, str):
            ent = self._raw.get(key.lower())
            if ent is None:
                return False
            if _literal(ent[1]) is not _NOT_SIMPLE:
                return True
        return key in self.full()

    def __iter__(self):
        return iter(self.full())

    def __len__(self) -> int:
        return len(self.full())

    def __getattr__(self, name):
        # everything else (lookup, eval, printOld, items...) from the parsed ClassAd
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.full(), name)


def full_ad(ad) -> C.ClassAd:
    """``ad`` as a real ClassAd (a :class:`LazyAd` parsed fully; anything else as is), for
    evaluation scopes and code that needs the ClassAd type."""
    return ad.full() if isinstance(ad, LazyAd) else ad
