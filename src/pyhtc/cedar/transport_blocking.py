"""Blocking (socket) client transport for CEDAR, a thin driver of the sans-IO core.

    with start_command("127.0.0.1", 9618, Command.QUERY_STARTD_ADS, policy) as s:
        s.put_ad(query).end_of_message()
        while s.get_int():
            ads.append(s.get_ad())
        s.end_of_message()

UDP: :func:`send_udp_command` sends one SafeSock message, under a session when the cache has
one for (address, command) -- get one first with :func:`udp_session` (the TCP "session-only"
DC_AUTHENTICATE, PROTOCOL.md 7.2).
"""
from __future__ import annotations

import os
import socket

from .codec import Decoder, Encoder
from .commands import Command
from .errors import ConnectionClosed
from .framing import ReliConnection
from .ops import Send
from .safesock import LOOPBACK_FRAGMENT_SIZE, NETWORK_FRAGMENT_SIZE, encode_udp_command
from .security.negotiation import ClientResult, ClientSessionCache, client_start_command
from .security.policy import Level, SecurityPolicy
from .wire_ad import WireAd, get_ad, put_ad

DEFAULT_TIMEOUT = 20.0


class BlockingStream:
    """A client command stream over a blocking socket.

    Attributes:
        command: the command number; result: the ClientResult of startCommand (session, ...).
    """

    def __init__(self, sock: socket.socket, conn: ReliConnection, command: int):
        self.sock = sock
        self.conn = conn
        self.command = command
        self.result: ClientResult | None = None
        self._in: Decoder | None = None
        self._out: Encoder | None = None

    # -- I/O ----------------------------------------------------------------------------------
    def _recv_message(self):
        while True:
            msg = self.conn.next_message()
            if msg is not None:
                return msg
            data = self.sock.recv(65536)
            self.conn.receive_data(data)

    def _drive(self, gen):
        value = exc = None
        while True:
            try:
                op = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value = exc = None
            if isinstance(op, Send):
                self.sock.sendall(self.conn.send_message(op.payload))
            else:
                try:
                    value = self._recv_message()
                except ConnectionClosed as e:
                    exc = e

    # -- Stream API ---------------------------------------------------------------------------
    def _dec(self) -> Decoder:
        if self._in is None:
            self._in = self._recv_message().decoder()
        return self._in

    def _enc(self) -> Encoder:
        if self._out is None:
            self._out = self.conn.encoder()
        return self._out

    def get_int(self) -> int:
        """Read an 8-byte integer (blocks for the next message if needed)."""
        return self._dec().get_int()

    def get_double(self) -> float:
        """Read a double."""
        return self._dec().get_double()

    def get_string(self) -> str:
        """Read a string."""
        return self._dec().get_string()

    def get_ad(self, **kw) -> WireAd:
        """Read a wire ClassAd."""
        return get_ad(self._dec(), **kw)

    def get_char(self) -> int:
        """Read one byte (a CEDAR char)."""
        return self._dec().get_char()

    def peek_end_of_message(self) -> bool:
        """True when the current incoming message has been read to its end (reads the next
        message first if none is being read)."""
        return not self._dec().remaining

    def put_char(self, v: int) -> "BlockingStream":
        """Append one byte (a CEDAR char, e.g. QMGMT SetAttribute flags)."""
        self._enc().put_char(v)
        return self

    def put_int(self, v: int) -> "BlockingStream":
        """Append an 8-byte integer to the outgoing message."""
        self._enc().put_int(v)
        return self

    def put_double(self, v: float) -> "BlockingStream":
        """Append a double."""
        self._enc().put_double(v)
        return self

    def put_string(self, v: str | None) -> "BlockingStream":
        """Append a string."""
        self._enc().put_string(v)
        return self

    def put_ad(self, ad: WireAd, **kw) -> "BlockingStream":
        """Append a wire ClassAd (options as :func:`pyhtc.cedar.wire_ad.put_ad`)."""
        put_ad(self._enc(), ad, **kw)
        return self

    def end_of_message(self) -> "BlockingStream":
        """Send what was put; or, with nothing put, check the incoming message is consumed."""
        if self._out is not None and len(self._out):
            data, self._out = self._out.data, None
            self.sock.sendall(self.conn.send_message(data))
        else:
            self._out = None
            if self._in is not None:
                dec, self._in = self._in, None
                dec.finish()
        return self

    def authenticate(self, policy: SecurityPolicy, *, claim_user: str | None = None) -> str:
        """Client side of forced authentication on the command stream (PROTOCOL.md 5 path
        (b): ACT_ON_JOBS, QMGMT_WRITE_CMD... on an unauthenticated session).  Returns the
        method used; raises SecurityError on failure."""
        from .errors import SecurityError
        from .security import authentication
        prefix = b""
        if self._out is not None and len(self._out):
            # a raw command int shares its message with the first bitmask (e22)
            prefix, self._out = self._out.data, None
        host, port = self.sock.getpeername()[:2]
        result = self._drive(authentication.client(
            self.conn, policy.auth_methods, server_ip=host, server_port=port,
            claim_user=claim_user or f"{os.environ.get('USER', 'nobody')}@{policy.uid_domain}",
            token=policy.token, ssl_config=policy.ssl, prefix=prefix))
        if result.method is None:
            raise SecurityError("forced authentication failed with every method")
        return result.method

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def __enter__(self) -> "BlockingStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_command(host: str, port: int, command: int, policy: SecurityPolicy | None = None, *,
                  cache: ClientSessionCache | None = None, timeout: float = DEFAULT_TIMEOUT,
                  claim_user: str | None = None, auth_command: int | None = None,
                  max_message: int | None = None) -> BlockingStream:
    """Connect to host:port and start ``command`` (raw or negotiated per ``policy``).

    For a raw command, the command int is put in front of the first payload message.
    Raises SecurityError/ProtocolError/ConnectionClosed/OSError on failure.
    """
    policy = policy or SecurityPolicy.from_env("CLIENT")
    sock = socket.create_connection((host, port), timeout=timeout)
    # a client may accept larger replies than a server accepts requests (a collector's
    # whole-pool query reply is one message: HTCondor puts no limit on it)
    conn = ReliConnection() if max_message is None else ReliConnection(max_message=max_message)
    stream = BlockingStream(sock, conn, command)
    try:
        if policy.negotiation in (Level.NEVER, Level.OPTIONAL):
            stream.put_int(command)
        else:
            stream.result = stream._drive(client_start_command(
                conn, command, policy, server_address=f"{host}:{port}", cache=cache,
                auth_command=auth_command, claim_user=claim_user))
    except BaseException:
        sock.close()
        raise
    return stream


def udp_session(host: str, port: int, command: int, policy: SecurityPolicy,
                cache: ClientSessionCache, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """TCP session-only handshake (``Command = 60010, AuthCommand = command``) so later UDP
    datagrams for ``command`` can use the session (PROTOCOL.md 7.2)."""
    if cache.lookup(f"{host}:{port}", command) is not None:
        return
    with start_command(host, port, int(Command.DC_AUTHENTICATE), policy, cache=cache,
                       timeout=timeout, auth_command=command):
        pass


def send_udp_command(host: str, port: int, command: int, payload_writer=None, *,
                     cache: ClientSessionCache | None = None, cipher: str = "BLOWFISH",
                     fragment_size: int | None = None) -> int:
    """Send one UDP command (no reply exists).  Returns the number of datagrams sent."""
    session = cache.lookup(f"{host}:{port}", command) if cache is not None else None
    if fragment_size is None:
        fragment_size = LOOPBACK_FRAGMENT_SIZE if host.startswith("127.") else \
            NETWORK_FRAGMENT_SIZE
    datagrams = encode_udp_command(command, payload_writer, session=session,
                                   connect_sinful=f"<{host}:{port}>", cipher=cipher,
                                   fragment_size=fragment_size)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                       socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, (host, port))
    return len(datagrams)
