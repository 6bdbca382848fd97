"""Our own blocking client against our asyncio server over loopback (TCP and UDP)."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import ConnectionClosed, SecurityError
from pyhtc.cedar.security.negotiation import ClientSessionCache
from pyhtc.cedar.security.policy import Level, SecurityPolicy
from pyhtc.cedar.transport_asyncio import open_command
from pyhtc.cedar.transport_blocking import send_udp_command, start_command, udp_session
from pyhtc.cedar.wire_ad import WireAd

from .fake_daemon import FakeDaemon


class ServerThread:
    """Runs a FakeDaemon's asyncio server in a background thread."""

    def __init__(self, policy):
        self.policy = policy
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.daemon = FakeDaemon(self.policy)
        self.loop.run_until_complete(self.daemon.server.start("127.0.0.1", 0))
        self.ready.set()
        self.loop.run_forever()
        self.loop.close()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        fut = asyncio.run_coroutine_threadsafe(self.daemon.server.close(), self.loop)
        fut.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def port(self):
        return self.daemon.server.port


def _query(port, policy, cache=None):
    with start_command("127.0.0.1", port, Command.QUERY_STARTD_ADS, policy, cache=cache) as s:
        s.put_ad(WireAd.from_values({"MyType": "Query", "TargetType": "Machine",
                                     "Requirements": True, "Projection": "Name Cpus"}))
        s.end_of_message()
        ads = []
        while s.get_int():
            ads.append(s.get_ad())
        s.end_of_message()
        return ads, s


@pytest.mark.parametrize("neg", [Level.PREFERRED, Level.NEVER])
def test_blocking_query(neg):
    with ServerThread(SecurityPolicy()) as srv:
        cache = ClientSessionCache()
        ads, s = _query(srv.port, SecurityPolicy(negotiation=neg, authentication=Level.NEVER),
                        cache)
        assert [ad.names() for ad in ads] == [["Cpus", "Name"]] * 3
        assert (s.result is None) == (neg is Level.NEVER)
        if s.result is not None:
            assert s.result.encrypted
            ads2, s2 = _query(srv.port, SecurityPolicy(authentication=Level.NEVER), cache)
            assert len(ads2) == 3 and s2.result.session is s.result.session  # resumed


def test_blocking_udp_with_session():
    with ServerThread(SecurityPolicy()) as srv:
        cache = ClientSessionCache()
        pol = SecurityPolicy(authentication=Level.NEVER)
        udp_session("127.0.0.1", srv.port, Command.UPDATE_STARTD_AD, pol, cache)
        session = cache.lookup(f"127.0.0.1:{srv.port}", Command.UPDATE_STARTD_AD)
        assert session is not None and session.key is not None
        big = "x" * 70000
        n = send_udp_command("127.0.0.1", srv.port, Command.UPDATE_STARTD_AD,
                             lambda e: _put(e, big), cache=cache)
        assert n == 2  # fragmented
        send_udp_command("127.0.0.1", srv.port, Command.UPDATE_STARTD_AD,
                         lambda e: _put(e, "small"))
        deadline = time.time() + 5
        while len(srv.daemon.updates) < 2 and time.time() < deadline:
            time.sleep(0.05)
        got = sorted((len(ad.get("Big")), p, bool(ad)) for _, p, ad, _ in srv.daemon.updates)
        assert got == [(5, "udp", True), (70000, "udp", True)]


def _put(enc, big):
    from pyhtc.cedar.wire_ad import put_ad
    put_ad(enc, WireAd.from_values({"MyType": "Machine", "Big": big}))


def test_server_requires_authentication_claimtobe():
    with ServerThread(SecurityPolicy(authentication=Level.REQUIRED,
                                     auth_methods=["CLAIMTOBE"])) as srv:
        pol = SecurityPolicy(auth_methods=["CLAIMTOBE"])
        with start_command("127.0.0.1", srv.port, Command.DC_RECONFIG_FULL, pol,
                           claim_user="bob@pool") as s:
            assert s.result.post_auth.get_str("User") == "bob@pool"
        time.sleep(0.2)
        assert (int(Command.DC_RECONFIG_FULL), "bob@pool", True) in srv.daemon.commands
        with pytest.raises((ConnectionClosed, SecurityError, OSError)):
            _query(srv.port, SecurityPolicy(negotiation=Level.NEVER))


def test_asyncio_client():
    async def main():
        d = FakeDaemon(SecurityPolicy())
        await d.server.start()
        try:
            s = await open_command("127.0.0.1", d.server.port, Command.QUERY_SCHEDD_ADS,
                                   SecurityPolicy(authentication=Level.NEVER))
            s.put_ad(WireAd.from_values({"Requirements": True}))
            await s.end_of_message()
            names = []
            while await s.get_int():
                names.append((await s.get_ad()).get("Name"))
            await s.end_of_message()
            await s.close()
            return names
        finally:
            await d.server.close()
    assert asyncio.run(main()) == ["schedd@fake.example.org"]


@pytest.mark.parametrize("neg", [Level.PREFERRED, Level.NEVER])
def test_forced_authentication_act_on_jobs(neg, tmp_path):
    """Blocking client: ACT_ON_JOBS on an unauthenticated session, forced FS authentication
    on the command stream, then the action protocol (PROTOCOL.md 6.5)."""
    import pwd
    me = pwd.getpwuid(__import__("os").getuid()).pw_name
    with ServerThread(SecurityPolicy(auth_methods=["FS"], fs_dir=str(tmp_path),
                                     uid_domain="d")) as srv:
        pol = SecurityPolicy(negotiation=neg, authentication=Level.NEVER, auth_methods=["FS"])
        with start_command("127.0.0.1", srv.port, Command.ACT_ON_JOBS, pol) as s:
            assert s.authenticate(pol) == "FS"
            s.put_ad(WireAd.from_values({"JobAction": 1, "ActionResultType": 2}))
            s.end_of_message()
            result = s.get_ad()
            s.end_of_message()
            assert result.get("ActionResult") == 1
            s.put_int(1).end_of_message()
            assert s.get_int() == 1
            s.end_of_message()
        time.sleep(0.1)
        assert (int(Command.ACT_ON_JOBS), f"{me}@d", neg is not Level.NEVER) in \
            srv.daemon.commands


def test_server_drops_silent_and_garbage_peers():
    """A peer that sends garbage or nothing is disconnected; the server keeps serving."""
    from pyhtc.cedar.transport_asyncio import CommandServer

    async def main():
        server = CommandServer(SecurityPolicy(), {}, timeout=0.3)
        await server.start()
        try:
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.write(b"\x01\xff\xff\xff\xff" + b"x" * 10)  # 4 GiB length prefix
            assert await asyncio.wait_for(r.read(), 5) == b""  # closed by the server
            w.close()
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            assert await asyncio.wait_for(r.read(), 5) == b""  # silent peer timed out
            w.close()
        finally:
            await server.close()
    asyncio.run(main())
