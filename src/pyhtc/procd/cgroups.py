"""Direct cgroup handling for process families (v1 and v2), via the filesystem.

Semantics follow HTCondor's ``src/condor_utils/proc_family_direct_cgroup_v1.cpp``
and ``_v2.cpp`` and ``src/condor_procd/cgroup_tracker.linux.cpp``:

* v1: one directory per controller hierarchy -- ``freezer`` (suspend/continue
  and race-free kill), ``cpuacct`` (user/system CPU including exited
  processes), ``memory`` (current and peak usage, ``memory.limit_in_bytes``),
  ``pids`` when mounted.
* v2: one directory; ``cgroup.freeze``, ``cgroup.kill``, ``cpu.stat``
  (``user_usec``/``system_usec``), ``memory.current``/``memory.peak``/``memory.max``.

Placement (``BASE_CGROUP``, default ``htcondor``): a relative base is created
beneath the cgroup the calling process is in (the delegation model systemd
uses and HTCondor 23+ follows for v2); an absolute base (``/htcondor``) is
taken from the hierarchy root.  Family cgroups are ``<base>/<name>``.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass

CGROUP_ROOT = "/sys/fs/cgroup"
V1_CONTROLLERS = ("freezer", "cpuacct", "memory", "pids")


class CgroupError(Exception):
    """A cgroup could not be created, joined or removed; message names the path."""


#: what :func:`remember_hierarchy` found, for this process and its forks (or None)
_remembered: dict | None = None


def remember_hierarchy() -> str | None:
    """Read the mount table, this process's cgroups and the usable flavour once and keep
    them (a fork server does this so each forked starter does not; a hierarchy mounted
    later is not seen by this process or its forks).  Returns :func:`detect_mode`."""
    global _remembered
    _remembered = None
    found = {"mounts": _mounts()}
    try:
        with open("/proc/self/cgroup") as f:
            found["self"] = f.read()
    except OSError:
        found["self"] = ""
    _remembered = found
    found["mode"] = detect_mode()
    return found["mode"]


def forget_hierarchy() -> None:
    """Undo :func:`remember_hierarchy`."""
    global _remembered
    _remembered = None


def _mounts() -> list[tuple[str, str, list[str]]]:
    """(mount point, fstype, super options) from /proc/self/mountinfo."""
    if _remembered is not None:
        return _remembered["mounts"]
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                rfields = right.split()
                if len(fields) < 5 or len(rfields) < 3:
                    continue
                out.append((fields[4], rfields[0], rfields[2].split(",")))
    except OSError:
        pass
    return out


def v1_mounts() -> dict[str, str]:
    """controller -> mount point for mounted v1 hierarchies we use."""
    out = {}
    for mnt, fstype, opts in _mounts():
        if fstype == "cgroup":
            for ctl in V1_CONTROLLERS:
                if ctl in opts and ctl not in out:
                    out[ctl] = mnt
    return out


def v2_mount() -> str | None:
    """Mount point of the unified (v2) hierarchy, or None."""
    for mnt, fstype, _ in _mounts():
        if fstype == "cgroup2":
            return mnt
    return None


def self_cgroup(key: str) -> str:
    """The calling process's cgroup path in hierarchy ``key`` (a v1
    controller name such as "freezer", or "" for v2), from /proc/self/cgroup;
    "/" when not found."""
    try:
        if _remembered is not None:
            lines = _remembered["self"].splitlines()
        else:
            with open("/proc/self/cgroup") as f:
                lines = f.read().splitlines()
        for line in lines:
            if line.count(":") >= 2:
                hid, ctls, path = line.split(":", 2)
                if key == "" and hid == "0" and ctls == "":
                    return path
                if key and key in ctls.split(","):
                    return path
    except OSError:
        pass
    return "/"


# cgroup files are read and written with plain os calls (one open, one read or write, one
# close): a forked starter touches a dozen of them per job, and Python's buffered text
# files cost several times more to set up than the I/O itself.  The effect is that of
# open(path, "w").write(value) / open(path).read() (cgroup files hold ASCII).
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def _write(path: str, value: str) -> None:
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: str) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def _read_pids(path: str) -> set[int]:
    txt = _read(path)
    return {int(x) for x in txt.split()} if txt else set()


def _rmdir_tree(path: str) -> None:
    """Remove a cgroup directory and its sub-cgroups (deepest first)."""
    try:
        os.rmdir(path)      # the usual case: no sub-cgroups
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    if not os.path.isdir(path):
        return
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        for d in dirnames:
            try:
                os.rmdir(os.path.join(dirpath, d))
            except FileNotFoundError:
                pass
    os.rmdir(path)


def _subtree(path: str):
    """The cgroup directory and every sub-cgroup directory under it."""
    yield path
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            yield os.path.join(dirpath, d)


@dataclass
class CgroupUsage:
    """CPU seconds and memory bytes read from a cgroup; -1 = not available."""

    user_cpu: float = -1.0
    sys_cpu: float = -1.0
    memory_current: int = -1
    memory_peak: int = -1


class Cgroup(abc.ABC):
    """A family's cgroup.  Create with :func:`open_cgroup`.

    ``created`` is True when this object made the directories (and so
    :meth:`remove` deletes them)."""

    version = 0

    def __init__(self, name: str):
        self.name = name
        self.created = False

    # interface -----------------------------------------------------------
    @abc.abstractmethod
    def add(self, pid: int) -> bool:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def procs(self) -> set[int]:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def contains(self, cgroups: dict[str, str]) -> bool:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def freeze(self, timeout: float = 2.0) -> bool:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def thaw(self) -> bool:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def usage(self) -> CgroupUsage:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def set_memory_limit(self, limit_bytes: int | None) -> None:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def evacuate(self) -> None:
        """Implemented by the v1 and v2 classes."""

    @abc.abstractmethod
    def _remove_dirs(self) -> None:
        """Implemented by the v1 and v2 classes."""

    def _home_procs_files(self) -> list[str]:
        """The cgroup.procs files that put the calling process back where it is now
        (the v1 and v2 classes say)."""
        return []

    def populated(self) -> bool:
        """Whether any process is in the cgroup or a sub-cgroup of it.  Raises OSError
        when that cannot be read."""
        return bool(self.procs())

    # shared behaviour ----------------------------------------------------
    @contextlib.contextmanager
    def joined(self):
        """Run the ``with`` block with the calling process inside this cgroup, then move it
        back to the cgroups it was in.  A child forked or spawned inside the block is born
        in the cgroup, so the job and everything it later forks are in it from their first
        instruction: HTCondor's starter places the job in its cgroup before exec (it clones
        with CLONE_INTO_CGROUP where it can, cgroup_tracker / ProcFamilyDirectCgroupV2),
        and a spawn without a pre-exec step in the child (posix_spawn) can get the same
        guarantee only so.  Yields whether joining worked in every hierarchy.  Raises
        :class:`CgroupError` when the process cannot be moved back (it then stays in the
        cgroup: :meth:`kill_all` spares the caller)."""
        home = self._home_procs_files()      # read before we move
        me = str(os.getpid())
        ok = self.add(os.getpid())
        try:
            yield ok
        finally:
            failed = []
            for path in home:
                try:
                    _write(path, me)
                except OSError as e:
                    failed.append(f"{path}: {e.strerror}")
            if failed:
                raise CgroupError(f"cannot leave cgroup {self.name}: {'; '.join(failed)}")

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup, freezing first so nothing can
        fork in between (HTCondor's "freezer then kill").  Loops until the
        cgroup is empty or ``timeout`` seconds pass; returns True if empty."""
        deadline = time.monotonic() + timeout
        me = os.getpid()
        while True:
            pids = self.procs() - {me}
            if not pids:
                return True
            frozen = self.freeze(timeout=0.5)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                except PermissionError:
                    pass
            if frozen:
                self.thaw()
            if time.monotonic() > deadline:
                return not (self.procs() - {me})
            time.sleep(0.01)

    def remove(self, kill: bool = False, timeout: float = 5.0) -> None:
        """Delete the cgroup if we created it.  Remaining processes are killed
        when ``kill`` is set, otherwise moved back to our own cgroup.  Raises
        :class:`CgroupError` if the directory cannot be removed in ``timeout``."""
        if not self.created:
            return
        self.thaw()
        deadline = time.monotonic() + timeout
        first = True
        while True:
            if first and not kill:
                first = False   # usually empty by now: try removing before evacuating
            elif kill:
                self.kill_all(timeout=max(0.1, deadline - time.monotonic()))
            else:
                self.evacuate()
            try:
                self._remove_dirs()
                self.created = False
                return
            except OSError as e:
                if e.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                    raise CgroupError(f"cannot remove cgroup {self.name}: {e}") from None
                time.sleep(0.02)


class CgroupV1(Cgroup):
    """A family cgroup made of one directory per v1 controller hierarchy."""

    version = 1

    def __init__(self, name: str, dirs: dict[str, str]):
        super().__init__(name)
        self.dirs = dirs  # controller -> absolute directory
        self.rel: dict[str, str] = {}
        self.mounts: dict[str, str] = {}   # controller -> mount point (open_cgroup fills it)

    def add(self, pid: int) -> bool:
        ok = True
        for d in self.dirs.values():
            try:
                _write(os.path.join(d, "cgroup.procs"), str(pid))
            except OSError:
                ok = False
        return ok

    def procs(self) -> set[int]:
        out: set[int] = set()
        for d in self.dirs.values():
            for sub in _subtree(d):
                out |= _read_pids(os.path.join(sub, "cgroup.procs"))
        return out

    def populated(self) -> bool:
        """One read where the pids hierarchy is mounted: ``pids.current`` counts the tasks of
        the cgroup and of all its sub-cgroups (Documentation/cgroup-v1/pids.rst); every
        family process is in all our hierarchies.  Otherwise :meth:`procs`."""
        d = self.dirs.get("pids")
        if d:
            fd = os.open(os.path.join(d, "pids.current"), os.O_RDONLY | os.O_CLOEXEC)
            try:
                return int(os.read(fd, 64).strip() or b"0") > 0
            except ValueError:
                pass
            finally:
                os.close(fd)
        return bool(self.procs())

    def contains(self, cgroups: dict[str, str]) -> bool:
        for ctl in ("freezer", "cpuacct", "memory", "pids"):
            rel = self.rel.get(ctl)
            if rel and ctl in cgroups:
                p = cgroups[ctl]
                return p == rel or p.startswith(rel.rstrip("/") + "/")
        return False

    def freeze(self, timeout: float = 2.0) -> bool:
        d = self.dirs.get("freezer")
        if not d:
            return False
        state = os.path.join(d, "freezer.state")
        try:
            _write(state, "FROZEN")
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (_read(state) or "").strip() == "FROZEN":
                return True
            time.sleep(0.005)
        return False

    def thaw(self) -> bool:
        d = self.dirs.get("freezer")
        if not d:
            return False
        try:
            _write(os.path.join(d, "freezer.state"), "THAWED")
            return True
        except OSError:
            return False

    def usage(self) -> CgroupUsage:
        u = CgroupUsage()
        d = self.dirs.get("cpuacct")
        if d:
            us, sy = _read(os.path.join(d, "cpuacct.usage_user")), _read(os.path.join(d, "cpuacct.usage_sys"))
            if us is not None and sy is not None:
                u.user_cpu, u.sys_cpu = int(us) / 1e9, int(sy) / 1e9
            else:
                st = _read(os.path.join(d, "cpuacct.stat"))
                if st:
                    vals = dict(line.split() for line in st.splitlines() if line.strip())
                    hz = os.sysconf("SC_CLK_TCK")
                    u.user_cpu = int(vals.get("user", 0)) / hz
                    u.sys_cpu = int(vals.get("system", 0)) / hz
        d = self.dirs.get("memory")
        if d:
            cur = _read(os.path.join(d, "memory.usage_in_bytes"))
            peak = _read(os.path.join(d, "memory.max_usage_in_bytes"))
            u.memory_current = int(cur) if cur else -1
            u.memory_peak = int(peak) if peak else -1
        return u

    def set_memory_limit(self, limit_bytes: int | None) -> None:
        d = self.dirs.get("memory")
        if not d:
            raise CgroupError(f"cgroup {self.name}: no v1 memory controller mounted")
        _write(os.path.join(d, "memory.limit_in_bytes"), "-1" if limit_bytes is None else str(limit_bytes))

    def evacuate(self) -> None:
        for ctl, d in self.dirs.items():
            target = os.path.join(_mount_of(d), self_cgroup(ctl).lstrip("/"), "cgroup.procs")
            for sub in _subtree(d):
                for pid in _read_pids(os.path.join(sub, "cgroup.procs")):
                    try:
                        _write(target, str(pid))
                    except OSError:
                        pass

    def _remove_dirs(self) -> None:
        for d in self.dirs.values():
            _rmdir_tree(d)

    def _home_procs_files(self) -> list[str]:
        """cgroup.procs of the calling process's own cgroup in each hierarchy we use (from
        /proc/self/cgroup as it is now)."""
        own = _own_cgroups()
        out = []
        for ctl, d in self.dirs.items():
            rel = own.get(ctl)
            if rel is not None:
                mnt = self.mounts.get(ctl) or _mount_of(d)
                out.append(os.path.join(mnt, rel.lstrip("/"), "cgroup.procs"))
        return out


def _own_cgroups() -> dict[str, str]:
    """The calling process's cgroups now, read from /proc/self/cgroup (never the
    remembered copy: a process may have moved since): v1 controller name -> path, and
    "" -> the v2 path.  Empty when unreadable."""
    out: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", "rb") as f:
            text = f.read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        hid, sep, rest = line.partition(":")
        ctls, sep2, path = rest.partition(":")
        if not sep2:
            continue
        if hid == "0" and ctls == "":
            out[""] = path
        for ctl in ctls.split(","):
            if ctl:
                out.setdefault(ctl, path)
    return out


def _mount_of(path: str) -> str:
    best = ""
    for mnt, fstype, _ in _mounts():
        if fstype in ("cgroup", "cgroup2") and (path == mnt or path.startswith(mnt.rstrip("/") + "/")):
            if len(mnt) > len(best):
                best = mnt
    return best


class CgroupV2(Cgroup):
    """A family cgroup in the unified (v2) hierarchy."""

    version = 2

    def __init__(self, name: str, path: str, rel: str):
        super().__init__(name)
        self.path = path
        self.rel = rel

    def add(self, pid: int) -> bool:
        try:
            _write(os.path.join(self.path, "cgroup.procs"), str(pid))
            return True
        except OSError:
            return False

    def procs(self) -> set[int]:
        out: set[int] = set()
        for sub in _subtree(self.path):
            out |= _read_pids(os.path.join(sub, "cgroup.procs"))
        return out

    def populated(self) -> bool:
        """``populated 1`` in cgroup.events covers the cgroup and its sub-cgroups
        (Documentation/admin-guide/cgroup-v2.rst)."""
        ev = _read(os.path.join(self.path, "cgroup.events"))
        if ev is None:
            return bool(self.procs())
        for line in ev.splitlines():
            k, _, v = line.partition(" ")
            if k == "populated":
                return v.strip() != "0"
        return bool(self.procs())

    def contains(self, cgroups: dict[str, str]) -> bool:
        p = cgroups.get("")
        return p is not None and (p == self.rel or p.startswith(self.rel.rstrip("/") + "/"))

    def freeze(self, timeout: float = 2.0) -> bool:
        try:
            _write(os.path.join(self.path, "cgroup.freeze"), "1")
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = _read(os.path.join(self.path, "cgroup.events")) or ""
            if "frozen 1" in ev:
                return True
            time.sleep(0.005)
        return False

    def thaw(self) -> bool:
        try:
            _write(os.path.join(self.path, "cgroup.freeze"), "0")
            return True
        except OSError:
            return False

    def kill_all(self, timeout: float = 5.0) -> bool:
        """Use ``cgroup.kill`` (kernel >= 5.14) when present, else freeze+kill."""
        killfile = os.path.join(self.path, "cgroup.kill")
        me = os.getpid()
        if os.path.exists(killfile) and me not in self.procs():
            deadline = time.monotonic() + timeout
            while self.procs():
                try:
                    _write(killfile, "1")
                except OSError:
                    break
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
            if not self.procs():
                return True
        return super().kill_all(timeout)

    def usage(self) -> CgroupUsage:
        u = CgroupUsage()
        st = _read(os.path.join(self.path, "cpu.stat"))
        if st:
            vals = {}
            for line in st.splitlines():
                parts = line.split()
                if len(parts) == 2:
                    vals[parts[0]] = int(parts[1])
            if "user_usec" in vals:
                u.user_cpu = vals["user_usec"] / 1e6
                u.sys_cpu = vals.get("system_usec", 0) / 1e6
        cur = _read(os.path.join(self.path, "memory.current"))
        peak = _read(os.path.join(self.path, "memory.peak"))
        u.memory_current = int(cur) if cur else -1
        u.memory_peak = int(peak) if peak else -1
        return u

    def set_memory_limit(self, limit_bytes: int | None) -> None:
        f = os.path.join(self.path, "memory.max")
        if not os.path.exists(f):
            raise CgroupError(f"cgroup {self.rel}: memory controller not enabled (no memory.max)")
        _write(f, "max" if limit_bytes is None else str(limit_bytes))

    def evacuate(self) -> None:
        target = os.path.join(_mount_of(self.path), self_cgroup("").lstrip("/"), "cgroup.procs")
        for sub in _subtree(self.path):
            for pid in _read_pids(os.path.join(sub, "cgroup.procs")):
                try:
                    _write(target, str(pid))
                except OSError:
                    pass

    def _remove_dirs(self) -> None:
        _rmdir_tree(self.path)

    def _home_procs_files(self) -> list[str]:
        rel = _own_cgroups().get("")
        if rel is None:
            return []
        return [os.path.join(_mount_of(self.path), rel.lstrip("/"), "cgroup.procs")]


def detect_mode() -> str | None:
    """Which cgroup flavour to use: "v2" when the unified hierarchy is mounted
    at /sys/fs/cgroup (pure v2), "v1" when the v1 freezer and cpuacct
    hierarchies are mounted, "v2" again for a writable hybrid
    /sys/fs/cgroup/unified, else None (no usable cgroups)."""
    if _remembered is not None and "mode" in _remembered:
        return _remembered["mode"]
    v2 = v2_mount()
    if v2 == CGROUP_ROOT:
        return "v2" if os.access(v2, os.W_OK) else None
    v1 = v1_mounts()
    if "freezer" in v1 and "cpuacct" in v1 and all(os.access(p, os.W_OK) for p in v1.values()):
        return "v1"
    if v2 and os.access(v2, os.W_OK):
        return "v2"
    return None


def _base_rel(base: str, key: str) -> str:
    if base.startswith("/"):
        return base.rstrip("/") or "/"
    return os.path.join(self_cgroup(key), base).rstrip("/")


def _validate_name(name: str) -> None:
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
        raise CgroupError(f"bad cgroup name {name!r}: must be a relative path without '.' or '..' parts")


def _enable_v2_controllers(mount: str, rel: str) -> None:
    """Best effort: enable cpu/memory/pids along the path so the family cgroup
    gets memory.max etc.  Parents holding processes refuse (EBUSY); ignored."""
    parts = [p for p in rel.split("/") if p]
    cur = mount
    for p in parts[:-1] + [""]:
        ctrls = (_read(os.path.join(cur, "cgroup.controllers")) or "").split()
        want = [c for c in ("cpu", "memory", "pids", "io") if c in ctrls]
        if want:
            try:
                _write(os.path.join(cur, "cgroup.subtree_control"), " ".join("+" + c for c in want))
            except OSError:
                return
        if not p:
            break
        cur = os.path.join(cur, p)


def _make_dir(path: str) -> None:
    """mkdir ``path``, its parents too when missing (one system call in the usual case, the
    base existing).  Raises FileExistsError when it exists, else OSError."""
    try:
        os.mkdir(path)
    except FileNotFoundError:
        os.makedirs(path)


def open_cgroup(name: str, base: str = "htcondor", mode: str | None = None) -> Cgroup:
    """Create (or adopt, if it exists) the family cgroup ``<base>/<name>``.

    ``mode`` is "v1", "v2" or None for :func:`detect_mode`.  Raises
    :class:`CgroupError` when no cgroup flavour is usable or the directories
    cannot be made (e.g. not root)."""
    _validate_name(name)
    mode = mode or detect_mode()
    if mode == "v1":
        mounts = v1_mounts()
        if "freezer" not in mounts:
            raise CgroupError("cgroup v1 requested but the freezer hierarchy is not mounted")
        cg = CgroupV1(name, {})
        created = False
        for ctl, mnt in mounts.items():
            rel = os.path.join(_base_rel(base, ctl), name)
            d = os.path.join(mnt, rel.lstrip("/"))
            try:
                _make_dir(d)
                created = True
            except OSError as e:
                if isinstance(e, FileExistsError) and os.path.isdir(d):
                    pass                                    # adopted
                else:
                    if created:
                        try:
                            cg._remove_dirs()
                        except OSError:
                            pass
                    raise CgroupError(f"cannot create cgroup {d}: {e.strerror}") from None
            cg.dirs[ctl] = d
            cg.rel[ctl] = rel
            cg.mounts[ctl] = mnt
        cg.created = created
        return cg
    if mode == "v2":
        mnt = v2_mount()
        if not mnt:
            raise CgroupError("cgroup v2 requested but no cgroup2 filesystem is mounted")
        rel = os.path.join(_base_rel(base, ""), name)
        d = os.path.join(mnt, rel.lstrip("/"))
        cg = CgroupV2(name, d, rel)
        if not os.path.isdir(d):
            _enable_v2_controllers(mnt, rel)
            try:
                os.makedirs(d)
            except OSError as e:
                raise CgroupError(f"cannot create cgroup {d}: {e.strerror}") from None
            cg.created = True
        return cg
    raise CgroupError("no usable cgroup hierarchy (need root and cgroup v1 freezer+cpuacct or v2)")
