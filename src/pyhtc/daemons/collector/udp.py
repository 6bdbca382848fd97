"""The collector's lean path for ad updates that arrive by UDP.

A pool's startds and schedds send their updates as SafeSock datagrams (UPDATE_*_AD, one ad
per message, no reply; collector.cpp registers the same handlers for both transports).  A
datagram's whole life here is: reassembled and (under a session) decrypted once by the
CommandServer's :class:`~pyhtc.cedar.safesock.SafeSockReceiver`, then -- in
:meth:`UdpUpdates.dispatch` -- authorized (a cached decision), its ad read as wire text and
stored.  No stream object, coroutine or per-update log line is made unless the D_ level asks
for one (D_COMMAND: "Calling HandleReq", as daemon_core.cpp logs it).

The ad is read with one split at NULs (:func:`read_clear_ad`, clear-mode datagrams) and
only the lines the store has not seen in an earlier good ad are looked at (their form, then
their expression); an encrypted datagram's ad is read by get_ad().  These updates do not
appear in the CommandServer's ``served`` list (kept for TCP commands and other datagrams).

Commands other than ad updates, and updates on a command that must authenticate
(``force_auth_commands``; a datagram cannot), go the ordinary way (the CommandServer's
dispatch, a CedarStream and the registered handler).

Errors are logged as the ordinary path logs them: a malformed datagram ("UDP command N:
... byte offset ...", through the ``pyhtc.cedar`` logger the daemon routes to its log) and
an ad the store refuses ("Received bad UPDATE_STARTD_AD from ...").
"""
from __future__ import annotations

import logging
import re
import struct
from typing import Callable, Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.codec import MAX_STRING_LENGTH
from pyhtc.cedar.wire_ad import MAX_ATTRIBUTES, WireText, get_ad
from pyhtc.daemoncore.log import Category
from pyhtc.daemoncore.permissions import UNAUTHENTICATED

from .store import UnusualLine

__all__ = ["UdpUpdates"]

log = logging.getLogger("pyhtc.cedar.collector")

_INT8 = struct.Struct(">q")
#: an attribute line exactly as putClassAd() writes it, "Name = expr" (classad_oldnew.cpp):
#: a valid name, one blank each side of "=", an expression starting with a printable ASCII
#: character; the form get_ad()'s strict reader accepts.  Lines not seen before must have
#: it, else the whole ad is read again by get_ad() (which keeps or refuses what it will)
WIRE_LINE = re.compile(rb"[A-Za-z_][A-Za-z0-9_.]*+ = [!-~][^\x00]*+(?<=[\t\n\r -~])")


def read_clear_ad(dec) -> Optional[tuple]:
    """The next ad of a clear-mode (unencrypted) decoder as ``(WireText, its lines)``, with
    the decoder moved past its MyType/TargetType strings -- found with one split at NULs
    and no look at the lines (the store checks those it has not seen, against
    :data:`WIRE_LINE`).  Returns None, the decoder untouched, when the bytes are not a
    whole clear-mode ad of a plausible size (get_ad() then reads them, or reports where
    they are wrong)."""
    if dec.crypto_mode:
        return None
    data, pos = dec.data, dec.pos
    if len(data) - pos < 8:
        return None
    (count,) = _INT8.unpack_from(data, pos)
    start = pos + 8
    if not 0 <= count <= MAX_ATTRIBUTES or count > len(data) - start:
        return None
    pieces = data[start:].split(b"\0", count + 2)
    if len(pieces) != count + 3:
        return None  # fewer than count lines + MyType + TargetType: truncated
    end = len(data) - len(pieces[-1])  # after TargetType's NUL
    if len(pieces[count]) > MAX_STRING_LENGTH or len(pieces[count + 1]) > MAX_STRING_LENGTH:
        return None
    block_end = end - len(pieces[count]) - len(pieces[count + 1]) - 2
    del pieces[count:]
    dec.pos = end
    return WireText(data[start:block_end], count), pieces


class UdpUpdates:
    """Ad updates by UDP, handled without the per-command stream machinery.

    Args:
        collector: the :class:`~pyhtc.daemons.collector.daemon.Collector` (its store,
            ``authorize``, log and command table are used).
        updates: command number -> (table, permission) of the update commands.
        fallback: the CommandServer's own datagram dispatcher, for everything else.

    ``handled`` counts the updates taken by this path (stored or refused).
    """

    def __init__(self, collector, updates: dict, fallback: Callable):
        self.collector = collector
        self.updates = {int(k): v for k, v in updates.items()}
        self.fallback = fallback
        self.handled = 0
        self._names = {int(k): Command(k).name for k in updates}

    def dispatch(self, udp_cmd) -> None:
        """Handle one decoded UDP command (a :class:`~pyhtc.cedar.safesock.UdpCommand`)."""
        command = udp_cmd.command
        entry = self.updates.get(command)
        coll = self.collector
        if entry is None or command in coll.force_auth_commands:
            self.fallback(udp_cmd)
            return
        self.handled += 1
        peer = udp_cmd.peer
        user = peer.user
        addr = peer.address
        if not coll.authorize(user, command, addr):
            coll.dprintf(Category.ALWAYS, f"DC_AUTHENTICATE: Command not authorized: "
                         f"{self._names[command]} ({command}) from "
                         f"{user or UNAUTHENTICATED} at {addr}")
            return
        dlog = coll.log
        if dlog.levels.get(Category.COMMAND, 0) >= 1:
            dlog.dprintf(Category.COMMAND, f"Calling HandleReq <{self._names[command]}> "
                         f"({command}) for {user or UNAUTHENTICATED} from {addr}")
        dec = udp_cmd.payload
        start = dec.pos
        fast = read_clear_ad(dec)
        try:
            if fast is not None:
                wire, lines = fast
            else:
                wire, lines = get_ad(dec, as_text=True), None
            private = None
            if command == Command.UPDATE_STARTD_AD and not dec.at_end():
                private = get_ad(dec, as_text=True)
            dec.finish()
        except CedarError as exc:
            # as the ordinary path's "UDP command N: <error at byte offset>"
            log.info("UDP command %d: %s", command, exc)
            return
        store = coll.store
        try:
            try:
                store.update(entry[0], wire, private, identity=user, method=peer.method,
                             lines=lines, wire_form=None if lines is None else WIRE_LINE)
            except UnusualLine:
                # a line in another form than putClassAd()'s: the general reader decides
                dec.pos = start
                try:
                    wire = get_ad(dec, as_text=True)
                except CedarError as exc:
                    log.info("UDP command %d: %s", command, exc)
                    return
                store.update(entry[0], wire, private, identity=user, method=peer.method)
        except (ValueError, SyntaxError, C.ClassAdException) as exc:
            coll.dprintf(Category.ALWAYS, f"Received bad {self._names[command]} from "
                         f"{addr}: {exc}")
