"""Key exchange and ciphers used by CEDAR, built on the ``cryptography`` library.

* ECDH on NIST P-256; public keys travel base64 (with padding) of the 65-byte uncompressed
  point in the ``ECDHPublicKey`` attribute (condor_secman.cpp, PROTOCOL.md 4.2).
* Session key = HKDF-SHA256(ikm = shared x-coordinate, salt = "htcondor", info = "keygen")
  of 32 bytes for AES, 24 for BLOWFISH/3DES (condor_secman.cpp, verified e02).
* AES-256-GCM per-packet state with a 16-byte IV whose first 4 bytes are a big-endian counter
  added to the base IV (condor_crypt_aesgcm.cpp, PROTOCOL.md 1.3).
* BLOWFISH / 3DES in CFB64 mode with a zero IV, restarted per message, for SafeSock datagrams
  under a session (condor_crypt_blowfish.cpp / condor_crypt_3des.cpp, PROTOCOL.md 7.3).
"""
from __future__ import annotations

import base64
import binascii
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ProtocolError, SecurityError

try:  # cryptography >= 43 moved the legacy ciphers to "decrepit" (PROTOCOL.md 7.3)
    from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish, TripleDES
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import Blowfish, TripleDES
try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - cryptography < 47
    from cryptography.hazmat.primitives.ciphers.modes import CFB

AES_KEY_LEN = 32
IV_LEN = 16
TAG_LEN = 16
LEGACY_KEY_LEN = 24
_HKDF_SALT = b"htcondor"
_HKDF_INFO = b"keygen"
#: ReliSock packet header: end flag (u8), payload length (i32 BE) (reli_sock.cpp)
_PACKET_HEADER = struct.Struct(">Bi")


class EcdhKey:
    """An ephemeral P-256 key pair (condor_secman.cpp, ECDHPublicKey attribute).

    ``public_b64`` is what goes in the ad; :meth:`session_key` derives the shared key.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None):
        self._private = private_key or ec.generate_private_key(ec.SECP256R1())

    @property
    def public_b64(self) -> str:
        """Base64 (padded) of the 65-byte uncompressed point."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        raw = self._private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return base64.b64encode(raw).decode("ascii")

    def session_key(self, peer_public_b64: str, length: int = AES_KEY_LEN) -> bytes:
        """ECDH with the peer's base64 point, then HKDF-SHA256 (salt "htcondor", info "keygen").

        Raises SecurityError if the peer key is not a valid P-256 point.
        """
        try:
            raw = base64.b64decode(peer_public_b64.encode("ascii"), validate=True)
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
            raise SecurityError(f"invalid ECDHPublicKey from peer: {exc}") from None
        secret = self._private.exchange(ec.ECDH(), peer)
        return derive_key(secret, length)


def derive_key(secret: bytes, length: int = AES_KEY_LEN) -> bytes:
    """HKDF-SHA256(ikm=secret, salt="htcondor", info="keygen", L=length) (condor_secman.cpp)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT,
                info=_HKDF_INFO).derive(secret)


def packet_iv(base_iv: bytes, counter: int) -> bytes:
    """IV of packet ``counter``: BE32(BE32(base[0:4]) + counter mod 2**32) || base[4:16]
    (condor_crypt_aesgcm.cpp)."""
    first = (struct.unpack(">I", base_iv[:4])[0] + counter) & 0xFFFFFFFF
    return struct.pack(">I", first) + base_iv[4:]


#: AES-GCM contexts by key (see :func:`aead_for`); bounded, cleared when full
_AEADS: dict[bytes, AESGCM] = {}
_AEADS_MAX = 256


def aead_for(key: bytes) -> AESGCM:
    """The AES-GCM context of ``key``, made once per key and process: both directions of a
    connection and every connection of a session share it (the context holds only the
    expanded key; counters and IVs live in :class:`AesGcmDirection`).  A context may
    outlive its session here: at most :data:`_AEADS_MAX` keys are kept, in process memory
    only, and the cache is emptied when full.  Raises ValueError for a key of a length
    AES does not take."""
    key = bytes(key)
    aead = _AEADS.get(key)
    if aead is None:
        if len(_AEADS) >= _AEADS_MAX:
            _AEADS.clear()
        aead = _AEADS[key] = AESGCM(key)
    return aead


class AesGcmDirection:
    """AES-256-GCM state for one direction of a ReliSock (PROTOCOL.md 1.3).

    Args:
        key: 32-byte session key.
        base_iv: 16-byte base IV; for the sending side ``None`` picks a random one.
    """

    def __init__(self, key: bytes, base_iv: bytes | None = None):
        if len(key) != AES_KEY_LEN:
            raise ValueError(f"AES-GCM key must be {AES_KEY_LEN} bytes, got {len(key)}")
        self.aead = aead_for(key)
        self.counter = 0
        self._iv_head = 0
        self._iv_tail = b""
        self.base_iv = base_iv

    @property
    def base_iv(self) -> bytes | None:
        """The 16-byte base IV (None until drawn or received)."""
        return self._base_iv

    @base_iv.setter
    def base_iv(self, value: bytes | None) -> None:
        self._base_iv = value
        if value is not None:
            # packet_iv() split once: the counter is added to the first 4 bytes
            self._iv_head = int.from_bytes(value[:4], "big")
            self._iv_tail = value[4:]

    def _iv(self) -> bytes:
        """:func:`packet_iv` of the current counter (without re-splitting the base IV)."""
        return ((self._iv_head + self.counter) & 0xFFFFFFFF).to_bytes(4, "big") + self._iv_tail

    def seal(self, plaintext: bytes, end: int, first_aad: bytes = b"") -> bytes:
        """Encrypt one packet payload; returns the whole packet (header + [IV] + ct + tag).

        ``first_aad`` is the handshake digest pair prepended to the AAD of the first packet.
        """
        prefix, ct = self.seal_parts(plaintext, end, first_aad)
        return prefix + ct

    def seal_parts(self, plaintext, end: int, first_aad: bytes = b"") -> tuple[bytes, bytes]:
        """:meth:`seal` as (header + [IV], ciphertext + tag): a big packet is not copied
        once more to join them.  ``plaintext`` may be any bytes-like object."""
        first = self.counter == 0
        if self._base_iv is None:
            self.base_iv = os.urandom(IV_LEN)
        length = (IV_LEN if first else 0) + len(plaintext) + TAG_LEN
        header = _PACKET_HEADER.pack(end, length)
        aad = (first_aad + header) if first else header
        ct = self.aead.encrypt(self._iv(), plaintext, aad)
        self.counter += 1
        return header + (self._base_iv if first else b""), ct

    def seal_last(self, plaintext) -> bytes:
        """The whole wire packet (header + ciphertext + tag) of a one-packet message after
        the first packet: :meth:`seal` with ``end = 1`` and no extra AAD, in one step (the
        per-message path of every call a busy connection makes).  Raises ValueError before
        the first packet (that one carries the IV and the handshake digests)."""
        n = self.counter
        if n == 0:
            raise ValueError("seal_last() cannot send the first packet of a direction")
        header = _PACKET_HEADER.pack(1, len(plaintext) + TAG_LEN)
        ct = self.aead.encrypt(((self._iv_head + n) & 0xFFFFFFFF).to_bytes(4, "big") + self._iv_tail,
                               plaintext, header)
        self.counter = n + 1
        return header + ct

    def open_next(self, header, body, offset: int) -> bytes:
        """:meth:`open` of a packet after the first (no IV in it, no extra AAD), in one
        step: the per-message path of a busy connection.  Same errors as :meth:`open`."""
        n = self.counter
        if n == 0 or len(body) < TAG_LEN:
            return self.open(header, body, offset)
        try:
            plain = self.aead.decrypt(((self._iv_head + n) & 0xFFFFFFFF).to_bytes(4, "big") + self._iv_tail,
                                      body, header)
        except InvalidTag:
            raise SecurityError("AES-GCM authentication tag mismatch (wrong key, tampered "
                                "data or handshake digest mismatch)", offset) from None
        self.counter = n + 1
        return plain

    def open(self, header: bytes, body: bytes, offset: int, first_aad: bytes = b"") -> bytes:
        """Decrypt one received packet body (after the 5-byte header).

        Raises ProtocolError (naming ``offset``) when the body is too short or the tag fails.
        """
        first = self.counter == 0
        if first:
            if len(body) < IV_LEN + TAG_LEN:
                raise ProtocolError(f"AES-GCM first packet too short ({len(body)} bytes)", offset)
            self.base_iv, body = bytes(body[:IV_LEN]), body[IV_LEN:]
        elif len(body) < TAG_LEN:
            raise ProtocolError(f"AES-GCM packet too short ({len(body)} bytes)", offset)
        aad = (first_aad + header) if first else header
        try:
            plain = self.aead.decrypt(self._iv(), body, aad)
        except InvalidTag:
            raise SecurityError("AES-GCM authentication tag mismatch (wrong key, tampered "
                                "data or handshake digest mismatch)", offset) from None
        self.counter += 1
        return plain


def legacy_cipher(method: str, key: bytes):
    """BLOWFISH or 3DES CFB64 with an all-zero 8-byte IV, keyed with the first 24 bytes of
    ``key`` (PROTOCOL.md 7.3, verified e24/e45).  Returns a ``cryptography`` Cipher; create a
    fresh encryptor/decryptor per message (the key stream restarts at every message)."""
    method = method.upper()
    material = key[:LEGACY_KEY_LEN]
    if method == "BLOWFISH":
        algo = Blowfish(material)
    elif method in ("3DES", "TRIPLEDES"):
        algo = TripleDES(material)
    else:
        raise ValueError(f"unsupported legacy cipher {method!r}")
    return Cipher(algo, CFB(b"\0" * 8))


def legacy_decrypt(method: str, key: bytes, data: bytes) -> bytes:
    """Decrypt one message's bytes with :func:`legacy_cipher` (fresh key stream)."""
    d = legacy_cipher(method, key).decryptor()
    return d.update(data) + d.finalize()


def legacy_encrypt(method: str, key: bytes, data: bytes) -> bytes:
    """Encrypt one message's bytes with :func:`legacy_cipher` (fresh key stream)."""
    e = legacy_cipher(method, key).encryptor()
    return e.update(data) + e.finalize()
