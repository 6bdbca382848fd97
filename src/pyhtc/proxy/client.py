"""Controller-side client for the pyhtc-proxy line protocol.

A controller is anything that sends commands and reads events: a service started with
``control.event`` on fd 0 and ``control.cmd`` on fd 1 (:meth:`ProxyClient.from_stdio`), a
client of the control socket (:meth:`ProxyClient.connect`), or the parent of an interactive
proxy (:meth:`ProxyClient.spawn`).  The usual controller loop::

    cli = ProxyClient.connect("/run/proxy.sock")
    state = cli.resync()                    # statedump -> ProxyState
    cli.send("service.start", "web")
    while True:
        ev = cli.read_event(timeout=5)      # ['service.state', 'web', 'down', ...]
        state.apply(ev)
        if state.overflowed:                # events were dropped: rebuild the view
            state = cli.resync()
"""
from __future__ import annotations

import array
import itertools
import os
import select
import socket
import subprocess
import sys
import time

_tokens = itertools.count(1)


class ProxyClient:
    """A connection to a proxy: *rfd* carries events to us, *wfd* carries our commands.

    Attributes: ``proc`` (the :class:`subprocess.Popen` for :meth:`spawn`), ``sock`` (for the
    socket transport).  Methods raise ``TimeoutError`` when a wait expires and
    ``ConnectionError`` when the proxy closes the stream during a wait.
    """

    def __init__(self, rfd: int, wfd: int, *, sock: socket.socket | None = None, proc=None):
        self.rfd, self.wfd, self.sock, self.proc = rfd, wfd, sock, proc
        self._buf = bytearray()
        self.eof = False
        self.backlog: list[list[str]] = []

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def connect(cls, path: str, timeout: float = 5.0) -> "ProxyClient":
        """Connect to the control socket at *path* (retrying until it exists, up to *timeout*)."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return cls(s.fileno(), s.fileno(), sock=s)
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @classmethod
    def from_stdio(cls) -> "ProxyClient":
        """For a controller service whose fds are ``control.event control.cmd ...``."""
        return cls(0, 1)

    @classmethod
    def spawn(cls, *args: str, env: dict | None = None, stderr=None, cwd=None) -> "ProxyClient":
        """Start ``python -m pyhtc.proxy.cli -i ARGS...`` and talk to it over its stdin/stdout."""
        proc = subprocess.Popen([sys.executable, "-m", "pyhtc.proxy.cli", "-i", *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                env=env, cwd=cwd)
        return cls(proc.stdout.fileno(), proc.stdin.fileno(), proc=proc)

    # -- sending ----------------------------------------------------------------------------------
    def send(self, *fields: object) -> None:
        """Send one command (fields are joined with TABs)."""
        self.send_raw("\t".join(str(f) for f in fields) + "\n")

    def send_raw(self, text: str | bytes) -> None:
        """Send raw bytes/text (may hold several lines, or none)."""
        data = text.encode() if isinstance(text, str) else text
        view = memoryview(data)
        while view:
            n = self.sock.send(view) if self.sock is not None else os.write(self.wfd, view)
            view = view[n:]

    def send_fd(self, name: str, fd: int) -> None:
        """``fd.take NAME`` with *fd* attached (SCM_RIGHTS); socket transport only."""
        if self.sock is None:
            raise ValueError("fd passing needs the socket transport")
        self.sock.sendmsg([f"fd.take\t{name}\n".encode()],
                          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])

    # -- receiving --------------------------------------------------------------------------------
    def read_event(self, timeout: float | None = 5.0) -> list[str] | None:
        """Next event as a list of fields (backlog first); None at end of stream."""
        if self.backlog:
            return self.backlog.pop(0)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl]).decode("utf-8", "replace")
                del self._buf[: nl + 1]
                return line.split("\t")
            if self.eof:
                return None
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise TimeoutError("no event from the proxy in time")
            r, _, _ = select.select([self.rfd], [], [], wait)
            if r:
                data = os.read(self.rfd, 65536)
                if not data:
                    self.eof = True
                self._buf += data

    def wait_for(self, match, timeout: float = 5.0) -> list[str]:
        """Read until an event matches; *match* is a callable(fields) or a tuple/list of
        leading fields (``("service.state", "web", "up")``).  Events read before it are kept in
        :attr:`seen` (cleared on each call)."""
        if not callable(match):
            prefix = list(match)
            match = lambda ev: ev[: len(prefix)] == prefix  # noqa: E731
        deadline = time.monotonic() + timeout
        self.seen = []
        while True:
            ev = self.read_event(max(0.0, deadline - time.monotonic()))
            if ev is None:
                raise ConnectionError(f"proxy closed the event stream; seen: {self.seen[-5:]}")
            if match(ev):
                return ev
            self.seen.append(ev)

    def sync(self, timeout: float = 5.0) -> list[list[str]]:
        """Barrier: send ``echo`` with a unique token and return the events that came first."""
        token = f"sync-{os.getpid()}-{next(_tokens)}"
        self.send("echo", token)
        self.wait_for((token,), timeout)
        return self.seen

    def resync(self, timeout: float = 5.0) -> "ProxyState":
        """``statedump`` and rebuild a :class:`ProxyState` from the replayed events."""
        self.send("statedump")
        state = ProxyState()
        for ev in self.sync(timeout):
            state.apply(ev)
        state.overflowed = False
        return state

    def close(self) -> None:
        """Close our end(s); for :meth:`spawn`, this is end of input for the proxy."""
        if self.sock is not None:
            self.sock.close()
        elif self.proc is not None:
            self.proc.stdin.close()
        self.rfd = self.wfd = -1


class ProxyState:
    """A controller's picture of the proxy, built by applying events.

    ``services``: name -> dict with keys state, ts, pid, exit_reason, exit_value, uptime,
    downtime (strings as sent, ``-`` for n/a), args, fds, tags, auto_up, env (lists).
    ``fds``: name -> [type, flags, description].  ``signals``: name -> (ts, count).
    ``overflowed`` becomes True on an ``overflow`` event (the controller must resync).
    """

    def __init__(self):
        self.services: dict[str, dict] = {}
        self.fds: dict[str, list[str]] = {}
        self.signals: dict[str, tuple[str, int]] = {}
        self.overflowed = False

    def apply(self, ev: list[str]) -> None:
        """Update the picture with one event; unknown events are ignored."""
        kind = ev[0] if ev else ""
        if kind == "overflow":
            self.overflowed = True
        elif kind == "fd.state" and len(ev) >= 3:
            if ev[2] == "deleted":
                self.fds.pop(ev[1], None)
            else:
                self.fds[ev[1]] = ev[2:]
        elif kind == "signal" and len(ev) >= 4:
            self.signals[ev[1]] = (ev[2], int(ev[3]))
        elif kind == "service.state" and len(ev) >= 9:
            if ev[2] == "deleted":
                self.services.pop(ev[1], None)
                return
            svc = self.services.setdefault(ev[1], {})
            svc.update(zip(("state", "ts", "pid", "exit_reason", "exit_value", "uptime", "downtime"), ev[2:9]))
        elif kind in ("service.args", "service.fds", "service.tags", "service.auto_up", "service.env") and len(ev) >= 2:
            self.services.setdefault(ev[1], {})[kind.split(".", 1)[1]] = ev[2:]
