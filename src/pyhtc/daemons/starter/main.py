"""``condor_starter``: runs one job in a sandbox as a tracked process family.

Follows src/condor_starter.V6.1 (starter.cpp, os_proc.cpp, vanilla_proc.cpp):

- the sandbox is ``$(EXECUTE)/dir_<starter pid>`` (mode 0700, owned by the job's account);
  the job ad and the slot (machine) ad are written there as ``.job.ad`` and ``.machine.ad``;
- a starter running as root runs the job as its Owner when the job comes from this
  UID_DOMAIN (or TRUST_UID_DOMAIN) and STARTER_ALLOW_RUNAS_OWNER allows, else as
  ``<SLOT>_USER`` / NOBODY_SLOT_USER / ``nobody`` -- never as root; In/Out/Err are opened
  with that identity;
- the job's environment is its ``Environment`` (or old ``Env``) plus _CONDOR_SCRATCH_DIR,
  _CONDOR_SLOT, _CONDOR_JOB_AD, _CONDOR_MACHINE_AD, _CONDOR_JOB_IWD, BATCH_SYSTEM,
  TMPDIR/TMP/TEMP (the sandbox) and every STARTER_NUM_THREADS_ENV_VARS variable
  (OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS, ...) set to the slot's Cpus;
- the job runs in the sandbox, or in its Iwd when it does not transfer files
  (ShouldTransferFiles NO, or IF_NEEDED with the same FileSystemDomain); ``In``/``Out``/
  ``Err`` are relative to that directory;
- the job is a procd family (:class:`pyhtc.procd.ProcFamilyMonitor` in-process) in its own
  cgroup when cgroups are usable, with the memory limit set to the slot's Memory; a kill by
  the kernel's OOM killer puts the job on hold with code 34 (JobOutOfResources, subcode 102)
  and HTCondor's reason text;
- signals from the startd: SIGTERM = vacate (the job's KillSig, then a hard kill after
  MachineMaxVacateTime), SIGQUIT = kill the family now, SIGTSTP = suspend the family
  (freezer), SIGCONT = continue it;
- every STARTER_UPDATE_INTERVAL seconds ``$(EXECUTE)/dir_<pid>.update.ad`` gets the usage
  (RemoteUserCpu, RemoteSysCpu, ImageSize, ResidentSetSize in KiB, MemoryUsage in MiB);
  at the end ``$(EXECUTE)/dir_<pid>.result.ad`` gets the usage, the exit (ExitCode or
  ExitBySignal/ExitSignal), ``Outcome`` (Exited, Evicted or Held) and, when held,
  HoldReason/HoldReasonCode/HoldReasonSubCode.  The sandbox is then removed.

Command line: ``condor_starter -f [-t] -a SLOT -job-ad FILE -machine-ad FILE -execute DIR``
(the startd consumes and deletes the two ad files' originals).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from typing import Optional

from pyhtc.daemoncore.adfile import read_ad, write_ad
from pyhtc import classad as C
from pyhtc.config import Config, ConfigError
from pyhtc.daemoncore.log import Category, DebugLog

from .environment import parse_arguments, parse_environment

#: modules imported at first use; a fork server (pyhtc.daemoncore.zygote) imports them once
FORK_SERVER_PRELOAD = ("pwd", "select", "pyhtc.procd", "pyhtc.procd.monitor", "pyhtc.procd.cgroups",
                       "pyhtc.daemons.starter.transfer", "pyhtc.filetransfer.plan",
                       "pyhtc.filetransfer", "pyhtc.config.detect", "psutil")
NUM_THREADS_VARS = ("CUBACORES GOMAXPROCS JULIA_NUM_THREADS MKL_NUM_THREADS NUMEXPR_NUM_THREADS "
                    "OMP_NUM_THREADS OMP_THREAD_LIMIT OPENBLAS_NUM_THREADS PYTHON_CPU_COUNT "
                    "ROOT_MAX_THREADS TF_LOOP_PARALLEL_ITERATIONS TF_NUM_THREADS")
HOLD_JOB_OUT_OF_RESOURCES = 34
SUBCODE_MEMORY = 102




def _num(value, default=0):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


class Starter:
    """One job's execution: sandbox, environment, family, usage, result."""

    def __init__(self, slot: str, job: C.ClassAd, machine: C.ClassAd, execute: str,
                 config: Config, log: DebugLog):
        self.slot, self.job, self.machine, self.execute = slot, job, machine, execute
        self.config, self.log = config, log
        self.pid = os.getpid()
        self.sandbox = os.path.join(execute, f"dir_{self.pid}")
        self.result_path = os.path.join(execute, f"dir_{self.pid}.result.ad")
        self.update_path = os.path.join(execute, f"dir_{self.pid}.update.ad")
        self.hold_path = os.path.join(execute, f"dir_{self.pid}.hold.ad")
        self.requests: list[int] = []
        self.monitor = None
        self.cgroup = None
        self.memory_limit_mb: Optional[int] = None
        self.vacate_deadline: Optional[float] = None
        self.evicted = False
        self.suspended = False

    # -- setup --------------------------------------------------------------------------
    def job_user(self):
        """The account the job runs as (a ``pwd.struct_passwd``), or None when the starter
        is not root and so runs the job as itself.  As root (jic_shadow.cpp
        initUserPriv): the job's Owner when STARTER_ALLOW_RUNAS_OWNER (default True) and
        the job's UID domain (UidDomain, else the domain of User) is this machine's
        UID_DOMAIN or TRUST_UID_DOMAIN is set, and the account exists and is not root;
        otherwise ``<SLOT>_USER``, else NOBODY_SLOT_USER, else ``nobody``."""
        import pwd
        if os.geteuid() != 0:
            return None
        owner = self.job.get("Owner")
        user = self.job.get("User")
        domain = self.job.get("UidDomain")
        if not isinstance(domain, str):
            domain = user.rpartition("@")[2] if isinstance(user, str) and "@" in user else None
        mine = self.machine.get("UidDomain") or self.config.param("UID_DOMAIN") or ""
        allow = self.config.param_boolean("STARTER_ALLOW_RUNAS_OWNER", True)
        trust = self.config.param_boolean("TRUST_UID_DOMAIN", False)
        if allow and isinstance(owner, str) and owner and (
                trust or (isinstance(domain, str) and domain.lower() == str(mine).lower())):
            try:
                pw = pwd.getpwnam(owner)
                if pw.pw_uid != 0:
                    return pw
            except KeyError:
                self.log.dprintf(Category.ALWAYS, f"Owner {owner} has no account here")
        name = self.config.param(f"{self.slot.upper()}_USER") or self.config.param("NOBODY_SLOT_USER") or "nobody"
        if name == "root":
            self.log.dprintf(Category.ALWAYS, f"WARNING: {self.slot.upper()}_USER set to root, "
                             "which is not allowed. Ignoring.")
            name = "nobody"
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise ValueError(f"cannot run the job: no account {name!r} on this machine") from None

    def make_sandbox(self) -> None:
        """Create dir_<pid> (mode 0700, owned by the job's account) with .job.ad and
        .machine.ad in it."""
        self.user = self.job_user()
        os.makedirs(self.sandbox, mode=0o700)
        write_ad(os.path.join(self.sandbox, ".job.ad"), self.job)
        write_ad(os.path.join(self.sandbox, ".machine.ad"), self.machine)
        if self.user is not None:
            for path in (self.sandbox, os.path.join(self.sandbox, ".job.ad"),
                         os.path.join(self.sandbox, ".machine.ad")):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
            self.log.dprintf(Category.ALWAYS, f"Running job as user {self.user.pw_name} "
                             f"(uid {self.user.pw_uid}, gid {self.user.pw_gid})")

    def job_cwd(self) -> str:
        """The sandbox, or the job's Iwd when it does not transfer files."""
        stf = str(self.job.get("ShouldTransferFiles", "YES")).upper()
        iwd = self.job.get("Iwd")
        if isinstance(iwd, str) and os.path.isdir(iwd):
            if stf == "NO":
                return iwd
            if stf == "IF_NEEDED" and self.job.get("FileSystemDomain") == self.machine.get("FileSystemDomain"):
                return iwd
        return self.sandbox

    def environment(self, cwd: str) -> dict:
        """The job's environment (see the module docstring)."""
        env = {}
        if "Environment" in self.job:
            env.update(parse_environment(str(self.job["Environment"]), new_syntax=True))
        elif "Env" in self.job:
            env.update(parse_environment(str(self.job["Env"]), new_syntax=False))
        cpus = int(_num(self.machine.get("Cpus"), 1))
        for var in (self.config.param("STARTER_NUM_THREADS_ENV_VARS") or NUM_THREADS_VARS).split():
            env[var] = str(cpus)
        env.update({
            "_CONDOR_SCRATCH_DIR": self.sandbox, "_CONDOR_SLOT": self.slot,
            "_CONDOR_JOB_AD": os.path.join(self.sandbox, ".job.ad"),
            "_CONDOR_MACHINE_AD": os.path.join(self.sandbox, ".machine.ad"),
            "_CONDOR_JOB_IWD": cwd, "BATCH_SYSTEM": "HTCondor",
            "TMPDIR": self.sandbox, "TMP": self.sandbox, "TEMP": self.sandbox,
        })
        return env

    def command(self, cwd: str) -> list[str]:
        """argv of the job: Cmd (relative to the job's directory) and its arguments."""
        cmd = self.job.get("Cmd")
        if not isinstance(cmd, str) or not cmd:
            raise ValueError("job ad has no Cmd")
        if not os.path.isabs(cmd):
            cmd = os.path.join(cwd, cmd)
        if "Arguments" in self.job:
            args = parse_arguments(str(self.job["Arguments"]), new_syntax=True)
        elif "Args" in self.job:
            args = parse_arguments(str(self.job["Args"]), new_syntax=False)
        else:
            args = []
        return [cmd] + args

    def _open(self, attr: str, cwd: str, mode: str):
        name = self.job.get(attr)
        if not isinstance(name, str) or not name:
            name = os.devnull
        stream = _truthy(self.job.get("Stream" + attr))  # StreamIn / StreamOut / StreamErr
        if not stream and name != os.devnull and self.transfers():
            # files are transferred: the job sees In/Out/Err by their base names in the
            # sandbox (jic_shadow.cpp getJobStdFile, wants_file_transfer); the transfer
            # brings them home
            name = os.path.basename(name)
        path = name if os.path.isabs(name) else os.path.join(cwd, name)
        append = attr != "In" and stream
        user = getattr(self, "user", None)
        if user is None:
            return open(path, "rb" if mode == "r" else ("ab" if append else "wb"))
        # open with the job's identity (HTCondor does this in user priv), never as root
        os.setegid(user.pw_gid)
        os.seteuid(user.pw_uid)
        try:
            return open(path, "rb" if mode == "r" else ("ab" if append else "wb"))
        finally:
            os.seteuid(0)
            os.setegid(0)

    # -- running ----------------------------------------------------------------------------
    def start_job(self):
        """Start the job held at a pipe until it is in its family and cgroup."""
        from pyhtc.procd import ProcFamilyMonitor
        cwd = self.job_cwd()
        argv = self.command(cwd)
        env = self.environment(cwd)
        fin, fout, ferr = self._open("In", cwd, "r"), self._open("Out", cwd, "w"), self._open("Err", cwd, "w")
        try:
            user = getattr(self, "user", None)
            ids = (user.pw_uid, user.pw_gid, user.pw_name) if user is not None else None
            self.proc = HeldProcess(argv, cwd, env, (fin.fileno(), fout.fileno(), ferr.fileno()), ids)
        finally:
            for f in (fin, fout, ferr):
                f.close()
        self.job_pid = self.proc.pid
        self.start_time = time.time()
        # the job (still held before exec) is the root of the monitored family: one
        # snapshot of the process table instead of two (monitor + register_subfamily)
        try:
            self.monitor = ProcFamilyMonitor(root_pid=self.job_pid,
                                             max_snapshot_interval=self.update_interval())
        except ValueError as exc:
            self.proc.kill()
            raise OSError(f"cannot track the job's processes: {exc}") from None
        self.log.dprintf(Category.ALWAYS, f"Create_Process succeeded, pid={self.job_pid} "
                         f"({' '.join(argv)}); family root {self.job_pid}")
        self._setup_cgroup()
        self.proc.release()
        self.monitor.start_periodic_snapshots(1.0)

    def _setup_cgroup(self) -> None:
        name = f"condor_{os.path.basename(self.execute.rstrip('/'))}_{self.slot}_{self.pid}"
        err = self.monitor.track_family_via_cgroup(self.job_pid, name)
        if err.name != "SUCCESS":
            self.log.dprintf(Category.ALWAYS, f"No cgroup for the job ({err.name}); tracking by process tree")
            return
        self.cgroup = self.monitor.family_cgroup(self.job_pid)
        mem = self.machine.get("Memory")
        policy = (self.config.param("CGROUP_MEMORY_LIMIT_POLICY") or "hard").strip().lower()
        if isinstance(mem, int) and mem > 0 and policy != "none":
            try:
                self.cgroup.set_memory_limit(mem * 1024 * 1024)
                self.memory_limit_mb = mem
                memsw = os.path.join(getattr(self.cgroup, "dirs", {}).get("memory", "/nonexistent"),
                                     "memory.memsw.limit_in_bytes")
                if os.path.exists(memsw):  # no swapping past the limit either
                    with open(memsw, "w") as f:
                        f.write(str(mem * 1024 * 1024))
                self.log.dprintf(Category.ALWAYS, f"Set the job's cgroup {name} memory limit to {mem} MB")
            except OSError as exc:
                self.log.dprintf(Category.ALWAYS, f"Cannot set the memory limit on cgroup {name}: {exc}")

    def update_interval(self) -> int:
        try:
            return max(1, int(self.config.param("STARTER_UPDATE_INTERVAL") or 300))
        except ValueError:
            return 300

    def _cgroup_busy(self) -> bool:
        """Whether the job's cgroup still holds a process (True when it cannot be read)."""
        try:
            return bool(self.cgroup.procs())
        except OSError:
            return True

    def usage_ad(self, refresh: bool = True) -> C.ClassAd:
        """The family's usage with HTCondor's attribute names (KiB sizes, MiB MemoryUsage);
        ``refresh``: take a process-table snapshot first."""
        ad = C.ClassAd()
        err, usage = self.monitor.get_usage(self.job_pid, refresh=refresh)
        if usage is None:
            return ad
        self.last_usage = usage
        ad["RemoteUserCpu"] = float(usage.user_cpu_time)
        ad["RemoteSysCpu"] = float(usage.sys_cpu_time)
        ad["ImageSize"] = int(max(usage.max_image_size, usage.total_image_size,
                                  usage.max_resident_set_size, usage.total_resident_set_size))
        ad["ResidentSetSize"] = int(max(usage.max_resident_set_size, usage.total_resident_set_size))
        ad["MemoryUsage"] = (ad["ResidentSetSize"] + 1023) // 1024
        ad["NumProcs"] = int(usage.num_procs)
        return ad

    def on_signal(self, signum, frame) -> None:
        self.requests.append(signum)

    def handle_requests(self) -> None:
        while self.requests:
            sig = self.requests.pop(0)
            if sig == signal.SIGTERM and not self.evicted:
                self.evicted = True
                kill_sig = self.job.get("KillSig")
                signum = getattr(signal, kill_sig if str(kill_sig).startswith("SIG") else f"SIG{kill_sig}",
                                 signal.SIGTERM) if isinstance(kill_sig, str) else signal.SIGTERM
                wait = self.vacate_time()
                self.vacate_deadline = time.time() + max(0, wait)
                self.log.dprintf(Category.ALWAYS, f"Got SIGTERM. Performing graceful shutdown: "
                                 f"signal {signum} to the job, hard kill in {wait} s")
                if self.suspended:
                    self.monitor.continue_family(self.job_pid)
                self.monitor.signal_process(self.job_pid, signum)
            elif sig == signal.SIGQUIT:
                self.evicted = True
                self.log.dprintf(Category.ALWAYS, "Got SIGQUIT. Performing fast shutdown: killing the job's family")
                self.monitor.kill_family(self.job_pid)
            elif sig == signal.SIGTSTP and not self.suspended:
                self.log.dprintf(Category.ALWAYS, "Suspending the job")
                self.monitor.suspend_family(self.job_pid)
                self.suspended = True
            elif sig == signal.SIGCONT and self.suspended:
                self.log.dprintf(Category.ALWAYS, "Continuing the job")
                self.monitor.continue_family(self.job_pid)
                self.suspended = False

    def vacate_time(self) -> float:
        """The slot's MachineMaxVacateTime (10 min when absent), or the job's
        JobMaxVacateTime when smaller; the startd escalates on the same schedule."""
        def num(ad, attr, target):
            try:
                v = ad.lookup(attr).eval(ad, target) if attr in ad else None
            except (SyntaxError, C.ClassAdException):
                v = None
            return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        machine = num(self.machine, "MachineMaxVacateTime", self.job)
        machine = 600 if machine is None else machine
        job = num(self.job, "JobMaxVacateTime", self.machine)
        return max(0, min(machine, job) if job is not None else machine)

    def wait_job(self) -> int:
        """Poll until the job exits, handling signals and writing usage updates."""
        next_update = time.time() + min(2, self.update_interval())  # STARTER_INITIAL_UPDATE_INTERVAL
        # sleep until the job exits (its pidfd) or a signal arrives (the wakeup fd), not in
        # fixed steps
        try:
            pidfd = os.pidfd_open(self.job_pid)
        except OSError:
            pidfd = -1
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        old_wake = signal.set_wakeup_fd(wake_w)
        try:
            return self._wait_loop(next_update, pidfd, wake_r)
        finally:
            signal.set_wakeup_fd(old_wake)
            for fd in (pidfd, wake_r, wake_w):
                if fd >= 0:
                    os.close(fd)

    def _wait_loop(self, next_update: float, pidfd: int, wake_r: int) -> int:
        import select
        while True:
            self.handle_requests()
            status = self.proc.poll()
            if status is not None:
                return status
            now = time.time()
            if self.vacate_deadline is not None and now > self.vacate_deadline:
                self.log.dprintf(Category.ALWAYS, "MachineMaxVacateTime passed: killing the job's family")
                self.monitor.kill_family(self.job_pid)
                self.vacate_deadline = None
            if now >= next_update:
                usage = self.usage_ad()
                write_ad(self.update_path, usage)
                self.mirror_for_shadow(".update", usage)
                next_update = now + self.update_interval()
            wait = max(0.0, min(next_update - time.time(), 1.0))
            if self.vacate_deadline is not None:
                wait = max(0.0, min(wait, self.vacate_deadline - time.time()))
            if pidfd < 0:
                wait = min(wait, 0.05)
            ready, _, _ = select.select([fd for fd in (pidfd, wake_r) if fd >= 0], [], [], wait)
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass

    def oom_killed(self) -> bool:
        """Did the kernel OOM killer act in the job's cgroup (v1 memory.oom_control
        oom_kill, v2 memory.events oom_kill)?"""
        cg = self.cgroup
        if cg is None:
            return False
        files = []
        if getattr(cg, "dirs", None):
            d = cg.dirs.get("memory")
            if d:
                files.append(os.path.join(d, "memory.oom_control"))
        elif getattr(cg, "path", None):
            files.append(os.path.join(cg.path, "memory.events"))
        for path in files:
            try:
                with open(path) as f:
                    for line in f:
                        k, _, v = line.partition(" ")
                        if k == "oom_kill" and int(v) > 0:
                            return True
            except (OSError, ValueError):
                pass
        return False

    def finish(self, status: int) -> C.ClassAd:
        """Usage, exit, OOM and hold in the result ad; kill leftovers; clean up."""
        end = time.time()
        # in a cgroup, the cgroup has counted the job's CPU and memory: no need to read the
        # whole process table again (the procd's snapshot) for the usage
        result = self.usage_ad(refresh=self.cgroup is None)
        oom = self.oom_killed()
        peak = result.get("MemoryUsage", 0)
        if self.cgroup is not None:
            u = self.cgroup.usage()
            if u.memory_peak > 0:
                peak = max(peak, (u.memory_peak + 1024 * 1024 - 1) // (1024 * 1024))
        # the job is done: nothing of its family may stay behind (os_proc.cpp); an empty
        # cgroup has nothing left to kill
        if self.cgroup is None or self._cgroup_busy():
            self.monitor.kill_family(self.job_pid)
        self.monitor.shutdown()   # removes the job's cgroup
        if status < 0:
            result["ExitBySignal"] = True
            result["ExitSignal"] = -status
        else:
            result["ExitBySignal"] = False
            result["ExitCode"] = status
        result["JobStartDate"] = int(self.start_time)
        result["CompletionDate"] = int(end)
        result["JobDuration"] = round(end - self.start_time, 3)
        result["RemoteWallClockTime"] = float(int(end - self.start_time))
        result["StarterPid"] = self.pid
        result["Slot"] = self.slot
        outcome = "Evicted" if self.evicted else "Exited"
        hold = None
        try:
            hold = read_ad(self.hold_path)
            os.unlink(self.hold_path)
        except FileNotFoundError:
            pass
        if oom and not self.evicted:
            limit = self.memory_limit_mb if self.memory_limit_mb is not None else -1
            reason = (f"Job has gone over cgroup memory limit of {limit} megabytes. Last measured usage: "
                      f"{peak} megabytes.  Consider resubmitting with a higher request_memory.")
            self.log.dprintf(Category.ALWAYS, f"Job was held due to OOM event: {reason}")
            hold = C.ClassAd({"HoldReason": reason, "HoldReasonCode": HOLD_JOB_OUT_OF_RESOURCES,
                              "HoldReasonSubCode": SUBCODE_MEMORY})
        if hold is not None:
            outcome = "Held"
            for k in ("HoldReason", "HoldReasonCode", "HoldReasonSubCode"):
                if k in hold:
                    result[k] = hold[k]
        result["Outcome"] = outcome
        return result

    def transfers(self) -> bool:
        """Whether the job's files move through the shadow (:mod:`.transfer`): the shadow
        offered it and the job runs in the sandbox."""
        from . import transfer
        return transfer.wanted(self.job) and self.job_cwd() == self.sandbox

    def transfer_input(self) -> bool:
        """Fetch the input before the job starts; on failure write a held result (code 13)
        and clean up.  Returns False when the job must not run."""
        from pyhtc.filetransfer.plan import snapshot_sandbox
        from . import transfer
        self.snapshot = None
        if not self.transfers():
            return True
        err = transfer.receive_input(self.job, self.sandbox, self.config)
        if err is None:
            self.snapshot = snapshot_sandbox(self.sandbox)
            return True
        self.log.dprintf(Category.ALWAYS, f"ERROR: {err[2]}")
        held = C.ClassAd({"Outcome": "Held", "StarterPid": self.pid, "Slot": self.slot,
                          "HoldReasonCode": err[0], "HoldReasonSubCode": err[1], "HoldReason": err[2]})
        write_ad(self.result_path, held)
        self.mirror_for_shadow("", held)
        self.cleanup()
        self.mirror_for_shadow(".done", C.ClassAd({"StarterPid": self.pid}))
        return False

    def transfer_output(self, result: C.ClassAd) -> None:
        """Send the output of a job that exited; a failure holds the job (code 12)."""
        from . import transfer
        if result.get("Outcome") != "Exited" or not self.transfers():
            return
        err = transfer.send_output(self.job, self.sandbox, getattr(self, "snapshot", None), self.config)
        if err is not None:
            self.log.dprintf(Category.ALWAYS, f"ERROR: {err[2]}")
            result.update({"Outcome": "Held", "HoldReasonCode": err[0], "HoldReasonSubCode": err[1],
                           "HoldReason": err[2]})

    def mirror_for_shadow(self, suffix: str, ad: C.ClassAd) -> None:
        """Until the shadow<->starter CEDAR protocol exists: when the job ad names
        ``_condor_ShadowResultFile`` (set by pyhtc's condor_shadow on the same host), also
        write a ".started" marker (StarterPid), the usage (``suffix`` ".update"), the result
        (suffix "") there, and a ".done" marker once the sandbox is cleaned up (the starter
        then exits)."""
        path = self.job.get("_condor_ShadowResultFile")
        if not isinstance(path, str) or not path:
            return
        try:
            write_ad(path + suffix, ad)
        except OSError as exc:
            self.log.dprintf(Category.ALWAYS, f"Cannot write {path + suffix} for the shadow: {exc}")
            return
        # nudge the shadow (its FIFO "<file>.fifo", see shadow/main.py Wakeup); no FIFO or
        # no reader: the shadow polls
        try:
            fd = os.open(path + ".fifo", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return
        try:
            os.write(fd, b"!")
        except OSError:
            pass
        finally:
            os.close(fd)

    def cleanup(self) -> None:
        """Remove the sandbox and the usage file."""
        shutil.rmtree(self.sandbox, ignore_errors=True)
        try:
            os.unlink(self.update_path)
        except FileNotFoundError:
            pass


class HeldProcess:
    """A child forked now that execs ``argv`` (as ``ids`` = (uid, gid, user name) when
    given) only when :meth:`release` is called, so it can be put in its family and cgroup
    first (HTCondor's starter does the same with its
    Create_Process "family info").  ``poll()`` gives None while it runs, else its exit
    code (negative: killed by that signal).  Raises OSError if the exec fails."""

    def __init__(self, argv: list[str], cwd: str, env: dict, stdio: tuple[int, int, int],
                 ids: Optional[tuple[int, int, str]] = None):
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # child: only async-signal-safe-ish work until exec
            try:
                os.close(go_w)
                os.close(err_r)
                os.setsid()
                for i, fd in enumerate(stdio):
                    os.dup2(fd, i)
                if ids is not None:  # uid, gid, name: drop root for good before exec
                    os.initgroups(ids[2], ids[1])
                    os.setgid(ids[1])
                    os.setuid(ids[0])
                os.chdir(cwd)
                for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGTSTP, signal.SIGCONT, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                os.read(go_r, 1)
                os.closerange(3, err_w)
                os.closerange(err_w + 1, 65536)
                os.execve(argv[0], argv, env)
            except BaseException as exc:  # report to the parent, never return into its code
                try:
                    os.write(err_w, f"{type(exc).__name__}: {exc}".encode()[:1000])
                finally:
                    os._exit(127)
        os.close(go_r)
        os.close(err_w)
        self.pid, self._go, self._err = pid, go_w, err_r
        self.returncode: Optional[int] = None

    def release(self) -> None:
        """Let the child exec; raises OSError with the child's message if exec failed."""
        os.write(self._go, b"x")
        os.close(self._go)
        msg = os.read(self._err, 1000)
        os.close(self._err)
        if msg:
            self.poll_wait()
            raise OSError(f"cannot execute the job: {msg.decode(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL the held child and reap it."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for fd in (self._go, self._err):
            try:
                os.close(fd)
            except OSError:
                pass
        self.poll_wait()

    def poll_wait(self) -> int:
        while self.returncode is None:
            self.poll()
            time.sleep(0.01)
        return self.returncode

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def _truthy(v) -> bool:
    return v is True or (isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The starter's flags (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="condor_starter", allow_abbrev=False)
    ap.add_argument("-f", action="store_true")
    ap.add_argument("-t", action="store_true", help="log to stderr")
    ap.add_argument("-a", dest="slot", default="slot1", help="slot name (log suffix)")
    ap.add_argument("-job-ad", dest="job_ad", required=True)
    ap.add_argument("-machine-ad", dest="machine_ad", required=True)
    ap.add_argument("-execute", dest="execute", default=None)
    return ap.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``condor_starter``: run one job, write its result, exit 0 (1 if the
    job could not be started; the result ad then says why)."""
    # the startd may signal us at once (a fork server starts us in a millisecond): keep
    # every signal from the start, the Starter handles them in order once it runs
    requests: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGTSTP, signal.SIGCONT, signal.SIGINT):
        signal.signal(sig, lambda s, f: requests.append(signal.SIGQUIT if s == signal.SIGINT else s))
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = Config.load("STARTER", None, environ=dict(os.environ), read_user_config=False)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    if ns.t:
        log = DebugLog(stream=sys.stderr)
    else:
        base = config.param("STARTER_LOG") or os.path.join(config.param("LOG") or "/tmp", "StarterLog")
        log = DebugLog(f"{base}.{ns.slot}", debug=config.param("STARTER_DEBUG"))
    execute = ns.execute or config.param("EXECUTE") or "/tmp"
    log.dprintf(Category.ALWAYS, f"** condor_starter (CONDOR_STARTER) STARTING UP, PID = {os.getpid()}, slot {ns.slot}")
    try:
        job, machine = read_ad(ns.job_ad), read_ad(ns.machine_ad)
    except (OSError, SyntaxError) as exc:
        log.dprintf(Category.ERROR, f"ERROR: cannot read the job or machine ad: {exc}")
        return 1
    for p in (ns.job_ad, ns.machine_ad):
        try:
            os.unlink(p)
        except OSError:
            pass
    st = Starter(ns.slot, job, machine, execute, config, log)
    st.requests = requests
    try:
        st.make_sandbox()
        st.mirror_for_shadow(".started", C.ClassAd({"StarterPid": os.getpid()}))
        if not st.transfer_input():
            return 1
        st.start_job()
    except (OSError, ValueError) as exc:
        log.dprintf(Category.ERROR, f"ERROR: failed to start the job: {exc}")
        failed = C.ClassAd({"Outcome": "Failed", "StarterPid": os.getpid(),
                            "Slot": ns.slot, "ErrorReason": f"Failed to execute: {exc}"})
        write_ad(st.result_path, failed)
        st.mirror_for_shadow("", failed)
        if st.monitor is not None:
            st.monitor.shutdown()
        st.cleanup()
        st.mirror_for_shadow(".done", C.ClassAd({"StarterPid": os.getpid()}))
        return 1
    status = st.wait_job()
    result = st.finish(status)
    st.transfer_output(result)
    write_ad(st.result_path, result)
    st.mirror_for_shadow("", result)
    log.dprintf(Category.ALWAYS, f"Job exited: {result.printOld().strip().replace(chr(10), '; ')}")
    st.cleanup()
    st.mirror_for_shadow(".done", C.ClassAd({"StarterPid": os.getpid()}))
    log.dprintf(Category.ALWAYS, f"**** condor_starter (condor_STARTER) pid {os.getpid()} EXITING WITH STATUS 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
