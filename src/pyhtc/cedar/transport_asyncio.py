"""asyncio transport for CEDAR: a command server and a client, both thin drivers of the
sans-IO core (:mod:`pyhtc.cedar.framing`, :mod:`pyhtc.cedar.security.negotiation`).

Server API (the future DaemonCore command dispatcher)::

    async def handler(stream: CedarStream) -> None: ...
    server = CommandServer(policy, {Command.QUERY_STARTD_ADS: handler})
    await server.start("127.0.0.1", 0)        # TCP and UDP on the same port
    ... server.port ...
    await server.close()

or, per accepted connection, ``await serve_connection(reader, writer, policy, handlers,
sessions)``.  A handler gets a :class:`~pyhtc.cedar.stream.CedarStream` whose ``.peer`` is the
authenticated identity and ``.command`` the command number; UDP commands are delivered the
same way with a stream over the datagram's message (replies are impossible on UDP).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import socket
from typing import Awaitable, Callable

from .errors import CedarError, ConnectionClosed, ProtocolError
from .framing import DEFAULT_MAX_MESSAGE, ReliConnection
from .ops import Send
from .safesock import SafeSockReceiver
from .security.negotiation import CommandStart, Peer, server_handshake
from .security.policy import SecurityPolicy
from .security.sessions import SessionCache
from .stream import CedarStream

log = logging.getLogger("pyhtc.cedar")

Handler = Callable[[CedarStream], Awaitable[None]]
#: seconds to wait for each message from the peer (DaemonCore default command timeout-ish)
DEFAULT_TIMEOUT = 20.0


class _AsyncIO:
    """Message-level I/O over an asyncio stream pair for a ReliConnection."""

    def __init__(self, conn: ReliConnection, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, timeout: float):
        self.conn, self.reader, self.writer, self.timeout = conn, reader, writer, timeout

    async def recv_message(self):
        """The next message; raises TimeoutError when the peer sends nothing for
        :attr:`timeout` seconds.  (``asyncio.timeout``, not ``wait_for``: the read runs in
        this task instead of a new one, a saving on every message of a busy connection.)"""
        while True:
            msg = self.conn.next_message()
            if msg is not None:
                return msg
            async with asyncio.timeout(self.timeout):
                data = await self.reader.read(65536)
            self.conn.receive_data(data)

    async def send_bytes(self, data: bytes) -> None:
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def send_parts(self, parts) -> None:
        """Write the buffers of one packet in order (no join: the kernel takes what
        fits at once, the transport keeps the rest) and wait until the transport's
        buffer is drained below its high-water mark -- the pace of the peer's reading."""
        write = self.writer.write
        for data in parts:
            if data:
                write(data)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def drive(self, gen):
        """Run a sans-IO protocol generator to completion; returns its value."""
        value = None
        exc = None
        while True:
            try:
                op = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value = exc = None
            if isinstance(op, Send):
                await self.send_bytes(self.conn.send_message(op.payload))
            else:
                try:
                    value = await self.recv_message()
                except ConnectionClosed as e:
                    exc = e


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           policy: SecurityPolicy, handlers: dict[int, Handler],
                           sessions: SessionCache | None = None, *,
                           timeout: float = DEFAULT_TIMEOUT,
                           handshake_timeout: float = 2 * DEFAULT_TIMEOUT,
                           max_message: int = DEFAULT_MAX_MESSAGE) -> CommandStart | None:
    """Serve one accepted TCP connection: security handshake, then the command's handler.

    ``sessions`` must be shared between connections for session resumption (and with the
    UDP receiver); a private cache is used when omitted.  ``timeout`` bounds each read,
    ``handshake_timeout`` the whole security handshake (authentication included).  Returns the CommandStart (None when
    the handshake failed).  Never raises: protocol and security failures and handler bugs are
    logged and the connection is closed, as DaemonCore does.
    """
    if sessions is None:
        sessions = SessionCache()
    sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
    peername = writer.get_extra_info("peername") or ("?", 0)
    conn = ReliConnection(max_message=max_message)
    io = _AsyncIO(conn, reader, writer, timeout)
    start = None
    try:
        # the whole handshake gets one deadline, so a peer trickling bytes cannot hold the
        # connection open forever (each read alone is bounded by ``timeout``)
        start = await asyncio.wait_for(io.drive(server_handshake(
            conn, policy, sessions, my_ip=sock[0], my_port=sock[1],
            peer_address=f"{peername[0]}:{peername[1]}")), handshake_timeout)
        if not (start.session_only or start.finished):
            handler = handlers.get(start.command)
            if handler is None:
                log.info("no handler for command %d from %s", start.command, peername)
            else:
                await handler(CedarStream(conn, io, start, policy, (sock[0], sock[1])))
    except (CedarError, asyncio.TimeoutError, ConnectionError, OSError) as exc:
        log.info("connection from %s: %s", peername, exc)
    except Exception:  # a handler bug must not take the server down
        log.exception("handler for command %s from %s failed",
                      start.command if start else "?", peername)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass
    return start


class _UdpIO:
    """A stream source over one reassembled datagram message (no further messages)."""
    transport = "udp"

    async def recv_message(self):
        raise ProtocolError("read past the end of a UDP message")

    async def send_bytes(self, data: bytes) -> None:
        raise ProtocolError("cannot reply on a UDP command")

    async def close(self) -> None:
        return None


async def _resume(coro, yielded) -> None:
    """Finish a UDP handler coroutine that :meth:`CommandServer.dispatch_udp` started
    synchronously and that suspended on ``yielded`` (a future, or None for a bare yield)."""
    try:
        while True:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                await asyncio.wait((yielded,))
            yielded = coro.send(None)
    except StopIteration:
        return
    except asyncio.CancelledError:
        coro.close()
        raise


class CommandServer:
    """A TCP + UDP CEDAR command server on one port (DaemonCore's command socket).

    Args:
        policy: the server's SecurityPolicy.
        handlers: command number -> ``async def handler(stream)``.
        sessions: shared SessionCache (a new one by default).
        udp: also listen for SafeSock datagrams on the same port.
        max_connections: TCP connections served at once; more are closed at accept.

    ``served`` keeps the last 1000 CommandStarts (tests and statistics).
    """

    def __init__(self, policy: SecurityPolicy, handlers: dict[int, Handler],
                 sessions: SessionCache | None = None, *, udp: bool = True,
                 timeout: float = DEFAULT_TIMEOUT, max_connections: int = 1000):
        self.policy = policy
        self.handlers = handlers
        self.sessions = sessions if sessions is not None else SessionCache()
        self.timeout = timeout
        self.want_udp = udp
        self.udp = SafeSockReceiver(self.sessions)
        self._server: asyncio.base_events.Server | None = None
        self._udp_sock: socket.socket | None = None
        self._udp_queue: collections.deque = collections.deque()
        self._udp_queued_bytes = 0
        self._udp_scheduled = False
        self._tasks: set = set()
        self.host = "127.0.0.1"
        self.port = 0
        self.served: collections.deque[CommandStart] = collections.deque(maxlen=1000)
        #: SO_RCVBUF for the UDP socket in bytes (0 = the system default); the collector
        #: sets it from COLLECTOR_SOCKET_BUFSIZE
        self.udp_rcvbuf = 0
        #: the SO_RCVBUF the kernel granted (bytes, as getsockopt reports it; 0 before start)
        self.udp_rcvbuf_effective = 0
        #: datagrams read from the socket but not yet handled are held up to this many bytes
        #: (a burst then waits in memory instead of overflowing the kernel buffer); beyond
        #: it datagrams are dropped and counted in :attr:`udp_dropped`
        self.udp_backlog_bytes = 64 * 1024 * 1024
        self.udp_dropped = 0
        #: datagrams handled per event-loop turn before TCP connections get a turn
        self.udp_batch = 64
        #: where decoded UDP commands go (:meth:`set_udp_dispatcher`)
        self._udp_dispatch = self.dispatch_udp
        self.max_connections = max_connections
        self.active = 0

    async def _on_connect(self, reader, writer):
        if self.active >= self.max_connections:
            log.warning("refusing connection: %d connections active", self.active)
            writer.close()
            return
        self.active += 1
        try:
            start = await serve_connection(reader, writer, self.policy, self.handlers,
                                           self.sessions, timeout=self.timeout)
        finally:
            self.active -= 1
        if start is not None:
            self.served.append(start)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind TCP (and UDP) to host:port (port 0 = pick one; see :attr:`port`)."""
        self._server = await asyncio.start_server(self._on_connect, host, port)
        self.host = host
        self.port = self._server.sockets[0].getsockname()[1]
        if self.want_udp:
            self._udp_sock = self._open_udp(host, self.port)
            asyncio.get_running_loop().add_reader(self._udp_sock.fileno(), self._udp_readable)

    def _open_udp(self, host: str, port: int) -> socket.socket:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind(addr)
            if self.udp_rcvbuf:
                self._set_rcvbuf(sock, self.udp_rcvbuf)
            self.udp_rcvbuf_effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except BaseException:
            sock.close()
            raise
        return sock

    @staticmethod
    def _set_rcvbuf(sock: socket.socket, size: int) -> None:
        # Linux caps SO_RCVBUF at net.core.rmem_max (and reports twice the granted value);
        # a privileged daemon may exceed the cap with SO_RCVBUFFORCE, so the size the
        # configuration asks for (COLLECTOR_SOCKET_BUFSIZE) is really had
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        except OSError as exc:
            log.info("cannot set UDP receive buffer to %d: %s", size, exc)
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        force = getattr(socket, "SO_RCVBUFFORCE", None)
        if got < size and force is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, size)
            except OSError:
                pass
            got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if got < size:
            log.info("UDP receive buffer is %d bytes (asked for %d; the kernel limit is "
                     "net.core.rmem_max)", got, size)

    # -- UDP: drain the socket into memory, handle datagrams in batches ---------------------
    def _udp_drain(self) -> None:
        sock = self._udp_sock
        if sock is None:
            return
        queue = self._udp_queue
        limit = self.udp_backlog_bytes
        recv = sock.recvfrom
        for _ in range(4096):
            try:
                data, addr = recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP errors reported on the socket
                log.info("UDP receive: %s", exc)
                return
            if self._udp_queued_bytes + len(data) > limit:
                self.udp_dropped += 1
                continue
            queue.append((data, addr))
            self._udp_queued_bytes += len(data)

    def _udp_readable(self) -> None:
        self._udp_drain()
        if self._udp_queue and not self._udp_scheduled:
            self._udp_scheduled = True
            asyncio.get_running_loop().call_soon(self._udp_process)

    def _udp_process(self) -> None:
        self._udp_scheduled = False
        queue = self._udp_queue
        receive = self.udp.receive_datagram
        drain = self._udp_drain
        for _ in range(self.udp_batch):
            # empty the kernel buffer before each datagram is handled: reading is cheap, a
            # burst then waits in memory instead of overflowing the socket buffer
            drain()
            if not queue:
                break
            data, addr = queue.popleft()
            self._udp_queued_bytes -= len(data)
            try:
                done = receive(data, f"{addr[0]}:{addr[1]}")
            except CedarError as exc:
                log.info("bad datagram from %s: %s", addr, exc)
                continue
            if done is not None:
                self._udp_dispatch(done)
        drain()
        if queue and not self._udp_scheduled and self._udp_sock is not None:
            self._udp_scheduled = True
            asyncio.get_running_loop().call_soon(self._udp_process)

    def set_udp_dispatcher(self, dispatch: Callable) -> Callable:
        """Send every decoded UDP command (a :class:`~pyhtc.cedar.safesock.UdpCommand`) to
        ``dispatch(udp_cmd)`` instead of the registered handlers (a daemon's lean path for
        its busiest datagrams, e.g. the collector's ad updates); returns
        :meth:`dispatch_udp`, which ``dispatch`` calls for the commands it does not take."""
        self._udp_dispatch = dispatch
        return self.dispatch_udp

    def dispatch_udp(self, udp_cmd) -> None:
        """Run the command's handler; it normally completes without suspending (a UDP stream
        has nothing to wait for), so it is stepped here directly instead of paying for a
        task per datagram.  A handler that does suspend is finished in a task."""
        coro = self._run_udp(udp_cmd)
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
        except Exception:
            log.exception("UDP handler for command %d failed", udp_cmd.command)
            return
        task = asyncio.ensure_future(_resume(coro, yielded))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def sinful(self) -> str:
        """``<host:port>`` of the command socket."""
        return f"<{self.host}:{self.port}>"

    async def _run_udp(self, udp_cmd) -> None:
        handler = self.handlers.get(udp_cmd.command)
        start = CommandStart(udp_cmd.command, udp_cmd.peer, udp_cmd.session is not None,
                             session=udp_cmd.session, payload=udp_cmd.payload)
        self.served.append(start)
        if handler is None:
            return
        conn = ReliConnection()
        try:
            await handler(CedarStream(conn, _UdpIO(), start, self.policy,
                                      (self.host, self.port)))
        except CedarError as exc:
            log.info("UDP command %d: %s", udp_cmd.command, exc)
        except Exception:
            log.exception("UDP handler for command %d failed", udp_cmd.command)

    async def close(self) -> None:
        if self._udp_sock is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._udp_sock.fileno())
            except (RuntimeError, ValueError):
                pass
            self._udp_sock.close()
            self._udp_sock = None
            self._udp_queue.clear()
            self._udp_queued_bytes = 0
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()


async def open_command(host: str, port: int, command: int, policy: SecurityPolicy, *,
                       cache=None, timeout: float = DEFAULT_TIMEOUT, claim_user=None):
    """asyncio client: connect and start ``command``; returns a CedarStream for its payload
    (``await stream.close()`` when done).

    With negotiation NEVER/OPTIONAL the stream's first ``end_of_message`` carries the raw
    command int in front of the payload (PROTOCOL.md 4.1).
    """
    from .security.negotiation import client_start_command
    from .security.policy import Level
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    conn = ReliConnection()
    io = _AsyncIO(conn, reader, writer, timeout)
    raw = policy.negotiation in (Level.NEVER, Level.OPTIONAL)
    peer = Peer(None, None, f"{host}:{port}")
    if raw:
        start = CommandStart(command, peer, False)
        stream = CedarStream(conn, io, start, policy)
        stream.put_int(command)
    else:
        result = await io.drive(client_start_command(
            conn, command, policy, server_address=f"{host}:{port}", cache=cache,
            claim_user=claim_user))
        start = CommandStart(command, peer, True, session=result.session)
        stream = CedarStream(conn, io, start, policy)
    return stream
