"""ReliConnection.message_packets / CedarStream.put_message_parts: a message made and sent
packet by packet from pieces is, on the wire, exactly what send_message() makes of the
joined payload (reli_sock.cpp packet rules: payloads of ``chunk`` bytes, end flag 1 on the
last packet only; AES-GCM counter, IV and handshake digests as for any message)."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings, strategies as st

from pyhtc.cedar.framing import BIG_CHUNK, ReliConnection, _payload_chunks, split_packets

KEY = bytes(range(32))
IV = bytes(range(100, 116))


def _pair(aes: bool, warm: bool) -> tuple[ReliConnection, ReliConnection, ReliConnection]:
    """Two senders in the same state (same cleartext traffic, same key and IV) and a
    receiver; ``warm``: the AES first packet (IV + digests) is already sent."""
    a1, a2, b = ReliConnection(), ReliConnection(), ReliConnection(max_message=1 << 26)
    hello = a1.send_message(b"clear hello")
    assert a2.send_message(b"clear hello") == hello
    b.receive_data(hello)
    assert b.next_message().payload == b"clear hello"
    if aes:
        for a in (a1, a2):
            a.enable_aes(KEY, IV)
        b.enable_aes(KEY)
        if warm:
            first = a1.send_message(b"first")
            assert a2.send_message(b"first") == first
            b.receive_data(first)
            assert b.next_message().payload == b"first"
    return a1, a2, b


pieces_st = st.lists(st.binary(max_size=300), max_size=40)


@settings(max_examples=60, deadline=None)
@given(pieces=pieces_st, chunk=st.sampled_from([1, 7, 64, 4091]), aes=st.booleans(),
       warm=st.booleans())
def test_packets_equal_send_message_of_the_joined_payload(pieces, chunk, aes, warm):
    a1, a2, b = _pair(aes, warm)
    payload = b"".join(pieces)
    expected = a1.send_message(payload, chunk)
    got = b"".join(b"".join(bytes(x) for x in parts)
                   for parts in a2.message_packets(iter(pieces), chunk))
    assert got == expected
    assert a2.bytes_sent == a1.bytes_sent
    if payload:
        b.receive_data(got)
        msg = b.next_message()
        assert msg.payload == payload
        assert msg.packets == -(-len(payload) // chunk)
        # the connection goes on in step: the next message is the same too
        assert a2.send_message(b"next") == a1.send_message(b"next")


def test_payload_chunks_cut_across_pieces():
    big = bytes(range(256)) * 40  # 10240 bytes
    out = list(_payload_chunks([b"ab", big, b"", b"cd"], 4096))
    assert [(len(p), last) for p, last in out] == [(4096, False), (4096, False), (2052, True)]
    assert b"".join(bytes(p) for p, _ in out) == b"ab" + big + b"cd"
    assert list(_payload_chunks([], 10)) == [] and list(_payload_chunks([b""], 10)) == []
    assert [(bytes(p), last) for p, last in _payload_chunks([b"x" * 10], 10)] == [(b"x" * 10, True)]


def test_big_packets_of_a_reply_in_pieces():
    a1, a2, b = _pair(True, True)
    pieces = [b"\0" * 7 + b"\1", bytes(range(256)) * 5000] * 3  # ~3.8 MB: 4 packets
    wire = b"".join(b"".join(bytes(x) for x in parts)
                    for parts in a2.message_packets(pieces, BIG_CHUNK))
    assert wire == a1.send_message(b"".join(pieces), BIG_CHUNK)
    assert [e for _, e, _ in split_packets(wire)] == [0, 0, 0, 1]
    b.receive_data(wire)
    assert b.next_message().payload == b"".join(pieces)
    with pytest.raises(ValueError):
        list(a2.message_packets([b"x"], BIG_CHUNK + 1))


def test_put_message_parts_over_a_real_socket():
    """A handler's reply sent with put_message_parts() (a generator of pieces, after a
    put_int) reaches a client as one message, over loopback TCP with AES-GCM."""
    from pyhtc.cedar.commands import Command
    from pyhtc.cedar.security.policy import SecurityPolicy
    from pyhtc.cedar.transport_asyncio import CommandServer, open_command

    pieces = [bytes([i % 251]) * (1000 + 37 * i) for i in range(300)]  # ~1.9 MB: 2 packets
    total = sum(map(len, pieces))

    async def handler(stream):
        assert await stream.get_int() == 7
        await stream.end_of_message()
        stream.put_int(len(pieces))
        await stream.put_message_parts((p for p in pieces), big_packets=True)

    async def main():
        server = CommandServer(SecurityPolicy(), {Command.QUERY_STARTD_ADS: handler})
        await server.start("127.0.0.1", 0)
        try:
            s = await open_command("127.0.0.1", server.port, Command.QUERY_STARTD_ADS,
                                   SecurityPolicy())
            s.put_int(7)
            await s.end_of_message()
            n = await s.get_int()
            body = await s.get_bytes(total)
            done = await s.peek_end_of_message()
            await s.end_of_message()
            encrypted = s.encrypted
            await s.close()
            return n, body, done, encrypted
        finally:
            await server.close()

    n, body, done, encrypted = asyncio.run(main())
    assert n == len(pieces) and body == b"".join(pieces) and done and encrypted
