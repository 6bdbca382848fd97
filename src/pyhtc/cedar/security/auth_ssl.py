"""SSL authentication: TLS tunnelled through CEDAR messages (src/condor_io/condor_auth_ssl.cpp;
AUTH.md section 3).  Python's ``ssl.MemoryBIO`` plays the role of OpenSSL's memory BIOs.

Messages: status ``int`` + EOM (status exchange: server first), then data messages
``int status, int len, bytes(len)`` + EOM.  Status codes: ERROR -1, A_OK 0, SENDING 1,
RECEIVING 2, QUITTING 3, HOLDING 4.

* Handshake rounds, lock-step: the client sends on odd rounds (counting from 1), the server
  receives on even rounds (counting from 0) -- client first; each side runs one TLS step per
  round unless it is HOLDING; done when both are HOLDING, failed when either is QUITTING.
* Key rounds: the server TLS-writes 256 random bytes and sends first; the client reads them.
  The key is the method's own session key, unused with ECDH (``hasKey = 0``).
* Identity: the client certificate's subject in OpenSSL one-line form
  (``/C=US/O=Fake Pool/CN=alice``), mapped by ``dn_map``; default ``ssl@unmapped``, or
  ``unauthenticated@unmapped`` without a client certificate.
"""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Callable

from ..errors import ProtocolError
from ..ops import RECV, Send

ERROR, A_OK, SENDING, RECEIVING, QUITTING, HOLDING = -1, 0, 1, 2, 3, 4
BUF_SIZE = 1024 * 1024  # AUTH_SSL_BUF_SIZE
KEY_LEN = 256  # AUTH_SSL_SESSION_KEY_LEN
MAX_ROUNDS = 256
_SHORT = {"countryName": "C", "stateOrProvinceName": "ST", "localityName": "L",
          "organizationName": "O", "organizationalUnitName": "OU", "commonName": "CN",
          "emailAddress": "emailAddress", "domainComponent": "DC", "userId": "UID"}


@dataclass
class SslConfig:
    """AUTH_SSL_* settings.

    Server: certfile/keyfile (AUTH_SSL_SERVER_CERTFILE/KEYFILE), cafile (..._SERVER_CAFILE),
    require_client_cert (AUTH_SSL_REQUIRE_CLIENT_CERTIFICATE), dn_map (CERTIFICATE_MAPFILE).
    Client: cafile (AUTH_SSL_CLIENT_CAFILE), certfile/keyfile (client cert), server_alias (the
    ``alias=`` of the dialled address, checked against the server certificate),
    skip_host_check (SSL_SKIP_HOST_CHECK).
    """
    certfile: str | None = None
    keyfile: str | None = None
    cafile: str | None = None
    require_client_cert: bool = False
    dn_map: Callable[[str], str | None] | None = None
    server_alias: str | None = None
    skip_host_check: bool = False

    def server_context(self) -> ssl.SSLContext:
        """An SSLContext for the TLS server role (AUTH_SSL_SERVER_*)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.certfile, self.keyfile)
        if self.cafile:
            ctx.load_verify_locations(self.cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED if self.require_client_cert else (
            ssl.CERT_OPTIONAL if self.cafile else ssl.CERT_NONE)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """An SSLContext for the TLS client role (AUTH_SSL_CLIENT_*)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cafile:
            ctx.load_verify_locations(self.cafile)
        else:
            ctx.load_default_certs()
        if self.certfile:
            ctx.load_cert_chain(self.certfile, self.keyfile)
        ctx.check_hostname = not self.skip_host_check
        return ctx


def oneline_dn(cert: dict) -> str:
    """OpenSSL X509_NAME_oneline form of a ``getpeercert()`` subject."""
    parts = []
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            parts.append(f"/{_SHORT.get(name, name)}={value}")
    return "".join(parts)


def _data(conn, status: int, payload: bytes) -> bytes:
    return conn.encoder().put_int(status).put_int(len(payload)).put_bytes(payload).data


def _read_data(msg) -> tuple[int, bytes]:
    dec = msg.decoder()
    status = dec.get_int()
    n = dec.get_int()
    if not 0 <= n <= BUF_SIZE:
        raise ProtocolError(f"{dec.what}: bad SSL chunk length {n}", dec.offset)
    data = dec.get_bytes(n)
    dec.finish()
    return status, data


def _read_status(msg) -> int:
    dec = msg.decoder()
    status = dec.get_int()
    dec.finish()
    return status


def _step(fn) -> int:
    try:
        fn()
        return HOLDING
    except ssl.SSLWantReadError:
        return RECEIVING
    except ssl.SSLWantWriteError:
        return SENDING
    except (ssl.SSLError, OSError):
        return QUITTING


def server(conn, config: SslConfig):
    """Server side generator; returns the mapped identity ("user@domain") or None."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = config.server_context().wrap_bio(incoming, outgoing, server_side=True)
        my_status = A_OK
    except (ssl.SSLError, OSError, TypeError):
        tls, my_status = None, ERROR
    yield Send(conn.encoder().put_int(my_status).data)
    peer_status = _read_status((yield RECV))
    if my_status != A_OK or peer_status != A_OK:
        return None
    # handshake rounds: receive on even rounds, send on odd ones (authenticate_server_connect)
    my_status = RECEIVING
    for rnd in range(MAX_ROUNDS):
        if my_status != HOLDING:
            my_status = _step(tls.do_handshake)
        if rnd % 2 == 0:
            peer_status, data = _read_data((yield RECV))
            incoming.write(data)
        else:
            yield Send(_data(conn, my_status, outgoing.read(BUF_SIZE)))
        if peer_status == ERROR:
            peer_status = QUITTING
        if peer_status == HOLDING and my_status == HOLDING:
            break
        if QUITTING in (peer_status, my_status):
            return None
    else:
        return None
    cert = tls.getpeercert() or {}
    if config.require_client_cert and not cert:
        yield Send(_data(conn, QUITTING, b""))
        return None
    # key rounds: send on even rounds, receive on odd ones (authenticate_server_key)
    key = os.urandom(KEY_LEN)
    my_status = peer_status = RECEIVING
    for rnd in range(MAX_ROUNDS):
        if my_status != HOLDING:
            my_status = _step(lambda: tls.write(key))
        if rnd % 2 == 0:
            yield Send(_data(conn, my_status, outgoing.read(BUF_SIZE)))
        else:
            peer_status, data = _read_data((yield RECV))
            incoming.write(data)
        if my_status == HOLDING and peer_status == HOLDING:
            break
        if QUITTING in (peer_status, my_status):
            return None
    else:
        return None
    if not cert:
        return "unauthenticated@unmapped"
    dn = oneline_dn(cert)
    mapped = config.dn_map(dn) if config.dn_map else None
    return mapped or "ssl@unmapped"


def client(conn, config: SslConfig):
    """Client side generator; returns True on success."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = config.client_context().wrap_bio(
            incoming, outgoing, server_side=False,
            server_hostname=None if config.skip_host_check else config.server_alias)
        my_status = A_OK
    except (ssl.SSLError, OSError, ValueError):
        tls, my_status = None, ERROR
    peer_status = _read_status((yield RECV))
    yield Send(conn.encoder().put_int(my_status).data)
    if my_status != A_OK or peer_status != A_OK:
        return False
    for rnd in range(1, MAX_ROUNDS):  # client rounds count from 1: send on odd
        if my_status != HOLDING:
            my_status = _step(tls.do_handshake)
        if rnd % 2 == 1:
            yield Send(_data(conn, my_status, outgoing.read(BUF_SIZE)))
        else:
            peer_status, data = _read_data((yield RECV))
            incoming.write(data)
        if peer_status == HOLDING and my_status == HOLDING:
            break
        if QUITTING in (peer_status, my_status) or peer_status == ERROR:
            return False
    else:
        return False
    got = bytearray()

    def read_key():
        got.extend(tls.read(KEY_LEN - len(got)))
        if len(got) < KEY_LEN:
            raise ssl.SSLWantReadError()

    my_status = peer_status = RECEIVING
    for rnd in range(1, MAX_ROUNDS):  # key rounds: receive on odd, send on even
        if my_status != HOLDING:
            my_status = _step(read_key)
        if rnd % 2 == 1:
            peer_status, data = _read_data((yield RECV))
            incoming.write(data)
        else:
            yield Send(_data(conn, my_status, outgoing.read(BUF_SIZE)))
        if peer_status == HOLDING and my_status == HOLDING:
            break
        if QUITTING in (peer_status, my_status):
            return False
    else:
        return False
    return True
