from __future__ import annotations

import math
import struct

import pytest

from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.cedar.errors import ProtocolError


def test_int_is_8_bytes_big_endian():
    assert Encoder().put_int(5).data == bytes(7) + b"\x05"
    assert Encoder().put_int(-1).data == b"\xff" * 8
    assert Encoder().put_int(60010).data == bytes.fromhex("000000000000ea6a")
    assert Encoder().put_int(2**64 - 1).data == b"\xff" * 8  # uint64 wraps
    with pytest.raises(ValueError):
        Encoder().put_int(2**64)
    d = Decoder(Encoder().put_int(-2**63).put_int(2**63 - 1).data)
    assert d.get_int() == -2**63 and d.get_int() == 2**63 - 1
    d.finish()


def test_strings_clear_and_crypto_mode():
    assert Encoder().put_string("ab").data == b"ab\0"
    assert Encoder(True).put_string("ab").data == struct.pack(">q", 3) + b"ab\0"
    assert Encoder(True).put_string("").data == struct.pack(">q", 1) + b"\0"
    for crypto in (False, True):
        d = Decoder(Encoder(crypto).put_string("héllo").put_string("").data, crypto)
        assert d.get_string() == "héllo" and d.get_string() == ""
        d.finish()
    with pytest.raises(ValueError):
        Encoder().put_string("a\0b")


def test_null_string():
    assert Encoder().put_nullstr(None).data == b"\xff"
    d = Decoder(b"\xffabc\0")
    assert d.get_nullstr() is None and d.get_nullstr() == "abc"
    d = Decoder(Encoder(True).put_nullstr(None).data, True)
    assert d.get_nullstr() is None


def test_double_and_char():
    e = Encoder().put_double(0.0).put_char(0x41).put_double(-3.75)
    d = Decoder(e.data)
    assert e.data[:16] == bytes(16)  # send_alive's double 0.0 = int 0, int 0 (e43)
    assert d.get_double() == 0.0 and d.get_char() == 0x41
    assert math.isclose(d.get_double(), -3.75, rel_tol=1e-9)
    d.finish()


def test_errors_carry_offsets():
    d = Decoder(b"\0" * 12, what="msg")
    d.get_int()
    with pytest.raises(ProtocolError) as ei:
        d.get_int()
    assert ei.value.offset == 8 and "truncated" in str(ei.value)
    with pytest.raises(ProtocolError, match="unterminated"):
        Decoder(b"abc").get_string()
    with pytest.raises(ProtocolError, match="invalid string length"):
        Decoder(struct.pack(">q", 4 * 1024**3) + b"x", True).get_string()
    d = Decoder(b"\0" * 9)
    d.get_int()
    with pytest.raises(ProtocolError, match="1 untouched bytes"):
        d.finish()
