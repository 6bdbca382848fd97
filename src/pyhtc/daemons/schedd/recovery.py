"""What a schedd does after a crash: one schedd per queue, and adoption of live shadows.

HTCondor's answer to a schedd crash is *reconnection*: each condor_shadow exits with its
schedd, the starter keeps the job running for the job lease (JobLeaseDuration), and the
restarted schedd starts a new shadow per Running job that reconnects to the starter
(src/condor_schedd.V6/schedd.cpp mark_jobs_idle / the reconnect path, manual
"users-manual/job-leases" and "admin-manual/ ... Disconnected and reconnected jobs").
pyhtc's shadow and starter talk through files on the same host, so pyhtc keeps the shadow
instead and the restarted schedd *adopts* it. The semantics (chosen here, documented in
the module so users can rely on them):

- **One schedd per queue.** The schedd holds an exclusive ``flock`` on
  ``<queue>.lock`` (``$(SPOOL)/job_queue.db.lock``, holder pid inside) for its whole life;
  the kernel drops it when the process dies, however it dies. A second schedd on the same
  SPOOL waits up to SCHEDD_QUEUE_LOCK_TIMEOUT seconds (a pyhtc knob, default
  :data:`LOCK_WAIT_SECONDS`: the first one may be shutting down because its master died),
  then exits with status 1 and an error naming the holder. Combined with DaemonCore's
  parent check (a daemon whose master died shuts down fast), a restarted master never runs
  two schedds on one queue.
- **Shadows outlive their schedd.** Each shadow runs in its own session (it is started by
  the shadow fork server, :mod:`pyhtc.daemoncore.zygote`, or directly; by default it is a
  thread of the fork server's one process, which has its own session and lets its threads
  finish before it exits) and is not killed by a schedd crash: it finishes its job, writes
  the user log events (EXECUTE, JOB_TERMINATED ...) and its ``-report`` file, whose
  ``ShadowExitCode`` is the exit code the schedd would have reaped
  (src/condor_includes/exit.h).
- **A record per shadow, and the claim file as hand-off.** Before it spawns a shadow the
  schedd writes ``$(SPOOL)/shadows/<cluster>.<proc>.<seq>.shadow`` (JSON: the job, the
  claim id, the startd's address and slot name) beside the job ad and the ``.claim`` file;
  the schedd deletes them when it reaps the shadow. The claim id is a secret: the
  directory is 0700 and the files 0600. The shadow (``-pid-file``) writes
  ``<base>.pid`` (its pid and start time in clock ticks from /proc/<pid>/stat, so a
  reused pid is never mistaken for it; a shadow thread adds its virtual pid, under which
  the run is tracked) and only then consumes the claim file (reads it, deletes it;
  failing to delete it, it exits without touching the job).
- **At start-up** (:func:`recover_running_jobs`), for each record of a Running job: if the
  schedd can still delete the claim file, no shadow has taken (or ever will take) the
  job: it goes back to Idle and the claim is released. Otherwise the pid file names the
  shadow: a live one is adopted (watched through a pidfd, since it is not our child; its
  exit runs the normal reaper with the report's exit code, so the job's fate is decided
  exactly once, by the shadow that ran it); one that exited while no schedd ran has its
  report applied the same way (no report: back to Idle with a SHADOW_EXCEPTION event).
  The claim of an adopted or dead shadow is released afterwards, never reused. A Running
  job with no record goes back to Idle as before (schedd.cpp mark_jobs_idle): no shadow
  was spawned for it. Leftover files of finished shadows are removed.

What is not covered: a claim granted by a startd while its REQUEST_CLAIM reply was in
flight to a schedd that then died stays Claimed/Idle at the startd until the startd
restarts (pyhtc's startd has no claim lease yet).
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.daemoncore.log import Category

from . import jobactions as J
from .jobads import job_status

__all__ = ["QueueLock", "QueueLockBusy", "record_shadow", "PID_SUFFIX", "recover_running_jobs",
           "process_start_ticks", "LOCK_WAIT_SECONDS", "RECORD_SUFFIX"]

#: how long a schedd waits for the queue lock held by another (exiting) schedd
LOCK_WAIT_SECONDS = 15.0
#: the suffix of a shadow record in $(SPOOL)/shadows
RECORD_SUFFIX = ".shadow"
#: the suffix of the pid file a shadow writes before it consumes its claim file
PID_SUFFIX = ".pid"


class QueueLockBusy(RuntimeError):
    """Another live schedd holds the queue lock; ``holder`` is its pid (None if unknown)."""

    def __init__(self, path: str, holder: Optional[int], waited: float):
        self.path, self.holder = path, holder
        super().__init__(f"the job queue lock {path} is held by another condor_schedd "
                         f"(pid {holder if holder else 'unknown'}) after waiting {waited:g} s")


class QueueLock:
    """An exclusive ``flock`` on ``path`` (normally ``$(SPOOL)/job_queue.db.lock``) held
    for the life of the schedd; the holder's pid is written into the file. The descriptor
    is not inherited by children (PEP 446), so a shadow never keeps the lock alive."""

    def __init__(self, path: str):
        self.path = path
        self.fd: Optional[int] = None

    def holder(self) -> Optional[int]:
        """The pid written by the current (or last) holder, None if unreadable."""
        try:
            with open(self.path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def acquire(self, timeout: float = LOCK_WAIT_SECONDS, poll: float = 0.1) -> None:
        """Take the lock, waiting at most ``timeout`` seconds. Raises QueueLockBusy (naming
        the holder's pid) when it is still held, OSError when the file cannot be opened."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= timeout:
                    os.close(fd)
                    raise QueueLockBusy(self.path, self.holder(), round(waited, 1)) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Drop the lock (the kernel also drops it when the process dies)."""
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def process_start_ticks(pid: int) -> Optional[int]:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or None when
    the process does not exist or is a zombie (exited, not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def record_shadow(runner, rec, job: tuple, base: str) -> bool:
    """Write the record of the shadow about to start for ``job`` on claim ``rec`` with file
    base name ``base``, *before* it is spawned (so no shadow ever runs without one).
    Returns False (and logs) when it cannot be written: that shadow cannot be adopted."""
    data = {"job": list(job), "claim": rec.claim, "startd": rec.startd, "slot": rec.name,
            "user": rec.user, "schedd_pid": os.getpid(), "time": int(time.time())}
    path = base + RECORD_SUFFIX
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(data))
        return True
    except OSError as exc:
        runner.s.dprintf(Category.ALWAYS, f"Cannot write the shadow record {path}: {exc}")
        return False


def _read_pid_file(path: str) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """``(pid, start ticks, run)`` from a shadow's pid file; ``run`` is the virtual pid of a
    shadow run as a thread of a shadow server (None for a shadow process)."""
    try:
        with open(path) as f:
            parts = f.read().split()
        ticks = int(parts[1]) if parts[1:] and parts[1] != "None" else None
        run = int(parts[2]) if parts[2:] else None
        return int(parts[0]), ticks, run
    except (OSError, ValueError, IndexError):
        return None, None, None


def _base_of(name: str) -> Optional[str]:
    """``<cluster>.<proc>.<seq>`` of a file in $(SPOOL)/shadows (the job ad, claim, report,
    the starter's mirrored result files, the record), None for anything else."""
    parts = name.split(".")
    if len(parts) < 4 or not all(x.lstrip("-").isdigit() for x in parts[:3]):
        return None
    return ".".join(parts[:3])


def _read_records(directory: str, log) -> tuple[list[dict], int, dict[str, list[str]]]:
    """``(records, highest seq, {base: [file names]})`` in ``directory``; unreadable records
    are logged and skipped (their shadow cannot be adopted)."""
    records, seq, files = [], 0, {}
    try:
        names = os.listdir(directory)
    except OSError:
        return records, seq, files
    for name in names:
        base = _base_of(name)
        if base is None:
            continue
        files.setdefault(base, []).append(name)
        seq = max(seq, int(base.rsplit(".", 1)[1]))
        if name != base + RECORD_SUFFIX:
            continue
        path = os.path.join(directory, name)
        try:
            with open(path) as f:
                data = json.load(f)
            data["base"] = os.path.join(directory, base)
            data["job"] = (int(data["job"][0]), int(data["job"][1]))
            records.append(data)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log(f"Ignoring the unreadable shadow record {path}: {exc}")
    return records, seq, files


def _claim_rec(runner, data: dict):
    from .shadows import ClaimRec
    slot = C.ClassAd({"MyAddress": data.get("startd") or "", "Name": data.get("slot") or ""})
    # key None never equals an autocluster signature: the claim is released, not reused
    rec = ClaimRec(str(data.get("claim") or ""), slot, str(data.get("user") or ""), None)
    rec.job, rec.pid, rec.base = data["job"], data["pid"], data["base"]
    rec.started = float(data.get("time") or time.time())
    return rec


def _watch(runner, pid: int, key: Optional[int] = None) -> None:
    """Run the shadow reaper for the adopted shadow ``key`` (default ``pid``) when process
    ``pid`` exits. It is not our child, so we cannot waitpid it: the status is -1 and the
    reaper takes the exit code from the shadow's report (ShadowExitCode).  A shadow run as a
    thread of a shadow server (``key`` its virtual pid) is reaped when that server exits,
    which it does once its last thread has finished (a restarted schedd sends it nothing)."""
    dc = runner.s.dc
    key = pid if key is None else key
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        dc.loop.call_soon(dc.deliver_exit, key, -1)
        return

    def exited() -> None:
        dc.loop.remove_reader(fd)
        os.close(fd)
        runner.adopted.discard(key)
        dc.deliver_exit(key, -1)

    def close() -> None:
        if key in runner.adopted:
            runner.adopted.discard(key)
            dc.loop.remove_reader(fd)
            os.close(fd)
    dc.loop.add_reader(fd, exited)
    dc.add_shutdown_hook(close)


def recover_running_jobs(runner) -> None:
    """At schedd start-up: adopt the live shadows of a crashed schedd, apply the reports of
    those that exited meanwhile, and put Running jobs nobody runs back to Idle (see the
    module doc). ``runner`` is the schedd's :class:`~.shadows.JobRunner` (its ``dir``,
    ``shadows``, ``reaper`` and ``_seq`` are used)."""
    s = runner.s
    q = s.queue
    log = lambda m: s.dprintf(Category.ALWAYS, m)  # noqa: E731
    runner.adopted = set()
    records, seq, files = _read_records(runner.dir, log)
    runner._seq = max(runner._seq, seq)
    running = {(c, p) for c, p in q.jobs() if job_status(q, c, p) == J.RUNNING}
    # removed while they ran (RemoteHost still set): they leave the queue once no shadow runs them
    removed = {(c, p) for c, p in q.jobs()
               if job_status(q, c, p) == J.REMOVED and q.lookup(c, p, "RemoteHost") is not None}
    keep: set[str] = set()
    dead = []
    for data in sorted(records, key=lambda d: d["job"]):
        job, base = data["job"], data["base"]
        # the claim file is the hand-off: whoever removes it first owns the run.  If we
        # can, no shadow will ever activate the claim (one that has just read it fails
        # to delete it and exits); if it is gone, the shadow took it and its pid file,
        # written before, says which process runs the job.
        try:
            os.unlink(base + ".claim")
            taken = False
        except FileNotFoundError:
            taken = True
        except OSError:
            taken = False
        pid, ticks, run = _read_pid_file(base + PID_SUFFIX)
        start = process_start_ticks(pid) if pid else None
        alive = taken and start is not None and (ticks is None or start == ticks)
        # the key the run is tracked under: the shadow's pid, or a thread's virtual pid
        key = run if run is not None else pid
        data["pid"] = key
        what = f"shadow pid {pid}" if run is None else f"shadow thread {run} of pid {pid}"
        if alive and job in q.ads and key not in runner.shadows:
            rec = _claim_rec(runner, data)
            runner.shadows[key] = rec
            runner.adopted.add(key)
            s.dc.register_child(key, ["condor_shadow", f"{job[0]}.{job[1]}", "(adopted)"], runner.reaper)
            _watch(runner, pid, key)
            keep.add(base)
            running.discard(job)
            removed.discard(job)
            log(f"Adopted {what} of job {job[0]}.{job[1]} on {rec.name} "
                f"(left by schedd pid {data.get('schedd_pid')})")
        elif alive and run is None:
            log(f"Shadow pid {pid} runs job {job[0]}.{job[1]}, which left the queue: killing it")
            try:
                os.kill(pid, 3)
            except OSError:
                pass
        elif alive:
            # a thread cannot be signalled from here: it finishes the job, and its report
            # (for a job no longer in the queue) is removed at the next start-up
            log(f"The {what} runs job {job[0]}.{job[1]}, which left the queue: leaving it")
        elif taken and pid and (job in running or job in removed):
            dead.append(data)
            keep.add(base)
            running.discard(job)
            removed.discard(job)
        elif not taken and data.get("claim"):
            # no shadow ran the job on this claim: give the claim back to the startd
            data["pid"] = None
            s.dc.spawn(runner._release(_claim_rec(runner, data)), name="release orphaned claim")
    for base, names in files.items():   # leftovers of reaped or never-started shadows
        if os.path.join(runner.dir, base) not in keep:
            for name in names:
                try:
                    os.unlink(os.path.join(runner.dir, name))
                except OSError:
                    pass
    if running:
        tx = q.begin()
        now = int(time.time())
        for c, p in sorted(running):
            J._set_status(tx, c, p, J.IDLE, now)
        tx.commit()
        log(f"Marked {len(running)} running job(s) without a shadow idle at startup")
    if removed:
        tx = q.begin()
        now = int(time.time())
        events = []
        for c, p in sorted(removed):
            tx.delete_attribute(c, p, "RemoteHost")
            events.append(J.abort_event(tx, c, p, now))
            tx.retire(c, p, now)
        tx.commit()
        s.write_events(events)
        log(f"Retired {len(removed)} removed job(s) whose shadow is gone at startup")
    for data in dead:
        # the shadow exited while no schedd ran: its report decides, as if we had reaped it
        rec = _claim_rec(runner, data)
        runner.shadows[rec.pid] = rec
        s.dc.register_child(rec.pid, ["condor_shadow", "%d.%d" % rec.job, "(exited)"], runner.reaper)
        log(f"Shadow {rec.pid} of job {rec.job[0]}.{rec.job[1]} exited while the schedd "
            "was down: applying its report")
        s.dc.loop.call_soon(s.dc.deliver_exit, rec.pid, -1)
