"""The per-command stream handed to command handlers (the Python face of HTCondor's
ReliSock/Stream: code()/end_of_message(); src/condor_io/stream.cpp, reli_sock.cpp).

A handler reads the command payload with ``get_*`` calls and writes its reply with ``put_*``
calls, delimiting messages with :meth:`end_of_message`.  The class is transport-neutral: it
needs an object with ``async recv_message()`` and ``async send_bytes(data)`` (see
:mod:`pyhtc.cedar.transport_asyncio`).
"""
from __future__ import annotations

from itertools import chain as _chain

from .codec import Decoder, Encoder
from .framing import ReliConnection
from .security.negotiation import CommandStart, Peer
from .wire_ad import WireAd, get_ad, put_ad


class CedarStream:
    """An authenticated (possibly encrypted) command stream.

    Attributes:
        command: the command number being served.
        peer: :class:`~pyhtc.cedar.security.negotiation.Peer` (user, method, address).
        session: the security session or None (raw command).
        encrypted: whether AES-GCM is on.
    """

    def __init__(self, conn: ReliConnection, io, start: CommandStart, policy=None,
                 my_addr: tuple[str, int] = ("127.0.0.1", 0)):
        self.conn = conn
        self._io = io
        self.command = start.command
        self.peer: Peer = start.peer
        self.session = start.session
        self.policy = policy
        self.my_addr = my_addr
        self._in: Decoder | None = start.payload
        self._out: Encoder | None = None
        #: "tcp" or "udp"
        self.transport = getattr(io, "transport", "tcp")

    @property
    def encrypted(self) -> bool:
        """True when AES-GCM is on for this connection."""
        return self.conn.crypto_mode

    async def _decoder(self) -> Decoder:
        if self._in is None:
            msg = await self._io.recv_message()
            self._in = msg.decoder()
        return self._in

    async def get_int(self) -> int:
        """Read an 8-byte integer (waits for the next message if needed)."""
        return (await self._decoder()).get_int()

    async def get_char(self) -> int:
        """Read one raw byte."""
        return (await self._decoder()).get_char()

    async def get_double(self) -> float:
        """Read a double (two integers)."""
        return (await self._decoder()).get_double()

    async def get_string(self) -> str:
        """Read a string (clear or crypto-mode encoding, as the connection is)."""
        return (await self._decoder()).get_string()

    async def get_bytes(self, n: int) -> bytes:
        """Read ``n`` raw bytes."""
        return (await self._decoder()).get_bytes(n)

    async def get_ad(self, **kw) -> WireAd:
        """Read one wire ClassAd (see :func:`pyhtc.cedar.wire_ad.get_ad`)."""
        return get_ad(await self._decoder(), **kw)

    async def peek_end_of_message(self) -> bool:
        """True if the current incoming message is fully consumed."""
        return (await self._decoder()).at_end()

    def _encoder(self) -> Encoder:
        if self._out is None:
            self._out = self.conn.encoder()
        return self._out

    def put_int(self, v: int) -> "CedarStream":
        """Append an 8-byte integer to the outgoing message."""
        self._encoder().put_int(v)
        return self

    def put_char(self, v: int) -> "CedarStream":
        """Append one raw byte."""
        self._encoder().put_char(v)
        return self

    def put_double(self, v: float) -> "CedarStream":
        """Append a double."""
        self._encoder().put_double(v)
        return self

    def put_string(self, v: str | None) -> "CedarStream":
        """Append a string."""
        self._encoder().put_string(v)
        return self

    def put_bytes(self, v: bytes) -> "CedarStream":
        """Append raw bytes (send their length first)."""
        self._encoder().put_bytes(v)
        return self

    def put_ad(self, ad: WireAd, **kw) -> "CedarStream":
        """Write one wire ClassAd (options as :func:`pyhtc.cedar.wire_ad.put_ad`)."""
        put_ad(self._encoder(), ad, **kw)
        return self

    async def end_of_message(self) -> None:
        """Flush what was put as one message; if nothing was put, finish the incoming message
        (all its bytes must have been read, else ProtocolError)."""
        if self._out is not None and len(self._out):
            data = self.conn.send_message(self._out.data)
            self._out = None
            await self._io.send_bytes(data)
            return
        self._out = None
        if self._in is not None:
            dec, self._in = self._in, None
            dec.finish()

    async def put_message(self, payload: bytes, *, big_packets: bool = False) -> None:
        """Send ``payload`` (bytes already encoded in this stream's mode, e.g. wire ads)
        after whatever was put, as one message -- :meth:`put_bytes` + :meth:`end_of_message`
        without copying the payload into the encoder.  ``big_packets`` sends packets of up
        to 1 MiB (:data:`~pyhtc.cedar.framing.BIG_CHUNK`; reli_sock.cpp receivers accept
        them) instead of the C++ sender's 4 KiB: a 60 MB query reply then takes 60 packets,
        not 15,000."""
        from .framing import BIG_CHUNK
        if self._out is not None and len(self._out):
            payload = self._out.data + payload
        self._out = None
        data = self.conn.send_message(payload, BIG_CHUNK if big_packets else None)
        await self._io.send_bytes(data)

    async def put_message_parts(self, pieces, *, big_packets: bool = False) -> None:
        """Send whatever was put, then ``pieces`` (an iterable of bytes-like objects
        already encoded in this stream's mode, e.g. ``int 1`` + wire ad per query result),
        as one message, each packet written as soon as it is made
        (:meth:`~pyhtc.cedar.framing.ReliConnection.message_packets`): the payload is
        never joined whole, and the peer receives the first packets while the rest are
        still being made (reli_sock.cpp reads and decrypts packets as they arrive, and
        decodes once the last is in).  ``pieces`` may be a generator: it is consumed as
        the packets go.  ``big_packets`` as in :meth:`put_message`."""
        from .framing import BIG_CHUNK
        if self._out is not None and len(self._out):
            pieces = _chain((self._out.data,), pieces)
        self._out = None
        io = self._io
        send_parts = getattr(io, "send_parts", None)
        for parts in self.conn.message_packets(pieces, BIG_CHUNK if big_packets else None):
            if send_parts is not None:
                await send_parts(parts)
            else:
                await io.send_bytes(b"".join(parts))

    async def close(self) -> None:
        """Close the underlying connection (no-op for UDP)."""
        await self._io.close()

    async def authenticate(self, methods: list[str] | None = None) -> Peer:
        """Forced authentication on an unauthenticated stream (server side; ACT_ON_JOBS,
        QMGMT_WRITE_CMD... PROTOCOL.md 5 path (b)).  Updates and returns :attr:`peer`;
        raises SecurityError on failure."""
        from .errors import SecurityError
        from .security import authentication
        pol = self.policy
        first = self._in if self._in is not None and not self._in.at_end() else None
        self._in = None
        gen = authentication.server(
            self.conn, methods or (pol.auth_methods if pol else ["FS"]),
            fs_dir=pol.fs_dir if pol else "/tmp", my_ip=self.my_addr[0],
            my_port=self.my_addr[1], uid_domain=pol.uid_domain if pol else "localhost",
            signing_keys=pol.signing_keys if pol else None, ssl_config=pol.ssl if pol else None,
            first=first)
        result = await self._io.drive(gen)
        if result.user is None:
            raise SecurityError(f"forced authentication of {self.peer.address} failed")
        self.peer = Peer(result.user, result.method, self.peer.address)
        return self.peer
