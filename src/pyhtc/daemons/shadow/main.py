"""``condor_shadow``: runs on the submit host for one running job (src/condor_shadow.V6.1:
shadow.cpp, baseshadow.cpp, remoteresource.cpp), one process per job, spawned by the schedd.

What it does, in order:

1. reads the job ad and the claim id from the files the schedd wrote (the claim file is
   deleted once read: a claim id is a secret); the job ad file is read once and only the
   attributes the shadow uses are parsed (:mod:`.jobad`), the claim file also carries the
   claim's match session, built once per claim by the schedd (:mod:`.claimcmd`);
2. ACTIVATE_CLAIM (444) at the startd with the job ad (retried while the startd answers
   CONDOR_TRY_AGAIN or "not idle": the previous starter of a reused claim is still leaving);
   a refusal ends the shadow with JOB_NOT_STARTED (108);
   when the job transfers files, a :class:`~.transfer.TransferServer` is offered to the
   starter as ``TransferSocket`` / ``TransferKey`` (bound to NETWORK_INTERFACE, default
   127.0.0.1);
3. writes EXECUTE to the user log, then follows the starter: until the shadow<->starter
   CEDAR protocol exists, the starter mirrors its usage updates and its result ad to the file
   named by the job attribute ``_condor_ShadowResultFile`` (same host only) and nudges
   the shadow through the FIFO ``<that file>.fifo`` after each write (:class:`Wakeup`), so
   the shadow sleeps instead of polling; a larger ImageSize writes IMAGE_SIZE;
4. evaluates the job's exit policy as baseshadow.cpp does: ``OnExitHold`` true -> hold (code
   3 JobPolicy, ``OnExitHoldReason`` / ``OnExitHoldSubCode``); ``OnExitRemove`` false ->
   requeue (JOB_EVICTED with TerminatedAndRequeued, as logRequeueEvent); else JOB_TERMINATED;
   a starter hold (OOM: code 34) -> hold; an eviction -> JOB_EVICTED and requeue;
5. waits for the starter to finish cleaning up (its ".done" marker); a vacated claim
   (SIGTERM/SIGQUIT from the schedd: DEACTIVATE_CLAIM(_FORCIBLY)) is not reused;
6. writes the attribute updates for the schedd (``-report FILE``: ExitCode, ExitBySignal,
   NumJobCompletions, RemoteUserCpu, ImageSize, HoldReason..., ``ClaimReusable``, and
   ``ShadowExitCode`` for a restarted schedd that adopted the shadow) and exits
   with the exit code of src/condor_includes/exit.h (:mod:`.exitcodes`) that the schedd's
   reaper turns into the job's fate.

Command line: ``condor_shadow CLUSTER.PROC -job-ad FILE -claim-file FILE -startd SINFUL
-report FILE [-slot NAME] [-pid-file FILE]``.  Signals: SIGTERM = vacate the job
(DEACTIVATE_CLAIM), SIGQUIT = kill it (DEACTIVATE_CLAIM_FORCIBLY); the shadow then waits for
the starter's result.
"""
from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional

from pyhtc.daemoncore.adfile import read_ad, write_ad
from pyhtc import classad as C
from pyhtc.cedar.wire_ad import literal, to_classad
from pyhtc.client.core import client_policy
from pyhtc.config import Config, ConfigError
from pyhtc.daemoncore.log import Category, DebugLog
from pyhtc.cedar import claims as P
from pyhtc.cedar.security.match import claim_session, new_claim_id
from pyhtc.userlog import JobEventType, UserLog, make_event
from pyhtc.userlog.usage import rusage_string, usage_fields_from_job_ad

from pyhtc.filetransfer.plan import should_transfer_files

from pyhtc.daemoncore import exitcodes as X
from pyhtc.daemoncore.handoff import read_claim_file, session_line, write_claim_file, write_job_ad
from .claimcmd import ClaimCommands, connect
from .jobad import JobAdFile, literals_only
from .transfer import TransferServer

#: modules imported at first use; a fork server (pyhtc.daemoncore.zygote) imports them once
FORK_SERVER_PRELOAD = ("pyhtc.cedar.security.authentication", "pyhtc.cedar.security.negotiation",
                       "pyhtc.cedar.security.policy", "pyhtc.cedar.errors", "pyhtc.cedar.framing",
                       "pyhtc.classad.unparse", "pyhtc.classad.oldsyntax", "pyhtc.userlog.reader",
                       "pyhtc.cedar.crypto", "pwd", "pyhtc.config.detect", "psutil", "encodings.idna",
                       "cryptography.hazmat.primitives.serialization", "pyhtc.cedar.security.match",
                       "pyhtc.cedar.transport_blocking", "pyhtc.procd.procinfo", "tempfile",
                       "cryptography.hazmat.primitives.asymmetric.ec")

#: how long a reused claim's previous starter may take to leave (seconds)
ACTIVATION_RETRY_SECONDS = 30
#: how long the starter may take to clean its sandbox up once the job has exited (seconds)
STARTER_CLEANUP_SECONDS = 10
#: how long after the activation the starter may take to report that it started (seconds)
STARTER_START_SECONDS = 60
HOLD_JOB_POLICY = 3
HOLD_FAILED_TO_CREATE_PROCESS = 6
#: job attributes the shadow evaluates (the exit policy, the usage summary)
_EVALUATED = ("OnExitHold", "OnExitRemove", "OnExitHoldReason", "OnExitHoldSubCode",
              "RequestCpus", "RequestMemory", "RequestDisk", "MemoryUsage")
#: job attributes the shadow reads: only their lines of the job ad file are parsed
_JOB_ATTRS = ("UserLog", "Iwd", "ShouldTransferFiles", "NumJobCompletions") + _EVALUATED




def _truthy(v) -> bool:
    return v is True or (isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0)


def _num(v, default=0):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else default


class Wakeup:
    """The starter's nudge: a FIFO at ``path`` that the starter writes a byte to after each
    file it mirrors for us (:meth:`pyhtc.daemons.starter.main.Starter.mirror_for_shadow`),
    so the shadow sleeps until something happened instead of polling.  The shadow keeps a
    writer open itself so that the FIFO never reads as end-of-file.  Without a FIFO
    (cannot be made) :meth:`wait` is a plain sleep."""

    def __init__(self, path: str):
        self.path = path
        self.rfd = self.wfd = -1
        try:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            os.mkfifo(path, 0o600)
            self.rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            self.wfd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            self.close()

    def wait(self, seconds: float) -> None:
        """Return when the starter nudged us (pending nudges are consumed) or after
        ``seconds``.  (poll, not select: a shadow server running many shadows as threads
        has descriptors above FD_SETSIZE.)"""
        rfd = self.rfd
        if rfd < 0:
            time.sleep(seconds)
            return
        poller = select.poll()
        poller.register(rfd, select.POLLIN)
        if poller.poll(max(0, int(seconds * 1000))):
            try:
                os.read(rfd, 4096)
            except (BlockingIOError, OSError):
                pass

    def nudge(self) -> None:
        """Wake :meth:`wait` up now (a signal arrived for a shadow run as a thread)."""
        if self.wfd >= 0:
            try:
                os.write(self.wfd, b"!")
            except OSError:
                pass

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            if fd >= 0:
                os.close(fd)
        self.rfd = self.wfd = -1
        try:
            os.unlink(self.path)
        except OSError:
            pass


def write_pid_file(path: str, run: Optional[int] = None) -> None:
    """``-pid-file``: write ``"<pid> <start time in clock ticks>"`` (field 22 of
    /proc/self/stat), followed by `` <run>`` for a shadow run as a thread of a shadow
    server (its virtual pid, :mod:`pyhtc.daemoncore.zygote` threads mode: the process runs
    other jobs' shadows too).  The shadow writes it *before* it consumes its claim file, so a
    schedd restarted after a crash finds every shadow that may run its job and tells it
    from a later process with the same pid (src/pyhtc/daemons/schedd/recovery.py).  One
    write(2) into the file, no temporary file renamed over it: the schedd's recovery only
    believes a pid file once the claim file is gone, which happens after this returns (a
    shadow that dies before that leaves a claim file, and recovery then ignores the pid
    file).  Raises OSError."""
    try:
        fd = os.open("/proc/self/stat", os.O_RDONLY | os.O_CLOEXEC)
        try:
            stat = os.read(fd, 4096)
        finally:
            os.close(fd)
        ticks = stat.rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        ticks = "None"
    data = f"{os.getpid()} {ticks}{'' if run is None else f' {run}'}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to the pid file {path}")
    finally:
        os.close(fd)


class StarterLost(Exception):
    """The starter went away without reporting the job's exit (JOB_EXCEPTION)."""


def _alive(pid) -> bool:
    """Whether process ``pid`` exists (a process we may not inspect, or an unknown pid,
    counts as alive)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return True
    from pyhtc.procd.procinfo import pid_alive
    return pid_alive(pid)


class Shadow:
    """One job's shadow; :meth:`run` returns the exit code.  ``run``: the virtual pid of a
    shadow run as a thread of a shadow server (:func:`thread_main`), written to the pid
    file; None for a shadow process."""

    def __init__(self, ns: ShadowArgs, config: Config, log: DebugLog, run: Optional[int] = None):
        self.ns, self.config, self.log = ns, config, log
        self.cluster, self.proc = (int(x) for x in ns.job_id.split("."))
        # the job ad file is read once; self.job holds the attributes the shadow reads
        # (the whole ad when one it evaluates is not a constant: see _need_whole_job)
        self.jobfile = JobAdFile(ns.job_ad)
        self.job = self.jobfile.project(_JOB_ATTRS)
        self._whole_job = self.jobfile.pairs is None   # project() gave the whole ad
        if ns.pid_file:  # before the claim is taken (the schedd's recovery relies on it)
            write_pid_file(ns.pid_file, run)
        self.claim, session = read_claim_file(ns.claim_file)
        os.unlink(ns.claim_file)
        self.policy = client_policy(config)
        # the claim id's match session replaces authentication (remoteresource.cpp)
        self.commands = ClaimCommands(ns.startd, self.claim, self.policy, config.param_boolean(
            "SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION", True), session)
        self.result_file = ns.report + ".starter"
        self.wakeup = Wakeup(self.result_file + ".fifo")
        self.report = C.ClassAd()
        self.signals: list[int] = []
        self._update_stamp: Optional[tuple] = None
        self.vacate_sent = False
        self.transfer = None
        if not literals_only(self.job, ("ShouldTransferFiles",)):
            self._need_whole_job(force=True)
        if should_transfer_files(self.job) != "NO":
            # the transfer server reads any attribute: it shares the whole ad with the shadow
            self._need_whole_job(force=True)
            host = config.param("NETWORK_INTERFACE") or "127.0.0.1"
            self.transfer = TransferServer(self.job, host if host not in ("*", "0.0.0.0") else "127.0.0.1",
                                           log=lambda m: log.dprintf(Category.ALWAYS, m))

    # -- user log ----------------------------------------------------------------------
    def user_log(self) -> Optional[str]:
        log = self.job.get("UserLog")
        if not isinstance(log, str) or not log:
            return None
        if not os.path.isabs(log):
            log = os.path.join(str(self.job.get("Iwd") or "/"), log)
        return log

    def event(self, etype, **fields) -> None:
        path = self.user_log()
        if path is None:
            return
        try:
            with UserLog(path) as ul:
                ul.write(make_event(etype, self.cluster, self.proc, 0, **fields))
        except (OSError, ValueError) as exc:
            self.log.dprintf(Category.ALWAYS, f"Cannot write to user log {path}: {exc}")

    # -- startd ------------------------------------------------------------------------
    def activate(self) -> tuple[bool, str]:
        """ACTIVATE_CLAIM; (True, "") or (False, reason)."""
        extra = []
        if self.transfer is not None:
            extra += [("TransferSocket", literal(self.transfer.address)),
                      ("TransferKey", literal(self.transfer.key))]
        extra += [("_condor_ShadowResultFile", literal(self.result_file)),
                  ("_condor_send_activation_failure_ad", literal(True))]
        wire = self.jobfile.wire_with(extra)
        deadline = time.time() + ACTIVATION_RETRY_SECONDS
        while True:
            with self.commands.start(P.ACTIVATE_CLAIM) as s:
                s.put_string(self.claim)
                s.put_int(0)
                s.put_ad(wire)
                s.end_of_message()
                reply = s.get_int()
                why = ""
                if reply != P.OK:
                    extra = to_classad(s.get_ad())
                    why = str(extra.get("VacateReason", ""))
                s.end_of_message()
            if reply == P.OK:
                return True, ""
            retry = reply == P.CONDOR_TRY_AGAIN or "not idle" in why
            if not retry or time.time() > deadline:
                return False, why or f"startd refused activation ({reply})"
            time.sleep(0.05)  # the previous starter of a reused claim is leaving

    def deactivate(self, forcibly: bool = False) -> bool:
        """DEACTIVATE_CLAIM(_FORCIBLY); returns the reply's Start (claim may be reused)."""
        try:
            cmd = P.DEACTIVATE_CLAIM_FORCIBLY if forcibly else P.DEACTIVATE_CLAIM
            with self.commands.start(cmd) as s:
                s.put_string(self.claim)
                s.end_of_message()
                ad = to_classad(s.get_ad())
                s.end_of_message()
            return ad.get("Start") is True
        except Exception as exc:  # the startd may be gone: the claim then is too
            self.log.dprintf(Category.ALWAYS, f"DEACTIVATE_CLAIM failed: {exc}")
            return False

    # -- main --------------------------------------------------------------------------
    def wait_result(self) -> C.ClassAd:
        """Poll the starter's mirrored update/result files; writes IMAGE_SIZE events."""
        last_size = 0
        starter_pid = None
        began = time.time()
        vacated_at = None
        while True:
            while self.signals:
                sig = self.signals.pop(0)
                if not self.vacate_sent:
                    self.vacate_sent = True
                    self.log.dprintf(Category.ALWAYS, f"Got signal {sig}: vacating the job")
                    self.deactivate(forcibly=sig != signal.SIGTERM)
                    vacated_at = time.time()
            try:
                return read_ad(self.result_file)
            except FileNotFoundError:
                pass
            if starter_pid is None:
                try:
                    starter_pid = read_ad(self.result_file + ".started").get("StarterPid")
                except (FileNotFoundError, SyntaxError):
                    pass
                now = time.time()
                if starter_pid is None and (now - began > STARTER_START_SECONDS or (
                        vacated_at is not None and now - vacated_at > STARTER_CLEANUP_SECONDS)):
                    raise StarterLost("the starter never started the job")
            elif not _alive(starter_pid) and not os.path.exists(self.result_file):
                raise StarterLost(f"the starter (pid {starter_pid}) exited without a result")
            upd = self._read_if_changed(self.result_file + ".update")
            if upd is not None:
                for k in ("RemoteUserCpu", "RemoteSysCpu", "ImageSize", "ResidentSetSize", "MemoryUsage"):
                    if k in upd:
                        self.report[k] = upd[k]
                size = _num(upd.get("ImageSize"))
                if size > last_size:
                    last_size = size
                    self.event(JobEventType.IMAGE_SIZE, Size=int(size),
                               MemoryUsage=int(_num(upd.get("MemoryUsage"), 0)),
                               ResidentSetSize=int(_num(upd.get("ResidentSetSize"), 0)))
            # the starter nudges us after every file it writes; the timeout only bounds
            # how late a starter that died silently or a signal is noticed
            self.wakeup.wait(0.25)

    def _read_if_changed(self, path: str) -> Optional[C.ClassAd]:
        """The ad in ``path`` when the file changed since the last call (size, mtime,
        inode), else None (also None when absent or unreadable): the usage file is
        rewritten whole (renamed over), so an unchanged stamp means unchanged contents."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._update_stamp == stamp:
            return None
        try:
            ad = read_ad(path)
        except (OSError, SyntaxError):
            return None
        self._update_stamp = stamp
        return ad

    def wait_done(self, seconds: float) -> bool:
        """Wait (at most ``seconds``) for the starter's ".done" marker."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if os.path.exists(self.result_file + ".done"):
                return True
            self.wakeup.wait(min(0.25, max(0.0, deadline - time.time())))
        return False

    def run(self) -> int:
        start = time.time()
        try:
            ok, why = self.activate()
        except Exception as exc:
            ok, why = False, f"cannot contact the startd {self.ns.startd}: {exc}"
        if not ok:
            self.log.dprintf(Category.ALWAYS, f"Activation of claim at {self.ns.startd} failed: {why}")
            self.report["ShadowError"] = why
            self.report["ClaimReusable"] = False
            self.report["ShadowExitCode"] = X.JOB_NOT_STARTED  # for a schedd that adopted us
            write_ad(self.ns.report, self.report)
            if self.transfer is not None:
                self.transfer.stop()
            return X.JOB_NOT_STARTED
        self.log.dprintf(Category.ALWAYS, f"Job {self.ns.job_id} is running at {self.ns.startd}")
        fields = {"ExecuteHost": self.ns.startd}
        if self.ns.slot:
            fields["SlotName"] = self.ns.slot
        self.event(JobEventType.EXECUTE, **fields)
        self.report["JobCurrentStartExecutingDate"] = int(start)
        result = self.wait_result()
        code = self.judge(result)
        # the starter cleans its sandbox up and exits; the claim then is idle again and may
        # run the schedd's next job (a vacated claim is not reused)
        self.wait_done(STARTER_CLEANUP_SECONDS)
        for suffix in ("", ".update", ".done", ".started"):
            try:
                os.unlink(self.result_file + suffix)
            except OSError:
                pass
        self.wakeup.close()
        self.report["ClaimReusable"] = not self.vacate_sent
        self.report["ShadowExitCode"] = code  # for a schedd that adopted us (cannot waitpid)
        if self.transfer is not None:
            for direction, res in self.transfer.results:
                self.log.dprintf(Category.ALWAYS, f"File transfer of the {direction}: "
                                 f"{'succeeded' if res.success else 'FAILED: ' + res.reason}, "
                                 f"{res.files} file(s), {res.bytes} bytes")
            self.transfer.stop()
        write_ad(self.ns.report, self.report)
        self.log.dprintf(Category.ALWAYS, f"Job {self.ns.job_id} done: exiting with "
                                          f"{X.NAMES.get(code, code)} ({code})")
        return code

    def judge(self, result: C.ClassAd) -> int:
        """The job's fate from the starter's result and the job's exit policy."""
        rep = self.report
        for k in ("RemoteUserCpu", "RemoteSysCpu", "ImageSize", "ResidentSetSize", "MemoryUsage",
                  "JobDuration"):
            if k in result:
                rep[k] = result[k]
        rep["RemoteWallClockTime"] = float(_num(result.get("RemoteWallClockTime"), 0))
        outcome = result.get("Outcome")
        usage = rusage_string(_num(rep.get("RemoteUserCpu")), _num(rep.get("RemoteSysCpu")))
        zero = rusage_string(0, 0)
        if outcome == "Failed":
            reason = str(result.get("ErrorReason") or "Failed to execute the job")
            rep.update({"HoldReason": reason, "HoldReasonCode": HOLD_FAILED_TO_CREATE_PROCESS,
                        "HoldReasonSubCode": 0})
            return X.JOB_SHOULD_HOLD
        if outcome == "Held":
            for k in ("HoldReason", "HoldReasonCode", "HoldReasonSubCode"):
                if k in result:
                    rep[k] = result[k]
            return X.JOB_SHOULD_HOLD
        by_signal = result.get("ExitBySignal") is True
        if outcome == "Evicted":
            self.event(JobEventType.JOB_EVICTED, Checkpointed=False, TerminatedAndRequeued=False,
                       TerminatedNormally=False, RunLocalUsage=zero, RunRemoteUsage=usage,
                       SentBytes=0.0, ReceivedBytes=0.0)
            return X.JOB_SHOULD_REQUEUE
        # the job exited: exit attributes, then OnExitHold / OnExitRemove (baseshadow.cpp)
        self._need_whole_job()
        job = self.job
        rep["ExitBySignal"] = by_signal
        if by_signal:
            rep["ExitSignal"] = int(_num(result.get("ExitSignal")))
        else:
            rep["ExitCode"] = int(_num(result.get("ExitCode")))
        rep["NumJobCompletions"] = int(_num(job.get("NumJobCompletions"))) + 1
        job.update(rep)
        term = {"TerminatedNormally": not by_signal}
        if by_signal:
            term["TerminatedBySignal"] = rep["ExitSignal"]
        else:
            term["ReturnValue"] = rep["ExitCode"]
        if self.policy_true("OnExitHold", False):
            reason = job.eval("OnExitHoldReason") if "OnExitHoldReason" in job else None
            if not isinstance(reason, str) or not reason:
                reason = (f"The job attribute OnExitHold expression "
                          f"'{job.lookup('OnExitHold')}' evaluated to TRUE")
            sub = job.eval("OnExitHoldSubCode") if "OnExitHoldSubCode" in job else 0
            rep.update({"HoldReason": reason, "HoldReasonCode": HOLD_JOB_POLICY,
                        "HoldReasonSubCode": int(_num(sub))})
            self.event(JobEventType.JOB_TERMINATED, RunLocalUsage=zero, RunRemoteUsage=usage,
                       TotalLocalUsage=zero, TotalRemoteUsage=usage, SentBytes=0.0,
                       ReceivedBytes=0.0, TotalSentBytes=0.0, TotalReceivedBytes=0.0,
                       **term, **usage_fields_from_job_ad(self._usage_ad()))
            return X.JOB_SHOULD_HOLD
        if not self.policy_true("OnExitRemove", True):
            self.event(JobEventType.JOB_EVICTED, Checkpointed=False, TerminatedAndRequeued=True,
                       RunLocalUsage=zero, RunRemoteUsage=usage, SentBytes=0.0, ReceivedBytes=0.0,
                       Reason="The job attribute OnExitRemove expression "
                              f"'{job.lookup('OnExitRemove')}' evaluated to FALSE", **term)
            return X.JOB_SHOULD_REQUEUE
        self.event(JobEventType.JOB_TERMINATED, RunLocalUsage=zero, RunRemoteUsage=usage,
                   TotalLocalUsage=zero, TotalRemoteUsage=usage, SentBytes=0.0, ReceivedBytes=0.0,
                   TotalSentBytes=0.0, TotalReceivedBytes=0.0,
                   **term, **usage_fields_from_job_ad(self._usage_ad()))
        return X.JOB_EXITED

    def _need_whole_job(self, force: bool = False) -> None:
        """Make :attr:`job` the whole job ad (once), when ``force`` or unless every attribute
        the shadow evaluates is absent or a constant in it (an expression may read any
        attribute of the ad)."""
        if not self._whole_job and (force or not literals_only(self.job, _EVALUATED)):
            self.job = self.jobfile.full()
            self._whole_job = True

    def _usage_ad(self) -> dict:
        out = {}
        for k in ("RequestCpus", "RequestMemory", "RequestDisk", "MemoryUsage"):
            if k in self.job:
                v = self.job.eval(k)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[k] = v
        return out

    def policy_true(self, attr: str, default: bool) -> bool:
        """A job policy expression; UNDEFINED/ERROR give ``default`` (user_job_policy.cpp
        treats an undefined OnExitRemove as true, OnExitHold as false)."""
        if attr not in self.job:
            return default
        try:
            v = self.job.eval(attr)
        except Exception:
            return default
        if isinstance(v, (bool, int, float)):
            return _truthy(v)
        return default


@dataclass
class ShadowArgs:
    """The shadow's command line (see the module docstring)."""
    job_id: str
    job_ad: str
    claim_file: str
    startd: str
    report: str
    slot: str = ""
    pid_file: str = ""
    f: bool = False


class UsageError(ValueError):
    """A bad shadow command line (the message says what was wrong)."""


#: flag -> ShadowArgs field, for the flags that take a value
_VALUE_FLAGS = {"-job-ad": "job_ad", "-claim-file": "claim_file", "-startd": "startd",
                "-report": "report", "-slot": "slot", "-pid-file": "pid_file"}
_REQUIRED = ("-job-ad", "-claim-file", "-startd", "-report")
USAGE = ("usage: condor_shadow [-f] JOB_ID -job-ad FILE -claim-file FILE -startd SINFUL "
         "-report FILE [-slot NAME] [-pid-file FILE]")


def parse_args(argv: list[str]) -> ShadowArgs:
    """The shadow's flags (see the module docstring): ``CLUSTER.PROC`` once, ``-f``, and
    ``-flag VALUE`` or ``-flag=VALUE`` for the others; no abbreviations.  Raises UsageError
    naming the offending argument (a hand-written parser: argparse costs ~20 ms a shadow)."""
    values: dict = {}
    job_id = None
    fg = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "-f":
            fg = True
            continue
        name, eq, inline = arg.partition("=")
        if name in _VALUE_FLAGS:
            if eq:
                value = inline
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                raise UsageError(f"argument {name}: expected one argument")
            values[_VALUE_FLAGS[name]] = value
            continue
        if arg.startswith("-") and arg != "-":
            raise UsageError(f"unrecognized argument: {arg}")
        if job_id is not None:
            raise UsageError(f"unrecognized argument: {arg}")
        job_id = arg
    missing = [f for f in _REQUIRED if _VALUE_FLAGS[f] not in values]
    if job_id is None:
        missing.insert(0, "JOB_ID")
    if missing:
        raise UsageError(f"the following arguments are required: {', '.join(missing)}")
    return ShadowArgs(job_id=job_id, f=fg, **values)


def _load_config(environ) -> Config:
    """The shadow's configuration, loaded exactly as :func:`main` loads it (the fork server's
    warm-up loads it the same way so that the children's load is a memo hit)."""
    return Config.load("SHADOW", None, environ=environ, read_user_config=False)


def _warm_wire_and_addresses() -> None:
    """Decode small wire ads (the session resume reply, DEACTIVATE_CLAIM's reply, an
    activation refusal: their readers compile a pattern per attribute count) and parse
    addresses as start_command does, so those patterns are compiled before forking."""
    from pyhtc.cedar.codec import Decoder, Encoder
    from pyhtc.cedar.wire_ad import WireAd, get_ad, put_ad
    from pyhtc.client.core import parse_address
    for n in range(1, 9):
        wire = WireAd.from_values({f"A{i}": i for i in range(n)})
        for crypto in (False, True):
            data = bytes(put_ad(Encoder(crypto_mode=crypto), wire).data)
            get_ad(Decoder(data, crypto_mode=crypto))
    for addr in ("<127.0.0.1:1>", "<127.0.0.1:1?addrs=127.0.0.1-1&alias=h&noUDP&sock=x>",
                 "127.0.0.1:1"):
        parse_address(addr)


def _fake_startd(sock, claim: str, result_file: str = "") -> None:
    """The startd's side of one ACTIVATE_CLAIM over the connected socket ``sock`` (resume of
    ``claim``'s match session, the activation message, the OK reply), for the warm-up;
    then, with ``result_file``, the starter's: the files a job that exited at once leaves
    for the shadow, each followed by a nudge of its FIFO."""
    from pyhtc.cedar.codec import Encoder
    from pyhtc.cedar.framing import ReliConnection
    from pyhtc.cedar.ops import Send
    from pyhtc.cedar.security.match import SUBMIT_SIDE_MATCHSESSION_FQU, ClaimId
    from pyhtc.cedar.security.negotiation import server_handshake
    from pyhtc.cedar.security.policy import SecurityPolicy
    from pyhtc.cedar.security.sessions import SessionCache
    from pyhtc.cedar.wire_ad import get_ad
    conn = ReliConnection()
    sessions = SessionCache()
    sessions.add(claim_session(ClaimId(claim), SUBMIT_SIDE_MATCHSESSION_FQU))

    def receive():
        while True:
            msg = conn.next_message()
            if msg is not None:
                return msg
            conn.receive_data(sock.recv(65536))

    try:
        gen = server_handshake(conn, SecurityPolicy(), sessions, my_ip="127.0.0.1", my_port=1,
                               peer_address="127.0.0.1:2")
        value = None
        while True:
            try:
                op = gen.send(value)
            except StopIteration:
                break
            value = None
            if isinstance(op, Send):
                sock.sendall(conn.send_message(op.payload))
            else:
                value = receive()
        dec = receive().decoder()
        dec.get_string()
        dec.get_int()
        get_ad(dec)
        sock.sendall(conn.send_message(Encoder(conn.crypto_mode).put_int(P.OK).data))
    finally:
        sock.close()
    if result_file:   # the starter's side: what Starter.mirror_for_shadow writes
        result = C.ClassAd({"Outcome": "Exited", "ExitCode": 0, "ExitBySignal": False,
                            "RemoteUserCpu": 0.0, "RemoteSysCpu": 0.0, "ImageSize": 1,
                            "RemoteWallClockTime": 0.0})
        for suffix, ad in ((".started", C.ClassAd({"StarterPid": os.getpid()})), ("", result),
                           (".done", C.ClassAd({"Done": True}))):
            write_ad(result_file + suffix, ad)
            try:
                fd = os.open(result_file + ".fifo", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                os.write(fd, b"!")
                os.close(fd)
            except OSError:
                pass


def _warm_run(shadow: "Shadow") -> int:
    """:meth:`Shadow.run` as a shadow runs it, against :func:`_fake_startd` in a thread over
    a socketpair (no network): the claim session's resume, the switch to AES-GCM (the
    first AES-GCM context a process makes costs a millisecond: the library's one-time
    set-up), the activation, the user log events, the starter's files, the exit policy
    and the report.  Returns the exit code; raises RuntimeError when the job did not
    exit as the fake starter said."""
    import socket
    import threading
    mine, theirs = socket.socketpair()
    server = threading.Thread(target=_fake_startd, daemon=True,
                              args=(theirs, shadow.claim, shadow.result_file))
    server.start()
    shadow.commands.connector = lambda host, port, timeout: mine
    try:
        mine.settimeout(10)
        code = shadow.run()
    finally:
        shadow.commands.connector = connect
        mine.close()
        server.join(10)
    if code != X.JOB_EXITED:
        raise RuntimeError(f"warm-up shadow ended with {X.NAMES.get(code, code)}: "
                           f"{shadow.report.get('ShadowError')}")
    return code


#: how often the warm-up runs a shadow's local work: Python specializes code that runs a
#: few times, so the children run specialized code without rewriting it in their copies
WARMUP_ROUNDS = 10


def _warm_once(tmp: str, n: int) -> None:
    """One pass of a shadow's local work on scratch files in ``tmp`` (see
    :func:`fork_server_warmup`), from the configuration load on (a memo hit after the
    first pass, as in a child)."""
    config = _load_config(os.environ)
    client_policy(config)
    job = C.ClassAd({"ClusterId": 1, "ProcId": n, "JobUniverse": 5, "Cmd": "/bin/true",
                     "Iwd": tmp, "UserLog": "warm.log", "Owner": "nobody",
                     "RequestCpus": 1, "RequestMemory": 1, "RequestDisk": 1,
                     "ShouldTransferFiles": "NO", "OnExitRemove": C.ExprTree("ExitCode =?= 0"),
                     "OnExitHold": C.ExprTree("false")})
    if n % 2:   # both ways of reading the job ad: the policy expressions need all of it
        del job["OnExitRemove"], job["OnExitHold"]
    paths = {k: os.path.join(tmp, f"{k}.{n}") for k in ("job.ad", "claim", "report", "pid")}
    write_job_ad(paths["job.ad"], job)
    cid = new_claim_id("<127.0.0.1:1>", int(time.time()), n + 1)
    write_claim_file(paths["claim"], cid.text, session_line(cid.text))
    ns = parse_args([f"1.{n}", "-f", "-job-ad", paths["job.ad"], "-claim-file", paths["claim"],
                     "-startd", "<127.0.0.1:1>", "-report", paths["report"], "-slot",
                     "slot1_1@warm", "-pid-file", paths["pid"]])
    log = DebugLog(os.path.join(tmp, "ShadowLog"), debug=config.param("SHADOW_DEBUG"))
    shadow = Shadow(ns, config, log)
    try:
        _warm_run(shadow)
        _warm_wire_and_addresses()
        _alive(os.getpid())
    finally:
        shadow.wakeup.close()
        log.close()


def fork_server_warmup() -> None:
    """Called once by the shadow fork server (:mod:`pyhtc.daemoncore.zygote`) before it
    serves: loads the configuration as :func:`main` does and runs a shadow's local work
    :data:`WARMUP_ROUNDS` times on scratch files (argument parsing, ad files, the claim
    session, then :meth:`Shadow.run` for a job that exits at once, against a fake startd
    and starter over a socketpair: :func:`_warm_run`), so the regular expressions, lazy
    imports, caches and specialized code each forked shadow would build are built here
    once and inherited.  No network traffic; nothing outside a temporary directory is
    written.  Ends with ``gc.freeze()`` (the
    forked children share the fork server's objects copy-on-write)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="shadow-warmup-") as tmp:
        for n in range(WARMUP_ROUNDS):
            _warm_once(tmp, n)
    # everything the fork server holds now is inherited by every shadow: keep the cyclic
    # garbage collector off those objects, so a child's collections neither scan them nor
    # write to (and so copy) the pages they share with the fork server
    import gc
    gc.collect()
    gc.freeze()


def _debug_log(config: Config) -> DebugLog:
    """The shadow's debug log ($(SHADOW_LOG), else $(LOG)/ShadowLog, with SHADOW_DEBUG)."""
    base = config.param("SHADOW_LOG") or os.path.join(config.param("LOG") or "/tmp", "ShadowLog")
    return DebugLog(base, debug=config.param("SHADOW_DEBUG"))


def _run_shadow(ns: ShadowArgs, config: Config, log: DebugLog, signals: list,
                run: Optional[int] = None, on_start=None) -> int:
    """Start-up message, :class:`Shadow`, :meth:`Shadow.run`: the shadow's exit code, with
    JOB_EXCEPTION (and a report naming the error) when it fails.  ``signals`` is the list
    the vacate signals arrive in; ``on_start(shadow)`` runs once the shadow exists."""
    who = f"PID = {os.getpid()}" if run is None else f"PID = {os.getpid()}, thread {run}"
    log.dprintf(Category.ALWAYS, f"** condor_shadow STARTING UP, {who}, job {ns.job_id}")
    try:
        shadow = Shadow(ns, config, log, run)
    except (OSError, SyntaxError, ValueError) as exc:
        log.dprintf(Category.ERROR, f"ERROR: cannot start the shadow: {exc}")
        return X.JOB_EXCEPTION
    shadow.signals = signals
    if on_start is not None:
        on_start(shadow)
    try:
        return shadow.run()
    except Exception as exc:
        log.dprintf(Category.ERROR, f"ERROR: shadow exception: {type(exc).__name__}: {exc}")
        try:
            shadow.report["ShadowError"] = f"{type(exc).__name__}: {exc}"
            shadow.report["ShadowExitCode"] = X.JOB_EXCEPTION
            write_ad(ns.report, shadow.report)
        except OSError:
            pass
        return X.JOB_EXCEPTION
    finally:
        shadow.wakeup.close()


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``condor_shadow``: returns a shadow exit code (exit.h)."""
    # the schedd may signal us at once (a fork server starts us in a millisecond): keep
    # the signals from the start; the Shadow acts on them once it runs
    pending: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, lambda s, f: pending.append(s))
    try:
        ns = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"{USAGE}\ncondor_shadow: error: {exc}", file=sys.stderr)
        return X.JOB_SHADOW_USAGE
    try:
        config = _load_config(os.environ)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return X.JOB_EXCEPTION
    return _run_shadow(ns, config, _debug_log(config), pending)


#: the debug logs of a shadow server's threads, one per (file, SHADOW_DEBUG): opened once
_THREAD_LOGS: dict = {}
_THREAD_LOGS_LOCK = threading.Lock()


def thread_main(argv: list[str], env: dict, child) -> int:
    """A shadow run as a thread of the schedd's shadow server (:mod:`pyhtc.daemoncore.zygote`
    threads mode, SHADOW_THREADS): the same shadow as :func:`main`, with ``env`` as its
    environment (the configuration is loaded from it) and the vacate signals the schedd
    sends arriving in ``child.signals`` (a nudge wakes the shadow at once) instead of as
    process signals.  The pid file names the server's pid and the thread's virtual pid
    (``child.pid``), so a restarted schedd adopts the run.  Returns the exit code."""
    try:
        ns = parse_args(argv)
    except UsageError as exc:
        print(f"{USAGE}\ncondor_shadow: error: {exc}", file=sys.stderr)
        return X.JOB_SHADOW_USAGE
    try:
        config = _load_config(env)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return X.JOB_EXCEPTION
    key = (config.param("SHADOW_LOG"), config.param("LOG"), config.param("SHADOW_DEBUG"))
    with _THREAD_LOGS_LOCK:
        log = _THREAD_LOGS.get(key)
        if log is None:
            log = _THREAD_LOGS[key] = _debug_log(config)

    def started(shadow: Shadow) -> None:
        child.on_signal = shadow.wakeup.nudge
        if child.signals:
            shadow.wakeup.nudge()
    try:
        return _run_shadow(ns, config, log, child.signals, run=child.pid, on_start=started)
    finally:
        child.on_signal = None


if __name__ == "__main__":
    sys.exit(main())
