"""ProcFamilyMonitor: the procd's engine, usable in-process.

Follows HTCondor's ``src/condor_procd/proc_family_monitor.cpp``:

* a root family (the procd's parent, or ``-P <pid>``) contains every process
  descended from its root; ``register_subfamily`` carves nested families out
  of it, and a process belongs to the innermost family that claims it;
* each snapshot keeps known processes where they are (matched by pid and
  birthday), retires exited ones (remembering their CPU), then asks the
  trackers -- by root pid, supplementary group, cgroup, login, environment
  cookie, and last by parent pid, repeated until nothing changes -- where new
  processes belong; a tracker may also move a process into a *more specific*
  (nested) family;
* families whose watcher has exited are unregistered automatically.

Differences from HTCondor (deliberate): processes outside the tree are
re-examined by the non-parent trackers at every snapshot (so a tracker added
after a process started still finds it); register_subfamily moves the root's
existing descendants along with it; kill_family repeats snapshot+SIGKILL until
nothing of the family is left (freezing cgroups first); CPU of reaped
children is taken from the reaper's ``cutime``/``cstime`` so short-lived
children that no snapshot saw are still counted.

All methods return a :class:`~pyhtc.procd.protocol.ProcFamilyError`
(and a result where noted); they are thread-safe (one re-entrant lock).
"""

from __future__ import annotations

import logging
import os
import pwd
import signal
import threading
import time

from . import pidenvid
from .cgroups import Cgroup, CgroupError, open_cgroup
from .family import Member, ProcFamily
from .procinfo import (ProcInfo, can_list_children, children_of, get_proc_info, read_pid,
                       snapshot as read_process_table)
from .protocol import ProcFamilyDump, ProcFamilyError as E, ProcFamilyProcessDump, ProcFamilyUsage

log = logging.getLogger("pyhtc.procd")

_BIRTHDAY_SLACK = 0.02  # seconds; psutil derives create_time from clock ticks


def _same_birthday(a: float, b: float) -> bool:
    return abs(a - b) < _BIRTHDAY_SLACK


class WatcherDied(Exception):
    """The root family's watcher (the procd's parent) exited; the procd must
    stop (HTCondor EXCEPTs with "Watcher pid ... exited so procd is exiting")."""


class ProcFamilyMonitor:
    """Track, measure, signal and kill process families.

    Parameters:
      root_pid: root of the monitored tree (default: this process).
      except_if_root_dies: make the root its own watcher; when it exits the
        next snapshot raises :class:`WatcherDied` (procd without ``-P``).
      max_snapshot_interval: seconds between automatic snapshots for the root
        family (-1 = none); the effective interval is the minimum over families.
      base_cgroup: HTCondor's ``BASE_CGROUP`` (default ``htcondor``).
      cgroup_mode: "v1", "v2" or None (auto-detect) for TRACK_FAMILY_VIA_CGROUP.
      min_tracking_gid/max_tracking_gid: the ``-G`` range for supplementary
        group tracking (0/0 = disabled); ``allocate_gids`` False is ``-E``
        (gids are associated by the client, not allocated by us).
      scan: "table" reads the whole process table at each snapshot (what the
        procd does: the environment, login and group trackers can find any
        process); "family" reads only the families' processes -- their roots,
        known members and everything below them (/proc/<pid>/task/*/children),
        the processes in their cgroups, and the children of ``adopters`` --
        so a snapshot costs in proportion to the families, not to the machine
        (falls back to "table" where the kernel cannot list children).
      adopters: pids (not members) whose children belong to the root family:
        a child subreaper (:func:`~pyhtc.procd.procinfo.become_subreaper`),
        e.g. the starter, to which the job's daemonized descendants are
        re-parented.  Only with scan="family".
    Raises ValueError if ``root_pid`` does not exist or ``scan`` is unknown.
    """

    def __init__(self, root_pid: int | None = None, *, except_if_root_dies: bool = False,
                 max_snapshot_interval: int = 60, base_cgroup: str = "htcondor",
                 cgroup_mode: str | None = None, min_tracking_gid: int = 0,
                 max_tracking_gid: int = 0, allocate_gids: bool = True,
                 scan: str = "table", adopters: tuple[int, ...] = ()):
        if scan not in ("table", "family"):
            raise ValueError(f"scan must be 'table' or 'family', not {scan!r}")
        if scan == "family" and not can_list_children():
            scan = "table"
        self.scan = scan
        self.adopters = frozenset(adopters) if scan == "family" else frozenset()
        if root_pid is None:
            root_pid = os.getpid()
        info = get_proc_info(root_pid)
        if info is None:
            raise ValueError(f"root pid {root_pid} does not exist")
        if max_snapshot_interval < -1:
            raise ValueError(f"max_snapshot_interval {max_snapshot_interval} must be >= -1")
        if min_tracking_gid > max_tracking_gid:
            raise ValueError(f"invalid group range given: {min_tracking_gid} - {max_tracking_gid}")
        self.lock = threading.RLock()
        self.base_cgroup = base_cgroup
        self.cgroup_mode = cgroup_mode
        self.min_gid, self.max_gid, self.allocate_gids = min_tracking_gid, max_tracking_gid, allocate_gids
        self.except_if_root_dies = except_if_root_dies
        self.root = ProcFamily(root_pid, info.birthday, root_pid if except_if_root_dies else 0,
                               max_snapshot_interval)
        self.families: dict[int, ProcFamily] = {root_pid: self.root}
        self.members: dict[int, Member] = {}
        self.last_snapshot = 0.0
        self._add(self.root, info, "PID")
        self.snapshot()

    # ------------------------------------------------------------------ helpers
    def _family(self, pid: int, zero_means_root: bool = True) -> ProcFamily | None:
        if zero_means_root and pid == 0:
            return self.root
        return self.families.get(pid)

    def _add(self, fam: ProcFamily, info: ProcInfo, method: str) -> Member:
        m = Member(info, fam, method)
        fam.members[info.pid] = m
        self.members[info.pid] = m
        if fam.cgroup is not None and not fam.cgroup.contains(info.cgroups()):
            fam.cgroup.add(info.pid)  # HTCondor's ProcFamily::migrate_to_cgroup
            info._cgroups = None
        return m

    def _move(self, m: Member, fam: ProcFamily, method: str) -> None:
        del m.family.members[m.pid]
        m.family = fam
        m.method = method
        fam.members[m.pid] = m
        if fam.cgroup is not None and not fam.cgroup.contains(m.info.cgroups()):
            fam.cgroup.add(m.pid)
            m.info._cgroups = None

    def _claim(self, fam: ProcFamily, info: ProcInfo, method: str) -> bool:
        """add_member_to_family: insert a new process, or move a member to a
        more specific family; returns True if anything changed."""
        m = self.members.get(info.pid)
        if m is None:
            self._add(fam, info, method)
            return True
        if m.family is not fam and fam.is_more_specific_than(m.family):
            log.info("method %s: found family %d for process %d (more specific than %d)",
                     method, fam.root_pid, info.pid, m.family.root_pid)
            self._move(m, fam, method)
            return True
        return False

    # ------------------------------------------------------------------ snapshot
    def snapshot(self) -> None:
        """Rescan the process table and update every family (TAKE_SNAPSHOT).

        Raises :class:`WatcherDied` if the root family's watcher has exited
        and ``except_if_root_dies`` was set."""
        with self.lock:
            self._snapshot()

    def _read_procs(self) -> dict[int, ProcInfo]:
        """The processes this snapshot looks at (see ``scan`` in the class doc)."""
        if self.scan == "table":
            return read_process_table()
        seeds = set(self.members)
        for fam in self.root.subtree():
            seeds.add(fam.root_pid)
            if fam.cgroup is not None:
                try:
                    seeds.update(fam.cgroup.procs())
                except (CgroupError, OSError):
                    pass
        for pid in self.adopters:
            seeds.update(children_of(pid))
        procs: dict[int, ProcInfo] = {}
        todo = [p for p in seeds if p not in self.adopters]
        while todo:
            pid = todo.pop()
            if pid in procs or pid in self.adopters or pid <= 0:
                continue
            info = read_pid(pid)
            if info is None:
                continue
            procs[pid] = info
            todo.extend(children_of(pid))
        return procs

    def _snapshot(self) -> None:
        now = time.monotonic()
        procs = self._read_procs()
        # 1. update known processes, retire the exited ones
        exited: list[Member] = []
        reaped_delta: dict[int, tuple[float, float]] = {}  # pid -> growth of cutime, cstime
        for pid, m in list(self.members.items()):
            cur = procs.get(pid)
            if cur is not None and _same_birthday(cur.birthday, m.info.birthday):
                reaped_delta[pid] = (cur.child_user - m.info.child_user, cur.child_sys - m.info.child_sys)
                dt = now - m.info.sampled_at
                cur.sampled_at = now
                if dt > 0:
                    delta = (cur.user_time + cur.sys_time) - (m.info.user_time + m.info.sys_time)
                    cur.cpu_percent = max(0.0, 100.0 * delta / dt)
                m.info = cur
            else:
                exited.append(m)
        gone = {m.pid for m in exited}
        reaped_by: dict[int, int] = {}
        for m in exited:
            reaped_by[m.info.ppid] = reaped_by.get(m.info.ppid, 0) + 1
        for m in exited:
            # when m was the only member its parent reaped since the last
            # snapshot, the growth of the parent's cutime/cstime is m's exact
            # final CPU (last-seen values miss the time since that snapshot)
            final = reaped_delta.get(m.info.ppid) if reaped_by[m.info.ppid] == 1 else None
            self._retire(m, gone, final)
        # 2. assign new processes (and re-examine outsiders) with the trackers
        candidates = {pid: pi for pid, pi in procs.items() if pid not in self.members}
        for pi in candidates.values():
            pi.sampled_at = now
        self._run_trackers(candidates)
        # 3. garbage-collect families whose watcher exited
        self._delete_unwatched(self.root, procs)
        # 4. maximum image size / RSS bookkeeping (update_max_image_sizes)
        self._update_maxima(self.root)
        self.last_snapshot = time.monotonic()

    def _retire(self, m: Member, gone: set[int], final: tuple[float, float] | None = None) -> None:
        """A member has exited: keep its CPU time (ProcFamily::remove_exited_processes).

        If its parent is still a live member, the parent has reaped it and the
        child's final CPU is in the parent's cutime/cstime; then only a child of
        a *different* family is booked to its own family (and subtracted from
        the reaper).  Otherwise its last-seen totals are remembered."""
        fam = m.family
        i = m.info
        u, s = i.user_time + i.child_user - m.foreign_user, i.sys_time + i.child_sys - m.foreign_sys
        parent = self.members.get(i.ppid)
        parent_alive = parent is not None and parent.pid not in gone
        if parent_alive and final is not None:
            # (an unseen non-member child reaped in the same interval would be
            # attributed to m as well; an accepted imprecision)
            u = max(u, final[0] - m.foreign_user)
            s = max(s, final[1] - m.foreign_sys)
        if parent_alive and parent.family is fam:
            # counted via the parent's cutime, which now also holds the time of
            # m's children from other families: pass m's offsets on
            parent.foreign_user += m.foreign_user
            parent.foreign_sys += m.foreign_sys
        else:
            fam.exited_user += max(0.0, u)
            fam.exited_sys += max(0.0, s)
            if parent_alive:
                # all of m's time is in the reaper's cutime: its own (booked
                # here) and its foreign children's (booked in their families)
                parent.foreign_user += max(0.0, u) + m.foreign_user
                parent.foreign_sys += max(0.0, s) + m.foreign_sys
        del fam.members[m.pid]
        del self.members[m.pid]

    def _run_trackers(self, candidates: dict[int, ProcInfo]) -> None:
        families = list(self.root.subtree())
        # PID tracker: family roots (by pid and birthday)
        for fam in families:
            pi = candidates.get(fam.root_pid)
            if pi is not None and _same_birthday(pi.birthday, fam.root_birthday):
                self._claim(fam, pi, "PID")

        def pool(fam: ProcFamily):
            # candidates not yet members, plus members of less specific families
            for pi in list(candidates.values()):
                if pi.pid not in self.members:
                    yield pi
            for anc in fam.ancestors():
                for m in list(anc.members.values()):
                    yield m.info

        for fam in families:
            if fam.gids:
                for pi in pool(fam):
                    if fam.gids & pi.groups():
                        self._claim(fam, pi, "GROUP")
        for fam in families:
            if fam.cgroup is not None:
                for pi in pool(fam):
                    if fam.cgroup.contains(pi.cgroups()):
                        self._claim(fam, pi, "CGROUP")
        for fam in families:
            if fam.login_uids:
                for pi in pool(fam):
                    if pi.uid in fam.login_uids:
                        self._claim(fam, pi, "LOGIN")
        for fam in families:
            if fam.env_cookies:
                for pi in pool(fam):
                    env = pi.environ()  # read at most once per snapshot (exec may change it)
                    if any(pidenvid.matches(c, env) for c in fam.env_cookies):
                        self._claim(fam, pi, "ENV")
        # children of an adopter (a subreaper such as the starter): orphaned
        # descendants of the root family's processes (pyhtc's; HTCondor finds
        # those by environment or cgroup)
        if self.adopters:
            for pid, pi in candidates.items():
                if pid not in self.members and pi.ppid in self.adopters:
                    self._add(self.root, pi, "REAPER")
        # PARENT tracker last, repeated until no change (parent_tracker.cpp)
        changed = True
        while changed:
            changed = False
            for pid, pi in candidates.items():
                if pid in self.members:
                    continue
                pm = self.members.get(pi.ppid)
                if pm is None or pm.info.birthday > pi.birthday + _BIRTHDAY_SLACK:
                    continue
                self._add(pm.family, pi, "PARENT")
                changed = True

    def _delete_unwatched(self, fam: ProcFamily, procs: dict[int, ProcInfo]) -> None:
        for child in list(fam.children):
            self._delete_unwatched(child, procs)
        w = fam.watcher_pid
        if w == 0:
            return
        wi = procs.get(w)
        if wi is None and self.scan == "family":
            wi = get_proc_info(w)   # watchers are outside the families' tree
        if wi is not None and not wi.zombie and wi.birthday <= fam.root_birthday + _BIRTHDAY_SLACK:
            return
        if fam is self.root:
            if self.except_if_root_dies:
                raise WatcherDied(f"Watcher pid {w} exited so procd is exiting")
            return
        log.info("watcher %d of family with root %d has died; family removed", w, fam.root_pid)
        self._unregister(fam)

    def _update_maxima(self, fam: ProcFamily) -> tuple[int, int]:
        img = rss = 0
        for c in fam.children:
            ci, cr = self._update_maxima(c)
            img += ci
            rss += cr
        for m in fam.members.values():
            img += m.info.vms // 1024
            rss += m.info.rss // 1024
        fam.max_image_size = max(fam.max_image_size, img)
        fam.max_rss = max(fam.max_rss, rss)
        return img, rss

    # ------------------------------------------------------------------ registration
    def register_subfamily(self, root_pid: int, watcher_pid: int, max_snapshot_interval: int) -> E:
        """REGISTER_SUBFAMILY: make the tree under ``root_pid`` its own family,
        nested in whichever family ``root_pid`` is in now.  ``watcher_pid`` 0
        = never garbage-collected; ``max_snapshot_interval`` seconds or -1.

        Errors: BAD_ROOT_PID, BAD_WATCHER_PID, BAD_SNAPSHOT_INTERVAL,
        PROCESS_NOT_FAMILY (root not in the monitored tree), ALREADY_REGISTERED."""
        if root_pid <= 0:
            return E.BAD_ROOT_PID
        if watcher_pid < 0:
            return E.BAD_WATCHER_PID
        if max_snapshot_interval < -1:
            return E.BAD_SNAPSHOT_INTERVAL
        with self.lock:
            self._snapshot()
            m = self.members.get(root_pid)
            if m is None:
                log.info("register_subfamily failure: pid %d not in process tree", root_pid)
                return E.PROCESS_NOT_FAMILY
            if root_pid in self.families:
                return E.ALREADY_REGISTERED
            parent = m.family
            fam = ProcFamily(root_pid, m.info.birthday, watcher_pid, max_snapshot_interval, parent=parent)
            parent.children.append(fam)
            self.families[root_pid] = fam
            self._move(m, fam, "PID")
            # existing descendants of the new root that are still in the parent
            # family come along (HTCondor only moves the root itself)
            moved = True
            while moved:
                moved = False
                for pm in list(parent.members.values()):
                    pp = self.members.get(pm.info.ppid)
                    if pp is not None and pp.family is fam and pm.info.birthday >= pp.info.birthday - _BIRTHDAY_SLACK:
                        self._move(pm, fam, "PARENT")
                        moved = True
            log.info("new subfamily registered: root = %d, watcher = %d", root_pid, watcher_pid)
            return E.SUCCESS

    def track_family_via_environment(self, pid: int, cookies: list[str]) -> E:
        """TRACK_FAMILY_VIA_ENVIRONMENT: claim processes whose environment holds
        every ``NAME=VALUE`` in ``cookies`` (``_CONDOR_ANCESTOR_*`` entries).
        Errors: BAD_ENVIRONMENT_INFO, FAMILY_NOT_FOUND."""
        if not isinstance(cookies, (list, tuple)) or not cookies:
            return E.BAD_ENVIRONMENT_INFO
        for c in cookies:
            if not isinstance(c, str):
                return E.BAD_ENVIRONMENT_INFO
            try:
                pidenvid.parse_envid(c)
            except ValueError:
                return E.BAD_ENVIRONMENT_INFO
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            fam.env_cookies.append(list(cookies))
            return E.SUCCESS

    def track_family_via_login(self, pid: int, login: str) -> E:
        """TRACK_FAMILY_VIA_LOGIN: claim every process whose real uid is the
        uid of ``login`` (a user name, or a number for an unnamed uid).
        Errors: BAD_LOGIN_INFO (unknown user), FAMILY_NOT_FOUND."""
        try:
            uid = int(login) if login.isdigit() else pwd.getpwnam(login).pw_uid
        except (KeyError, AttributeError):
            return E.BAD_LOGIN_INFO
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            fam.login_uids.add(uid)
            return E.SUCCESS

    def _gids_in_use(self) -> set[int]:
        return {g for f in self.root.subtree() for g in f.gids}

    def track_family_via_allocated_supplementary_group(self, pid: int) -> tuple[E, int]:
        """Allocate an unused gid from the ``-G`` range for the family; the
        caller puts it in the job's supplementary groups.  Returns (error, gid).
        Errors: NO_GROUP_ID_AVAILABLE (tracking disabled, ``-E`` mode, or the
        range is exhausted), FAMILY_NOT_FOUND."""
        with self.lock:
            if self.min_gid == 0 or not self.allocate_gids:
                return E.NO_GROUP_ID_AVAILABLE, 0
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND, 0
            used = self._gids_in_use()
            for gid in range(self.min_gid, self.max_gid + 1):
                if gid not in used:
                    fam.gids.add(gid)
                    return E.SUCCESS, gid
            return E.NO_GROUP_ID_AVAILABLE, 0

    def track_family_via_associated_supplementary_group(self, pid: int, gid: int) -> E:
        """Associate a client-chosen gid (must be inside the ``-G`` range and
        unused) with the family.  Errors: NO_GROUP_ID_AVAILABLE, FAMILY_NOT_FOUND."""
        with self.lock:
            if self.min_gid == 0 or not (self.min_gid <= gid <= self.max_gid):
                return E.NO_GROUP_ID_AVAILABLE
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            if gid in self._gids_in_use():
                return E.NO_GROUP_ID_AVAILABLE
            fam.gids.add(gid)
            return E.SUCCESS

    def track_family_via_cgroup(self, pid: int, cgroup: str, made: Cgroup | None = None) -> E:
        """TRACK_FAMILY_VIA_CGROUP: create (or adopt) cgroup ``<BASE_CGROUP>/<cgroup>``,
        move the family's processes into it and claim whatever runs in it.
        The cgroup is removed at unregister if we created it.  ``made``: a Cgroup the
        caller already opened (named ``cgroup``; e.g. so the family's root could join it
        before exec); it is then ours, removed likewise if it was created.
        Errors: FAMILY_NOT_FOUND, ALREADY_REGISTERED (family already has a
        cgroup), NO_CGROUP_ID_AVAILABLE (no usable cgroups, bad name, or the
        cgroup belongs to another family)."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            if fam.cgroup is not None:
                return E.ALREADY_REGISTERED
            for f in self.root.subtree():
                if f.cgroup is not None and f.cgroup.name == cgroup:
                    return E.NO_CGROUP_ID_AVAILABLE
            if made is not None:
                if made.name != cgroup:
                    return E.NO_CGROUP_ID_AVAILABLE
                cg = made
            else:
                try:
                    cg = open_cgroup(cgroup, self.base_cgroup, self.cgroup_mode)
                except CgroupError as e:
                    log.warning("track_family_via_cgroup: %s", e)
                    return E.NO_CGROUP_ID_AVAILABLE
            fam.cgroup = cg
            for m in list(fam.members.values()):
                if m.pid != os.getpid() and not cg.contains(m.info.cgroups()):
                    cg.add(m.pid)
                    m.info._cgroups = None
            return E.SUCCESS

    def family_cgroup(self, pid: int) -> Cgroup | None:
        """The Cgroup object of a family (for memory limits etc.), or None."""
        with self.lock:
            fam = self._family(pid)
            return fam.cgroup if fam else None

    # ------------------------------------------------------------------ control
    def _signal(self, pid: int, sig: int) -> bool:
        if pid == os.getpid() or pid <= 1:
            return False
        try:
            os.kill(pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def signal_process(self, pid: int, sig: int) -> E:
        """SIGNAL_PROCESS: send ``sig`` to one process, which must be a family
        root (0 = the root family's root, as in HTCondor) or a member of a
        registered family.  Errors: PROCESS_NOT_FAMILY, BAD_REQUEST (bad signal)."""
        if not (0 < sig < signal.NSIG):
            return E.BAD_REQUEST
        with self.lock:
            fam = self._family(pid)
            target = fam.root_pid if fam is not None else pid
            if fam is None and pid not in self.members:
                return E.PROCESS_NOT_FAMILY
            self._signal(target, sig)
            return E.SUCCESS

    def _stop_members(self, fam: ProcFamily, sig: int) -> None:
        for f in fam.subtree():
            for p in f.live_pids():
                self._signal(p, sig)

    def suspend_family(self, pid: int) -> E:
        """SUSPEND_FAMILY: freeze the family and its subfamilies (cgroup freezer
        when the family has a cgroup, else SIGSTOP to every member, repeated
        until no new member appears).  Errors: FAMILY_NOT_FOUND."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            self._snapshot()
            frozen: set[int] = set()  # families stopped by their cgroup freezer
            for f in fam.subtree():
                if f.cgroup is not None and f.cgroup.freeze():
                    frozen.add(f.root_pid)
                f.suspended = True

            def stoppable() -> set[int]:
                return {p for f in fam.subtree() if f.root_pid not in frozen for p in f.live_pids()}

            # SIGSTOP the rest, again until no new member appears (fork races)
            for _ in range(5):
                before = stoppable()
                for p in before:
                    self._signal(p, signal.SIGSTOP)
                self._snapshot()
                if stoppable() <= before:
                    break
            return E.SUCCESS

    def continue_family(self, pid: int) -> E:
        """CONTINUE_FAMILY: thaw the cgroups and SIGCONT every member.
        Errors: FAMILY_NOT_FOUND."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            self._snapshot()
            for f in fam.subtree():
                if f.cgroup is not None:
                    f.cgroup.thaw()
                f.suspended = False
            self._stop_members(fam, signal.SIGCONT)
            return E.SUCCESS

    def kill_family(self, pid: int, timeout: float = 10.0) -> E:
        """KILL_FAMILY: SIGKILL every process of the family and its
        subfamilies, freezing cgroups first to stop fork races, and repeat
        snapshot+kill until no member is left or ``timeout`` seconds pass
        (survivors are logged).  Errors: FAMILY_NOT_FOUND."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            deadline = time.monotonic() + timeout
            me = os.getpid()
            while True:
                self._snapshot()
                if fam.root_pid not in self.families and fam is not self.root:
                    return E.SUCCESS  # unregistered by its watcher meanwhile
                for f in fam.subtree():
                    if f.cgroup is not None:
                        f.cgroup.kill_all(timeout=max(0.1, min(2.0, deadline - time.monotonic())))
                pids = [p for f in fam.subtree() for p in f.live_pids() if p != me]
                if not pids:
                    return E.SUCCESS
                for p in pids:
                    self._signal(p, signal.SIGKILL)
                if time.monotonic() > deadline:
                    log.warning("kill_family %d: processes %s survive after %.1fs", pid, pids, timeout)
                    return E.SUCCESS
                time.sleep(0.01)

    # ------------------------------------------------------------------ usage
    def _subtree_cpu(self, fam: ProcFamily, cg_usage: dict | None = None) -> tuple[float, float]:
        """(user, sys) CPU seconds of ``fam`` and its subfamilies; ``cg_usage`` caches each
        cgroup's usage for the caller (family root pid -> CgroupUsage)."""
        cg_usage = {} if cg_usage is None else cg_usage
        u, s = fam.own_cpu()
        cu = cs = 0.0  # children with their own cgroup
        for c in fam.children:
            x, y = self._subtree_cpu(c, cg_usage)
            if c.cgroup is not None:
                cu, cs = cu + x, cs + y
            else:
                u, s = u + x, s + y
        if fam.cgroup is not None:
            usage = cg_usage.get(fam.root_pid)
            if usage is None:
                usage = cg_usage[fam.root_pid] = fam.cgroup.usage()
            if usage.user_cpu >= 0:
                # the cgroup counts everything that ran in it, including
                # processes no snapshot saw; psutil counts time from before a
                # process was moved in.  Take the larger of each.
                u, s = max(u, usage.user_cpu), max(s, usage.sys_cpu)
        return u + cu, s + cs

    def get_usage(self, pid: int, refresh: bool = True) -> tuple[E, ProcFamilyUsage | None]:
        """GET_USAGE: usage of the family and all its subfamilies.

        ``refresh`` takes a snapshot first (HTCondor uses the last one).
        Returns (error, ProcFamilyUsage); errors: FAMILY_NOT_FOUND."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND, None
            if refresh:
                self._snapshot()
                fam = self._family(pid)
                if fam is None:
                    return E.FAMILY_NOT_FOUND, None
            out = ProcFamilyUsage()
            cg_usage: dict = {}
            out.user_cpu_time, out.sys_cpu_time = self._subtree_cpu(fam, cg_usage)
            peak = 0
            for f in fam.subtree():
                for m in f.members.values():
                    if m.info.zombie:
                        continue
                    out.num_procs += 1
                    out.percent_cpu += m.info.cpu_percent
                    out.total_image_size += m.info.vms // 1024
                    out.total_resident_set_size += m.info.rss // 1024
                if f.cgroup is not None:
                    cu = cg_usage.get(f.root_pid) or f.cgroup.usage()
                    if cu.memory_peak > 0:
                        peak = max(peak, cu.memory_peak // 1024)
            out.max_image_size = fam.max_image_size
            out.max_resident_set_size = max(fam.max_rss, peak, out.total_resident_set_size)
            return E.SUCCESS, out

    # ------------------------------------------------------------------ unregister
    def _unregister(self, fam: ProcFamily) -> None:
        """Fold a family into its parent (ProcFamily::fold_into_parent) and
        remove its cgroup if we created it."""
        parent = fam.parent
        assert parent is not None
        for m in list(fam.members.values()):
            self._move(m, parent, m.method)
        parent.exited_user += fam.exited_user
        parent.exited_sys += fam.exited_sys
        for c in fam.children:
            c.parent = parent
            parent.children.append(c)
        fam.children = []
        parent.children.remove(fam)
        del self.families[fam.root_pid]
        if fam.cgroup is not None:
            cg, fam.cgroup = fam.cgroup, None
            if parent.cgroup is not None:
                for p in cg.procs():
                    parent.cgroup.add(p)
            try:
                cg.remove(kill=False)
            except CgroupError as e:
                log.warning("unregister %d: %s", fam.root_pid, e)

    def unregister_family(self, pid: int) -> E:
        """UNREGISTER_FAMILY: forget a subfamily; its processes join the parent
        family.  Errors: FAMILY_NOT_FOUND, UNREGISTER_ROOT."""
        with self.lock:
            fam = self._family(pid, zero_means_root=False)
            if fam is None:
                return E.FAMILY_NOT_FOUND
            if fam is self.root:
                return E.UNREGISTER_ROOT
            self._unregister(fam)
            return E.SUCCESS

    # ------------------------------------------------------------------ dump
    def dump(self, pid: int = 0) -> tuple[E, list[ProcFamilyDump]]:
        """DUMP: the family (0 = root) and its subfamilies with their members.
        Errors: FAMILY_NOT_FOUND."""
        with self.lock:
            fam = self._family(pid)
            if fam is None:
                return E.FAMILY_NOT_FOUND, []
            out = []
            for f in fam.subtree():
                d = ProcFamilyDump(f.parent.root_pid if f.parent else 0, f.root_pid, f.watcher_pid)
                for m in sorted(f.members.values(), key=lambda m: m.pid):
                    d.procs.append(ProcFamilyProcessDump(m.pid, m.info.ppid, m.info.birthday,
                                                         m.info.user_time, m.info.sys_time))
                out.append(d)
            return E.SUCCESS, out

    def family_of(self, pid: int) -> int | None:
        """Root pid of the family ``pid`` is a member of (None if untracked)."""
        with self.lock:
            m = self.members.get(pid)
            return m.family.root_pid if m else None

    def method_of(self, pid: int) -> str | None:
        """Which tracker claimed ``pid`` (PID, PARENT, ENV, LOGIN, GROUP, CGROUP, or
        REAPER: a child of an adopter)."""
        with self.lock:
            m = self.members.get(pid)
            return m.method if m else None

    def get_snapshot_interval(self) -> int:
        """Smallest max_snapshot_interval over all families, -1 if none set."""
        with self.lock:
            vals = [f.max_snapshot_interval for f in self.root.subtree() if f.max_snapshot_interval >= 0]
            return min(vals) if vals else -1

    def start_periodic_snapshots(self, interval: float | None = None) -> None:
        """Take snapshots in a daemon thread, every ``interval`` seconds or,
        when None, every :meth:`get_snapshot_interval` seconds (1 s when no
        family asks for one).  This is what the procd's server loop does;
        in-process users (starter, master) call it once.  Stopped by
        :meth:`shutdown` or when the watcher dies."""
        if getattr(self, "_periodic", None) is not None:
            return
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                wait = interval if interval is not None else self.get_snapshot_interval()
                if wait is None or wait < 0:
                    wait = 1.0
                due = self.last_snapshot + wait
                if stop.wait(max(0.0, due - time.monotonic())):
                    return
                if time.monotonic() >= self.last_snapshot + wait:
                    try:
                        self.snapshot()
                    except WatcherDied as e:
                        log.error("%s", e)
                        return

        self._periodic = (stop, threading.Thread(target=loop, name="procd-snapshots", daemon=True))
        self._periodic[1].start()

    def shutdown(self) -> None:
        """Release resources: thaw and remove every cgroup we created (their
        processes are moved back to our own cgroup, not killed)."""
        periodic = getattr(self, "_periodic", None)
        if periodic is not None:
            periodic[0].set()
            periodic[1].join(timeout=5)
            self._periodic = None
        with self.lock:
            for f in list(self.root.subtree()):
                if f.cgroup is not None:
                    cg, f.cgroup = f.cgroup, None
                    try:
                        if not cg.created:   # remove() thaws the cgroups it deletes itself
                            cg.thaw()
                        cg.remove(kill=False)
                    except (CgroupError, OSError) as e:
                        log.warning("shutdown: %s", e)
