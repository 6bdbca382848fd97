"""Security negotiation, both sides, driven in memory (no sockets) through ops.drive_pair."""
from __future__ import annotations

import os

import pytest

from pyhtc.cedar.errors import SecurityError
from pyhtc.cedar.framing import ReliConnection
from pyhtc.cedar.ops import RECV, Send, drive_pair
from pyhtc.cedar.security.negotiation import (ClientSessionCache, client_start_command,
                                              server_handshake)
from pyhtc.cedar.security.policy import Decision, Level, SecurityPolicy, reconcile
from pyhtc.cedar.security.sessions import SessionCache
from pyhtc.cedar.wire_ad import WireAd, get_ad, put_ad

R, P, O, N = Level.REQUIRED, Level.PREFERRED, Level.OPTIONAL, Level.NEVER


@pytest.mark.parametrize("client, server, want", [
    (R, R, "YES"), (R, P, "YES"), (R, O, "YES"), (R, N, "FAIL"),
    (P, R, "YES"), (P, P, "YES"), (P, O, "YES"), (P, N, "NO"),
    (O, R, "YES"), (O, P, "YES"), (O, O, "NO"), (O, N, "NO"),
    (N, R, "FAIL"), (N, P, "NO"), (N, O, "NO"), (N, N, "NO"),
])
def test_reconcile_table(client, server, want):
    if want == "FAIL":
        with pytest.raises(SecurityError):
            reconcile(client, server)
    else:
        assert reconcile(client, server) is Decision(want)


def _run(client_policy, server_policy, command=5, cache=None, sessions=None, payload=None,
         claim_user="alice@example.org"):
    c, s = ReliConnection(), ReliConnection()
    sessions = sessions if sessions is not None else SessionCache()

    def client():
        result = yield from client_start_command(
            c, command, client_policy, server_address="127.0.0.1:9618", cache=cache,
            claim_user=claim_user,
            raw_payload=put_ad(c.encoder(), payload).data if payload else b"")
        if not result.raw and payload is not None:
            yield Send(put_ad(c.encoder(), payload).data)
        answer = yield RECV
        return result, answer.decoder().get_string()

    def server():
        start = yield from server_handshake(s, server_policy, sessions, my_ip="127.0.0.1",
                                            my_port=9618, peer_address="127.0.0.1:5555")
        got = None
        if payload is not None:
            dec = start.payload if start.payload is not None else (yield RECV).decoder()
            got = get_ad(dec)
            dec.finish()
        yield Send(s.encoder().put_string(f"ok {start.command}").data)
        return start, got

    return drive_pair(client(), c, server(), s)


def test_negotiated_aes_session_and_resume():
    cache, sessions = ClientSessionCache(), SessionCache()
    pol = SecurityPolicy(authentication=N)
    (cres, answer), (start, got) = _run(pol, SecurityPolicy(valid_commands=[5, 6]), cache=cache,
                                       sessions=sessions,
                                       payload=WireAd.from_values({"MyType": "Query"}))
    assert answer == "ok 5" and got.get("MyType") == "Query"
    assert cres.encrypted and start.encrypted and start.negotiated
    assert cres.session.valid_commands == [5, 6] and len(sessions) == 1
    # second command on a new connection resumes by Sid: no new session, still AES
    (cres2, answer2), (start2, _) = _run(pol, SecurityPolicy(), command=6, cache=cache,
                                        sessions=sessions)
    assert answer2 == "ok 6" and start2.session is start.session and cres2.encrypted
    assert start2.policy_ad.get_str("UseSession") == "YES" and len(sessions) == 1


def test_resume_unknown_session_fails():
    cache = ClientSessionCache()
    _run(SecurityPolicy(authentication=N), SecurityPolicy(), cache=cache)
    with pytest.raises(SecurityError, match="unknown session"):
        _run(SecurityPolicy(authentication=N), SecurityPolicy(), cache=cache,
             sessions=SessionCache())


def test_raw_command_and_refusal():
    (cres, answer), (start, got) = _run(SecurityPolicy(negotiation=N), SecurityPolicy(),
                                       payload=WireAd.from_values({"A": 1}))
    assert cres.raw and not start.negotiated and got.get("A") == 1 and answer == "ok 5"
    with pytest.raises(SecurityError, match="REQUIRED"):
        _run(SecurityPolicy(negotiation=N), SecurityPolicy(authentication=R))


def test_server_enforces_required_encryption_against_client_never():
    with pytest.raises(SecurityError, match="mismatch"):
        _run(SecurityPolicy(encryption=N), SecurityPolicy(encryption=R))


def test_cleartext_session_when_nobody_wants_crypto():
    (cres, _), (start, _) = _run(SecurityPolicy(authentication=N, encryption=N, integrity=N),
                                 SecurityPolicy(encryption=O, integrity=O, always_key=False))
    assert not cres.encrypted and not start.encrypted


def test_claimtobe_authentication():
    pol = SecurityPolicy(auth_methods=["CLAIMTOBE"])
    (cres, _), (start, _) = _run(pol, SecurityPolicy(authentication=R,
                                                     auth_methods=["CLAIMTOBE"]))
    assert start.peer.user == "alice@example.org" and start.peer.method == "CLAIMTOBE"
    assert cres.post_auth.get_str("User") == "alice@example.org"
    assert cres.encrypted


def test_fs_authentication_same_host(tmp_path):
    import pwd
    me = pwd.getpwuid(os.getuid()).pw_name
    pol = SecurityPolicy(auth_methods=["FS"], fs_dir=str(tmp_path))
    (cres, _), (start, _) = _run(pol, SecurityPolicy(authentication=R, auth_methods=["FS"],
                                                     fs_dir=str(tmp_path), uid_domain="d"))
    assert start.peer.user == f"{me}@d" and start.peer.method == "FS"
    assert list(tmp_path.iterdir()) == []  # the client removed its directory


def test_fs_authentication_fails_without_directory(tmp_path, monkeypatch):
    from pyhtc.cedar.security import auth_fs
    monkeypatch.setattr(auth_fs.os, "mkdir", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(SecurityError, match="authentication"):
        _run(SecurityPolicy(auth_methods=["FS"]),
             SecurityPolicy(authentication=R, auth_methods=["FS"], fs_dir=str(tmp_path)))


def test_denied_by_authorization():
    deny = SecurityPolicy(authorize=lambda user, method, cmd, host: cmd != 5)
    with pytest.raises(SecurityError, match="DENIED|answered 'DENIED'"):
        _run(SecurityPolicy(authentication=N), deny)


def test_policy_from_env():
    pol = SecurityPolicy.from_env("CLIENT", {"_CONDOR_SEC_CLIENT_NEGOTIATION": "never",
                                             "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
                                             "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS":
                                                 "FS, IDTOKENS"})
    assert pol.negotiation is N and pol.encryption is R
    assert pol.auth_methods == ["FS", "TOKEN"]
    with pytest.raises(SecurityError, match="invalid security level"):
        Level.parse("sometimes")
    cfg = {"SEC_DEFAULT_AUTHENTICATION": "REQUIRED", "SEC_READ_AUTHENTICATION": "OPTIONAL",
           "SEC_DEFAULT_SESSION_DURATION": "120", "TRUST_DOMAIN": "pool.x"}
    read = SecurityPolicy.from_params(cfg.get, "READ")
    assert read.authentication is O and read.session_duration == 120
    assert SecurityPolicy.from_params(cfg.get, "ADMINISTRATOR").authentication is R
    assert read.trust_domain == "pool.x"


def test_idtokens_our_client_and_server():
    from pyhtc.cedar.security.auth_token import SigningKeys, mint_token
    key = os.urandom(32)
    token = mint_token(key, kid="POOL", subject="bob@pool", issuer="pool")
    server = SecurityPolicy(authentication=R, auth_methods=["TOKEN"],
                            signing_keys=SigningKeys(clear_keys={"POOL": key}))
    (cres, _), (start, _) = _run(SecurityPolicy(auth_methods=["TOKEN"], token=token), server)
    assert start.peer.user == "bob@pool" and start.peer.method == "TOKEN"
    assert cres.encrypted
    bad = mint_token(os.urandom(32), kid="POOL", subject="bob@pool", issuer="pool")
    with pytest.raises(SecurityError):
        _run(SecurityPolicy(auth_methods=["TOKEN"], token=bad), server)


def _ssl_files():
    from .conftest_paths import AUTH_VECTOR_DIR
    d = AUTH_VECTOR_DIR / "keys" / "ssl"
    return {n: str(d / n) for n in ("ca.pem", "server.pem", "server.key", "client.pem",
                                    "client.key")}


@pytest.mark.parametrize("mutual", [False, True])
def test_ssl_our_client_and_server(mutual):
    from pyhtc.cedar.security.auth_ssl import SslConfig
    f = _ssl_files()
    srv = SslConfig(certfile=f["server.pem"], keyfile=f["server.key"], cafile=f["ca.pem"],
                    require_client_cert=mutual,
                    dn_map=lambda dn: "alice@pool" if dn.endswith("/CN=alice") else None)
    cli = SslConfig(cafile=f["ca.pem"], server_alias="fake.example.org",
                    certfile=f["client.pem"] if mutual else None,
                    keyfile=f["client.key"] if mutual else None)
    (cres, _), (start, _) = _run(SecurityPolicy(auth_methods=["SSL"], ssl=cli),
                                 SecurityPolicy(authentication=R, auth_methods=["SSL"],
                                                ssl=srv))
    assert start.peer.method == "SSL" and cres.encrypted
    assert start.peer.user == ("alice@pool" if mutual else "unauthenticated@unmapped")


def test_ssl_wrong_host_alias_fails():
    from pyhtc.cedar.security.auth_ssl import SslConfig
    f = _ssl_files()
    srv = SslConfig(certfile=f["server.pem"], keyfile=f["server.key"])
    cli = SslConfig(cafile=f["ca.pem"], server_alias="other.example.org")
    with pytest.raises(SecurityError):
        _run(SecurityPolicy(auth_methods=["SSL"], ssl=cli),
             SecurityPolicy(authentication=R, auth_methods=["SSL"], ssl=srv))


def test_per_command_policy_overrides():
    """READ-ish commands need nothing, an ADMINISTRATOR-ish one requires authentication: the
    first session's ValidCommands omits it, and a raw attempt is refused."""
    admin = SecurityPolicy(authentication=R, auth_methods=["CLAIMTOBE"])
    server = SecurityPolicy(valid_commands=[5, 6, 60012], overrides={60012: admin},
                            auth_methods=["CLAIMTOBE"])
    cache, sessions = ClientSessionCache(), SessionCache()
    client = SecurityPolicy(auth_methods=["CLAIMTOBE"], authentication=O)
    (cres, _), (start, _) = _run(client, server, command=5, cache=cache, sessions=sessions)
    assert start.peer.user is None and 60012 not in cres.session.valid_commands
    (cres2, _), (start2, _) = _run(client, server, command=60012, cache=cache,
                                   sessions=sessions)
    assert start2.peer.user == "alice@example.org"  # a new, authenticated session
    assert start2.session is not start.session
    with pytest.raises(SecurityError, match="REQUIRED"):
        _run(SecurityPolicy(negotiation=N), server, command=60012)


def test_session_cache_expiry_and_bound():
    from pyhtc.cedar.security.sessions import Session
    now = [1000.0]
    cache = SessionCache(max_sessions=2, clock=lambda: now[0])
    for i in range(3):
        cache.add(Session(f"s{i}", None, None, None, [5], [], expires=1060.0))
    assert cache.get("s0") is None and cache.get("s1") and len(cache) == 2  # oldest evicted
    now[0] = 2000.0
    assert cache.get("s2") is None  # expired
    sid = cache.new_sid()
    assert sid.count(":") == 3 and sid != cache.new_sid()
