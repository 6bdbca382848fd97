"""The CommandServer's UDP side as the collector uses it: the receive buffer really is the
size asked for (up to the kernel limit), a burst of datagrams is drained into memory and
every one handled, handlers run without a task each, and one that suspends still finishes."""
import asyncio
import socket
import threading
import time

from pyhtc.cedar.safesock import encode_udp_command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.cedar.wire_ad import WireAd, WireText, put_ad

CMD = 2  # any command number


def _rmem_max() -> int:
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return int(f.read())
    except OSError:
        return 0


def _datagrams(n):
    out = []
    for i in range(n):
        ad = WireAd.from_values({"Name": f"n{i}", "Pad": "x" * 1000})
        out.extend(encode_udp_command(CMD, lambda enc, a=ad: put_ad(enc, a)))
    return out


def _send(port, grams):
    # bursts of 50 (fewer than any kernel buffer holds), much faster than they are handled
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for i, g in enumerate(grams):
            sock.sendto(g, ("127.0.0.1", port))
            if i % 50 == 49:
                time.sleep(0.002)


async def _serve(handler, n, rcvbuf=4 * 1024 * 1024):
    server = CommandServer(SecurityPolicy(), {CMD: handler})
    server.udp_rcvbuf = rcvbuf
    await server.start("127.0.0.1", 0)
    threading.Thread(target=_send, args=(server.port, _datagrams(n)), daemon=True).start()
    return server


def test_receive_buffer_is_applied_and_reported():
    async def main():
        server = CommandServer(SecurityPolicy(), {})
        server.udp_rcvbuf = 1024 * 1024
        await server.start("127.0.0.1", 0)
        try:
            sock = server._udp_sock
            got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            assert got == server.udp_rcvbuf_effective
            # Linux grants twice the request, capped by rmem_max (SO_RCVBUFFORCE can exceed it)
            assert got >= min(1024 * 1024, _rmem_max() or 1024 * 1024)
        finally:
            await server.close()
    asyncio.run(main())


def test_burst_is_drained_and_every_datagram_handled():
    seen = []
    tasks_during = []

    async def handler(stream):
        ad = await stream.get_ad(as_text=True)
        await stream.end_of_message()
        assert isinstance(ad, WireText)
        tasks_during.append(asyncio.current_task())
        seen.append(ad.expr("Name"))

    async def main():
        server = await _serve(handler, 1500)
        try:
            for _ in range(200):
                if len(seen) >= 1500:
                    break
                await asyncio.sleep(0.05)
            assert server.udp_dropped == 0
        finally:
            await server.close()
    asyncio.run(main())
    assert len(seen) == 1500 and len(set(seen)) == 1500
    # handled inline (no task per datagram)
    assert set(tasks_during) == {None}


def test_a_handler_that_suspends_still_finishes():
    done = []

    async def handler(stream):
        ad = await stream.get_ad()
        await asyncio.sleep(0.01)  # e.g. waiting for a lock
        await asyncio.sleep(0)
        done.append(ad.get("Name"))

    async def main():
        server = await _serve(handler, 20)
        try:
            for _ in range(100):
                if len(done) >= 20:
                    break
                await asyncio.sleep(0.05)
        finally:
            await server.close()
    asyncio.run(main())
    assert sorted(done, key=lambda s: int(s[1:])) == [f"n{i}" for i in range(20)]


def test_bad_datagrams_are_logged_and_skipped(caplog):
    seen = []

    async def handler(stream):
        seen.append((await stream.get_ad()).get("Name"))

    async def main():
        server = CommandServer(SecurityPolicy(), {CMD: handler})
        await server.start("127.0.0.1", 0)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.sendto(b"short", ("127.0.0.1", server.port))
            sock.sendto(b"\xff" * 64, ("127.0.0.1", server.port))
            for g in _datagrams(1):
                sock.sendto(g, ("127.0.0.1", server.port))
            sock.close()
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.02)
        finally:
            await server.close()
    with caplog.at_level("INFO", logger="pyhtc.cedar"):
        asyncio.run(main())
    assert seen == ["n0"]
    assert "bad datagram" in caplog.text

