"""CLAIMTOBE authentication (src/condor_io/condor_auth_claim.cpp; PROTOCOL.md 5).

Client → ``int 1`` + string ``user[@domain]``; server → ``int 1``.  The server believes the
claim; with SEC_CLAIMTOBE_INCLUDE_DOMAIN (default true) a name without ``@`` gets UID_DOMAIN.
"""
from __future__ import annotations

from ..ops import RECV, Send


def server(conn, uid_domain: str):
    """Server side generator; returns the claimed ``user@domain`` or None."""
    msg = yield RECV
    dec = msg.decoder()
    retval = dec.get_int()
    if retval != 1:
        dec.finish()
        return None
    name = dec.get_string()
    dec.finish()
    user, at, domain = name.rpartition("@")
    if not at:
        user, domain = name, uid_domain
    if not user:
        yield Send(conn.encoder().put_int(0).data)
        return None
    yield Send(conn.encoder().put_int(1).data)
    return f"{user}@{domain or uid_domain}"


def client(conn, user: str):
    """Client side generator; returns True when the server answered 1."""
    yield Send(conn.encoder().put_int(1).put_string(user).data)
    msg = yield RECV
    dec = msg.decoder()
    ok = dec.get_int() == 1
    dec.finish()
    return ok
