"""The job queue in memory, with client transactions persisted through :class:`JobQueueDB`.

Semantics from src/condor_schedd.V6/qmgmt.cpp:

- a cluster ad (proc -1) holds what all its procs share; a proc ad holds what differs and
  falls back to its cluster ad for everything else;
- a client's changes (NewCluster, NewProc, SetAttribute, DeleteAttribute, DestroyProc, ...)
  are staged in a :class:`Transaction` and become visible and durable together at commit; a
  connection that goes away without committing leaves nothing behind;
- attribute names are case-insensitive; the spelling first set is kept.
"""
from __future__ import annotations

import sys
import time
from json.encoder import encode_basestring_ascii as _json_str
from typing import Iterator, Optional

from .queue_db import JobQueueDB, attrs_json

__all__ = ["JobQueue", "Transaction", "QueueError"]


class QueueError(Exception):
    """A queue operation that cannot be done (unknown cluster or proc, ...).

    ``errno`` is the errno-style code HTCondor's QMGMT replies carry (ENOENT, EINVAL, EACCES).
    """

    def __init__(self, message: str, errno: int = 2):
        super().__init__(message)
        self.errno = errno


_intern = sys.intern


class Attrs(dict):
    """Attributes of one ad: lower-cased name -> (name as first spelled, expression text)."""

    def to_json(self) -> dict:
        """``{name: expression text}`` in insertion order, for storage."""
        return {n: e for n, e in self.values()}

    def json_text(self) -> str:
        """:meth:`to_json` as the compact JSON text :class:`JobQueueDB` stores
        (:func:`~.queue_db.attrs_json`), made without the intermediate dict."""
        try:
            return "{" + ",".join([_json_str(n) + ":" + _json_str(e) for n, e in self.values()]) + "}"
        except TypeError:
            return attrs_json(self.to_json())

    @classmethod
    def from_json(cls, d: dict) -> "Attrs":
        a = cls()
        for n, e in d.items():
            a[_intern(n.lower())] = (_intern(n), e)
        return a

    def set(self, name: str, expr: str) -> None:
        """Set ``name`` to the expression text ``expr`` (keeping an existing spelling).
        Names are interned: 100,000 proc ads share one copy of each."""
        low = name.lower()
        old = self.get(low)
        self[_intern(low)] = (old[0] if old else _intern(name), expr)


class JobQueue:
    """All jobs of one schedd: committed state in memory, persisted in ``db``.

    ``ads`` maps ``(cluster, proc)`` to :class:`Attrs` (proc -1 for cluster ads).
    ``version`` increases on every commit (for caches of derived data).
    ``keep_clusters``: clusters whose cluster ad stays when their last proc leaves (a late
    materialization factory that will make more procs; qmgmt.cpp keeps such a cluster until
    JobFactoryAllowsClusterRemoval).  ``listeners``: callables called after every commit
    with the set of cluster ids the commit touched.
    """

    def __init__(self, db: JobQueueDB):
        self.db = db
        self.ads: dict[tuple, Attrs] = {}
        self.procs_of: dict[int, list[int]] = {}
        self.version = 0
        self.keep_clusters: set[int] = set()
        self.listeners: list = []
        self._count = (-1, 0)  # (version, job count)
        for c, p, d in db.load():
            self.ads[(c, p)] = Attrs.from_json(d)
            if p >= 0:
                self.procs_of.setdefault(c, []).append(p)
            else:
                self.procs_of.setdefault(c, [])

    # -- reading -----------------------------------------------------------------------
    def clusters(self) -> list[int]:
        """Cluster ids present, ascending."""
        return sorted(self.procs_of)

    def jobs(self) -> Iterator[tuple[int, int]]:
        """Every ``(cluster, proc)`` job id, in order."""
        for c in sorted(self.procs_of):
            for p in self.procs_of[c]:
                yield (c, p)

    def job_count(self) -> int:
        """Number of procs in the queue (counted once per :attr:`version`: NewProc asks for
        it per proc)."""
        if self._count[0] != self.version:
            self._count = (self.version, sum(len(v) for v in self.procs_of.values()))
        return self._count[1]

    def lookup(self, cluster: int, proc: int, name: str) -> Optional[str]:
        """Expression text of ``name`` for a job (falling back to its cluster ad), or None."""
        low = name.lower()
        ad = self.ads.get((cluster, proc))
        if ad is not None:
            v = ad.get(low)
            if v is not None:
                return v[1]
        if proc >= 0:
            cad = self.ads.get((cluster, -1))
            if cad is not None:
                v = cad.get(low)
                if v is not None:
                    return v[1]
        return None

    def job_attrs(self, cluster: int, proc: int) -> dict:
        """``{name: expr text}`` of a job: its cluster's attributes overlaid with its own."""
        out = {}
        cad = self.ads.get((cluster, -1))
        if cad:
            out.update(cad.to_json())
        pad = self.ads.get((cluster, proc))
        if pad:
            for low, (n, e) in pad.items():
                if cad and low in cad:
                    n = cad[low][0]  # one spelling per job: the cluster's
                out[n] = e
        return out

    # -- transactions ------------------------------------------------------------------
    def begin(self, owner: Optional[str] = None) -> "Transaction":
        """A new client transaction (``owner`` is the authenticated user, for records)."""
        return Transaction(self, owner)

    def _apply(self, staged: dict, destroyed: set, history: list, factories=(), drop_factories=()) -> None:
        upserts = ((c, p, a.json_text()) for (c, p), a in staged.items()) if staged else ()  # streamed
        self.db.commit(upserts, sorted(destroyed), history, factories, drop_factories)
        # proc lists change per cluster in one step (a 100,000-proc commit stays linear)
        added: dict[int, list[int]] = {}
        for key, a in staged.items():
            c, p = key
            if p >= 0 and key not in self.ads:
                added.setdefault(c, []).append(p)
            elif p < 0:
                self.procs_of.setdefault(c, [])
            self.ads[key] = a
        for c, new in added.items():
            new.sort()
            procs = self.procs_of.setdefault(c, [])
            if procs and new[0] <= procs[-1]:
                procs[:] = sorted(set(procs).union(new))
            else:
                procs.extend(new)
        gone: dict[int, set] = {}
        for key in destroyed:
            self.ads.pop(key, None)
            c, p = key
            if p >= 0:
                gone.setdefault(c, set()).add(p)
        for c, ps in gone.items():
            if c in self.procs_of:
                self.procs_of[c] = [p for p in self.procs_of[c] if p not in ps]
        for c, p in destroyed:
            if p < 0:
                self.procs_of.pop(c, None)
        self.version += 1
        if self.listeners:
            touched = {k[0] for k in staged} | {k[0] for k in destroyed}
            for fn in list(self.listeners):
                fn(touched)

    def remove_to_history(self, jobs: list[tuple[int, int]], when: Optional[int] = None) -> None:
        """Move ``jobs`` out of the queue into history in one transaction (full job ads);
        a cluster ad whose last proc leaves goes too."""
        when = int(time.time()) if when is None else when
        history = [(c, p, when, self.job_attrs(c, p)) for c, p in jobs]
        destroyed = set(jobs)
        left = {}
        for c, p in jobs:
            left.setdefault(c, set(self.procs_of.get(c, ()))).discard(p)
        for c, rest in left.items():
            if not rest and c not in self.keep_clusters:
                destroyed.add((c, -1))
        self._apply({}, destroyed, history)


class Transaction:
    """One client's staged changes (QMGMT's implicit transaction).

    Reads through the transaction see its own uncommitted changes. :meth:`commit` makes them
    durable and visible at once; :meth:`abort` (or dropping the object) discards them.
    Raises :class:`QueueError` for operations on jobs that do not exist.
    """

    def __init__(self, queue: JobQueue, owner: Optional[str]):
        self.q = queue
        self.owner = owner
        self.staged: dict[tuple, Attrs] = {}
        self.destroyed: set = set()
        self.new_clusters: set[int] = set()
        self.next_proc: dict[int, int] = {}
        self.history: list[tuple[int, int, int, dict]] = []
        self._alive: dict[int, int] = {}
        #: late materialization: cluster -> (submit digest, item rows or None) (SetJobFactory)
        self.factories: dict[int, tuple[str, Optional[list]]] = {}
        #: clusters whose stored factory goes at commit
        self.drop_factories: set[int] = set()

    def new_cluster(self) -> int:
        """Allocate a cluster id (durably: it is never handed out again)."""
        cid = self.q.db.allocate_cluster_id()
        self.new_clusters.add(cid)
        self.staged[(cid, -1)] = Attrs()
        self.next_proc[cid] = 0
        return cid

    def new_proc(self, cluster: int, proc_id: Optional[int] = None) -> int:
        """Add the next proc to ``cluster`` (a cluster created in this transaction, or an
        existing one); returns the proc id.  ``proc_id`` forces the id (a job factory's
        JobMaterializeNextProcId); raises QueueError if that job exists."""
        if proc_id is not None:
            if self.exists(cluster, proc_id):
                raise QueueError(f"job {cluster}.{proc_id} already exists", 17)
            self.staged[(cluster, proc_id)] = Attrs()
            self.next_proc[cluster] = max(self.next_proc.get(cluster, 0), proc_id + 1)
            return proc_id
        if cluster not in self.next_proc:
            if cluster not in self.q.procs_of:
                raise QueueError(f"cluster {cluster} does not exist")
            procs = self.q.procs_of[cluster]
            self.next_proc[cluster] = (max(procs) + 1) if procs else 0
        pid = self.next_proc[cluster]
        self.next_proc[cluster] = pid + 1
        self.staged[(cluster, pid)] = Attrs()
        return pid

    def _ad(self, cluster: int, proc: int, for_write: bool) -> Attrs:
        key = (cluster, proc)
        if key in self.destroyed:
            raise QueueError(f"job {cluster}.{proc} does not exist")
        ad = self.staged.get(key)
        if ad is not None:
            return ad
        base = self.q.ads.get(key)
        if base is None:
            raise QueueError(f"job {cluster}.{proc} does not exist")
        if not for_write:
            return base
        ad = Attrs(base)
        self.staged[key] = ad
        return ad

    def exists(self, cluster: int, proc: int) -> bool:
        """Whether the ad exists as this transaction sees it."""
        key = (cluster, proc)
        return key not in self.destroyed and (key in self.staged or key in self.q.ads)

    def set_attribute(self, cluster: int, proc: int, name: str, expr: str) -> None:
        """Set ``name`` to expression text ``expr`` on a cluster (proc -1) or proc ad."""
        self._ad(cluster, proc, True).set(name, expr)

    def delete_attribute(self, cluster: int, proc: int, name: str) -> bool:
        """Remove ``name`` from an ad; False if it was not set there."""
        ad = self._ad(cluster, proc, True)
        return ad.pop(name.lower(), None) is not None

    def get_attribute(self, cluster: int, proc: int, name: str) -> Optional[str]:
        """Expression text of ``name`` as this transaction sees it (procs fall back to their
        cluster ad); None when not set.  Raises QueueError for a job that does not exist."""
        low = name.lower()
        key = (cluster, proc)
        destroyed = self.destroyed
        ad = self.staged.get(key)
        if ad is None or (destroyed and key in destroyed):
            ad = self._ad(cluster, proc, False)  # committed, or raises
        v = ad.get(low)
        if v is None and proc >= 0:
            key = (cluster, -1)
            cad = self.staged.get(key)
            if cad is None or (destroyed and key in destroyed):
                cad = self.q.ads.get(key) if not (destroyed and key in destroyed) else None
            if cad is not None:
                v = cad.get(low)
        return None if v is None else v[1]

    def destroy_proc(self, cluster: int, proc: int) -> None:
        """Remove a proc (used when a submit is abandoned)."""
        self._ad(cluster, proc, False)
        self.staged.pop((cluster, proc), None)
        if (cluster, proc) in self.q.ads:
            self.destroyed.add((cluster, proc))

    def destroy_cluster(self, cluster: int) -> None:
        """Remove a cluster and all its procs."""
        for key in [k for k in self.staged if k[0] == cluster]:
            del self.staged[key]
        for p in self.q.procs_of.get(cluster, ()):
            self.destroyed.add((cluster, p))
        if (cluster, -1) in self.q.ads:
            self.destroyed.add((cluster, -1))
        self.next_proc.pop(cluster, None)
        if self.factories.pop(cluster, None) is None and cluster in self.q.keep_clusters:
            self.drop_factories.add(cluster)

    def job_attrs(self, cluster: int, proc: int) -> dict:
        """``{name: expr text}`` of a job as this transaction sees it (cluster attributes
        overlaid with the proc's, one spelling per name: the cluster's)."""
        out = {}
        cad = self._ad(cluster, -1, False) if self.exists(cluster, -1) else None
        if cad:
            out.update(cad.to_json())
        if proc >= 0:
            for low, (n, e) in self._ad(cluster, proc, False).items():
                if cad and low in cad:
                    n = cad[low][0]
                out[n] = e
        return out

    def procs(self, cluster: int) -> list[int]:
        """Proc ids of ``cluster`` as this transaction sees them, ascending."""
        ids = {p for p in self.q.procs_of.get(cluster, ())}
        ids |= {k[1] for k in self.staged if k[0] == cluster and k[1] >= 0}
        return sorted(p for p in ids if (cluster, p) not in self.destroyed)

    def retire(self, cluster: int, proc: int, when: Optional[int] = None) -> None:
        """Move a committed job out of the queue into history at commit (its full ad as
        this transaction sees it); the cluster ad goes too when its last proc leaves."""
        when = int(time.time()) if when is None else when
        self.history.append((cluster, proc, when, self.job_attrs(cluster, proc)))
        self.destroy_proc(cluster, proc)
        if cluster in self.new_clusters:
            return
        # committed procs of the cluster still alive in this transaction (kept as a count:
        # retiring a whole large cluster must stay linear)
        alive = self._alive.get(cluster)
        if alive is None:
            alive = sum(1 for p in self.q.procs_of.get(cluster, ())
                        if (cluster, p) not in self.destroyed)
        else:
            alive -= 1
        self._alive[cluster] = alive
        if alive <= 0 and cluster not in self.q.keep_clusters and \
                not any(k[0] == cluster and k[1] >= 0 for k in self.staged):
            self.staged.pop((cluster, -1), None)
            if (cluster, -1) in self.q.ads:
                self.destroyed.add((cluster, -1))

    def new_procs(self) -> list[tuple[int, int]]:
        """Job ids created in this transaction (NewProc), in order."""
        return sorted(k for k in self.staged if k[1] >= 0 and k not in self.q.ads)

    def commit(self) -> None:
        """Make every staged change durable and visible, atomically. A cluster created here
        with no procs is dropped (as HTCondor drops empty clusters), unless it has a job
        factory (late materialization)."""
        staged = dict(self.staged)
        for cid in self.new_clusters:
            if cid not in self.factories and not any(k[0] == cid and k[1] >= 0 for k in staged):
                staged.pop((cid, -1), None)
        factories = [(c, d, i) for c, (d, i) in self.factories.items()]
        self.q._apply(staged, self.destroyed, self.history, factories, sorted(self.drop_factories))
        self.abort()

    def abort(self) -> None:
        """Discard staged changes."""
        self.staged = {}
        self.destroyed = set()
        self.new_clusters = set()
        self.next_proc = {}
        self.history = []
        self._alive = {}
        self.factories = {}
        self.drop_factories = set()
