from __future__ import annotations

import struct

import pytest

from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.framing import ReliConnection, split_packets


def test_message_roundtrip_and_packetization():
    a, b = ReliConnection(), ReliConnection()
    payload = bytes(range(256)) * 40  # 10240 bytes -> 4091 + 4091 + 2058
    wire = a.send_message(payload)
    assert [len(p) for _, _, p in split_packets(wire)] == [4091, 4091, 2058]
    assert [e for _, e, _ in split_packets(wire)] == [0, 0, 1]
    for i in range(0, len(wire), 7):  # byte-by-byte-ish delivery
        b.receive_data(wire[i:i + 7])
    m = b.next_message()
    assert m.payload == payload and m.packets == 3
    assert b.next_message() is None
    assert a.send_message(b"") == b""  # empty message: nothing on the wire


def test_4gib_length_prefix_refused_without_allocation():
    c = ReliConnection()
    c.receive_data(b"\x01\x00\x00\x00\x05hello" + b"\x01\xff\xff\xff\xff")
    assert c.next_message().payload == b"hello"
    with pytest.raises(ProtocolError) as ei:
        c.next_message()
    assert ei.value.offset == 11 and "bad packet length" in str(ei.value)
    c = ReliConnection()
    c.receive_data(b"\x01" + struct.pack(">I", 0x7FFFFFFF))
    with pytest.raises(ProtocolError, match="bad packet length"):
        c.next_message()


def test_bad_end_flag_and_zero_length():
    c = ReliConnection()
    c.receive_data(b"\x0b\x00\x00\x00\x01x")
    with pytest.raises(ProtocolError, match="end flag"):
        c.next_message()
    c = ReliConnection()
    c.receive_data(b"\x01\x00\x00\x00\x00")
    with pytest.raises(ProtocolError, match="bad packet length 0"):
        c.next_message()


def test_message_size_cap():
    a, b = ReliConnection(), ReliConnection(max_message=5000)
    b.receive_data(a.send_message(b"x" * 9000))
    with pytest.raises(ProtocolError, match="5000-byte limit"):
        b.next_message()


def test_eof_mid_message():
    a, b = ReliConnection(), ReliConnection()
    b.receive_data(a.send_message(b"x" * 5000)[:4200])
    b.receive_data(b"")
    with pytest.raises(ProtocolError, match="middle|inside"):
        b.next_message()


def test_aes_both_directions_with_handshake_digest():
    key = bytes(range(32))
    a, b = ReliConnection(), ReliConnection()
    b.receive_data(a.send_message(b"hello in clear"))
    a.receive_data(b.send_message(b"reply in clear"))
    assert b.next_message().payload == b"hello in clear"
    assert a.next_message().payload == b"reply in clear"
    a.enable_aes(key)
    b.enable_aes(key)
    assert a.crypto_mode and a.encoder().put_string("x").data == struct.pack(">q", 2) + b"x\0"
    wire = a.send_message(b"secret" * 2000)
    assert b"secret" not in wire
    first = split_packets(wire)[0]
    assert len(first[2]) == 16 + 4091 + 16  # IV + ciphertext + tag on the first packet
    b.receive_data(wire)
    assert b.next_message().payload == b"secret" * 2000
    a.receive_data(b.send_message(b"back"))
    assert a.next_message().payload == b"back"


def test_aes_digest_mismatch_detected():
    """A peer that saw different cleartext traffic (e.g. a tampered handshake) cannot decrypt
    the first encrypted packet: the digests are part of its AAD."""
    key = bytes(32)
    a, b = ReliConnection(), ReliConnection()
    b.receive_data(a.send_message(b"one"))
    b.next_message()
    b.record_received(b"tampered")
    a.enable_aes(key)
    b.enable_aes(key)
    b.receive_data(a.send_message(b"x"))
    with pytest.raises(ProtocolError, match="tag mismatch"):
        b.next_message()


def test_first_encrypted_packet_too_short():
    b = ReliConnection()
    b.enable_aes(bytes(32))
    b.receive_data(b"\x01\x00\x00\x00\x03abc")
    with pytest.raises(ProtocolError, match="too short"):
        b.next_message()


def test_big_packets_up_to_the_receivers_limit():
    from pyhtc.cedar.framing import BIG_CHUNK, MAX_PACKET_LEN, split_packets
    payload = bytes(range(256)) * 9000  # 2.3 MB: three packets
    for aes in (False, True):
        a, b = ReliConnection(), ReliConnection(max_message=8 * 1024 * 1024)
        if aes:
            a.enable_aes(b"k" * 32)
            b.enable_aes(b"k" * 32)
        wire = a.send_message(payload, BIG_CHUNK)
        packets = split_packets(wire)
        assert len(packets) == 3 and all(len(p[2]) <= MAX_PACKET_LEN for p in packets)
        assert [p[1] for p in packets] == [0, 0, 1]
        b.receive_data(wire)
        assert b.next_message().payload == payload
    with pytest.raises(ValueError):
        ReliConnection().send_message(b"x", BIG_CHUNK + 1)
