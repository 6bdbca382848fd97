"""SafeSock (UDP): datagram layout, fragmentation/reassembly, the ``CRAP`` security header
and BLOWFISH/3DES message encryption (src/condor_io/SafeMsg.cpp, safe_sock.cpp,
condor_secman.cpp, daemon_command.cpp; PROTOCOL.md section 7).

Layout (big-endian)::

    unfragmented:  [security header] payload
    fragment:      "MaGic6.0" | last:u8 | seq:u16 | len:u16 | ip:u32 | pid:u16 | time:u32 |
                   msgNo:u16 | [security header, seq 0 only] data
    security hdr:  "CRAP" | flags:u16 | mdKeyIdLen:u16 | encKeyIdLen:u16 |
                   [mdKeyId | MAC(16)] if flags&1 | [encKeyId] if flags&2

Under a session everything after the security header of the reassembled message is
encrypted with BLOWFISH (or 3DES with FIPS) in CFB64 mode, zero IV, key = first 24 bytes of
the session key, restarted per message; strings are then length-prefixed.
"""
from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass

from .codec import Decoder, Encoder
from .commands import Command
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.modes import ECB

from .crypto import legacy_cipher, legacy_encrypt
from .errors import ProtocolError
from .security.negotiation import Peer
from .security.sessions import Session, SessionCache
from .wire_ad import MAX_POD_ATTRIBUTES, WireAd, get_ad, put_ad

MAGIC = b"MaGic6.0"
FRAG_HEADER = struct.Struct(">8sBHHIHIH")
FRAG_HEADER_LEN = FRAG_HEADER.size  # 25
CRAP = b"CRAP"
SEC_HEADER = struct.Struct(">4sHHH")
MD_LEN = 16
#: a datagram is at most this big (SafeSock receive buffer, PROTOCOL.md 7.1)
MAX_DATAGRAM = 60000
#: UDP_LOOPBACK_FRAGMENT_SIZE default / UDP_NETWORK_FRAGMENT_SIZE default
LOOPBACK_FRAGMENT_SIZE = 59974
NETWORK_FRAGMENT_SIZE = 1000
MIN_FRAGMENT_SIZE = 26
DC_AUTHENTICATE = int(Command.DC_AUTHENTICATE)
#: command numbers are small non-negative ints (condor_commands.h tops out below 70000)
MAX_COMMAND = 100000


@dataclass
class Fragment:
    """A parsed fragment header: msgid = (ip, pid, time, msgNo)."""
    last: bool
    seq: int
    length: int
    msgid: tuple[int, int, int, int]
    data: bytes


@dataclass
class SecurityHeader:
    """The ``CRAP`` header: flags (1 = MD, 2 = ENC), key ids, MAC."""
    flags: int
    md_key_id: str
    mac: bytes
    enc_key_id: str
    length: int


def parse_fragment(datagram: bytes) -> Fragment | None:
    """Return the Fragment if ``datagram`` starts with the MaGic6.0 header, else None.
    Raises ProtocolError for an oversized or truncated datagram."""
    if len(datagram) > MAX_DATAGRAM:
        raise ProtocolError(f"datagram of {len(datagram)} bytes exceeds {MAX_DATAGRAM}", 0)
    if not datagram.startswith(MAGIC):
        return None
    if len(datagram) < FRAG_HEADER_LEN:
        raise ProtocolError("truncated SafeSock fragment header", len(datagram))
    _, last, seq, length, ip, pid, tm, msgno = FRAG_HEADER.unpack_from(datagram)
    # A 25.x receiver ignores `len` and uses the datagram size (PROTOCOL.md 7.1).
    return Fragment(bool(last), seq, length, (ip, pid, tm, msgno), datagram[FRAG_HEADER_LEN:])


def parse_security_header(data: bytes, base: int = 0) -> tuple[SecurityHeader | None, int]:
    """Parse a ``CRAP`` header at the start of ``data``; returns (header or None, its length)."""
    if not data.startswith(CRAP):
        return None, 0
    if len(data) < SEC_HEADER.size:
        raise ProtocolError("truncated CRAP security header", base + len(data))
    _, flags, md_len, enc_len = SEC_HEADER.unpack_from(data)
    pos = SEC_HEADER.size
    md_id = enc_id = ""
    mac = b""
    if flags & 1 and md_len > 0:
        if len(data) < pos + md_len + MD_LEN:
            raise ProtocolError("truncated MD key id / MAC in security header", base + pos)
        md_id = data[pos:pos + md_len].decode("latin-1")
        pos += md_len
        mac = data[pos:pos + MD_LEN]
        pos += MD_LEN
    if flags & 2 and enc_len > 0:
        if len(data) < pos + enc_len:
            raise ProtocolError("truncated encryption key id in security header", base + pos)
        enc_id = data[pos:pos + enc_len].decode("latin-1")
        pos += enc_len
    return SecurityHeader(flags, md_id, mac, enc_id, pos), pos


def build_security_header(enc_key_id: str) -> bytes:
    """flags = 2 (ENC only), no MD key: what 25.x clients send (PROTOCOL.md 7.3)."""
    kid = enc_key_id.encode("latin-1")
    return SEC_HEADER.pack(CRAP, 2, 0, len(kid)) + kid


class MessageIdSource:
    """msgid generator: random ip/pid/time per process, msgNo incremented per message
    (SafeMsg.cpp, PROTOCOL.md 7.1)."""

    def __init__(self):
        r = os.urandom(12)
        self.ip, self.pid, self.time = struct.unpack(">IHI", r[:10])
        self.msgno = struct.unpack(">H", r[10:12])[0]

    def next(self) -> tuple[int, int, int, int]:
        """The next message id (msgNo incremented, wrapping at 16 bits)."""
        self.msgno = (self.msgno + 1) & 0xFFFF
        return (self.ip, self.pid, self.time, self.msgno)


_IDS = MessageIdSource()


def build_datagrams(payload: bytes, *, session: Session | None = None, key_id: str | None = None,
                    cipher: str = "BLOWFISH", fragment_size: int = LOOPBACK_FRAGMENT_SIZE,
                    ids: MessageIdSource = _IDS,
                    msgid: tuple[int, int, int, int] | None = None) -> list[bytes]:
    """Encode one SafeSock message into datagrams.

    ``payload`` must already be encoded in the right string mode (crypto mode when a session
    key is used).  With a keyed session the payload is encrypted (cipher, first 24 key bytes)
    and a CRAP header naming ``key_id`` (default the Sid) goes in front (every message, unlike
    the e28 quirk).  Messages that fit go unfragmented.  ``msgid`` overrides the
    (ip, pid, time, msgNo) message id (replays).
    """
    if not MIN_FRAGMENT_SIZE <= fragment_size <= LOOPBACK_FRAGMENT_SIZE:
        raise ValueError(f"fragment size {fragment_size} outside {MIN_FRAGMENT_SIZE}.."
                         f"{LOOPBACK_FRAGMENT_SIZE}")
    header = b""
    if session is not None and session.key is not None:
        payload = legacy_encrypt(cipher, session.key, payload)
        header = build_security_header(key_id or session.sid)
    whole = header + payload
    if len(whole) <= fragment_size:
        return [whole]
    part = fragment_size - FRAG_HEADER_LEN
    chunks = [whole[i:i + part] for i in range(0, len(whole), part)]
    ip, pid, tm, msgno = msgid if msgid is not None else ids.next()
    out = []
    for seq, chunk in enumerate(chunks):
        last = 1 if seq == len(chunks) - 1 else 0
        out.append(FRAG_HEADER.pack(MAGIC, last, seq, len(chunk), ip, pid, tm, msgno) + chunk)
    return out


class Cfb64Decryptor:
    """CFB64 decryption with the all-zero IV of the legacy datagram ciphers (BLOWFISH,
    3DES; crypto.legacy_cipher, PROTOCOL.md 7.3) that pays for the key schedule once per
    key, not once per datagram.

    In CFB each plaintext block is ``C[i] XOR E(C[i-1])`` (``C[-1]`` = the IV): every
    cipher input is known ciphertext, so the whole key stream is one ECB encryption of
    ``IV + C[0..m-2]``, with an ECB context kept per (cipher, key) -- stateless, so it
    serves every message.  A fresh CFB decryptor per datagram redid the BLOWFISH key
    schedule (hundreds of block encryptions) every time.  Gives the same bytes as
    :func:`pyhtc.cedar.crypto.legacy_decrypt`.
    """

    def __init__(self, max_keys: int = 1024):
        self.max_keys = max_keys
        self._ecb: dict = {}

    def decrypt(self, method: str, key: bytes, data: bytes) -> bytes:
        """Decrypt one message's ``data`` with ``method`` ("BLOWFISH"/"3DES") and the
        session ``key`` (its first 24 bytes are used).  Raises ValueError for another
        method."""
        n = len(data)
        ecb = self._ecb.get((method, key))
        if ecb is None:
            if len(self._ecb) >= self.max_keys:
                self._ecb.clear()
            ecb = self._ecb[(method, key)] = Cipher(legacy_cipher(method, key).algorithm,
                                                     ECB()).encryptor()
        if not n:
            return b""
        full = (n - 1) // 8 * 8  # the whole blocks before the last (maybe partial) one
        stream = ecb.update(b"\0" * 8 + data[:full])
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


@dataclass
class UdpCommand:
    """A decoded UDP command: number, peer, session (or None), payload decoder."""
    command: int
    peer: Peer
    session: Session | None
    payload: Decoder
    encrypted: bool


class _Partial:
    __slots__ = ("frags", "size", "first_seen", "last_seq")

    def __init__(self, now):
        self.frags: dict[int, bytes] = {}
        self.size = 0
        self.first_seen = now
        self.last_seq: int | None = None


class SafeSockReceiver:
    """Reassembles datagrams into messages and decodes commands (sans-IO).

    Args:
        sessions: the server's SessionCache (key id -> session).
        max_fragments: cap on fragments per message.
        max_message: cap on a reassembled message, bytes.
        max_partial: cap on messages being reassembled at once (oldest dropped).
        max_total: cap on the bytes held by all partial messages (oldest dropped).
        timeout: seconds after which an incomplete message is dropped.
        cipher: preferred datagram cipher ("BLOWFISH"; "3DES" is tried as a fallback when the
            decrypted command number is implausible -- FIPS peers, e45).
    """

    def __init__(self, sessions: SessionCache | None = None, *, max_fragments: int = 1024,
                 max_message: int = 16 * 1024 * 1024, max_partial: int = 256,
                 max_total: int = 64 * 1024 * 1024, timeout: float = 30.0,
                 cipher: str = "BLOWFISH", clock=time.monotonic):
        self.sessions = sessions if sessions is not None else SessionCache()
        self.max_fragments = max_fragments
        self.max_message = max_message
        self.max_partial = max_partial
        self.max_total = max_total
        self._total = 0
        self.timeout = timeout
        self.cipher = cipher
        self.clock = clock
        self._partials: dict[tuple, _Partial] = {}
        self.dropped = 0
        self._cfb = Cfb64Decryptor()

    def _drop(self, key) -> None:
        self._total -= self._partials.pop(key).size

    def _expire(self, now: float) -> None:
        for k in [k for k, p in self._partials.items() if now - p.first_seen > self.timeout]:
            self._drop(k)
            self.dropped += 1

    def reassemble(self, datagram: bytes, source: str = "") -> bytes | None:
        """Feed one datagram; returns the whole message bytes once complete, else None."""
        frag = parse_fragment(datagram)
        if frag is None:
            if len(datagram) < 8:
                raise ProtocolError(f"datagram of {len(datagram)} bytes is too short", 0)
            return datagram
        now = self.clock()
        self._expire(now)
        key = (source,) + frag.msgid
        p = self._partials.get(key)
        if p is None:
            while len(self._partials) >= self.max_partial:
                self._drop(next(iter(self._partials)))  # dicts keep insertion order
                self.dropped += 1
            p = self._partials[key] = _Partial(now)
        if frag.seq >= self.max_fragments:
            self._drop(key)
            raise ProtocolError(f"fragment seq {frag.seq} beyond the {self.max_fragments}-"
                                f"fragment limit", 9)
        if frag.seq in p.frags:
            return None  # duplicate
        p.frags[frag.seq] = frag.data
        p.size += len(frag.data)
        self._total += len(frag.data)
        if p.size > self.max_message:
            self._drop(key)
            raise ProtocolError(f"reassembled UDP message exceeds {self.max_message} bytes", 0)
        while self._total > self.max_total and len(self._partials) > 1:
            self._drop(next(k for k in self._partials if k != key))
            self.dropped += 1
        if frag.last:
            if p.last_seq is not None and p.last_seq != frag.seq:
                self._drop(key)
                raise ProtocolError("two different last fragments for one message", 9)
            p.last_seq = frag.seq
        if p.last_seq is not None and len(p.frags) == p.last_seq + 1:
            self._drop(key)
            return b"".join(p.frags[i] for i in range(p.last_seq + 1))
        if p.last_seq is not None and max(p.frags) > p.last_seq:
            self._drop(key)
            raise ProtocolError(f"fragment beyond the last one (seq {p.last_seq})", 9)
        return None

    def decode_message(self, message: bytes, source: str = "") -> UdpCommand | None:
        """Decode a whole SafeSock message into a UdpCommand (daemon_command.cpp rules).
        Returns None when the message names an unknown session (silently dropped, as a real
        daemon does); raises ProtocolError when malformed."""
        hdr, hlen = parse_security_header(message)
        body = message[hlen:]
        session = None
        encrypted = False
        if hdr is not None and hdr.flags & 1 and hdr.md_key_id:
            # legacy MD5 integrity header: 25.x senders never use it (PROTOCOL.md 7.3)
            raise ProtocolError("UDP integrity (MD) header is not supported", 4)
        if hdr is not None and hdr.flags & 2 and hdr.enc_key_id:
            sid = hdr.enc_key_id.split(",", 1)[0]  # daemons append ",<sinful>"
            session = self.sessions.get(sid)
            if session is None or session.key is None:
                return None
            body = self.decrypt(session, body)
            encrypted = True
        dec = Decoder(body, encrypted, hlen, f"UDP message from {source or '?'}")
        cmd = dec.get_int()
        if not 0 <= cmd < MAX_COMMAND:
            # e.g. an encrypted message whose CRAP header was lost (the e28 quirk)
            raise ProtocolError(f"implausible command number {cmd} (undecipherable?)", hlen)
        if cmd == DC_AUTHENTICATE:
            ad = get_ad(dec, max_attributes=MAX_POD_ATTRIBUTES, literal_only=True)
            sid = ad.get_str("Sid") or ""
            if session is None:
                session = self.sessions.get(sid)
                if session is None:
                    return None
            cmd = ad.get_int("Command", cmd)
        user = session.user if session else None
        method = session.method if session else None
        return UdpCommand(cmd, Peer(user, method, source), session, dec, encrypted)

    def decrypt(self, session: Session, body: bytes) -> bytes:
        """Decrypt a message body with the session's datagram cipher (preferred cipher first;
        the other one when the first int is implausible)."""
        order = [self.cipher] + [c for c in ("BLOWFISH", "3DES") if c != self.cipher]
        plain = b""
        for name in order:
            plain = self._cfb.decrypt(name, session.key, body)
            if len(plain) >= 8:
                first = struct.unpack(">q", plain[:8])[0]
                if 0 <= first < MAX_COMMAND:
                    return plain
        return plain

    def receive_datagram(self, datagram: bytes, source: str = "") -> UdpCommand | None:
        """reassemble() + decode_message()."""
        message = self.reassemble(datagram, source)
        if message is None:
            return None
        return self.decode_message(message, source)


def encode_udp_command(command: int, payload_writer=None, *, session: Session | None = None,
                       version: str = "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $",
                       connect_sinful: str = "", cipher: str = "BLOWFISH",
                       fragment_size: int = LOOPBACK_FRAGMENT_SIZE) -> list[bytes]:
    """Client side: datagrams for one UDP command (PROTOCOL.md 7.2).

    Without a session: ``int command`` + payload (raw).  With one: ``int 60010`` + the
    8-attribute resume ad + payload, encrypted when the session has a key.
    ``payload_writer(encoder)`` appends the command's payload.
    """
    keyed = session is not None and session.key is not None
    enc = Encoder(crypto_mode=keyed)
    if session is None:
        enc.put_int(command)
    else:
        enc.put_int(DC_AUTHENTICATE)
        ad = WireAd()
        ad.set("AuthCommand", command)
        ad.set("Command", command)
        ad.set("ConnectSinful", connect_sinful)
        ad.set("CryptoMethods", cipher)
        ad.set("Nonce", __import__("base64").b64encode(os.urandom(33)).decode())
        ad.set("RemoteVersion", version)
        ad.set("Sid", session.sid)
        ad.set("UseSession", "YES")
        put_ad(enc, ad)
    if payload_writer is not None:
        payload_writer(enc)
    return build_datagrams(enc.data, session=session, cipher=cipher,
                           fragment_size=fragment_size)
