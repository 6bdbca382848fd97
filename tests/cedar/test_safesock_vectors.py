"""Decode every captured datagram (e24-e45) with the session learnt from the TCP handshake of the
same experiment, and re-encode them byte-for-byte."""
from __future__ import annotations

import pytest

from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.replay import decode_tcp_capture
from pyhtc.cedar.safesock import (SafeSockReceiver, build_datagrams, parse_fragment,
                                  parse_security_header)
from pyhtc.cedar.security.sessions import Session, SessionCache
from pyhtc.cedar.wire_ad import get_ad

from .conftest_paths import VECTOR_DIR
from .vectors import tcp_vectors, udp_vectors

UDP = udp_vectors(VECTOR_DIR)
TCP = {v.name.split(".")[0]: v for v in tcp_vectors(VECTOR_DIR) if v.name.endswith("conn1")}

# experiment -> the command numbers the datagrams must decode to, in order (None = the e28
# quirk: encrypted DC_NOP without a CRAP header, undecipherable by any receiver)
EXPECTED = {
    "e24_udp_advertise_startd_aes": [0, 0, 60011],
    "e25_udp_advertise_startd_plain": [0, 0, 60011],
    "e26_udp_advertise_startd_raw_never": [0, 0, 60011],
    "e27_udp_advertise_big_aes": [0, 0, 60011],
    "e28_udp_advertise_aes_frag300": [0, 0, None],
    "e29_udp_advertise_big_raw_never": [0, 0, 60011],
    "e30_udp_reschedule_aes": [421],
    "e31_udp_reschedule_raw_never": [421],
    "e33_udp_reschedule_cmd_not_in_validcommands": [421],
    "e45_udp_reschedule_fips_3des": [421],
}

# experiments whose datagrams are BLOWFISH/3DES-encrypted under a session
KEYED = {"e24_udp_advertise_startd_aes", "e27_udp_advertise_big_aes",
         "e28_udp_advertise_aes_frag300", "e30_udp_reschedule_aes",
         "e45_udp_reschedule_fips_3des"}


def _sessions_for(exp: str) -> SessionCache:
    cache = SessionCache()
    vec = TCP.get(exp)
    if vec is None:
        return cache
    cap = decode_tcp_capture(vec.c2s, vec.s2c, vec.key)
    post = get_ad(cap.s2c[-1].decoder())
    keyed = cap.reply_ad.get_str("ECDHPublicKey") is not None
    cache.add(Session(sid=post.get_str("Sid"), key=vec.key if keyed else None, user=None,
                      method=None, valid_commands=[], crypto_methods=[],
                      expires=float("inf")))
    return cache


def test_all_udp_experiments_covered():
    assert set(UDP) == set(EXPECTED)


@pytest.mark.parametrize("exp", sorted(UDP))
def test_decode_datagrams(exp):
    rx = SafeSockReceiver(_sessions_for(exp), cipher="3DES" if "3des" in exp else "BLOWFISH")
    got = []
    for dgram in UDP[exp]:
        try:
            cmd = rx.receive_datagram(dgram, "127.0.0.1:1")
        except ProtocolError:
            got.append(None)
            continue
        if cmd is None:
            continue  # message still incomplete
        if cmd.command not in (0, 421, 60011):
            got.append(None)  # undecipherable (e28 quirk) -> an unknown command number
            continue
        if cmd.command == 0:
            ad = get_ad(cmd.payload)
            assert ad.get_str("MyType") == "Machine"
        cmd.payload.finish()
        got.append(cmd.command)
        assert cmd.encrypted == (exp in KEYED)
    assert got == EXPECTED[exp]


@pytest.mark.parametrize("exp", sorted(UDP))
def test_reencode_datagrams(exp):
    """Rebuild each message's datagrams from the decrypted payload: identical bytes."""
    cache = _sessions_for(exp)
    cipher = "3DES" if "3des" in exp else "BLOWFISH"
    rx = SafeSockReceiver(cache, cipher=cipher)
    group: list[bytes] = []
    for dgram in UDP[exp]:
        group.append(dgram)
        message = rx.reassemble(dgram, "x")
        if message is None:
            continue
        hdr, hlen = parse_security_header(message)
        session = cache.get(hdr.enc_key_id) if hdr else None
        body = message[hlen:]
        if session is not None:
            body = rx.decrypt(session, body)
        frag = parse_fragment(group[0])
        size = len(group[0]) if len(group) > 1 else 59974
        again = build_datagrams(body, session=session, cipher=cipher, fragment_size=size,
                                key_id=hdr.enc_key_id if hdr else None,
                                msgid=frag.msgid if frag else None)
        assert again == group
        group = []


def test_fragment_limits():
    rx = SafeSockReceiver(max_fragments=4, max_message=1000)
    big = build_datagrams(b"\0" * 7 + b"\x05" + b"x" * 2000, fragment_size=300,
                          msgid=(1, 2, 3, 4))
    with pytest.raises(ProtocolError):
        for d in big:
            rx.receive_datagram(d)
    with pytest.raises(ProtocolError, match="exceeds"):
        parse_fragment(b"MaGic6.0" + b"\0" * 60000)


def test_reassembly_timeout_and_duplicates():
    now = [0.0]
    rx = SafeSockReceiver(timeout=5, clock=lambda: now[0])
    payload = (5).to_bytes(8, "big")
    frags = build_datagrams(payload + b"z" * 100, fragment_size=60, msgid=(9, 9, 9, 9))
    assert rx.reassemble(frags[0], "a") is None
    assert rx.reassemble(frags[0], "a") is None  # duplicate ignored
    now[0] = 10  # the partial message expires
    for f in frags[1:]:
        assert rx.reassemble(f, "a") is None
    assert rx.dropped == 1
    out = None
    for f in frags:
        out = rx.reassemble(f, "b") or out
    assert out == payload + b"z" * 100


def test_total_partial_bytes_bounded():
    rx = SafeSockReceiver(max_total=5000)
    for n in range(50):  # 50 never-completed messages of 1000-byte first fragments
        frags = build_datagrams(b"q" * 3000, fragment_size=1025, msgid=(n, 0, 0, 0))
        assert rx.reassemble(frags[0], "a") is None
    assert rx._total <= 5000 and rx.dropped >= 45


@pytest.mark.parametrize("method", ["BLOWFISH", "3DES"])
def test_cfb64_decryptor_agrees_with_the_cipher_library(method):
    # the key stream from one kept ECB context equals a fresh CFB64 decryptor's, for every
    # length (partial last blocks included) and across keys and messages
    import random

    from pyhtc.cedar.crypto import legacy_decrypt, legacy_encrypt
    from pyhtc.cedar.safesock import Cfb64Decryptor
    rng = random.Random(7)
    dec = Cfb64Decryptor(max_keys=2)
    keys = [rng.randbytes(32) for _ in range(3)]
    for n in list(range(0, 41)) + [4639, 4640, 59974]:
        key = keys[n % 3]
        data = rng.randbytes(n)
        assert dec.decrypt(method, key, data) == legacy_decrypt(method, key, data)
        plain = rng.randbytes(n)
        assert dec.decrypt(method, key, legacy_encrypt(method, key, plain)) == plain
    assert len(dec._ecb) <= 2
    with pytest.raises(ValueError, match="unsupported legacy cipher"):
        dec.decrypt("RC4", keys[0], b"x" * 8)
