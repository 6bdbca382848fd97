"""Decode every captured TCP stream of the real client (both directions), decrypt the AES
runs with the logged keys, and re-encode both sides byte-for-byte."""
from __future__ import annotations


import pytest

from pyhtc.cedar.codec import Encoder
from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.framing import ReliConnection
from pyhtc.cedar.replay import decode_tcp_capture
from pyhtc.cedar.wire_ad import get_ad, put_ad

from .conftest_paths import AUTH_VECTOR_DIR, VECTOR_DIR
from .vectors import tcp_vectors

VECTORS = tcp_vectors(VECTOR_DIR) + tcp_vectors(AUTH_VECTOR_DIR)


def _reencode(messages, other_clear: bytes, key, iv) -> bytes:
    """Re-send the decoded messages through a fresh connection with the same key and IV."""
    conn = ReliConnection()
    out = bytearray()
    for m in messages:
        if m.crypto_mode and not conn.crypto_mode:
            conn.record_received(other_clear)
            conn.enable_aes(key, send_iv=iv)
        out += conn.send_message(m.payload)
    return bytes(out)


def _reencode_known(payload: bytes, crypto: bool) -> bytes | None:
    """Parse the message as one of the common shapes and re-encode it; None = other shape."""
    from pyhtc.cedar.codec import Decoder
    shapes = ("ad", "int+ad", "int", "query_reply")
    for shape in shapes:
        d = Decoder(payload, crypto)
        e = Encoder(crypto)
        try:
            if shape == "ad":
                put_ad(e, get_ad(d))
            elif shape == "int+ad":
                e.put_int(d.get_int())
                put_ad(e, get_ad(d))
            elif shape == "int":
                e.put_int(d.get_int())
            else:
                while True:
                    more = d.get_int()
                    e.put_int(more)
                    if more == 0:
                        break
                    put_ad(e, get_ad(d))
            d.finish()
        except ProtocolError:
            continue
        return e.data
    return None


def test_vectors_present():
    assert len(VECTORS) >= 47 + 17


@pytest.mark.parametrize("vec", VECTORS, ids=[v.name for v in VECTORS])
def test_decode_and_reencode(vec):
    cap = decode_tcp_capture(vec.c2s, vec.s2c, vec.key)
    # every byte of both directions was consumed into messages
    assert sum(m.packets for m in cap.c2s) == len([1 for _ in _packets(vec.c2s)])
    assert sum(m.packets for m in cap.s2c) == len([1 for _ in _packets(vec.s2c)])
    if ("aes" in vec.name or vec.name.startswith("i")) and vec.key is not None \
            and cap.first_int == Command.DC_AUTHENTICATE:
        assert cap.encrypted, "AES experiment should have been decrypted"
    if vec.name.startswith(("i01", "i02", "i08", "i12")):
        assert cap.auth_method == "TOKEN"
    if vec.name.startswith(("i13", "i14")):
        assert cap.auth_method == "SSL"
    # byte-identical re-encoding of both directions (AES with the recorded IVs)
    assert _reencode(cap.s2c, vec.c2s[:cap.c2s_cleartext_bytes], vec.key,
                     cap.s2c_base_iv) == vec.s2c
    assert _reencode(cap.c2s, vec.s2c[:cap.s2c_cleartext_bytes], vec.key,
                     cap.c2s_base_iv) == vec.c2s
    # the security ads and every message of a common shape re-encode to the same plaintext
    if cap.auth_ad is not None:
        e = Encoder(False).put_int(Command.DC_AUTHENTICATE)
        assert put_ad(e, cap.auth_ad).data == cap.c2s[0].payload
        assert cap.auth_ad.get_int("Command") is not None
    known = 0
    for m in cap.c2s + cap.s2c:
        again = _reencode_known(m.payload, m.crypto_mode)
        if again is not None:
            assert again == m.payload
            known += 1
    if cap.s2c:
        assert known >= 1


def _packets(stream: bytes):
    from pyhtc.cedar.framing import split_packets
    return split_packets(stream)


def test_e02_plaintext_content():
    vec = next(v for v in VECTORS if v.name.startswith("e02"))
    cap = decode_tcp_capture(vec.c2s, vec.s2c, vec.key)
    assert cap.auth_ad.get_str("Enact") == "NO"
    assert cap.reply_ad.get_str("CryptoMethods") == "AES"
    post = get_ad(cap.s2c[1].decoder())
    assert post.get_str("ReturnCode") == "AUTHORIZED"
    assert 5 in [int(x) for x in post.get_str("ValidCommands").split(",")]
    query = get_ad(cap.c2s[1].decoder())
    assert query.get_str("TargetType") == "Machine"
    d = cap.s2c[2].decoder()
    assert d.get_int() == 1
    ad = get_ad(d)
    assert ad.get_str("Quote") == 'say "hi"\\there'
    assert d.get_int() == 0
    d.finish()


def test_wrong_key_is_a_protocol_error():
    vec = next(v for v in VECTORS if v.name.startswith("e02"))
    with pytest.raises(ProtocolError, match="tag mismatch"):
        decode_tcp_capture(vec.c2s, vec.s2c, bytes(32))


def test_replay_command_line(tmp_path):
    import subprocess
    import sys
    vec = next(v for v in VECTORS if v.name.startswith("e02"))
    (tmp_path / "c").write_bytes(vec.c2s)
    (tmp_path / "s").write_bytes(vec.s2c)
    out = subprocess.run([sys.executable, "-m", "pyhtc.cedar.replay", str(tmp_path / "c"),
                          str(tmp_path / "s"), vec.key.hex()], capture_output=True, text=True,
                         check=True).stdout
    assert "encrypted=True" in out and "Sid = " in out and "MyType = \"Query\"" in out
    bad = subprocess.run([sys.executable, "-m", "pyhtc.cedar.replay", str(tmp_path / "c"),
                          str(tmp_path / "s"), "00" * 32], capture_output=True, text=True)
    assert bad.returncode == 1 and "tag mismatch" in bad.stderr
