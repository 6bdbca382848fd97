"""Helpers for the procd tests: worker processes, liveness and suspension checks.
(A uniquely named module, so test files can import it without clashing with
other directories' conftest modules.)"""

import os
import pathlib
import signal
import subprocess
import sys
import time

import psutil

from pyhtc.procd import cgroups

WORKERS = str(pathlib.Path(__file__).with_name("workers.py"))
IS_ROOT = os.geteuid() == 0


def cgroup_modes():
    """cgroup flavours usable here ("v1", "v2"): probed by really creating,
    joining and removing a cgroup (a read-only or undelegated cgroupfs fails)."""
    modes = []
    if not IS_ROOT:
        return modes
    base = f"pyhtc_probe_{os.getpid()}"
    for mode in ("v1", "v2"):
        try:
            cg = cgroups.open_cgroup("probe", base, mode)
        except cgroups.CgroupError:
            continue
        try:
            p = subprocess.Popen(["sleep", "5"])
            try:
                if cg.add(p.pid) and p.pid in cg.procs() and cg.freeze(1.0):
                    cg.thaw()
                    modes.append(mode)
            finally:
                cg.thaw()
                p.kill()
                p.wait()
            cg.remove(kill=True, timeout=2)
        except (OSError, cgroups.CgroupError):
            pass
        for d in _base_dirs(base):
            try:
                os.rmdir(d)
            except OSError:
                pass
    return modes


def _base_dirs(base):
    """The directories of base cgroup ``base`` in every hierarchy."""
    out = []
    for ctl, mnt in cgroups.v1_mounts().items():
        out.append(os.path.join(mnt, cgroups.self_cgroup(ctl).lstrip("/"), base))
    v2 = cgroups.v2_mount()
    if v2:
        out.append(os.path.join(v2, cgroups.self_cgroup("").lstrip("/"), base))
    return out


def dead(pid):
    """True if pid is gone or a zombie (a zombie has no code left to run)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _cgroup_dirs(pid):
    """(v1 freezer dir or None, v2 dir or None) of a process."""
    fr = v2 = None
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None, None
    for line in lines:
        hid, ctls, path = line.split(":", 2)
        if "freezer" in ctls.split(","):
            mnt = cgroups.v1_mounts().get("freezer")
            if mnt:
                fr = os.path.join(mnt, path.lstrip("/"))
        elif hid == "0" and ctls == "":
            mnt = cgroups.v2_mount()
            if mnt:
                v2 = os.path.join(mnt, path.lstrip("/"))
    return fr, v2


def is_suspended(pid):
    """True if the process is SIGSTOPped or in a frozen cgroup."""
    try:
        if psutil.Process(pid).status() == psutil.STATUS_STOPPED:
            return True
    except psutil.NoSuchProcess:
        return False
    fr, v2 = _cgroup_dirs(pid)
    try:
        if fr and open(os.path.join(fr, "freezer.state")).read().strip() == "FROZEN":
            return True
        if v2 and "frozen 1" in open(os.path.join(v2, "cgroup.events")).read():
            return True
    except OSError:
        pass
    return False


def thaw(pid):
    """Thaw whatever cgroup freezes ``pid`` (test cleanup)."""
    fr, v2 = _cgroup_dirs(pid)
    for path, value in ((fr and os.path.join(fr, "freezer.state"), "THAWED"),
                        (v2 and os.path.join(v2, "cgroup.freeze"), "0")):
        if path and os.path.exists(path) and os.path.dirname(path) not in (
                cgroups.v1_mounts().get("freezer"), cgroups.v2_mount()):
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError:
                pass


def wait_until(pred, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


class Spawner:
    """Start worker processes and remember every pid to kill at the end."""

    def __init__(self):
        self.popens = []
        self.pids = set()

    def start(self, *args, env=None, preexec_fn=None, wait_ready=True):
        p = subprocess.Popen([sys.executable, WORKERS, *map(str, args)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env, preexec_fn=preexec_fn)
        self.popens.append(p)
        self.pids.add(p.pid)
        if wait_ready:
            assert self.readline(p) == "ready"
        return p

    def readline(self, p, timeout=10.0):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"worker {p.pid} printed nothing in {timeout}s")
        line = p.stdout.readline().strip()
        sel.close()
        return line

    def go(self, p):
        p.stdin.write("go\n")
        p.stdin.flush()

    def remember(self, *pids):
        self.pids.update(int(x) for x in pids)

    def cleanup(self):
        for pid in list(self.pids):
            try:
                for c in psutil.Process(pid).children(recursive=True):
                    self.pids.add(c.pid)
            except psutil.Error:
                pass
        for pid in self.pids:
            thaw(pid)
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for p in self.popens:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except Exception:
                    pass
