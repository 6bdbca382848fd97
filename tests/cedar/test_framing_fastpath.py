"""The per-message fast paths of ReliSock framing agree with the general ones:
``AesGcmDirection.seal_last`` / ``open_next`` with ``seal`` / ``open``, and
``ReliConnection.next_messages`` with ``next_message`` in a loop, whatever the chunking of
the received bytes, with multi-packet messages, the first (IV-carrying) packet, a tampered
packet and a size cap among them."""
from __future__ import annotations

import os
import random

import pytest

from pyhtc.cedar.crypto import AesGcmDirection, packet_iv
from pyhtc.cedar.errors import ProtocolError, SecurityError
from pyhtc.cedar.framing import ReliConnection

KEY = bytes(range(32))


def test_seal_last_and_open_next_equal_the_general_calls():
    iv = bytes(range(100, 116))
    a, b = AesGcmDirection(KEY, iv), AesGcmDirection(KEY, iv)
    a.seal(b"first", 1, b"digests")
    b.seal(b"first", 1, b"digests")
    for i, pt in enumerate([b"x", b"", bytes(300), b"hello" * 9]):
        fast = a.seal_last(pt)
        assert fast == b.seal(pt, 1)
        assert a.counter == b.counter == i + 2
    # the IV counter wraps in its first 4 bytes (condor_crypt_aesgcm.cpp)
    top = AesGcmDirection(KEY, b"\xff\xff\xff\xfe" + bytes(12))
    top.counter = 5
    assert top._iv() == packet_iv(top.base_iv, 5) == b"\x00\x00\x00\x03" + bytes(12)
    with pytest.raises(ValueError):
        AesGcmDirection(KEY).seal_last(b"x")  # the first packet carries the IV


def test_open_next_refuses_tampering_with_the_offset():
    tx, rx = AesGcmDirection(KEY), AesGcmDirection(KEY)
    first = tx.seal(b"one", 1)
    rx.open(first[:5], first[5:], 0)
    pkt = bytearray(tx.seal_last(b"two"))
    pkt[-1] ^= 1
    with pytest.raises(SecurityError) as ei:
        rx.open_next(bytes(pkt[:5]), bytes(pkt[5:]), 1234)
    assert ei.value.offset == 1234
    assert rx.counter == 1  # not advanced by a failed packet


def _pair(**kw):
    a, b = ReliConnection(), ReliConnection(**kw)
    a.enable_aes(KEY)
    b.enable_aes(KEY)
    return a, b


@pytest.mark.parametrize("seed", range(4))
def test_next_messages_equals_next_message_loop(seed):
    rnd = random.Random(seed)
    sender, r1 = _pair()
    r2 = ReliConnection()
    r2.enable_aes(KEY)
    payloads = [os.urandom(rnd.choice([1, 8, 40, 300, 5000, 9000])) for _ in range(200)]
    wire = b"".join(sender.send_message(p) for p in payloads)
    got1, got2 = [], []
    pos = 0
    while pos < len(wire):
        n = rnd.choice([1, 7, 64, 1000, 65536])
        r1.receive_data(wire[pos:pos + n])
        r2.receive_data(wire[pos:pos + n])
        pos += n
        while (m := r1.next_message()) is not None:
            got1.append(m)
        while ms := r2.next_messages():
            got2.extend(ms)
    assert [m.payload for m in got2] == payloads
    assert [(m.payload, m.offset, m.index, m.packets, m.crypto_mode) for m in got1] == \
           [(m.payload, m.offset, m.index, m.packets, m.crypto_mode) for m in got2]
    assert r2.bytes_received == len(wire) and not r2.has_buffered_data()


def test_next_messages_stops_at_a_tampered_packet():
    sender, rx = _pair()
    wire = bytearray(b"".join(sender.send_message(b"m%d" % i) for i in range(5)))
    sizes = [5 + 16 + 16 + 2] + [5 + 16 + 2] * 4  # the first packet carries the 16-byte IV
    bad_at = sum(sizes[:3])
    wire[bad_at + 6] ^= 0x40  # the 4th message's ciphertext
    rx.receive_data(bytes(wire))
    assert [m.payload for m in rx.next_messages()] == [b"m0"]  # the first packet: general path
    with pytest.raises(SecurityError) as ei:
        rx.next_messages()
    assert ei.value.offset == bad_at
    # messages before the bad one were consumed; their state stays consistent
    assert rx.bytes_received == bad_at


def test_next_messages_message_cap_and_unencrypted():
    sender, rx = _pair(max_message=100)
    wire = sender.send_message(b"a") + sender.send_message(b"b" * 50) + sender.send_message(b"c" * 200)
    rx.receive_data(wire)
    assert [m.payload for m in rx.next_messages()] == [b"a"]
    assert [m.payload for m in rx.next_messages()] == [b"b" * 50]
    with pytest.raises(ProtocolError, match="100-byte limit"):
        rx.next_messages()
    plain_tx, plain_rx = ReliConnection(), ReliConnection()
    plain_rx.receive_data(plain_tx.send_message(b"x") + plain_tx.send_message(b"y"))
    assert [m.payload for m in plain_rx.next_messages()] == [b"x"]  # one at a time, in order
    assert [m.payload for m in plain_rx.next_messages()] == [b"y"]
    assert plain_rx.next_messages() == []


def test_send_messages_equals_send_message_each():
    iv = bytes(range(16))
    a, b = ReliConnection(), ReliConnection()
    a.enable_aes(KEY, iv)
    b.enable_aes(KEY, iv)
    batches = [[b"first"], [b"x", b"yy" * 30, b""], [bytes(5000), b"z"], [b"q"] * 50]
    for payloads in batches:  # the first packet, an empty message, a multi-packet one
        assert a.send_messages(payloads) == b"".join(b.send_message(p) for p in payloads)
    assert a.bytes_sent == b.bytes_sent and a._send_aes.counter == b._send_aes.counter
    plain_a, plain_b = ReliConnection(), ReliConnection()
    assert plain_a.send_messages([b"1", b"22"]) == plain_b.send_message(b"1") + plain_b.send_message(b"22")
