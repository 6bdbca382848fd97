"""Late materialization: the schedd's job factories (src/condor_schedd.V6/qmgmt_factory.cpp,
qmgmt.cpp JobMaterializeTimerCallback; manual "Late Materialization of Jobs").

A client submits a factory as a cluster ad plus ``SetJobFactory(cluster, num, filename,
digest)`` (and ``SendMaterializeData`` for item rows) instead of proc ads.  The schedd then
makes the procs itself, from the submit digest (submit-language text, expanded with
:mod:`pyhtc.submit` for each ProcId / item row / step), while:

- at most ``JobMaterializeLimit`` (max_materialize) procs of the cluster exist, and
- fewer than ``JobMaterializeMaxIdle`` (max_idle) of them are idle or held
  (``JobQueueCluster::getNumNotRunning`` = idle + held),

and materializes more as jobs leave the queue or stop being idle.  When every proc has been
made and the last one has left, the cluster ad goes and a ClusterRemove event is written.

Durability: the digest and item rows are in the queue database (``factories`` table, written
in the commit that creates the cluster); the counters ``JobMaterializeNextProcId`` and
``JobMaterializeNextRow`` are cluster-ad attributes updated in the same transaction as the
procs they account for, so a schedd killed at any moment neither repeats nor loses a proc.

Each materialized proc ad holds what differs from the cluster ad: ``ProcId``, ``JobStatus``,
``EnteredCurrentStatus``, ``JobMaterializeDate`` and every attribute whose value for this
proc differs from proc 0's (the cluster ad was built from proc 0 by the client).
"""
from __future__ import annotations

import os
import re
import time
from typing import Optional

from pyhtc.daemoncore.log import Category
from pyhtc.userlog import JobEventType, make_event

from .jobactions import user_log_path
from .jobads import parse_expr

__all__ = ["JobFactory", "FactoryManager", "FactoryError", "parse_item_rows", "digest_path", "items_path"]

#: digest keys the schedd must not re-run as a factory request
_FACTORY_KEYS = re.compile(r"^(max_materialize|max_idle|materialize_max_idle|JobMaterialize\w*|"
                           r"MY\.JobMaterialize\w*|\+JobMaterialize\w*)$", re.IGNORECASE)
_QUEUE_RE = re.compile(r"^\s*queue\b(.*)$", re.IGNORECASE)
_INT_MAX = 2 ** 31 - 1
_IDLE, _HELD = 1, 5
#: procs made per timer run and cluster: the daemon stays responsive (the rest comes next run)
_BATCH = 500
#: JobUniverse numbers -> submit universe names (condor_includes/condor_universe.h)
_UNIVERSES = {5: "vanilla", 7: "scheduler", 9: "grid", 10: "parallel", 11: "java", 12: "local", 13: "vm"}


class FactoryError(ValueError):
    """A submit digest or item data the schedd cannot use (message says what and where)."""


def digest_path(spool: str, cluster: int) -> str:
    """GetSpooledSubmitDigestPath: ``$(SPOOL)/<cluster % 10000>/condor_submit.<cluster>.digest``."""
    return os.path.join(spool, str(cluster % 10000), f"condor_submit.{cluster}.digest")


def items_path(spool: str, cluster: int) -> str:
    """GetSpooledMaterializeDataPath: ``$(SPOOL)/<cluster % 10000>/condor_submit.<cluster>.items``."""
    return os.path.join(spool, str(cluster % 10000), f"condor_submit.{cluster}.items")


def parse_item_rows(data: bytes) -> list[str]:
    """The item lines of SendMaterializeData's payload (one item per ``\\n``-terminated line;
    multi-variable items have their fields joined by the ASCII unit separator 0x1F,
    submit_protocol.cpp next_rowdata).  Raises FactoryError for bytes that are not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactoryError(f"item data is not UTF-8 at byte offset {exc.start}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def _split_row(line: str, nvars: int) -> list[str]:
    """One item line as ``nvars`` fields: split at 0x1F if present, else at commas/blanks
    (SubmitForeachArgs::split_item), the last field keeping the rest."""
    if "\x1f" in line:
        fields = line.split("\x1f")
    elif nvars > 1:
        fields = re.split(r"[\s,]+", line.strip(), maxsplit=nvars - 1)
    else:
        fields = [line.strip()]
    fields += [""] * (nvars - len(fields))
    return [f.strip() for f in fields[:nvars]]


class JobFactory:
    """One cluster's submit digest, ready to make job ads.

    ``digest``: the submit digest text (``key=value`` lines, then ``Queue [N] [vars] [from
    file]``); ``items``: item rows (lists of field strings) or None.  Raises FactoryError if
    the digest has no queue statement or does not parse as submit language.
    """

    def __init__(self, cluster: int, digest: str, items: Optional[list] = None):
        self.cluster = cluster
        self.digest = digest
        body, queue_line, iwd = [], None, None
        for n, line in enumerate(digest.split("\n"), 1):
            m = _QUEUE_RE.match(line)
            if m:
                queue_line = (n, m.group(1).strip())
                break
            key = line.split("=", 1)[0].strip()
            if key.lower() == "factory.iwd":
                iwd = line.split("=", 1)[1].strip() if "=" in line else None
                continue
            if key.lower().startswith("factory.") or _FACTORY_KEYS.match(key):
                continue
            body.append(line)
        if queue_line is None:
            raise FactoryError(f"submit digest of cluster {cluster} has no Queue statement")
        n, qargs = queue_line
        m = re.match(r"^(\d+)?\s*(.*?)\s*(?:\bfrom\b\s*(.*))?$", qargs, re.IGNORECASE)
        if m is None:
            raise FactoryError(f"submit digest of cluster {cluster}, line {n}: bad Queue statement: {qargs}")
        self.count = int(m.group(1)) if m.group(1) else 1
        self.vars = [v for v in re.split(r"[\s,]+", m.group(2)) if v] or ["Item"]
        self.items_file = (m.group(3) or "").strip() or None
        self.rows = [r if isinstance(r, list) else _split_row(r, len(self.vars)) for r in items] \
            if items is not None else None
        if self.items_file and self.rows is None:
            raise FactoryError(f"submit digest of cluster {cluster} reads items from "
                               f"{self.items_file} but no item data was sent")
        self.iwd = iwd
        self._text = "\n".join(body)
        # imported here: a schedd without factories starts without the submit language
        from pyhtc.submit import QueueError, Submit, SubmitError, SubmitSyntaxError
        self._errors = (SubmitSyntaxError, QueueError, SubmitError)
        try:
            Submit(self._text)
        except self._errors as exc:
            raise FactoryError(f"submit digest of cluster {cluster}: {exc}") from None
        self.submit = None
        self._proc0: Optional[dict] = None

    def bind(self, lookup) -> None:
        """Complete the digest with what it leaves to the cluster ad (``lookup(name)`` gives
        the cluster ad's expression text or None): the digest keeps only commands that vary
        per proc, so ``executable`` (Cmd), ``universe`` (JobUniverse) and ``initialdir``
        (FACTORY.Iwd) come from there when the digest does not set them."""
        text = self._text

        def has(*keys):
            return re.search(r"(?im)^\s*(%s)\s*=" % "|".join(keys), text) is not None
        extra = []
        if self.iwd and not has("initialdir", "initial_dir", "iwd", "job_iwd"):
            extra.append(f"initialdir={self.iwd}")
        cmd = lookup("Cmd")
        if cmd and not has("executable"):
            extra.append(f"executable={cmd.strip().strip(chr(34))}")
        uni = _UNIVERSES.get(_int(lookup("JobUniverse"), 5))
        if uni and not has("universe"):
            extra.append(f"universe={uni}")
        from pyhtc.submit import Submit
        self.submit = Submit("\n".join(extra + [text]))

    @property
    def total_procs(self) -> int:
        """How many procs the factory makes in all (TotalSubmitProcs)."""
        return self.count * (len(self.rows) if self.rows is not None else 1)

    def row_step(self, proc: int) -> tuple[int, int]:
        """``(item row, step)`` of proc id ``proc`` (no slice: procs run row by row)."""
        if self.rows is None:
            return 0, proc
        return proc // self.count, proc % self.count

    def full_ad(self, proc: int, qdate: int) -> dict[str, str]:
        """The job ad of ``proc`` as the digest alone makes it (``{name: expr text}``).
        Raises FactoryError when the digest cannot make it."""
        row, step = self.row_step(proc)
        sub = self.submit
        if sub is None:
            raise FactoryError(f"job factory of cluster {self.cluster} is not bound to its cluster ad")
        sub["Step"] = str(step)
        sub["ItemIndex"] = str(row)
        sub["Row"] = str(row)
        try:
            if self.rows is not None:
                data = [dict(zip(self.vars, self.rows[row]))]
                ads = list(sub.jobs(count=1, itemdata=data, clusterid=self.cluster, procid=proc, qdate=qdate))
            else:
                ads = list(sub.jobs(count=1, clusterid=self.cluster, procid=proc, qdate=qdate))
        except self._errors + (OSError,) as exc:
            msg = re.sub(r"^line \d+: ", "", str(exc))  # the digest has no file name to cite
            raise FactoryError(f"failed to create ClassAd for Job {self.cluster}.{proc} : {msg}") from None
        return ads[0]

    def proc_ad(self, proc: int, qdate: int, now: int) -> dict[str, str]:
        """The attributes to store for a new proc: what differs from proc 0, plus ProcId,
        JobStatus, EnteredCurrentStatus and JobMaterializeDate."""
        if self._proc0 is None:
            self._proc0 = self.full_ad(0, qdate)
        ad = self.full_ad(proc, qdate)
        out = {"ProcId": str(proc), "JobStatus": ad.get("JobStatus", "1"),
               "EnteredCurrentStatus": str(now), "JobMaterializeDate": str(now)}
        base = self._proc0
        for k, v in ad.items():
            if k not in out and base.get(k) != v:
                out[k] = v
        return out


def _int(text: Optional[str], default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


class FactoryManager:
    """All job factories of a schedd: loads them from the queue database, materializes procs
    when a factory's cluster changes, removes finished clusters.  ``schedd`` is the
    :class:`~.daemon.Schedd` (its ``queue``, ``dc``, ``dprintf``, ``write_events``)."""

    def __init__(self, schedd):
        self.s = schedd
        self.q = schedd.queue
        self.factories: dict[int, JobFactory] = {}
        self._pending: set[int] = set()
        #: clusters removed by ACT_ON_JOBS: no more procs; the cluster goes with its last proc
        self.removed: set[int] = set()
        self._timer: Optional[int] = None
        self._busy = False
        stale = []
        for c, digest, items in self.q.db.factories():
            if (c, -1) not in self.q.ads:
                stale.append(c)
                continue
            try:
                self.factories[c] = JobFactory(c, digest, items)
            except FactoryError as exc:
                self.s.dprintf(Category.ALWAYS, f"ERROR: job factory of cluster {c} cannot be loaded: {exc}")
                continue
            self.q.keep_clusters.add(c)
        if stale:
            self.q.db.commit(drop_factories=stale)
        self.q.listeners.append(self._changed)
        self._pending |= set(self.factories)
        self._schedule()

    # -- hooks ---------------------------------------------------------------------------
    def submitted(self, factories: dict[int, JobFactory]) -> None:
        """Factories committed by a client (after the commit): start them."""
        for c, f in factories.items():
            self.factories[c] = f
            self.q.keep_clusters.add(c)
            self._pending.add(c)
        self._schedule()

    def cluster_removed(self, c: int) -> None:
        """A factory cluster was removed (condor_rm of the cluster; schedd.cpp actOnJobs:
        PauseJobFactory(mmClusterRemoved) and ScheduleClusterForDeferredCleanup): it makes no
        more procs, and the cluster ad and factory go once its procs have left."""
        if c in self.factories:
            self.removed.add(c)
            self._pending.add(c)
            self._schedule()

    def _changed(self, clusters: set[int]) -> None:
        if self._busy:
            return
        hit = clusters & self.factories.keys()
        if hit:
            self._pending |= hit
            self._schedule()

    def _schedule(self) -> None:
        if self._pending and self._timer is None:
            self._timer = self.s.dc.register_timer(0, self.run, name="materialize jobs")

    # -- work ----------------------------------------------------------------------------
    def run(self) -> None:
        """The JobMaterializeTimerCallback: service every cluster that changed."""
        self._timer = None
        pending, self._pending = self._pending, set()
        for c in sorted(pending):
            try:
                self.service(c)
            except Exception as exc:  # one bad factory must not stop the others or the schedd
                self.s.dprintf(Category.ALWAYS, f"ERROR: materializing jobs of cluster {c}: {exc!r}")

    def service(self, c: int) -> int:
        """Materialize what the limits allow for cluster ``c``, or remove the cluster when its
        factory is done and no proc is left.  Returns the number of procs made."""
        f = self.factories.get(c)
        cad = self.q.ads.get((c, -1))
        if f is None:
            return 0
        if cad is None:  # the cluster went (e.g. DestroyCluster); forget the factory
            self._forget(c)
            return 0
        look = lambda name, d: _int(cad.get(name.lower(), (None, None))[1], d)  # noqa: E731
        next_proc = look("JobMaterializeNextProcId", 0)
        total = f.total_procs
        procs = self.q.procs_of.get(c, [])
        if c in self.removed:
            if not procs:
                self._remove_cluster(c, next_proc, completion=0, notes="Cluster removed by user")
            return 0
        if next_proc >= total:
            if not procs:
                self._remove_cluster(c, next_proc)
            return 0
        if look("JobMaterializePaused", 0) != 0:
            return 0
        if f.submit is None:
            f.bind(lambda name: self.q.lookup(c, -1, name))
        limit = look("JobMaterializeLimit", _INT_MAX)
        if limit <= 0:
            limit = _INT_MAX
        # the schedd's own caps (schedd.cpp: MAX_MATERIALIZED_JOBS_PER_CLUSTER, MAX_JOBS_PER_SUBMISSION)
        limit = min(limit, self.s.param_integer("MAX_MATERIALIZED_JOBS_PER_CLUSTER", _INT_MAX) or _INT_MAX,
                    self.s.max_jobs_per_submission or _INT_MAX)
        max_idle = self._max_idle(c)
        not_running = 0
        for p in procs:
            st = _int(self.q.lookup(c, p, "JobStatus"), 0)
            if st in (_IDLE, _HELD):
                not_running += 1
        tx = self.q.begin(None)
        now = int(time.time())
        qdate = look("QDate", now)
        made = []
        try:
            while len(made) < _BATCH and next_proc < total and len(procs) + len(made) < limit and \
                    (max_idle < 0 or not_running + len(made) < max_idle):
                attrs = f.proc_ad(next_proc, qdate, now)
                p = tx.new_proc(c, next_proc)
                for k, v in attrs.items():
                    tx.set_attribute(c, p, k, v)
                made.append(p)
                next_proc += 1
        except FactoryError as exc:
            # qmgmt_factory.cpp / schedd.cpp setJobFactoryPauseAndLog(mmHold, Unspecified): the
            # factory stops with a one-line reason and a FactoryPaused event
            reason = re.sub(r"[\r\n]", " ", str(exc))
            tx.set_attribute(c, -1, "JobMaterializePaused", "1")
            tx.set_attribute(c, -1, "JobMaterializePauseReason", '"%s"' % reason.replace('"', "'"))
            self.s.dprintf(Category.ALWAYS, f"ERROR: {reason}; job factory of cluster {c} paused")
            paused = reason
        else:
            paused = None
        if made:
            tx.set_attribute(c, -1, "JobMaterializeNextProcId", str(next_proc))
            if f.rows is not None:
                row = f.row_step(next_proc)[0] if next_proc < total else -1
                tx.set_attribute(c, -1, "JobMaterializeNextRow", str(row))
        events = []
        for p in made:
            path = user_log_path(tx, c, p)
            if path:
                events.append((path, make_event(JobEventType.SUBMIT, c, p, 0, when=now,
                                                SubmitHost=self.s.sinful)))
        if paused is not None:
            path = user_log_path(tx, c, -1)
            if path:
                events.append((path, make_event(JobEventType.FACTORY_PAUSED, c, -1, 0, when=now,
                                                Reason=paused, PauseCode=1, HoldCode=0)))
        changed = bool(tx.staged)
        self._busy = True
        try:
            tx.commit()
        finally:
            self._busy = False
        if made:
            self.s.dprintf(Category.ALWAYS, f"Materialized {len(made)} job(s) of cluster {c}: "
                                            f"procs {made[0]}..{made[-1]} of {total}")
        self.s.write_events(events)
        if changed:
            self.s.queue_changed()
        if next_proc >= total and not self.q.procs_of.get(c):
            self._remove_cluster(c, next_proc)
        elif len(made) == _BATCH:
            self._pending.add(c)
            self._schedule()
        return len(made)

    def _max_idle(self, c: int) -> int:
        """JobMaterializeMaxIdle of the cluster evaluated to an integer; -1 when not set."""
        text = self.q.lookup(c, -1, "JobMaterializeMaxIdle")
        if text is None:
            return -1
        try:
            v = parse_expr(text).eval(None)
        except Exception:
            return -1
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return -1
        return int(v)

    def _remove_cluster(self, c: int, next_proc: int, completion: int = 1,
                        notes: str = "Cluster removed") -> None:
        """The factory is done (or was removed) and no proc is left: the cluster ad and the
        factory go; a ClusterRemove event goes to the cluster's user log (``completion``:
        1 complete, 0 incomplete -- schedd.cpp ClusterRemoveEvent CompletionCode)."""
        tx = self.q.begin(None)
        path = user_log_path(tx, c, -1)
        cad = self.q.ads.get((c, -1))
        next_row = _int(cad.get("jobmaterializenextrow", (None, None))[1], -1) if cad else -1
        self.q.keep_clusters.discard(c)
        tx.destroy_cluster(c)
        tx.drop_factories.add(c)
        self._busy = True
        try:
            tx.commit()
        finally:
            self._busy = False
        self.factories.pop(c, None)
        self.removed.discard(c)
        self._remove_spool_files(c)
        self.s.dprintf(Category.ALWAYS, f"Job factory of cluster {c} is "
                                        f"{'complete' if completion == 1 else 'removed'}; cluster removed")
        if path:
            self.s.write_events([(path, make_event(JobEventType.CLUSTER_REMOVE, c, -1, 0,
                                                   NextProcId=next_proc, NextRow=next_row,
                                                   Completion=completion, Notes=notes))])
        self.s.queue_changed()

    def _forget(self, c: int) -> None:
        self.factories.pop(c, None)
        self.removed.discard(c)
        self.q.keep_clusters.discard(c)
        self.q.db.commit(drop_factories=[c])
        self._remove_spool_files(c)

    def _remove_spool_files(self, c: int) -> None:
        spool = getattr(self.s, "spool", None)
        if not spool:
            return
        for path in (digest_path(spool, c), items_path(spool, c)):
            try:
                os.unlink(path)
            except OSError:
                pass
