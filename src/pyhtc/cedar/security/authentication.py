"""The method handshake around authentication methods (src/condor_io/authentication.cpp
Authentication::handshake; PROTOCOL.md 5, AUTH.md 0).

Client → ``int bitmask`` of offered methods; server → ``int chosen bit`` (0 = none).  If the
chosen method fails the client drops it and starts another round (sending ``int 0`` when it has
nothing left; the server then answers ``int 0``).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..commands import AUTH_BIT_NAMES, AUTH_METHOD_BITS
from ..ops import RECV, Send
from . import auth_claimtobe, auth_fs, auth_ssl, auth_token

#: methods this implementation can run
SUPPORTED = ("FS", "CLAIMTOBE", "TOKEN", "SSL")
#: stop after this many rounds (a hostile client could otherwise loop forever)
MAX_ROUNDS = 8


@dataclass
class AuthResult:
    """Outcome of authentication: ``user`` ("name@domain") and ``method`` ("FS"...)."""
    user: str | None
    method: str | None
    token: object = None  # auth_token.TokenIdentity for TOKEN


def server(conn, methods: list[str], *, fs_dir: str, my_ip: str, my_port: int,
           uid_domain: str, signing_keys=None, ssl_config=None, first=None):
    """Server side; ``methods`` = allowed methods in preference order; TOKEN needs
    ``signing_keys`` (:class:`~pyhtc.cedar.security.auth_token.SigningKeys`).  Returns
    AuthResult (user None = failed).  ``first`` is a decoder already positioned on the
    client's first bitmask (raw commands carry it in the command message)."""
    allowed = [m for m in methods if m in SUPPORTED
               and (m != "TOKEN" or signing_keys is not None)
               and (m != "SSL" or ssl_config is not None)]
    for _ in range(MAX_ROUNDS):
        if first is not None:
            # raw command: the client put the bitmask in the command's first message (e22)
            dec, first = first, None
        else:
            dec = (yield RECV).decoder()
        offered = dec.get_int()
        dec.finish()
        chosen = next((m for m in allowed if offered & AUTH_METHOD_BITS[m]), None)
        yield Send(conn.encoder().put_int(AUTH_METHOD_BITS[chosen] if chosen else 0).data)
        if chosen is None:
            return AuthResult(None, None)
        if chosen == "FS":
            user = yield from auth_fs.server(conn, fs_dir, my_ip, my_port, uid_domain)
        elif chosen == "TOKEN":
            ident = yield from auth_token.server(conn, signing_keys)
            if ident is None:
                # no verdict message exists in the protocol: a failed IDTOKENS exchange ends
                # the connection (AUTH.md 1.4)
                return AuthResult(None, None)
            return AuthResult(ident.user, chosen, ident)
        elif chosen == "SSL":
            user = yield from auth_ssl.server(conn, ssl_config)
        else:
            user = yield from auth_claimtobe.server(conn, uid_domain)
        if user:
            return AuthResult(user, chosen)
        allowed.remove(chosen)
    return AuthResult(None, None)


def client(conn, methods: list[str], *, server_ip: str, server_port: int, claim_user: str,
           token: str | None = None, ssl_config=None, prefix: bytes = b""):
    """Client side; returns AuthResult whose ``method`` is None on failure (``user`` is only
    known to the client for CLAIMTOBE).  ``prefix`` (an already encoded raw command int) goes
    in front of the first bitmask, in the same message, as the C++ client does (e22)."""
    if token is None:
        methods = [m for m in methods if m != "TOKEN"]
    if ssl_config is None:
        methods = [m for m in methods if m != "SSL"]
    remaining = [m for m in methods if m in SUPPORTED]
    for _ in range(MAX_ROUNDS):
        mask = 0
        for m in remaining:
            mask |= AUTH_METHOD_BITS[m]
        yield Send(prefix + conn.encoder().put_int(mask).data)
        prefix = b""
        msg = yield RECV
        dec = msg.decoder()
        chosen = dec.get_int()
        dec.finish()
        name = AUTH_BIT_NAMES.get(chosen)
        if not chosen or name not in remaining:
            return AuthResult(None, None)
        if name == "FS":
            ok = yield from auth_fs.client(conn, server_ip, server_port)
        elif name == "TOKEN":
            ok = yield from auth_token.client(conn, token)
        elif name == "SSL":
            ok = yield from auth_ssl.client(conn, ssl_config)
        else:
            ok = yield from auth_claimtobe.client(conn, claim_user)
        if ok:
            return AuthResult(claim_user if name == "CLAIMTOBE" else None, name)
        remaining.remove(name)
        if not remaining:
            yield Send(conn.encoder().put_int(0).data)
            msg = yield RECV
            msg.decoder().get_int()
            return AuthResult(None, None)
    return AuthResult(None, None)
