"""Start the job without forking the starter: ``posix_spawn`` (a vfork and an exec).

A starter is a 40 MB Python process; ``os.fork`` copies its page tables, the child then
takes copy-on-write faults for every page the Python pre-exec code touches, and the exec
tears the copy down again -- several milliseconds of CPU per job, more than the rest of a
short job's start.  HTCondor's starter (C++) forks cheaply; pyhtc gets the same cost with
``os.posix_spawn``: glibc clones with CLONE_VM|CLONE_VFORK and execs at once, so nothing is
copied.  The pre-exec steps the forked child used to do (os_proc.cpp / Create_Process:
new session, stdio, the job's cgroup, the job's identity, its directory, default signal
dispositions, no stray descriptors) are done so:

- new session, stdio, signals: ``posix_spawn``'s own attributes (``setsid``, dup2 file
  actions, ``setsigdef``); every inheritable descriptor above 2 gets a close action;
- the cgroup: the starter steps into the job's cgroup around the spawn
  (:meth:`pyhtc.procd.cgroups.Cgroup.joined`) so the child is born in it -- the job and
  everything it forks are inside from the first instruction, as with CLONE_INTO_CGROUP;
- the identity: the starter (root) sets its real and effective uid/gid and its
  supplementary groups (``initgroups``) to the job's account and keeps 0 as its saved ids;
  the child inherits them and the exec makes the saved ids the job's too (execve(2): the
  saved set-user-ID is copied from the effective ID), so the job has no way back to root;
  the starter then returns to its own ids;
- the directory: the starter changes to it (with the job's identity, so a directory the
  job may not enter fails as before) and back.

Errors are those of the old fork + exec path: OSError whose text names the exception and
the file, e.g. ``FileNotFoundError: [Errno 2] No such file or directory: '/x'``.
"""
from __future__ import annotations

import os
import signal
from typing import Optional

__all__ = ["spawn_job", "RESET_SIGNALS"]

#: signals the job starts with at their default action (the starter handles them itself)
RESET_SIGNALS = (signal.SIGTERM, signal.SIGQUIT, signal.SIGTSTP, signal.SIGCONT, signal.SIGINT)


def _stray_fds() -> list[int]:
    """Inheritable descriptors above 2 (a job must not get the starter's files)."""
    out = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return out
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    out.append(fd)
            except OSError:   # the directory's own descriptor, closed by now
                pass
    return out


def _high(fd: int, keep: list[int]) -> int:
    """``fd`` itself, or a close-on-exec duplicate above 2 when it is a standard descriptor
    number (so that dup2 onto 0, 1, 2 in order cannot overwrite a later source)."""
    if fd > 2:
        return fd
    import fcntl
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    keep.append(new)
    return new


def spawn_job(argv: list[str], cwd: str, env: dict, stdio: tuple[int, int, int],
              ids: Optional[tuple[int, int, str]] = None, join=None) -> int:
    """Start ``argv`` (argv[0] an absolute path) in ``cwd`` with exactly ``env``, its fds 0,
    1, 2 = ``stdio``, in a new session, as ``ids`` = (uid, gid, user name) when given (the
    caller must then be root), inside the cgroup ``join`` when given.  Returns the pid
    once the exec has succeeded.  Raises OSError("<ExceptionName>: <text>") when it
    cannot be started (missing file, not executable, directory not usable...)."""
    extra: list[int] = []
    try:
        actions = [(os.POSIX_SPAWN_DUP2, _high(fd, extra), i) for i, fd in enumerate(stdio)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _stray_fds() if fd not in extra]
        if join is None:
            return _spawn_as(argv, cwd, env, actions, ids)
        from pyhtc.procd.cgroups import CgroupError
        pid = None
        try:
            with join.joined():
                pid = _spawn_as(argv, cwd, env, actions, ids)
        except CgroupError as exc:
            # only leaving can fail: the job runs in its cgroup; we stay in it too, which
            # the family kill spares (Cgroup.kill_all never signals the caller)
            if pid is None:
                raise OSError(f"cannot place the job in its cgroup: {exc}") from None
        return pid
    except (OSError, ValueError) as exc:   # as the forked child reported them
        raise OSError(f"{type(exc).__name__}: {exc}") from None
    finally:
        for fd in extra:
            os.close(fd)


def _spawn_as(argv, cwd, env, actions, ids) -> int:
    home = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if ids is None:
            os.chdir(cwd)
            try:
                return os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True,
                                      setsigdef=RESET_SIGNALS)
            finally:
                os.fchdir(home)
        uid, gid, name = ids
        res_uid, res_gid, groups = os.getresuid(), os.getresgid(), os.getgroups()
        try:
            os.initgroups(name, gid)
            os.setresgid(gid, gid, -1)      # saved ids stay ours: the way back after the spawn
            os.setresuid(uid, uid, -1)
            os.chdir(cwd)                   # as the job's account
            return os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True,
                                  setsigdef=RESET_SIGNALS)
        finally:
            os.setresuid(*res_uid)
            os.setresgid(*res_gid)
            os.setgroups(groups)
            os.fchdir(home)
    finally:
        os.close(home)
