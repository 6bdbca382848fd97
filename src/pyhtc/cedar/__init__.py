"""pyhtc.cedar -- HTCondor's CEDAR wire protocol, byte-compatible with HTCondor 25.

Layers (sans-IO core first, like h11; nothing below the transports touches a socket):

* :mod:`~pyhtc.cedar.codec` -- primitive encodings (8-byte ints, strings, doubles).
* :mod:`~pyhtc.cedar.framing` -- ReliSock packets/messages and AES-256-GCM.
* :mod:`~pyhtc.cedar.wire_ad` -- ClassAds on the wire as ordered (name, expression) pairs.
* :mod:`~pyhtc.cedar.crypto` -- ECDH P-256, HKDF, AES-GCM, BLOWFISH/3DES (UDP).
* :mod:`~pyhtc.cedar.security` -- policy levels, DC_AUTHENTICATE negotiation (both sides),
  session cache/resumption, FS / CLAIMTOBE / IDTOKENS authentication.
* :mod:`~pyhtc.cedar.safesock` -- UDP datagrams, fragmentation, CRAP headers.
* :mod:`~pyhtc.cedar.sinful` -- sinful strings and address files.
* :mod:`~pyhtc.cedar.commands` -- command numbers.
* :mod:`~pyhtc.cedar.replay` -- offline decoding of captured connections.
* :mod:`~pyhtc.cedar.transport_blocking`, :mod:`~pyhtc.cedar.transport_asyncio` -- thin
  drivers: a blocking client, an asyncio command server (TCP + UDP) and client.

Protocol steps that span several messages are generators yielding
:data:`~pyhtc.cedar.ops.RECV` / :class:`~pyhtc.cedar.ops.Send` (see :mod:`~pyhtc.cedar.ops`).
Every malformed input raises :class:`~pyhtc.cedar.errors.ProtocolError` with a byte offset.
"""
from .commands import Command, command_name
from .errors import CedarError, ConnectionClosed, ProtocolError, SecurityError
from .wire_ad import WireAd

__all__ = ["Command", "command_name", "CedarError", "ConnectionClosed", "ProtocolError",
           "SecurityError", "WireAd"]
