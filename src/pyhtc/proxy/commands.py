"""The command set of the proxy (daemonproxy ``src/controller.c``), one method per command.

Each handler gets the issuing connection and the argument fields.  It validates everything
before changing anything and raises :class:`~pyhtc.proxy.protocol.CommandError` to refuse, so a
bad command leaves the state untouched.  The reference for every command is docs/pyhtc-proxy.md.
This is a mixin of :class:`pyhtc.proxy.supervisor.Supervisor`, which supplies the state
(``services``, ``handles``, ``signals``) and the helpers (``_broadcast``, ``_schedule``...).
"""
from __future__ import annotations

import os
import time

from . import handles as _h
from .protocol import (TRIGGER_SIGNALS, CommandError, check_name, fmt_ts, join, parse_number,
                       signal_name, signal_number)
from .service import parse_env_settings

LOG_LEVELS = ("none", "trace", "debug", "info", "warning", "error", "fatal")
_LEVEL_ALIASES = {"warn": "warning"}

#: command name -> handler method name
COMMANDS = {
    "echo": "_cmd_echo",
    "statedump": "_cmd_statedump",
    "service.args": "_cmd_svc_args",
    "service.fds": "_cmd_svc_fds",
    "service.tags": "_cmd_svc_tags",
    "service.env": "_cmd_svc_env",
    "service.auto_up": "_cmd_svc_auto_up",
    "service.start": "_cmd_svc_start",
    "service.signal": "_cmd_svc_signal",
    "service.delete": "_cmd_svc_delete",
    "service.pipe": "_cmd_svc_pipe",
    "fd.pipe": "_cmd_fd_pipe",
    "fd.open": "_cmd_fd_open",
    "fd.socket": "_cmd_fd_socket",
    "fd.take": "_cmd_fd_take",
    "fd.delete": "_cmd_fd_delete",
    "socket.create": "_cmd_socket_create",
    "socket.delete": "_cmd_socket_delete",
    "signal.clear": "_cmd_signal_clear",
    "log.filter": "_cmd_log_filter",
    "log.dest": "_cmd_log_dest",
    "conn.event_timeout": "_cmd_event_timeout",
    "chdir": "_cmd_chdir",
    "exit": "_cmd_exit",
    "terminate": "_cmd_terminate",
    "terminate.guard": "_cmd_terminate_guard",
    "terminate.exec_args": "_cmd_exec_args",
}


class CommandsMixin:
    """Handlers for every protocol command (see the module docstring)."""

    def _cmd_echo(self, conn, args):
        if args:
            conn.emit(join(*args))

    def _cmd_statedump(self, conn, args):
        now = time.monotonic()
        for h in self.handles.sorted():
            conn.emit(h.state_line(), force=True)
        for name in sorted(self.services):
            svc = self.services[name]
            for line in (svc.state_line(now), svc.tags_line(), svc.args_line(), svc.fds_line(),
                         svc.auto_up_line(), svc.env_line()):
                conn.emit(line, force=True)
        for name in sorted(self.signals):
            q = self.signals[name]
            if q:
                conn.emit(join("signal", name, fmt_ts(q[-1]), len(q)), force=True)

    def _cmd_svc_args(self, conn, args):
        if len(args) < 1:
            raise CommandError("expected service name")
        check_name(args[0], "service name")
        argv = args[1:]
        if not argv or not argv[0]:
            raise CommandError("empty argv: service.args needs at least the program")
        svc = self._service(args[0], create=True)
        svc.argv = argv
        self._broadcast(svc.args_line())

    def _cmd_svc_fds(self, conn, args):
        if not args:
            raise CommandError("expected service name")
        check_name(args[0], "service name")
        names = args[1:] or ["null", "null", "null"]
        for n in names:
            if n != "-":
                check_name(n, "fd name")
        svc = self._service(args[0], create=True)
        for n in names:
            if n != "-" and n not in self.handles:
                conn.emit(join("warning", f'fd "{n}" is not yet defined'))
        svc.fds = names
        self._broadcast(svc.fds_line())

    def _cmd_svc_tags(self, conn, args):
        if not args:
            raise CommandError("expected service name")
        svc = self._service(args[0], create=True)
        svc.tags = [t for t in args[1:]]
        self._broadcast(svc.tags_line())

    def _cmd_svc_env(self, conn, args):
        if not args:
            raise CommandError("expected service name")
        check_name(args[0], "service name")
        base, items = parse_env_settings(args[1:])
        svc = self._service(args[0], create=True)
        svc.env_base = base or "inherit"
        svc.env = items
        self._broadcast(svc.env_line())

    def _cmd_svc_auto_up(self, conn, args):
        if len(args) < 2:
            raise CommandError("expected service name and interval")
        check_name(args[0], "service name")
        interval = None
        if args[1] != "-":
            interval = parse_number(args[1], "interval")
            if not 0.1 <= interval < 2 ** 31:
                raise CommandError("invalid interval (want 0.1 .. 2147483647 seconds, or -)")
        triggers = []
        for t in args[2:]:
            if t == "always":
                triggers.append(t)
                continue
            try:
                name = signal_name(signal_number(t))
            except CommandError:
                name = None
            if name not in TRIGGER_SIGNALS:
                raise CommandError(f"invalid trigger {t!r} (want always, {', '.join(TRIGGER_SIGNALS)})")
            triggers.append(name)
        svc = self._service(args[0], create=True)
        if interval is not None:
            svc.interval = interval
        svc.triggers = triggers
        self._broadcast(svc.auto_up_line())
        self._autostart(svc)

    def _cmd_svc_start(self, conn, args):
        if not args:
            raise CommandError("expected service name")
        if len(args) > 2:
            raise CommandError("unexpected argument after timestamp")
        svc = self._service(args[0], create=False)
        now = time.monotonic()
        if len(args) == 2 and args[1] == "-":
            if svc.state != "start":
                raise CommandError("no service.start pending")
            svc.state, svc.up_ts = "down", None
            self._broadcast(svc.state_line(now))
            return
        when = now
        if len(args) == 2:
            when = parse_number(args[1], "timestamp")
            if when - now < -100000:
                raise CommandError("invalid timestamp (more than 100000 s in the past)")
        if not svc.argv:
            raise CommandError("no args configured for service")
        if svc.state == "up":
            raise CommandError("service is not startable (it is up)")
        self._schedule(svc, when)

    def _cmd_svc_signal(self, conn, args):
        if len(args) < 2:
            raise CommandError("expected service name and signal")
        svc = self._service(args[0], create=False)
        sig = signal_number(args[1])
        group = False
        for opt in (args[2].split(",") if len(args) > 2 else []):
            if opt == "group":
                group = True
            elif opt:
                raise CommandError(f"unknown option {opt!r}")
        if not svc.running:
            raise CommandError("service is not running")
        try:
            if group:
                os.killpg(svc.pid, sig)
            else:
                os.kill(svc.pid, sig)
        except OSError as e:
            raise CommandError(f"can't kill {svc.name} ({'pgid' if group else 'pid'} {svc.pid}): {e.strerror}") from None

    def _cmd_svc_delete(self, conn, args):
        if len(args) != 1:
            raise CommandError("expected service name")
        svc = self._service(args[0], create=False)
        if svc.running:
            raise CommandError("service is running")
        del self.services[svc.name]
        self._broadcast(join("service.state", svc.name, "deleted", "-", "-", "-", "-", "-", "-"))

    def _cmd_svc_pipe(self, conn, args):
        if len(args) not in (2, 3):
            raise CommandError("expected PRODUCER CONSUMER [PIPE_NAME]")
        prod = check_name(args[0], "service name")
        cons = check_name(args[1], "service name")
        if prod == cons:
            raise CommandError("producer and consumer must differ")
        base = check_name(args[2] if len(args) == 3 else f"{prod}.log", "pipe name")
        rname, wname = check_name(base + ".r", "pipe name"), check_name(base + ".w", "pipe name")
        self.handles.check_assignable(rname)
        self.handles.check_assignable(wname)
        r, w = _h.make_pipe(rname, wname, "")
        self.handles.add(r)
        self.handles.add(w)
        self._broadcast(r.state_line())
        self._broadcast(w.state_line())
        p = self._service(prod, create=True)
        c = self._service(cons, create=True)
        pf = list(p.fds) + ["null"] * (3 - len(p.fds))
        pf[1] = pf[2] = wname
        cf = list(c.fds) + ["null"] * (3 - len(c.fds))
        cf[0] = rname
        p.fds, c.fds = pf, cf
        self._broadcast(p.fds_line())
        self._broadcast(c.fds_line())

    def _fd_names(self, names):
        for n in names:
            check_name(n, "file descriptor name")
            self.handles.check_assignable(n)

    def _add_handles(self, *hs):
        for h in hs:
            self.handles.add(h)
        for h in hs:
            self._broadcast(h.state_line())

    def _cmd_fd_pipe(self, conn, args):
        if len(args) not in (2, 3):
            raise CommandError("expected READ_NAME WRITE_NAME [FLAGS]")
        self._fd_names(args[:2])
        if args[0] == args[1]:
            raise CommandError("read and write names must differ")
        r, w = _h.make_pipe(args[0], args[1], args[2] if len(args) == 3 else "")
        self._add_handles(r, w)

    def _cmd_fd_open(self, conn, args):
        if len(args) < 3:
            raise CommandError("expected NAME FLAGS PATH")
        if len(args) > 3:
            raise CommandError("unexpected argument after path")
        self._fd_names(args[:1])
        self._add_handles(_h.open_file(args[0], args[1], args[2]))

    def _cmd_fd_socket(self, conn, args):
        if len(args) < 2:
            raise CommandError("expected NAME FLAGS [ADDRESS]")
        if len(args) > 3:
            raise CommandError("unexpected argument after address")
        self._fd_names(args[:1])
        self._add_handles(_h.make_socket(args[0], args[1], args[2] if len(args) == 3 else None))

    def _cmd_fd_take(self, conn, args):
        if len(args) != 1:
            raise CommandError("expected NAME")
        self._fd_names(args)
        fd = conn.take_passed_fd()
        if fd is None:
            raise CommandError("no file descriptor received with this command (needs the socket transport)")
        kind, flags = _h._describe_inherited(fd)
        self._add_handles(_h.Handle(args[0], fd, kind, flags, "passed by controller"))

    def _cmd_fd_delete(self, conn, args):
        if len(args) != 1:
            raise CommandError("expected NAME")
        check_name(args[0], "file descriptor name")
        h = self.handles.delete(args[0])
        self._broadcast(join("fd.state", h.name, "deleted"))

    def _cmd_socket_create(self, conn, args):
        if len(args) != 2:
            raise CommandError("expected OPTIONS PATH")
        if args[0] not in ("", "-"):
            raise CommandError("invalid options (only - is defined)")
        try:
            self.listen(args[1])
        except OSError as e:
            raise CommandError(f"failed to create control socket {args[1]!r}: {e.strerror}") from None

    def _cmd_socket_delete(self, conn, args):
        self._close_listener()

    def _cmd_signal_clear(self, conn, args):
        if len(args) != 2:
            raise CommandError("expected SIGNAL COUNT")
        name = signal_name(signal_number(args[0]))
        count = int(parse_number(args[1], "count", integer=True))
        if count < 0:
            raise CommandError("count must not be negative")
        q = self.signals.get(name)
        for _ in range(min(count, len(q) if q else 0)):
            q.popleft()

    def _cmd_log_filter(self, conn, args):
        if len(args) > 1:
            raise CommandError("expected one of + - none " + " ".join(LOG_LEVELS[1:]))
        if args:
            a = _LEVEL_ALIASES.get(args[0], args[0])
            if a == "+":
                lv = min(self.log_level + 1, len(LOG_LEVELS) - 1)
            elif a == "-":
                lv = max(self.log_level - 1, 0)
            elif a in LOG_LEVELS:
                lv = LOG_LEVELS.index(a)
            else:
                raise CommandError("invalid loglevel argument")
            self.log_level = lv
        conn.emit(join("log.filter", LOG_LEVELS[self.log_level]))

    def _cmd_log_dest(self, conn, args):
        if len(args) != 2 or args[0] != "fd":
            raise CommandError("unknown logging type (expected: log.dest fd NAME)")
        check_name(args[1], "file descriptor name")
        h = self.handles.get(args[1])
        if h is None:
            conn.emit(join("warning", f'fd "{args[1]}" does not exist'))
        elif h.fd >= 0:
            os.set_blocking(h.fd, False)
        self.log_dest = args[1]

    def _cmd_event_timeout(self, conn, args):
        if len(args) != 2:
            raise CommandError("expected RESET_TIMEOUT CLOSE_TIMEOUT")
        reset = parse_number(args[0], "reset timeout")
        close = parse_number(args[1], "close timeout")
        if not (0 <= reset < 2 ** 31 and 0 <= close < 2 ** 31):
            raise CommandError("invalid timeout (must be 0..2147483647)")
        if reset > close:
            raise CommandError("reset timeout is greater than close timeout")
        conn.reset_timeout, conn.close_timeout = reset, close

    def _cmd_chdir(self, conn, args):
        if len(args) != 1:
            raise CommandError("expected PATH" if not args else "unexpected argument after path")
        try:
            os.chdir(args[0])
        except OSError as e:
            raise CommandError(f"chdir failed: {e.strerror}") from None

    def _cmd_exit(self, conn, args):
        conn.stop_input()

    def _cmd_terminate(self, conn, args):
        if not args:
            raise CommandError("expected exit code")
        code = int(parse_number(args[0], "exit code", integer=True))
        if self.guard:
            if len(args) < 2:
                raise CommandError("terminate guard code required")
            if int(parse_number(args[1], "guard code", integer=True)) != self.guard:
                raise CommandError("incorrect terminate guard code")
            if not self.exec_on_exit:
                raise CommandError("cannot exit while the terminate guard is set, and exec-on-exit is not configured")
        if os.getpid() == 1 and not self.exec_on_exit:
            raise CommandError("cannot exit as process 1, and exec-on-exit is not configured")
        self.exit_code = code & 0xFF

    def _cmd_terminate_guard(self, conn, args):
        if len(args) != 2 or args[0] not in ("+", "-"):
            raise CommandError("expected + or - and a code")
        code = int(parse_number(args[1], "guard code", integer=True))
        if code == 0:
            raise CommandError("code cannot be 0")
        if args[0] == "+":
            if self.guard:
                raise CommandError("terminate guard code is already set")
            self.guard = code
        else:
            if not self.guard:
                raise CommandError("terminate guard was not set")
            if code != self.guard:
                raise CommandError("incorrect guard code")
            self.guard = 0

    def _cmd_exec_args(self, conn, args):
        self.exec_on_exit = [a for a in args] if args and args[0] else []
