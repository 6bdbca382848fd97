"""IDTOKENS: token minting and the M1/M2/M3 hashes checked against the real client's captures
(i01, i02, i08, i12), plus our own client and server against each other."""
from __future__ import annotations

import pytest

from pyhtc.cedar.errors import SecurityError
from pyhtc.cedar.replay import decode_tcp_capture
from pyhtc.cedar.security import auth_token as T

from .conftest_paths import AUTH_VECTOR_DIR
from .vectors import tcp_vectors

KEYS = AUTH_VECTOR_DIR / "keys"
POOL_CLEAR = bytes.fromhex(
    "8e32d333652cf6e70c92c24dd4ca035431a093c1ae7bd6f34f83a02c54181b58"
    "f31454e627808cbff5ed3662b3d610e49fc231e518ec21325a70e4d8b80637ee")
VECTORS = {v.name.split(".")[0][:3]: v for v in tcp_vectors(AUTH_VECTOR_DIR)}


def test_scrambled_key_file():
    keys = T.SigningKeys(password_dir=str(KEYS / "passwords.d"))
    assert keys.get("POOL") == POOL_CLEAR
    assert keys.names() == ["AP", "POOL"]
    assert keys.get("../POOL") is None and keys.get("nope") is None


def test_mint_reproduces_the_capture_token():
    token = (KEYS / "tokens.d" / "alice_pool").read_text().strip()
    _, header, claims, sig = T.split_token(token)
    assert sig.hex() == "4f09226711596a993c3444c2166ab11936b76ab3211ad10a2d54d434c90ed5fd"
    again = T.mint_token(POOL_CLEAR, kid="POOL", subject=claims["sub"], issuer=claims["iss"],
                         lifetime=claims["exp"] - claims["iat"], scopes=["READ", "WRITE"],
                         now=claims["iat"], jti=claims["jti"])
    assert again == token


@pytest.mark.parametrize("exp", ["i01", "i02", "i08", "i12"])
def test_hashes_match_real_client(exp):
    """Recompute sig -> ka -> hkt/hk from the captured M1/M2/M3 with the signing keys."""
    vec = VECTORS[exp]
    cap = decode_tcp_capture(vec.c2s, vec.s2c, vec.key)
    # locate the three TOKEN messages: client M1 follows the bitmask offering 2048
    i = next(k for k, m in enumerate(cap.c2s) if m.decoder().get_int() & 2048
             and len(m.payload) == 8)
    m1, m3 = cap.c2s[i + 1].decoder(), cap.c2s[i + 2].decoder()
    j = next(k for k, m in enumerate(cap.s2c) if len(m.payload) == 8
             and m.decoder().get_int() == 2048)
    m2 = cap.s2c[j + 1].decoder()
    assert m1.get_int() == 0
    a = T._read_name(m1)
    signing_input = m1.get_string()
    ra = T._read_blob(m1, 256)
    m1.finish()
    _, header, claims, _ = T.split_token(signing_input + ".")
    keys = T.SigningKeys(password_dir=str(KEYS / "passwords.d"))
    sig, _ = T.verify_token_claims(header, claims, signing_input, keys)
    ka = T.derive_ka(sig, signing_input)
    assert m2.get_int() == 0 and T._read_name(m2) == a
    b = T._read_name(m2)
    assert T._read_blob(m2, 256) == ra
    rb = T._read_blob(m2, 256)
    assert T._read_blob(m2, 20) == T.server_hash(ka, a, b, ra, rb)
    assert m3.get_int() == 0 and T._read_name(m3) == a and T._read_blob(m3, 256) == rb
    assert T._read_blob(m3, 20) == T.client_hash(ka, a, rb)
    assert a == claims["sub"] and b == "condor@password"


def test_claim_validation():
    keys = T.SigningKeys(clear_keys={"POOL": POOL_CLEAR})
    expired = T.mint_token(POOL_CLEAR, kid="POOL", subject="c@d", issuer="i", lifetime=10,
                           now=1000)
    s, h, c, _ = T.split_token(expired)
    with pytest.raises(SecurityError, match="expired"):
        T.verify_token_claims(h, c, s, keys)
    s, h, c, _ = T.split_token(T.mint_token(POOL_CLEAR, kid="AP", subject="x", issuer="i"))
    with pytest.raises(SecurityError, match="no signing key"):
        T.verify_token_claims(h, c, s, keys)
    with pytest.raises(SecurityError, match="compact JWT"):
        T.split_token("abc")


def test_token_discovery_rules(tmp_path):
    d = tmp_path / "tokens.d"
    d.mkdir()
    good = T.mint_token(POOL_CLEAR, kid="POOL", subject="alice@x", issuer="x")
    other = T.mint_token(POOL_CLEAR, kid="POOL", subject="mallory@y", issuer="y")
    ap = T.mint_token(POOL_CLEAR, kid="AP", subject="bob@x", issuer="x")
    for name, text, mode in (("a_other", other, 0o600), ("b_ap", ap, 0o600),
                             ("c_good", "# comment\n\n" + good, 0o600),
                             ("d_open", good, 0o644), ("e.sh", good, 0o600)):
        (d / name).write_text(text + "\n")
        (d / name).chmod(mode)
    assert T.find_token(str(d), issuer="x") == ap  # sorted order, wrong issuer skipped
    assert T.find_token(str(d), issuer="x", issuer_keys=["POOL"]) == good
    assert T.find_token(str(d), issuer="z") is None
    (d / "TOOL_auto_generated_token").write_text(other + "\n")
    (d / "TOOL_auto_generated_token").chmod(0o600)
    assert T.find_token(str(d)) == other  # the auto-generated token is tried first
    (d / "c_good").chmod(0o640)
    assert T.find_token(str(d), issuer="x", issuer_keys=["POOL"]) is None  # group bits


def test_negotiated_client_finds_token_by_trust_domain(tmp_path):
    """Our client picks the token whose iss equals the server's TrustDomain."""
    import os
    from pyhtc.cedar.framing import ReliConnection
    from pyhtc.cedar.ops import drive_pair
    from pyhtc.cedar.security.negotiation import client_start_command, server_handshake
    from pyhtc.cedar.security.policy import Level, SecurityPolicy
    from pyhtc.cedar.security.sessions import SessionCache
    key = os.urandom(32)
    d = tmp_path / "t"
    d.mkdir()
    for name, iss, sub in (("a", "elsewhere", "eve@e"), ("b", "pool.x", "carol@pool.x")):
        (d / name).write_text(T.mint_token(key, kid="POOL", subject=sub, issuer=iss))
        (d / name).chmod(0o600)
    server = SecurityPolicy(authentication=Level.REQUIRED, auth_methods=["TOKEN"],
                            trust_domain="pool.x",
                            signing_keys=T.SigningKeys(clear_keys={"POOL": key}))
    client = SecurityPolicy(auth_methods=["TOKEN"], token_directory=str(d))
    c, s = ReliConnection(), ReliConnection()
    _, start = drive_pair(
        client_start_command(c, 5, client, server_address="127.0.0.1:1"), c,
        server_handshake(s, server, SessionCache(), my_ip="127.0.0.1", my_port=1,
                         peer_address="127.0.0.1:2"), s)
    assert start.peer.user == "carol@pool.x"
