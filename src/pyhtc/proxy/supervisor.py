"""The supervisor: services, handles, signals and controller connections in one event loop.

This is the Python counterpart of daemonproxy (``src/daemonproxy.c``, ``src/service.c``,
``src/controller.c``): a small, reliable parent process that holds services and their file
handles and turns child exits and signals into an event stream, while all policy lives in an
external *controller*.  The controller can die and be restarted without losing the services.

How a controller drives it
--------------------------

In-process (the way condor_master is meant to sit on top of it)::

    sup = Supervisor()
    ctl = sup.attach(on_event)              # on_event(fields: list[str]) gets every event
    ctl.send("service.args", "web", "/usr/sbin/httpd", "-DFOREGROUND")
    ctl.send("service.auto_up", "web", "5", "always")
    while not stopping:
        sup.run_once(1.0)                   # wait up to 1 s for child exits/signals/commands

Inside another event loop: wait until :meth:`Supervisor.fileno` is readable or
:meth:`Supervisor.next_deadline` has passed, then call ``run_once(0)``.

Out of process: run ``pyhtc-proxy -S /path/sock`` (or give a service ``control.event`` and
``control.cmd`` as fds 0 and 1) and talk the line protocol, e.g. with
:class:`pyhtc.proxy.client.ProxyClient`.  After a (re)connect the controller sends
``statedump`` and rebuilds its view from the replayed events; after an ``overflow`` event it
does the same.  ``echo TOKEN`` is a barrier: when the echo comes back, every earlier command has
been executed.

Child exits are watched with pidfds (Linux >= 5.3), so the loop needs no SIGCHLD handler and
can run in any thread; restarting a killed service costs one wakeup plus one ``posix_spawn``.
Only with ``handle_signals=True`` (the command-line tool) does the supervisor catch SIGINT,
SIGHUP, SIGTERM, SIGUSR1, SIGUSR2 and SIGQUIT and report them as ``signal`` events; that needs
the main thread.
"""
from __future__ import annotations

import collections
import os
import selectors
import signal
import socket
import time

from . import handles as _h
from .commands import COMMANDS, LOG_LEVELS, CommandsMixin
from .connection import EVENT_BUFFER, Connection, LocalController
from .protocol import TRIGGER_SIGNALS, CommandError, check_name, fmt_ts, is_ignorable, join, signal_name, split_line
from .service import Service


#: Exit value recorded for a start that failed before exec (program missing, bad fd name).
SPAWN_FAILED_STATUS = 127 << 8

#: Signals whose default action is reset in a service (Python ignores SIGPIPE and SIGXFSZ).
_RESET_SIGNALS = tuple(getattr(signal, n) for n in (
    "SIGPIPE", "SIGXFSZ", "SIGINT", "SIGHUP", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGQUIT", "SIGCHLD",
    "SIGALRM") if hasattr(signal, n))

_FATAL_SIGNALS = tuple(getattr(signal, n) for n in ("SIGABRT", "SIGFPE", "SIGILL", "SIGSEGV", "SIGBUS", "SIGTRAP")
                       if hasattr(signal, n))


class Supervisor(CommandsMixin):
    """Holds services, named handles and controller connections.

    Parameters:

    * ``handle_signals`` -- catch SIGINT/HUP/TERM/USR1/USR2/QUIT (queued with timestamps until
      ``signal.clear``) and the fatal signals (which trigger exec-on-exit); main thread only;
    * ``log_fd`` -- descriptor for the proxy's own log (``LEVEL: text`` lines), -1 for none;
      ``log.dest fd NAME`` redirects it to a named handle;
    * ``log_filter`` -- messages at or below this level are suppressed (default ``debug``:
      info and above are shown), as daemonproxy ``log.c``;
    * ``std_handles`` -- name duplicates of descriptors 0, 1, 2 ``stdin``/``stdout``/``stderr``;
    * ``event_buffer`` -- per-connection event queue limit in bytes (see connection.py).

    The loop: :meth:`run_once` (one wait of at most *timeout* seconds) or :meth:`run` (until a
    ``terminate`` command); :attr:`exit_code` is set when terminate was accepted.
    """

    def __init__(self, *, handle_signals: bool = False, log_fd: int = 2, log_filter: str = "debug",
                 std_handles: bool = True, event_buffer: int = EVENT_BUFFER):
        self._sel = selectors.DefaultSelector()
        self._reg: dict[int, list] = {}
        self.handles = _h.HandleTable()
        self.services: dict[str, Service] = {}
        self.connections: list[Connection] = []
        self.event_buffer = event_buffer
        # signal name -> deque of receive timestamps still pending (uncleared)
        self.signals: dict[str, collections.deque] = {}
        self._sig_incoming: list[tuple[int, float]] = []
        self.log_fd = log_fd
        self.log_dest: str | None = None
        self.log_level = LOG_LEVELS.index(log_filter)
        self.log_lost = 0
        self.guard = 0
        self.exec_on_exit: list[str] = []
        self.exit_code: int | None = None
        self.interactive: Connection | None = None
        self.listener: socket.socket | None = None
        self.listener_path: str | None = None
        self._n_clients = 0
        self._use_pidfd = hasattr(os, "pidfd_open")
        self._handle_signals = handle_signals
        self._wake_r = self._wake_w = None
        if std_handles:
            for num, name in enumerate(("stdin", "stdout", "stderr")):
                try:
                    fd = os.dup(num)
                except OSError:
                    fd = os.open(os.devnull, os.O_RDWR | os.O_NOCTTY)
                self.handles.register_inherited(fd, name)
        if handle_signals:
            self._install_signals()
        self._commands = {name: getattr(self, meth) for name, meth in COMMANDS.items()}

    # ================================================================================ public API
    def attach(self, on_event, *, label: str = "local") -> LocalController:
        """Attach an in-process controller; see :class:`~pyhtc.proxy.connection.LocalController`.
        Pending signals are reported to it at once."""
        ctl = LocalController(self, on_event, label=label)
        self.connections.append(ctl)
        self._replay_signals(ctl)
        return ctl

    def add_stream(self, rfd: int, wfd: int, *, label: str, origin: str | None = None,
                   final_newline: bool = False, sock: socket.socket | None = None,
                   start: bool = True) -> Connection:
        """Serve commands read from *rfd* and send events to *wfd* (-1 for none).

        A regular file cannot be polled, so it is read and executed to its end at once (the
        config-file case).  With *start* False, call :meth:`start_reading` later."""
        conn = Connection(self, rfd, wfd, label=label, sock=sock, origin=origin,
                          final_newline=final_newline, event_buffer=self.event_buffer)
        self.connections.append(conn)
        if wfd >= 0:
            if sock is not None:
                sock.setblocking(False)
            else:
                os.set_blocking(wfd, False)
        self._replay_signals(conn)
        if start:
            self.start_reading(conn)
        return conn

    def start_reading(self, conn: Connection) -> None:
        """Begin executing the commands of *conn* (see :meth:`add_stream`)."""
        if conn.rfd < 0:
            return
        try:
            self._set(conn.rfd, read=conn.on_readable)
        except PermissionError:  # regular file: not pollable, read it all now
            while not conn.input_done and not conn.closed:
                data = os.read(conn.rfd, 65536)
                if not data:
                    conn.end_of_input()
                    break
                conn.feed(data)

    def config_file(self, path: str) -> Connection:
        """Execute the command stream in *path* (``-`` = standard input).  Errors are logged as
        ``FILE:LINE: message``.  Raises OSError if the file cannot be opened."""
        if path == "-":
            fd = os.dup(0)
            self._to_devnull("stdin")
            return self.add_stream(fd, -1, label="config <stdin>", origin="<stdin>", final_newline=True)
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
        return self.add_stream(fd, -1, label=f"config {path}", origin=path, final_newline=True)

    def interactive_session(self) -> Connection:
        """Use descriptors 0/1 as a controller (``-i``): commands from stdin, events to stdout.
        The named ``stdin``/``stdout`` handles become /dev/null.  At the end of input (or
        ``exit``) a final ``info`` event names the services still running, and the supervisor
        terminates with status 0 unless the terminate guard is set."""
        rfd, wfd = os.dup(0), os.dup(1)
        self._to_devnull("stdin")
        self._to_devnull("stdout")
        conn = self.add_stream(rfd, wfd, label="interactive", start=False)
        self.interactive = conn
        conn.emit(join("info", "Interactive mode.  Use ^D or 'exit' to terminate.  "
                               "See docs/pyhtc-proxy.md for command syntax."))
        self.start_reading(conn)
        return conn

    def listen(self, path: str) -> None:
        """Create the (single) control socket at *path*; see ``socket.create``."""
        self._close_listener()
        if os.path.exists(path):
            import stat
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(path)
            s.listen(8)
        except OSError:
            s.close()
            raise
        s.setblocking(False)
        self.listener, self.listener_path = s, path
        self._set(s.fileno(), read=self._accept)

    def execute(self, conn: Connection, line: str) -> None:
        """Execute one command line on behalf of *conn*; a refused command yields an ``error``
        event to *conn* (and a log line naming file:line for config files), changing nothing."""
        if is_ignorable(line):
            return
        try:
            fields = split_line(line)
            fn = self._commands.get(fields[0])
            if fn is None:
                raise CommandError(f"Unknown command: {fields[0]}")
            fn(conn, fields[1:])
        except CommandError as e:
            self.command_failed(conn, str(e), line)

    def command_failed(self, conn: Connection, msg: str, line: str) -> None:
        """Report a refused command: ``error<TAB>MESSAGE, for command "..."``."""
        excerpt = line.replace("\t", " ")
        excerpt = excerpt[:40] + "..." if len(excerpt) > 40 else excerpt
        conn.emit(join("error", f'{msg}, for command "{excerpt}"'))
        self.log("error", f"{conn.where()}: {msg}: {line[:90]!r}")

    def run_once(self, timeout: float | None = None) -> None:
        """Wait at most *timeout* seconds (None: until something happens) and handle child
        exits, signals, due starts, commands and event writes."""
        now = time.monotonic()
        deadline = self._run_timers(now)
        if timeout is not None:
            deadline = min(deadline, now + timeout) if deadline is not None else now + timeout
        if not self._use_pidfd:
            deadline = min(deadline, now + 0.5) if deadline is not None else now + 0.5
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        for key, mask in self._sel.select(wait):
            read_cb, write_cb = key.data
            if mask & selectors.EVENT_READ and read_cb is not None:
                read_cb()
            if mask & selectors.EVENT_WRITE and write_cb is not None and key.fd in self._reg:
                write_cb()
        if not self._use_pidfd:
            self._poll_children()
        self._drain_signals()
        self._run_timers(time.monotonic())

    def run(self) -> int:
        """Run until ``terminate``; returns the requested exit code."""
        while self.exit_code is None:
            self.run_once()
        return self.exit_code

    def fileno(self) -> int:
        """The selector's descriptor (epoll on Linux): readable when :meth:`run_once` has I/O to
        handle.  Lets a host event loop (e.g. condor_master's DaemonCore loop) embed the
        supervisor: poll this descriptor with :meth:`next_deadline` as the timeout, then call
        ``run_once(0)``."""
        return self._sel.fileno()

    def next_deadline(self) -> float | None:
        """Monotonic time of the next timer (a pending start or a connection timeout), or None."""
        times = [s.up_ts for s in self.services.values() if s.state == "start"]
        for c in self.connections:
            if c.blocked_since is not None:
                times.append(c.blocked_since + (c.close_timeout if c.overflow else c.reset_timeout))
        return min(times) if times else None

    def running_services(self) -> list[str]:
        """Names of services whose process is alive, sorted."""
        return sorted(n for n, s in self.services.items() if s.running)

    def pending_signals(self) -> dict[str, list[float]]:
        """Uncleared signals: name -> receive timestamps (monotonic s), oldest first."""
        return {n: list(q) for n, q in self.signals.items() if q}

    def close(self) -> None:
        """Close every handle and connection (services keep running)."""
        for conn in list(self.connections):
            conn.close()
        self._close_listener()
        for svc in self.services.values():
            if svc.pidfd is not None:
                self._unset(svc.pidfd)
                os.close(svc.pidfd)
                svc.pidfd = None
        self.handles.close_all()
        if self._wake_r is not None:
            signal.set_wakeup_fd(-1)
            self._unset(self._wake_r.fileno())
            self._wake_r.close()
            self._wake_w.close()
            self._wake_r = self._wake_w = None
        self._sel.close()

    # ================================================================================ logging
    def log(self, level: str, msg: str) -> None:
        """Write ``LEVEL: msg`` to the log destination unless filtered (never blocks)."""
        lv = LOG_LEVELS.index(level)
        if lv <= self.log_level:
            return
        fd = self.log_fd
        if self.log_dest is not None:
            h = self.handles.get(self.log_dest)
            fd = h.fd if h is not None else -1
        if fd < 0:
            self.log_lost += 1
            return
        try:
            os.write(fd, f"{level}: {msg}\n".encode("utf-8", "replace"))
        except OSError:
            self.log_lost += 1

    # ================================================================================ selector
    def _set(self, fd: int, *, read=False, write=False) -> None:
        """Set (callable), clear (None) or keep (False) the read/write callbacks of *fd*."""
        cur = self._reg.get(fd, [None, None])
        new = [cur[0] if read is False else read, cur[1] if write is False else write]
        mask = (selectors.EVENT_READ if new[0] else 0) | (selectors.EVENT_WRITE if new[1] else 0)
        if fd in self._reg:
            if mask:
                self._sel.modify(fd, mask, new)
                self._reg[fd] = new
            else:
                self._sel.unregister(fd)
                del self._reg[fd]
        elif mask:
            self._sel.register(fd, mask, new)
            self._reg[fd] = new

    def _unset(self, fd: int) -> None:
        if fd in self._reg:
            self._sel.unregister(fd)
            del self._reg[fd]

    def _watch_write(self, conn: Connection, on: bool) -> None:
        if conn.wfd < 0:
            return
        cur = self._reg.get(conn.wfd)
        if on and (cur is None or cur[1] is None):
            try:
                self._set(conn.wfd, write=conn.flush)
            except PermissionError:
                pass
        elif not on and cur is not None and cur[1] is not None:
            self._set(conn.wfd, write=None)

    def _unwatch_read(self, conn: Connection) -> None:
        if conn.rfd >= 0 and conn.rfd in self._reg:
            self._set(conn.rfd, read=None)

    def _unwatch(self, conn: Connection) -> None:
        for fd in (conn.rfd, conn.wfd):
            if fd >= 0:
                self._unset(fd)

    def _connection_closed(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
        if conn is self.interactive:  # stdout went away: the session is over
            self.interactive = None
            self.log("info", "interactive session ended (event stream closed)")
            if not self.guard and self.exit_code is None:
                self.exit_code = 0
        if conn.service is not None and conn.service.controller is conn:
            conn.service.controller = None

    def _input_ended(self, conn: Connection) -> None:
        """Called by a connection whose command stream ended (end of input or ``exit``)."""
        if conn is not self.interactive:
            return
        self.interactive = None
        running = self.running_services()
        what = (f"{len(running)} service(s) still running: {', '.join(running)}" if running
                else "no services running")
        if self.guard:
            tail = "terminate-guard is set, so the proxy keeps running"
        else:
            tail = "exiting"
        conn.emit(join("info", f"end of input: interactive session ended; {what}; {tail}"))
        self.log("info", f"interactive session ended at end of input; {what}; {tail}")
        if not self.guard and self.exit_code is None:
            self.exit_code = 0

    def _to_devnull(self, name: str) -> None:
        h = self.handles.get(name)
        if h is not None:
            os.dup2(self.handles.get("null").fd, h.fd, inheritable=False)
            h.kind, h.flags, h.desc = "file", ["read", "write"], "/dev/null"

    def _broadcast(self, text: str) -> None:
        for conn in list(self.connections):
            conn.emit(text)

    # ================================================================================ signals
    def _install_signals(self) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        self._set(self._wake_r.fileno(), read=self._drain_wakeup)

        def record(signum, _frame):
            self._sig_incoming.append((signum, time.monotonic()))

        for name in TRIGGER_SIGNALS:
            signal.signal(getattr(signal, name), record)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select() through the wakeup fd

        def fatal(signum, _frame):
            raise FatalSignal(signum)

        for sig in _FATAL_SIGNALS:
            try:
                signal.signal(sig, fatal)
            except (OSError, ValueError):
                pass

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _drain_signals(self) -> None:
        if not self._sig_incoming:
            return
        incoming, self._sig_incoming = self._sig_incoming, []
        for signum, ts in incoming:
            name = signal_name(signum)
            q = self.signals.setdefault(name, collections.deque(maxlen=4096))
            q.append(ts)
            self._broadcast(join("signal", name, fmt_ts(ts), len(q)))
            for svc in list(self.services.values()):
                if name in svc.triggers and svc.state == "down":
                    self._schedule(svc, time.monotonic())

    def _replay_signals(self, conn: Connection) -> None:
        for name in sorted(self.signals):
            q = self.signals[name]
            if q:
                conn.emit(join("signal", name, fmt_ts(q[-1]), len(q)))

    def _signal_pending(self, svc: Service) -> bool:
        return any(self.signals.get(t) for t in svc.trigger_signals())

    # ================================================================================ services
    def _run_timers(self, now: float) -> float | None:
        """Start services whose time has come; apply connection timeouts.  Returns the next
        deadline (monotonic s) or None."""
        nxt = None
        for svc in list(self.services.values()):
            if svc.state == "start":
                if svc.up_ts <= now:
                    self._spawn(svc)
                else:
                    nxt = svc.up_ts if nxt is None else min(nxt, svc.up_ts)
        for conn in list(self.connections):
            d = conn.check_timeouts(now)
            if d is not None:
                nxt = d if nxt is None else min(nxt, d)
        return nxt

    def _schedule(self, svc: Service, when: float) -> None:
        """Enter state ``start`` at *when*; spawn at once if it is due."""
        now = time.monotonic()
        svc.state = "start"
        svc.up_ts = max(when, now)
        svc.pid = None
        svc.reap_ts = None
        svc.wstatus = None
        self._broadcast(svc.state_line(now))
        if svc.up_ts <= now:
            self._spawn(svc)

    def _autostart(self, svc: Service) -> None:
        """Restart *svc* if a trigger holds, no sooner than ``interval`` after its last start
        (daemonproxy ``svc_run``, state REAPED)."""
        if svc.state != "down" or not svc.argv:
            return
        if not (svc.auto_always or self._signal_pending(svc)):
            return
        now = time.monotonic()
        when = now if svc.last_start is None else max(now, svc.last_start + svc.interval)
        self._schedule(svc, when)

    def _spawn(self, svc: Service) -> None:
        now = time.monotonic()
        svc.last_start = now
        ctl_sock = child_sock = None
        try:
            uses = svc.uses_control()
            if uses:
                ctl_sock, child_sock = socket.socketpair()
            slots = []
            for name in svc.fds:
                if name == "-":
                    slots.append(-1)
                elif name.startswith("control."):
                    slots.append(child_sock.fileno())
                else:
                    h = self.handles.get(name)
                    if h is None or h.fd < 0:
                        raise CommandError(f'file descriptor "{name}" does not exist')
                    slots.append(h.fd)
            n = len(slots)
            base = max([n, 2] + slots) + 1
            actions = [(os.POSIX_SPAWN_DUP2, fd, base + i) for i, fd in enumerate(slots) if fd >= 0]
            for i, fd in enumerate(slots):
                if fd >= 0:
                    actions.append((os.POSIX_SPAWN_DUP2, base + i, i))
                    actions.append((os.POSIX_SPAWN_CLOSE, base + i))
                else:
                    actions.append((os.POSIX_SPAWN_CLOSE, i))
            actions += [(os.POSIX_SPAWN_CLOSE, i) for i in range(n, 3)]
            env = svc.environment(os.environ)
            try:
                pid = os.posix_spawnp(svc.argv[0], svc.argv, env, file_actions=actions,
                                      setpgroup=0, setsigdef=_RESET_SIGNALS)
            except OSError as e:
                raise CommandError(f"exec {svc.argv[0]!r} failed: {e.strerror}") from None
        except CommandError as e:
            for s in (ctl_sock, child_sock):
                if s is not None:
                    s.close()
            svc.state, svc.pid, svc.up_ts, svc.reap_ts = "down", None, now, now
            svc.wstatus, svc.spawn_error = SPAWN_FAILED_STATUS, str(e)
            self._broadcast(join("error", f"service {svc.name}: {e}"))
            self.log("error", f"service {svc.name}: {e}")
            self._broadcast(svc.state_line(now))
            self._autostart(svc)
            return
        svc.state, svc.pid, svc.up_ts, svc.reap_ts, svc.wstatus, svc.spawn_error = "up", pid, now, None, None, None
        if self._use_pidfd:
            try:
                svc.pidfd = os.pidfd_open(pid)
                self._set(svc.pidfd, read=lambda s=svc: self._child_event(s))
            except OSError:
                self._use_pidfd = False
                svc.pidfd = None
        if child_sock is not None:
            child_sock.close()
            self._attach_controller(svc, ctl_sock, uses)
        self._broadcast(svc.state_line(now))

    def _attach_controller(self, svc: Service, sock: socket.socket, uses: set[str]) -> None:
        """Wrap the proxy's end of a controller service's socketpair as a connection.  Unused
        directions are shut down so they act like single pipes (daemonproxy svc_do_fork)."""
        want_events = bool(uses & {"control.event", "control.socket"})
        want_cmds = bool(uses & {"control.cmd", "control.socket"})
        if not want_events:
            sock.shutdown(socket.SHUT_WR)
        fd = sock.fileno()
        # An events-only controller's side is still read, to notice when it goes away.
        conn = Connection(self, fd, fd if want_events else -1, label=f"controller {svc.name}",
                          sock=sock, event_buffer=self.event_buffer, commands=want_cmds)
        conn.service = svc
        svc.controller = conn
        self.connections.append(conn)
        sock.setblocking(False)
        self._set(fd, read=conn.on_readable)
        self._replay_signals(conn)

    def _child_event(self, svc: Service) -> None:
        self._reap(svc)

    def _poll_children(self) -> None:
        for svc in list(self.services.values()):
            if svc.running:
                self._reap(svc)

    def _reap(self, svc: Service) -> None:
        if not svc.running or svc.pid is None:
            return
        try:
            pid, status = os.waitpid(svc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = svc.pid, 0
        if pid == 0:
            return
        now = time.monotonic()
        if svc.pidfd is not None:
            self._unset(svc.pidfd)
            os.close(svc.pidfd)
            svc.pidfd = None
        svc.state, svc.reap_ts, svc.wstatus = "down", now, status
        self._broadcast(svc.state_line(now))
        self._autostart(svc)

    def _service(self, name: str, *, create: bool) -> Service:
        check_name(name, "service name")
        svc = self.services.get(name)
        if svc is None:
            if not create:
                raise CommandError(f"no such service {name!r}")
            svc = Service(name)
            self.services[name] = svc
        return svc

    # ================================================================================ control socket
    def _accept(self) -> None:
        try:
            s, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self._n_clients += 1
        s.setblocking(False)
        self.add_stream(s.fileno(), s.fileno(), label=f"socket client {self._n_clients}", sock=s)

    def _close_listener(self) -> None:
        if self.listener is not None:
            self._unset(self.listener.fileno())
            self.listener.close()
            try:
                os.unlink(self.listener_path)
            except OSError:
                pass
            self.listener = self.listener_path = None

    # ================================================================================ exit
    def exec_on_exit_now(self, code: int, reason: str) -> None:
        """Exec the exec-on-exit argv (if configured) in place of exiting.

        The program inherits the named handles (their numbers are listed in
        ``PYHTC_PROXY_FDS`` as ``name=fd,...``) and the running services as children
        (``PYHTC_PROXY_SERVICES`` = ``name=pid,...``); ``PYHTC_PROXY_EXITCODE`` and
        ``PYHTC_PROXY_ERROR`` (also exported under the daemonproxy names) say why.
        Returns only if there is nothing to exec or the exec failed."""
        if not self.exec_on_exit:
            return
        fds = []
        for h in self.handles.sorted():
            if h.fd >= 0:
                try:
                    os.set_inheritable(h.fd, True)
                    fds.append(f"{h.name}={h.fd}")
                except OSError:
                    pass
        env = dict(os.environ)
        env.update(PYHTC_PROXY_EXITCODE=str(code), PYHTC_PROXY_ERROR=reason,
                   DAEMONPROXY_EXITCODE=str(code), DAEMONPROXY_ERROR=reason,
                   PYHTC_PROXY_FDS=",".join(fds),
                   PYHTC_PROXY_SERVICES=",".join(f"{n}={self.services[n].pid}" for n in self.running_services()))
        self.log("warning", f"exec-on-exit to {self.exec_on_exit[0]!r} ({reason})")
        for sig in _RESET_SIGNALS + _FATAL_SIGNALS:
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        try:
            os.execvpe(self.exec_on_exit[0], self.exec_on_exit, env)
        except OSError as e:
            self.log("error", f"exec-on-exit {self.exec_on_exit[0]!r} failed: {e.strerror}")


class FatalSignal(Exception):
    """Raised from the handler of a fatal signal (SIGABRT, SIGSEGV, ...) to unwind the loop."""

    def __init__(self, signum: int):
        super().__init__(f"received signal {signal_name(signum)}")
        self.signum = signum
