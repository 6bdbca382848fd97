"""Hostile input to a live collector over TCP and UDP: random and mutated bytes (from the
real client's captures) never stop it answering good clients; each bad connection gets one
log line naming the byte offset; a 4 GiB length prefix is refused, never allocated; memory
stays bounded."""
import random
import socket
import struct
import time

import psutil
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pyhtc.classad as C
from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient
from pyhtc.config import Config


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp, "CollectorLog")
    cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": d.host_port},
                      read_user_config=False)
    cc = CollectorClient(config=cfg)
    cc.advertise([C.ClassAd({"MyType": "Machine", "Name": "good@h", "MyAddress": "<127.0.0.1:1>"})],
                 Command.UPDATE_STARTD_AD)
    yield d, cc
    d.stop()


def addr(d):
    h, p = d.host_port.split(":")
    return h, int(p)


def send_tcp(d, data: bytes) -> None:
    with socket.create_connection(addr(d), timeout=5) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(2)
            while s.recv(65536):
                pass
        except OSError:
            pass


def good_query_works(cc) -> bool:
    return [a["Name"] for a in cc.query("Startd", 'Name == "good@h"')] == ["good@h"]


def captured_streams(shared_dir):
    out = []
    for p in sorted((shared_dir / "cedar" / "vectors").glob("e0*_*.conn1.c2s.bin")):
        out.append(p.read_bytes())
    return out


def test_four_gib_length_prefix_is_refused_with_offset(live):
    d, cc = live
    rss0 = psutil.Process(d.proc.pid).memory_info().rss
    # a ReliSock packet header: end flag 1, length 0xFFFFFFFF
    send_tcp(d, b"\x01" + struct.pack(">I", 0xFFFFFFFF) + b"\x00" * 64)
    assert d.wait_log("byte offset")
    assert good_query_works(cc)
    assert psutil.Process(d.proc.pid).memory_info().rss < rss0 + 50 * 1024 * 1024


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(min_size=1, max_size=2000))
def test_random_tcp_bytes(live, data):
    d, _ = live
    send_tcp(d, data)


def test_mutated_client_streams_then_good_client(live, shared_dir):
    d, cc = live
    rng = random.Random(7)
    streams = captured_streams(shared_dir)
    before = d.log_text().count("byte offset")
    n = 0
    for base in streams:
        for _ in range(5):
            b = bytearray(base)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            cut = rng.randrange(1, len(b) + 1)
            send_tcp(d, bytes(b[:cut]))
            n += 1
    assert good_query_works(cc)
    time.sleep(0.3)
    # bad connections are logged (one line each, naming the offset when bytes were bad)
    assert d.log_text().count("byte offset") > before


def test_udp_garbage_and_bounded_memory(live):
    d, cc = live
    proc = psutil.Process(d.proc.pid)
    rss0 = proc.memory_info().rss
    rng = random.Random(11)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(3000):
            n = rng.choice([1, 10, 26, 100, 1000, 8000])
            data = bytes(rng.randrange(256) for _ in range(n))
            if i % 3 == 0:  # a fragment header with huge numbers ("MaGiC" marker)
                data = b"MaGiC" + struct.pack(">HHI", 0xFFFF, 0xFFFE, 0xFFFFFFFF) + data
            s.sendto(data, addr(d))
    time.sleep(1.0)
    assert good_query_works(cc)
    assert proc.memory_info().rss < rss0 + 64 * 1024 * 1024
    assert d.proc.poll() is None
