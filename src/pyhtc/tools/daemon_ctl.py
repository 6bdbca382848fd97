"""``condor_on``, ``condor_off``, ``condor_restart``, ``condor_reconfig``: admin commands to masters.

Semantics and messages follow the man pages (docs/man-pages/condor_on.rst, condor_off.rst,
condor_restart.rst, condor_reconfig.rst) and src/condor_tools/tool.cpp: each target gets one
command and the tool prints ``Sent "<Command-Name>" command to <who>`` (``for "<daemon>"``
when a daemon is named), where *who* is ``local master``, ``master <Name>`` or
``master at <ip:port>``.  Failures print ``Can't find address for ...`` / ``Can't send ...``
on stderr and the exit status is 1.

Targets: none (the local master, from its address file), ``-name NAME`` or bare names
(through the collector of ``-pool``), ``-addr "<ip:port>"`` or bare sinful strings,
``-all`` / ``-constraint EXPR`` (every matching Master ad in the pool).

Run as ``python -m pyhtc.tools.daemon_ctl condor_off [options]`` until the console scripts
exist; ``on_main``, ``off_main``, ``restart_main``, ``reconfig_main`` are the entry points.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Optional

from pyhtc.cedar.commands import Command
from pyhtc.config import ConfigError
from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon, send_command

__all__ = ["on_main", "off_main", "restart_main", "reconfig_main", "main", "COMMAND_NUMBERS"]

DAEMONS_ON = int(Command.DAEMONS_ON)
DAEMON_OFF_PEACEFUL = int(Command.DAEMON_OFF_PEACEFUL)

#: command label (tool.cpp cmdToStr) -> number
COMMAND_NUMBERS = {
    "Kill-All-Daemons": int(Command.DAEMONS_OFF),
    "Kill-All-Daemons-Fast": int(Command.DAEMONS_OFF_FAST),
    "Kill-All-Daemons-Peacefully": int(Command.DAEMONS_OFF_PEACEFUL),
    "Kill-Daemon": int(Command.DAEMON_OFF),
    "Kill-Daemon-Fast": int(Command.DAEMON_OFF_FAST),
    "Kill-Daemon-Peacefully": DAEMON_OFF_PEACEFUL,
    "Spawn-All-Daemons": DAEMONS_ON,
    "Spawn-Daemon": int(Command.DAEMON_ON),
    "Restart": int(Command.RESTART),
    "Restart-Fast": int(Command.RESTART),
    "Restart-Peaceful": int(Command.RESTART_PEACEFUL),
    "Reconfig": int(Command.DC_RECONFIG_FULL),
}

#: -<subsystem> shorthands accepted like -daemon <subsystem>
_SUBSYS_FLAGS = ("master", "schedd", "startd", "collector", "negotiator", "kbdd", "credd",
                 "shared_port", "defrag", "job_router", "had", "replication", "rooster")

USAGE = """Usage: {tool} [general-options] [targets] [command-options]

general-options are:
    -help\t\tgive this message
    -version\t\tprint the version
    -pool <hostname>\tuse the given central manager to find daemons

targets are:
    -name <name>\tsend the command to the master with the given name
    -addr "<ip:port>"\tsend the command to the master at the given address
    -constraint <expr>\tsend the command to masters whose ad matches the expression
    -all\t\tsend the command to all masters in the pool
    <name> | "<ip:port>"\tlike -name / -addr

command-options are:
    -daemon <subsystem>\tsend the command for this daemon only
{extra}"""


class UsageError(Exception):
    """A bad command line (message printed with the usage)."""


@dataclass
class Options:
    """A parsed command line."""
    tool: str
    how: str = "graceful"
    pool: Optional[str] = None
    names: list = field(default_factory=list)
    addrs: list = field(default_factory=list)
    constraint: Optional[str] = None
    all: bool = False
    daemon: Optional[str] = None
    daemon_arg: Optional[str] = None   # as typed, for the messages (tool.cpp subsys_arg)


def parse(tool: str, argv: list[str]) -> Options:
    """Parse HTCondor-style single-dash options (unique prefixes accepted, as tool.cpp).
    Raises UsageError naming the bad argument."""
    opts = Options(tool)
    speeds = ("graceful", "fast", "peaceful") if tool in ("condor_off", "condor_restart") else ()
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        if i + 1 >= len(argv):
            raise UsageError(f"{flag} requires an argument")
        i += 1
        return argv[i]

    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and len(arg) > 1:
            flag = arg.lstrip("-").lower()
            if flag in ("h", "help"):
                raise SystemExit(_usage(tool, 0))
            if flag in ("v", "version"):
                from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING
                print(VERSION_STRING)
                print(PLATFORM_STRING)
                raise SystemExit(0)
            if flag in speeds:
                opts.how = flag
            elif flag == "force-graceful" and tool == "condor_off":
                opts.how = "graceful"
            elif flag == "pool":
                opts.pool = value(arg)
            elif flag == "name":
                opts.names.append(value(arg))
            elif flag == "addr":
                opts.addrs.append(value(arg))
            elif flag == "constraint":
                opts.constraint = value(arg)
            elif flag == "all":
                opts.all = True
            elif flag in ("daemon", "subsystem"):
                opts.daemon_arg = value(arg)
                opts.daemon = opts.daemon_arg.upper()
            elif flag in _SUBSYS_FLAGS:
                opts.daemon, opts.daemon_arg = flag.upper(), flag
            elif flag.startswith("debug"):
                pass
            else:
                raise UsageError(f"unknown option {arg}")
        elif arg.startswith("<"):
            opts.addrs.append(arg)
        else:
            opts.names.append(arg)
        i += 1
    if opts.all and (opts.names or opts.addrs):
        raise UsageError("-all cannot be combined with names or addresses")
    return opts


def _usage(tool: str, status: int) -> int:
    extra = {
        "condor_off": "    -graceful\t\tgraceful shutdown (the default)\n    -fast\t\tfast shutdown\n"
                      "    -peaceful\t\twait for running jobs to finish\n",
        "condor_restart": "    -graceful\t\tgraceful restart (the default)\n    -fast\t\tfast restart\n"
                          "    -peaceful\t\twait for running jobs to finish\n",
    }.get(tool, "")
    print(USAGE.format(tool=tool, extra=extra), file=sys.stderr if status else sys.stdout)
    return status


@dataclass
class Target:
    """Where to send: ``address`` and the way tool.cpp names it (``idStr``)."""
    address: str
    who: str


def resolve(opts: Options) -> list[Target]:
    """The masters to talk to.  Raises DaemonNotFound with HTCondor's wording."""
    targets = [Target(a, "master at " + a.split("?")[0] + (">" if "?" in a else "")) for a in opts.addrs]
    if opts.all or opts.constraint:
        client = CollectorClient(opts.pool)
        ads = client.query("Master", opts.constraint)
        if not ads:
            what = f"for constraint '{opts.constraint}'" if opts.constraint else "for -all"
            raise DaemonNotFound(f"Can't find addresses for master's {what}")
        targets += [Target(ad.get("MyAddress"), f"master {ad.get('Name')}") for ad in ads]
    for name in opts.names:
        try:
            ad = CollectorClient(opts.pool).locate("master", name)
        except (DaemonNotFound, OSError):
            raise DaemonNotFound(f"Can't find address for master {name}") from None
        targets.append(Target(ad.get("MyAddress"), f"master {ad.get('Name') or name}"))
    if not targets:
        try:
            targets.append(Target(locate_daemon("master", pool=opts.pool), "local master"))
        except DaemonNotFound:
            raise DaemonNotFound("Can't find address for local master") from None
    return targets


def plan(opts: Options) -> list[tuple[str, int, Optional[str]]]:
    """``(label, command, payload)`` messages to send to each master for this tool."""
    d, how = opts.daemon, opts.how
    if opts.tool == "condor_off":
        if d is None:
            label = {"fast": "Kill-All-Daemons-Fast", "peaceful": "Kill-All-Daemons-Peacefully"}.get(
                how, "Kill-All-Daemons")
            return [(label, COMMAND_NUMBERS[label], None)]
        if d == "MASTER":
            # tool.cpp: the master itself is shut down with DC_OFF_*
            cmd = {"fast": Command.DC_OFF_FAST, "peaceful": Command.DC_OFF_PEACEFUL}.get(how, Command.DC_OFF_GRACEFUL)
            label = {"fast": "Kill-Daemon-Fast", "peaceful": "Kill-Daemon-Peacefully"}.get(how, "Kill-Daemon")
            return [(label, int(cmd), None)]
        label = {"fast": "Kill-Daemon-Fast", "peaceful": "Kill-Daemon-Peacefully"}.get(how, "Kill-Daemon")
        return [(label, COMMAND_NUMBERS[label], d)]
    if opts.tool == "condor_on":
        if d is None or d == "MASTER":
            return [("Spawn-All-Daemons", DAEMONS_ON, None)]
        return [("Spawn-Daemon", int(Command.DAEMON_ON), d)]
    if opts.tool == "condor_restart":
        label = {"fast": "Restart-Fast", "peaceful": "Restart-Peaceful"}.get(how, "Restart")
        if d is None or d == "MASTER":
            return [(label, COMMAND_NUMBERS[label], None)]
        off = {"fast": int(Command.DAEMON_OFF_FAST), "peaceful": DAEMON_OFF_PEACEFUL}.get(how, int(Command.DAEMON_OFF))
        # stop it, then allow it again: the master restarts it as soon as it has exited
        return [(label, off, d), (label, int(Command.DAEMON_ON), d)]
    if opts.tool == "condor_reconfig":
        return [("Reconfig", int(Command.DC_RECONFIG_FULL), None)]
    raise UsageError(f"unknown tool {opts.tool}")


def run(tool: str, argv: list[str]) -> int:
    """Run *tool* with *argv* (without the program name); returns the exit status."""
    try:
        opts = parse(tool, argv)
        if tool == "condor_reconfig" and opts.daemon and opts.daemon != "MASTER":
            return _reconfig_daemon(opts)
        messages = plan(opts)
    except UsageError as exc:
        print(f"{tool}: {exc}", file=sys.stderr)
        return _usage(tool, 1)
    try:
        targets = resolve(opts)
    except DaemonNotFound as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ERROR: can't reach the collector: {exc}", file=sys.stderr)
        return 1
    status = 0
    for t in targets:
        label = messages[0][0]
        try:
            for _, cmd, payload in messages:
                send_command(t.address, cmd, payload)
        except Exception as exc:
            print(f"ERROR\n{exc}", file=sys.stderr)
            print(f"Can't send {label} command to {t.who}", file=sys.stderr)
            status = 1
            continue
        if opts.daemon:
            print(f'Sent "{label}" command for "{opts.daemon_arg}" to {t.who}')
        else:
            print(f'Sent "{label}" command to {t.who}')
    return status


def _reconfig_daemon(opts: Options) -> int:
    """condor_reconfig -daemon X: DC_RECONFIG_FULL straight to daemon X (located like
    condor_reconfig does: address file, or the collector with -name/-pool)."""
    d = opts.daemon.lower()
    name = opts.names[0] if opts.names else None
    try:
        addr = opts.addrs[0] if opts.addrs else locate_daemon(d, name=name, pool=opts.pool)
    except (DaemonNotFound, KeyError, ConfigError, OSError):
        print(f"Can't find address for {d} {name or ''}".rstrip(), file=sys.stderr)
        return 1
    who = f"{d} {name}" if name else (f"{d} at {addr}" if opts.addrs else f"local {d}")
    try:
        send_command(addr, int(Command.DC_RECONFIG_FULL))
    except Exception as exc:
        print(f"ERROR\n{exc}\nCan't send Reconfig command to {who}", file=sys.stderr)
        return 1
    print(f'Sent "Reconfig" command to {who}')
    return 0


def on_main(argv: Optional[list[str]] = None) -> int:
    """``condor_on``: DAEMONS_ON, or DAEMON_ON for ``-daemon X``."""
    return run("condor_on", sys.argv[1:] if argv is None else argv)


def off_main(argv: Optional[list[str]] = None) -> int:
    """``condor_off``: DAEMONS_OFF(_FAST/_PEACEFUL), DAEMON_OFF* for ``-daemon X``, DC_OFF_* for
    ``-daemon master`` / ``-master`` (the master exits after its children)."""
    return run("condor_off", sys.argv[1:] if argv is None else argv)


def restart_main(argv: Optional[list[str]] = None) -> int:
    """``condor_restart``: RESTART(_PEACEFUL); ``-daemon X`` stops X and lets the master
    start it again."""
    return run("condor_restart", sys.argv[1:] if argv is None else argv)


def reconfig_main(argv: Optional[list[str]] = None) -> int:
    """``condor_reconfig``: DC_RECONFIG_FULL to the master (which forwards it to its
    children) or, with ``-daemon X``, to daemon X."""
    return run("condor_reconfig", sys.argv[1:] if argv is None else argv)


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m pyhtc.tools.daemon_ctl condor_off [options]`` (tool name first)."""
    argv = sys.argv[1:] if argv is None else argv
    tools = {"condor_on": on_main, "condor_off": off_main, "condor_restart": restart_main,
             "condor_reconfig": reconfig_main}
    if not argv or argv[0] not in tools:
        print("usage: python -m pyhtc.tools.daemon_ctl {condor_on|condor_off|condor_restart|"
              "condor_reconfig} [options]", file=sys.stderr)
        return 1
    return tools[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
