"""The collector's ad tables: update, invalidate, query and expire ClassAds.

Pure logic (no I/O), following src/condor_collector.V6/collector_engine.cpp and
src/condor_utils/hashkey.cpp:

- each ad type has its own table keyed as HTCondor keys it (``Name``, falling back to
  ``Machine`` [+ ``:SlotID`` for startds]; schedds add ``ScheddName`` and their address;
  generic ads are keyed by ``MyType`` + ``Name``);
- an update replaces the whole ad for its key and stamps ``LastHeardFrom`` (now) unless the ad
  carries one; startd updates may carry a second, private ad (claim ids) kept apart and only
  returned to QUERY_STARTD_PVT_ADS;
- ``AuthenticatedIdentity`` / ``AuthenticationMethod`` are set from the authenticated peer (or
  removed when the peer did not authenticate);
- an ad expires when ``now - LastHeardFrom`` exceeds its ``ClassAdLifetime`` or
  ``CLASSAD_LIFETIME`` (default 900 s); an invalidation removes the matching ads at once;
- a query evaluates ``Requirements`` of the query ad against each ad (true or a non-zero
  number selects), applies ``LimitResults`` and projects onto ``Projection``.

Stored ads stay in their wire form (:class:`~pyhtc.cedar.wire_ad.WireText`): an update only
reads the few attributes the table needs, and a query reply is the stored text (projection
picks lines).  Expressions that are not plain literals are parsed at update (a bad one
refuses the ad, as getClassAd() does); the lines of good ads are remembered, so an update
looks only at the lines it does not share with earlier ads -- among them always the key
attributes, which are never remembered (:func:`read_update`).  A constraint is evaluated on a
small ClassAd holding just the attributes it can reach (:func:`reference_closure`), built
once per record and constraint shape.
"""
from __future__ import annotations

import re
import time
from itertools import filterfalse
from typing import Iterable, Optional

from pyhtc import classad as C
from pyhtc.classad.oldsyntax import convert_escaping
from pyhtc.cedar.wire_ad import (NotALiteral, WireAd, WireText, from_classad, parse_literal,
                                 quote_string, to_classad)

__all__ = ["AdTable", "CollectorStore", "UnusualLine", "read_update", "TABLES",
           "MYTYPE_OF_TABLE", "table_for_mytype", "CollectorRecord", "project", "as_text", "make_key", "reference_closure",
           "identifiers", "is_dynamic", "check_expressions"]

#: table name -> the MyType its ads carry (HTCondor's ad type names)
MYTYPE_OF_TABLE = {
    "Startd": "Machine", "Schedd": "Scheduler", "Master": "DaemonMaster",
    "Submitter": "Submitter", "Collector": "Collector", "Negotiator": "Negotiator",
    "Accounting": "Accounting", "License": "License", "Grid": "Grid", "Generic": None,
}
TABLES = tuple(MYTYPE_OF_TABLE)
_TABLE_OF_MYTYPE = {v.lower(): k for k, v in MYTYPE_OF_TABLE.items() if v}
_TABLE_OF_MYTYPE.update({"slot": "Startd", "startd": "Startd", "schedd": "Schedd",
                         "master": "Master", "submittor": "Submitter"})
#: the attributes an update reads from the wire text
_KEY_ATTRS = frozenset(n.lower() for n in (
    "Name", "Machine", "SlotID", "MyAddress", "MyType", "TargetType", "ScheddName",
    "ClassAdLifetime", "LastHeardFrom", "AuthenticatedIdentity", "AuthenticationMethod"))
_AUTH_LOWS = frozenset(("authenticatedidentity", "authenticationmethod"))
#: constraint shapes whose evaluation ads a record keeps
_EVAL_CACHE_PER_RECORD = 4


def table_for_mytype(mytype: Optional[str]) -> str:
    """The table an ad of ``MyType`` belongs to (``Generic`` for any other type)."""
    return _TABLE_OF_MYTYPE.get((mytype or "").lower(), "Generic")


def as_text(ad) -> WireText:
    """``ad`` (WireText, WireAd, or a pyhtc/classad2 ClassAd) as a :class:`WireText`."""
    if isinstance(ad, WireText):
        return ad
    if isinstance(ad, WireAd):
        return WireText.from_pairs(ad)
    return WireText.from_pairs(from_classad(ad))


# -- which attributes can an expression reach ----------------------------------------------
#: an identifier that is not a function name (a name followed by "(" is always a call)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*+(?!\s*\()")
#: identifiers that never name an attribute of the ad (keywords and scope names)
_NOT_ATTRS = frozenset(("true", "false", "undefined", "error", "is", "isnt", "my", "target",
                        "self", "parent", "root", "toplevel"))
#: string literals (a backslash escapes the next character; an old-syntax string ending in
#: a backslash is left alone, so its words count as names -- harmless)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
#: a whole ad used as a value (``size(MY)``, ``MY["Cpus"]``), eval() of a computed string,
#: or a quoted attribute name: the attributes read cannot be told from identifiers
_DYNAMIC = re.compile(r"(?i)\beval\s*\(|\b(?:my|target|self|parent|root|toplevel)\b"
                      r"(?!\s*\.\s*[A-Za-z_])|'")
_IDENT_CACHE: dict[str, frozenset] = {}
_DYNAMIC_CACHE: dict[str, bool] = {}
_NO_IDS: frozenset = frozenset()
#: a plain string or number literal: no names (most values of a slot ad)
_PLAIN_LITERAL = re.compile(r'"[^"\\]*"|[+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?')


#: one line whose expression is a plain literal (string without backslashes, integer, real,
#: boolean, undefined -- the forms pyhtc.classad's parser reads without parsing)
_LITERAL_LINE = re.compile(
    rb'[^=\x00]*=[ \t]*+(?:"[^"\\\x00]*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]{1,3})?)?'
    rb'|(?i:true|false|undefined))[ \t\n\r\f\v]*')


class _LineMemory:
    """Lines (as on the wire, without their NUL) known to be good: a pool's ads share most
    of their lines (policy expressions, static machine attributes), so most need no look
    at all.  Two generations bound the memory: when the young one holds ``limit`` lines it
    becomes the old one (the previous old one is forgotten), and a line found in the old
    one moves back to the young one -- lines in use stay remembered, and no update ever
    finds everything forgotten at once (a pool's changing values, MyCurrentTime and the
    like, would otherwise fill the memory and clear it every few thousand updates)."""

    __slots__ = ("young", "old", "limit")

    def __init__(self, limit: int):
        self.limit = limit
        self.young: set = {b""}  # the empty piece after a block's last NUL
        self.old: set = set()

    def unknown(self, lines: list) -> list:
        """Those of ``lines`` not remembered, in order (duplicates kept)."""
        new = list(filterfalse(self.young.__contains__, lines))
        if new and self.old:
            old = self.old
            back = [line for line in new if line in old]
            if back:
                self.add(back)
                new = [line for line in new if line not in old]
        return new

    def add(self, lines: list) -> None:
        """Remember ``lines`` (known to be good)."""
        young = self.young
        if len(young) + len(lines) > self.limit:
            self.old = young
            self.young = young = {b""}
        young.update(lines)

    def __contains__(self, line: bytes) -> bool:
        return line in self.young or line in self.old

    def clear(self) -> None:
        """Forget every line."""
        self.young, self.old = {b""}, set()


#: good lines not of the ``_KEY_ATTRS`` (:class:`_LineMemory`, 2 x 200,000 lines at most)
_GOOD_LINES = _LineMemory(200_000)
#: good lines of the ``_KEY_ATTRS`` (never in _GOOD_LINES: their values are needed) ->
#: (lower name, (name, expression_text), literal value or _NOT_LITERAL); many repeat
#: (MyType, SlotID, Machine, ...)
_KEY_LINES: dict = {}
_KEY_LINES_MAX = 100_000
#: ``_KEY_ATTRS`` as the bytes of lower-case names (a line's name is compared undecoded)
_KEY_ATTRS_B = frozenset(n.encode() for n in _KEY_ATTRS)


def _check_line(line: bytes, what: str) -> None:
    """Raise ValueError naming the attribute when the expression of ``line`` ("Name = expr",
    no NUL) is not a plain literal and does not parse."""
    if _LITERAL_LINE.fullmatch(line) is None:
        name, _, expr = line.partition(b"=")
        text = expr.decode("utf-8", "surrogateescape").strip()
        try:
            C.ExprTree(convert_escaping(text))
        except Exception as exc:
            raise ValueError(f"{what}: attribute {name.decode('utf-8', 'replace').strip()} "
                             f"does not parse: {text[:80]!r} ({exc})") from None


def check_expressions(ad: WireText, what: str = "ad") -> None:
    """Parse every expression of ``ad`` that is not a plain literal (getClassAd() parses
    each attribute and refuses the ad when one does not parse, classad_oldnew.cpp): a
    stored ad is sent verbatim to every querying client, so a bad one must not be kept.
    Lines seen before in a good ad are remembered (:class:`_LineMemory`).
    Raises ValueError naming the attribute."""
    new = _GOOD_LINES.unknown(ad.block.split(b"\0"))
    for line in new:
        _check_line(line, what)
    _GOOD_LINES.add([line for line in new
                     if line.partition(b"=")[0].strip().lower() not in _KEY_ATTRS_B])


class UnusualLine(ValueError):
    """Raised by :func:`read_update` (and :meth:`CollectorStore.update`) when a line not
    seen before does not have the form ``wire_form`` asks for: the caller reads the ad
    again with the general reader (:func:`pyhtc.cedar.wire_ad.get_ad`)."""


def read_update(ad: WireText, what: str = "ad", lines: Optional[list] = None,
                wire_form: Optional[re.Pattern] = None) -> Optional[tuple]:
    """:func:`check_expressions` and the ``_KEY_ATTRS`` of ``ad`` in one pass: the lines
    not known to be good (the key attributes are never remembered, so they are always among
    them) are the only ones looked at, and those seen before in a good ad come with their
    name and value already read (``_KEY_LINES``).  Returns ``({lower name: (name,
    expression_text)}, {lower name: literal value or _NOT_LITERAL}, the first parse error
    or None, the lines of the attributes the sender may not set (AuthenticatedIdentity,
    AuthenticationMethod) to drop)``, or None when the ad needs the ordered reader (a key
    attribute given twice with different values).

    ``lines``: the ad's lines when the caller has them (``ad.block`` split at its NULs).
    ``wire_form``: a pattern every line not seen before must match in full (lines read
    from the wire without checking them all); :class:`UnusualLine` is raised otherwise."""
    new = _GOOD_LINES.unknown(ad.block.split(b"\0") if lines is None else lines)
    fields: dict = {}
    values: dict = {}
    good = []
    drop = []
    error = None
    key_lines = _KEY_LINES
    for line in new:
        known = key_lines.get(line)
        if known is None:
            if wire_form is not None and wire_form.fullmatch(line) is None:
                raise UnusualLine(f"{what}: line {line[:80]!r} needs the general reader")
            name_b, _, expr_b = line.partition(b"=")
            low_b = name_b.strip().lower()
            if error is None:
                try:
                    _check_line(line, what)
                except ValueError as exc:
                    error = exc
                    continue
            if low_b not in _KEY_ATTRS_B:
                good.append(line)
                continue
            name = name_b.strip().decode("ascii", "surrogateescape")
            text = expr_b.decode("utf-8", "surrogateescape").strip()
            known = (low_b.decode("ascii"), (name, text), _literal(text))
            if error is None:
                if len(key_lines) >= _KEY_LINES_MAX:
                    key_lines.clear()
                key_lines[line] = known
        low, pair, value = known
        if low in _AUTH_LOWS:
            drop.append(line)
            continue
        had = fields.get(low)
        if had is not None and had != pair:
            return None
        fields[low] = pair
        values[low] = value
    if error is None and good:
        _GOOD_LINES.add(good)
    return fields, values, error, drop


def _small_classad(pairs) -> C.ClassAd:
    """A ClassAd of ``(name, old-syntax expression text)`` pairs (as wire_ad.to_classad)."""
    ad = C.ClassAd()
    for name, text in pairs:
        ad[name] = C.ExprTree(convert_escaping(text))
    return ad


def identifiers(text: str) -> frozenset:
    """Lower-cased identifiers in expression ``text`` outside string literals -- a superset
    of the attributes it names (function names and keywords included: looking those up
    costs little, missing a real reference would be wrong).  Strings name attributes only
    through the constructs :func:`is_dynamic` catches."""
    ids = _IDENT_CACHE.get(text)
    if ids is None:
        if _PLAIN_LITERAL.fullmatch(text):
            return _NO_IDS
        if len(_IDENT_CACHE) > 50_000:
            _IDENT_CACHE.clear()
        code = _STRING.sub(" ", text) if '"' in text else text
        ids = _IDENT_CACHE[text] = frozenset(t.lower() for t in _IDENT.findall(code)) - _NOT_ATTRS
    return ids


def is_dynamic(text: str) -> bool:
    """True when expression ``text`` may read attributes it does not name (``eval()``, a
    whole ad as a value); such constraints are evaluated against the whole ad."""
    d = _DYNAMIC_CACHE.get(text)
    if d is None:
        if _PLAIN_LITERAL.fullmatch(text):
            return False
        if len(_DYNAMIC_CACHE) > 50_000:
            _DYNAMIC_CACHE.clear()
        code = _STRING.sub(" ", text) if '"' in text else text
        d = _DYNAMIC_CACHE[text] = _DYNAMIC.search(code) is not None
    return d


def reference_closure(ad: WireText, roots: Iterable[str],
                      known: Optional[dict] = None) -> Optional[dict]:
    """The attributes of ``ad`` an expression naming ``roots`` can reach: the roots the ad
    has, then (transitively) every attribute their expressions name.  Returns
    ``{lower name: (name, expression_text)}``, or None when one of them is dynamic
    (:func:`is_dynamic`) and only the whole ad will do.  ``known`` holds the attributes
    the store already read at update (``_KEY_ATTRS``): names among those need no search."""
    want = set(r.lower() for r in roots)
    found: dict = {}
    pending = frozenset(want)
    while pending:
        new = set()
        if known is not None and pending <= _KEY_ATTRS:
            hits = {n: known[n] for n in pending if n in known}
        else:
            hits = ad.exprs(pending)
        for low, pair in hits.items():
            found[low] = pair
            text = pair[1]
            if is_dynamic(text):
                return None
            for ident in identifiers(text):
                if ident not in want:
                    want.add(ident)
                    new.add(ident)
        pending = frozenset(new)
    return found


# -- literal values read from wire text -----------------------------------------------------
def _literal(text: Optional[str]):
    if text is None:
        return None
    try:
        return parse_literal(text)
    except NotALiteral:
        return _NOT_LITERAL


_NOT_LITERAL = object()
_MISSING = object()


def _string(ad, name: str) -> Optional[str]:
    """EvaluateAttrString: the string value of ``name`` in a ClassAd (None otherwise)."""
    try:
        v = ad.eval(name)
    except Exception:
        return None
    return v if isinstance(v, str) else None


class _Fields:
    """The attributes of one wire ad that the tables use (string values evaluated); with
    ``drop`` those attributes are removed from the ad in the same pass (``self.ad``)."""

    __slots__ = ("ad", "exprs", "values")

    def __init__(self, ad: WireText, drop: frozenset = frozenset(), exprs: Optional[dict] = None,
                 values: Optional[dict] = None):
        #: {lower name: literal value (or _NOT_LITERAL)} read with the expressions, if any
        self.values = values if values is not None else {}
        if exprs is not None:
            self.ad, self.exprs = ad, exprs
        elif drop:
            self.exprs, self.ad = ad.scan(_KEY_ATTRS, drop)
        else:
            self.ad, self.exprs = ad, ad.exprs(_KEY_ATTRS)

    def value(self, name: str):
        low = name.lower()
        v = self.values.get(low, _MISSING)
        if v is not _MISSING:
            return v
        pair = self.exprs.get(low)
        return None if pair is None else _literal(pair[1])

    def string(self, name: str) -> Optional[str]:
        v = self.value(name)
        if v is _NOT_LITERAL:  # an expression: evaluate it in the ad (rare)
            closure = reference_closure(self.ad, [name])
            small = self.ad.to_wire_ad() if closure is None else WireAd(closure.values())
            try:
                return _string(to_classad(small), name)
            except Exception:
                return None
        return v if isinstance(v, str) else None

    def integer(self, name: str) -> Optional[int]:
        v = self.value(name)
        return v if type(v) is int else None


def _key_from(table: str, f) -> Optional[tuple]:
    name = f.string("Name")
    if table == "Startd":
        if name is None:
            name = f.string("Machine")
            if name is None:
                return None
            slot = f.integer("SlotID")
            if slot is not None:
                name = f"{name}:{slot}"
        return (name.lower(), f.string("MyAddress") or "")
    if table in ("Schedd", "Submitter", "License"):
        name = name or f.string("Machine")
        if name is None:
            return None
        extra = f.string("ScheddName") or ""
        return ((name + extra).lower(), f.string("MyAddress") or "")
    if table == "Generic":
        if name is None:
            return None
        return ((f.string("MyType") or "").lower(), name.lower())
    name = name or f.string("Machine")
    return None if name is None else (name.lower(),)


class _ClassAdFields:
    """:class:`_Fields` over a ClassAd (query ads of invalidations)."""

    def __init__(self, ad: C.ClassAd):
        self.ad = ad

    def string(self, name: str) -> Optional[str]:
        return _string(self.ad, name)

    def integer(self, name: str) -> Optional[int]:
        v = self.ad.get(name)
        return v if type(v) is int else None


def make_key(table: str, ad) -> Optional[tuple]:
    """HTCondor's hash key of ``ad`` (a wire ad or a ClassAd) in ``table`` (hashkey.cpp),
    or None if it has none."""
    if isinstance(ad, (WireText, WireAd)):
        return _key_from(table, _Fields(as_text(ad)))
    return _key_from(table, _ClassAdFields(ad))


class CollectorRecord:
    """One stored ad: its public wire text, the private ad of a startd (or None), when it
    was heard from, its lifetime (s), its MyType, and (``evals``) the evaluation ads built
    for constraints (names reached -> small ClassAd) and the projections sent (a few of
    each; a new record on every update, so nothing stale survives an update)."""

    __slots__ = ("public", "private", "last_heard", "lifetime", "mytype", "evals", "fields")

    def __init__(self, public: WireText, private: Optional[WireText], last_heard: int,
                 lifetime: int, mytype: str = "", fields: Optional[dict] = None):
        #: the ``_KEY_ATTRS`` of the public ad: {lower name: (name, expression_text)}
        self.fields = fields if fields is not None else public.exprs(_KEY_ATTRS)
        self.public = public
        self.private = private
        self.last_heard = last_heard
        self.lifetime = lifetime
        self.mytype = mytype
        self.evals: dict = {}

    def eval_ad(self, roots: frozenset) -> C.ClassAd:
        """A ClassAd holding every attribute of the public ad that an expression naming
        ``roots`` can reach (the whole ad when the closure is dynamic), cached."""
        ad = self.evals.get(roots)
        if ad is None:
            closure = reference_closure(self.public, roots, self.fields)
            ad = _small_classad(self.public.to_wire_ad() if closure is None
                                else closure.values())
            if len(self.evals) >= _EVAL_CACHE_PER_RECORD:
                self.evals.pop(next(iter(self.evals)))
            self.evals[roots] = ad
        return ad


def _bool_of(v) -> bool:
    # exact types: UNDEFINED/ERROR convert to classad.Value members, which are ints too
    if v is True:
        return True
    if type(v) in (int, float):
        return v != 0
    return False


def project(ad: WireText, names: Optional[Iterable[str]], known: Optional[dict] = None
            ) -> WireText:
    """``ad`` holding only ``names`` (all attributes when ``names`` is None or empty).
    Missing names are skipped; ``MyType`` and ``TargetType`` are kept if present.
    ``known``: the ad's ``_KEY_ATTRS`` as read at update (no search when they suffice)."""
    if not names:
        return ad
    lows = names if isinstance(names, frozenset) else frozenset(n.lower() for n in names)
    lows = lows | {"mytype", "targettype"}
    if known is not None and lows <= _KEY_ATTRS:
        return WireText.from_pairs([known[n] for n in lows if n in known])
    return ad.project(lows)


class _Selector:
    """A query ad's ``Requirements`` prepared once: constant, or an expression with the
    attribute names it (and the query ad) can reach."""

    def __init__(self, query: C.ClassAd):
        self.query = query
        self.constant: Optional[bool] = True
        self.expr = None
        if "Requirements" not in query:
            return
        req = query.lookup("Requirements")
        text = repr(req)
        try:
            value = parse_literal(text)
        except NotALiteral:
            value = _NOT_LITERAL
        if value is not _NOT_LITERAL:
            self.constant = _bool_of(value)
            return
        self.constant = None
        self.expr = req
        # the query ad's own expressions may refer to the stored ad too (TARGET.x)
        texts = [text] + [repr(query.lookup(n)) for n in query.keys()]
        roots = set()
        for t in texts:
            roots |= identifiers(t)
        self.roots = frozenset(roots)
        self.dynamic = any(is_dynamic(t) for t in texts)

    def selects(self, rec: CollectorRecord, with_target: bool = True) -> bool:
        if self.constant is not None:
            return self.constant
        try:
            if self.dynamic:
                ad = rec.evals.get(None)
                if ad is None:
                    ad = rec.evals[None] = _small_classad(rec.public.to_wire_ad())
            else:
                ad = rec.eval_ad(self.roots)
            v = self.expr.eval(ad, self.query) if with_target else self.expr.eval(ad)
        except Exception:
            return False
        return _bool_of(v)


def _query_classad(query) -> C.ClassAd:
    if isinstance(query, C.ClassAd):
        return query
    if isinstance(query, WireText):
        query = query.to_wire_ad()
    if isinstance(query, WireAd):
        return to_classad(query)
    return to_classad(from_classad(query))


class AdTable:
    """The ads of one type: key -> :class:`CollectorRecord`."""

    def __init__(self, name: str):
        self.name = name
        self.records: dict[tuple, CollectorRecord] = {}

    def __len__(self) -> int:
        return len(self.records)


class CollectorStore:
    """All the collector's tables.

    ``default_lifetime`` is CLASSAD_LIFETIME in seconds; ``clock`` returns Unix seconds
    (injectable for tests).
    """

    def __init__(self, default_lifetime: int = 900, clock=time.time):
        self.default_lifetime = default_lifetime
        self.clock = clock
        self.tables = {t: AdTable(t) for t in TABLES}
        self.updates_total = 0

    def update(self, table: str, ad, private=None, identity: Optional[str] = None,
               method: Optional[str] = None, lines: Optional[list] = None,
               wire_form: Optional[re.Pattern] = None) -> tuple:
        """Store ``ad`` (a WireText, WireAd or ClassAd) in ``table``, replacing the ad with
        the same key; ``private`` is the startd's private ad (kept from the previous update
        when None).

        ``lines`` and ``wire_form``: see :func:`read_update` (a WireText ``ad`` only).

        Returns the key. Raises ValueError (naming the attribute) when the ad has no usable
        key or an expression of it (or of the private ad) does not parse; UnusualLine (a
        ValueError) when a line does not match ``wire_form`` (nothing is stored then)."""
        text = as_text(ad)
        what = f"{table} ad"
        got = read_update(text, what, lines, wire_form)
        if got is None and wire_form is not None:  # not every line was looked at
            raise UnusualLine(f"{what}: a key attribute given twice needs the general reader")
        if got is not None:
            fields, values, error, drop = got
            f = _Fields(text.without_lines(drop) if drop else text, exprs=fields, values=values)
        else:
            # the sender's own AuthenticatedIdentity/AuthenticationMethod are never trusted
            f = _Fields(text, _AUTH_LOWS)
            error = None
        text, fields = f.ad, f.exprs
        key = _key_from(table, f)
        if key is None:
            raise ValueError(f"{table} ad has no Name (nor Machine) attribute")
        if error is not None:
            raise error
        if got is None:
            check_expressions(text, what)
        pvt = as_text(private) if private is not None else None
        if pvt is not None:
            check_expressions(pvt, f"private {table} ad")
        now = int(self.clock())
        extra = []
        heard = f.integer("LastHeardFrom")
        if "lastheardfrom" not in f.exprs:
            extra.append(("LastHeardFrom", str(now)))
        if heard is None:
            heard = now
        if identity:
            extra.append(("AuthenticatedIdentity", _quote(identity)))
            if method:
                extra.append(("AuthenticationMethod", _quote(method)))
        if extra:
            more = "".join([f"{name} = {expr}\0" for name, expr in extra])
            if getattr(text, "_crypto", None) is None and more.count("\0") == len(extra):
                # no crypto-mode form to extend (an ad read in clear): the lines appended
                # as with_pairs() would, without building a second WireText
                text = WireText(text.block + more.encode("utf-8", "surrogateescape"),
                                text.count + len(extra))
            else:
                text = text.with_pairs(extra)
            for pair in extra:
                fields[pair[0].lower()] = pair
        lifetime = f.integer("ClassAdLifetime")
        if lifetime is None:
            lifetime = self.default_lifetime
        records = self.tables[table].records
        old = records.get(key)
        if pvt is None and old is not None:
            pvt = old.private
        records[key] = CollectorRecord(text, pvt, heard, lifetime, f.string("MyType") or "",
                                       fields)
        self.updates_total += 1
        return key

    def invalidate(self, table: str, query) -> int:
        """Remove the ads of ``table`` that the query ad (ClassAd or wire ad) selects;
        returns how many.

        The query's ``Requirements`` selects ads; without one, the ad with the query's key
        (``Name``/``MyAddress``) is removed. For the Generic table ``TargetType`` (when not
        ``Any``) restricts the MyType.
        """
        query = _query_classad(query)
        tab = self.tables[table]
        target = _string(query, "TargetType")
        victims = []
        if "Requirements" not in query:
            key = make_key(table, query)
            if key is not None and key in tab.records:
                victims.append(key)
        else:
            sel = _Selector(query)
            for key, rec in tab.records.items():
                if table == "Generic" and target and target.lower() != "any":
                    if rec.mytype.lower() != target.lower():
                        continue
                if sel.selects(rec, with_target=False):
                    victims.append(key)
        for key in victims:
            del tab.records[key]
        return len(victims)

    def expire(self) -> list[tuple[str, tuple]]:
        """Remove ads not heard from within their lifetime; returns (table, key) removed."""
        now = self.clock()
        gone = []
        for tab in self.tables.values():
            for key, rec in list(tab.records.items()):
                if now - rec.last_heard > rec.lifetime:
                    del tab.records[key]
                    gone.append((tab.name, key))
        return gone

    def query(self, tables: Iterable[str], query, private: bool = False) -> list[WireText]:
        """The ads (wire texts) of ``tables`` selected by the query ad (ClassAd or wire ad),
        projected and limited.

        ``Requirements`` (default true) is evaluated with the stored ad as MY and the query
        ad as TARGET; ``LimitResults`` caps the count; ``Projection`` (names separated by
        white space or commas) limits attributes. For the Generic table a ``TargetType``
        other than ``Any`` restricts the MyType. With ``private`` the startds' private ads
        are returned instead of their public ads.
        """
        query = _query_classad(query)
        sel = _Selector(query)
        if sel.constant is False:
            return []
        limit = query.get("LimitResults")
        if type(limit) is not int or limit < 0:
            limit = None
        proj_text = _string(query, "Projection") or ""
        names = frozenset(n.lower() for n in proj_text.replace(",", " ").split() if n)
        target = _string(query, "TargetType")
        out = []
        for t in tables:
            for rec in self.tables[t].records.values():
                if t == "Generic" and target and target.lower() not in ("any", ""):
                    if rec.mytype.lower() != target.lower():
                        continue
                if not sel.selects(rec):
                    continue
                if private:
                    if rec.private is None:
                        continue
                    out.append(project(rec.private, names))
                elif names:
                    # a projection is kept with the record, as its evaluation ads are
                    ckey = ("projection", names)
                    proj = rec.evals.get(ckey)
                    if proj is None:
                        proj = project(rec.public, names, rec.fields)
                        if len(rec.evals) >= _EVAL_CACHE_PER_RECORD:
                            rec.evals.pop(next(iter(rec.evals)))
                        rec.evals[ckey] = proj
                    out.append(proj)
                else:
                    out.append(rec.public)
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def count(self, table: str) -> int:
        """Number of ads in ``table``."""
        return len(self.tables[table])


def _quote(value: str) -> str:
    return quote_string(value)
