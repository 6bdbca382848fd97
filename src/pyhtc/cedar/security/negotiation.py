"""Starting a command: raw or negotiated with DC_AUTHENTICATE, both sides
(server: src/condor_daemon_core.V6/daemon_command.cpp; client: src/condor_io/condor_secman.cpp
SecManStartCommand; PROTOCOL.md 4.1-4.6).

Both sides are sans-IO generators (see :mod:`pyhtc.cedar.ops`):

* :func:`server_handshake` reads the first message and, for DC_AUTHENTICATE, answers with the
  server's policy, runs authentication, installs the AES key and sends the post-auth ad, or
  resumes a cached session.  It returns a :class:`CommandStart`: the real command number, the
  peer's identity and, for raw commands, the decoder positioned on the command payload.
  The server enforces its own REQUIRED/NEVER settings, because the real client does not
  (PROTOCOL.md 4.3, experiments e11/e12).
* :func:`client_start_command` is the client's half (used by the transports and tests).
"""
from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field

from ..codec import Decoder
from ..commands import Command
from ..crypto import EcdhKey
from ..errors import ProtocolError, SecurityError
from ..ops import RECV, Send
from ..wire_ad import MAX_POD_ATTRIBUTES, WireAd, get_ad, literal, put_ad
from . import authentication
from .policy import Decision, Level, SecurityPolicy, reconcile, split_methods
from .sessions import Session, SessionCache

DC_AUTHENTICATE = int(Command.DC_AUTHENTICATE)
DC_SEC_QUERY = int(Command.DC_SEC_QUERY)


@dataclass
class Peer:
    """Who is on the other end: ``user`` ("name@domain" or None when unauthenticated),
    ``method`` ("FS", "CLAIMTOBE" or None) and ``address`` ("ip:port")."""
    user: str | None
    method: str | None
    address: str

    @property
    def authenticated(self) -> bool:
        """True when the peer proved an identity."""
        return self.user is not None


@dataclass
class CommandStart:
    """Result of the server handshake.

    Attributes:
        command: the real command number.
        peer: the peer's identity.
        negotiated: False for a raw (un-negotiated) command.
        session: the security session (None for raw commands).
        payload: raw commands only: decoder on the rest of the first message.
        session_only: DC_AUTHENTICATE with ``Command = 60010`` (no command follows).
        finished: the handshake already completed the command (DC_SEC_QUERY).
        policy_ad: the client's DC_AUTHENTICATE ad (None for raw commands).
    """
    command: int
    peer: Peer
    negotiated: bool
    session: Session | None = None
    payload: Decoder | None = None
    session_only: bool = False
    finished: bool = False
    policy_ad: WireAd | None = None
    encrypted: bool = False


def _nonce() -> str:
    return base64.b64encode(os.urandom(33)).decode("ascii")


def _real_command(ad: WireAd, at: int) -> int:
    """The command the client wants (``Command``; 60010 = session-only handshake whose
    ``AuthCommand`` names the later UDP command, 60040 = DC_SEC_QUERY)."""
    cmd = ad.get_int("Command")
    if cmd is None:
        raise ProtocolError("DC_AUTHENTICATE ad has no Command", at)
    return cmd


def server_handshake(conn, policy: SecurityPolicy, sessions: SessionCache, *,
                     my_ip: str, my_port: int, peer_address: str):
    """Server side of starting a command (daemon_command.cpp).  Generator returning a
    :class:`CommandStart`; raises SecurityError (the caller closes the connection) when the
    policies cannot be reconciled, authentication that was required failed, the peer is not
    authorized, or a resumed session is unknown."""
    msg = yield RECV
    dec = msg.decoder()
    cmd = dec.get_int()
    peer_host = peer_address.rsplit(":", 1)[0]
    if cmd != DC_AUTHENTICATE:
        policy = policy.for_command(cmd)
        # Raw command: no identity, no encryption -- refuse if our policy requires them.
        for name, level in (("authentication", policy.authentication),
                            ("encryption", policy.encryption),
                            ("integrity", policy.integrity), ("negotiation", policy.negotiation)):
            if level is Level.REQUIRED:
                raise SecurityError(f"raw command {cmd} refused: {name} is REQUIRED")
        if not policy.allows(None, None, cmd, peer_host):
            raise SecurityError(f"raw command {cmd} from {peer_address} not authorized")
        return CommandStart(cmd, Peer(None, None, peer_address), False, payload=dec)

    ad_at = dec.offset
    ad = get_ad(dec, max_attributes=MAX_POD_ATTRIBUTES, literal_only=True)
    dec.finish()
    command = _real_command(ad, ad_at)
    base_policy = policy
    effective = command
    if command in (DC_AUTHENTICATE, DC_SEC_QUERY) and ad.get_int("AuthCommand") is not None:
        effective = ad.get_int("AuthCommand")
    policy = policy.for_command(effective)

    if (ad.get_str("UseSession") or "").upper() == "YES":
        return (yield from _server_resume(conn, policy, sessions, ad, command, peer_address))
    return (yield from _server_new_session(conn, policy, sessions, ad, command, my_ip, my_port,
                                           peer_address, peer_host, base_policy))


def _server_resume(conn, policy, sessions, ad, command, peer_address):
    """PROTOCOL.md 4.5: answer a UseSession request."""
    sid = ad.get_str("Sid") or ""
    session = sessions.get(sid)
    want_response = bool(ad.get_bool("ResumeResponse", False))
    if session is None:
        if want_response:
            reply = WireAd.from_values({"ReturnCode": "SID_NOT_FOUND",
                                        "RemoteVersion": policy.version})
            yield Send(put_ad(conn.encoder(), reply).data)
        raise SecurityError(f"resume of unknown session {sid!r}")
    if want_response:
        reply = WireAd.from_values({"ReturnCode": "AUTHORIZED",
                                    "RemoteVersion": policy.version, "Nonce": _nonce()})
        yield Send(put_ad(conn.encoder(), reply).data)
    if session.key is not None:
        conn.enable_aes(session.key)
    if command not in session.valid_commands and not policy.satisfied_by(
            session.user is not None, session.key is not None):
        raise SecurityError(f"session {sid} does not satisfy the policy of command {command}")
    peer = Peer(session.user, session.method, peer_address)
    if not policy.allows(session.user, session.method, command, peer_address.rsplit(":", 1)[0]):
        raise SecurityError(f"command {command} not authorized for {session.user}")
    start = CommandStart(command, peer, True, session=session, policy_ad=ad,
                         session_only=command == DC_AUTHENTICATE,
                         encrypted=session.key is not None)
    if command == DC_SEC_QUERY:
        yield from _answer_sec_query(conn, policy, ad, session.user, session.method,
                                     peer_address.rsplit(":", 1)[0])
        start.finished = True
    return start


def _answer_sec_query(conn, policy, ad, user, method, peer_host):
    """ping(): tell the client whether ``AuthCommand`` would be authorized (PROTOCOL.md 6.7,
    e41)."""
    auth_cmd = ad.get_int("AuthCommand", int(Command.DC_NOP))
    ok = policy.allows(user, method, auth_cmd, peer_host)
    yield Send(put_ad(conn.encoder(), WireAd.from_values({"AuthorizationSucceeded": ok})).data)


def _server_new_session(conn, policy, sessions, ad, command, my_ip, my_port, peer_address,
                        peer_host, base_policy):
    client_auth = Level.parse(ad.get_str("AuthenticationNew") or ad.get_str("Authentication"))
    client_enc = Level.parse(ad.get_str("Encryption"))
    client_int = Level.parse(ad.get_str("Integrity"))
    auth = reconcile(client_auth, policy.authentication)
    enc = reconcile(client_enc, policy.encryption)
    integ = reconcile(client_int, policy.integrity)

    client_methods = split_methods(ad.get_str("AuthMethods"))
    methods = [m for m in policy.auth_methods if m in client_methods
               and m in authentication.SUPPORTED
               and (m != "TOKEN" or policy.signing_keys is not None)
               and (m != "SSL" or policy.ssl is not None)]
    if auth is Decision.YES and not methods:
        if Level.REQUIRED in (client_auth, policy.authentication):
            raise SecurityError("authentication required but no common method "
                                f"(client offers {client_methods})")
        auth = Decision.NO

    client_crypto = split_methods(ad.get_str("CryptoMethods"))
    crypto_list = [m for m in policy.crypto_methods if m in client_crypto]
    chosen_crypto = crypto_list[0] if crypto_list else None
    client_key = ad.get_str("ECDHPublicKey")
    want_key = enc is Decision.YES or integ is Decision.YES or policy.always_key
    make_key = bool(client_key) and chosen_crypto == "AES" and want_key
    if (enc is Decision.YES or integ is Decision.YES) and not make_key:
        raise SecurityError("encryption/integrity agreed but no AES key exchange possible "
                            f"(client crypto {client_crypto}, ECDH key "
                            f"{'present' if client_key else 'missing'})")

    try:
        client_duration = int(ad.get_str("SessionDuration") or policy.session_duration)
    except ValueError:
        client_duration = policy.session_duration
    duration = max(1, min(client_duration, policy.session_duration))
    lease = min(ad.get_int("SessionLease", policy.session_lease) or policy.session_lease,
                policy.session_lease)

    reply = WireAd()
    reply.set("Enact", "YES")
    reply.set("Authentication", auth.value)
    if make_key:
        enc_value = integ_value = "YES"  # AES-GCM: once keyed, everything is encrypted
    else:
        enc_value, integ_value = enc.value, integ.value
    reply.set("Encryption", enc_value)
    reply.set("Integrity", integ_value)
    if methods:
        reply.set("AuthMethodsList", ",".join(methods))
        reply.set("AuthMethods", methods[0])
    if chosen_crypto:
        reply.set("CryptoMethods", chosen_crypto)
        reply.set("CryptoMethodsList", ",".join(crypto_list))
    reply.set("SessionDuration", str(duration))
    reply.set("SessionLease", lease)
    reply.set("RemoteVersion", policy.version)
    reply.set("NegotiatedSession", True)
    reply.set("TrustDomain", policy.trust_domain)
    if "TOKEN" in methods:
        reply.set("IssuerKeys", ", ".join(policy.signing_keys.names()))
    ecdh = None
    if make_key:
        ecdh = EcdhKey()
        reply.set("ECDHPublicKey", ecdh.public_b64)
    yield Send(put_ad(conn.encoder(), reply).data)

    user = method = result_token = None
    tried = False
    if auth is Decision.YES:
        tried = True
        result = yield from authentication.server(
            conn, methods, fs_dir=policy.fs_dir, my_ip=my_ip, my_port=my_port,
            uid_domain=policy.uid_domain, signing_keys=policy.signing_keys,
            ssl_config=policy.ssl)
        if result.user is None:
            raise SecurityError(f"authentication of {peer_address} failed "
                                f"(methods {methods})")
        user, method, result_token = result.user, result.method, result.token
        yield Send(conn.encoder().put_int(0).data)  # hasKey = 0: the ECDH key is used

    key = None
    if ecdh is not None:
        key = ecdh.session_key(client_key)
        conn.enable_aes(key)

    # DC_SEC_QUERY and DC_AUTHENTICATE are no registered commands, so a real daemon never
    # lists them (the real client would reuse the session for the next ping, and its ping
    # then fails: it looks the session up by an id only a new session sets)
    valid = set(policy.valid_commands) | ({command} - {DC_SEC_QUERY, DC_AUTHENTICATE})
    if command in (DC_AUTHENTICATE, DC_SEC_QUERY) and ad.get_int("AuthCommand") is not None:
        valid.add(ad.get_int("AuthCommand"))  # session-only handshake for a UDP command
    # list only commands whose own policy this session satisfies (the client reuses the
    # session for every listed command, PROTOCOL.md 4.4)
    valid = sorted(c for c in valid if c == command or base_policy.for_command(c).satisfied_by(
        user is not None, key is not None))
    authorized = policy.allows(user, method, command, peer_host)
    sid = sessions.new_sid()
    post = WireAd()
    post.set("Sid", sid)
    post.set("ValidCommands", ",".join(str(c) for c in valid))
    post.set("ReturnCode", "AUTHORIZED" if authorized else "DENIED")
    if user:
        post.set("User", user)

    if tried:
        post.set("TriedAuthentication", True)
    yield Send(put_ad(conn.encoder(), post).data)
    if not authorized:
        raise SecurityError(f"command {command} from {user or 'unauthenticated'}@"
                            f"{peer_address} DENIED")

    merged = {n: e for n, e in ad}
    merged.update({n: e for n, e in reply})
    if result_token is not None:
        # token scopes limit the session (AUTH.md 1.4); kept server-side for authorization
        merged["LimitAuthorization"] = literal(",".join(result_token.authorizations))
        merged["TokenIssuer"] = literal(result_token.issuer)
        merged["TokenId"] = literal(result_token.token_id)
    session = Session(sid=sid, key=key, user=user, method=method, valid_commands=valid,
                      crypto_methods=crypto_list, expires=time.time() + duration,
                      policy=merged, peer_version=ad.get_str("RemoteVersion") or "")
    sessions.add(session)
    start = CommandStart(command, Peer(user, method, peer_address), True, session=session,
                         session_only=command == DC_AUTHENTICATE, policy_ad=ad,
                         encrypted=key is not None)
    if command == DC_SEC_QUERY:
        yield from _answer_sec_query(conn, policy, ad, user, method, peer_host)
        start.finished = True
    return start


# ---------------------------------------------------------------------------------------------
# client side

@dataclass
class ClientSessionCache:
    """The client's sessions by (server address, command) (condor_secman.cpp command map).
    Safe to share between threads (a shadow server's shadows share the process's cache)."""
    by_command: dict = field(default_factory=dict)

    def lookup(self, address: str, command: int) -> Session | None:
        """The live session for ("ip:port", command), or None."""
        s = self.by_command.get((address, command))
        if s is not None and s.expires < time.time():
            self.by_command.pop((address, command), None)   # another thread may race us
            return None
        return s

    def store(self, address: str, session: Session) -> None:
        """Remember ``session`` for every command in its ValidCommands."""
        for c in session.valid_commands:
            self.by_command[(address, c)] = session

    def drop(self, session: Session) -> None:
        """Forget ``session`` (e.g. after SID_NOT_FOUND)."""
        for k in [k for k, v in list(self.by_command.items()) if v is session]:
            self.by_command.pop(k, None)


@dataclass
class ClientResult:
    """What the client knows after starting a command: the session (None for raw), whether the
    stream is encrypted, the server's post-auth ad (new sessions) and the raw mode flag."""
    session: Session | None
    encrypted: bool
    raw: bool
    post_auth: WireAd | None = None


CLIENT_VERSION = "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"


def client_start_command(conn, command: int, policy: SecurityPolicy, *,
                         server_address: str, cache: ClientSessionCache | None = None,
                         auth_command: int | None = None, claim_user: str | None = None,
                         raw_payload: bytes = b""):
    """Client side of startCommand (condor_secman.cpp).  Generator returning ClientResult.

    ``server_address`` is "ip:port".  With negotiation NEVER/OPTIONAL the command int is
    sent raw and ``raw_payload`` (already-encoded payload bytes) goes in the same message
    (PROTOCOL.md 4.1).  Otherwise DC_AUTHENTICATE is used, resuming a cached session if any.
    Raises SecurityError on DENIED / SID_NOT_FOUND / authentication failure.
    """
    if policy.negotiation in (Level.NEVER, Level.OPTIONAL):
        enc = conn.encoder().put_int(command)
        yield Send(enc.data + raw_payload)
        return ClientResult(None, False, True)
    ip, _, port = server_address.rpartition(":")
    sinful = f"<{server_address}>"
    cached = cache.lookup(server_address, command) if cache is not None else None
    if cached is not None:
        ad = WireAd()
        ad.set("Command", command)
        ad.set("ConnectSinful", sinful)
        ad.set("CryptoMethods", "AES")
        ad.set("Nonce", _nonce())
        ad.set("RemoteVersion", CLIENT_VERSION)
        ad.set("ResumeResponse", True)
        ad.set("Sid", cached.sid)
        ad.set("UseSession", "YES")
        yield Send(put_ad(conn.encoder().put_int(DC_AUTHENTICATE), ad).data)
        msg = yield RECV
        dec = msg.decoder()
        reply = get_ad(dec, max_attributes=MAX_POD_ATTRIBUTES)
        dec.finish()
        if reply.get_str("ReturnCode") != "AUTHORIZED":
            cache.drop(cached)
            raise SecurityError(f"session resume refused: {reply.get_str('ReturnCode')}")
        if cached.key is not None:
            conn.enable_aes(cached.key)
        return ClientResult(cached, cached.key is not None, False)

    ecdh = EcdhKey()
    ad = WireAd()
    ad.set("Enact", "NO")
    ad.set("Command", command)
    if auth_command is not None:
        ad.set("AuthCommand", auth_command)
    ad.set("Integrity", policy.integrity.value)
    ad.set("Encryption", policy.encryption.value)
    auth_level = policy.authentication
    if Level.REQUIRED in (policy.encryption, policy.integrity):
        auth_level = Level.REQUIRED  # pre-23.10 coupling kept in "Authentication"
    ad.set("Authentication", auth_level.value)
    ad.set("AuthenticationNew", policy.authentication.value)
    ad.set("OutgoingNegotiation", policy.negotiation.value)
    ad.set("ServerPid", os.getpid())
    ad.set("Subsystem", "TOOL")
    ad.set("NewSession", "YES")
    ad.set("NegotiatedSession", True)
    ad.set("AuthMethods", ",".join(policy.auth_methods))
    ad.set("TrustDomain", policy.trust_domain)
    ad.set("CryptoMethods", ",".join(policy.crypto_methods))
    ad.set("ECDHPublicKey", ecdh.public_b64)
    ad.set("RemoteVersion", CLIENT_VERSION)
    ad.set("ConnectSinful", sinful)
    ad.set("SessionDuration", str(policy.session_duration))
    ad.set("SessionLease", policy.session_lease)
    yield Send(put_ad(conn.encoder().put_int(DC_AUTHENTICATE), ad).data)

    msg = yield RECV
    dec = msg.decoder()
    reply = get_ad(dec, max_attributes=MAX_POD_ATTRIBUTES, literal_only=True)
    dec.finish()
    for attr in ("Authentication", "Encryption", "Integrity"):
        if reply.get_str(attr) is None:
            raise SecurityError(f"server policy reply lacks {attr}")
    user = method = None
    if reply.get_str("Authentication", "NO").upper() == "YES":
        methods = split_methods(reply.get_str("AuthMethodsList") or reply.get_str("AuthMethods"))
        methods = [m for m in methods if m in policy.auth_methods]
        token = policy.token
        if token is None and "TOKEN" in methods:
            from .auth_token import find_token
            keys = reply.get_str("IssuerKeys")
            token = find_token(
                policy.token_directory,
                issuer=reply.get_str("TrustDomain") or policy.trust_domain,
                issuer_keys=[k.strip() for k in keys.split(",")] if keys else None)
        res = yield from authentication.client(
            conn, methods, server_ip=ip, server_port=int(port),
            claim_user=claim_user or f"{os.environ.get('USER', 'nobody')}@{policy.uid_domain}",
            token=token, ssl_config=policy.ssl)
        if res.method is None:
            raise SecurityError("authentication failed with every method")
        method = res.method
        msg = yield RECV
        d = msg.decoder()
        d.get_int()  # hasKey (0 with ECDH)
        d.finish()
    key = None
    server_key = reply.get_str("ECDHPublicKey")
    if server_key:
        key = ecdh.session_key(server_key)
        conn.enable_aes(key)
    elif "YES" in (reply.get_str("Encryption", "").upper(), reply.get_str("Integrity", "").upper()):
        raise SecurityError("server agreed to encryption but sent no ECDH key")
    msg = yield RECV
    dec = msg.decoder()
    post = get_ad(dec, max_attributes=MAX_POD_ATTRIBUTES)
    dec.finish()
    code = post.get_str("ReturnCode")
    if code != "AUTHORIZED":
        raise SecurityError(f"server answered {code!r} to command {command}")
    sid = post.get_str("Sid")
    valid_text = post.get_str("ValidCommands") or ""
    if not sid or not valid_text:
        raise SecurityError("post-auth ad lacks Sid or ValidCommands")
    valid = [int(x) for x in valid_text.split(",") if x.strip().lstrip("-").isdigit()]
    try:
        duration = int(reply.get_str("SessionDuration") or "60")
    except ValueError:
        duration = 60
    session = Session(sid=sid, key=key, user=post.get_str("User") or user, method=method,
                      valid_commands=valid,
                      crypto_methods=split_methods(reply.get_str("CryptoMethodsList")),
                      expires=time.time() + duration,
                      policy={n: e for n, e in reply}, peer_version=reply.get_str(
                          "RemoteVersion") or "")
    if cache is not None:
        cache.store(server_address, session)
    return ClientResult(session, key is not None, False, post)
