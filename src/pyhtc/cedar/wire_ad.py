"""ClassAds on the wire (src/condor_utils/classad_oldnew.cpp putClassAd/getClassAd;
PROTOCOL.md section 3).

Layout: ``int n``, then n strings ``"Name = <old-syntax expression>"``, then two strings
MyType and TargetType (always "" from modern senders; read and ignored).  In the codec an ad
is a :class:`WireAd`: an ordered list of ``(name, expression_text)`` pairs, so it can be
forwarded byte-for-byte without evaluating anything.  :func:`to_classad` / :func:`from_classad`
convert to and from :mod:`pyhtc.classad` (imported lazily; cedar does not need it).
"""
from __future__ import annotations

import re
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
    """
    items = list(ad)
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
    enc.put_int(len(items))
    for name, expr in items:
        enc.put_string(f"{name} = {expr}")
    if types:
        enc.put_string("")
        enc.put_string("")
    return enc


def get_ad(dec: Decoder, *, max_attributes: int = MAX_ATTRIBUTES, literal_only: bool = False,
           types: bool = True) -> WireAd:
    """getClassAd() (classad_oldnew.cpp): read a wire ad.

    Raises ProtocolError (with the offset) for a negative or excessive count, a line without
    ``=``, an invalid attribute name, or (``literal_only``, getPODClassAd) a non-literal value.
    """
    start = dec.offset
    count = dec.get_int()
    # each attribute takes at least 1 byte on the wire: a count above what is left is a lie
    if count < 0 or count > max_attributes or count > dec.remaining:
        raise ProtocolError(f"{dec.what}: invalid ClassAd attribute count {count}", start)
    ad = WireAd()
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


def to_classad(ad: WireAd):
    """Convert to a :class:`pyhtc.classad.ClassAd`, parsing each expression as old syntax
    (``\\"`` is a quote, other backslashes literal -- PROTOCOL.md 3).  Raises the ClassAd
    library's parse error for an invalid expression."""
    from pyhtc import classad as C  # lazy: cedar must not require the ClassAd library
    from pyhtc.classad.oldsyntax import convert_escaping
    out = C.ClassAd()
    for name, expr in ad:
        out[name] = C.ExprTree(convert_escaping(expr))
    return out


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
