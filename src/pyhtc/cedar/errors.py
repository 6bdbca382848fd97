"""Errors raised by :mod:`pyhtc.cedar`.

Every malformed or hostile byte sequence handed to the sans-IO decoders raises exactly
:class:`ProtocolError`, which names what was wrong and the byte offset in the stream (or
datagram) where it was found.  Security failures (denied, authentication failed, policy
mismatch) raise :class:`SecurityError`, a subclass, so a server loop can catch one type.
"""
from __future__ import annotations


class CedarError(Exception):
    """Base class of all pyhtc.cedar errors."""


class ProtocolError(CedarError):
    """The peer sent bytes that do not follow the CEDAR protocol.

    Attributes:
        offset: byte offset (from the start of the stream/datagram/message named in the text)
            at which the problem was detected, or ``None`` when not meaningful.
    """

    def __init__(self, message: str, offset: int | None = None):
        self.offset = offset
        if offset is not None:
            message = f"{message} (at byte offset {offset})"
        super().__init__(message)


class SecurityError(ProtocolError):
    """Security negotiation, authentication or authorization failed (condor_secman.cpp)."""


class ConnectionClosed(CedarError):
    """The peer closed the connection (clean EOF between messages or mid-message)."""
