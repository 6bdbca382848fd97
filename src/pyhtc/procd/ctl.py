"""procd_ctl: command-line client of condor_procd (HTCondor's
src/condor_procd/procd_ctl.cpp).

``procd_ctl -A <address> <command> [<arg> ...]``; commands are matched
case-insensitively.  HTCondor's set plus a few tracking commands of ours
(marked *)::

    REGISTER_FAMILY <pid> <watcher_pid> <max_snapshot_interval>
    TRACK_BY_ASSOCIATED_GID <gid> [<pid>]
    TRACK_BY_ASSOCIATED_CGROUP <cgroup> [<pid>]
    TRACK_BY_ALLOCATED_GID [<pid>]                 *  (prints the gid)
    TRACK_BY_ENVIRONMENT <pid> <NAME=VALUE> ...    *
    TRACK_BY_LOGIN <login> [<pid>]                 *
    GET_USAGE [<pid>]
    DUMP [<pid>]
    LIST [<pid>]
    SIGNAL_PROCESS <signal> [<pid>]     (number or name: 15, TERM, SIGTERM)
    SUSPEND_FAMILY [<pid>]
    CONTINUE_FAMILY [<pid>]
    KILL_FAMILY [<pid>]
    UNREGISTER_FAMILY <pid>
    SNAPSHOT
    QUIT

Output formats follow procd_ctl.cpp (DUMP: one ``parent root watcher nprocs``
line per family then ``pid ppid birthday user sys`` per process; LIST: a
header and the process lines; GET_USAGE: "Label: value" lines).  CPU times
are printed as seconds with two decimals (HTCondor prints whole seconds).
Exit status 0 on success, 1 on any error (message on stderr naming the
ProcD error code).
"""

from __future__ import annotations

import signal as _signal
import sys

from .client import ProcDError, ProcFamilyClient

COMMANDS_HELP = """  options:
    -h
    -A <procd address>
  commands:
    REGISTER_FAMILY <pid> <watcher_pid> <max_snapshot_interval>
    TRACK_BY_ASSOCIATED_GID <gid> [<pid>]
    TRACK_BY_ASSOCIATED_CGROUP <cgroup> [<pid>]
    TRACK_BY_ALLOCATED_GID [<pid>]
    TRACK_BY_ENVIRONMENT <pid> <NAME=VALUE> ...
    TRACK_BY_LOGIN <login> [<pid>]
    GET_USAGE [<pid>]
    DUMP [<pid>]
    LIST [<pid>]
    SIGNAL_PROCESS <signal> [<pid>]
    SUSPEND_FAMILY [<pid>]
    CONTINUE_FAMILY [<pid>]
    KILL_FAMILY [<pid>]
    UNREGISTER_FAMILY <pid>
    SNAPSHOT
    QUIT
"""


class CtlError(Exception):
    pass


def _pid(text: str) -> int:
    try:
        pid = int(text)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise CtlError(f"invalid pid: {text}")
    return pid


def _opt_pid(args: list[str], synopsis: str, name: str) -> int:
    if len(args) > 1:
        raise CtlError(f"argument synopsis for {name}: {synopsis}")
    return _pid(args[0]) if args else 0


def _signal_number(text: str) -> int:
    if text.lstrip("-").isdigit():
        n = int(text)
    else:
        name = text.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        n = getattr(_signal.Signals, name, 0) if name in _signal.Signals.__members__ else 0
        n = int(n)
    if not (0 < n < _signal.NSIG):
        raise CtlError(f"invalid signal: {text}")
    return n


def _print_procs(procs) -> None:
    for p in procs:
        print(f"{p.pid} {p.ppid} {p.birthday:.2f} {p.user_time:.2f} {p.sys_time:.2f}")


def run(client: ProcFamilyClient, argv: list[str]) -> int:
    """Run one procd_ctl command (``argv[0]`` is the command name)."""
    name, args = argv[0].upper(), argv[1:]
    if name in ("REGISTER_FAMILY", "REGISTER_SUBFAMILY"):
        if len(args) != 3:
            raise CtlError(f"argument synopsis for {argv[0]}: <pid> <watcher_pid> <max_snapshot interval>")
        try:
            pid, watcher, interval = (int(a) for a in args)
        except ValueError:
            raise CtlError(f"{argv[0]}: arguments must be integers: {' '.join(args)}") from None
        client.register_subfamily(pid, watcher, interval)
    elif name == "TRACK_BY_ASSOCIATED_GID":
        if len(args) not in (1, 2):
            raise CtlError(f"argument synopsis for {argv[0]}: <gid> [<pid>]")
        gid = int(args[0]) if args[0].isdigit() else 0
        if gid == 0:
            raise CtlError(f"invalid GID: {args[0]}")
        client.track_family_via_associated_supplementary_group(_opt_pid(args[1:], "<gid> [<pid>]", argv[0]), gid)
    elif name == "TRACK_BY_ALLOCATED_GID":
        print(client.track_family_via_allocated_supplementary_group(_opt_pid(args, "[<pid>]", argv[0])))
    elif name == "TRACK_BY_ASSOCIATED_CGROUP":
        if len(args) not in (1, 2):
            raise CtlError(f"argument synopsis for {argv[0]}: <cgroup> [<pid>]")
        client.track_family_via_cgroup(_opt_pid(args[1:], "<cgroup> [<pid>]", argv[0]), args[0])
    elif name == "TRACK_BY_ENVIRONMENT":
        if len(args) < 2:
            raise CtlError(f"argument synopsis for {argv[0]}: <pid> <NAME=VALUE> ...")
        client.track_family_via_environment(_pid(args[0]) if args[0] != "0" else 0, args[1:])
    elif name == "TRACK_BY_LOGIN":
        if len(args) not in (1, 2):
            raise CtlError(f"argument synopsis for {argv[0]}: <login> [<pid>]")
        client.track_family_via_login(_opt_pid(args[1:], "<login> [<pid>]", argv[0]), args[0])
    elif name == "GET_USAGE":
        u = client.get_usage(_opt_pid(args, "[<pid>]", argv[0]))
        print(f"Number of Processes: {u.num_procs}")
        print(f"User CPU Time (s): {u.user_cpu_time:.2f}")
        print(f"System CPU Time (s): {u.sys_cpu_time:.2f}")
        print(f"CPU Percentage (%): {u.percent_cpu:f}")
        print(f"Maximum Image Size (KB): {u.max_image_size}")
        print(f"Total Image Size(KB): {u.total_image_size}")
        print(f"Resident Set Size (KB): {u.total_resident_set_size}")
        print(f"Maximum Resident Set Size (KB): {u.max_resident_set_size}")
    elif name == "DUMP":
        for fam in client.dump(_opt_pid(args, "[<pid>]", argv[0])):
            print(f"{fam.parent_root} {fam.root_pid} {fam.watcher_pid} {len(fam.procs)}")
            _print_procs(fam.procs)
    elif name == "LIST":
        fams = client.dump(_opt_pid(args, "[<pid>]", argv[0]))
        print("PID PPID START_TIME USER_TIME SYS_TIME")
        for fam in fams:
            _print_procs(fam.procs)
    elif name == "SIGNAL_PROCESS":
        if len(args) not in (1, 2):
            raise CtlError(f"argument synopsis for {argv[0]}: <signal> [<pid>]")
        client.signal_process(_opt_pid(args[1:], "<signal> [<pid>]", argv[0]), _signal_number(args[0]))
    elif name == "SUSPEND_FAMILY":
        client.suspend_family(_opt_pid(args, "[<pid>]", argv[0]))
    elif name == "CONTINUE_FAMILY":
        client.continue_family(_opt_pid(args, "[<pid>]", argv[0]))
    elif name == "KILL_FAMILY":
        client.kill_family(_opt_pid(args, "[<pid>]", argv[0]))
    elif name == "UNREGISTER_FAMILY":
        if len(args) != 1:
            raise CtlError(f"argument synopsis for {argv[0]}: <pid>")
        client.unregister_family(_pid(args[0]))
    elif name in ("SNAPSHOT", "TAKE_SNAPSHOT"):
        if args:
            raise CtlError(f"{argv[0]} takes no arguments")
        client.snapshot()
    elif name == "QUIT":
        if args:
            raise CtlError(f"{argv[0]} takes no arguments")
        client.quit()
    else:
        raise CtlError(f"invalid command: {argv[0]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``procd_ctl``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    prog = "procd_ctl"
    address = None
    while argv and argv[0].startswith("-"):
        if argv[0] == "-A":
            if len(argv) < 2:
                print("error: -A needs an argument", file=sys.stderr)
                print(COMMANDS_HELP, file=sys.stderr, end="")
                return 1
            address, argv = argv[1], argv[2:]
        elif argv[0] == "-h":
            print(f"Usage: {prog} <options w/arguments> <command> [<arg> ...]", file=sys.stderr)
            print(COMMANDS_HELP, file=sys.stderr, end="")
            return 1
        else:
            print(f"error: Don't understand option {argv[0]}", file=sys.stderr)
            print(COMMANDS_HELP, file=sys.stderr, end="")
            return 1
    if not argv:
        print(f"Please specify a command.\nUsage: {prog} <options w/arguments> <command> [<arg> ...]",
              file=sys.stderr)
        print(COMMANDS_HELP, file=sys.stderr, end="")
        return 1
    if address is None:
        print("error: procd address (-A) not specified.", file=sys.stderr)
        return 1
    try:
        return run(ProcFamilyClient(address), argv)
    except CtlError as e:
        print(f"error: {e}", file=sys.stderr)
        if str(e).startswith("invalid command"):
            print(COMMANDS_HELP, file=sys.stderr, end="")
        return 1
    except ProcDError as e:
        print(f"error: {e.command} command failed with ProcD: {e.code.name if hasattr(e.code, 'name') else e.code}"
              f" ({int(e.code)}): {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: communication error with ProcD at {address}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
