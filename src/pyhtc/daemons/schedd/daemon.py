"""``condor_schedd``: the job queue daemon (src/condor_schedd.V6/schedd.cpp, qmgmt.cpp).

Holds the durable job queue in ``$(SPOOL)/job_queue.db`` and serves:

- QMGMT_WRITE_CMD / QMGMT_READ_CMD (1112/1111): submit and edit (:mod:`.qmgmt`);
- QUERY_JOB_ADS / QUERY_JOB_ADS_WITH_AUTH (516/519): ``Schedd.query()`` (:mod:`.commands`);
- ACT_ON_JOBS (478): hold, release, remove, remove-x, vacate, suspend, continue;
- QUERY_SCHEDD_HISTORY (515): ``Schedd.history()``;
- RESCHEDULE (421): the ads are re-sent and RESCHEDULE goes on to the negotiator;
- NEGOTIATE (416): the schedd's side of matchmaking (:mod:`.negotiation`); matches are
  claimed and run by condor_shadow processes (:mod:`.shadows`).

Late materialization (:mod:`.factory`): a cluster submitted with SetJobFactory keeps its
submit digest in the queue database and the schedd makes its procs as max_idle /
max_materialize allow (SCHEDD_ALLOW_LATE_MATERIALIZE, MAX_MATERIALIZED_JOBS_PER_CLUSTER).

Timers: the periodic job policy every ``PERIODIC_EXPR_INTERVAL`` seconds (:mod:`.policy`),
the Scheduler and Submitter ads to ``COLLECTOR_HOST`` every ``SCHEDD_INTERVAL`` seconds
and soon after any queue change.

Configuration used: SPOOL, UID_DOMAIN, QUEUE_SUPER_USERS (default ``root, condor``),
QUEUE_ALL_USERS_TRUSTED, CONDOR_Q_ONLY_MY_JOBS, (SYSTEM_)IMMUTABLE/PROTECTED/SECURE_JOB_ATTRS,
MAX_JOBS_SUBMITTED, MAX_JOBS_PER_OWNER, MAX_JOBS_PER_SUBMISSION, SUBMIT_REQUIREMENT_NAMES
(+ SUBMIT_REQUIREMENT_<name>[_REASON, _IS_WARNING]), SYSTEM_MAX_RELEASES, MAX_HISTORY_LOG,
MAX_HISTORY_ROTATIONS, QUEUE_CLEAN_INTERVAL, PERIODIC_EXPR_INTERVAL,
SYSTEM_PERIODIC_HOLD/RELEASE/REMOVE (+ _REASON, _SUBCODE), SCHEDD_INTERVAL,
SCHEDD_ALLOW_ROOT_OWNER (pyhtc: HTCondor refuses jobs owned by root; default true here).
Deviation: SYSTEM_PROTECTED_JOB_ATTRS defaults to ``JobStatus`` (HTCondor: empty), so only a
queue super user may set a committed job's JobStatus directly; users change it through
ACT_ON_JOBS (hold, release, remove).
"""
from __future__ import annotations

import os
import re
import socket
import sqlite3
import sys
import time
from typing import Optional

from pyhtc.cedar.commands import Command
from pyhtc.config import ConfigError
from pyhtc.daemoncore.daemon import Daemon
from pyhtc.daemoncore.log import Category
from pyhtc.userlog import JobEventType, UserLog, make_event

from . import commands as cmds
from .advertise import Advertiser, build_ads
from .factory import FactoryManager, digest_path, items_path
from .jobactions import quote, unquote, user_log_path
from .jobads import AdCache, parse_expr
from .policy import PeriodicPolicy
from .qmgmt import QmgmtError, QmgmtSession
from .shadows import JobRunner
from .negotiation import negotiate
from .queue import JobQueue
from .queue_db import JobQueueDB
from .recovery import QueueLock, QueueLockBusy

__all__ = ["Schedd", "main", "QUERY_SCHEDD_HISTORY"]

#: QUERY_SCHEDD_HISTORY = SCHED_VERS + 115 (src/condor_includes/condor_commands.h)
QUERY_SCHEDD_HISTORY = 515

_SYSTEM_IMMUTABLE = "Owner ClusterId JobUniverse ProcId MyType TargetType User OsUser"
_SYSTEM_SECURE = ("x509userProxySubject x509UserProxyEmail x509UserProxyVOName "
                  "x509UserProxyFirstFQAN x509UserProxyFQAN TotalSubmitProcs AuthTokenSubject "
                  "AuthTokenIssuer AuthTokenGroups AuthTokenId AuthTokenScopes AuthTokenProject OsUser")


def _scopes(text: str) -> str:
    """Submit requirements name the job ``JOB`` and the schedd ``SCHEDD``: map them to the
    TARGET and MY scopes of the evaluation."""
    return re.sub(r"\bSCHEDD\.", "MY.", re.sub(r"\bJOB\.", "TARGET.", text, flags=re.I), flags=re.I)


def _names(text: Optional[str]) -> set[str]:
    return {n.lower() for n in (text or "").replace(",", " ").split()}


class Schedd(Daemon):
    """The schedd daemon: a :class:`JobQueue` plus its commands, policy and ads."""

    subsystem = "SCHEDD"
    ad_type = "Scheduler"

    # -- life ------------------------------------------------------------------------
    def main_init(self) -> None:
        spool = self.param("SPOOL") or os.path.join(self.param("LOCAL_DIR") or ".", "spool")
        os.makedirs(spool, exist_ok=True)
        self.spool = spool
        self.queue_path = os.path.join(spool, "job_queue.db")
        # one schedd per queue (recovery.py): wait for one that is still exiting, else fail
        self.queue_lock = QueueLock(self.queue_path + ".lock")
        try:
            self.queue_lock.acquire(self.param_integer("SCHEDD_QUEUE_LOCK_TIMEOUT", 15, min_value=0))
        except (QueueLockBusy, OSError) as exc:
            self.dprintf(Category.ERROR, f"ERROR: cannot lock the job queue {self.queue_path}: {exc}")
            self.shutdown_done(1)
            return
        self.dc.add_shutdown_hook(self.queue_lock.release)
        try:
            self.queue = JobQueue(JobQueueDB(self.queue_path))
        except (sqlite3.Error, ValueError) as exc:
            self.dprintf(Category.ERROR, f"ERROR: cannot open the job queue {self.queue_path}: {exc}")
            self.shutdown_done(1)
            return
        self.ads = AdCache(self.queue)
        self.dc.add_shutdown_hook(self.queue.db.close)
        self._timers: list[int] = []
        self.main_config()
        self.factories = FactoryManager(self)   # before the cleanup: factory clusters stay
        self._cleanup_at_startup()
        self.advertiser = Advertiser(self)
        self.policy = PeriodicPolicy(self)
        self.runner = JobRunner(self)
        self.register_command(Command.NEGOTIATE, "NEGOTIATE", self._negotiate, "NEGOTIATOR")
        self.register_command(Command.QMGMT_WRITE_CMD, "QMGMT_WRITE_CMD", self._qmgmt(False), "WRITE")
        self.register_command(Command.QMGMT_READ_CMD, "QMGMT_READ_CMD", self._qmgmt(True), "READ")
        self.register_command(Command.QUERY_JOB_ADS, "QUERY_JOB_ADS", self._query_jobs, "READ")
        self.register_command(Command.QUERY_JOB_ADS_WITH_AUTH, "QUERY_JOB_ADS_WITH_AUTH",
                              self._query_jobs, "READ")
        self.register_command(Command.ACT_ON_JOBS, "ACT_ON_JOBS", self._act_on_jobs, "WRITE")
        self.register_command(QUERY_SCHEDD_HISTORY, "QUERY_SCHEDD_HISTORY", self._history, "READ")
        self.register_command(Command.RESCHEDULE, "RESCHEDULE", self._reschedule, "WRITE")
        self._start_timers()
        self.dprintf(Category.ALWAYS, f"Job queue {self.queue_path}: {self.queue.job_count()} "
                                      f"job(s) in {len(self.queue.clusters())} cluster(s)")

    def main_config(self) -> None:
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        self.uid_domain = self.param("UID_DOMAIN") or host
        self.super_users = _names(self.param("QUEUE_SUPER_USERS") or "root, condor")
        self.all_users_trusted = self.param_boolean("QUEUE_ALL_USERS_TRUSTED", False)
        self.only_my_jobs = self.param_boolean("CONDOR_Q_ONLY_MY_JOBS", True)
        self.allow_root_owner = self.param_boolean("SCHEDD_ALLOW_ROOT_OWNER", True)
        self.allow_late_materialize = self.param_boolean("SCHEDD_ALLOW_LATE_MATERIALIZE", True)
        self.immutable_attrs = _names(self.param("IMMUTABLE_JOB_ATTRS")) | _names(
            self.param("SYSTEM_IMMUTABLE_JOB_ATTRS") or _SYSTEM_IMMUTABLE)
        self.protected_attrs = _names(self.param("PROTECTED_JOB_ATTRS")) | _names(
            self.param("SYSTEM_PROTECTED_JOB_ATTRS") or "JobStatus")
        self.secure_attrs = _names(self.param("SECURE_JOB_ATTRS")) | _names(
            self.param("SYSTEM_SECURE_JOB_ATTRS") or _SYSTEM_SECURE)
        self.private_attrs = {"claimid", "capability", "claimidlist", "publicclaimid",
                              "changedclaimids", "transferkey", "_condor_privclaimid"}
        self.submit_requirements = self._load_submit_requirements()
        mpo = self.param_integer("MAX_JOBS_PER_OWNER", 100000)
        self.max_jobs_per_owner = mpo if mpo > 0 else None
        mjs = self.param_integer("MAX_JOBS_SUBMITTED", 0)
        self.max_jobs_submitted = mjs if mjs > 0 else None
        mps = self.param_integer("MAX_JOBS_PER_SUBMISSION", 0)
        self.max_jobs_per_submission = mps if mps > 0 else None
        try:
            log_bytes = self.config.param_bytes("MAX_HISTORY_LOG", 20 * 1024 * 1024) or 0
        except ConfigError as exc:
            self.dprintf(Category.ALWAYS, f"ERROR: {exc}; using MAX_HISTORY_LOG = 20 MB")
            log_bytes = 20 * 1024 * 1024
        self.history_max_bytes = log_bytes * (1 + max(0, self.param_integer("MAX_HISTORY_ROTATIONS", 2)))
        self.clean_interval = max(1, self.param_integer("QUEUE_CLEAN_INTERVAL", 86400))
        self.periodic_interval = max(1, self.param_integer("PERIODIC_EXPR_INTERVAL", 60))
        self.schedd_interval = max(1, self.param_integer("SCHEDD_INTERVAL", 300))
        if getattr(self, "policy", None) is not None:
            self.policy.configure()
            self._start_timers()

    def _load_submit_requirements(self) -> list:
        """SUBMIT_REQUIREMENT_NAMES: ``(name, expr, reason expr or None, is_warning)`` for
        each SUBMIT_REQUIREMENT_<name> (schedd.cpp); ``JOB.`` / ``SCHEDD.`` prefixes are the
        job (TARGET) and the schedd ad (MY)."""
        out = []
        for name in (self.param("SUBMIT_REQUIREMENT_NAMES") or "").replace(",", " ").split():
            text = self.param(f"SUBMIT_REQUIREMENT_{name}")
            if not text:
                continue
            try:
                expr = parse_expr(_scopes(text))
                rtext = self.param(f"SUBMIT_REQUIREMENT_{name}_REASON")
                reason = parse_expr(_scopes(rtext)) if rtext else None
            except Exception as exc:
                self.dprintf(Category.ALWAYS, f"Submit requirement {name} does not parse, ignoring: {exc}")
                continue
            out.append((name, expr, reason,
                        self.param_boolean(f"SUBMIT_REQUIREMENT_{name}_IS_WARNING", False)))
        return out

    def check_submit_requirements(self, job_attrs: dict) -> list[str]:
        """Scheduler::checkSubmitRequirements for one new job: returns warnings; raises
        QmgmtError with the (first) failed requirement's reason."""
        if not self.submit_requirements:
            return []
        from pyhtc import classad as C
        job = C.ClassAd()
        for n, text in job_attrs.items():
            try:
                job[n] = parse_expr(text)
            except Exception:
                pass
        sched, _ = build_ads(self, int(time.time()))
        warnings = []
        for name, expr, reason_expr, warn in self.submit_requirements:
            try:
                v = expr.eval(sched, job)
            except Exception:
                v = None
            if isinstance(v, C.Value) or v is None:
                raise QmgmtError(2, f"Submit requirement {name} failed to evaluate.")
            if not isinstance(v, (bool, int, float)):
                raise QmgmtError(2, f"Submit requirement {name} evaluated to non-boolean.")
            if v:
                continue
            reason = f"Submit requirement {name} not met."
            if reason_expr is not None:
                try:
                    r = reason_expr.eval(sched, job)
                except Exception:
                    r = None
                if isinstance(r, str):
                    reason = r
            if warn:
                warnings.append(reason)
                continue
            raise QmgmtError(2, reason)
        return warnings

    def _start_timers(self) -> None:
        for tid in self._timers:
            self.dc.cancel_timer(tid)
        self._timers = [
            self.dc.register_timer(self.periodic_interval, self.policy.run,
                                   period=self.periodic_interval, name="periodic job policy"),
            self.dc.register_timer(0, self.advertiser.send, period=self.schedd_interval,
                                   name="advertise schedd"),
            self.dc.register_timer(0, self.clean_history, period=self.clean_interval,
                                   name="trim history"),
        ]

    def clean_history(self) -> None:
        """Bound the history: MAX_HISTORY_LOG bytes x (MAX_HISTORY_ROTATIONS + 1), oldest
        ads dropped first (HTCondor rotates its history file with the same budget)."""
        if self.history_max_bytes > 0:
            n = self.queue.db.trim_history_bytes(self.history_max_bytes)
            if n:
                self.dprintf(Category.ALWAYS, f"Trimmed {n} old job ad(s) from the history")

    def main_shutdown_graceful(self) -> None:
        """Invalidate our ads in the collector (in a worker thread, at most 5 s), then exit;
        the queue needs no flushing: every commit is already durable."""
        if not self.param("COLLECTOR_HOST"):
            self.shutdown_done()
            return
        done = []

        def finish(*_):
            if not done:
                done.append(1)
                self.shutdown_done()
        self.dc.run_in_thread(self.advertiser.invalidate_and_stop, reaper=finish)
        self.dc.register_timer(5, finish, name="shutdown deadline")

    def _cleanup_at_startup(self) -> None:
        """Removed jobs (JobStatus 3) and completed ones not asked to stay (LeaveJobInQueue)
        leave the queue at startup: nothing runs for them any more (schedd.cpp
        mark_jobs_idle / cleanup)."""
        gone = []
        for c, p in self.queue.jobs():
            ad = self.ads.get(c, p)
            st = ad.get("JobStatus") if ad is not None else None
            leave = ad.get("LeaveJobInQueue") if ad is not None else None
            if st == 3 or (st == 4 and leave is not True):
                gone.append((c, p))
        if gone:
            self.queue.remove_to_history(gone)
            self.dprintf(Category.ALWAYS, f"Moved {len(gone)} finished job(s) to history at startup")

    # -- helpers for the command modules ----------------------------------------------
    def is_queue_super_user(self, fqu: Optional[str]) -> bool:
        """Whether ``fqu`` (``user@domain``) is in QUEUE_SUPER_USERS (by full name or by the
        name before ``@``)."""
        if not fqu:
            return False
        return fqu.lower() in self.super_users or fqu.split("@", 1)[0].lower() in self.super_users

    def owns(self, fqu: Optional[str], cluster: int, proc: int) -> bool:
        """UserCheck2: may ``fqu`` act on the committed job? Its owner (``User``, else
        ``Owner``), a queue super user, or anyone with QUEUE_ALL_USERS_TRUSTED."""
        if self.all_users_trusted or self.is_queue_super_user(fqu):
            return True
        if not fqu:
            return False
        user = unquote(self.queue.lookup(cluster, proc, "User"))
        if user is not None:
            return user == fqu
        return unquote(self.queue.lookup(cluster, proc, "Owner")) == fqu.split("@", 1)[0]

    def jobs_of(self, fqu: Optional[str]) -> int:
        """Number of jobs in the queue owned by ``fqu`` (``User``, else ``Owner``)."""
        if not fqu:
            return 0
        name = fqu.split("@", 1)[0]
        n = 0
        for c, p in self.queue.jobs():
            user = unquote(self.queue.lookup(c, p, "User"))
            if user == fqu or (user is None and unquote(self.queue.lookup(c, p, "Owner")) == name):
                n += 1
        return n

    def write_events(self, events) -> None:
        """Append ``(path, event)`` pairs to the user logs (errors are logged, not fatal)."""
        for item in events:
            if item is None:
                continue
            path, event = item
            try:
                with UserLog(path) as log:
                    log.write(event)
            except (OSError, ValueError) as exc:
                self.dprintf(Category.ALWAYS, f"Cannot write event to user log {path}: {exc}")

    def queue_changed(self) -> None:
        """Called after each commit: re-advertise soon."""
        self.advertiser.soon()

    def commit_transaction(self, session: QmgmtSession) -> str:
        """CommitTransaction of a QMGMT session: complete the new jobs (ClusterId, ProcId,
        Owner, User, QDate, JobStatus, EnteredCurrentStatus, TotalSubmitProcs), commit, then
        write a SUBMIT event per new job.  Returns a warning text ("" if none); raises
        QmgmtError to refuse the commit."""
        tx = session.tx
        now = int(time.time())
        new = tx.new_procs()
        by_cluster: dict[int, list[int]] = {}
        for c, p in new:
            by_cluster.setdefault(c, []).append(p)
        factories = {c: f for c, f in session.factories.items() if c in tx.factories}
        for c in factories:
            if c in by_cluster:
                raise QmgmtError(22, f"cluster {c} has both a job factory and procs")
            by_cluster[c] = []
        for c, procs in by_cluster.items():
            if tx.get_attribute(c, -1, "Owner") is None:
                if not session.owner:
                    raise QmgmtError(13, "Client is not authenticated and owner is undefined")
                tx.set_attribute(c, -1, "Owner", quote(session.owner))
                tx.set_attribute(c, -1, "User", quote(f"{session.owner}@{self.uid_domain}"))
            tx.set_attribute(c, -1, "ClusterId", str(c))
            if tx.get_attribute(c, -1, "MyType") is None:
                tx.set_attribute(c, -1, "MyType", '"Job"')
            if tx.get_attribute(c, -1, "TargetType") is None:
                tx.set_attribute(c, -1, "TargetType", '"Machine"')
            if tx.get_attribute(c, -1, "QDate") is None:
                tx.set_attribute(c, -1, "QDate", str(now))
            total = factories[c].total_procs if c in factories else len(procs)
            tx.set_attribute(c, -1, "TotalSubmitProcs", str(total))
            for p in procs:
                tx.set_attribute(c, p, "ProcId", str(p))
                if tx.get_attribute(c, p, "JobStatus") is None:
                    tx.set_attribute(c, p, "JobStatus", "1")
                if tx.get_attribute(c, p, "EnteredCurrentStatus") is None:
                    tx.set_attribute(c, p, "EnteredCurrentStatus",
                                     tx.get_attribute(c, p, "QDate") or str(now))
        warnings = []
        if self.submit_requirements:
            for c, p in new:
                warnings += self.check_submit_requirements(tx.job_attrs(c, p))
            for c in factories:
                warnings += self.check_submit_requirements(tx.job_attrs(c, -1))
        events = []
        for c in factories:
            path = user_log_path(tx, c, -1)
            if path:
                events.append((path, make_event(JobEventType.CLUSTER_SUBMIT, c, -1, 0, when=now,
                                                SubmitHost=self.sinful)))
        for c, p in new:
            path = user_log_path(tx, c, p)
            if path:
                events.append((path, make_event(JobEventType.SUBMIT, c, p, 0, when=now,
                                                SubmitHost=self.sinful)))
        changed = bool(tx.staged or tx.destroyed)
        tx.commit()
        if new:
            self.dprintf(Category.ALWAYS, f"Submitted {len(new)} job(s) in cluster(s) "
                                          f"{sorted(by_cluster)} for {session.fqu}")
        if factories:
            self._spool_factory_files(factories, session.item_lines)
            self.dprintf(Category.ALWAYS, f"Submitted job factory for cluster(s) {sorted(factories)} "
                                          f"for {session.fqu}")
            self.factories.submitted(factories)
        session.factories = {}
        session.item_lines = {}
        self.write_events(events)
        if changed:
            self.queue_changed()
        if new:
            self.runner.request_reschedule()
        return "\n".join(dict.fromkeys(warnings))

    def _spool_factory_files(self, factories: dict, item_lines: dict) -> None:
        """Write each new factory's digest (and item lines) to SPOOL under the names the
        cluster ad gives (JobMaterializeDigestFile / JobMaterializeItemsFile); the queue
        database holds the copy the schedd reloads from."""
        for c, f in factories.items():
            try:
                os.makedirs(os.path.dirname(digest_path(self.spool, c)), exist_ok=True)
                with open(digest_path(self.spool, c), "w", encoding="utf-8") as fh:
                    fh.write(f.digest)
                if c in item_lines:
                    with open(items_path(self.spool, c), "w", encoding="utf-8") as fh:
                        fh.write("".join(ln + "\n" for ln in item_lines[c]))
            except OSError as exc:
                self.dprintf(Category.ALWAYS, f"Cannot write the submit digest of cluster {c} to SPOOL: {exc}")

    # -- command handlers --------------------------------------------------------------
    async def force_authentication(self, stream, command: int, what: str) -> bool:
        """Authenticate an unauthenticated stream inside the command (commands registered
        with force_authentication in HTCondor: ACT_ON_JOBS, QMGMT_WRITE_CMD), then check the
        new identity against the command's permission level again.  False = refused."""
        if stream.peer.user is not None:
            return True
        try:
            await stream.authenticate()
        except Exception as exc:
            self.dprintf(Category.ALWAYS, f"{what}: authentication of {stream.peer.address} failed: {exc}")
            return False
        peer = stream.peer
        if not self._authorize(peer.user, peer.method, command, peer.address):
            self.dprintf(Category.ALWAYS, f"{what}: {peer.user} at {peer.address} is not authorized")
            return False
        return True

    def _qmgmt(self, read_only: bool):
        async def handler(stream) -> None:
            if not read_only and not await self.force_authentication(
                    stream, Command.QMGMT_WRITE_CMD, "QMGMT"):
                return
            await QmgmtSession(self, stream, read_only).run()
        return handler

    async def _query_jobs(self, stream) -> None:
        await cmds.query_jobs(self, stream)

    async def _act_on_jobs(self, stream) -> None:
        await cmds.act_on_jobs(self, stream)

    async def _history(self, stream) -> None:
        await cmds.query_history(self, stream)

    async def _reschedule(self, stream) -> None:
        self.dprintf(Category.ALWAYS, f"Got RESCHEDULE from {stream.peer.address} "
                                      f"({stream.peer.user or 'unauthenticated'}); re-advertising")
        self.advertiser.soon(urgent=True)
        self.runner.request_reschedule()

    async def _negotiate(self, stream) -> None:
        await negotiate(self, stream)


def main(argv=None) -> int:
    """Entry point of ``condor_schedd`` (``_CONDOR_SCHEDD_PROFILE=<dir>`` profiles it: see
    :meth:`pyhtc.daemoncore.daemon.Daemon.main`)."""
    return Schedd.main(argv)


if __name__ == "__main__":
    sys.exit(main())
