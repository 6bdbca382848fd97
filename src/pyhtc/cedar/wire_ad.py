"""ClassAds on the wire (src/condor_utils/classad_oldnew.cpp putClassAd/getClassAd;
PROTOCOL.md section 3).

Layout: ``int n``, then n strings ``"Name = <old-syntax expression>"``, then two strings
MyType and TargetType (always "" from modern senders; read and ignored).  In the codec an ad
is a :class:`WireAd`: an ordered list of ``(name, expression_text)`` pairs, so it can be
forwarded byte-for-byte without evaluating anything.  :func:`to_classad` / :func:`from_classad`
convert to and from :mod:`pyhtc.classad` (imported lazily; cedar does not need it).
"""
from __future__ import annotations

import gc
import itertools
import re
from operator import itemgetter
import sys
from typing import Iterable, Iterator

import struct

from .codec import MAX_STRING_LENGTH, Decoder, Encoder
from .errors import ProtocolError

#: getClassAd() refuses more attributes than this (classad_oldnew.cpp)
MAX_ATTRIBUTES = 1_000_000
#: getPODClassAd() limit for security-negotiation ads
MAX_POD_ATTRIBUTES = 100
#: ClassAdPrivateAttrs V1 (classad_oldnew.cpp / compat_classad.cpp)
PRIVATE_V1 = frozenset(a.lower() for a in (
    "Capability", "ChildClaimIds", "ClaimId", "ClaimIdList", "ClaimIds", "TransferKey"))
PRIVATE_V2_PREFIX = "_condor_priv"
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_INT8 = struct.Struct(">q")


def is_private_v1(name: str) -> bool:
    """True for the V1 private attribute names (ClaimId, Capability, ...)."""
    return name.lower() in PRIVATE_V1


def is_private_v2(name: str) -> bool:
    """True for ``_condor_priv*`` names (case-insensitive)."""
    return name.lower().startswith(PRIVATE_V2_PREFIX)


def is_private(name: str) -> bool:
    """ClassAdAttributeIsPrivateAny(): V1 list or a ``_condor_priv`` prefix."""
    return is_private_v1(name) or is_private_v2(name)


def quote_string(value: str) -> str:
    """Old-ClassAd string literal: only ``"`` is escaped (as ``\\"``); backslashes and control
    characters are written raw (PROTOCOL.md 3)."""
    return '"' + value.replace('"', '\\"') + '"'


def format_real(value: float) -> str:
    """``%.16G`` with ``.0`` appended when the text looks integral (PROTOCOL.md 3)."""
    if value != value:
        return "real(\"NaN\")"
    if value in (float("inf"), float("-inf")):
        return 'real("INF")' if value > 0 else '-real("INF")'
    text = "%.16G" % value
    if not any(c in text for c in ".E"):
        text += ".0"
    return text


def literal(value) -> str:
    """Expression text for a Python literal (str, bool, int, float, None -> undefined)."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_real(value)
    if isinstance(value, str):
        return quote_string(value)
    raise TypeError(f"cannot write {type(value).__name__} as a ClassAd literal")


_INT_RE = re.compile(r"^[+-]?\d+$")
_REAL_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


class NotALiteral(ValueError):
    """The expression text is not a plain literal."""


def parse_literal(text: str):
    """Parse a literal expression (string, integer, real, boolean, undefined) as written by
    :func:`literal` or by HTCondor in old syntax.  Raises :class:`NotALiteral` otherwise.

    Old-syntax string rule (PROTOCOL.md 3): ``\\"`` is a quote, other backslashes are literal.
    """
    t = text.strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        body = t[1:-1]
        if "\\" not in body and '"' not in body:
            return body  # the common case: nothing escaped
        out = []
        i = 0
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body) and body[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            if c == '"':
                raise NotALiteral(f"unescaped quote inside string literal {text!r}")
            out.append(c)
            i += 1
        return "".join(out)
    low = t.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "undefined":
        return None
    if _INT_RE.match(t):
        return int(t)
    if _REAL_RE.match(t):
        return float(t)
    raise NotALiteral(f"not a literal: {text!r}")


class WireAd:
    """An ordered list of ``(name, expression_text)`` pairs; names compare case-insensitively
    as in ClassAds.  Iterating yields the pairs in wire order."""

    __slots__ = ("_items", "_pos")

    def __init__(self, items: Iterable[tuple[str, str]] = ()):
        self._items: list[tuple[str, str]] = []
        self._pos: dict[str, int] = {}  # lower-case name -> index in _items
        for name, expr in items:
            self.set_expr(name, expr)

    @classmethod
    def from_values(cls, values: dict | Iterable[tuple[str, object]]) -> "WireAd":
        """Build from Python literal values (see :func:`literal`)."""
        pairs = values.items() if isinstance(values, dict) else values
        return cls((k, literal(v)) for k, v in pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"WireAd({self._items!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, WireAd) and self._items == other._items

    def _index(self, name: str) -> int:
        return self._pos.get(name.lower(), -1)

    def __contains__(self, name: str) -> bool:
        return self._index(name) >= 0

    def names(self) -> list[str]:
        """Attribute names in wire order."""
        return [n for n, _ in self._items]

    def expr(self, name: str) -> str | None:
        """Expression text of ``name`` or None."""
        i = self._index(name)
        return None if i < 0 else self._items[i][1]

    def set_expr(self, name: str, expr: str) -> None:
        """Set (replacing in place, or appending) an attribute's expression text."""
        low = name.lower()
        i = self._pos.get(low)
        if i is not None:
            self._items[i] = (name, expr)
        else:
            self._pos[low] = len(self._items)
            self._items.append((name, expr))

    def set(self, name: str, value) -> None:
        """Set an attribute to a Python literal value."""
        self.set_expr(name, literal(value))

    def delete(self, name: str) -> None:
        """Remove ``name`` if present."""
        i = self._index(name)
        if i >= 0:
            del self._items[i]
            self._pos = {n.lower(): k for k, (n, _) in enumerate(self._items)}

    def get(self, name: str, default=None):
        """The literal value of ``name``; ``default`` when absent.  Raises NotALiteral when the
        attribute is an expression."""
        text = self.expr(name)
        return default if text is None else parse_literal(text)

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """String value; non-string literals are converted with str() (absent -> default)."""
        try:
            v = self.get(name, default)
        except NotALiteral:
            return default
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if v is None or isinstance(v, str) else str(v)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Integer value (bools and numeric strings converted), else ``default``."""
        try:
            v = self.get(name, default)
        except NotALiteral:
            return default
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, (int, float)):
            return int(v)
        if isinstance(v, str):
            try:
                return int(v.strip())
            except ValueError:
                return default
        return default

    def get_bool(self, name: str, default: bool | None = None) -> bool | None:
        """Boolean value (numbers: non-zero), else ``default``."""
        try:
            v = self.get(name, default)
        except NotALiteral:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return v != 0
        return default

    def is_literal_only(self) -> bool:
        """True when every expression is a literal (getPODClassAd rule)."""
        for _, e in self._items:
            try:
                parse_literal(e)
            except NotALiteral:
                return False
        return True

    def copy(self) -> "WireAd":
        """An independent copy."""
        return WireAd(self._items)

    def update(self, other: "WireAd") -> None:
        """Set every attribute of ``other`` (replacing same-named ones)."""
        for n, e in other:
            self.set_expr(n, e)


_WS = rb"[ \t\n\r\f\v]"
#: one attribute line as the fast readers accept it: ASCII blanks only, a valid name, and an
#: expression beginning and ending with a printable ASCII character (so no Unicode blank can
#: be stripped off either end: anything else goes through get_ad()'s per-line loop)
_TEXT_LINE = (_WS + rb"*[A-Za-z_][A-Za-z0-9_.]*" + _WS + rb"*=" + _WS + rb"*[!-~](?:[^\x00]*[!-~])?"
              + _WS + rb"*\x00")
#: the same for lines exactly as HTCondor writes them ("Name = expr"): checked first, it is
#: three times faster (possessive, no backtracking); the last byte before the NUL must be
#: printable ASCII or an ASCII blank (so no Unicode blank ends the expression)
_TEXT_LINE_STRICT = rb"[A-Za-z_][A-Za-z0-9_.]*+ = [!-~][^\x00]*+(?<=[\t\n\r -~])\x00"
_TEXT_LINES: dict[int, tuple] = {}
_TEXT_FIND: dict[frozenset, re.Pattern] = {}
_TEXT_PAIR_RE = re.compile(rb"\x00" + _WS + rb"*([A-Za-z_][A-Za-z0-9_.]*)" + _WS
                           + rb"*=([^\x00]*)")


def _text_lines(count: int) -> tuple:
    pats = _TEXT_LINES.get(count)
    if pats is None:
        if len(_TEXT_LINES) > 512:
            _TEXT_LINES.clear()
        pats = _TEXT_LINES[count] = (re.compile(rb"(?:%s){%d}" % (_TEXT_LINE_STRICT, count)),
                                     re.compile(rb"(?:%s){%d}" % (_TEXT_LINE, count)))
    return pats


_REPEAT_NUL = itertools.repeat(b"\0")


def _text_finder(lows: frozenset) -> re.Pattern:
    """Pattern finding the lines of the (lower-case) names ``lows`` in the lower-cased text
    of a WireText with a NUL in front (group 1: name, group 2: expression)."""
    pat = _TEXT_FIND.get(lows)
    if pat is None:
        if len(_TEXT_FIND) > 1024:
            _TEXT_FIND.clear()
        alts = b"|".join(re.escape(n.encode("ascii", "replace"))
                         for n in sorted(lows, key=len, reverse=True))
        pat = _TEXT_FIND[lows] = re.compile(rb"\x00" + _WS + rb"*(" + alts + rb")" + _WS
                                            + rb"*=([^\x00]*)")
    return pat


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


_NUL_INT8 = struct.Struct(">xq")  # a NUL, then an 8-byte integer


def crypto_lines(block: bytes, count: int) -> bytes:
    """The crypto-mode encoding of ``count`` NUL-terminated strings held in ``block``: each
    as ``int length (NUL included)``, the bytes, the NUL (stream.cpp, PROTOCOL.md 2.3).
    Built with C-level passes: the NUL ending one string is followed by the next length,
    so the pieces are joined with "NUL + length" heads."""
    if not count:
        return b""
    pieces = block.split(b"\0")
    pieces.pop()  # the block ends with a NUL
    heads = list(map(_NUL_INT8.pack, map((1).__add__, map(len, pieces))))
    heads[0] = heads[0][1:]
    parts: list = [None] * (2 * count)
    parts[0::2] = heads
    parts[1::2] = pieces
    parts.append(b"\0")
    return b"".join(parts)


class WireText:
    """A wire ad kept as it came off the wire: ``count`` attribute lines ``"Name = expr"``,
    each NUL-terminated, in one ``bytes`` block (the clear-text string encoding of
    putClassAd(), classad_oldnew.cpp).

    A collector stores thousands of ads it only forwards: keeping the text saves splitting
    every ad into attributes on arrival and re-encoding it for each query.  Single
    attributes are found with one regular-expression pass (:meth:`exprs`); :meth:`pairs`
    gives the whole list.  Within an ad a later line for the same name wins, as in
    :class:`WireAd` (and as a receiving ClassAd does).  Instances are immutable: the
    ``with_*`` methods return new ones.  :meth:`encode` is computed once per mode and kept;
    an ad read from an encrypted stream keeps the crypto-mode bytes it arrived as (and
    :meth:`with_pairs` extends them), so a collector never re-encodes it.
    """

    __slots__ = ("block", "count", "_clear", "_crypto")

    def __init__(self, block: bytes = b"", count: int = 0):
        self.block = block
        self.count = count
        # encode() results (with the MyType/TargetType strings), made once: a collector
        # sends the same stored ad to every query (the crypto form may come off the wire)
        self._clear: bytes | None = None
        self._crypto: bytes | None = None

    @classmethod
    def from_pairs(cls, pairs) -> "WireText":
        """From ``(name, expression_text)`` pairs (a :class:`WireAd` or a list).  Raises
        ValueError when a name or expression contains a NUL character."""
        items = pairs._items if isinstance(pairs, WireAd) else list(pairs)
        return cls(encode_lines(items, False, False)[8:], len(items))

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"WireText({self.count} attributes)"

    def __eq__(self, other) -> bool:
        return isinstance(other, WireText) and self.block == other.block

    def pairs(self) -> list[tuple[str, str]]:
        """Every ``(name, expression_text)`` pair in wire order (duplicates included)."""
        return [(_dec(n), _dec(e).strip()) for n, e in _TEXT_PAIR_RE.findall(b"\0" + self.block)]

    def to_wire_ad(self) -> WireAd:
        """The ad as a :class:`WireAd` (later duplicates replace earlier ones)."""
        return WireAd(self.pairs())

    def _lines(self, names: Iterable[str]):
        """(text with a NUL in front, matches of the lines of ``names``); names compare
        case-insensitively (the search runs over an ASCII-lower-cased copy)."""
        lows = names if isinstance(names, frozenset) else frozenset(n.lower() for n in names)
        text = b"\0" + self.block
        if not lows:
            return text, ()
        return text, _text_finder(lows).finditer(text.lower())

    def exprs(self, names: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``{lower-case name: (name, expression_text)}`` for those of ``names`` the ad has
        (one regular-expression pass over the text; the last line of a name wins)."""
        text, found = self._lines(names)
        out = {}
        for m in found:
            a, b = m.span(1)
            name = _dec(text[a:b])
            a, b = m.span(2)
            out[name.lower()] = (name, _dec(text[a:b]).strip())
        return out

    def scan(self, names: frozenset, drop: frozenset) -> tuple[dict, "WireText"]:
        """:meth:`exprs` of the lower-case ``names`` and :meth:`without` the lower-case
        ``drop`` (a subset of ``names``) in one pass; returns (exprs of the names not
        dropped, the text without the dropped lines -- ``self`` when there were none)."""
        text, found = self._lines(names)
        out = {}
        keep, at, n = [], 0, 0
        for m in found:
            a, b = m.span(1)
            name = _dec(text[a:b])
            low = name.lower()
            if low in drop:
                keep.append(text[at:m.start()])
                at = m.end()
                n += 1
                continue
            a, b = m.span(2)
            out[low] = (name, _dec(text[a:b]).strip())
        if not n:
            return out, self
        keep.append(text[at:])
        return out, WireText(b"".join(keep)[1:], self.count - n)

    def expr(self, name: str) -> str | None:
        """Expression text of ``name`` or None."""
        hit = self.exprs(frozenset((name.lower(),)))
        return hit[name.lower()][1] if hit else None

    def with_pairs(self, pairs) -> "WireText":
        """A copy with ``pairs`` appended (a later line replaces an earlier one of the same
        name for the reader).  Raises ValueError for a NUL character."""
        more = WireText.from_pairs(pairs)
        out = WireText(self.block + more.block, self.count + more.count)
        if self._crypto is not None:
            # the crypto-mode form grows the same way: new count, old strings, new strings
            out._crypto = b"".join((_INT8.pack(out.count), self._crypto[8:-_TYPES_CRYPTO_LEN],
                                    more.encode(True, False)[8:], _TYPES_CRYPTO))
        return out

    def without(self, names: Iterable[str]) -> "WireText":
        """A copy without the attributes ``names`` (case-insensitive, every line of each)."""
        text, found = self._lines(names)
        keep, at, n = [], 0, 0
        for m in found:  # each match runs from the NUL before a line to the line's end
            keep.append(text[at:m.start()])
            at = m.end()
            n += 1
        if not n:
            return self
        keep.append(text[at:])
        return WireText(b"".join(keep)[1:], self.count - n)

    def without_lines(self, lines: Iterable[bytes]) -> "WireText":
        """A copy without every occurrence of the exact ``lines`` (bytes of a whole line,
        no NUL) -- :meth:`without` when the lines are already known."""
        text = b"\0" + self.block
        n = self.count
        for line in lines:
            hole = b"\0" + line + b"\0"
            while True:  # adjacent copies share a NUL: repeat until none is left
                found = text.count(hole)
                if not found:
                    break
                text = text.replace(hole, b"\0")
                n -= found
        return WireText(text[1:], n) if n != self.count else self

    def project(self, names: Iterable[str]) -> "WireText":
        """A copy holding only ``names`` (present ones, last line of each), in wire order."""
        text, found = self._lines(names)
        keep = {}
        for m in found:
            a, b = m.span(2)
            keep[m.group(1)] = (m.span(1), text[a:b].strip())
        return WireText(b"".join(text[a:b] + b" = " + e + b"\0" for (a, b), e in keep.values()),
                        len(keep))

    def encode(self, crypto_mode: bool = False, types: bool = True) -> bytes:
        """The putClassAd() bytes: ``int count``, the lines, then (``types``) the two empty
        MyType/TargetType strings; ``crypto_mode`` length-prefixes every string."""
        if types:
            out = self._crypto if crypto_mode else self._clear
            if out is None:
                out = self._encode(crypto_mode, True)
                if crypto_mode:
                    self._crypto = out
                else:
                    self._clear = out
            return out
        return self._encode(crypto_mode, False)

    def _encode(self, crypto_mode: bool, types: bool) -> bytes:
        n = self.count
        if not crypto_mode:
            return _INT8.pack(n) + self.block + (b"\0\0" if types else b"")
        return _INT8.pack(n) + crypto_lines(self.block, n) + (_TYPES_CRYPTO if types else b"")


def _get_text(dec: Decoder, count: int, types: bool) -> WireText | None:
    """get_ad(as_text=True): the lines as one validated block, or None when the fast rules
    do not accept them (the caller falls back to the per-line reader)."""
    data, pos = dec.data, dec.pos
    crypto = None
    if count == 0:
        block = b""
    elif dec.crypto_mode:
        # strings are "int length, bytes ending in their only NUL": one regular-expression
        # pass finds where the count-th one ends, a second splits length prefixes from
        # bytes, and the lengths are checked all at once (C-level passes, no loop per line)
        block, end = _crypto_block(data, pos, count)
        if block is None:
            return None
        strict, general = _text_lines(count)
        if strict.fullmatch(block) is None and general.fullmatch(block) is None:
            return None
        crypto = data[pos:end]
        pos = end
    else:
        strict, general = _text_lines(count)
        m = strict.match(data, pos) or general.match(data, pos)
        if m is None:
            return None
        block = data[pos:m.end()]
        pos = m.end()
    dec.pos = pos
    if types:
        dec.get_string()  # MyType (ignored, PROTOCOL.md 3)
        dec.get_string()  # TargetType
    text = WireText(block, count)
    if crypto is not None:  # what encode(True) would build: the bytes just read
        text._crypto = b"".join((_INT8.pack(count), crypto, _TYPES_CRYPTO))
    return text


_CRYPTO_READERS: dict[int, tuple] = {}


def _crypto_readers(count: int) -> tuple:
    """(end of ``count`` crypto-mode strings, one string split as (length, bytes), the
    struct of ``count`` lengths) for :func:`_get_text`."""
    r = _CRYPTO_READERS.get(count)
    if r is None:
        if len(_CRYPTO_READERS) > 512:
            _CRYPTO_READERS.clear()
        r = _CRYPTO_READERS[count] = (re.compile(rb"(?s)(?:.{8}[^\x00]*+\x00){%d}" % count),
                                      _CRYPTO_PAIR, struct.Struct(">%dq" % count))
    return r


_CRYPTO_PAIR = re.compile(rb"(?s)(.{8})([^\x00]*+\x00)")
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)


def _crypto_block(data: bytes, pos: int, count: int) -> tuple:
    """``count`` crypto-mode strings at ``pos`` ("int length (NUL included), bytes, NUL",
    each holding no other NUL, lengths up to MAX_STRING_LENGTH) as (their bytes joined, each
    with its NUL; the position after them), or (None, pos) when they are not all so.  One
    regular-expression pass finds where the count-th string ends, a second splits length
    prefixes from bytes, and the lengths are compared all at once (no loop per string)."""
    end_pat, pair_pat, lengths = _crypto_readers(count)
    m = end_pat.match(data, pos)
    if m is None:
        return None, pos
    end = m.end()
    heads, pieces = zip(*pair_pat.findall(data, pos, end))
    sizes = tuple(map(len, pieces))
    if (len(pieces) != count or lengths.unpack(b"".join(heads)) != sizes
            or max(sizes) > MAX_STRING_LENGTH):
        return None, pos
    return b"".join(pieces), end


def put_ad(enc: Encoder, ad: WireAd, *, include_private: bool = True, private_v2: bool = True,
           server_time: int | None = None, whitelist: Iterable[str] | None = None,
           types: bool = True) -> Encoder:
    """putClassAd() (classad_oldnew.cpp).

    Args:
        include_private: False = PUT_CLASSAD_NO_PRIVATE (drop V1 and V2 private attributes).
        private_v2: False drops ``_condor_priv*`` attributes (peer unknown or older than 9.9.0).
        server_time: PUT_CLASSAD_SERVER_TIME: append ``ServerTime = <n>`` as a counted attribute.
        whitelist: projection; when given only those names are sent, in sorted order.
        types: send the trailing MyType/TargetType strings (both "").

    Private attributes go as ordinary strings: with AES the whole channel is encrypted, and the
    legacy "ZKM" per-attribute encryption applies only to non-AES keys (not supported).
    Raises ValueError when a name or expression contains a NUL character.
    """
    if isinstance(ad, WireText):
        if whitelist is None and include_private and server_time is None:
            enc.put_bytes(ad.encode(enc.crypto_mode, types))
            return enc
        ad = ad.pairs()
    items = ad._items if isinstance(ad, WireAd) else list(ad)
    if whitelist is not None:
        wanted = {w.lower() for w in whitelist}
        items = sorted((p for p in items if p[0].lower() in wanted), key=lambda p: p[0].lower())
    if not include_private:
        items = [p for p in items if not is_private(p[0])]
    elif not private_v2:
        items = [p for p in items if not is_private_v2(p[0])]
    if server_time is not None:
        items = [p for p in items if p[0].lower() != "servertime"]
        items.append(("ServerTime", str(int(server_time))))
    enc.put_bytes(encode_lines(items, enc.crypto_mode, types))
    return enc


def encode_lines(items, crypto_mode: bool = False, types: bool = True) -> bytes:
    """The wire bytes of an ad made of ``items`` (``(name, expression_text)`` pairs):
    ``int n``, the n strings ``"Name = expr"``, then (``types``) the two empty MyType and
    TargetType strings.  ``crypto_mode`` length-prefixes each string (an encrypted stream).

    The lines are joined and encoded in one go (the per-string loop of :class:`Encoder` costs
    a microsecond per attribute, too much for a collector answering 10,000-ad queries).
    Raises ValueError when a name or expression contains a NUL character.
    """
    n = len(items)
    body = "\0".join([f"{name} = {expr}" for name, expr in items])
    if body.count("\0") != (n - 1 if n else 0):
        raise ValueError("CEDAR strings cannot contain NUL bytes")
    raw = body.encode("utf-8", "surrogateescape")
    tail = b"\0\0" if types else b""
    if not crypto_mode:
        return _INT8.pack(n) + raw + (b"\0" if n else b"") + tail
    pieces = _PIECE_RE.findall(raw + b"\0") if n else []
    parts: list = [None] * (2 * n)
    parts[0::2] = map(_INT8.pack, map(len, pieces))
    parts[1::2] = pieces
    if types:
        parts.append(_CRYPTO_EMPTY * 2)
    return _INT8.pack(n) + b"".join(parts)


def get_ad(dec: Decoder, *, max_attributes: int = MAX_ATTRIBUTES, literal_only: bool = False,
           types: bool = True, as_text: bool = False):
    """getClassAd() (classad_oldnew.cpp): read a wire ad; a :class:`WireAd`, or with
    ``as_text`` a :class:`WireText` (the lines kept as one block, for ads only stored and
    forwarded).

    Raises ProtocolError (with the offset) for a negative or excessive count, a line without
    ``=``, an invalid attribute name, or (``literal_only``, getPODClassAd) a non-literal value.
    """
    start, pos0 = dec.offset, dec.pos
    count = dec.get_int()
    # each attribute takes at least 1 byte on the wire: a count above what is left is a lie
    if count < 0 or count > max_attributes or count > dec.remaining:
        raise ProtocolError(f"{dec.what}: invalid ClassAd attribute count {count}", start)
    if as_text:
        text = _get_text(dec, count, types)
        if text is not None:
            return text
        dec.pos = pos0
        return WireText.from_pairs(get_ad(dec, max_attributes=max_attributes, types=types))
    ad = WireAd()
    if not literal_only and count:
        fast = _fast_lines(dec, count)
        if fast is not None:
            ad._items, ad._pos, dec.pos = fast
            if types:
                dec.get_string()  # MyType (ignored, PROTOCOL.md 3)
                dec.get_string()  # TargetType
            return ad
    items, index = ad._items, ad._pos
    data, pos, end_all = dec.data, dec.pos, len(dec.data)
    crypto = dec.crypto_mode
    unpack = _INT8.unpack_from
    for _ in range(count):
        at = pos
        # inlined Decoder.get_string() for speed (same rules, same errors)
        if crypto:
            if pos + 8 > end_all:
                raise ProtocolError(f"{dec.what}: truncated string length", dec.base_offset + at)
            (length,) = unpack(data, pos)
            if length < 0 or length > MAX_STRING_LENGTH or pos + 8 + length > end_all:
                raise ProtocolError(f"{dec.what}: invalid string length {length}",
                                    dec.base_offset + at)
            raw = data[pos + 8:pos + 8 + length]
            pos += 8 + length
            nul = raw.find(0)
            if nul >= 0:
                raw = raw[:nul]
        else:
            nul = data.find(0, pos)
            if nul < 0:
                raise ProtocolError(f"{dec.what}: unterminated string", dec.base_offset + at)
            raw = data[pos:nul]
            pos = nul + 1
        line = raw.decode("utf-8", "surrogateescape")
        name, eq, expr = line.partition("=")
        name = name.strip()
        expr = expr.strip()
        if not eq or not expr or not _NAME_RE.match(name):
            raise ProtocolError(f"{dec.what}: malformed ClassAd line {line[:80]!r}",
                                dec.base_offset + at)
        if literal_only:
            try:
                parse_literal(expr)
            except NotALiteral:
                raise ProtocolError(f"{dec.what}: security ad attribute {name} is not a "
                                    f"literal", dec.base_offset + at) from None
        low = name.lower()
        k = index.get(low)
        if k is None:
            index[low] = len(items)
            items.append((name, expr))
        else:
            items[k] = (name, expr)
    dec.pos = pos
    if types:
        dec.get_string()  # MyType (ignored, PROTOCOL.md 3)
        dec.get_string()  # TargetType
    return ad


#: one "Name = expr" line (NUL-terminated) starting at the beginning of a line: the rules of
#: the per-line loop in get_ad() (name and expression stripped as str.strip() does)
_LINE_RE = re.compile(r"(?:\A|(?<=\x00))\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=([^\x00]*)\x00")
_PIECE_RE = re.compile(rb"[^\x00]*\x00")
_CRYPTO_EMPTY = _INT8.pack(1) + b"\0"
#: the two empty MyType/TargetType strings in crypto mode
_TYPES_CRYPTO = _CRYPTO_EMPTY * 2
_TYPES_CRYPTO_LEN = len(_TYPES_CRYPTO)
_LINES_END: dict[int, re.Pattern] = {}
_intern = sys.intern


def _lines_end(count: int) -> re.Pattern:
    pat = _LINES_END.get(count)
    if pat is None:
        if len(_LINES_END) > 512:
            _LINES_END.clear()
        pat = _LINES_END[count] = re.compile(rb"(?:[^\x00]*\x00){%d}" % count)
    return pat


def _fast_lines(dec: Decoder, count: int):
    """get_ad()'s attribute lines read with a few C-level passes instead of a Python loop
    per attribute.  Returns ``(items, index, new_pos)``, or None when anything is unusual
    (malformed, duplicate names, embedded NULs in crypto mode): the per-line loop then
    reads the ad again and raises the precise error.  Names are interned (10,000 stored
    slot ads share one copy of each name)."""
    data, pos = dec.data, dec.pos
    if dec.crypto_mode:
        blob, pos = _crypto_block(data, pos, count)
        if blob is None:
            return None
    else:
        m = _lines_end(count).match(data, pos)
        if m is None:
            return None
        blob = data[pos:m.end()]
        pos = m.end()
    pairs = _LINE_RE.findall(blob.decode("utf-8", "surrogateescape"))
    if len(pairs) != count:
        return None
    # C-level passes (map/zip), not a Python loop per attribute
    names = list(map(_intern, map(_FIRST, pairs)))
    exprs = list(map(str.strip, map(_SECOND, pairs)))
    if not all(exprs):
        return None
    items = list(zip(names, exprs))
    index = dict(zip(map(_intern, map(str.lower, names)), range(count)))
    if len(index) != count:
        return None
    return items, index, pos


def to_classad(ad: WireAd):
    """Convert to a :class:`pyhtc.classad.ClassAd`, parsing each expression as old syntax
    (``\\"`` is a quote, other backslashes literal -- PROTOCOL.md 3).  Raises the ClassAd
    library's parse error for an invalid expression."""
    from pyhtc import classad as C  # lazy: cedar must not require the ClassAd library
    from pyhtc.classad.oldsyntax import convert_escaping
    out = C.ClassAd()
    cache = _PARSED
    if isinstance(ad, WireAd):
        # names are unique in a WireAd: nodes found in the cache go straight in the ad's
        # attribute table (what ClassAd._set_node does, without a call per attribute)
        # (_pos lists the lower-case names in the order of _items)
        items = ad._items
        nodes = list(map(cache.get, map(_SECOND, items)))
        if None in nodes:  # expressions not seen before
            nodes = [node if node is not None else _parse_cached(C, convert_escaping, expr)
                     for node, (_, expr) in zip(nodes, items)]
        out._attrs = dict(zip(ad._pos, zip(map(_FIRST, items), nodes)))
        return out
    set_node = out._set_node
    for name, expr in ad:
        node = cache.get(expr)
        if node is None:
            node = _parse_cached(C, convert_escaping, expr)
        set_node(name, node)
    return out


def _parse_cached(C, convert_escaping, expr: str):
    """The parsed node of old-syntax ``expr``, remembered in :data:`_PARSED`: the ads of a
    pool share most expression texts, so each is parsed once.  Parsed expressions are
    immutable and shared (as ExprTree(other) shares them); nested ads and lists are not
    remembered, since a caller may modify what it reads of them.  Raises the ClassAd
    library's parse error."""
    node = C.ExprTree(convert_escaping(expr))._node
    if "[" not in expr and "{" not in expr:
        cache = _PARSED
        if len(cache) >= _PARSED_MAX:
            cache.clear()
        cache[expr] = node
    return node


#: old-syntax expression text -> parsed expression node (see :func:`to_classad`)
_PARSED: dict = {}
_PARSED_MAX = 100_000


def from_classad(classad) -> WireAd:
    """Convert a :class:`pyhtc.classad.ClassAd` (or a classad2 ad) to a WireAd, unparsing
    each expression in old syntax.  String values may contain raw newlines (e.g. schedd
    projections), so expressions are unparsed one by one, not by splitting printOld()."""
    out = WireAd()
    items = getattr(classad, "_items", None)
    if items is not None:
        from pyhtc.classad.unparse import unparse_node
        for name, node in items():
            out.set_expr(name, unparse_node(node, True))
        return out
    for name in classad.keys():  # classad2: one-attribute old-syntax printing
        one = type(classad)()
        one[name] = classad.lookup(name)
        text = one.printOld()
        _, _, expr = text.partition("=")
        out.set_expr(name, expr.strip())
    return out


# -- many small ads at once ----------------------------------------------------------------
class AdColumns:
    """``n`` wire ads that have the same attribute names in the same order, kept by column:
    ``names`` (as sent) and ``columns[i]``, the n expression texts of ``names[i]``.  What
    :func:`get_ads_bulk` makes of the one-ad messages of a projected job query (each ad of
    ``condor_q -af ClusterId ProcId JobStatus`` is ``ClusterId``, ``JobStatus``, ``ProcId``,
    ``ServerTime``), so a caller can work a column at a time."""

    __slots__ = ("names", "columns", "n")

    def __init__(self, names: tuple, columns: list, n: int):
        self.names, self.columns, self.n = names, columns, n

    def __len__(self) -> int:
        return self.n

    def ads(self) -> list:
        """The ads as lists of ``(name, expression text)`` pairs."""
        names = self.names
        if not names:
            return [[] for _ in range(self.n)]
        return [list(zip(names, row)) for row in zip(*self.columns)]


_BULK_PATTERNS: dict[tuple, re.Pattern] = {}
_ADD = __import__("operator").add


def _bulk_pattern(count: int, crypto_mode: bool) -> re.Pattern:
    """One ad of ``count`` attributes as putClassAd writes it: the count, each line
    ``Name = text`` (text without whitespace at either end, as the unparser writes it) and
    the two type strings; each string behind its 8-byte length in crypto mode.  Groups:
    the count, then (length, name, text) per line, then (length, body) per type string."""
    key = (count, crypto_mode)
    pat = _BULK_PATTERNS.get(key)
    if pat is None:
        head = rb"(.{8})" if crypto_mode else rb"()"
        line = head + rb"([A-Za-z_][A-Za-z0-9_.]*) = ([\x21-\x7e](?:[^\x00]*[\x21-\x7e])?)\x00"
        types = (head + rb"([^\x00]*)\x00") * 2
        if len(_BULK_PATTERNS) > 64:
            _BULK_PATTERNS.clear()
        pat = _BULK_PATTERNS[key] = re.compile(rb"(?s)(.{8})" + line * count + types)
    return pat


def get_ads_bulk(payloads: list, crypto_mode: bool, what: str = "message", first: int = 0) -> list:
    """getClassAd() of ``payloads``, a list of message payloads holding one ad each (a job
    query reply, PROTOCOL.md 6.4), done a run of messages at a time: each run of ads with
    the same attribute count is matched by one regular expression over the joined
    payloads and checked all at once (counts, each string length, each payload's size), so
    the work per ad is in C.  Returns a list of blocks in payload order: :class:`AdColumns`
    for runs whose ads all have the same names, lists of :class:`WireAd` otherwise.
    Errors name the message as ``what #n``, n counted from ``first``.

    Anything unusual in a run (other spacing, texts ending in non-ASCII characters, names
    differing between ads, duplicate names, several ads in a message) sends that run
    through :func:`get_ad` one ad at a time, which also raises the precise
    :class:`ProtocolError` (message number, offset) for a malformed ad."""
    blocks: list = []
    heads = list(map(_HEAD, payloads))
    start = 0
    # thousands of small tuples at once: the cyclic collector would walk them again and
    # again while they are made (none of them can be part of a cycle)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for head, same in itertools.groupby(heads):
            stop = start + sum(1 for _ in same)
            run = payloads[start:stop]
            cols = _columns(run, head, crypto_mode)
            if cols is None:
                ads = []
                for k, payload in enumerate(run):
                    dec = Decoder(payload, crypto_mode, 0, f"{what} #{first + start + k}")
                    ads.append(get_ad(dec))
                    while dec.remaining:  # several ads in one message (history replies)
                        ads.append(get_ad(dec))
                cols = ads
            if blocks and isinstance(cols, list) and isinstance(blocks[-1], list):
                blocks[-1].extend(cols)
            else:
                blocks.append(cols)
            start = stop
    finally:
        if collecting:
            gc.enable()
    return blocks


_HEAD = itemgetter(slice(0, 8))


def _columns(run: list, head: bytes, crypto_mode: bool):
    """:func:`get_ads_bulk` for one run whose payloads start with the same count ``head``:
    an :class:`AdColumns`, or None when the run must be read ad by ad."""
    if len(head) != 8:
        return None
    count = _INT8.unpack(head)[0]
    if count < 0 or count > 256:
        return None
    n = len(run)
    rows = _bulk_pattern(count, crypto_mode).findall(b"".join(run))
    if len(rows) != n:
        return None
    groups = list(zip(*rows))  # group g of every ad: groups[g][ad]
    if groups[0].count(head) != n:
        return None
    hlen = 8 if crypto_mode else 0
    sizes = [8] * n  # each ad's size on the wire, to compare with its payload
    names, columns = [], []
    for i in range(count):
        heads, nm, tx = groups[1 + 3 * i:4 + 3 * i]
        if nm.count(nm[0]) != n:
            return None  # the names differ between ads
        lens = list(map(_ADD, map(len, tx), [len(nm[0]) + 4] * n))  # "Name = " text NUL
        if crypto_mode and list(struct.unpack(">%dq" % n, b"".join(heads))) != lens:
            return None
        sizes = list(map(_ADD, sizes, map(_ADD, lens, [hlen] * n)))
        names.append(nm[0].decode("ascii"))
        columns.append(b"\0".join(tx).decode("utf-8", "surrogateescape").split("\0"))
    for g in (1 + 3 * count, 3 + 3 * count):  # MyType, TargetType (read and ignored)
        heads, bodies = groups[g], groups[g + 1]
        lens = [len(b) + 1 for b in bodies]
        if crypto_mode and list(struct.unpack(">%dq" % n, b"".join(heads))) != lens:
            return None
        sizes = list(map(_ADD, sizes, map(_ADD, lens, [hlen] * n)))
    if sizes != list(map(len, run)):
        return None
    if len({nm.lower() for nm in names}) != count or any(len(c) != n for c in columns):
        return None
    return AdColumns(tuple(map(_intern, names)), columns, n)
