"""CEDAR primitive encodings (src/condor_io/stream.cpp, Stream::put/get/code).

Sans-IO: :class:`Encoder` appends primitives to a byte buffer, :class:`Decoder` reads them from
the payload of one message.  Rules (PROTOCOL.md section 2, all verified on the wire):

* every integer type travels as **8 bytes big-endian two's complement** (stream.cpp put(int)
  sign-extends to 64 bits);
* ``char`` is one raw byte;
* ``double`` is two integers: ``frac = int(mantissa * 2147483647)`` then ``exp`` from frexp()
  (stream.cpp Stream::put(double)); it is lossy (31-bit mantissa);
* strings are UTF-8 + NUL in clear mode; once the stream is in *crypto mode* (AES on) they are
  ``int len`` (including the NUL) + bytes + NUL (stream.cpp Stream::put(char const*) /
  get_string_ptr); a leading ``0xFF`` byte means a NULL string (legacy put_nullstr).
"""
from __future__ import annotations

import math
import struct

from .errors import ProtocolError

#: get_string_ptr() refuses crypto-mode string lengths above this (stream.cpp).
MAX_STRING_LENGTH = 10_000_000
_INT = struct.Struct(">q")
_UINT = struct.Struct(">Q")
_DOUBLE_SCALE = 2147483647  # stream.cpp: frexp mantissa scaled to a 31-bit int
NULL_STRING_MARK = 0xFF  # '\255' in stream.cpp


def _enc_text(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _dec_text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


class Encoder:
    """Builds the payload of one CEDAR message.

    Args:
        crypto_mode: when true strings are length-prefixed (the stream has encryption on).

    The encoded bytes are available as :attr:`data` (``bytes``); :meth:`clear` resets.
    """

    def __init__(self, crypto_mode: bool = False):
        self.crypto_mode = crypto_mode
        self._buf = bytearray()

    @property
    def data(self) -> bytes:
        """The encoded bytes so far."""
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        """Forget everything encoded so far."""
        self._buf.clear()

    def put_int(self, value: int) -> "Encoder":
        """Any C++ integer type: 8 bytes big-endian.  Accepts -2**63 .. 2**64-1
        (unsigned values above 2**63-1 wrap, as a uint64 would)."""
        value = int(value)
        if value < -(1 << 63) or value >= (1 << 64):
            raise ValueError(f"integer {value} does not fit in 64 bits")
        if value >= (1 << 63):
            self._buf += _UINT.pack(value)
        else:
            self._buf += _INT.pack(value)
        return self

    def put_bool(self, value: bool) -> "Encoder":
        """There is no bool primitive; protocols send int 0/1 (PROTOCOL.md 2)."""
        return self.put_int(1 if value else 0)

    def put_char(self, value: int) -> "Encoder":
        """One raw byte (0..255)."""
        self._buf.append(value & 0xFF)
        return self

    def put_double(self, value: float) -> "Encoder":
        """stream.cpp Stream::put(double): ``int(frac * 2147483647)`` then exponent."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"CEDAR cannot encode the double {value!r}")
        mantissa, exponent = math.frexp(value)
        self.put_int(int(mantissa * _DOUBLE_SCALE))
        return self.put_int(exponent)

    def put_string(self, value: str | bytes | None) -> "Encoder":
        """A string (None is sent as "" like Stream::put(const char*))."""
        raw = b"" if value is None else (value if isinstance(value, bytes) else _enc_text(value))
        if b"\0" in raw:
            raise ValueError("CEDAR strings cannot contain NUL bytes")
        if self.crypto_mode:
            self.put_int(len(raw) + 1)
        self._buf += raw + b"\0"
        return self

    def put_nullstr(self, value: str | None) -> "Encoder":
        """Legacy Stream::put_nullstr(): None goes as the single byte 0xFF."""
        if value is not None:
            return self.put_string(value)
        if self.crypto_mode:
            self.put_int(1)
        self._buf.append(NULL_STRING_MARK)
        return self

    def put_bytes(self, value: bytes) -> "Encoder":
        """Raw bytes, no length (Stream::put_bytes); the protocol must send a length first."""
        self._buf += value
        return self


class Decoder:
    """Reads primitives from the payload of one message.

    Args:
        data: the message payload.
        crypto_mode: strings are length-prefixed.
        base_offset: stream offset of ``data[0]`` used in error messages.
        what: name of the message for error messages.

    Every read past the end or of a malformed value raises :class:`ProtocolError` with the byte
    offset.  :meth:`finish` checks that the whole message was consumed (reli_sock.cpp refuses
    "untouched bytes" at end_of_message).
    """

    def __init__(self, data: bytes, crypto_mode: bool = False, base_offset: int = 0,
                 what: str = "message"):
        self.data = bytes(data)
        self.crypto_mode = crypto_mode
        self.pos = 0
        self.base_offset = base_offset
        self.what = what

    @property
    def offset(self) -> int:
        """Current absolute offset (base_offset + position)."""
        return self.base_offset + self.pos

    @property
    def remaining(self) -> int:
        """Bytes not yet read."""
        return len(self.data) - self.pos

    def at_end(self) -> bool:
        """True when every byte was read."""
        return self.pos >= len(self.data)

    def error(self, text: str) -> ProtocolError:
        """A ProtocolError naming this message and the current offset."""
        return ProtocolError(f"{self.what}: {text}", self.offset)

    def _take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.error(f"truncated {what}: need {n} bytes, {self.remaining} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def get_int(self) -> int:
        """8-byte big-endian signed integer."""
        return _INT.unpack(self._take(8, "integer"))[0]

    def get_uint(self) -> int:
        """8-byte big-endian unsigned integer."""
        return _UINT.unpack(self._take(8, "integer"))[0]

    def get_bool(self) -> bool:
        """An int read as a boolean (non-zero = true)."""
        return self.get_int() != 0

    def get_char(self) -> int:
        """One raw byte (0..255)."""
        return self._take(1, "char")[0]

    def get_double(self) -> float:
        """Inverse of :meth:`Encoder.put_double` (ldexp(frac/2147483647, exp))."""
        start = self.offset
        frac = self.get_int()
        exp = self.get_int()
        if not -2000 <= exp <= 2000:
            raise ProtocolError(f"{self.what}: double exponent {exp} out of range", start)
        return math.ldexp(frac / _DOUBLE_SCALE, exp)

    def _get_raw_string(self) -> bytes | None:
        start = self.offset
        if not self.crypto_mode:
            if self.pos < len(self.data) and self.data[self.pos] == NULL_STRING_MARK:
                self.pos += 1
                return None
            end = self.data.find(b"\0", self.pos)
            if end < 0:
                raise ProtocolError(f"{self.what}: unterminated string", start)
            raw = self.data[self.pos:end]
            self.pos = end + 1
            return raw
        length = self.get_int()
        if length < 0 or length > MAX_STRING_LENGTH:
            raise ProtocolError(f"{self.what}: invalid string length {length}", start)
        body = self._take(length, "string")
        if body[:1] == bytes([NULL_STRING_MARK]):
            return None
        nul = body.find(b"\0")
        return body if nul < 0 else body[:nul]

    def get_string(self) -> str:
        """A string; a NULL string (0xFF mark) reads as ""."""
        raw = self._get_raw_string()
        return "" if raw is None else _dec_text(raw)

    def get_nullstr(self) -> str | None:
        """A string that may be NULL (legacy get_nullstr)."""
        raw = self._get_raw_string()
        return None if raw is None else _dec_text(raw)

    def get_bytes(self, n: int) -> bytes:
        """n raw bytes."""
        return self._take(n, "raw bytes")

    def finish(self) -> None:
        """end_of_message() on the receiving side: every byte must have been consumed."""
        if self.pos != len(self.data):
            raise self.error(f"{self.remaining} untouched bytes at end of message")
