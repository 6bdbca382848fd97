"""Starting the shadow's claim commands at the startd (ACTIVATE_CLAIM, DEACTIVATE_CLAIM).

What :func:`pyhtc.client.core.start_command` does with ``claim_id`` (resume the claim id's
match session, src/condor_shadow.V6.1/remoteresource.cpp; negotiate a session when the
claim carries none or the startd no longer knows it), with the per-shadow work done once
and the per-connection work kept to the minimum a shadow needs:

- the claim's session (:func:`pyhtc.cedar.security.match.claim_session`: parse the claim
  id and its session info, derive the AES key) is built once, not per command;
- a numeric address (the startd's sinful string always holds one) is connected to
  directly: no ``getaddrinfo`` (which also loads the resolver's configuration);
  a host name still goes through :func:`socket.create_connection`;
- the schedd, which holds the claim for many jobs, builds the session once per claim and
  hands it to each shadow in the claim file (:func:`pyhtc.daemoncore.handoff.write_claim_file`,
  :func:`~pyhtc.daemoncore.handoff.read_claim_file`), so a shadow neither parses the session info nor derives the
  key.  The claim file stays the hand-off of the run (docs/architecture.md "crash
  recovery"): it is read and deleted as before.
"""
from __future__ import annotations

import socket
from typing import Optional

from pyhtc.cedar import transport_blocking as tb
from pyhtc.cedar.errors import SecurityError
from pyhtc.cedar.framing import ReliConnection
from pyhtc.cedar.security.match import (EXECUTE_SIDE_MATCHSESSION_FQU, claim_policy,
                                        claim_session, parse_claim)
from pyhtc.cedar.security.negotiation import ClientSessionCache, client_start_command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.security.sessions import Session
from pyhtc.client.core import parse_address, start_command

__all__ = ["ClaimCommands", "connect"]

#: seconds a connection attempt or a blocking read may take (client.core's default)
TIMEOUT = 20.0


#: the last (policy, claim_policy(policy)): every shadow of a fork server has the same
#: policy, and claim_policy() copies a dataclass
_CLAIM_POLICY: list = []


def _claim_policy(policy: SecurityPolicy) -> SecurityPolicy:
    """:func:`~pyhtc.cedar.security.match.claim_policy` of ``policy``, remembered for the
    last policy (equal policies give equal results: it is a function of the fields)."""
    memo = _CLAIM_POLICY
    if memo and memo[0] == policy:
        return memo[1]
    out = claim_policy(policy)
    memo[:] = [policy, out]
    return out


def _numeric_family(host: str) -> Optional[int]:
    """AF_INET / AF_INET6 when ``host`` is a numeric address, else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return family
        except OSError:
            continue
    return None


def connect(host: str, port: int, timeout: float = TIMEOUT) -> socket.socket:
    """A TCP connection to ``host``:``port`` (blocking socket with ``timeout``), as
    :func:`socket.create_connection` makes it, without resolving a numeric address.
    Raises OSError."""
    family = _numeric_family(host)
    if family is None:
        return socket.create_connection((host, port), timeout=timeout)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class ClaimCommands:
    """Claim commands for one claim at one startd.

    ``startd``: the startd's address (sinful string or host:port); ``claim``: the claim id
    (a secret); ``policy``: the client security policy (SEC_CLIENT_*); ``use_session``:
    resume the claim id's match session (SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION);
    ``session``: that session when already built (:func:`~pyhtc.daemoncore.handoff.read_claim_file`), else it is
    built from the claim id.  Raises ValueError for an address that is not one.
    """

    def __init__(self, startd: str, claim: str, policy: SecurityPolicy, use_session: bool = True,
                 session: Optional[Session] = None):
        self.startd = startd
        self.host, self.port = parse_address(startd)
        self.policy = policy
        #: ``(host, port, timeout) -> socket`` used to reach the startd when the session
        #: is resumed (the fork server's warm-up substitutes one end of a socketpair)
        self.connector = connect
        self.session = None
        if use_session and session is not None:
            self.session = session
        elif use_session:
            parsed = parse_claim(claim)
            if parsed is not None:
                try:
                    self.session = claim_session(parsed, EXECUTE_SIDE_MATCHSESSION_FQU)
                except ValueError:
                    self.session = None   # unreadable session info: negotiate instead
        self._session_policy = _claim_policy(policy) if self.session is not None else None

    def start(self, command: int, timeout: float = TIMEOUT) -> tb.BlockingStream:
        """Connect and start ``command``: resume the claim session, or (no session, or the
        startd answers that it does not know it) negotiate one as
        :func:`~pyhtc.client.core.start_command` does.  Returns the open stream; raises
        OSError, SecurityError or ProtocolError."""
        command = int(command)
        if self.session is not None:
            cache = ClientSessionCache()
            cache.by_command[(f"{self.host}:{self.port}", command)] = self.session
            sock = self.connector(self.host, self.port, timeout)
            stream = tb.BlockingStream(sock, ReliConnection(), command)
            try:
                stream.result = stream._drive(client_start_command(
                    stream.conn, command, self._session_policy,
                    server_address=f"{self.host}:{self.port}", cache=cache))
                return stream
            except SecurityError as exc:
                sock.close()
                if "resume" not in str(exc):
                    raise
            except BaseException:
                sock.close()
                raise
        return start_command(self.startd, command, self.policy, timeout=timeout)
