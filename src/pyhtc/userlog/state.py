"""Per-job state from a job event log: what ``condor_q -userlog`` and ``condor_wait`` need.

:class:`JobStateTracker` folds events into one job ad per job (a dict of plain values),
following userlog_to_classads() in HTCondor's src/condor_utils/userlog_to_classads.cpp:
SUBMIT creates the job (Idle), EXECUTE makes it Running, TERMINATED Completed, ABORTED
Removed, HELD Held, RELEASED / EVICTED / SHADOW_EXCEPTION / RECONNECT_FAILED Idle again,
SUSPENDED / UNSUSPENDED Suspended / Running; JOB_AD_INFORMATION adds its attributes.

Robustness beyond HTCondor's (see PAIN.md, CRABServer#5661): a missing EXECUTE before
TERMINATED is harmless, an event repeated verbatim is applied once, and with
``adopt_unknown=True`` events of jobs whose SUBMIT is not in the log create the job instead
of being dropped.  Feeding can resume: keep the tracker and the :class:`JobEventLog`.
"""
from __future__ import annotations

from collections.abc import Mapping

import os

from .eventtypes import JobEventType as T
from .usage import parse_rusage

__all__ = ["JobStateTracker", "IDLE", "RUNNING", "REMOVED", "COMPLETED", "HELD",
           "TRANSFERRING_OUTPUT", "SUSPENDED", "job_ads_from_log"]

# JobStatus values (condor_includes/proc.h)
IDLE, RUNNING, REMOVED, COMPLETED, HELD, TRANSFERRING_OUTPUT, SUSPENDED = 1, 2, 3, 4, 5, 6, 7
_TERMINAL = (REMOVED, COMPLETED)


def _owner() -> str:
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "???"


def _secs(usage, which: int) -> float:
    parsed = parse_rusage(usage) if isinstance(usage, str) else None
    return float(parsed[which]) if parsed else 0.0


class JobStateTracker:
    """Job ads keyed by ``(cluster, proc)``, updated from events.

    ``log_path`` is recorded as each job's ``UserLog``.  Use :meth:`apply` per event or
    :meth:`feed` for an iterable (e.g. ``JobEventLog(path).events(0)``).
    """

    def __init__(self, log_path: str = "", *, adopt_unknown: bool = False):
        self.log_path = str(log_path)
        self.adopt_unknown = adopt_unknown
        self.jobs: dict[tuple[int, int], dict] = {}
        self._last: dict[tuple[int, int], object] = {}
        self._owner = None

    # --- queries ---
    def status(self, cluster: int, proc: int) -> int | None:
        """JobStatus of a job, None if it is unknown."""
        job = self.jobs.get((cluster, proc))
        return None if job is None else job["JobStatus"]

    @property
    def all_done(self) -> bool:
        """True when at least one job is known and every job is Completed or Removed
        (condor_wait's condition)."""
        return bool(self.jobs) and all(j["JobStatus"] in _TERMINAL for j in self.jobs.values())

    def counts(self) -> dict[int, int]:
        """Number of jobs in each JobStatus."""
        out: dict[int, int] = {}
        for job in self.jobs.values():
            out[job["JobStatus"]] = out.get(job["JobStatus"], 0) + 1
        return out

    # --- updating ---
    def feed(self, events) -> int:
        """Apply every event of an iterable; returns how many were applied."""
        n = 0
        for ev in events:
            n += self.apply(ev)
        return n

    def _new_job(self, cluster: int, proc: int, when: int, submit_host: str = "") -> dict:
        if self._owner is None:
            self._owner = _owner()
        return {
            "MyType": "Job", "TargetType": "Machine", "ClusterId": cluster, "ProcId": proc,
            "UserLog": self.log_path, "QDate": when, "EnteredCurrentStatus": when,
            "GlobalJobId": "localhost#%d.%d#%d" % (cluster, proc, when),
            "SubmitHost": submit_host, "JobStatus": IDLE, "LastJobStatus": 0,
            "Owner": self._owner, "JobPrio": 0, "ImageSize": 0, "Cmd": "???",
            "LastSuspensionTime": 0, "CompletionDate": 0, "NumJobStarts": 0,
            "TotalSuspensions": 0, "NumSystemHolds": 0, "LocalUserCpu": 0.0,
            "RemoteUserCpu": 0.0, "LocalSysCpu": 0.0, "RemoteSysCpu": 0.0,
            "RemoteWallClockTime": 0.0,
        }

    @staticmethod
    def _set_status(job: dict, status: int, when: int) -> None:
        job["LastJobStatus"] = job["JobStatus"]
        job["JobStatus"] = status
        job["EnteredCurrentStatus"] = when

    def apply(self, ev) -> bool:
        """Fold one event in; returns False if it was ignored (unknown job or a repeat)."""
        key = (ev.cluster, ev.proc)
        n = int(ev["EventTypeNumber"])
        when = ev.timestamp
        last = self._last.get(key)
        if last is not None and last == ev:
            return False                                  # duplicated event
        job = self.jobs.get(key)
        if n == T.SUBMIT:
            self.jobs[key] = self._new_job(ev.cluster, ev.proc, when, ev.get("SubmitHost", ""))
            notes = ev.get("StructuredNotes")
            if isinstance(notes, Mapping) and "DAGNodeName" in notes:
                self.jobs[key]["DAGNodeName"] = notes["DAGNodeName"]
            self._last[key] = ev
            return True
        if job is None:
            if not self.adopt_unknown or ev.cluster < 0:
                return False
            job = self.jobs[key] = self._new_job(ev.cluster, ev.proc, when)
        self._last[key] = ev
        if n == T.EXECUTE:
            self._set_status(job, RUNNING, when)
            job["JobCurrentStartDate"] = when
            job["NumJobStarts"] += 1
            host = ev.get("ExecuteHost", "")
            job["StartdIpAddr"] = job["RemoteHost"] = host
        elif n == T.JOB_TERMINATED:
            self._set_status(job, COMPLETED, when)
            if "RemoteHost" in job:
                job["LastRemoteHost"] = job.pop("RemoteHost")
            job["CompletionDate"] = when
            if ev.get("TerminatedNormally"):
                job["ExitBySignal"] = False
                job["ExitCode"] = ev.get("ReturnValue", -1)
            else:
                job["ExitBySignal"] = True
                job["ExitSignal"] = ev.get("TerminatedBySignal", -1)
            job["LastLocalUserCpu"] = _secs(ev.get("RunLocalUsage"), 0)
            job["LastRemoteUserCpu"] = _secs(ev.get("RunRemoteUsage"), 0)
            job["LastLocalSysCpu"] = _secs(ev.get("RunLocalUsage"), 1)
            job["LastRemoteSysCpu"] = _secs(ev.get("RunRemoteUsage"), 1)
            if "JobCurrentStartDate" in job:
                job["LastRemoteWallClockTime"] = float(when - job["JobCurrentStartDate"])
                job["RemoteWallClockTime"] += job["LastRemoteWallClockTime"]
            job["LocalUserCpu"] = _secs(ev.get("TotalLocalUsage"), 0)
            job["RemoteUserCpu"] = _secs(ev.get("TotalRemoteUsage"), 0)
            job["LocalSysCpu"] = _secs(ev.get("TotalLocalUsage"), 1)
            job["RemoteSysCpu"] = _secs(ev.get("TotalRemoteUsage"), 1)
        elif n == T.JOB_SUSPENDED:
            self._set_status(job, SUSPENDED, when)
            job["LastSuspensionTime"] = when
            job["TotalSuspensions"] += 1
        elif n == T.JOB_UNSUSPENDED:
            self._set_status(job, RUNNING, when)
        elif n in (T.JOB_EVICTED, T.SHADOW_EXCEPTION, T.JOB_RECONNECT_FAILED):
            self._set_status(job, IDLE, when)
            job["LastVacateTime"] = when
            reason = ev.get("Message" if n == T.SHADOW_EXCEPTION else "Reason", "")
            if reason:
                job["LastVacateReason"] = reason
        elif n == T.JOB_HELD:
            prev = job["JobStatus"]
            self._set_status(job, HELD, when)
            reason = ev.get("HoldReason", "")
            if prev != IDLE:
                job["LastVacateTime"] = when
                if reason:
                    job["LastVacateReason"] = reason
            job["HoldReason"] = reason
            job["HoldReasonCode"] = ev.get("HoldReasonCode", 0)
            job["HoldReasonSubCode"] = ev.get("HoldReasonSubCode", 0)
            if job["HoldReasonCode"] != 1:
                job["NumSystemHolds"] += 1
        elif n == T.JOB_RELEASED:
            self._set_status(job, IDLE, when)
            if ev.get("Reason"):
                job["ReleaseReason"] = ev["Reason"]
        elif n == T.JOB_ABORTED:
            self._set_status(job, REMOVED, when)
            if ev.get("Reason"):
                job["RemoveReason"] = ev["Reason"]
        elif n == T.IMAGE_SIZE:
            job["ImageSize"] = ev.get("Size", -1)
            job["ResidentSetSize"] = ev.get("ResidentSetSize", 0)
            job["ProportionalSetSize"] = ev.get("ProportionalSetSize", -1)
            if "MemoryUsage" in ev:
                job["MemoryUsage"] = ev["MemoryUsage"]
        elif n == T.JOB_AD_INFORMATION:
            skip = {k.lower() for k in (last or {})} | {
                "mytype", "cluster", "proc", "subproc", "eventtypenumber",
                "triggereventtypenumber", "triggereventtypename"}
            for k, v in ev.items():
                if k.lower() not in skip:
                    job[k] = v
        return True


def job_ads_from_log(path, *, adopt_unknown: bool = False) -> list[dict]:
    """Job ads for every job of the log at ``path`` as it is now, in (cluster, proc) order."""
    from .reader import JobEventLog
    tracker = JobStateTracker(os.fspath(path), adopt_unknown=adopt_unknown)
    with JobEventLog(path) as log:
        tracker.feed(log.events(0))
    return [tracker.jobs[k] for k in sorted(tracker.jobs)]
