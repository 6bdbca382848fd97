"""Job ads as ClassAds: parsing the queue's expression texts, evaluating constraints.

The queue (:mod:`.queue`) stores each attribute as its old-syntax expression text, exactly as
the client sent it.  Constraints (QUERY_JOB_ADS ``Requirements``, ACT_ON_JOBS
``ActionConstraint``, periodic policy expressions) are evaluated against the job's full ad:
its cluster ad overlaid with its own attributes (src/condor_schedd.V6/qmgmt.cpp, the proc
ad is chained to its cluster ad).

:class:`AdCache` builds those ClassAds on demand and keeps them while the underlying
attribute dictionaries are unchanged (the queue replaces, never mutates, committed ads).
"""
from __future__ import annotations

import functools
import re
import struct
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import WireAd, encode_lines

_INT8 = struct.Struct(">q")
#: the two empty MyType/TargetType strings that end a wire ad on an encrypted stream
_TYPES_CRYPTO = encode_lines([], True, True)[8:]
from pyhtc.classad.oldsyntax import convert_escaping

__all__ = ["parse_expr", "is_true", "AdCache", "JobAd", "wire_ad", "job_status", "refs_of",
           "ConstraintMatcher", "JobEncoder"]


@functools.lru_cache(maxsize=65536)
def parse_expr(text: str) -> C.ExprTree:
    """The ExprTree of an old-syntax expression text (cached; ExprTrees are immutable).

    Raises :class:`pyhtc.classad.ClassAdParseError` (a SyntaxError) if ``text`` is not a
    valid expression."""
    return C.ExprTree(convert_escaping(text))


@functools.lru_cache(maxsize=65536)
def refs_of(text: str) -> frozenset:
    """Lower-cased names of the attributes an expression text references in its own ad
    (``Foo``, ``MY.Foo``); ``TARGET.`` references and names that do not parse are left out
    (they are UNDEFINED in a job ad evaluated alone)."""
    try:
        names = C.ClassAd().externalRefs(parse_expr(text))
    except Exception:
        return frozenset()
    return frozenset(n.lower() for n in names if "." not in n)


def is_true(expr: C.ExprTree, ad: C.ClassAd) -> bool:
    """Whether ``expr`` evaluated in ``ad`` is true: a true boolean or a non-zero number
    (HTCondor's EvalBool / IsNumber semantics); UNDEFINED and ERROR are false."""
    try:
        v = expr.eval(ad)
    except Exception:  # an evaluation failure counts as "does not match"
        return False
    if isinstance(v, C.Value):  # UNDEFINED / ERROR (an int-like enum: test it first)
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return False


def eval_value(expr: C.ExprTree, ad: C.ClassAd):
    """The Python value of ``expr`` in ``ad``; None for UNDEFINED, ERROR or a failure."""
    try:
        v = expr.eval(ad)
    except Exception:
        return None
    return None if isinstance(v, C.Value) else v


def wire_ad(attrs: dict) -> WireAd:
    """``{name: expression text}`` as a WireAd (no re-parsing: texts go out as stored)."""
    return WireAd(attrs.items())


def job_status(queue, cluster: int, proc: int) -> int:
    """The integer JobStatus of a committed job (0 if unset or not an integer)."""
    text = queue.lookup(cluster, proc, "JobStatus")
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


@functools.lru_cache(maxsize=65536)
def _old_text(text: str) -> str:
    """What ``printOld`` writes for the expression stored as ``text`` (its parse, unparsed
    in old syntax; raises like :func:`parse_expr`)."""
    from pyhtc.classad.unparse import unparse_node
    return unparse_node(parse_expr(text)._node, True)


@functools.lru_cache(maxsize=16384)
def _old_name(name: str) -> str:
    from pyhtc.classad.unparse import quote_name
    return quote_name(name)


class JobAd(C.ClassAd):
    """A job ad built by :class:`AdCache` from the queue's expression texts.  Its
    :meth:`printOld` gives exactly what ``ClassAd.printOld`` gives, but from those texts:
    each distinct text is unparsed once (:func:`_old_text`) instead of every attribute of
    every job ad each time (what the schedd writes per shadow start).  Any change to the
    ad drops the shortcut."""

    __slots__ = ("_sources",)

    def __init__(self, input=None):
        super().__init__(input)
        self._sources = None   # (cluster Attrs, proc Attrs or None, attribute count)

    def _set_node(self, name, node) -> None:
        self._sources = None
        super()._set_node(name, node)

    def __delitem__(self, key):
        self._sources = None
        super().__delitem__(key)

    def clear(self):
        self._sources = None
        super().clear()

    def printOld(self) -> str:
        """Old-syntax text: one ``Name = expr`` line per attribute, in ClassAd order."""
        src = self._sources
        if src is None or src[2] != len(self._attrs):
            return super().printOld()
        cad, pad, _ = src
        merged = {}
        for low, (name, text) in (cad or {}).items():
            merged[low] = (name, text)
        if pad:
            for low, (name, text) in pad.items():
                prev = merged.get(low)
                merged[low] = (prev[0] if prev else name, text)
        out = []
        for low in sorted(merged, key=lambda k: (len(k), k)):
            name, text = merged[low]
            try:
                out.append(_old_name(name) + " = " + _old_text(text) + "\n")
            except Exception:
                continue  # left out of the ad too (AdCache counts it in bad_exprs)
        if len(out) != len(self._attrs):
            return super().printOld()
        return "".join(out) if out else "\n"

    formatOld = printOld


class AdCache:
    """ClassAds of the jobs of a :class:`~.queue.JobQueue`, rebuilt only when changed.

    ``get(cluster, proc)`` returns the full job ad (cluster attributes overlaid with the
    proc's); the returned ClassAd must not be modified by the caller.  Attributes whose text
    does not parse are left out (and counted in ``bad_exprs``).
    """

    #: job ads kept at most (cluster ads are all kept: one per cluster)
    MAX_JOBS = 4096

    def __init__(self, queue):
        self.q = queue
        self._clusters: dict[int, tuple] = {}
        self._jobs: dict[tuple, tuple] = {}
        self.bad_exprs = 0

    def _fill(self, ad: C.ClassAd, attrs) -> None:
        for name, text in attrs.values():
            try:
                ad[name] = parse_expr(text)
            except Exception:
                self.bad_exprs += 1

    def cluster_ad(self, cluster: int) -> C.ClassAd:
        """The cluster ad (proc -1) as a ClassAd (empty if the cluster has none)."""
        src = self.q.ads.get((cluster, -1))
        hit = self._clusters.get(cluster)
        if hit is not None and hit[0] is src:
            return hit[1]
        ad = JobAd()
        if src:
            self._fill(ad, src)
        ad._sources = (src, None, len(ad._attrs))
        self._clusters[cluster] = (src, ad)
        return ad

    def get(self, cluster: int, proc: int) -> Optional[C.ClassAd]:
        """The job ad of ``cluster.proc`` (proc -1: the cluster ad), or None if absent."""
        if proc < 0:
            return self.cluster_ad(cluster) if (cluster, -1) in self.q.ads else None
        src = self.q.ads.get((cluster, proc))
        if src is None:
            self._jobs.pop((cluster, proc), None)
            return None
        csrc = self.q.ads.get((cluster, -1))
        hit = self._jobs.get((cluster, proc))
        if hit is not None and hit[0] is src and hit[1] is csrc:
            return hit[2]
        ad = JobAd(self.cluster_ad(cluster))
        self._fill(ad, src)
        ad._sources = (csrc, src, len(ad._attrs))
        jobs = self._jobs
        if len(jobs) >= self.MAX_JOBS:
            # a full job ad copies its cluster's attributes (some KB): keep only the most
            # recently built ones, not one per job of a 100,000-job queue
            del jobs[next(iter(jobs))]
        jobs[(cluster, proc)] = (src, csrc, ad)
        return ad

    def prune(self) -> None:
        """Forget ads of jobs no longer in the queue."""
        for key in [k for k in self._jobs if k not in self.q.ads]:
            del self._jobs[key]
        for c in [c for c in self._clusters if (c, -1) not in self.q.ads]:
            del self._clusters[c]


class ConstraintMatcher:
    """Evaluates one constraint over committed jobs without building their full ClassAds.

    Only the attributes the constraint references (and, transitively, those their
    expressions reference) are put in a small ClassAd.  A proc that overrides none of them
    gives the same answer as its cluster ad, so that answer is computed once per cluster
    (HTCondor evaluates against the proc ad chained to its cluster ad, qmgmt.cpp; the
    result is the same).  A constraint that references nothing is evaluated once.
    """

    def __init__(self, queue, expr: C.ExprTree):
        self.q = queue
        self.expr = expr
        self.refs = refs_of(str(expr))
        self._const: Optional[bool] = is_true(expr, C.ClassAd()) if not self.refs else None
        self._cluster: dict[int, tuple] = {}  # cluster -> (cluster ad Attrs, closure, result)

    def _closure_ad(self, cluster: int, proc: int) -> tuple[C.ClassAd, set]:
        ad = C.ClassAd()
        seen: set = set()
        todo = list(self.refs)
        lookup = self.q.lookup
        while todo:
            low = todo.pop()
            if low in seen:
                continue
            seen.add(low)
            text = lookup(cluster, proc, low)
            if text is None:
                continue
            try:
                ad[low] = parse_expr(text)
            except Exception:
                continue
            todo.extend(refs_of(text))
        return ad, seen

    def matches(self, cluster: int, proc: int) -> bool:
        """Whether job ``cluster.proc`` (proc -1: the cluster ad) satisfies the constraint."""
        if self._const is not None:
            return self._const
        if proc >= 0:
            cad = self.q.ads.get((cluster, -1))
            hit = self._cluster.get(cluster)
            if hit is None or hit[0] is not cad:
                ad, closure = self._closure_ad(cluster, -1)
                hit = self._cluster[cluster] = (cad, closure, is_true(self.expr, ad))
            pad = self.q.ads.get((cluster, proc))
            if pad is not None:
                closure = hit[1]
                if not any(k in closure for k in pad):
                    return hit[2]
        ad, _ = self._closure_ad(cluster, proc)
        return is_true(self.expr, ad)


class JobEncoder:
    """``(name, expression text)`` lists of job ads for the wire, straight from the queue's
    texts: the cluster ad's list is built once per cluster and each proc's few attributes
    are laid over it (the proc ad holds only what differs, queue.py).

    ``private``: lower-case names never sent (ClassAdPrivateAttrs, PUT_CLASSAD_NO_PRIVATE);
    ``projection``: names to send (sorted case-insensitively, as putClassAd's whitelist
    does), or None for all.  ``ServerTime = server_time`` is appended when given.
    """

    def __init__(self, queue, projection=None, server_time: Optional[int] = None):
        from pyhtc.cedar.wire_ad import is_private
        self.q = queue
        self._is_private = is_private
        self.proj = sorted({n.lower() for n in projection}) if projection else None
        self.tail = [("ServerTime", str(int(server_time)))] if server_time is not None else []
        # putClassAd with PUT_CLASSAD_SERVER_TIME replaces a stored ServerTime
        self._st = "servertime" if server_time is not None else None
        self._cluster: dict[int, tuple] = {}
        self._wire: dict[tuple, tuple] = {}
        self._proj_cluster: dict[int, tuple] = {}  # cluster -> (cluster Attrs, names, seen)
        # (cluster, crypto) -> (cluster Attrs, entries, seen, lines, memo): _proj_plan
        self._proj_lines: dict[tuple, tuple] = {}
        # proc lines by (name, text), while few (JobStatus = 1 ...), by crypto mode
        self._line_memo: dict = {False: {}, True: {}}
        # lower-case names of proc attributes not sent (private, a stored ServerTime)
        self._private_low: dict = {}
        # ServerTime line (if any) and the empty MyType/TargetType, by crypto mode
        self._tail_bytes = {
            m: b"".join(_line(n, e, m) for n, e in self.tail) + (_TYPES_CRYPTO if m else b"\0\0")
            for m in (False, True)}

    def _base(self, cluster: int):
        cad = self.q.ads.get((cluster, -1))
        hit = self._cluster.get(cluster)
        if hit is not None and hit[0] is cad:
            return hit
        items, index = [], {}
        if cad:
            for low, (n, e) in cad.items():
                if low == self._st or self._is_private(n):
                    continue
                index[low] = len(items)
                items.append((n, e))
        hit = self._cluster[cluster] = (cad, items, index)
        return hit

    def items(self, cluster: int, proc: int) -> list:
        """The wire pairs of job ``cluster.proc`` (proc -1: the cluster ad alone)."""
        _cad, base, index = self._base(cluster)
        pad = self.q.ads.get((cluster, proc)) if proc >= 0 else None
        if self.proj is not None:
            out = []
            for low in self._expanded(cluster, pad):
                v = pad.get(low) if pad else None
                i = index.get(low)
                if v is not None:
                    name = base[i][0] if i is not None else v[0]
                    if low == self._st or self._is_private(name):
                        continue
                    out.append((name, v[1]))
                elif i is not None:
                    out.append(base[i])
            out.sort(key=lambda it: it[0].lower())
            return out + self.tail
        if not pad:
            return base + self.tail
        out = list(base)
        for low, (n, e) in pad.items():
            i = index.get(low)
            if i is not None:
                out[i] = (out[i][0], e)
            elif low != self._st and not self._is_private(n):
                out.append((n, e))
        return out + self.tail

    def _closure(self, cluster: int, pad) -> tuple:
        """The projection expanded as putClassAd expands a whitelist (classad_oldnew.cpp:
        each projected attribute that is not a literal brings in the attributes of the ad it
        references, transitively, ``GetInternalReferences``), as a sorted tuple, and the
        names whose texts were looked at -> the references found in them.  Names absent
        from the ad may be in the tuple: nothing is sent for them."""
        cad = self.q.ads.get((cluster, -1))
        seen: dict = {}
        todo = list(self.proj)
        while todo:
            low = todo.pop()
            if low in seen:
                continue
            v = pad.get(low) if pad else None
            if v is None and cad:
                v = cad.get(low)
            refs = refs_of(v[1]) if v is not None else frozenset()
            seen[low] = refs
            todo.extend(refs)
        return tuple(sorted(seen)), seen

    def _expanded(self, cluster: int, pad) -> tuple:
        """Expanded projection for a job of ``cluster`` whose own attributes are ``pad``:
        the cluster's, unless the proc overrides a looked-at name with a text whose
        references differ."""
        cad = self.q.ads.get((cluster, -1))
        hit = self._proj_cluster.get(cluster)
        if hit is None or hit[0] is not cad:
            names, seen = self._closure(cluster, None)
            hit = self._proj_cluster[cluster] = (cad, names, seen)
        if pad:
            seen = hit[2]
            for low, (_n, text) in pad.items():
                refs = seen.get(low)
                if refs is not None and refs_of(text) != refs:
                    return self._closure(cluster, pad)[0]
        return hit[1]

    # -- wire bytes ----------------------------------------------------------------------
    def _proj_plan(self, cluster: int, crypto_mode: bool) -> tuple:
        """The projected layout of ``cluster``'s jobs, built once per cluster ad:
        ``(cluster Attrs, entries, seen, lines)`` where ``entries`` lists, in wire order,
        ``(low, cluster line bytes or None, spelling or None)`` for each name of the expanded
        projection (the cluster's spelling when it has the attribute; names never sent --
        private ones, a stored ServerTime -- left out), ``seen`` maps each looked-at name to
        the references of its cluster text, and ``lines`` is the cluster lines alone (what a
        proc overriding none of them sends), with ``memo`` for proc lines seen often."""
        hit = self._proj_lines.get((cluster, crypto_mode))
        if hit is not None and hit[0] is self.q.ads.get((cluster, -1)):
            return hit
        cad, base, index = self._base(cluster)
        names, seen = self._closure(cluster, None)
        entries = []
        for low in names:
            if low == self._st:
                continue
            i = index.get(low)
            if i is not None:
                name, text = base[i]
                entries.append((low, _line(name, text, crypto_mode), name))
            elif (cad is not None and low in cad) or self._is_private(low):
                continue  # private (names compare case-insensitively): never sent
            else:
                entries.append((low, None, None))
        lines = [e[1] for e in entries if e[1] is not None]
        hit = self._proj_lines[(cluster, crypto_mode)] = (cad, tuple(entries), seen, lines, {})
        return hit

    def _wire_projected(self, cluster: int, proc: int, crypto_mode: bool) -> bytes:
        """:meth:`wire` with a projection, straight from the stored texts: the lines of
        attributes taken from the cluster ad are encoded once per cluster, a proc's own ones
        each time (remembered while few: a queue's JobStatus texts are a handful), and the
        expanded projection is recomputed only for a proc that overrides a looked-at
        attribute with a text that may reference others (not a literal).  Same bytes as
        ``encode_lines(self.items(...))``."""
        cad, entries, seen, lines, memo = self._proj_plan(cluster, crypto_mode)
        pad = self.q.ads.get((cluster, proc)) if proc >= 0 else None
        if not pad:
            parts = lines
        else:
            for low, (_n, text) in pad.items():
                refs = seen.get(low)
                if refs is not None and (refs or not _is_literal(text)) and refs_of(text) != refs:
                    return self._wire_items(cluster, proc, crypto_mode)
            parts = []
            get = pad.get
            for low, line, name in entries:
                v = get(low)
                if v is None:
                    if line is not None:
                        parts.append(line)
                    continue
                if name is None:
                    name = v[0]
                mkey = (name, v[1])
                b = memo.get(mkey)
                if b is None:
                    b = _line(name, v[1], crypto_mode)
                    if len(memo) < 1024:
                        memo[mkey] = b
                parts.append(b)
        tail = self._tail_bytes[crypto_mode]
        return _INT8.pack(len(parts) + len(self.tail)) + b"".join(parts) + tail

    def _wire_items(self, cluster: int, proc: int, crypto_mode: bool) -> bytes:
        """:meth:`wire` through :meth:`items` (the general case)."""
        return encode_lines(self.items(cluster, proc), crypto_mode, True)

    def wire(self, cluster: int, proc: int, crypto_mode: bool) -> bytes:
        """putClassAd() bytes of job ``cluster.proc`` (with the MyType/TargetType strings),
        the same bytes :func:`pyhtc.cedar.wire_ad.put_ad` writes for :meth:`items`.

        The cluster's attribute lines are encoded once; for each set of attributes procs
        override, the cluster lines between them are joined once; a proc then costs the
        encoding of its own few lines (classad_oldnew.cpp putClassAd, PROTOCOL.md 3)."""
        if self.proj is not None:
            return self._wire_projected(cluster, proc, crypto_mode)
        cad, base, index = self._base(cluster)
        key = (cluster, crypto_mode)
        hit = self._wire.get(key)
        if hit is None or hit[0] is not cad:
            lines = [_line(n, e, crypto_mode) for n, e in base]
            hit = self._wire[key] = (cad, lines, {})
        lines, by_override, memo = hit[1], hit[2], self._line_memo[crypto_mode]
        pad = self.q.ads.get((cluster, proc)) if proc >= 0 else None
        over, extra = [], []
        if pad:
            private = self._private_low
            for low, (n, e) in pad.items():
                i = index.get(low)
                if i is not None:
                    over.append((i, e))
                    continue
                hidden = private.get(low)
                if hidden is None:
                    hidden = private[low] = low == self._st or self._is_private(low)
                if not hidden:
                    extra.append((n, e))
        over.sort()
        okey = tuple(i for i, _ in over)
        segs = by_override.get(okey)
        if segs is None:
            segs, start = [], 0
            for i in okey:
                segs.append(b"".join(lines[start:i]))
                start = i + 1
            segs.append(b"".join(lines[start:]))
            if len(by_override) > 64:
                by_override.clear()
            by_override[okey] = segs
        parts = [_INT8.pack(len(base) + len(extra) + len(self.tail)), segs[0]]
        for k, (i, e) in enumerate(over):
            parts.append(_memo_line(memo, base[i][0], e, crypto_mode))
            parts.append(segs[k + 1])
        for n, e in extra:
            parts.append(_memo_line(memo, n, e, crypto_mode))
        parts.append(self._tail_bytes[crypto_mode])
        return b"".join(parts)


#: texts that reference no attribute: numbers, strings without escapes, the keyword literals
_LITERAL_RE = re.compile(r'-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|"[^"\\]*"'
                         r'|(?i:true|false|undefined|error)')
_is_literal = _LITERAL_RE.fullmatch


def _memo_line(memo: dict, name: str, expr: str, crypto_mode: bool) -> bytes:
    """:func:`_line`, remembered in ``memo`` (up to 1024 lines: a queue's procs repeat a
    few texts such as ``JobStatus = 1``; unique ones such as ProcId fill it only once)."""
    b = memo.get((name, expr))
    if b is None:
        b = _line(name, expr, crypto_mode)
        if len(memo) < 1024:
            memo[(name, expr)] = b
    return b


def _line(name: str, expr: str, crypto_mode: bool) -> bytes:
    """One ``Name = expr`` CEDAR string as putClassAd sends it: NUL-terminated, and on an
    encrypted stream preceded by its length (8-byte int), as
    :func:`pyhtc.cedar.wire_ad.encode_lines` does."""
    raw = f"{name} = {expr}\0".encode("utf-8", "surrogateescape")
    if raw.count(b"\0") != 1:
        raise ValueError("CEDAR strings cannot contain NUL bytes")
    return _INT8.pack(len(raw)) + raw if crypto_mode else raw
