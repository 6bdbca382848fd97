"""The schedd's ads in the collector: one Scheduler ad and one Submitter ad per owner.

schedd.cpp (Scheduler::count_jobs, update_central_mgr) sends UPDATE_SCHEDD_AD with the
Scheduler ad (Name, MyAddress, TotalIdleJobs, TotalRunningJobs, TotalHeldJobs, ...) and
UPDATE_SUBMITTOR_AD with a Submitter ad per user with jobs (Name = ``user@UID_DOMAIN``,
ScheddName, IdleJobs, RunningJobs, HeldJobs, ...), every SCHEDD_INTERVAL and soon after the
queue changes.  On shutdown the ads are invalidated.  The network work runs in a worker
thread so the event loop never blocks on a slow collector.
"""
from __future__ import annotations

import time

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING
from pyhtc.daemoncore.log import Category

from .jobactions import unquote

__all__ = ["Advertiser", "build_ads"]

#: delay between a queue change and the ads it causes (HTCondor batches these too)
SOON = 0.2


def build_ads(schedd, now: int) -> tuple[C.ClassAd, list[C.ClassAd]]:
    """The Scheduler ad and the Submitter ads for the current queue."""
    q = schedd.queue
    totals = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 7: 0}
    per_user: dict[str, dict[int, int]] = {}
    local = {1: 0, 2: 0, 5: 0}
    sched = {1: 0, 2: 0, 5: 0}
    for st, user, uni in _job_counts(schedd):
        if st in totals:
            totals[st] += 1
        counts = per_user.get(user)
        if counts is None:
            counts = per_user[user] = {1: 0, 2: 0, 5: 0}
        if st in counts:
            counts[st] += 1
        if uni == "12" and st in local:
            local[st] += 1
        elif uni == "7" and st in sched:
            sched[st] += 1
    name = schedd.name
    host = schedd.param("FULL_HOSTNAME") or name
    common = {"MyAddress": schedd.sinful, "Machine": host, "CondorVersion": VERSION_STRING,
              "CondorPlatform": PLATFORM_STRING}
    ad = C.ClassAd({
        "MyType": "Scheduler", "TargetType": "", "Name": name, "ScheddIpAddr": schedd.sinful,
        "DaemonStartTime": schedd.start_time, "MyCurrentTime": now, "UpdateInterval": schedd.schedd_interval,
        "TotalIdleJobs": totals[1], "TotalRunningJobs": totals[2], "TotalHeldJobs": totals[5],
        "TotalRemovedJobs": totals[3], "TotalSuspendedJobs": totals[7],
        "TotalJobAds": q.job_count(), "TotalLocalJobsIdle": local[1], "TotalLocalJobsRunning": local[2],
        "TotalSchedulerJobsIdle": sched[1], "TotalSchedulerJobsRunning": sched[2],
        "NumUsers": len(per_user), "UidDomain": schedd.uid_domain,
        "ScheddSequenceNumber": schedd.advertiser.sequence, **common,
    })
    for attr, knob, default in _UNIVERSE_POLICIES:
        ad[attr] = _policy_expr(schedd.param(knob), default)
    schedd.publish_daemon_stats(ad)  # DaemonCoreDutyCycle, MonitorSelf*...
    subs = []
    for user, n in sorted(per_user.items()):
        subs.append(C.ClassAd({
            "MyType": "Submitter", "TargetType": "", "Name": user, "ScheddName": name,
            "SubmitterTag": schedd.param("COLLECTOR_HOST") or "", "IdleJobs": n[1],
            "RunningJobs": n[2], "HeldJobs": n[5], "WeightedIdleJobs": n[1],
            "WeightedRunningJobs": n[2], "LocalJobsIdle": 0, "LocalJobsRunning": 0,
            "SchedulerJobsIdle": 0, "SchedulerJobsRunning": 0, "MyCurrentTime": now, **common,
        }))
    return ad, subs


def _job_counts(schedd):
    """``(JobStatus, submitter, JobUniverse text)`` of every job, what :func:`build_ads`
    counts (schedd.cpp count_jobs).  Kept per job with the attribute dictionaries it was
    read from: the queue replaces a job's dictionary when the job changes (never modifies
    it), so an unchanged job costs a lookup and two identity tests per count, not four
    attribute lookups."""
    q = schedd.queue
    memo = getattr(schedd, "_job_count_memo", None)
    if memo is None or memo[0] is not q:
        memo = schedd._job_count_memo = (q, {})
    cache = memo[1]
    ads = q.ads
    out = []
    seen = 0
    for key in q.jobs():
        seen += 1
        pad = ads.get(key)
        cad = ads.get((key[0], -1))
        hit = cache.get(key)
        if hit is not None and hit[0] is pad and hit[1] is cad:
            out.append(hit[2])
            continue
        c, p = key
        try:
            st = int(q.lookup(c, p, "JobStatus") or 0)
        except ValueError:
            st = 0
        st = 2 if st == 6 else st
        user = unquote(q.lookup(c, p, "User"))
        if not user:
            owner = unquote(q.lookup(c, p, "Owner")) or "unknown"
            user = f"{owner}@{schedd.uid_domain}"
        row = (st, user, q.lookup(c, p, "JobUniverse"))
        cache[key] = (pad, cad, row)
        out.append(row)
    if len(cache) > seen + 1024:  # jobs that left the queue
        live = set(q.jobs())
        for key in [k for k in cache if k not in live]:
            del cache[key]
    return out


#: (attribute, knob, default) of the local/scheduler universe start policies the schedd
#: publishes (schedd.cpp: START_LOCAL_UNIVERSE / START_SCHEDULER_UNIVERSE; condor_q
#: -better-analyze evaluates them for local and scheduler universe jobs)
_UNIVERSE_POLICIES = (
    ("StartLocalUniverse", "START_LOCAL_UNIVERSE", "TotalLocalJobsRunning < 200"),
    ("StartSchedulerUniverse", "START_SCHEDULER_UNIVERSE", "TotalSchedulerJobsRunning < 500"),
)


def _policy_expr(text, default: str) -> C.ExprTree:
    """The knob's expression, or ``default`` when it is unset or does not parse (as the
    schedd falls back in schedd.cpp)."""
    if text:
        try:
            return C.ExprTree(text)
        except SyntaxError:
            pass
    return C.ExprTree(default)


class Advertiser:
    """Sends the schedd's ads to COLLECTOR_HOST (none configured: nothing is sent)."""

    def __init__(self, schedd):
        self.s = schedd
        self.sequence = 0
        self._pending = None
        self._busy = False
        self._again = False
        self._stopped = False
        self._last_users: set[str] = set()
        self._last_sent = float("-inf")   # time.monotonic() of the last update

    def min_interval(self) -> float:
        """Seconds at least between two updates caused by queue changes: SCHEDD_MIN_INTERVAL
        (default 5), but never more than SCHEDD_INTERVAL (schedd.cpp SchedDInterval: the
        schedd's ads go out at most every SCHEDD_MIN_INTERVAL, at least every
        SCHEDD_INTERVAL)."""
        return float(min(max(0, self.s.param_integer("SCHEDD_MIN_INTERVAL", 5)),
                         getattr(self.s, "schedd_interval", 300)))

    def soon(self, urgent: bool = False) -> None:
        """Send the ads shortly, coalescing bursts of changes: in :data:`SOON` seconds, or
        later so that updates are :meth:`min_interval` apart.  ``urgent`` (an explicit
        RESCHEDULE) only waits :data:`SOON`."""
        if self._stopped:
            return
        delay = SOON
        if not urgent:
            delay = max(SOON, self._last_sent + self.min_interval() - time.monotonic())
        if self._pending is not None:
            if not urgent:
                return
            self.s.dc.cancel_timer(self._pending)
        self._pending = self.s.dc.register_timer(delay, self._fire, name="advertise soon")

    def _fire(self) -> None:
        self._pending = None
        self.send()

    def send(self) -> None:
        """Build the ads now and send them from a worker thread."""
        if self._stopped or not self.s.param("COLLECTOR_HOST"):
            return
        if self._busy:
            self._again = True
            return
        if self._pending is not None:  # the periodic update makes a pending one needless
            self.s.dc.cancel_timer(self._pending)
            self._pending = None
        self._last_sent = time.monotonic()
        self.sequence += 1
        sched, subs = build_ads(self.s, int(time.time()))
        gone = self._last_users - {s["Name"] for s in subs}
        self._last_users = {s["Name"] for s in subs}
        self._busy = True
        self.s.dc.run_in_thread(self._send_blocking, sched, subs, gone, reaper=self._done)

    def _send_blocking(self, sched, subs, gone) -> int:
        from pyhtc.client import CollectorClient
        cc = CollectorClient(config=self.s.config)
        cc.advertise([sched], Command.UPDATE_SCHEDD_AD)
        if subs:
            cc.advertise(subs, Command.UPDATE_SUBMITTOR_AD)
        for user in gone:
            cc.advertise([C.ClassAd({"MyType": "Query", "TargetType": "Submitter",
                                     "Requirements": C.ExprTree(
                                         f'Name == "{user}" && ScheddName == "{self.s.name}"')})],
                         Command.INVALIDATE_SUBMITTOR_ADS)
        return 1 + len(subs)

    def _done(self, result, exc) -> None:
        self._busy = False
        if exc is not None:
            self.s.dprintf(Category.ALWAYS, f"Failed to send ads to the collector "
                                            f"{self.s.param('COLLECTOR_HOST')}: {exc}")
        else:
            self.s.log.dprintf(Category.FULLDEBUG, f"Sent {result} ad(s) to the collector")
        if self._again:
            self._again = False
            self.soon()

    def invalidate_and_stop(self) -> None:
        """Stop advertising and remove our ads from the collector (best effort, bounded)."""
        self._stopped = True
        if not self.s.param("COLLECTOR_HOST"):
            return
        try:
            from pyhtc.client import CollectorClient
            cc = CollectorClient(config=self.s.config)
            cc.advertise([C.ClassAd({"MyType": "Query", "TargetType": "Scheduler",
                                     "Requirements": C.ExprTree(f'Name == "{self.s.name}"'),
                                     "Name": self.s.name, "MyAddress": self.s.sinful})],
                         Command.INVALIDATE_SCHEDD_ADS)
            cc.advertise([C.ClassAd({"MyType": "Query", "TargetType": "Submitter",
                                     "Requirements": C.ExprTree(f'ScheddName == "{self.s.name}"')})],
                         Command.INVALIDATE_SUBMITTOR_ADS)
        except Exception as exc:
            self.s.dprintf(Category.ALWAYS, f"Could not invalidate ads at shutdown: {exc}")
