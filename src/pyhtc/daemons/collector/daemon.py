"""``condor_collector``: receives ad updates (TCP and UDP), answers queries, expires ads.

Commands and their permission levels follow src/condor_collector.V6/collector.cpp:

- ``UPDATE_<TYPE>_AD`` (ADVERTISE_STARTD / ADVERTISE_SCHEDD / ADVERTISE_MASTER for those
  types, DAEMON for the others): one ad per message (a startd's update may carry its private
  ad right after the public one); a TCP client may send further ``int command`` + ad messages
  on the same connection and ends with ``DC_NOP`` (PROTOCOL.md 6.3);
- ``INVALIDATE_<TYPE>_ADS``: a query-style ad; the matching ads are removed;
- ``QUERY_<TYPE>_ADS`` (READ; private startd ads: NEGOTIATOR): the query ad's
  ``Requirements``, ``Projection``, ``LimitResults``; the reply is one message of
  ``int 1`` + ad per result, then ``int 0`` (PROTOCOL.md 6.2);
- updates that arrive by UDP take a lean path (udp.py: no stream object per datagram, the
  ad split once and only its unseen lines checked); the UDP socket's receive buffer is
  ``COLLECTOR_SOCKET_BUFSIZE`` bytes (default 10000*1024, daemon_core.cpp; Linux caps it at
  net.core.rmem_max);
- every ``COLLECTOR_UPDATE_INTERVAL`` the collector puts its own Collector ad in its table;
  every ``HOUSEKEEPING_INTERVAL`` (default: 1/5 of CLASSAD_LIFETIME, at most 60 s) stale ads
  are removed.
"""
from __future__ import annotations

import socket
import struct
import sys
import time

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.wire_ad import WireText, to_classad
from pyhtc.daemoncore.daemon import VERSION_STRING, PLATFORM_STRING, Daemon
from pyhtc.daemoncore.log import Category

from .store import TABLES, CollectorStore, table_for_mytype
from .udp import UdpUpdates

__all__ = ["Collector", "main"]

_ONE = struct.pack(">q", 1)
_ZERO = struct.pack(">q", 0)

#: update command -> (table, permission)
UPDATES = {
    Command.UPDATE_STARTD_AD: ("Startd", "ADVERTISE_STARTD"),
    Command.UPDATE_SCHEDD_AD: ("Schedd", "ADVERTISE_SCHEDD"),
    Command.UPDATE_MASTER_AD: ("Master", "ADVERTISE_MASTER"),
    Command.UPDATE_SUBMITTOR_AD: ("Submitter", "ADVERTISE_SCHEDD"),
    Command.UPDATE_OWN_SUBMITTOR_AD: ("Submitter", "ADVERTISE_SCHEDD"),
    Command.UPDATE_COLLECTOR_AD: ("Collector", "DAEMON"),
    Command.UPDATE_NEGOTIATOR_AD: ("Negotiator", "NEGOTIATOR"),
    Command.UPDATE_ACCOUNTING_AD: ("Accounting", "NEGOTIATOR"),
    Command.UPDATE_AD_GENERIC: ("Generic", "DAEMON"),
}
#: invalidate command -> (table, permission)
INVALIDATES = {
    Command.INVALIDATE_STARTD_ADS: ("Startd", "ADVERTISE_STARTD"),
    Command.INVALIDATE_SCHEDD_ADS: ("Schedd", "ADVERTISE_SCHEDD"),
    Command.INVALIDATE_MASTER_ADS: ("Master", "ADVERTISE_MASTER"),
    Command.INVALIDATE_SUBMITTOR_ADS: ("Submitter", "ADVERTISE_SCHEDD"),
    Command.INVALIDATE_COLLECTOR_ADS: ("Collector", "DAEMON"),
    Command.INVALIDATE_NEGOTIATOR_ADS: ("Negotiator", "NEGOTIATOR"),
    Command.INVALIDATE_ADS_GENERIC: ("Generic", "DAEMON"),
}
#: query command -> (tables, private)
QUERIES = {
    Command.QUERY_STARTD_ADS: (("Startd",), False),
    Command.QUERY_STARTD_PVT_ADS: (("Startd",), True),
    Command.QUERY_SCHEDD_ADS: (("Schedd",), False),
    Command.QUERY_MASTER_ADS: (("Master",), False),
    Command.QUERY_SUBMITTOR_ADS: (("Submitter",), False),
    Command.QUERY_COLLECTOR_ADS: (("Collector",), False),
    Command.QUERY_NEGOTIATOR_ADS: (("Negotiator",), False),
    Command.QUERY_ACCOUNTING_ADS: (("Accounting",), False),
    Command.QUERY_GENERIC_ADS: (("Generic",), False),
    Command.QUERY_ANY_ADS: (TABLES, False),
    Command.QUERY_MULTIPLE_ADS: (TABLES, False),
}


class Collector(Daemon):
    """The collector daemon (one :class:`CollectorStore` plus its commands)."""

    subsystem = "COLLECTOR"

    def default_port(self) -> int:
        # The collector listens on the port COLLECTOR_HOST names (0 = any free port, as
        # `use ROLE: Personal` sets; clients then read COLLECTOR_ADDRESS_FILE), else on
        # COLLECTOR_PORT (9618).
        host = (self.param("COLLECTOR_HOST") or "").replace(",", " ").split()
        if host:
            first = host[0]
            if first.startswith("<"):
                first = first.strip("<>").split("?")[0]
            h, sep, port = first.rpartition(":")
            if sep and port.isdigit():
                return int(port)
        return self.param_integer("COLLECTOR_PORT", 9618)

    def udp_receive_buffer(self) -> int:
        # COLLECTOR_SOCKET_BUFSIZE: an integer number of bytes, default 10000*1024, at least
        # 1024 (param_info.in; daemon_core.cpp asks SafeSock::set_os_buffers for it); Linux
        # grants up to net.core.rmem_max (reported doubled)
        return self.param_integer("COLLECTOR_SOCKET_BUFSIZE", 10000 * 1024, min_value=1024)

    def main_init(self) -> None:
        self.store = CollectorStore(self.param_integer("CLASSAD_LIFETIME", 900))
        for cmd, (table, perm) in UPDATES.items():
            self.register_command(cmd, cmd.name, self._update_handler(cmd), perm)
        for cmd, (table, perm) in INVALIDATES.items():
            self.register_command(cmd, cmd.name, self._invalidate_handler(table), perm)
        for cmd, (tables, private) in QUERIES.items():
            self.register_command(cmd, cmd.name, self._query_handler(cmd, tables, private),
                                  "NEGOTIATOR" if private else "READ")
        self._timers = []
        # ad updates by UDP take the collector's lean path (udp.py); the CommandServer's
        # own dispatcher stays in place for every other datagram
        self.udp_updates = None
        server = getattr(self, "server", None)
        if server is not None:
            # as daemon_core.cpp's D_FULLDEBUG line after set_os_buffers()
            self.dprintf(Category.FULLDEBUG, "Reset OS socket buffer size to "
                         f"{getattr(server, 'udp_rcvbuf_effective', 0) // 1024}k (UDP)")
        if server is not None:
            self.udp_updates = UdpUpdates(self, UPDATES, server.dispatch_udp)
            server.set_udp_dispatcher(self.udp_updates.dispatch)
            self.dprintf(Category.FULLDEBUG, "UDP ad updates are stored by the direct path")
        self.main_config()

    def authorize(self, user, command: int, peer: str) -> bool:
        """Daemon.authorize() with the decision remembered per (user, command, peer IP):
        every UDP update would otherwise pay for the ALLOW/DENY matching (HTCondor's
        IpVerify caches its decisions the same way).  Forgotten on reconfig."""
        cache = getattr(self, "_auth_cache", None)
        if cache is None:
            cache = self._auth_cache = {}
        key = (user, command, peer.rsplit(":", 1)[0] if peer else "")
        allowed = cache.get(key)
        if allowed is None:
            allowed = super().authorize(user, command, peer)
            if len(cache) >= 10_000:
                cache.clear()
            cache[key] = allowed
        return allowed

    def main_config(self) -> None:
        self._auth_cache = {}
        for tid in getattr(self, "_timers", []):
            self.dc.cancel_timer(tid)
        self.store.default_lifetime = self.param_integer("CLASSAD_LIFETIME", 900)
        hk = self.param_integer("HOUSEKEEPING_INTERVAL", max(1, min(60, self.store.default_lifetime // 5)))
        self._timers = [
            self.dc.register_timer(0, self._publish_self,
                                   period=self.param_integer("COLLECTOR_UPDATE_INTERVAL", 900),
                                   name="collector self ad"),
            self.dc.register_timer(hk, self._housekeeping, period=hk, name="housekeeping"),
        ]

    # -- timers --------------------------------------------------------------------------
    def _publish_self(self) -> None:
        now = int(time.time())
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        ad = C.ClassAd({
            "MyType": "Collector", "TargetType": "", "Name": self.param("COLLECTOR_NAME") or host,
            "Machine": host, "MyAddress": self.sinful, "CollectorIpAddr": self.sinful,
            "CondorVersion": VERSION_STRING, "CondorPlatform": PLATFORM_STRING,
            "DaemonStartTime": self.start_time, "MyCurrentTime": now,
            "UpdatesTotal": self.store.updates_total,
            "RunningJobs": 0, "HostsTotal": self.store.count("Startd"),
            "SubmitterAds": self.store.count("Submitter"),
        })
        self.publish_daemon_stats(ad)  # DaemonCoreDutyCycle, MonitorSelf*...
        self.store.update("Collector", ad)

    def _housekeeping(self) -> None:
        for table, key in self.store.expire():
            self.dprintf(Category.ALWAYS, f"**** Removing stale ad: {table} {key}")

    # -- handlers ------------------------------------------------------------------------
    def _store_ad(self, command: int, wire: WireText, private: WireText | None, peer) -> None:
        table, _ = UPDATES[command]
        self.store.update(table, wire, private, identity=getattr(peer, "user", None),
                          method=getattr(peer, "method", None))

    def _update_handler(self, command: int):
        async def handler(stream) -> None:
            cmd = command
            while True:
                # kept as wire text: the store reads only the attributes it needs
                wire = await stream.get_ad(as_text=True)
                private = None
                if cmd == Command.UPDATE_STARTD_AD and not await stream.peek_end_of_message():
                    private = await stream.get_ad(as_text=True)
                await stream.end_of_message()
                try:
                    self._store_ad(cmd, wire, private, stream.peer)
                except (ValueError, SyntaxError, C.ClassAdException) as exc:
                    self.dprintf(Category.ALWAYS, f"Received bad {Command(cmd).name} from "
                                 f"{stream.peer.address}: {exc}")
                if stream.transport == "udp":
                    return  # one update per datagram message
                try:
                    nxt = await stream.get_int()
                except (CedarError, EOFError, ConnectionError):
                    return
                if nxt == Command.DC_NOP:
                    await stream.end_of_message()
                    return
                if nxt != command:
                    self.dprintf(Category.ALWAYS, f"Unexpected command {nxt} after {command} "
                                 f"from {stream.peer.address}; closing")
                    return
        return handler

    def _invalidate_handler(self, table: str):
        async def handler(stream) -> None:
            wire = await stream.get_ad()
            await stream.end_of_message()
            n = self.store.invalidate(table, to_classad(wire))
            self.dprintf(Category.ALWAYS, f"Invalidated {n} {table} ad(s) for {stream.peer.address}")
        return handler

    def _query_handler(self, command: int, tables, private: bool):
        async def handler(stream) -> None:
            wire = await stream.get_ad()
            await stream.end_of_message()
            query = to_classad(wire)
            use = tables
            if command == Command.QUERY_MULTIPLE_ADS:
                target = query.get("TargetType") or ""
                use = tuple(t for t in TABLES if any(
                    table_for_mytype(x.strip()) == t for x in str(target).split(","))) or TABLES
            t0 = time.monotonic()
            results = self.store.query(use, query, private=private)
            t1 = time.monotonic()
            # the reply is the stored wire text: "int 1, ad" per result, then "int 0"; each
            # ad's encoding is made once and kept with it (WireText.encode).  It goes in
            # 1 MiB packets (fewer AES-GCM seals here, fewer reads in the client), each
            # written as soon as it is sealed: the client reads and decrypts the first
            # ones while the rest are made, and the reply is never joined whole
            sent = stream.conn.bytes_sent
            await stream.put_message_parts(_reply_pieces(results, stream.encrypted),
                                           big_packets=True)
            # as collector.cpp's "Query info" line: matched, query_time, send_time (and
            # the reply's size on the wire, AES-GCM or not)
            self.log.dprintf(Category.COMMAND, f"Query {Command(command).name} from "
                             f"{stream.peer.address}: {len(results)} ad(s); "
                             f"query_time={t1 - t0:.3f} send_time={time.monotonic() - t1:.3f} "
                             f"bytes={stream.conn.bytes_sent - sent}"
                             f"{' AES-GCM' if stream.encrypted else ''}")
        return handler


def _reply_pieces(results, crypto: bool):
    """The query reply's payload in pieces (collector.cpp: ``int 1`` + putClassAd() per
    result, then ``int 0``), each ad's bytes made when reached (cached in its WireText)."""
    one = _ONE
    for ad in results:
        yield one
        yield ad.encode(crypto)
    yield _ZERO


def main(argv=None) -> int:
    """Entry point of ``condor_collector`` (``_CONDOR_COLLECTOR_PROFILE=<dir>`` profiles it: see
    :meth:`pyhtc.daemoncore.daemon.Daemon.main`)."""
    return Collector.main(argv)


if __name__ == "__main__":
    sys.exit(main())
