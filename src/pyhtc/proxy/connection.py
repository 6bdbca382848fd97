"""Controller connections: where commands come from and events go to.

A connection is a command source (config file, stdin, a control-socket client, or the
``control.cmd``/``control.event`` socketpair of a controller service) with an optional event
sink.  Memory is bounded both ways, following daemonproxy ``src/controller.c``:

* input: a line longer than :data:`~pyhtc.proxy.protocol.LINE_MAX` is discarded up to its
  newline and answered with ``error<TAB>line too long``; later commands work again;
* output: at most ``event_buffer`` bytes of events are queued.  An event that does not fit, or
  any event once the peer has not read for ``reset_timeout`` seconds, is dropped and the
  connection is flagged; when the queue has drained the proxy writes ``overflow`` and the
  controller must send ``statedump`` to resynchronise.  A peer that has not read for
  ``close_timeout`` seconds is disconnected.  Both timeouts are set with ``conn.event_timeout``.
"""
from __future__ import annotations

import array
import os
import socket
import time

from .protocol import LINE_MAX, join

#: Default event queue limit per connection, bytes.
EVENT_BUFFER = 64 * 1024
#: Defaults for conn.event_timeout (daemonproxy CONTROLLER_WRITE_TIMEOUT is 30 s, reset at half).
RESET_TIMEOUT = 15.0
CLOSE_TIMEOUT = 30.0


class Connection:
    """A command/event stream over descriptors.

    *rfd* is read for commands (-1: none), *wfd* receives events (-1: none); they may be the
    same socket (*sock* given, which enables fd passing with SCM_RIGHTS).  *label* names the
    connection in log messages; *origin* (a file name) makes error messages read ``FILE:LINE``.
    *final_newline* accepts a last line without a newline (config files).  With
    *commands* False, input is read only to notice the end of the stream (events-only peers).
    """

    def __init__(self, sup, rfd: int, wfd: int, *, label: str, sock: socket.socket | None = None,
                 origin: str | None = None, final_newline: bool = False, event_buffer: int = EVENT_BUFFER,
                 commands: bool = True):
        self.sup = sup
        self.rfd = rfd
        self.wfd = wfd
        self.sock = sock
        self.label = label
        self.origin = origin
        self.final_newline = final_newline
        self.inbuf = bytearray()
        self.discarding = False
        self.discard_head = b""
        self.lineno = 0
        self.outbuf = bytearray()
        self.event_buffer = event_buffer
        self.overflow = False
        self.blocked_since: float | None = None
        self.reset_timeout = RESET_TIMEOUT
        self.close_timeout = CLOSE_TIMEOUT
        self.input_done = rfd < 0
        self.closed = False
        self.passed_fds: list[int] = []
        self.service = None  # the controller service this connection belongs to, if any
        # False for an events-only controller: its input is only watched for end of stream
        self.commands = commands

    # -- input ------------------------------------------------------------------------------------
    def on_readable(self) -> None:
        """Read what is available and execute every complete line."""
        try:
            if self.sock is not None:
                data = self._recv_with_fds()
            else:
                data = os.read(self.rfd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.sup.log("error", f"{self.label}: read failed: {e.strerror}")
            data = b""
        if not data:
            self.end_of_input()
            return
        self.feed(data)

    def _recv_with_fds(self) -> bytes:
        fds = array.array("i")
        data, anc, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(8 * fds.itemsize))
        for level, typ, payload in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        for fd in fds:
            os.set_inheritable(fd, False)
            if len(self.passed_fds) < 4:
                self.passed_fds.append(fd)
            else:
                self.sup.log("error", f"{self.label}: no room for passed descriptor {fd}; closed")
                os.close(fd)
        return data

    def feed(self, data: bytes) -> None:
        """Append *data* to the input buffer and execute complete lines."""
        if not self.commands:
            return
        self.inbuf += data
        while not self.closed:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                if len(self.inbuf) > LINE_MAX:
                    if not self.discarding:
                        self.discarding = True
                        self.discard_head = bytes(self.inbuf[:40])
                    del self.inbuf[:]
                return
            raw = bytes(self.inbuf[:nl])
            del self.inbuf[: nl + 1]
            self.lineno += 1
            if self.discarding:
                self.discarding = False
                head = self.discard_head
                self.discard_head = b""
                if not head.startswith(b"#"):
                    self.sup.command_failed(self, "line too long (limit %d bytes)" % LINE_MAX,
                                            head.decode("utf-8", "replace"))
                continue
            if len(raw) > LINE_MAX and not raw.startswith(b"#"):
                self.sup.command_failed(self, "line too long (limit %d bytes)" % LINE_MAX,
                                        raw[:40].decode("utf-8", "replace"))
                continue
            self.sup.execute(self, raw.decode("utf-8", "replace"))
            if self.input_done:
                return

    def end_of_input(self) -> None:
        """The command stream ended: run a final unterminated line if allowed, then close once
        the events queued so far are written."""
        if self.input_done:
            return
        if self.inbuf and not self.discarding:
            if self.final_newline:
                self.sup.log("warning", f"{self.where()}: command ends at end of file; processing anyway")
                self.feed(b"\n")
            else:
                self.sup.log("warning", f"{self.where()}: command ends at end of input; ignored")
        self.inbuf.clear()
        self.stop_input()

    def stop_input(self) -> None:
        """Stop reading commands (``exit`` or end of input); close when output is flushed."""
        if self.input_done:
            return
        self.input_done = True
        self.sup._input_ended(self)
        self.sup._unwatch_read(self)
        if self.rfd >= 0 and self.rfd != self.wfd and self.sock is None:
            if self.rfd > 2:
                try:
                    os.close(self.rfd)
                except OSError:
                    pass
        self.rfd = -1
        if not self.outbuf or self.wfd < 0:
            self.close()

    def where(self) -> str:
        """``FILE:LINE`` for config files, else ``LABEL line N``."""
        if self.origin:
            return f"{self.origin}:{self.lineno}"
        return f"{self.label} line {self.lineno}"

    # -- output -----------------------------------------------------------------------------------
    def emit(self, text: str, *, force: bool = False) -> None:
        """Queue one event line.  Dropped (and the overflow flag set) when the queue is full or
        the peer is late; *force* (statedump replies) bypasses the size limit."""
        if self.closed or self.wfd < 0:
            return
        if self.overflow:
            return
        data = text.encode("utf-8", "replace")
        if not force and len(self.outbuf) + len(data) > self.event_buffer:
            self.overflow = True
            self.sup.log("warning", f"{self.label}: event queue full; overflow")
            self.flush()
            return
        self.outbuf += data
        self.flush()

    def flush(self) -> bool:
        """Write queued events without blocking; True when everything is written."""
        while not self.closed:
            if not self.outbuf:
                if not self.overflow:
                    break
                # everything queued before the loss is out: now tell the controller
                self.overflow = False
                self.outbuf += b"overflow\n"
            try:
                n = os.write(self.wfd, self.outbuf) if self.sock is None else self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as e:
                self.sup.log("debug", f"{self.label}: event write failed: {e.strerror}")
                self.outbuf.clear()
                self.close()
                return True
            if n <= 0:
                if self.blocked_since is None:
                    self.blocked_since = time.monotonic()
                self.sup._watch_write(self, True)
                return False
            del self.outbuf[:n]
            self.blocked_since = None
        self.blocked_since = None
        if not self.closed:
            self.sup._watch_write(self, False)
            if self.input_done:
                self.close()
        return True

    def check_timeouts(self, now: float) -> float | None:
        """Apply conn.event_timeout; returns when to check again (monotonic s) or None."""
        if self.blocked_since is None or self.closed:
            return None
        late = now - self.blocked_since
        if late >= self.close_timeout:
            self.sup.log("error", f"{self.label}: events not read for {late:.0f} s; closing connection")
            self.close()
            return None
        if late >= self.reset_timeout:
            if not self.overflow:
                self.sup.log("warning", f"{self.label}: events not read for {late:.0f} s; overflow")
                self.overflow = True
            return self.blocked_since + self.close_timeout
        return self.blocked_since + self.reset_timeout

    # -- lifetime ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close both directions and tell the supervisor."""
        if self.closed:
            return
        self.closed = True
        self.sup._unwatch(self)
        if self.sock is not None:
            self.sock.close()
        else:
            for fd in {self.rfd, self.wfd}:
                if fd > 2:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        for fd in self.passed_fds:
            os.close(fd)
        self.passed_fds.clear()
        self.rfd = self.wfd = -1
        self.sup._connection_closed(self)

    def take_passed_fd(self) -> int | None:
        """Pop the oldest descriptor received with SCM_RIGHTS (for ``fd.take``)."""
        return self.passed_fds.pop(0) if self.passed_fds else None


class LocalController(Connection):
    """An in-process controller: commands are method calls, events are callbacks.

    Created by :meth:`pyhtc.proxy.Supervisor.attach`.  ``send("service.start", "web")`` runs
    the command at once; replies (``echo``, ``error``, ``statedump`` lines) and broadcast events
    are passed to ``on_event(fields)`` as lists of strings, synchronously, in order.
    """

    def __init__(self, sup, on_event, *, label: str = "local"):
        super().__init__(sup, -1, -1, label=label)
        self.on_event = on_event
        self.input_done = False

    def send(self, *fields: str) -> None:
        """Execute one command given as fields (``send("echo", "x")``)."""
        if self.closed:
            raise RuntimeError("controller is detached")
        self.lineno += 1
        self.sup.execute(self, "\t".join(fields))

    def send_line(self, line: str) -> None:
        """Execute one TAB-separated command line."""
        if self.closed:
            raise RuntimeError("controller is detached")
        self.lineno += 1
        self.sup.execute(self, line.rstrip("\n"))

    def emit(self, text: str, *, force: bool = False) -> None:
        if not self.closed:
            self.on_event(text.rstrip("\n").split("\t"))

    def flush(self) -> bool:
        return True

    def stop_input(self) -> None:
        self.input_done = True
        self.sup._input_ended(self)
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sup._connection_closed(self)

    def detach(self) -> None:
        """Stop receiving events."""
        self.close()


def event(*fields) -> str:
    """Shorthand for :func:`pyhtc.proxy.protocol.join`."""
    return join(*fields)
