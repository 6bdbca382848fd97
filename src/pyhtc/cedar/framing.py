"""ReliSock (TCP) framing: packets, messages, AES-GCM (src/condor_io/reli_sock.cpp, buffers.cpp,
condor_crypt_aesgcm.cpp; PROTOCOL.md sections 1.1 and 1.3).

Sans-IO, in the style of h11: feed received bytes with :meth:`ReliConnection.receive_data`,
pull whole messages with :meth:`ReliConnection.next_message`, and turn an outgoing message
payload into wire bytes with :meth:`ReliConnection.send_message`.  No sockets here.

Wire packet: ``end:u8 | len:i32 BE | payload[len]``; ``end`` is 1 on the last packet of a
message (0..10 accepted, non-zero = last), ``len`` is 1..1 MiB (reli_sock.cpp
handle_incoming_packet / buffers.cpp).  Once an AES key is installed every packet is
encrypted; the first packet in each direction carries the 16-byte base IV and binds the
cleartext traffic seen so far through two SHA-256 "handshake digests" in its AAD.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from .codec import Decoder, Encoder
from .crypto import AesGcmDirection, IV_LEN, TAG_LEN
from .errors import ConnectionClosed, ProtocolError, SecurityError

HEADER_LEN = 5
MAX_PACKET_LEN = 1024 * 1024  # reli_sock.cpp: packets above 1 MiB are refused
MAX_END_FLAG = 10  # reli_sock.cpp accepts end flags 0..10
#: payload bytes per packet the C++ sender emits: 4096-byte buffers including the header
SEND_CHUNK = 4096 - HEADER_LEN
#: the largest payload per packet a receiver takes: MAX_PACKET_LEN less the AES-GCM IV (first
#: packet) and tag, so the same size works encrypted or not
BIG_CHUNK = MAX_PACKET_LEN - IV_LEN - TAG_LEN
#: default cap on one reassembled message; configurable per connection
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
#: reli_sock.cpp stops hashing for the handshake digest after this many cleartext bytes
DIGEST_LIMIT = 1024 * 1024
_HEADER = struct.Struct(">Bi")


@dataclass(slots=True)
class Message:
    """One received message.

    Attributes:
        payload: the concatenated (decrypted) packet payloads.
        offset: stream offset of the first packet header of this message.
        index: ordinal of the message on this connection (0-based).
        crypto_mode: whether strings in it are length-prefixed (AES was on).
        packets: number of packets it was made of.
    """
    payload: bytes
    offset: int
    index: int
    crypto_mode: bool
    packets: int = 1

    def decoder(self) -> Decoder:
        """A :class:`Decoder` over the payload; error offsets are relative to the payload."""
        return Decoder(self.payload, self.crypto_mode, 0,
                       f"message #{self.index} (stream offset {self.offset})")


class _Digest:
    """SHA-256 over cleartext packets (header + payload), dropped past DIGEST_LIMIT bytes."""

    def __init__(self):
        self._h = hashlib.sha256()
        self._n = 0
        self._dead = False

    def update(self, data: bytes) -> None:
        if self._dead:
            return
        self._n += len(data)
        if self._n > DIGEST_LIMIT:
            self._dead = True  # reli_sock.cpp drops the context: 32 zero bytes are used
            return
        self._h.update(data)

    def digest(self) -> bytes:
        return b"\0" * 32 if self._dead else self._h.digest()


class ReliConnection:
    """Sans-IO state of one CEDAR TCP connection (either side).

    Args:
        max_message: refuse a message whose reassembled payload would exceed this many bytes.
        chunk: payload bytes per outgoing packet (default as the C++ sender).
        keep_cleartext: keep a copy of received cleartext packets (offline replays only).

    Raises :class:`ProtocolError` (with the stream offset) on malformed input or an EOF
    inside a message, and :class:`ConnectionClosed` from :meth:`next_message` after a clean
    EOF between messages.
    """

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE, chunk: int = SEND_CHUNK,
                 keep_cleartext: bool = False):
        self.max_message = max_message
        self.keep_cleartext = keep_cleartext
        self.chunk = chunk
        self._inbuf = bytearray()
        self._in_offset = 0  # stream offset of _inbuf[0]
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._partial_offset = 0
        self._partial_packets = 0
        self._eof = False
        self._msg_index = 0
        self._sent_digest = _Digest()
        self._recv_digest = _Digest()
        self._frozen: tuple[bytes, bytes] | None = None
        self._send_aes: AesGcmDirection | None = None
        self._recv_aes: AesGcmDirection | None = None
        self.bytes_sent = 0
        self._clear_wire = bytearray()

    # -- state -----------------------------------------------------------------------------
    @property
    def crypto_mode(self) -> bool:
        """True once AES is on: strings are then length-prefixed (stream.cpp)."""
        return self._send_aes is not None

    @property
    def eof(self) -> bool:
        """True once the peer closed its side."""
        return self._eof

    def encoder(self) -> Encoder:
        """A fresh :class:`Encoder` in this connection's current string mode."""
        return Encoder(self.crypto_mode)

    @property
    def bytes_received(self) -> int:
        """Stream bytes consumed into packets so far."""
        return self._in_offset

    @property
    def recv_base_iv(self) -> bytes | None:
        """The peer's AES base IV once its first encrypted packet was read."""
        return None if self._recv_aes is None else self._recv_aes.base_iv

    def _consumed_wire(self) -> bytes:
        """Cleartext packets received so far, as on the wire (capped; replays only)."""
        return bytes(self._clear_wire)

    def record_received(self, wire: bytes) -> None:
        """Account cleartext packets received outside :meth:`next_message` (replays)."""
        self._recv_digest.update(wire)

    def enable_aes(self, key: bytes, send_iv: bytes | None = None) -> None:
        """Install the AES-256-GCM session key for both directions (PROTOCOL.md 1.3).

        Freezes the handshake digests of the cleartext traffic so far.  Bytes already buffered
        but not yet returned as messages are decrypted with the new state, so call this exactly
        at the message boundary where the protocol switches.  ``send_iv`` fixes our base IV
        (replaying captures byte-for-byte); by default a random one is drawn.
        """
        if self._partial:
            raise ProtocolError("cannot enable encryption in the middle of a message",
                                self._partial_offset)
        self._frozen = (self._sent_digest.digest(), self._recv_digest.digest())
        self._send_aes = AesGcmDirection(key, send_iv)
        self._recv_aes = AesGcmDirection(key)

    def record_sent(self, wire: bytes) -> None:
        """Account cleartext packets sent outside :meth:`send_message` (offline replays of
        captures) in the handshake digest."""
        self._sent_digest.update(wire)

    # -- receiving -------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the socket; ``b""`` means the peer closed (EOF)."""
        if not data:
            self._eof = True
        else:
            self._inbuf += data

    def next_message(self) -> Message | None:
        """Return the next complete message, or None if more bytes are needed.

        Raises ConnectionClosed after a clean EOF (between messages), ProtocolError on a
        malformed packet or an EOF in the middle of a message.
        """
        aes = self._recv_aes
        if aes is not None and aes.counter and not self._partial:
            # the common case on a busy encrypted connection: one whole packet that is a
            # whole message (the checks are those of the general loop below)
            buf = self._inbuf
            if len(buf) >= HEADER_LEN:
                end, length = _HEADER.unpack_from(buf)
                if 0 < end <= MAX_END_FLAG and 0 < length <= MAX_PACKET_LEN and \
                        length <= self.max_message + IV_LEN + TAG_LEN and \
                        len(buf) >= HEADER_LEN + length:
                    offset = self._in_offset
                    stop = HEADER_LEN + length
                    payload = aes.open_next(buf[:HEADER_LEN], buf[HEADER_LEN:stop], offset)
                    del buf[:stop]
                    self._in_offset = offset + stop
                    if len(payload) > self.max_message:
                        raise ProtocolError(f"message exceeds the {self.max_message}-byte limit", offset)
                    index = self._msg_index
                    self._msg_index = index + 1
                    return Message(payload, offset, index, True, 1)
        while True:
            if len(self._inbuf) < HEADER_LEN:
                if self._eof:
                    if self._inbuf or self._partial:
                        raise ProtocolError("connection closed in the middle of a message",
                                            self._in_offset + len(self._inbuf))
                    raise ConnectionClosed("connection closed by peer")
                return None
            end, length = _HEADER.unpack_from(self._inbuf)
            offset = self._in_offset
            if end > MAX_END_FLAG:
                raise ProtocolError(f"bad packet end flag {end}", offset)
            if length <= 0 or length > MAX_PACKET_LEN:
                raise ProtocolError(
                    f"bad packet length {length} (header bytes 0x{length & 0xFFFFFFFF:08x}; "
                    f"allowed 1..{MAX_PACKET_LEN})", offset + 1)
            if self._partial_len + length > self.max_message + (IV_LEN + TAG_LEN) * (
                    self._partial_packets + 1):
                raise ProtocolError(
                    f"message exceeds the {self.max_message}-byte limit", offset + 1)
            if len(self._inbuf) < HEADER_LEN + length:
                if self._eof:
                    raise ProtocolError("connection closed inside a packet", offset)
                return None
            header = bytes(self._inbuf[:HEADER_LEN])
            body = bytes(self._inbuf[HEADER_LEN:HEADER_LEN + length])
            del self._inbuf[:HEADER_LEN + length]
            self._in_offset += HEADER_LEN + length
            if self._recv_aes is not None:
                # the peer's first packet binds "its sent" || "its received" = ours reversed
                first = self._recv_aes.counter == 0
                first_aad = self._frozen[1] + self._frozen[0] if first else b""
                payload = self._recv_aes.open(header, body, offset, first_aad)
            else:
                self._recv_digest.update(header + body)
                if self.keep_cleartext and len(self._clear_wire) < DIGEST_LIMIT:
                    self._clear_wire += header + body
                payload = body
            if not self._partial:
                self._partial_offset = offset
            self._partial.append(payload)
            self._partial_len += len(payload)
            self._partial_packets += 1
            if self._partial_len > self.max_message:
                raise ProtocolError(f"message exceeds the {self.max_message}-byte limit", offset)
            if end != 0:
                msg = Message(b"".join(self._partial), self._partial_offset, self._msg_index,
                              self._recv_aes is not None, self._partial_packets)
                self._msg_index += 1
                self._partial, self._partial_len, self._partial_packets = [], 0, 0
                return msg

    def next_messages(self) -> list[Message]:
        """Every complete message already received, in order (an empty list when more bytes
        are needed) -- :meth:`next_message` in a loop, with the common case of an encrypted
        connection (a message in one packet) done in one pass over the buffer.  Same
        errors as :meth:`next_message`, raised when the bad packet is reached (messages
        before it are then lost with the connection)."""
        out: list[Message] = []
        aes = self._recv_aes
        if aes is not None and aes.counter and not self._partial:
            buf = self._inbuf
            have = len(buf)
            pos = 0
            base = self._in_offset
            index = self._msg_index
            limit = min(MAX_PACKET_LEN, self.max_message + IV_LEN + TAG_LEN)
            n = aes.counter
            head, tail, decrypt = aes._iv_head, aes._iv_tail, aes.aead.decrypt
            unpack = _HEADER.unpack_from
            append = out.append
            max_message = self.max_message
            try:
                while have - pos >= HEADER_LEN:
                    end, length = unpack(buf, pos)
                    stop = pos + HEADER_LEN + length
                    if not (0 < end <= MAX_END_FLAG and TAG_LEN <= length <= limit) or stop > have:
                        break  # a partial or multi-packet message, or an error: the general path
                    payload = decrypt(((head + n) & 0xFFFFFFFF).to_bytes(4, "big") + tail,
                                      buf[pos + HEADER_LEN:stop], buf[pos:pos + HEADER_LEN])
                    n += 1
                    if len(payload) > max_message:
                        raise ProtocolError(f"message exceeds the {max_message}-byte limit", base + pos)
                    append(Message(payload, base + pos, index, True, 1))
                    index += 1
                    pos = stop
            except InvalidTag:
                raise SecurityError("AES-GCM authentication tag mismatch (wrong key, tampered "
                                    "data or handshake digest mismatch)", base + pos) from None
            finally:
                aes.counter = n
                self._msg_index = index
                if pos:
                    del buf[:pos]
                    self._in_offset = base + pos
        if not out:
            msg = self.next_message()
            if msg is not None:
                out.append(msg)
        return out

    def send_messages(self, payloads: list) -> bytes:
        """Wire bytes of several messages, in order: :meth:`send_message` of each, with
        the common case (an encrypted connection, small non-empty messages) framed in one
        pass.  Empty payloads put nothing on the wire, as in :meth:`send_message`."""
        packets = _seal_batch(self, payloads)
        if packets is None:
            return b"".join([self.send_message(p) for p in payloads])
        data = b"".join(packets)
        self.bytes_sent += len(data)
        return data

    def has_buffered_data(self) -> bool:
        """True when received bytes are waiting (partial packet or message)."""
        return bool(self._inbuf) or bool(self._partial)

    # -- sending ---------------------------------------------------------------------------
    def send_message(self, payload: bytes, chunk: int | None = None) -> bytes:
        """Wire bytes for one message.  An empty payload puts nothing on the wire
        (reli_sock.cpp never sends zero-length packets).

        ``chunk``: payload bytes per packet (default :attr:`chunk`, as the C++ sender);
        :data:`BIG_CHUNK` makes the fewest packets any receiver accepts (reli_sock.cpp
        rcv_packet() takes packets up to 1 MiB, IV and tag included) -- for large replies,
        where 4 KiB packets cost a seal/open and a header each on both sides."""
        if not payload:
            return b""
        chunk = chunk or self.chunk
        if chunk > BIG_CHUNK:
            raise ValueError(f"packet payload of {chunk} bytes exceeds {BIG_CHUNK}")
        size = len(payload)
        aes = self._send_aes
        if aes is not None and size <= chunk and aes.counter:
            data = aes.seal_last(payload)  # one packet, not the first: no IV, no digests
            self.bytes_sent += len(data)
            return data
        if size > chunk:
            view = memoryview(payload)
            pieces = [view[i:i + chunk] for i in range(0, size, chunk)]
        else:
            pieces = [payload]
        last = len(pieces) - 1
        out = []
        for i, piece in enumerate(pieces):
            out.extend(self._frame(piece, 1 if i == last else 0))
        data = out[0] if len(out) == 1 else b"".join(out)
        self.bytes_sent += len(data)
        return data

    def _frame(self, piece, end: int) -> tuple:
        """One outgoing packet of payload ``piece`` (bytes-like, 1..:data:`BIG_CHUNK`
        bytes) as the buffers to write in order: header and payload in clear (the
        handshake digest updated), or header [+ IV] and ciphertext + tag once AES is on."""
        aes = self._send_aes
        if aes is not None:
            first_aad = (self._frozen[0] + self._frozen[1]) if aes.counter == 0 else b""
            return aes.seal_parts(piece, end, first_aad)
        header = _HEADER.pack(end, len(piece))
        digest = self._sent_digest
        if not digest._dead:
            digest.update(header + piece)
        return header, piece

    def message_packets(self, pieces, chunk: int | None = None):
        """The wire packets of one message whose payload is ``pieces`` (an iterable of
        bytes-like objects) joined, made one at a time: yields, per packet, the buffers to
        write in order (see :meth:`_frame`).  Nothing is yielded for an empty payload.

        :meth:`send_message` needs the payload whole; this takes it in pieces and never
        joins more than a packet's worth, so a sender can put each packet on the wire
        while the next is made -- a 60 MB query reply is neither joined nor held twice,
        and the receiver reads (and decrypts) the first packets while the last are still
        being sealed.  The packets are those :meth:`send_message` would make of the
        joined payload (same size, same ``end`` flags: 1 on the last only; reli_sock.cpp).
        ``chunk`` as in :meth:`send_message`.  The connection's state (AES counter,
        handshake digest, :attr:`bytes_sent`) advances as packets are taken, so the
        caller must write every packet taken, in order."""
        chunk = chunk or self.chunk
        if chunk > BIG_CHUNK:
            raise ValueError(f"packet payload of {chunk} bytes exceeds {BIG_CHUNK}")
        frame = self._frame
        for piece, last in _payload_chunks(pieces, chunk):
            parts = frame(piece, 1 if last else 0)
            self.bytes_sent += sum(map(len, parts))
            yield parts


def _payload_chunks(pieces, chunk: int):
    """``pieces`` (bytes-like) cut into packet payloads of ``chunk`` bytes (the last one
    shorter): yields ``(payload, is_last)``.  At most one packet's worth plus one piece is
    joined at a time; a piece larger than ``chunk`` is sliced, not copied."""
    held: list = []
    size = 0
    pending = None
    join = b"".join
    for p in pieces:
        n = len(p)
        if not n:
            continue
        held.append(p)
        size += n
        if size > chunk:  # cut all whole chunks but the last (it may end the message)
            data = held[0] if len(held) == 1 else join(held)
            view = memoryview(data)
            pos = 0
            while size - pos > chunk:
                if pending is not None:
                    yield pending, False
                pending = view[pos:pos + chunk]
                pos += chunk
            held = [view[pos:]]
            size -= pos
    if size:
        if pending is not None:
            yield pending, False
        pending = held[0] if len(held) == 1 else join(held)
    if pending is not None:
        yield pending, True


def _seal_batch(conn: "ReliConnection", payloads) -> list[bytes] | None:
    """Wire packets of one-packet messages after the first packet, sealed in one pass
    (:meth:`AesGcmDirection.seal_last` per payload, inlined), or None when that does not
    apply (no AES yet, the first packet still to go, a payload needing several packets)."""
    aes = conn._send_aes
    chunk = conn.chunk
    if aes is None or not aes.counter or any(not p or len(p) > chunk for p in payloads):
        return None
    n = aes.counter
    head, tail, encrypt, pack = aes._iv_head, aes._iv_tail, aes.aead.encrypt, _HEADER.pack
    out = []
    append = out.append
    try:
        for p in payloads:
            header = pack(1, len(p) + TAG_LEN)
            append(header + encrypt(((head + n) & 0xFFFFFFFF).to_bytes(4, "big") + tail, p, header))
            n += 1
    finally:
        aes.counter = n
    return out


def split_packets(stream: bytes) -> list[tuple[int, int, bytes]]:
    """Split raw wire bytes into ``(offset, end_flag, body)`` without decrypting; raises
    ProtocolError on a bad header or a truncated packet.  Used by tests and tools."""
    out = []
    pos = 0
    while pos < len(stream):
        if len(stream) - pos < HEADER_LEN:
            raise ProtocolError("truncated packet header", pos)
        end, length = _HEADER.unpack_from(stream, pos)
        if end > MAX_END_FLAG or length <= 0 or length > MAX_PACKET_LEN:
            raise ProtocolError(f"bad packet header end={end} len={length}", pos)
        if pos + HEADER_LEN + length > len(stream):
            raise ProtocolError("truncated packet", pos)
        out.append((pos, end, stream[pos + HEADER_LEN:pos + HEADER_LEN + length]))
        pos += HEADER_LEN + length
    return out
