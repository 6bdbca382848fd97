"""Process-table snapshots (the procd's view of ``ProcAPI::getProcInfoList``).

Uses psutil for the portable fields and reads the few Linux-only ones
(supplementary groups, cgroup membership, initial environment) from /proc
lazily, only when a tracker needs them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psutil

_ATTRS = ["pid", "ppid", "create_time", "cpu_times", "memory_info", "uids", "status"]


@dataclass
class ProcInfo:
    """One process as seen at one snapshot.

    Times are float seconds; ``user_time``/``sys_time`` are the process's own
    CPU (``utime``/``stime``), ``child_user``/``child_sys`` the CPU of children
    it has reaped (``cutime``/``cstime``).  ``birthday`` is the start time in
    seconds since the epoch; (pid, birthday) identifies a process across pid
    reuse.  ``rss``/``vms`` are bytes."""

    pid: int
    ppid: int
    birthday: float
    user_time: float = 0.0
    sys_time: float = 0.0
    child_user: float = 0.0
    child_sys: float = 0.0
    rss: int = 0
    vms: int = 0
    uid: int = -1
    zombie: bool = False
    sampled_at: float = field(default_factory=time.monotonic)
    cpu_percent: float = 0.0
    _environ: dict | None = None
    _groups: frozenset | None = None
    _cgroups: dict | None = None

    @property
    def total_cpu(self) -> float:
        """Own plus reaped-children CPU seconds."""
        return self.user_time + self.sys_time + self.child_user + self.child_sys

    def environ(self) -> dict[str, str]:
        """The process's initial environment (/proc/<pid>/environ); {} if unreadable."""
        if self._environ is None:
            try:
                with open(f"/proc/{self.pid}/environ", "rb") as f:
                    raw = f.read()
                env = {}
                for item in raw.split(b"\0"):
                    k, sep, v = item.partition(b"=")
                    if sep:
                        env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
                self._environ = env
            except OSError:
                self._environ = {}
        return self._environ

    def groups(self) -> frozenset:
        """Supplementary group ids ("Groups:" in /proc/<pid>/status)."""
        if self._groups is None:
            gids: set[int] = set()
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("Groups:"):
                            gids = {int(x) for x in line.split()[1:]}
                            break
            except OSError:
                pass
            self._groups = frozenset(gids)
        return self._groups

    def cgroups(self) -> dict[str, str]:
        """Map hierarchy key -> cgroup path from /proc/<pid>/cgroup.  Keys are
        the v1 controller names (each one of a comma list) and ``""`` for v2."""
        if self._cgroups is None:
            out: dict[str, str] = {}
            try:
                with open(f"/proc/{self.pid}/cgroup") as f:
                    for line in f:
                        parts = line.rstrip("\n").split(":", 2)
                        if len(parts) != 3:
                            continue
                        for ctl in parts[1].split(",") if parts[1] else [""]:
                            out[ctl] = parts[2]
            except OSError:
                pass
            self._cgroups = out
        return self._cgroups


def _from_psutil(info: dict) -> ProcInfo | None:
    ct = info.get("cpu_times")
    if info.get("create_time") is None or info.get("ppid") is None:
        return None
    mi = info.get("memory_info")
    uids = info.get("uids")
    return ProcInfo(
        pid=info["pid"], ppid=info["ppid"], birthday=info["create_time"],
        user_time=ct.user if ct else 0.0, sys_time=ct.system if ct else 0.0,
        child_user=getattr(ct, "children_user", 0.0) if ct else 0.0,
        child_sys=getattr(ct, "children_system", 0.0) if ct else 0.0,
        rss=mi.rss if mi else 0, vms=mi.vms if mi else 0,
        uid=uids.real if uids else -1,
        zombie=info.get("status") == psutil.STATUS_ZOMBIE,
    )


# -- reading /proc directly (Linux) ------------------------------------------------------
# psutil opens half a dozen files per process and re-reads the boot time each time; the
# procd needs one line of /proc/<pid>/stat (proc(5)) and the real uid from .../status.
# Values are the ones psutil gives: times in seconds (ticks / CLK_TCK), birthday =
# boot time + starttime / CLK_TCK, rss and vms in bytes.
_HAVE_PROC = os.path.exists(f"/proc/{os.getpid()}/stat")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if _HAVE_PROC else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if _HAVE_PROC else 4096
_boot_time: float | None = None


def _btime() -> float:
    global _boot_time
    if _boot_time is None:
        _boot_time = psutil.boot_time()
    return _boot_time


def read_pid(pid: int) -> ProcInfo | None:
    """One process read from /proc/<pid>/stat and /proc/<pid>/status, or None if it does
    not exist (or vanished while read)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
    except OSError:
        return None
    try:
        fields = stat[stat.rindex(b")") + 2:].split()
        uid = -1
        at = status.find(b"\nUid:")
        if at >= 0:
            uid = int(status[at + 5:status.index(b"\n", at + 5)].split()[0])
        tck = _CLK_TCK
        return ProcInfo(
            pid=pid, ppid=int(fields[1]), birthday=_btime() + int(fields[19]) / tck,
            user_time=int(fields[11]) / tck, sys_time=int(fields[12]) / tck,
            child_user=int(fields[13]) / tck, child_sys=int(fields[14]) / tck,
            rss=int(fields[21]) * _PAGE, vms=int(fields[20]), uid=uid,
            zombie=fields[0] == b"Z")
    except (ValueError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    """Pids of the live children of ``pid``, from /proc/<pid>/task/<tid>/children (Linux
    3.5+ with CONFIG_PROC_CHILDREN; a child belongs to the thread that forked it); []
    if ``pid`` is gone."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def can_list_children() -> bool:
    """Whether :func:`children_of` works on this kernel."""
    me = os.getpid()
    return os.path.exists(f"/proc/{me}/task/{me}/children")


_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER, Linux 3.4+):
    orphaned descendants are then re-parented to it instead of to init, so a family
    found by walking down from here keeps its daemonized grandchildren.  Not inherited
    across fork.  Returns False where unsupported."""
    try:
        prctl, c_ulong = _prctl()
        return prctl(_PR_SET_CHILD_SUBREAPER, c_ulong(1), c_ulong(0), c_ulong(0), c_ulong(0)) == 0
    except (OSError, AttributeError):
        return False


_PRCTL = None


def _prctl():
    """(libc prctl, ctypes.c_ulong), looked up once per process (and so once per fork
    server: its children inherit it).  Raises OSError or AttributeError where absent."""
    global _PRCTL
    if _PRCTL is None:
        import ctypes
        _PRCTL = (ctypes.CDLL(None, use_errno=True).prctl, ctypes.c_ulong)
    return _PRCTL


def snapshot() -> dict[int, ProcInfo]:
    """Read the whole process table: pid -> ProcInfo.  Processes that vanish
    while being read are skipped; pid 0 is never included."""
    out: dict[int, ProcInfo] = {}
    if _HAVE_PROC:
        for name in os.listdir("/proc"):
            if name.isdigit():
                pi = read_pid(int(name))
                if pi is not None and pi.pid > 0:
                    out[pi.pid] = pi
        return out
    for p in psutil.process_iter(_ATTRS, ad_value=None):
        pi = _from_psutil(p.info)
        if pi is not None and pi.pid > 0:
            out[pi.pid] = pi
    return out


def get_proc_info(pid: int) -> ProcInfo | None:
    """One process, or None if it does not exist."""
    if _HAVE_PROC:
        return read_pid(pid) if pid > 0 else None
    try:
        p = psutil.Process(pid)
        with p.oneshot():
            return _from_psutil(p.as_dict(_ATTRS, ad_value=None))
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def pid_alive(pid) -> bool:
    """Whether process ``pid`` exists and is not a zombie (DaemonCore::Is_Pid_Alive); a
    process we may not inspect counts as alive.  ``pid`` None, 0 or negative: False."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
