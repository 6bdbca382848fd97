"""The collector's lean path for UDP ad updates (pyhtc.daemons.collector.udp): driven through
a real CommandServer on loopback with real SafeSock datagrams, and end to end through a live
condor_collector process (a burst of real slot ads, hostile datagrams among them)."""
import asyncio
import logging
import pathlib
import socket
import struct
import threading
import time

from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.cedar.safesock import encode_udp_command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.cedar.wire_ad import WireAd, put_ad
from pyhtc.daemoncore.log import DebugLog
from pyhtc.daemons.collector.daemon import UPDATES
from pyhtc.daemons.collector.store import CollectorStore
from pyhtc.daemons.collector.udp import UdpUpdates

import pyhtc.classad as C

STARTD = int(Command.UPDATE_STARTD_AD)
OTHER = int(Command.DC_NOP)


class StandIn:
    """What UdpUpdates uses of a Collector: store, authorize(), log, dprintf()."""

    def __init__(self, deny_ip=None):
        self.store = CollectorStore()
        self.force_auth_commands = set()
        self.log = DebugLog(debug="D_COMMAND")
        self.lines = []
        self.log._write = self.lines.append
        self.deny_ip = deny_ip

    def authorize(self, user, command, peer):
        return not (self.deny_ip and peer.startswith(self.deny_ip + ":"))

    def dprintf(self, category, message):
        self.log.dprintf(category, message)


def query_ad(constraint=None):
    q = C.ClassAd({"MyType": "Query", "TargetType": "Machine"})
    if constraint is not None:
        q["Requirements"] = C.ExprTree(constraint)
    return q


def slot(i, **extra):
    ad = WireAd()
    ad.set("MyType", "Machine")
    ad.set("Name", f"slot{i}@h")
    ad.set("MyAddress", "<127.0.0.1:7>")
    ad.set_expr("Start", "KeyboardIdle > 15 * 60")
    ad.set("Memory", 1000 + i)
    for k, v in extra.items():
        ad.set_expr(k, v)
    return ad


def datagrams(command, *ads):
    def write(enc):
        for a in ads:
            put_ad(enc, a)
    return encode_udp_command(command, write)


async def serve(coll, handlers=None):
    server = CommandServer(SecurityPolicy(), dict(handlers or {}))
    server.udp_rcvbuf = 4 * 1024 * 1024  # the whole burst fits: nothing lost on a busy machine
    await server.start("127.0.0.1", 0)
    fast = UdpUpdates(coll, UPDATES, server.dispatch_udp)
    assert server.set_udp_dispatcher(fast.dispatch) == server.dispatch_udp
    return server, fast


async def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        await asyncio.sleep(0.02)


def send(port, grams, pause_every=50, pause=0.002):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, g in enumerate(grams):
            s.sendto(g, ("127.0.0.1", port))
            if pause_every and i % pause_every == pause_every - 1:
                time.sleep(pause)


def test_burst_of_updates_all_stored_without_a_stream_each():
    coll = StandIn()
    grams = [g for i in range(1500) for g in datagrams(STARTD, slot(i))]

    async def main():
        server, fast = await serve(coll)
        try:
            threading.Thread(target=send, args=(server.port, grams), daemon=True).start()
            await wait_for(lambda: coll.store.count("Startd") >= 1500)
            assert fast.handled == 1500
            assert server.udp_dropped == 0
            assert not server._tasks  # handled inline
        finally:
            await server.close()
    asyncio.run(main())
    assert coll.store.count("Startd") == 1500
    assert coll.store.updates_total == 1500
    # D_COMMAND asked for: one "Calling HandleReq" line per update, as daemon_core.cpp logs
    assert sum("Calling HandleReq <UPDATE_STARTD_AD> (0)" in ln for ln in coll.lines) == 1500


def test_private_ad_unauthorized_peer_and_other_commands():
    coll = StandIn()
    other = []

    async def nop(stream):
        other.append(stream.peer.address)
        await stream.end_of_message()

    async def main():
        server, fast = await serve(coll, {OTHER: nop})
        try:
            pvt = WireAd()
            pvt.set("Name", "slot1@h")
            pvt.set("Capability", "<127.0.0.1:7>#1#2")
            grams = datagrams(STARTD, slot(1), pvt) + datagrams(OTHER)
            send(server.port, grams, 0)
            await wait_for(lambda: coll.store.count("Startd") == 1 and other)
        finally:
            await server.close()
    asyncio.run(main())
    (ad,) = coll.store.query(["Startd"], query_ad(), private=True)
    assert ad.expr("Capability") == '"<127.0.0.1:7>#1#2"'
    assert len(other) == 1  # DC_NOP went the ordinary way

    denied = StandIn(deny_ip="127.0.0.1")

    async def main2():
        server, fast = await serve(denied)
        try:
            send(server.port, datagrams(STARTD, slot(2)), 0)
            await wait_for(lambda: fast.handled == 1)
            await asyncio.sleep(0.05)
        finally:
            await server.close()
    asyncio.run(main2())
    assert denied.store.count("Startd") == 0
    assert any("Command not authorized: UPDATE_STARTD_AD" in ln for ln in denied.lines)


def test_hostile_datagrams_in_the_burst_are_logged_with_offsets(caplog):
    coll = StandIn()
    good = [g for i in range(300) for g in datagrams(STARTD, slot(i))]
    whole = datagrams(STARTD, slot(9999))[0]
    bad = [
        whole[:len(whole) // 2],                          # the ad cut in the middle
        whole + b"extra",                                 # a private ad cut short
        datagrams(int(Command.UPDATE_SCHEDD_AD), WireAd.from_values(
            {"Name": "s@h", "MyAddress": "<127.0.0.1:8>"}))[0] + b"extra",  # untouched bytes
        struct.pack(">qq", STARTD, 10 ** 9),              # an absurd attribute count
        datagrams(STARTD, slot(5000, Broken="(1 +"))[0],  # an expression that does not parse
        datagrams(STARTD, WireAd.from_values({"Memory": 1}))[0],  # no Name
    ]
    grams = []
    for i, g in enumerate(good):
        grams.append(g)
        if i % 40 == 20 and i // 40 < len(bad):  # each hostile datagram once, mid-burst
            grams.append(bad[i // 40])

    async def main():
        server, fast = await serve(coll)
        try:
            threading.Thread(target=send, args=(server.port, grams), daemon=True).start()
            await wait_for(lambda: coll.store.count("Startd") >= 300)
            await asyncio.sleep(0.05)
        finally:
            await server.close()
    with caplog.at_level(logging.INFO, logger="pyhtc.cedar"):
        asyncio.run(main())
    assert coll.store.count("Startd") == 300
    assert coll.store.count("Schedd") == 0
    assert not coll.store.query(["Startd"], query_ad('Name == "slot5000@h"'))
    offsets = [r.getMessage() for r in caplog.records if "byte offset" in r.getMessage()]
    assert len(offsets) == 4, caplog.text
    assert all(m.startswith(("UDP command 0: ", "UDP command 1: ")) for m in offsets)
    assert any("5 untouched bytes at end of message (at byte offset" in m for m in offsets)
    assert any("truncated integer: need 8 bytes, 5 left" in m for m in offsets)
    assert any("attribute count 1000000000" in m for m in offsets)
    refused = [ln for ln in coll.lines if "Received bad UPDATE_STARTD_AD" in ln]
    assert any("attribute Broken does not parse" in ln for ln in refused)
    assert any("no Name" in ln for ln in refused)


def test_live_collector_stores_a_burst_of_real_slot_ads(tmp_path, shared_dir):
    from pyhtc.client import CollectorClient
    from pyhtc.config import Config
    text = (shared_dir / "real" / "ads" / "htcondor__basic4slot.ads").read_text()
    lines = [ln for ln in text.strip().split("\n\n")[0].splitlines()
             if not ln.startswith(("Name ", "Name=", "MyAddress", "LastHeardFrom"))]
    base = WireAd()
    for ln in lines:
        k, _, v = ln.partition("=")
        if k.strip():
            base.set_expr(k.strip(), v.strip())
    n = 2000
    grams = []
    for i in range(n):
        ad = base.copy()
        ad.set("Name", f"slot{i % 8}@burst{i // 8}")
        ad.set("MyAddress", f"<127.0.0.1:{20000 + i}>")
        grams.extend(datagrams(STARTD, ad))
        if i % 500 == 250:
            grams.append(grams[-1] + b"junk")  # hostile: a private ad cut short
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog",
                     _CONDOR_COLLECTOR_DEBUG="D_FULLDEBUG")
    try:
        host, port = d.host_port.split(":")
        # bursts of 20 (under 1 % of the receive buffer), ~2,000 a second: the collector
        # never falls so far behind that the kernel drops one, even on a busy machine
        send(int(port), grams, 20, 0.01)
        cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV",
                                           "_CONDOR_COLLECTOR_HOST": d.host_port},
                          read_user_config=False)
        cc = CollectorClient(config=cfg)
        got = 0
        for _ in range(100):
            got = len(cc.query("Startd", projection=["Name"]))
            if got >= n:
                break
            time.sleep(0.1)
        assert got == n
        assert d.wait_log("truncated integer")
        log = d.log_text()
        assert log.count("truncated integer: need 8 bytes, 4 left (at byte offset") == 4
        assert "Reset OS socket buffer size to " in log and "k (UDP)" in log
        assert "UDP ad updates are stored by the direct path" in log
    finally:
        d.stop()


def test_clear_reader_agrees_with_get_ad_and_leaves_bad_bytes_to_it():
    from pyhtc.cedar.codec import Decoder, Encoder
    from pyhtc.cedar.errors import ProtocolError
    from pyhtc.cedar.wire_ad import get_ad
    from pyhtc.daemons.collector.udp import read_clear_ad
    enc = Encoder()
    put_ad(enc, slot(1))
    put_ad(enc, WireAd.from_values({"ClaimId": "x#1"}))
    data = enc.data
    fast = Decoder(data)
    text, lines = read_clear_ad(fast)
    slow = Decoder(data)
    assert text == get_ad(slow, as_text=True) and fast.pos == slow.pos
    assert lines == text.block.split(b"\0")[:-1] and len(lines) == text.count
    assert get_ad(fast, as_text=True).expr("ClaimId") == '"x#1"'
    # cut anywhere, or encrypted-mode strings: None, and the decoder is where it was
    for cut in (3, 8, 20, len(data) // 3):
        d = Decoder(data[:cut])
        assert read_clear_ad(d) is None and d.pos == 0
        try:
            get_ad(d, as_text=True)
        except ProtocolError as exc:
            assert "byte offset" in str(exc)
    cenc = Encoder(crypto_mode=True)
    put_ad(cenc, slot(1))
    assert read_clear_ad(Decoder(cenc.data, True)) is None


def test_lines_in_another_form_go_to_the_general_reader(caplog):
    coll = StandIn()
    odd = WireAd()
    odd.set("Name", "odd@h")
    raw = b"".join(datagrams(STARTD, odd))

    def hand_written(lines):
        # a datagram whose ad lines are written by hand (no SafeSock fragments: it fits)
        body = struct.pack(">q", STARTD) + struct.pack(">q", len(lines))
        body += b"".join(ln + b"\0" for ln in lines) + b"\0\0"
        return body

    grams = [hand_written([b'Name="tight@h"', b"Memory=5", b'MyAddress = "<127.0.0.1:9>"']),
             hand_written([b'Name = "u@h"', b"Bad Name = 1"]),
             raw]

    async def main():
        server, fast = await serve(coll)
        try:
            send(server.port, grams, 0)
            await wait_for(lambda: fast.handled == 3)
            await asyncio.sleep(0.05)
        finally:
            await server.close()
    with caplog.at_level(logging.INFO, logger="pyhtc.cedar"):
        asyncio.run(main())
    assert "malformed ClassAd line 'Bad Name = 1' (at byte offset" in caplog.text
    names = sorted(w.expr("Name") for w in coll.store.query(["Startd"], query_ad()))
    assert names == ['"odd@h"', '"tight@h"']
    (tight,) = coll.store.query(["Startd"], query_ad('Name == "tight@h"'))
    assert tight.expr("Memory") == "5"
