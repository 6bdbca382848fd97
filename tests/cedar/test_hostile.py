"""Hostile input: random and mutated bytes (from the real captures) fed to every sans-IO
decoder.  Each either decodes or raises the documented ProtocolError (SecurityError is a
subclass) -- never another exception, and never an unbounded allocation."""
from __future__ import annotations

import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyhtc.cedar.errors import ConnectionClosed, ProtocolError
from pyhtc.cedar.framing import ReliConnection
from pyhtc.cedar.ops import RECV
from pyhtc.cedar.replay import decode_tcp_capture
from pyhtc.cedar.safesock import SafeSockReceiver
from pyhtc.cedar.security.negotiation import server_handshake
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.security.sessions import SessionCache
from pyhtc.cedar.sinful import Sinful, SinfulError
from pyhtc.cedar.wire_ad import get_ad

from .conftest_paths import VECTOR_DIR
from .vectors import tcp_vectors, udp_vectors

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TCP = tcp_vectors(VECTOR_DIR)
UDP = [d for ds in udp_vectors(VECTOR_DIR).values() for d in ds]


@st.composite
def mutated(draw, corpus):
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:  # plant a huge 4-byte length
            data[pos:pos + 4] = b"\xff\xff\xff\xf0"
    return bytes(data)


def _decode_all_messages(data: bytes) -> None:
    conn = ReliConnection(max_message=1 << 20)
    conn.receive_data(data)
    conn.receive_data(b"")
    while True:
        try:
            msg = conn.next_message()
        except ConnectionClosed:
            return
        dec = msg.decoder()
        dec.get_int()
        get_ad(dec)


def _check(fn, data):
    tracemalloc.start()
    try:
        fn(data)
    except ProtocolError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, f"decoder allocated {peak} bytes"


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_framing(data):
    _check(_decode_all_messages, data)


@SETTINGS
@given(mutated([v.c2s for v in TCP] + [v.s2c for v in TCP]))
def test_mutated_streams_framing(data):
    _check(_decode_all_messages, data)


@SETTINGS
@given(st.sampled_from(TCP), st.integers(0, 1), st.data())
def test_mutated_captures_replay(vec, which, data):
    stream = data.draw(mutated([vec.c2s if which == 0 else vec.s2c]))
    c2s, s2c = (stream, vec.s2c) if which == 0 else (vec.c2s, stream)
    _check(lambda _: decode_tcp_capture(c2s, s2c, vec.key), None)


def _udp_sessions() -> SessionCache:
    """The e24 session (from its TCP handshake), so mutated encrypted datagrams get decrypted."""
    from pyhtc.cedar.security.sessions import Session
    vec = next(v for v in TCP if v.name.startswith("e24"))
    cap = decode_tcp_capture(vec.c2s, vec.s2c, vec.key)
    post = get_ad(cap.s2c[-1].decoder())
    cache = SessionCache()
    cache.add(Session(post.get_str("Sid"), vec.key, None, None, [], [], float("inf")))
    return cache


UDP_SESSIONS = _udp_sessions()


@SETTINGS
@given(st.one_of(mutated(UDP), st.binary(max_size=300)))
def test_mutated_datagrams(data):
    rx = SafeSockReceiver(UDP_SESSIONS, max_message=1 << 20)

    def feed(d):
        cmd = rx.receive_datagram(d, "127.0.0.1:1")
        if cmd is not None:
            get_ad(cmd.payload)
    _check(feed, data)


@SETTINGS
@given(mutated([v.c2s for v in TCP if v.c2s]))
def test_server_handshake_on_mutated_client_streams(data):
    """The server state machine fed hostile client bytes."""
    srv = ReliConnection()
    srv.receive_data(data)
    srv.receive_data(b"")

    def run(_):
        gen = server_handshake(srv, SecurityPolicy(authentication=__import__(
            "pyhtc.cedar.security.policy", fromlist=["Level"]).Level.OPTIONAL),
            SessionCache(), my_ip="127.0.0.1", my_port=1, peer_address="127.0.0.1:2")
        value = None
        try:
            while True:
                op = gen.send(value)
                value = srv.next_message() if op is RECV else None
        except StopIteration:
            pass
        except ConnectionClosed:
            pass
    _check(run, None)


@SETTINGS
@given(st.text(max_size=80)
       | st.from_regex(r"<[0-9.]{1,15}:[0-9]{1,6}(\?[a-zA-Z%&;=+\-.0-9\[\]]*)?>"))
def test_sinful_parser(text):
    try:
        s = Sinful.parse(text)
    except SinfulError:
        return
    assert Sinful.parse(str(s)) == s


@SETTINGS
@given(st.binary(max_size=700), st.binary(max_size=400))
def test_idtokens_server_on_random_messages(m1, m3):
    """auth_token.server fed random M1/M3 bodies (as whole messages)."""
    from pyhtc.cedar.framing import Message
    from pyhtc.cedar.security.auth_token import SigningKeys, server

    def run(_):
        conn = ReliConnection()
        gen = server(conn, SigningKeys(clear_keys={"POOL": b"k" * 32}))
        msgs = iter([Message(m1, 0, 0, False), Message(m3, 0, 1, False)])
        value = None
        try:
            while True:
                op = gen.send(value)
                value = next(msgs) if op is RECV else None
        except StopIteration:
            pass
    _check(run, None)
