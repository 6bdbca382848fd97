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
  cgroup when cgroups are usable (made before the job starts; the job is born in it: it
  is started with posix_spawn while the starter steps into the cgroup, :mod:`.spawn`), with
  the memory limit set to the slot's Memory; a kill by the kernel's OOM killer
  puts the job on hold with code 34 (JobOutOfResources, subcode 102) and HTCondor's reason
  text.  The starter is a child subreaper, so the job's daemonized descendants are
  re-parented to it; the family is found from the job, the starter and the cgroup, and
  sampled every PID_SNAPSHOT_INTERVAL seconds -- never by scanning the process table;
- ``+PreCmd``/``+PostCmd`` run before and after the job when
  STARTER_ALLOW_JOB_PRE_AND_POST_CMD allows (:mod:`.scripts`); a job with
  ``checkpoint_exit_code`` (SuccessCheckpointExitCode, WantFTOnCheckpoint) that exits with
  it is started again in the same sandbox, its output appended (vanilla_proc.cpp; pyhtc
  keeps the checkpoint in the sandbox instead of uploading it to the submit side);
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
import errno
import os
import shutil
import signal
import stat
import sys
import time
from typing import Optional

from pyhtc.daemoncore.adfile import read_ad, write_ad, write_text
from pyhtc import classad as C
from pyhtc.config import Config, ConfigError
from pyhtc.daemoncore.log import Category, DebugLog

from .environment import parse_arguments, parse_environment
from .lazyad import LazyAd, full_ad

#: modules imported at first use; a fork server (pyhtc.daemoncore.zygote) imports them once
FORK_SERVER_PRELOAD = ("pwd", "select", "io", "fcntl", "pyhtc.daemons.starter.spawn", "pyhtc.daemons.starter.lazyad", "pyhtc.procd", "pyhtc.procd.monitor", "pyhtc.procd.cgroups",
                       "pyhtc.procd.procinfo", "pyhtc.daemons.starter.scripts",
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
        self.subreaper = False
        self.next_snapshot = float("inf")
        self.start_time: Optional[float] = None
        self.checkpoint_cpu = (0.0, 0.0)    # CPU of the runs before self-checkpoint restarts

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

    def make_sandbox(self, ad_files: tuple[str, str] | None = None) -> None:
        """Create dir_<pid> (mode 0700, owned by the job's account) with .job.ad and
        .machine.ad in it: ``ad_files`` (the job and machine ad files the startd handed
        us, already in old syntax) are moved there, else the ads are written."""
        self.user = self.job_user()
        os.makedirs(self.sandbox, mode=0o700)
        for ad, name, src in ((self.job, ".job.ad", ad_files and ad_files[0]),
                              (self.machine, ".machine.ad", ad_files and ad_files[1])):
            dst = os.path.join(self.sandbox, name)
            try:
                if not src:
                    raise OSError("no file to move")
                os.rename(src, dst)
            except OSError:
                write_ad(dst, full_ad(ad))
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
        env.update(self.published_environment(cwd))
        return env

    def published_environment(self, cwd: str) -> dict:
        """What the starter adds to every job's environment (PublishToEnv): thread counts,
        _CONDOR_SCRATCH_DIR, _CONDOR_SLOT, _CONDOR_JOB_AD ... (see the module docstring)."""
        env = {}
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

    def _stdio_path(self, attr: str, cwd: str) -> tuple[str, bool]:
        """(path, append) of the job's ``In``, ``Out`` or ``Err``."""
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
        # a job that checkpoints appends to its output across restarts (vanilla_proc.cpp
        # outputOpenFlags: WantCheckpointSignal, WantFTOnCheckpoint, or DontAppend false)
        append = attr != "In" and (stream or self.job.get("WantFTOnCheckpoint") is True
                                   or self.job.get("WantCheckpointSignal") is True
                                   or self.job.get("DontAppend") is False)
        return path, append

    def open_stdio(self, cwd: str) -> list[int]:
        """Descriptors (close-on-exec) of the job's In (read), Out and Err (truncated, or
        appended to, see :meth:`_stdio_path`), opened with the job's identity when we run
        it as another account (HTCondor opens them in user priv), never as root.  Raises
        OSError as ``open()`` would (IsADirectoryError for a directory)."""
        plan = [self._stdio_path(attr, cwd) for attr in ("In", "Out", "Err")]
        user = getattr(self, "user", None)
        if user is not None:
            os.setegid(user.pw_gid)
            os.seteuid(user.pw_uid)
        fds: list[int] = []
        try:
            for i, (path, append) in enumerate(plan):
                if i == 0:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                    fds.append(fd)
                    if stat.S_ISDIR(os.fstat(fd).st_mode):    # as open(path, "rb")
                        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
                else:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
                    fds.append(os.open(path, flags, 0o666))
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        finally:
            if user is not None:
                os.seteuid(0)
                os.setegid(0)
        return fds

    # -- pre and post commands (scripts.py) ----------------------------------------------------
    def run_script(self, name: str) -> Optional[C.ClassAd]:
        """Run the job's ``<name>Cmd`` ("Pre" or "Post") when it has one and
        STARTER_ALLOW_JOB_PRE_AND_POST_CMD allows, and wait for it (a vacate or kill request
        meanwhile kills it and marks the job evicted).  Returns the hold (HoldReason,
        HoldReasonCode, HoldReasonSubCode) when it failed, else None."""
        from . import scripts
        if not scripts.wanted(self.job, name):
            return None
        self.log.dprintf(Category.ALWAYS, f"Job {name}Cmd: {self.job[name + 'Cmd']}")
        if not scripts.allowed(self.config, full_ad(self.machine), full_ad(self.job)):
            self.log.dprintf(Category.ALWAYS, "STARTER_ALLOW_JOB_PRE_AND_POST_CMD evaluated to false, "
                             "PreCmd and PostCmd will be ignored")
            return None
        cwd = self.job_cwd()
        hold = C.ClassAd({"HoldReason": f"{name} script failed.",
                          "HoldReasonCode": scripts.HOLD_CODES[name], "HoldReasonSubCode": 0})
        user = getattr(self, "user", None)
        ids = (user.pw_uid, user.pw_gid, user.pw_name) if user is not None else None
        try:
            argv = scripts.command(self.job, name, self.sandbox)
            env = scripts.environment(self.job, name, self.published_environment(cwd))
            self.log.dprintf(Category.ALWAYS, f"About to exec {name} script: {argv[0]} {' '.join(argv[2:])}")
            pid = scripts.spawn(argv, cwd, env, ids)
        except (OSError, ValueError) as exc:
            self.log.dprintf(Category.ALWAYS, f"ERROR: {name} script: {exc}")
            hold["HoldReason"] = f"{name} script failed: {exc}"
            return hold
        self.log.dprintf(Category.ALWAYS, f"Create_Process succeeded, pid={pid}")
        status = None
        while status is None:
            while self.requests:
                sig = self.requests.pop(0)
                if sig in (signal.SIGTERM, signal.SIGQUIT):
                    self.evicted = True
                    try:
                        os.kill(pid, signal.SIGKILL if sig == signal.SIGQUIT else signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            else:
                time.sleep(0.01)
        self.log.dprintf(Category.ALWAYS, f"Process exited, pid={pid}, status={os.waitstatus_to_exitcode(status)}")
        want = scripts.desired_status(self.job, name)
        if want is not None and status != want and not self.evicted:
            self.log.dprintf(Category.ALWAYS, f"{name} script failed, putting job on hold.")
            return hold
        return None

    # -- running ----------------------------------------------------------------------------
    def start_job(self):
        """Start the job and track its family.  Its cgroup (when cgroups are usable) is made
        first and the job is born in it, already with its own identity (posix_spawn with the
        starter inside the cgroup, :mod:`.spawn`), so nothing the job runs escapes; the family is then found by walking down from the job and from us
        (a child subreaper: the job's daemonized descendants are re-parented to us) and
        through the cgroup -- never by reading the whole process table, so the cost follows
        the family's size, not the machine's."""
        from pyhtc.procd import ProcFamilyMonitor
        from pyhtc.procd.procinfo import become_subreaper
        self.subreaper = become_subreaper()
        cwd = self.job_cwd()
        argv = self.command(cwd)
        env = self.environment(cwd)
        cgroup = self._make_cgroup()
        try:
            stdio = self.open_stdio(cwd)
        except OSError:
            self._drop_cgroup(cgroup)
            raise
        try:
            user = getattr(self, "user", None)
            ids = (user.pw_uid, user.pw_gid, user.pw_name) if user is not None else None
            self.proc = HeldProcess(argv, cwd, env, tuple(stdio), ids, join=cgroup, hold=False)
        except OSError:
            self._drop_cgroup(cgroup)
            raise
        finally:
            for fd in stdio:
                os.close(fd)
        self.job_pid = self.proc.pid
        if getattr(self, "start_time", None) is None:   # kept across checkpoint restarts
            self.start_time = time.time()
        try:
            self.monitor = ProcFamilyMonitor(root_pid=self.job_pid,
                                             max_snapshot_interval=self.snapshot_interval(),
                                             scan="family",
                                             adopters=(self.pid,) if self.subreaper else ())
        except ValueError as exc:
            self.proc.kill()
            self._drop_cgroup(cgroup)
            raise OSError(f"cannot track the job's processes: {exc}") from None
        self.log.dprintf(Category.ALWAYS, f"Create_Process succeeded, pid={self.job_pid} "
                         f"({' '.join(argv)}); family root {self.job_pid}")
        if cgroup is not None:
            err = self.monitor.track_family_via_cgroup(self.job_pid, cgroup.name, made=cgroup)
            if err.name == "SUCCESS":
                self.cgroup = cgroup
            else:
                self.log.dprintf(Category.ALWAYS, f"No cgroup for the job ({err.name}); "
                                 "tracking by process tree")
                self._drop_cgroup(cgroup)
        # the wait loop samples the family every PID_SNAPSHOT_INTERVAL seconds (no thread)
        self.next_snapshot = time.time() + self.snapshot_interval()

    def _make_cgroup(self):
        """The job's cgroup ``htcondor/condor_<execute>_<slot>_<starter pid>`` with the
        slot's Memory as its limit (CGROUP_MEMORY_LIMIT_POLICY none: no limit), or None
        when cgroups are not usable here (logged)."""
        from pyhtc.procd.cgroups import CgroupError, open_cgroup
        name = f"condor_{os.path.basename(self.execute.rstrip('/'))}_{self.slot}_{self.pid}"
        try:
            cgroup = open_cgroup(name, "htcondor")
        except CgroupError as exc:
            self.log.dprintf(Category.ALWAYS, f"No cgroup for the job ({exc}); tracking by process tree")
            return None
        mem = self.machine.get("Memory")
        policy = (self.config.param("CGROUP_MEMORY_LIMIT_POLICY") or "hard").strip().lower()
        if isinstance(mem, int) and mem > 0 and policy != "none":
            try:
                cgroup.set_memory_limit(mem * 1024 * 1024)
                self.memory_limit_mb = mem
                memsw = os.path.join(getattr(cgroup, "dirs", {}).get("memory", "/nonexistent"),
                                     "memory.memsw.limit_in_bytes")
                if os.path.exists(memsw):  # no swapping past the limit either
                    with open(memsw, "w") as f:
                        f.write(str(mem * 1024 * 1024))
                self.log.dprintf(Category.ALWAYS, f"Set the job's cgroup {name} memory limit to {mem} MB")
            except (OSError, CgroupError) as exc:
                self.log.dprintf(Category.ALWAYS, f"Cannot set the memory limit on cgroup {name}: {exc}")
        return cgroup

    def _drop_cgroup(self, cgroup) -> None:
        if cgroup is None:
            return
        from pyhtc.procd.cgroups import CgroupError
        try:
            cgroup.remove(kill=True, timeout=2.0)
        except (OSError, CgroupError) as exc:
            self.log.dprintf(Category.ALWAYS, f"Cannot remove cgroup {cgroup.name}: {exc}")

    def snapshot_interval(self) -> int:
        """PID_SNAPSHOT_INTERVAL (15 s): how often the family's usage is sampled between
        the updates (HTCondor's starter registers the family with the procd so)."""
        try:
            return max(1, int(self.config.param("PID_SNAPSHOT_INTERVAL") or 15))
        except ValueError:
            return 15

    def reap_adopted(self) -> None:
        """Reap the orphans re-parented to us (we are their subreaper); the job itself is
        recorded in ``self.proc`` when reaped here."""
        if not getattr(self, "subreaper", False):
            return
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.proc.pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)

    def update_interval(self) -> int:
        try:
            return max(1, int(self.config.param("STARTER_UPDATE_INTERVAL") or 300))
        except ValueError:
            return 300

    def _cgroup_busy(self) -> bool:
        """Whether the job's cgroup still holds a process (True when it cannot be read)."""
        try:
            return self.cgroup.populated()
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
        ad["RemoteUserCpu"] = float(usage.user_cpu_time) + self.checkpoint_cpu[0]
        ad["RemoteSysCpu"] = float(usage.sys_cpu_time) + self.checkpoint_cpu[1]
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
        job_ad, machine_ad = full_ad(self.job), full_ad(self.machine)
        machine = num(machine_ad, "MachineMaxVacateTime", job_ad)
        machine = 600 if machine is None else machine
        job = num(job_ad, "JobMaxVacateTime", machine_ad)
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
            self.reap_adopted()
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
                self.next_snapshot = now + self.snapshot_interval()
            elif now >= self.next_snapshot:
                self.monitor.snapshot()
                self.next_snapshot = now + self.snapshot_interval()
            wait = max(0.0, min(next_update - time.time(), self.next_snapshot - time.time(), 1.0))
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

    def self_checkpointed(self, status: int) -> bool:
        """Did the job exit to checkpoint itself (vanilla_proc.cpp JobReaper): the job ad has
        WantFTOnCheckpoint and the exit matches SuccessCheckpointExitCode (or ..Signal with
        SuccessCheckpointExitBySignal), and no vacate or kill was asked for."""
        from . import scripts
        if self.evicted or self.job.get("WantFTOnCheckpoint") is not True:
            return False
        want = scripts.desired_status(self.job, "Checkpoint")
        raw = status << 8 if status >= 0 else -status
        return want is not None and raw == want

    def restart_after_checkpoint(self) -> None:
        """End this run of a self-checkpointing job (its family killed, its usage kept) and
        start it again in the same sandbox (restartCheckpointedJob).  pyhtc does not upload
        the checkpoint files to the submit side at this point: they stay in the sandbox."""
        usage = self.usage_ad(refresh=self.cgroup is None)
        self.checkpoint_cpu = (usage.get("RemoteUserCpu", self.checkpoint_cpu[0]),
                               usage.get("RemoteSysCpu", self.checkpoint_cpu[1]))
        self.monitor.kill_family(self.job_pid)
        self.monitor.shutdown()
        self.reap_adopted()
        self.monitor, self.cgroup = None, None
        self.log.dprintf(Category.ALWAYS, "Job exited with its checkpoint exit code: restarting it "
                         "in the same sandbox")
        self.start_job()

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
        if oom and self.cgroup is not None:
            u = self.cgroup.usage()
            if u.memory_peak > 0:
                peak = max(peak, (u.memory_peak + 1024 * 1024 - 1) // (1024 * 1024))
        # the job is done: nothing of its family may stay behind (os_proc.cpp); an empty
        # cgroup has nothing left to kill
        if self.cgroup is None or self._cgroup_busy():
            self.monitor.kill_family(self.job_pid)
        self.monitor.shutdown()   # removes the job's cgroup
        self.reap_adopted()
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
        err = transfer.receive_input(full_ad(self.job), self.sandbox, self.config)
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
        err = transfer.send_output(full_ad(self.job), self.sandbox, getattr(self, "snapshot", None),
                                   self.config)
        if err is not None:
            self.log.dprintf(Category.ALWAYS, f"ERROR: {err[2]}")
            result.update({"Outcome": "Held", "HoldReasonCode": err[0], "HoldReasonSubCode": err[1],
                           "HoldReason": err[2]})

    def mirror_for_shadow(self, suffix: str, ad: C.ClassAd, text: str | None = None,
                          same_as: str | None = None) -> None:
        """Until the shadow<->starter CEDAR protocol exists: when the job ad names
        ``_condor_ShadowResultFile`` (set by pyhtc's condor_shadow on the same host), also
        write a ".started" marker (StarterPid), the usage (``suffix`` ".update"), the result
        (suffix "") there, and a ".done" marker once the sandbox is cleaned up (the starter
        then exits).  ``text``: the ad already in old syntax.  ``same_as``: a file already
        holding exactly that text, never rewritten in place (ad files are replaced whole):
        it is hard-linked under the new name when possible -- one directory entry instead
        of a new file, which costs several times more; the new name appears at once, whole,
        as with the rename of a written file."""
        path = self.job.get("_condor_ShadowResultFile")
        if not isinstance(path, str) or not path:
            return
        try:
            try:
                if same_as is None:
                    raise OSError("nothing to link")
                os.link(same_as, path + suffix)
            except OSError:       # absent, another file system, the name taken...
                write_text(path + suffix, ad.printOld() if text is None else text)
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

    def mark_started(self) -> None:
        """The shadow's ".started" marker (StarterPid = our pid)."""
        self.mirror_for_shadow(".started", C.ClassAd({"StarterPid": self.pid}))

    def mark_done(self) -> None:
        """The shadow's ".done" marker, written once the sandbox is cleaned up: the same
        text as ".started", so that file is linked when it is there."""
        path = self.job.get("_condor_ShadowResultFile")
        started = path + ".started" if isinstance(path, str) and path else None
        self.mirror_for_shadow(".done", C.ClassAd({"StarterPid": self.pid}), same_as=started)

    def cleanup(self) -> None:
        """Remove the sandbox and the usage file."""
        _remove_tree(self.sandbox)
        try:
            os.unlink(self.update_path)
        except FileNotFoundError:
            pass


class HeldProcess:
    """A child started now that execs ``argv`` (as ``ids`` = (uid, gid, user name) when
    given).  ``join``: a :class:`pyhtc.procd.cgroups.Cgroup` the child is in before it
    execs (HTCondor's starter places the job in its cgroup before exec too).  ``hold``:
    the child is forked and waits at a pipe until :meth:`release` (so it can be put in its
    family first); otherwise it is started with ``posix_spawn`` (:mod:`.spawn`: no copy of
    the starter) and the constructor returns once the exec has succeeded.
    ``poll()`` gives None while it runs, else its exit code (negative: killed by that
    signal).  Raises OSError if the exec fails."""

    def __init__(self, argv: list[str], cwd: str, env: dict, stdio: tuple[int, int, int],
                 ids: Optional[tuple[int, int, str]] = None, join=None, hold: bool = True):
        self.returncode: Optional[int] = None
        if not hold and hasattr(os, "posix_spawn"):
            # no fork of this big process: posix_spawn with the same pre-exec steps (.spawn)
            from .spawn import spawn_job
            try:
                self.pid = spawn_job(argv, cwd, env, stdio, ids, join)
            except OSError as exc:
                raise OSError(f"cannot execute the job: {exc}") from None
            self._go = self._err = None
            return
        go_r, go_w = os.pipe() if hold else (-1, -1)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # child: only async-signal-safe-ish work until exec
            try:
                if hold:
                    os.close(go_w)
                os.close(err_r)
                os.setsid()
                for i, fd in enumerate(stdio):
                    os.dup2(fd, i)
                if join is not None:
                    join.add(os.getpid())
                if ids is not None:  # uid, gid, name: drop root for good before exec
                    os.initgroups(ids[2], ids[1])
                    os.setgid(ids[1])
                    os.setuid(ids[0])
                os.chdir(cwd)
                for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGTSTP, signal.SIGCONT, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                if hold:
                    os.read(go_r, 1)
                os.closerange(3, err_w)
                os.closerange(err_w + 1, 65536)
                os.execve(argv[0], argv, env)
            except BaseException as exc:  # report to the parent, never return into its code
                try:
                    os.write(err_w, f"{type(exc).__name__}: {exc}".encode()[:1000])
                finally:
                    os._exit(127)
        if hold:
            os.close(go_r)
        os.close(err_w)
        self.pid, self._go, self._err = pid, go_w, err_r
        self.returncode: Optional[int] = None
        if not hold:
            self._go = None
            self._exec_result()

    def release(self) -> None:
        """Let a held child exec; raises OSError with the child's message if exec failed."""
        if self._go is not None:
            os.write(self._go, b"x")
            os.close(self._go)
            self._go = None
            self._exec_result()

    def _exec_result(self) -> None:
        msg = os.read(self._err, 1000)   # EOF: the exec closed it (O_CLOEXEC)
        os.close(self._err)
        self._err = None
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
                if fd is not None:
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


def _failed(st: Starter, slot: str, exc: Exception) -> int:
    """The job could not be started: a Failed result, the sandbox removed; returns 1."""
    st.log.dprintf(Category.ERROR, f"ERROR: failed to start the job: {exc}")
    failed = C.ClassAd({"Outcome": "Failed", "StarterPid": os.getpid(),
                        "Slot": slot, "ErrorReason": f"Failed to execute: {exc}"})
    write_ad(st.result_path, failed)
    st.mirror_for_shadow("", failed)
    if st.monitor is not None:
        st.monitor.shutdown()
    st.cleanup()
    st.mirror_for_shadow(".done", C.ClassAd({"StarterPid": os.getpid()}))
    return 1


def _remove_tree(path: str) -> None:
    """``shutil.rmtree(path, ignore_errors=True)``, in a few system calls when ``path``
    holds only files and symbolic links (the usual sandbox: the two ad files); anything
    else (a sub-directory, a file that cannot be removed) is left to rmtree."""
    try:
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        os.rmdir(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def _truthy(v) -> bool:
    return v is True or (isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0)


_VALUE_FLAGS = {"-a": "slot", "-job-ad": "job_ad", "-machine-ad": "machine_ad", "-execute": "execute"}
_USAGE = ("usage: condor_starter [-f] [-t] [-a SLOT] -job-ad FILE -machine-ad FILE "
          "[-execute DIR]")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The starter's flags (see the module docstring): ``-f``, ``-t`` (log to stderr),
    ``-a SLOT`` (default slot1; the log suffix), ``-job-ad FILE``, ``-machine-ad FILE``
    (both required), ``-execute DIR``; ``-flag=value`` works too.  A fixed set, parsed by
    hand: building an argparse parser in every starter cost more than the rest of its
    start.  Errors print the usage and exit with status 2, as argparse does."""
    ns = argparse.Namespace(f=False, t=False, slot="slot1", job_ad=None, machine_ad=None,
                            execute=None)
    i = 0
    while i < len(argv):
        arg = argv[i]
        flag, eq, value = arg.partition("=")
        if arg in ("-f", "-t"):
            setattr(ns, arg[1], True)
        elif flag in _VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    _usage_error(f"argument {flag}: expected one argument")
                i += 1
                value = argv[i]
            setattr(ns, _VALUE_FLAGS[flag], value)
        else:
            _usage_error(f"unrecognized arguments: {arg}")
        i += 1
    missing = [f for f, dest in _VALUE_FLAGS.items()
               if dest in ("job_ad", "machine_ad") and getattr(ns, dest) is None]
    if missing:
        _usage_error(f"the following arguments are required: {', '.join(missing)}")
    return ns


def _usage_error(message: str) -> None:
    print(f"{_USAGE}\ncondor_starter: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def fork_server_warmup() -> None:
    """Called once by the fork server (:mod:`pyhtc.daemoncore.zygote`) before it forks
    starters: load the configuration as :func:`main` does (each starter's load is then a
    copy, see ``Config.load``) and probe the cgroup hierarchies once (each starter then
    knows whether and where it can make the job's cgroup without reading the mount
    table)."""
    import io
    from pyhtc.procd import cgroups, procinfo
    Config.load("STARTER", None, environ=dict(os.environ), read_user_config=False)
    cgroups.remember_hierarchy()
    procinfo.read_pid(os.getpid())          # the boot time, read once
    try:
        procinfo._prctl()                   # libc's prctl, looked up once (become_subreaper)
    except (OSError, AttributeError):
        pass
    # load the C library's name-service configuration and modules (nsswitch.conf, passwd,
    # group) once: the account and group lookups of job_user and initgroups reuse them
    import pwd
    try:
        pwd.getpwnam("nobody")
        os.getgrouplist("nobody", pwd.getpwnam("nobody").pw_gid)
    except (KeyError, OSError):
        pass
    # first uses that fill lazy caches (parsers, formatters, the time zone)
    ad = C.parseOne(_WARMUP_AD, C.ParserType.Old)
    ad.printOld()
    DebugLog(stream=io.StringIO()).dprintf(Category.ALWAYS, "warm-up")


_WARMUP_AD = """MyType = "Job"
Cmd = "/bin/true"
Arguments = "-a 'b c'"
Environment = "A=1 B='x y'"
Iwd = "/tmp"
JobPrio = 0
Rank = 0.0
ExitBySignal = false
Requirements = (TARGET.Arch == "X86_64") && (TARGET.Disk >= RequestDisk) && versionGE(split(TARGET.CondorVersion)[1], "25.0.0")
MachineMaxVacateTime = 10 * 60
RequestMemory = ifThenElse(MemoryUsage =!= undefined, MemoryUsage, 1)
"""


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
        # values are parsed when the starter reads them (.lazyad); the files themselves
        # move into the sandbox as they are
        job, machine = LazyAd.read(ns.job_ad), LazyAd.read(ns.machine_ad)
    except (OSError, ValueError) as exc:
        log.dprintf(Category.ERROR, f"ERROR: cannot read the job or machine ad: {exc}")
        return 1
    st = Starter(ns.slot, job, machine, execute, config, log)
    st.requests = requests
    try:
        try:
            st.make_sandbox((ns.job_ad, ns.machine_ad))
        finally:
            for p in (ns.job_ad, ns.machine_ad):   # consumed (moved, or not needed)
                try:
                    os.unlink(p)
                except OSError:
                    pass
        st.mark_started()
        if not st.transfer_input():
            return 1
        held = st.run_script("Pre")
        if held is not None or st.evicted:
            # the job never starts: held by its pre command, or vacated meanwhile
            result = C.ClassAd({"Outcome": "Evicted" if held is None else "Held",
                                "StarterPid": os.getpid(), "Slot": ns.slot})
            if held is not None:
                result.update(held)
            text = result.printOld()
            write_text(st.result_path, text)
            st.mirror_for_shadow("", result, text, same_as=st.result_path)
            st.cleanup()
            st.mark_done()
            return 0
        st.start_job()
    except (OSError, ValueError) as exc:
        return _failed(st, ns.slot, exc)
    status = st.wait_job()
    while st.self_checkpointed(status):
        try:
            st.restart_after_checkpoint()
        except (OSError, ValueError) as exc:
            return _failed(st, ns.slot, exc)
        status = st.wait_job()
    result = st.finish(status)
    if result.get("Outcome") == "Exited":
        held = st.run_script("Post")    # before the output goes home: it may add to it
        if held is not None:
            result.update(held)
            result["Outcome"] = "Held"
    st.transfer_output(result)
    text = result.printOld()
    write_text(st.result_path, text)
    st.mirror_for_shadow("", result, text, same_as=st.result_path)
    log.dprintf(Category.ALWAYS, f"Job exited: {text.strip().replace(chr(10), '; ')}")
    st.cleanup()
    st.mark_done()
    log.dprintf(Category.ALWAYS, f"**** condor_starter (condor_STARTER) pid {os.getpid()} EXITING WITH STATUS 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
