"""condor_procd: the ProcD daemon (HTCondor's src/condor_procd/procd_main.cpp).

Usage::

    condor_procd -A <address> [-C <principal>] [-L <log-file>|SYSLOG] [-R <log-size>]
                 [-S <seconds>] [-P <pid>] [-G <min-gid> <max-gid>] [-E] [-D]
                 [--base-cgroup NAME] [--cgroup-mode v1|v2]

Options as HTCondor's: ``-A`` the address (here: the Unix socket path),
``-C`` the socket's owner, ``-L`` log file (``SYSLOG`` for syslog), ``-R``
rotate the log at this many bytes (floor 64 KiB), ``-S`` maximum snapshot
interval (-1 = only on demand), ``-P`` the root pid to monitor (default: our
parent, and then we exit when the parent exits), ``-G`` gid range for
supplementary-group tracking, ``-E`` gids are associated by clients rather
than allocated by the procd, ``-D`` is accepted for compatibility (HTCondor
sleeps for a debugger; we only log it).  Our additions: ``--base-cgroup``
(HTCondor's ``BASE_CGROUP``, default ``htcondor``) and ``--cgroup-mode``.

Exit status: 0 after QUIT, 1 on a usage error or when the watcher died.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys

from .monitor import ProcFamilyMonitor, WatcherDied
from .server import ProcFamilyServer

USAGE = """Usage:
  -h                     This usage message.
  -D                     Wait for debugger (accepted, ignored).
  -A <address>           Path of the Unix socket for client communication.
  -C <principal>         The owner (user name or uid) of the socket.
  -L <log-file>          Path to the log file (SYSLOG for syslog).
  -R <bytes>             Rotate the log when it reaches this size.
  -E                     With -G: gids are associated by procd_ctl, not allocated.
  -P <pid>               Monitor the family rooted at this pid (and keep running
                         if it dies); default: our parent, and exit when it dies.
  -S <seconds>           Maximum process snapshot interval (-1 = on demand only).
  -G <min-gid> <max-gid> Gid range for supplementary group tracking.
  --base-cgroup <name>   Parent cgroup for family cgroups (default htcondor).
  --cgroup-mode v1|v2    Force a cgroup flavour (default: detect).
"""


class UsageError(Exception):
    pass


def parse_args(argv: list[str]) -> dict:
    """Parse procd options (HTCondor's parse_command_line); raises UsageError."""
    opts = {"address": None, "principal": None, "log": None, "log_size": 0, "interval": 60,
            "root_pid": None, "min_gid": 0, "max_gid": 0, "external_gids": False,
            "base_cgroup": "htcondor", "cgroup_mode": None}
    i = 0

    def need(n: int, opt: str) -> list[str]:
        if i + n >= len(argv):
            raise UsageError(f'option "{opt}" requires {n} argument{"s" if n > 1 else ""}')
        return argv[i + 1:i + 1 + n]

    def integer(text: str, opt: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"option {opt}: {text!r} is not an integer") from None

    while i < len(argv):
        a = argv[i]
        if a == "-h":
            raise UsageError("")
        if a == "-D":
            i += 1
        elif a == "-E":
            opts["external_gids"] = True
            i += 1
        elif a in ("-A", "-C", "-L", "--base-cgroup", "--cgroup-mode"):
            (v,) = need(1, a)
            key = {"-A": "address", "-C": "principal", "-L": "log", "--base-cgroup": "base_cgroup",
                   "--cgroup-mode": "cgroup_mode"}[a]
            opts[key] = v
            i += 2
        elif a in ("-R", "-S", "-P"):
            (v,) = need(1, a)
            n = integer(v, a)
            if a == "-R":
                opts["log_size"] = max(n, 65536) if n > 0 else 0
            elif a == "-S":
                if n < -1:
                    raise UsageError("maximum snapshot interval must be non-negative or -1")
                opts["interval"] = n
            else:
                if n == 0:
                    raise UsageError("The procd can not track pid 0.")
                if n == 1:
                    raise UsageError("The procd will not track pid 1 as the family.")
                opts["root_pid"] = n
            i += 2
        elif a == "-G":
            lo, hi = need(2, a)
            opts["min_gid"], opts["max_gid"] = integer(lo, a), integer(hi, a)
            if opts["min_gid"] > opts["max_gid"]:
                raise UsageError(f"invalid group range given: {lo} - {hi}")
            i += 3
        else:
            raise UsageError(f"illegal option: {a}")
    if opts["address"] is None:
        raise UsageError('the "-A" option is required')
    if opts["cgroup_mode"] not in (None, "v1", "v2"):
        raise UsageError(f"--cgroup-mode must be v1 or v2, not {opts['cgroup_mode']!r}")
    return opts


def _setup_logging(path: str | None, size: int) -> None:
    logger = logging.getLogger("pyhtc.procd")
    logger.setLevel(logging.INFO)
    if path is None:
        logger.addHandler(logging.NullHandler())
        return
    if path == "SYSLOG":
        handler: logging.Handler = logging.handlers.SysLogHandler(address="/dev/log")
        handler.setFormatter(logging.Formatter("condor_procd[%(process)d]: %(message)s"))
    else:
        if size > 0:
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=size, backupCount=1)
        else:
            handler = logging.FileHandler(path)
        # HTCondor dprintf timestamp style
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%m/%d/%y %H:%M:%S"))
    logger.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``condor_procd``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(argv)
    except UsageError as e:
        if str(e):
            print(f"error: {e}", file=sys.stderr)
        print(USAGE, file=sys.stderr, end="")
        return 1
    try:
        _setup_logging(opts["log"], opts["log_size"])
    except OSError as e:
        print(f'error: couldn\'t open file "{opts["log"]}" for logging: {e.strerror}', file=sys.stderr)
        return 1
    log = logging.getLogger("pyhtc.procd")
    log.info("***********************************")
    log.info("* condor_procd STARTING UP")
    log.info("* PID = %d", os.getpid())
    log.info("* UID = %d", os.getuid())
    log.info("* GID = %d", os.getgid())
    log.info("***********************************")
    watch_parent = opts["root_pid"] is None
    root = os.getppid() if watch_parent else opts["root_pid"]
    if watch_parent and root == 1:
        print("error: the procd's parent is init; give -P <pid>", file=sys.stderr)
        return 1
    try:
        monitor = ProcFamilyMonitor(root, except_if_root_dies=watch_parent,
                                    max_snapshot_interval=opts["interval"],
                                    base_cgroup=opts["base_cgroup"], cgroup_mode=opts["cgroup_mode"],
                                    min_tracking_gid=opts["min_gid"], max_tracking_gid=opts["max_gid"],
                                    allocate_gids=not opts["external_gids"])
    except (ValueError, WatcherDied) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if watch_parent:
        log.info("Procd has a watcher pid and will die if pid %d dies.", root)
    else:
        log.info("Procd has no watcher pid and will not die if pid %d dies.", root)
    try:
        server = ProcFamilyServer(monitor, opts["address"], opts["principal"])
    except (OSError, KeyError) as e:
        print(f"error: cannot listen on {opts['address']}: {e}", file=sys.stderr)
        monitor.shutdown()
        return 1

    def _term(signum, frame):
        server._quit.set()

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    status = server.serve_forever()
    log.info("condor_procd exiting with status %d", status)
    return status


if __name__ == "__main__":
    sys.exit(main())
