"""Claims and shadows: how the schedd runs the jobs the negotiator matched
(src/condor_schedd.V6/schedd.cpp: contactStartd / claimStartd, StartJob / start_std,
add_shadow_rec, child_exit / jobExitCode, claim reuse in StartJobs -> FindRunnableJob;
mark_jobs_idle at startup).

For each match (claim id + slot ad from PERMISSION_AND_AD) the schedd sends REQUEST_CLAIM
(442) to the slot's ``MyAddress`` with the job ad (``_condor_SEND_CLAIMED_AD``: the reply
names the slot, a dynamic one for a partitionable slot).  A granted claim gets a
``condor_shadow`` (:mod:`pyhtc.daemons.shadow.main`, forked in its own session by the shadow
fork server :mod:`pyhtc.daemoncore.zygote` unless ``SHADOW_FORK_SERVER = False``) for the job: the job goes Running
(JobStatus 2, JobCurrentStartDate, JobStartDate, JobRunCount, NumShadowStarts, RemoteHost,
LastMatchTime).  When the shadow exits, its exit code (src/condor_includes/exit.h) decides:

- JOB_EXITED (100): Completed (JobStatus 4, CompletionDate, ExitCode...) and moved to history
  unless ``LeaveJobInQueue`` is true;
- JOB_SHOULD_REQUEUE (107), JOB_NOT_STARTED (108), JOB_RECONNECT_FAILED (116), JOB_KILLED
  (102): back to Idle;
- JOB_SHOULD_HOLD (112): held with the shadow's HoldReason/Code/SubCode (34 = the starter's
  OOM, 3 = OnExitHold, 6 = could not execute);
- JOB_SHOULD_REMOVE (113): removed;
- anything else (JOB_EXCEPTION 4...): SHADOW_EXCEPTION in the user log, back to Idle.

The shadow's attribute updates (``-report`` file: ExitCode, RemoteUserCpu, ImageSize...)
are applied in the same transaction; NumJobStarts counts runs that began executing,
RemoteWallClockTime and CumulativeSlotTime add the run's wall time.  Then the claim is
reused for the next idle job of the same submitter and autocluster when the startd said it
may be (DEACTIVATE_CLAIM's ``Start``), else released (RELEASE_CLAIM 443).

With CLAIM_PARTITIONABLE_LEFTOVERS (default true) REQUEST_CLAIM asks for the partitionable
slot's leftovers (``_condor_SEND_LEFTOVERS``); the leftover claim the startd returns is
claimed at once for the next idle job of the same submitter and autocluster that fits
(schedd.cpp), so one match fills a partitionable slot without a negotiation cycle per job.

RESCHEDULE (421) goes to the negotiator (located in COLLECTOR_HOST) shortly after a submit
and after a job leaves a slot while idle jobs remain, so short jobs need not wait for the
next NEGOTIATOR_INTERVAL.  Over TCP (HTCondor sends it over UDP; the negotiator takes both).
"""
from __future__ import annotations

import os
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.daemoncore.adfile import read_ad
from pyhtc.daemoncore.handoff import session_line, write_claim_file, write_job_ad
from pyhtc.daemoncore.log import Category
from pyhtc.daemoncore import exitcodes as X
from pyhtc.daemoncore.zygote import VPID_BASE
from pyhtc.cedar import claims as P
from pyhtc.userlog import JobEventType, make_event

from . import jobactions as J
from . import recovery
from .jobactions import quote, unquote
from .jobads import job_status
from .negotiation import DEFAULT_AUTOCLUSTER_ATTRS, signature

__all__ = ["ClaimRec", "JobRunner"]

#: requeue codes: the job goes back to Idle
_REQUEUE = {X.JOB_SHOULD_REQUEUE, X.JOB_NOT_STARTED, X.JOB_RECONNECT_FAILED, X.JOB_KILLED,
            X.JOB_CKPTED}


class ClaimRec:
    """A claim the schedd holds (match_rec): ``claim`` id, ``slot`` ad, ``startd`` address,
    ``user`` and autocluster ``key`` it was matched for, the running ``job`` and shadow
    ``pid`` (None when idle)."""

    def __init__(self, claim: str, slot: C.ClassAd, user: str, key: tuple,
                 attrs: tuple = DEFAULT_AUTOCLUSTER_ATTRS):
        self.claim, self.slot, self.user, self.key, self.attrs = claim, slot, user, key, attrs
        self.base = ""
        self.startd = str(slot.get("MyAddress") or "")
        self.name = str(slot.get("Name") or "")
        self.job: Optional[tuple[int, int]] = None
        self.pid: Optional[int] = None
        self.started = 0.0
        self.vacating = False   # the shadow was told to vacate the job
        self.leftover = None    # (claim id, ad) of a partitionable slot's leftovers
        self._session = ("", "")  # (claim id, its session_line() for the shadows)

    def session_line(self) -> str:
        """The claim's match session as the shadows take it in their claim file
        (:func:`pyhtc.daemoncore.handoff.session_line`), built once per claim id."""
        if self._session[0] != self.claim:
            self._session = (self.claim, session_line(self.claim))
        return self._session[1]


def _int(text: Optional[str], default: int = 0) -> int:
    try:
        return int(float(text)) if text is not None else default
    except ValueError:
        return default


class JobRunner:
    """The schedd's running jobs: claims, shadows and their fates (see the module doc)."""

    def __init__(self, schedd):
        self.s = schedd
        self.claims: dict[str, ClaimRec] = {}
        self.pending: set[tuple[int, int]] = set()       # matched, claim being requested
        self.shadows: dict[int, ClaimRec] = {}           # shadow pid -> claim
        self.reaper = schedd.dc.register_reaper("shadow", self.shadow_exited)
        # condor_shadow processes are forked by a fork server that has imported the shadow
        # once (pyhtc.daemoncore.zygote); SHADOW_FORK_SERVER = False starts each one afresh
        self.zygote = None
        #: SHADOW_WORKLIFE (seconds, HTCondor's default 3600): a shadow server older than
        #: this is retired at the next shadow (it exits once its threads are done) and a
        #: fresh one started, so no server lives on indefinitely; 0: never
        self.worklife = max(0, schedd.param_integer("SHADOW_WORKLIFE", 3600))
        self._successor = None   # the shadow server that takes over from an old one
        if schedd.param_boolean("SHADOW_FORK_SERVER", True):
            self.zygote = self._new_shadow_server()
            # started now in a pool (matches will come), else at the first shadow
            if schedd.param("COLLECTOR_HOST"):
                try:
                    self.zygote.start()
                except OSError as exc:
                    schedd.dprintf(Category.ALWAYS, f"Cannot start the shadow fork server: {exc}")
        self.dir = os.path.join(schedd.spool, "shadows")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self._seq = 0
        self._resched = None
        self._negotiator: Optional[str] = None   # the negotiator's address, once located
        recovery.recover_running_jobs(self)   # adopt a crashed schedd's live shadows
        schedd.dc.register_timer(1, self.check_running, period=1, name="check running jobs")
        schedd.dc.add_shutdown_hook(self.stop_shadows)

    def _new_shadow_server(self):
        """The shadow fork server (not started yet).  SHADOW_THREADS (a pyhtc knob, default
        true): it runs each shadow as a thread of one long-lived process instead of forking
        it (zygote.py threads mode: no fork, set-up, copy-on-write faults or exit per job)."""
        from pyhtc.daemoncore.zygote import Zygote
        return Zygote(self.s.dc, ["pyhtc.daemons.shadow.main"], name="shadow",
                      threads=self.s.param_boolean("SHADOW_THREADS", True))

    def _shadow_server(self):
        """The fork server for the next shadow.  A threads-mode server past SHADOW_WORKLIFE
        gets a successor, started at once; once that one is ready (imported and warmed
        up: the schedd never waits for it), the old one is retired (its threads finish;
        it then exits) and the successor serves."""
        z = self.zygote
        if z is not None and z.threads and self.worklife and z.age() > self.worklife:
            nxt = self._successor
            if nxt is None:
                nxt = self._successor = self._new_shadow_server()
                try:
                    nxt.start()
                except OSError as exc:
                    self.s.dprintf(Category.ALWAYS, f"Cannot start a new shadow server: {exc}")
                    self._successor = None
            elif nxt.ready:
                z.retire()
                self.zygote, self._successor = nxt, None
                return nxt
        return z

    # -- bookkeeping ------------------------------------------------------------------------
    def busy_jobs(self) -> set:
        """Jobs with a match, claim or shadow in progress (not offered to the negotiator)."""
        return self.pending | {r.job for r in self.shadows.values()}

    def check_running(self) -> None:
        """A running job that was held or removed (or left the queue) meanwhile: tell its
        shadow to vacate it (SIGTERM; the shadow sends DEACTIVATE_CLAIM), once."""
        q = self.s.queue
        for pid, rec in list(self.shadows.items()):
            if rec.job is None or rec.vacating:
                continue
            if rec.job in q.ads and job_status(q, *rec.job) == J.RUNNING:
                continue
            rec.vacating = True
            self.s.dprintf(Category.ALWAYS, f"Job {rec.job[0]}.{rec.job[1]} is no longer running here: "
                                            f"vacating it (shadow {pid})")
            self.s.dc.send_signal(pid, 15)

    def vacate(self, job: tuple, fast: bool = False) -> bool:
        """condor_vacate_job: the job's shadow vacates it (SIGTERM: DEACTIVATE_CLAIM, or with
        ``fast`` SIGQUIT: DEACTIVATE_CLAIM_FORCIBLY); the job goes back to Idle and is matched
        again. False when no shadow runs the job."""
        for pid, rec in list(self.shadows.items()):
            if rec.job == tuple(job) and not rec.vacating:
                rec.vacating = True
                self.s.dprintf(Category.ALWAYS, f"Vacating job {job[0]}.{job[1]} (shadow {pid}"
                                                f"{', fast' if fast else ''})")
                self.s.dc.send_signal(pid, 3 if fast else 15)
                return True
        return False

    def stop_shadows(self) -> None:
        """At schedd shutdown: every shadow kills its job (SIGQUIT -> DEACTIVATE_CLAIM_FORCIBLY);
        the jobs are marked idle at the next start-up."""
        for pid in list(self.shadows):
            try:
                self.s.dc.send_signal(pid, 3)
            except Exception as exc:
                self.s.dprintf(Category.ALWAYS, f"Cannot signal shadow {pid}: {exc}")

    # -- matches and claims -------------------------------------------------------------------
    def matched(self, job: tuple, claim: str, slot: C.ClassAd, key: tuple, attrs: tuple) -> None:
        """A match from the negotiator for ``job`` (of the autocluster ``key`` over
        ``attrs``): claim the slot, then start a shadow."""
        c, p = job
        user = unquote(self.s.queue.lookup(c, p, "User")) or ""
        rec = ClaimRec(claim, slot, user, key, attrs)
        self.pending.add(job)
        self.s.dc.spawn(self._claim(rec, job), name=f"claim for {c}.{p}")

    async def _claim(self, rec: ClaimRec, job: tuple) -> None:
        try:
            ok, why = await self._request_claim(rec, job)
        except Exception as exc:
            ok, why = False, f"{type(exc).__name__}: {exc}"
        self.pending.discard(job)
        if not ok:
            self.s.dprintf(Category.ALWAYS, f"REQUEST_CLAIM for job {job[0]}.{job[1]} at "
                                            f"{rec.name} ({rec.startd}) failed: {why}")
            self.request_reschedule()
            return
        self.claims[rec.claim] = rec
        if rec.leftover is not None:
            self._claim_leftovers(rec, job, *rec.leftover)
            rec.leftover = None
        if job_status(self.s.queue, *job) != J.IDLE:
            if job_status(self.s.queue, *job) == J.REMOVED:  # removed while being matched
                tx = self.s.queue.begin()
                tx.retire(*job)
                tx.commit()
            self._reuse_or_release(rec)
            return
        self.start_shadow(rec, job)

    def _claim_leftovers(self, rec: ClaimRec, job: tuple, claim: str, slot: C.ClassAd) -> None:
        """CLAIM_PARTITIONABLE_LEFTOVERS (schedd.cpp claimStartd / "leftovers"): the startd
        handed back the partitionable slot's remaining resources with a fresh claim id;
        claim them at once for the next idle job of the same submitter and autocluster that
        fits, without waiting for the next negotiation cycle.  None fits: nothing is done
        (the startd re-advertises the partitionable slot)."""
        busy = self.busy_jobs() | {tuple(job)}   # ``job`` took the claimed part
        for c, p in self._idle_jobs_like(rec, busy):
            if not self._fits(slot, self.s.ads.get(c, p)):
                return  # the autocluster's jobs are alike: none fits
            nxt = ClaimRec(claim, slot, rec.user, rec.key, rec.attrs)
            self.pending.add((c, p))
            self.s.dc.spawn(self._claim(nxt, (c, p)), name=f"claim leftovers for {c}.{p}")
            return

    def _idle_jobs_like(self, rec: ClaimRec, busy: set):
        """Idle jobs not in ``busy`` of the claim's submitter and autocluster, in id order
        (what claim reuse and leftover claims may run: schedd.cpp FindRunnableJob)."""
        q = self.s.queue
        for c, p in q.jobs():   # already in id order, and lazily: a match ends the scan
            if (c, p) in busy or job_status(q, c, p) != J.IDLE:
                continue
            if unquote(q.lookup(c, p, "User")) != rec.user:
                continue
            if signature(q, c, p, rec.attrs) != rec.key:
                continue
            yield c, p

    @staticmethod
    def _fits(slot: C.ClassAd, job: Optional[C.ClassAd]) -> bool:
        """Both ads' Requirements hold against each other (UNDEFINED/ERROR: no)."""
        if job is None:
            return False
        try:
            for me, other in ((slot, job), (job, slot)):
                if "Requirements" in me and me.lookup("Requirements").eval(me, other) is not True:
                    return False
        except (SyntaxError, C.ClassAdException):
            return False
        return True

    async def _open_claim_command(self, host: str, port: int, command: int, claim: str):
        """Start a claim command at the startd, resuming the claim id's match session when it
        carries one and SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION is true (schedd.cpp: the
        schedd imports the claim's session, :mod:`pyhtc.cedar.security.match`); otherwise,
        or when the startd no longer knows that session, negotiate one."""
        from pyhtc.cedar.errors import SecurityError
        from pyhtc.cedar.security.match import claim_policy, claim_session_cache
        from pyhtc.cedar.transport_asyncio import open_command
        policy = self.s._level_policy("CLIENT")
        if self.s.param_boolean("SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION", True):
            cache = claim_session_cache(claim, f"{host}:{port}", command)
            if cache is not None:
                try:
                    return await open_command(host, port, command, claim_policy(policy),
                                              cache=cache, timeout=20)
                except SecurityError as exc:
                    if "resume" not in str(exc):
                        raise
        return await open_command(host, port, command, policy, timeout=20)

    async def _request_claim(self, rec: ClaimRec, job: tuple) -> tuple[bool, str]:
        from pyhtc.client import parse_address
        host, port = parse_address(rec.startd)
        ad = C.ClassAd(self.s.ads.get(*job))
        ad["_condor_SEND_CLAIMED_AD"] = True
        if self.s.param_boolean("CLAIM_PARTITIONABLE_LEFTOVERS", True):
            ad["_condor_SEND_LEFTOVERS"] = True
        stream = await self._open_claim_command(host, port, P.REQUEST_CLAIM, rec.claim)
        try:
            stream.put_string(rec.claim)
            stream.put_ad(from_classad(ad))
            stream.put_string(self.s.sinful)
            stream.put_int(300)
            stream.put_int(0)
            await stream.end_of_message()
            reply = await stream.get_int()
            if reply == P.REQUEST_CLAIM_SLOT_AD:
                rec.claim = await stream.get_string()
                rec.slot = to_classad(await stream.get_ad())
                rec.name = str(rec.slot.get("Name") or rec.name)
                reply = await stream.get_int()
            if reply in (P.REQUEST_CLAIM_LEFTOVERS, P.REQUEST_CLAIM_LEFTOVERS_2):
                left_claim = await stream.get_string()
                left_ad = to_classad(await stream.get_ad())
                rec.leftover = (left_claim, left_ad)
                reply = P.OK
            await stream.end_of_message()
        finally:
            await stream.close()
        return reply == P.OK, "" if reply == P.OK else f"startd replied {reply}"

    def release_unused(self, claim: str, slot: C.ClassAd) -> None:
        """A match the schedd cannot use (no idle job left): tell the startd."""
        rec = ClaimRec(claim, slot, "", ())
        self.s.dc.spawn(self._release(rec), name="release unused match")

    async def _release(self, rec: ClaimRec) -> None:
        from pyhtc.client import parse_address
        self.claims.pop(rec.claim, None)
        try:
            host, port = parse_address(rec.startd)
            stream = await self._open_claim_command(host, port, P.RELEASE_CLAIM, rec.claim)
            try:
                stream.put_string(rec.claim)
                await stream.end_of_message()
            finally:
                await stream.close()
            self.s.dprintf(Category.ALWAYS, f"Released claim on {rec.name}")
        except Exception as exc:
            self.s.dprintf(Category.ALWAYS, f"RELEASE_CLAIM to {rec.name} ({rec.startd}) failed: {exc}")

    # -- shadows ----------------------------------------------------------------------------
    def start_shadow(self, rec: ClaimRec, job: tuple, reused: bool = False) -> None:
        """Mark ``job`` Running and spawn its condor_shadow on claim ``rec`` (``reused``:
        the claim ran an earlier job)."""
        c, p = job
        now = int(time.time())
        q = self.s.queue
        tx = q.begin()
        J._set_status(tx, c, p, J.RUNNING, now)
        tx.set_attribute(c, p, "JobCurrentStartDate", str(now))
        if tx.get_attribute(c, p, "JobStartDate") is None:
            tx.set_attribute(c, p, "JobStartDate", str(now))
        for attr in ("JobRunCount", "NumShadowStarts"):
            tx.set_attribute(c, p, attr, str(_int(tx.get_attribute(c, p, attr)) + 1))
        tx.set_attribute(c, p, "RemoteHost", quote(rec.name))
        tx.set_attribute(c, p, "LastMatchTime", str(now))
        tx.set_attribute(c, p, "ShadowBday", str(now))
        tx.commit()
        self._seq += 1
        base = os.path.join(self.dir, f"{c}.{p}.{self._seq}")
        write_job_ad(base + ".job.ad", self.s.ads.get(c, p))
        write_claim_file(base + ".claim", rec.claim, rec.session_line())
        recovery.record_shadow(self, rec, job, base)  # before the spawn: see recovery.py
        args = [sys.executable, "-m", "pyhtc.daemons.shadow.main", f"{c}.{p}", "-f",
                "-job-ad", base + ".job.ad", "-claim-file", base + ".claim",
                "-startd", rec.startd, "-report", base + ".report", "-slot", rec.name,
                "-pid-file", base + recovery.PID_SUFFIX]
        env = dict(os.environ)
        env.update({k: v for k, v in self.s.environ.items()
                    if k.startswith("_CONDOR_") or k == "CONDOR_CONFIG"})
        try:
            pid = None
            if self.zygote is not None:
                try:  # in its own session: it outlives a crashed schedd and finishes the job
                    pid = self._shadow_server().create_process(args[2], args[3:], self.reaper, env=env,
                                                     new_session=True, devnull_stdin=True)
                except OSError as exc:
                    self.s.dprintf(Category.ALWAYS, f"Shadow fork server failed ({exc}); "
                                                    "starting condor_shadow directly")
            if pid is None:
                pid = self.s.dc.create_process(args, self.reaper, env=env, stdin=None)
        except OSError as exc:
            self.s.dprintf(Category.ALWAYS, f"Cannot start condor_shadow for {c}.{p}: {exc}")
            tx = q.begin()
            J._set_status(tx, c, p, J.IDLE, now)
            tx.commit()
            self.s.dc.spawn(self._release(rec), name="release claim")
            return
        rec.job, rec.pid, rec.started, rec.base, rec.vacating = job, pid, time.time(), base, False
        self.shadows[pid] = rec
        if self.zygote is not None and self.zygote.threads and self.zygote.pid is not None \
                and pid >= VPID_BASE:
            where = f"thread {pid} of shadow server pid {self.zygote.pid}"
        else:
            where = f"pid {pid}"
        self.s.dprintf(Category.ALWAYS, f"Started shadow for job {c}.{p} on {rec.name}"
                                        f"{' (reused claim)' if reused else ''}, {where}")
        self.s.queue_changed()

    def shadow_exited(self, pid: int, status: int) -> None:
        """Reaper: the job's fate from the shadow's exit code and report."""
        rec = self.shadows.pop(pid, None)
        if rec is None:
            return
        code = os.waitstatus_to_exitcode(status) if status >= 0 else status
        job = rec.job
        rec.job, rec.pid = None, None
        report = C.ClassAd()
        base = rec.base
        try:
            report = read_ad(base + ".report")
        except (OSError, SyntaxError, ValueError) as exc:
            self.s.dprintf(Category.ALWAYS, f"Shadow {pid} left no usable report: {exc}")
        if status < 0 and isinstance(report.get("ShadowExitCode"), int):
            code = report["ShadowExitCode"]  # not our child (adopted): its report says
        for suffix in (".report", ".job.ad", ".claim", recovery.RECORD_SUFFIX, recovery.PID_SUFFIX):
            try:
                os.unlink(base + suffix)
            except OSError:
                pass
        who = f"thread {pid}" if pid >= VPID_BASE else f"pid {pid}"
        self.s.dprintf(Category.ALWAYS, f"Shadow {who} for job {job[0]}.{job[1]} exited with "
                                        f"status {code} ({X.NAMES.get(code, 'unknown')})")
        self._apply_fate(job, code, report, rec)
        reusable = report.get("ClaimReusable") is True and code != X.JOB_NOT_STARTED
        if reusable:
            self._reuse_or_release(rec)
        else:
            self.s.dc.spawn(self._release(rec), name="release claim")
            self.request_reschedule(1.5)
        self.s.queue_changed()

    def _apply_fate(self, job: tuple, code: int, report: C.ClassAd, rec: ClaimRec) -> None:
        c, p = job
        q = self.s.queue
        if (c, p) not in q.ads:
            return  # removed meanwhile (condor_rm retires it)
        now = int(time.time())
        tx = q.begin()
        status = _int(tx.get_attribute(c, p, "JobStatus"))
        for name, expr in report.items():
            if name in ("ClaimReusable", "ShadowError", "HoldReason", "HoldReasonCode",
                        "HoldReasonSubCode", "RemoteWallClockTime", "ShadowExitCode"):
                continue
            tx.set_attribute(c, p, name, str(report.lookup(name)))
        wall = max(0, now - _int(tx.get_attribute(c, p, "JobCurrentStartDate"), now))
        if code != X.JOB_NOT_STARTED:
            tx.set_attribute(c, p, "NumJobStarts", str(_int(tx.get_attribute(c, p, "NumJobStarts")) + 1))
            for attr in ("RemoteWallClockTime", "CumulativeSlotTime"):
                prev = float(tx.get_attribute(c, p, attr) or 0)
                tx.set_attribute(c, p, attr, repr(float(prev + wall)))
        tx.set_attribute(c, p, "LastRemoteHost", quote(rec.name))
        if tx.get_attribute(c, p, "RemoteHost") is not None:
            tx.delete_attribute(c, p, "RemoteHost")
        events = []
        retire = False
        if status == J.REMOVED:
            # removed while it ran: it leaves the queue now its shadow is gone, and only now
            # is the abort logged, after the shadow's eviction event (schedd.cpp)
            events.append(J.abort_event(tx, c, p, now))
            retire = True
        elif status != J.RUNNING:
            pass  # held by a user or policy while it ran: that state stands
        elif code == X.JOB_EXITED:
            J._set_status(tx, c, p, J.COMPLETED, now)
            tx.set_attribute(c, p, "CompletionDate", str(now))
            leave = self.s.ads.get(c, p)
            retire = not (leave is not None and leave.get("LeaveJobInQueue") is True)
        elif code == X.JOB_SHOULD_HOLD and (retry := self._transform_on_evict(tx, c, p, report, now)):
            if retry[0] is not None:  # a larger resource request instead of the hold: Idle again
                events.append(retry)
            J._set_status(tx, c, p, J.IDLE, now)
        elif code == X.JOB_SHOULD_HOLD:
            reason = str(report.get("HoldReason") or "The shadow put the job on hold")
            events.append(J.hold_job(tx, c, p, reason, int(report.get("HoldReasonCode") or 0),
                                     int(report.get("HoldReasonSubCode") or 0), now,
                                     system_hold=True))
        elif code == X.JOB_SHOULD_REMOVE:
            events.append(J.remove_job(tx, c, p, "The shadow removed the job", now))
            retire = True
        else:
            if code not in _REQUEUE:
                msg = str(report.get("ShadowError") or f"condor_shadow exited with status {code}")
                path = J.user_log_path(tx, c, p)
                if path:
                    events.append((path, make_event(JobEventType.SHADOW_EXCEPTION, c, p, 0, when=now,
                                                    Message=msg, SentBytes=0.0, ReceivedBytes=0.0)))
            J._set_status(tx, c, p, J.IDLE, now)
        if retire:
            tx.retire(c, p, now)
        tx.commit()
        self.s.write_events(events)

    def _transform_on_evict(self, tx, c: int, p: int, report: C.ClassAd, now: int):
        """A job the shadow would hold after exceeding a resource request: the schedd first
        applies the job's TransformOnEvict transforms (schedd.cpp jobExitCode ->
        TransformOnEvict; :mod:`.evict_transform`).  The shadow's hold codes are the eviction's
        ``VacateReason``/``VacateReasonCode``/``VacateReasonSubCode``, which the transforms'
        REQUIREMENTS test.  Every change a transform makes is written in ``tx``; when one
        raised a ``Request*`` attribute, returns the user-log JOB_EVICTED event as
        ``(path, event)`` (``(None, None)`` for a job without a log; the job is then
        requeued), else None (the job is held as before)."""
        from .evict_transform import evict_transforms
        ad = self.s.ads.get(c, p)
        if ad is None or "TransformOnEvict" not in ad:
            return None
        job = C.ClassAd(ad)
        for name in report.keys():
            job[name] = report.lookup(name)
        vacate = {"VacateReason": str(report.get("HoldReason") or ""),
                  "VacateReasonCode": int(report.get("HoldReasonCode") or 0),
                  "VacateReasonSubCode": int(report.get("HoldReasonSubCode") or 0)}
        for name, value in vacate.items():
            job[name] = value
            tx.set_attribute(c, p, name, quote(value) if isinstance(value, str) else str(value))
        changes, requeue = evict_transforms(
            job, lambda msg: self.s.dprintf(Category.ALWAYS, f"Job {c}.{p}: {msg}"))
        for name, text in changes.items():
            if text is None:
                if tx.get_attribute(c, p, name) is not None:
                    tx.delete_attribute(c, p, name)
            else:
                tx.set_attribute(c, p, name, text)
        if not requeue:
            return None
        self.s.dprintf(Category.ALWAYS, f"Not holding job {c}.{p}: TransformOnEvict set "
                       + ", ".join(f"{k} = {v}" for k, v in changes.items()))
        path = J.user_log_path(tx, c, p)
        if not path:
            return None, None
        from pyhtc.userlog.usage import rusage_string
        return (path, make_event(JobEventType.JOB_EVICTED, c, p, 0, when=now, Checkpointed=False,
                                 TerminatedAndRequeued=False, TerminatedNormally=False,
                                 RunLocalUsage=rusage_string(0, 0), RunRemoteUsage=rusage_string(
                                     float(report.get("RemoteUserCpu") or 0),
                                     float(report.get("RemoteSysCpu") or 0)),
                                 SentBytes=0.0, ReceivedBytes=0.0, Reason=vacate["VacateReason"]))

    def _reuse_or_release(self, rec: ClaimRec) -> None:
        """Claim reuse (schedd.cpp FindRunnableJob): the next idle job of the same submitter
        and autocluster runs on this claim; none: RELEASE_CLAIM."""
        for c, p in self._idle_jobs_like(rec, self.busy_jobs()):
            self.start_shadow(rec, (c, p), reused=True)
            return
        self.s.dc.spawn(self._release(rec), name="release claim")
        self.request_reschedule(1.5)

    # -- RESCHEDULE ------------------------------------------------------------------------
    def request_reschedule(self, delay: float = 0.05) -> None:
        """Ask the negotiator for a cycle in ``delay`` seconds (a short delay coalesces a
        burst of submits; after a release, longer: the startd re-advertises the freed
        slot first).  The schedd's ads go to the collector just before the RESCHEDULE."""
        if self._resched is not None or not self.s.param("COLLECTOR_HOST"):
            return
        self.s.advertiser.soon()
        self._resched = self.s.dc.register_timer(delay, self._send_reschedule, name="reschedule")

    def _send_reschedule(self) -> None:
        """Send the submitter ads and, once the collector has them, RESCHEDULE (from a
        worker thread): the negotiator's cycle then sees the new idle jobs."""
        from .advertise import build_ads
        self._resched = None
        _, subs = build_ads(self.s, int(time.time()))
        self.s.dc.run_in_thread(self._reschedule_blocking, subs, reaper=self._rescheduled)

    def _reschedule_blocking(self, subs=()) -> str:
        from pyhtc.client import CollectorClient, start_command
        from pyhtc.client.core import client_policy
        cc = CollectorClient(config=self.s.config)
        if subs:
            cc.advertise(list(subs), Command.UPDATE_SUBMITTOR_AD)
        policy = client_policy(self.s.config)
        addr = self._negotiator   # located once; again when it stops answering
        if addr:
            try:
                with start_command(addr, Command.RESCHEDULE, policy) as s:
                    s.end_of_message()
                return addr
            except Exception:
                self._negotiator = None
        addr = cc.locate("Negotiator").get("MyAddress")
        with start_command(addr, Command.RESCHEDULE, policy) as s:
            s.end_of_message()
        self._negotiator = addr
        return addr

    def _rescheduled(self, result, exc) -> None:
        if exc is not None:
            self.s.dprintf(Category.ALWAYS, f"Cannot send RESCHEDULE to the negotiator: {exc}")
        else:
            self.s.log.dprintf(Category.FULLDEBUG, f"Sent RESCHEDULE to the negotiator {result}")
