"""One AES-GCM context per session key (cedar/crypto.py aead_for): shared by both directions
and by every connection of the session, with the per-direction counters and IVs apart."""
import os

import pytest

from pyhtc.cedar import crypto
from pyhtc.cedar.crypto import AesGcmDirection, aead_for
from pyhtc.cedar.framing import ReliConnection


def test_one_context_per_key_shared_by_directions():
    key = os.urandom(32)
    a, b = AesGcmDirection(key), AesGcmDirection(bytearray(key))
    assert a.aead is b.aead is aead_for(key)
    assert AesGcmDirection(os.urandom(32)).aead is not a.aead
    # the two directions still keep their own counters and IVs
    c = AesGcmDirection(key)
    pkt = a.seal(b"hello", 1)
    assert c.open(pkt[:5], pkt[5:], 0) == b"hello"
    assert (a.counter, b.counter, c.counter) == (1, 0, 1)


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(crypto, "_AEADS", {})
    monkeypatch.setattr(crypto, "_AEADS_MAX", 3)
    keys = [os.urandom(32) for _ in range(5)]
    for k in keys:
        aead_for(k)
    assert len(crypto._AEADS) <= 3 and keys[-1] in crypto._AEADS


def test_connections_sharing_a_key_interoperate():
    """Two connections of one session (same key) both ways: each message decrypts on its
    peer, whatever the other connection did meanwhile."""
    key = os.urandom(32)
    c1, s1, c2, s2 = (ReliConnection() for _ in range(4))
    for conn in (c1, s1, c2, s2):
        conn.enable_aes(key)
    for i in range(3):
        for a, b in ((c1, s1), (s2, c2), (c2, s2), (s1, c1)):
            b.receive_data(a.send_message(f"m{i}".encode()))
            assert b.next_message().payload == f"m{i}".encode()


def test_bad_key_length():
    with pytest.raises(ValueError):
        AesGcmDirection(b"short")
