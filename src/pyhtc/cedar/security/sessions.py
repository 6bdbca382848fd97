"""Security session cache (condor_secman.cpp KeyCache / session resumption, PROTOCOL.md 4.5).

A server keeps every negotiated session by its id (``Sid``) until it expires, so a client
can resume it (``UseSession = "YES"``) without a new handshake and so UDP datagrams can name it
in their ``CRAP`` header (PROTOCOL.md 7.3).  Bounded: the oldest sessions are evicted beyond
``max_sessions``.
"""
from __future__ import annotations

import itertools
import os
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Session:
    """One negotiated session.

    Attributes:
        sid: the session id ("host:pid:time:counter").
        key: 32-byte AES key from ECDH (None = cleartext session).
        user: authenticated identity "user@domain" or None.
        method: authentication method name or None.
        valid_commands: command numbers the session may be reused for.
        crypto_methods: the CryptoMethodsList offered (BLOWFISH/3DES needed for UDP).
        expires: absolute time.time() when the session dies.
        policy: the merged policy ad values (attribute -> expression text).
        peer_version: the peer's RemoteVersion string.
        non_negotiated: made from a shared secret (a claim id's match session,
            condor_secman.cpp CreateNonNegotiatedSecuritySession), not by a handshake.
    """
    sid: str
    key: bytes | None
    user: str | None
    method: str | None
    valid_commands: list[int]
    crypto_methods: list[str]
    expires: float
    policy: dict = field(default_factory=dict)
    peer_version: str = ""
    non_negotiated: bool = False


class SessionCache:
    """Sessions by id, with expiry and a size bound.

    Non-negotiated sessions (claim sessions) are kept apart and never evicted by the size
    bound: each lives as long as its claim, and its owner removes it (:meth:`remove`)."""

    def __init__(self, max_sessions: int = 10000, clock=time.time):
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._pinned: dict[str, Session] = {}
        self.max_sessions = max_sessions
        self.clock = clock
        self._counter = itertools.count(1)
        self._host = socket.gethostname()
        self._start = int(clock())

    def new_sid(self) -> str:
        """"host:pid:time:counter" like condor_secman.cpp."""
        return f"{self._host}:{os.getpid()}:{self._start}:{next(self._counter)}"

    def add(self, session: Session) -> None:
        """Insert or refresh a session, evicting the oldest beyond ``max_sessions``
        (non-negotiated sessions are not counted and not evicted)."""
        if session.non_negotiated:
            self._sessions.pop(session.sid, None)
            self._pinned[session.sid] = session
            return
        self._pinned.pop(session.sid, None)
        self._sessions[session.sid] = session
        self._sessions.move_to_end(session.sid)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    def get(self, sid: str) -> Session | None:
        """The live session named ``sid`` (expired ones are dropped)."""
        s = self._sessions.get(sid)
        if s is None:
            s = self._pinned.get(sid)
            if s is None:
                return None
        if s.expires < self.clock():
            self.remove(sid)
            return None
        return s

    def remove(self, sid: str) -> None:
        """Forget the session named ``sid`` (no error if unknown)."""
        self._sessions.pop(sid, None)
        self._pinned.pop(sid, None)

    def __len__(self) -> int:
        return len(self._sessions) + len(self._pinned)
