"""The Daemon base class: what every pyhtc daemon process has in common.

HTCondor's daemon_core_main.cpp gives each daemon the same life: parse the standard
command-line flags, read the configuration, open ``$(<SUBSYS>_LOG)``, create the command
socket (TCP and UDP on one port), write ``$(<SUBSYS>_ADDRESS_FILE)``, register the standard
DaemonCore commands, call ``main_init``; later ``main_config`` on reconfig (SIGHUP,
DC_RECONFIG_FULL) and ``main_shutdown_graceful`` / ``main_shutdown_fast`` on SIGTERM /
SIGQUIT or DC_OFF_GRACEFUL / DC_OFF_FAST.

A subclass sets ``subsystem`` and overrides the ``main_*`` methods; it registers its commands
with :meth:`Daemon.register_command` (handlers are ``async def handler(stream)`` taking a
:class:`pyhtc.cedar.stream.CedarStream`) and its periodic work with ``self.dc``'s timers.

Standard flags: ``-f`` (foreground; always), ``-b`` (background; accepted and ignored),
``-t`` (log to stderr), ``-p PORT`` (command port; 0 = any), ``-local-name NAME``,
``-a SUFFIX`` (append to the log file name), ``-r MINUTES`` (run that long, then shut down
gracefully), ``-v`` (print the version and exit), ``-c FILE`` (CONDOR_CONFIG).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

from pyhtc import CONDOR_VERSION
from pyhtc.cedar.commands import Command, command_name
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.security.policy import Level, SecurityPolicy, split_methods
from pyhtc.cedar.sinful import AddressFile, write_address_file
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.config import Config, ConfigError, get_config

from .core import DaemonCore
from .log import Category, DebugLog
from .permissions import UNAUTHENTICATED, Authorizer

__all__ = ["Daemon", "DaemonArgs", "VERSION_STRING", "PLATFORM_STRING"]

VERSION_STRING = f"$CondorVersion: {CONDOR_VERSION} 2026-09-24 BuildID: pyhtc $"
PLATFORM_STRING = "$CondorPlatform: X86_64-Linux $"

Handler = Callable[..., Awaitable[None]]

#: authentication methods pyhtc's server side implements
_SERVER_METHODS = ("FS", "TOKEN", "SSL", "CLAIMTOBE")
#: levels that have their own SEC_<LEVEL>_* policy knobs
_POLICY_LEVELS = ("READ", "WRITE", "ADMINISTRATOR", "CONFIG", "DAEMON", "NEGOTIATOR",
                  "ADVERTISE_STARTD", "ADVERTISE_SCHEDD", "ADVERTISE_MASTER", "CLIENT", "OWNER")


class _DebugLogHandler(logging.Handler):
    """Forwards Python logging records (from pyhtc.cedar) into a daemon's DebugLog."""

    def __init__(self, log: DebugLog):
        super().__init__()
        self.debug_log = log

    def emit(self, record: logging.LogRecord) -> None:
        category = Category.ALWAYS if record.levelno >= logging.INFO else Category.NETWORK
        self.debug_log.dprintf(category, record.getMessage())


@dataclass
class DaemonArgs:
    """The standard DaemonCore command-line flags (daemon_core_main.cpp)."""

    foreground: bool = True
    terminal_log: bool = False
    port: Optional[int] = None
    local_name: Optional[str] = None
    log_suffix: Optional[str] = None
    runfor: Optional[float] = None
    config_file: Optional[str] = None


def parse_condor_inherit(value: Optional[str]) -> tuple[Optional[int], Optional[str]]:
    """``(parent pid, parent sinful)`` from a CONDOR_INHERIT value ("PID SINFUL ..." as
    daemon_core.cpp writes it); ``(None, None)`` when absent or malformed."""
    if not value:
        return None, None
    parts = value.split()
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].startswith("<"):
        return None, None
    return int(parts[0]), parts[1]


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (DaemonCore::Is_Pid_Alive)."""
    from pyhtc.procd.procinfo import pid_alive
    return pid_alive(pid)


def parse_daemon_args(argv: list[str], prog: str) -> DaemonArgs:
    """Parse the standard flags; exits with status 1 and a message on a bad flag."""
    ap = argparse.ArgumentParser(prog=prog, add_help=True, allow_abbrev=False)
    ap.add_argument("-f", action="store_true", help="run in the foreground (always the case)")
    ap.add_argument("-b", action="store_true", help="run in the background (accepted, ignored)")
    ap.add_argument("-t", action="store_true", help="log to the terminal (stderr)")
    ap.add_argument("-p", type=int, metavar="PORT", help="command port (0 = any free port)")
    ap.add_argument("-local-name", "--local-name", dest="local_name", metavar="NAME")
    ap.add_argument("-a", dest="suffix", metavar="SUFFIX", help="append .SUFFIX to the log name")
    ap.add_argument("-r", type=float, metavar="MINUTES", help="run this long, then shut down")
    ap.add_argument("-c", metavar="FILE", help="configuration file (sets CONDOR_CONFIG)")
    ap.add_argument("-v", action="store_true", help="print the version and exit")
    ns = ap.parse_args(argv)
    if ns.v:
        print(VERSION_STRING)
        print(PLATFORM_STRING)
        sys.exit(0)
    return DaemonArgs(True, ns.t, ns.p, ns.local_name, ns.suffix,
                      ns.r * 60 if ns.r else None, ns.c)


class Daemon:
    """Base class of every daemon process.

    Attributes available once :meth:`run` has started: ``config`` (a
    :class:`pyhtc.config.Config`), ``log`` (:class:`DebugLog`), ``dc`` (:class:`DaemonCore`),
    ``server`` (the CEDAR :class:`CommandServer`), ``sinful`` (our address), ``authorizer``.
    """

    #: HTCondor subsystem name (COLLECTOR, SCHEDD, ...); subclasses set it
    subsystem = "DAEMON"
    #: the MyType of this daemon's ad, if it advertises one
    ad_type: Optional[str] = None
    #: send DC_SET_READY ("Ready") to the parent master as soon as main_init has run; a
    #: daemon that is ready only later (the startd, after its first collector update) sets
    #: this False and calls :meth:`send_ready` itself
    ready_at_startup = True

    def __init__(self, argv: Optional[list[str]] = None, environ: Optional[dict] = None):
        prog = f"condor_{self.subsystem.lower()}"
        self.args = parse_daemon_args(sys.argv[1:] if argv is None else argv, prog)
        self.environ = dict(os.environ if environ is None else environ)
        if self.args.config_file:
            self.environ["CONDOR_CONFIG"] = self.args.config_file
        self.config: Optional[Config] = None
        self.log = DebugLog(stream=sys.stderr)
        self.dc = DaemonCore(self.log)
        self.server: Optional[CommandServer] = None
        self.sinful = ""
        self.authorizer: Optional[Authorizer] = None
        self.commands: dict[int, tuple[str, Handler, str]] = {}
        self.force_auth_commands: set[int] = set()
        self.start_time = int(time.time())
        self.instance_id = random.getrandbits(63)
        self.shutting_down: Optional[str] = None
        self.ready = False
        # CONDOR_INHERIT = "<parent pid> <parent sinful> ..." names the parent master
        # (daemon_core.cpp, "inheritance of sockets ... from our parent"); like HTCondor we
        # read it once and remove it so our own children do not see it.
        inherit = self.environ.pop("CONDOR_INHERIT", None)
        os.environ.pop("CONDOR_INHERIT", None)
        self.parent_pid, self.parent_sinful = parse_condor_inherit(inherit)

    # -- for subclasses --------------------------------------------------------------
    def main_init(self) -> None:
        """Called once the command socket is up (register commands and timers here)."""

    def main_config(self) -> None:
        """Called after the configuration was re-read (condor_reconfig, SIGHUP)."""

    def main_shutdown_graceful(self) -> None:
        """Begin a graceful shutdown; call :meth:`shutdown_done` when finished."""
        self.shutdown_done()

    def main_shutdown_fast(self) -> None:
        """Shut down quickly; call :meth:`shutdown_done` when finished."""
        self.shutdown_done()

    # -- helpers ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """This daemon's Name (``<local-name or subsys>@<host>`` for non-default instances,
        else the host name), as HTCondor names daemons in their ads."""
        explicit = self.param(f"{self.subsystem}_NAME")
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        if explicit:
            return explicit if "@" in explicit else f"{explicit}@{host}"
        return host

    def publish_daemon_stats(self, ad) -> None:
        """Put DaemonCore's statistics (DaemonCoreDutyCycle, RecentDaemonCoreDutyCycle,
        DCStatsLifetime...) and the process's MonitorSelf* attributes into ``ad`` (a ClassAd
        or dict), as every HTCondor daemon does in its own ad (self_monitor.cpp; see
        :mod:`pyhtc.daemoncore.stats`)."""
        from .stats import SelfMonitor
        stats = self.dc.loop_stats
        if self.config is not None:
            stats.configure(self.param_integer("STATISTICS_WINDOW_SECONDS", 1200, min_value=1),
                            self.param_integer("STATISTICS_WINDOW_QUANTUM", 240, min_value=1))
        stats.publish(ad)
        monitor = getattr(self, "_self_monitor", None)
        if monitor is None:
            monitor = self._self_monitor = SelfMonitor()
        sessions = getattr(self.server, "sessions", None)
        monitor.publish(ad, registered_sockets=len(self.dc.sockets) + (1 if self.server else 0),
                        security_sessions=len(sessions) if sessions is not None else 0)

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Expanded config value of ``name`` for this subsystem (``default`` if undefined)."""
        return self.config.param(name, default)

    def param_integer(self, name: str, default: int, **kw) -> int:
        """Integer config value (``min_value``/``max_value`` keywords as Config)."""
        return self.config.param_integer(name, default, **kw)

    def param_boolean(self, name: str, default: bool) -> bool:
        """Boolean config value, parsed as HTCondor parses booleans."""
        return self.config.param_boolean(name, default)

    def dprintf(self, category: str, message: str) -> None:
        """Write ``message`` to this daemon's log under ``category`` (D_ALWAYS, ...)."""
        self.log.dprintf(category, message)

    def register_command(self, command: int, name: str, handler: Handler,
                         permission: str = "READ", force_authentication: bool = False) -> None:
        """Serve ``command`` with ``async def handler(stream)``; only peers authorized at
        ``permission`` (READ, WRITE, ADMINISTRATOR, DAEMON, NEGOTIATOR, ...) get through.

        With ``force_authentication`` (HTCondor's flag for ACT_ON_JOBS, QMGMT_WRITE_CMD ...)
        an unauthenticated peer is authenticated inside the command before the handler runs,
        and authorization is decided on the identity that proves."""
        self.commands[int(command)] = (name, handler, permission.upper())
        if force_authentication:
            self.force_auth_commands.add(int(command))
        else:
            self.force_auth_commands.discard(int(command))
        if self.server is not None:
            self.server.handlers[int(command)] = self._wrap(int(command))
            self._apply_policy_overrides()

    def shutdown_done(self, status: int = 0) -> None:
        """Leave the event loop: the process exits with ``status``."""
        self.dprintf(Category.ALWAYS, "**** %s (%s_%s) pid %d EXITING WITH STATUS %d" % (
            f"condor_{self.subsystem.lower()}", "CONDOR", self.subsystem, os.getpid(), status))
        self.dc.stop(status)

    # -- the life of a daemon --------------------------------------------------------
    def run(self) -> int:
        """Run the daemon until it shuts down; returns the process exit status."""
        try:
            self.config = get_config(self.subsystem, self.args.local_name) \
                if self.args.config_file is None and self.environ == dict(os.environ) \
                else Config.load(self.subsystem, self.args.local_name, environ=self.environ,
                                 read_user_config=False)
        except ConfigError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 1
        self._open_log()
        return self.dc.run(self._start)

    def _open_log(self) -> None:
        sub = self.subsystem
        if self.args.terminal_log:
            self.log = DebugLog(stream=sys.stderr, debug=self.param(f"{sub}_DEBUG"))
        else:
            path = self.param(f"{sub}_LOG")
            if path and self.args.log_suffix:
                path = f"{path}.{self.args.log_suffix}"
            if path:
                self.log = DebugLog(path, debug=self.param(f"{sub}_DEBUG"),
                                    max_bytes=self.config.param_bytes(f"MAX_{sub}_LOG", 10 * 1024 * 1024) or 0,
                                    max_num=self.param_integer(f"MAX_NUM_{sub}_LOG", 1),
                                    time_format=self.param("DEBUG_TIME_FORMAT") or "%m/%d/%y %H:%M:%S")
        self.dc.log = self.log
        # the CEDAR transports report bad connections and datagrams (with the byte offset)
        # through Python logging: send those lines to this daemon's log
        cedar_log = logging.getLogger("pyhtc.cedar")
        cedar_log.handlers[:] = [_DebugLogHandler(self.log)]
        cedar_log.setLevel(logging.INFO)
        cedar_log.propagate = False

    async def _start(self) -> None:
        prog = f"condor_{self.subsystem.lower()}"
        self.dprintf(Category.ALWAYS, "*" * 54)
        self.dprintf(Category.ALWAYS, f"** {prog} (CONDOR_{self.subsystem}) STARTING UP")
        self.dprintf(Category.ALWAYS, f"** {os.path.abspath(sys.argv[0])}")
        self.dprintf(Category.ALWAYS, f"** Configuration: subsystem:{self.subsystem} "
                                      f"local:{self.args.local_name or '<NONE>'} class:DAEMON")
        self.dprintf(Category.ALWAYS, f"** {VERSION_STRING}")
        self.dprintf(Category.ALWAYS, f"** {PLATFORM_STRING}")
        self.dprintf(Category.ALWAYS, f"** PID = {os.getpid()}")
        self.dprintf(Category.ALWAYS, "*" * 54)
        self._build_security()
        self.server = CommandServer(self._server_policy, {})
        for cmd in self.commands:
            self.server.handlers[cmd] = self._wrap(cmd)
        self._register_standard_commands()
        self.server.udp_rcvbuf = self.udp_receive_buffer()
        bind_ip, advertise_ip = self._addresses()
        port = self.args.port if self.args.port is not None else self.default_port()
        await self.server.start(bind_ip, port)
        self.dc.add_shutdown_hook(self.server.close)
        self.sinful = f"<{advertise_ip}:{self.server.port}>"
        self.dprintf(Category.ALWAYS, f"DaemonCore: command socket at {self.sinful}")
        self._write_address_file()
        for signum, fn in ((signal.SIGHUP, lambda s: self.reconfig()),
                           (signal.SIGTERM, lambda s: self.begin_shutdown("graceful")),
                           (signal.SIGQUIT, lambda s: self.begin_shutdown("fast")),
                           (signal.SIGINT, lambda s: self.begin_shutdown("fast"))):
            self.dc.register_signal(signum, fn)
        if self.args.runfor:
            self.dc.register_timer(self.args.runfor, lambda: self.begin_shutdown("graceful"))
        self.main_init()
        self.ready = True
        self.dc.loop_stats.reset()  # the duty cycle counts from here, not the start-up work
        self._watch_parent()
        if self.parent_sinful:
            if self.ready_at_startup:
                self.dc.spawn(self.send_ready("Ready"), name="send_ready")
            # keep-alives to the parent (daemon_keep_alive.cpp): we promise the next one
            # within <SUBSYS>_NOT_RESPONDING_TIMEOUT and send one every (that / 3 - 30) s
            hang = self.param_integer(f"{self.subsystem}_NOT_RESPONDING_TIMEOUT",
                                      self.param_integer("NOT_RESPONDING_TIMEOUT", 3600, min_value=1),
                                      min_value=1)
            self.dc.register_timer(0, lambda: self.send_alive(hang), period=max(1, hang // 3 - 30),
                                   name="DaemonKeepAlive::SendAliveToParent")

    def _watch_parent(self) -> None:
        """check_parent (daemon_core_main.cpp): a daemon whose parent master (the pid in
        CONDOR_INHERIT) has gone away shuts down fast, so that a restarted master never runs
        a second copy beside it.  HTCondor polls every PARENT_CHECK_INTERVAL seconds (first
        after PARENT_CHECK_FIRST_INTERVAL); pyhtc also watches the parent through a pidfd and
        notices its death at once.  The master itself, and a daemon started by hand (no
        CONDOR_INHERIT), watch nothing; like HTCondor, the parent is the pid CONDOR_INHERIT
        names (normally our parent process)."""
        pid = self.parent_pid
        if not pid or self.subsystem == "MASTER" or self.shutting_down:
            return
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._parent_gone()
            return
        except OSError:
            fd = -1
        if fd >= 0:
            def gone() -> None:
                self.dc.loop.remove_reader(fd)
                self._parent_gone()

            def close() -> None:
                try:
                    self.dc.loop.remove_reader(fd)
                finally:
                    os.close(fd)
            self.dc.loop.add_reader(fd, gone)
            self.dc.add_shutdown_hook(close)
        first = self.param_integer("PARENT_CHECK_FIRST_INTERVAL", 15, min_value=0)
        every = self.param_integer("PARENT_CHECK_INTERVAL", 120, min_value=1)
        self.dc.register_timer(first, lambda: _pid_alive(pid) or self._parent_gone(),
                               period=every, name="check_parent")

    def _parent_gone(self) -> None:
        if self.shutting_down == "fast":
            return
        self.dprintf(Category.ALWAYS, f"Our parent process (pid {self.parent_pid}) went away; "
                                      "shutting down fast")
        self.begin_shutdown("fast")

    async def send_ready(self, state: str = "Ready") -> bool:
        """Tell the parent master (from CONDOR_INHERIT) our ready state with DC_SET_READY: one
        ClassAd ``DaemonPID``, ``DaemonName`` (the subsystem), ``DaemonState`` (as
        condor_startd ResMgr.cpp and htcondor2.set_ready_state send it).  Returns False (and
        logs) when there is no parent or it cannot be reached; never raises."""
        if not self.parent_sinful:
            return False
        from pyhtc.cedar.wire_ad import WireAd
        ad = WireAd()
        ad.set("DaemonPID", os.getpid())
        ad.set("DaemonName", self.args.local_name or self.subsystem)
        ad.set("DaemonState", state)
        ok = await self._send_to_parent(Command.DC_SET_READY, lambda s: s.put_ad(ad))
        if ok:
            self.dprintf(Category.ALWAYS, f"Sent DC_SET_READY ({state}) to master {self.parent_sinful}")
        return ok

    async def send_alive(self, max_hang_time: int) -> bool:
        """DC_CHILDALIVE to the parent master: ``int pid, int max_hang_time, double
        dprintf_lock_delay`` (dc_message.cpp ChildAliveMsg); the parent may kill us as hung if
        the next one does not come within *max_hang_time* seconds.  False if it failed."""
        return await self._send_to_parent(Command.DC_CHILDALIVE, lambda s: s.put_int(os.getpid())
                                          .put_int(int(max_hang_time)).put_double(0.0))

    async def _send_to_parent(self, command: int, write) -> bool:
        from pyhtc.cedar.transport_asyncio import open_command
        try:
            host, _, port = self.parent_sinful.strip("<>").split("?")[0].rpartition(":")
            stream = await open_command(host, int(port), int(command), self._level_policy("CLIENT"),
                                        timeout=10)
            try:
                write(stream)
                await stream.end_of_message()
            finally:
                await stream.close()
        except Exception as exc:  # the parent may be gone; never fatal
            self.dprintf(Category.ALWAYS, f"Failed to send {command_name(command)} to parent "
                         f"{self.parent_sinful}: {exc}")
            return False
        return True

    def default_port(self) -> int:
        """The command port when ``-p`` is not given: ``<SUBSYS>_PORT`` if set, else 0
        (any free port). The collector overrides this (its port is COLLECTOR_HOST's)."""
        if self.param(f"{self.subsystem}_PORT"):
            return self.param_integer(f"{self.subsystem}_PORT", 0)
        return 0

    def udp_receive_buffer(self) -> int:
        """SO_RCVBUF for the command socket's UDP side in bytes (0 = system default);
        the collector overrides this from COLLECTOR_SOCKET_BUFSIZE."""
        return 0

    def _addresses(self) -> tuple[str, str]:
        iface = (self.param("NETWORK_INTERFACE") or "*").strip()
        if iface and iface != "*":
            return iface, iface
        advertise = self.param("IP_ADDRESS") or "127.0.0.1"
        return "0.0.0.0", advertise

    def address_file_path(self) -> Optional[str]:
        """Where this daemon writes its address (``<SUBSYS>_ADDRESS_FILE``, with the
        local name as an extension for named instances)."""
        path = self.param(f"{self.subsystem}_ADDRESS_FILE")
        if not path:
            logdir = self.param("LOG")
            if not logdir:
                return None
            path = os.path.join(logdir, f".{self.subsystem.lower()}_address")
        if self.args.local_name:
            path = f"{path}.{self.args.local_name}"
        return path

    def _write_address_file(self) -> None:
        path = self.address_file_path()
        if not path:
            return
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            write_address_file(path, AddressFile(self.sinful, VERSION_STRING, PLATFORM_STRING))
        except OSError as exc:
            self.dprintf(Category.ERROR, f"ERROR: cannot write address file {path}: {exc}")

    # -- security --------------------------------------------------------------------
    def _level_policy(self, level: str) -> SecurityPolicy:
        def knob(feature: str) -> Optional[str]:
            for ctx in (level, "DEFAULT"):
                v = self.param(f"SEC_{ctx}_{feature}")
                if v:
                    return v
            return None

        methods = [m for m in split_methods(knob("AUTHENTICATION_METHODS") or "FS")
                   if m in _SERVER_METHODS]
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        return SecurityPolicy(
            authentication=Level.parse(knob("AUTHENTICATION"), Level.OPTIONAL),
            encryption=Level.parse(knob("ENCRYPTION"), Level.OPTIONAL),
            integrity=Level.parse(knob("INTEGRITY"), Level.OPTIONAL),
            negotiation=Level.parse(knob("NEGOTIATION"), Level.PREFERRED),
            auth_methods=methods or ["FS"],
            uid_domain=self.param("UID_DOMAIN") or host,
            trust_domain=self.param("TRUST_DOMAIN") or host,
            fs_dir=self.param("FS_LOCAL_DIR") or "/tmp",
            authorize=self._authorize,
            version=VERSION_STRING,
        )

    def _build_security(self) -> None:
        self.authorizer = Authorizer(self.param, self.subsystem)
        self._level_policies = {lvl: self._level_policy(lvl) for lvl in _POLICY_LEVELS}
        self._server_policy = self._level_policy("DEFAULT")
        self._apply_policy_overrides()

    def _apply_policy_overrides(self) -> None:
        pol = getattr(self, "_server_policy", None)
        if pol is None:
            return
        pol.valid_commands = sorted(self.commands)
        pol.overrides = {cmd: self._level_policies.get(perm, pol)
                         for cmd, (_, _, perm) in self.commands.items()}
        for p in self._level_policies.values():
            p.valid_commands = pol.valid_commands

    def _authorize(self, user: Optional[str], method: Optional[str], command: int, peer: str) -> bool:
        if user is None and command in self.force_auth_commands:
            return True  # decided after the command authenticates the peer (see _wrap)
        return self.authorize(user, command, peer)

    def authorize(self, user: Optional[str], command: int, peer: str) -> bool:
        """Whether ``user`` (None = unauthenticated) at ``peer`` ("ip:port") may run
        ``command``, by the command's permission level and the ALLOW/DENY lists; the
        decision is logged under D_SECURITY."""
        entry = self.commands.get(command)
        perm = entry[2] if entry else "ALLOW"
        ip = peer.rsplit(":", 1)[0].strip("[]<>") if peer else ""
        d = self.authorizer.verify(perm, user or UNAUTHENTICATED, ip)
        self.log.dprintf(Category.SECURITY, f"PERMISSION {'GRANTED' if d else 'DENIED'} to "
                         f"{user or UNAUTHENTICATED} from {ip} for command {command} "
                         f"({command_name(command)}), access level {perm}: {d.reason}")
        return d.allowed

    def _wrap(self, command: int) -> Handler:
        async def dispatch(stream) -> None:
            name, handler, perm = self.commands[command]
            if command in self.force_auth_commands and getattr(stream.peer, "user", None) is None:
                try:
                    await stream.authenticate()
                except (CedarError, OSError, asyncio.TimeoutError) as exc:
                    self.dprintf(Category.ALWAYS, f"{name}: authentication of "
                                 f"{stream.peer.address} failed: {exc}")
                    return
            peer = stream.peer
            user = getattr(peer, "user", None)
            addr = getattr(peer, "address", "")
            if not self.authorize(user, command, addr):
                self.dprintf(Category.ALWAYS, f"DC_AUTHENTICATE: Command not authorized: {name} "
                             f"({command}) from {user or UNAUTHENTICATED} at {addr}")
                return
            self.log.dprintf(Category.COMMAND, f"Calling HandleReq <{name}> ({command}) for "
                             f"{user or UNAUTHENTICATED} from {addr}")
            try:
                await handler(stream)
            except (CedarError, OSError, asyncio.TimeoutError):
                raise  # the transport logs these with the byte offset, and closes
            except Exception as exc:  # a bad request must not take the daemon down
                self.dprintf(Category.ERROR, f"ERROR: command {name} ({command}) from {addr} "
                             f"failed: {type(exc).__name__}: {exc}")
        return dispatch

    # -- standard commands -----------------------------------------------------------
    def _register_standard_commands(self) -> None:
        reg = self.register_command
        reg(Command.DC_RECONFIG, "DC_RECONFIG", self._cmd_reconfig, "ADMINISTRATOR")
        reg(Command.DC_RECONFIG_FULL, "DC_RECONFIG_FULL", self._cmd_reconfig, "ADMINISTRATOR")
        reg(Command.DC_OFF_GRACEFUL, "DC_OFF_GRACEFUL", self._cmd_off("graceful"), "ADMINISTRATOR")
        reg(Command.DC_OFF_FAST, "DC_OFF_FAST", self._cmd_off("fast"), "ADMINISTRATOR")
        reg(Command.DC_OFF_FORCE, "DC_OFF_FORCE", self._cmd_off("fast"), "ADMINISTRATOR")
        reg(Command.DC_OFF_PEACEFUL, "DC_OFF_PEACEFUL", self._cmd_off("peaceful"), "ADMINISTRATOR")
        reg(Command.DC_NOP, "DC_NOP", self._cmd_nop, "ALLOW")
        for cmd, lvl in ((Command.DC_NOP_READ, "READ"), (Command.DC_NOP_WRITE, "WRITE"),
                         (Command.DC_NOP_NEGOTIATOR, "NEGOTIATOR"),
                         (Command.DC_NOP_ADMINISTRATOR, "ADMINISTRATOR"),
                         (Command.DC_NOP_CONFIG, "CONFIG"), (Command.DC_NOP_DAEMON, "DAEMON"),
                         (Command.DC_NOP_ADVERTISE_STARTD, "ADVERTISE_STARTD"),
                         (Command.DC_NOP_ADVERTISE_SCHEDD, "ADVERTISE_SCHEDD"),
                         (Command.DC_NOP_ADVERTISE_MASTER, "ADVERTISE_MASTER")):
            reg(cmd, cmd.name, self._cmd_nop, lvl)
        reg(Command.DC_QUERY_INSTANCE, "DC_QUERY_INSTANCE", self._cmd_query_instance, "READ")
        reg(Command.DC_CONFIG_VAL, "DC_CONFIG_VAL", self._cmd_config_val, "READ")

    async def _cmd_reconfig(self, stream) -> None:
        self.reconfig()

    def _cmd_off(self, how: str) -> Handler:
        async def handler(stream) -> None:
            self.begin_shutdown(how)
        return handler

    async def _cmd_nop(self, stream) -> None:
        return None

    async def _cmd_query_instance(self, stream) -> None:
        stream.put_string("%016x" % self.instance_id)
        await stream.end_of_message()

    async def _cmd_config_val(self, stream) -> None:
        name = await stream.get_string()
        value = self.param(name)
        stream.put_string(value if value is not None else "Not defined")
        await stream.end_of_message()

    # -- reconfig and shutdown -------------------------------------------------------
    def reconfig(self) -> None:
        """Re-read the configuration and call :meth:`main_config` (errors keep the old one)."""
        self.dprintf(Category.ALWAYS, "Got SIGHUP/DC_RECONFIG: re-reading configuration")
        try:
            self.config.reload()
        except ConfigError as exc:
            self.dprintf(Category.ERROR, f"ERROR: reconfig failed, keeping the old configuration: {exc}")
            return
        self.log.configure(debug=self.param(f"{self.subsystem}_DEBUG"))
        self._build_security()
        self.server.policy = self._server_policy
        self.main_config()

    def begin_shutdown(self, how: str) -> None:
        """Start a ``graceful``, ``fast`` or ``peaceful`` shutdown (once; fast overrides)."""
        if self.shutting_down == how or self.shutting_down == "fast":
            return
        self.shutting_down = how
        self.dprintf(Category.ALWAYS, f"Got {how} shutdown request")
        if how == "fast":
            self.main_shutdown_fast()
        else:
            self.main_shutdown_graceful()

    @classmethod
    def main(cls, argv: Optional[list[str]] = None) -> int:
        """Console-script entry point: build the daemon from ``sys.argv`` and run it.

        ``_CONDOR_<SUBSYS>_PROFILE=<dir>`` in the environment (a pyhtc developer knob, read
        before the configuration) runs the daemon under cProfile and writes
        ``<dir>/<subsys>.<pid>.prof`` when it exits; with ``_CONDOR_<SUBSYS>_PROFILE_CLOCK=cpu``
        the profile counts CPU time instead of wall time (the benchmarks use these)."""
        prof_dir = os.environ.get(f"_CONDOR_{cls.subsystem}_PROFILE")
        if not prof_dir:
            return cls(argv).run()
        import cProfile
        cpu = os.environ.get(f"_CONDOR_{cls.subsystem}_PROFILE_CLOCK", "").lower() == "cpu"
        prof = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
        prof.enable()
        try:
            return cls(argv).run()
        finally:
            prof.disable()
            os.makedirs(prof_dir, exist_ok=True)
            prof.dump_stats(os.path.join(prof_dir, f"{cls.subsystem.lower()}.{os.getpid()}.prof"))
