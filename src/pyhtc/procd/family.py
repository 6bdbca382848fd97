"""Process families and their members (HTCondor's ``ProcFamily`` /
``ProcFamilyMember``, src/condor_procd/proc_family.cpp).

A family is the set of processes under one registered root pid; families
nest (a subfamily's root was a member of its parent family when it was
registered) and a process belongs to exactly one family, the innermost one
that claims it.  CPU time of members that have exited is remembered in the
family (``m_exited_user_cpu_time``) so usage never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cgroups import Cgroup
from .procinfo import ProcInfo


@dataclass
class Member:
    """A process in a family.  ``method`` says which tracker claimed it
    (PID, PARENT, ENV, LOGIN, GROUP, CGROUP, as in HTCondor's log lines).
    ``foreign_user``/``foreign_sys`` are CPU seconds of children in *other*
    families that this process reaped; they are inside its ``cutime`` and are
    subtracted so that time is counted once, in the child's family."""

    info: ProcInfo
    family: "ProcFamily"
    method: str
    foreign_user: float = 0.0
    foreign_sys: float = 0.0

    @property
    def pid(self) -> int:
        return self.info.pid

    def cpu(self) -> tuple[float, float]:
        """(user, system) seconds attributable to this member's family: own
        time plus reaped children's time minus children of other families."""
        i = self.info
        return (max(0.0, i.user_time + i.child_user - self.foreign_user),
                max(0.0, i.sys_time + i.child_sys - self.foreign_sys))


@dataclass(eq=False)
class ProcFamily:
    """One registered family.

    ``watcher_pid`` 0 means unwatched (never garbage collected);
    ``max_snapshot_interval`` is seconds, -1 for "no limit".  Sizes are KiB."""

    root_pid: int
    root_birthday: float
    watcher_pid: int
    max_snapshot_interval: int
    parent: "ProcFamily | None" = None
    children: list["ProcFamily"] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    exited_user: float = 0.0
    exited_sys: float = 0.0
    max_image_size: int = 0
    max_rss: int = 0
    cgroup: Cgroup | None = None
    env_cookies: list[list[str]] = field(default_factory=list)
    login_uids: set[int] = field(default_factory=set)
    gids: set[int] = field(default_factory=set)
    suspended: bool = False

    def subtree(self):
        """This family then every descendant family (pre-order)."""
        yield self
        for c in list(self.children):
            yield from c.subtree()

    def ancestors(self):
        """Parent, grandparent, ... up to the root family."""
        f = self.parent
        while f is not None:
            yield f
            f = f.parent

    def is_more_specific_than(self, other: "ProcFamily") -> bool:
        """True if ``other`` is a proper ancestor of this family."""
        return any(a is other for a in self.ancestors())

    def own_cpu(self) -> tuple[float, float]:
        """(user, system) seconds from live members and exited members."""
        u, s = self.exited_user, self.exited_sys
        for m in self.members.values():
            mu, ms = m.cpu()
            u += mu
            s += ms
        return u, s

    def live_pids(self) -> list[int]:
        """Member pids that are not zombies."""
        return [p for p, m in self.members.items() if not m.info.zombie]
