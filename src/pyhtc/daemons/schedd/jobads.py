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
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import WireAd
from pyhtc.classad.oldsyntax import convert_escaping

__all__ = ["parse_expr", "is_true", "AdCache", "wire_ad", "job_status"]


@functools.lru_cache(maxsize=65536)
def parse_expr(text: str) -> C.ExprTree:
    """The ExprTree of an old-syntax expression text (cached; ExprTrees are immutable).

    Raises :class:`pyhtc.classad.ClassAdParseError` (a SyntaxError) if ``text`` is not a
    valid expression."""
    return C.ExprTree(convert_escaping(text))


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


class AdCache:
    """ClassAds of the jobs of a :class:`~.queue.JobQueue`, rebuilt only when changed.

    ``get(cluster, proc)`` returns the full job ad (cluster attributes overlaid with the
    proc's); the returned ClassAd must not be modified by the caller.  Attributes whose text
    does not parse are left out (and counted in ``bad_exprs``).
    """

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
        ad = C.ClassAd()
        if src:
            self._fill(ad, src)
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
        ad = C.ClassAd(self.cluster_ad(cluster))
        self._fill(ad, src)
        self._jobs[(cluster, proc)] = (src, csrc, ad)
        return ad

    def prune(self) -> None:
        """Forget ads of jobs no longer in the queue."""
        for key in [k for k in self._jobs if k not in self.q.ads]:
            del self._jobs[key]
        for c in [c for c in self._clusters if (c, -1) not in self.q.ads]:
            del self._clusters[c]
