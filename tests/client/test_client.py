"""pyhtc.client against a real condor_collector process: query, advertise (TCP, UDP),
locate, and locate through an address file."""
import time

import pytest

import pyhtc.classad as C
from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon, parse_address
from pyhtc.config import Config


@pytest.fixture
def collector(tmp_path):
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    yield d
    d.stop()


def tool_config(tmp_path, collector, **extra):
    env = {"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": collector.host_port,
           "_CONDOR_LOG": str(tmp_path)}
    env.update(extra)
    return Config.load("TOOL", environ=env, read_user_config=False)


def test_parse_address():
    assert parse_address("<127.0.0.1:9618?addrs=127.0.0.1-9618>") == ("127.0.0.1", 9618)
    assert parse_address("cm.example.org") == ("cm.example.org", 9618)
    assert parse_address("cm:1234") == ("cm", 1234)
    with pytest.raises(ValueError):
        parse_address("")


@pytest.mark.parametrize("negotiation", ["PREFERRED", "NEVER"])
def test_query_advertise_locate(tmp_path, collector, negotiation):
    cfg = tool_config(tmp_path, collector, _CONDOR_SEC_CLIENT_NEGOTIATION=negotiation)
    cc = CollectorClient(config=cfg)
    slots = [C.ClassAd({"MyType": "Machine", "Name": f"slot{i}@h", "Cpus": i, "MyAddress": "<127.0.0.1:1>"})
             for i in range(1, 4)]
    cc.advertise(slots, Command.UPDATE_STARTD_AD)
    cc.advertise([C.ClassAd({"MyType": "Scheduler", "Name": "s@h", "MyAddress": "<127.0.0.1:2>"})],
                 Command.UPDATE_SCHEDD_AD)
    got = cc.query("Startd", "Cpus >= 2", ["Name"])
    assert sorted(a["Name"] for a in got) == ["slot2@h", "slot3@h"]
    assert len(cc.query("Startd", limit=1)) == 1
    assert cc.locate("schedd")["MyAddress"] == "<127.0.0.1:2>"
    with pytest.raises(DaemonNotFound):
        cc.locate("schedd", "nosuch@h")
    # the collector itself, from COLLECTOR_HOST
    assert locate_daemon("collector", config=cfg) == f"<{collector.host_port}>"


def test_udp_advertise(tmp_path, collector):
    cc = CollectorClient(config=tool_config(tmp_path, collector))
    cc.advertise([C.ClassAd({"MyType": "Machine", "Name": "u@h", "MyAddress": "<127.0.0.1:1>"})],
                 Command.UPDATE_STARTD_AD, use_tcp=False)
    for _ in range(100):
        if cc.query("Startd", 'Name == "u@h"'):
            break
        time.sleep(0.05)
    assert [a["Name"] for a in cc.query("Startd")] == ["u@h"]


def test_locate_from_address_file(tmp_path, collector):
    cfg = tool_config(tmp_path, collector, _CONDOR_SPOOL=str(tmp_path))
    (tmp_path / ".schedd_address").write_text("<127.0.0.1:7777>\n$CondorVersion: 25.14.1 $\n$CondorPlatform: X $\n")
    assert locate_daemon("schedd", config=cfg) == "<127.0.0.1:7777>"


def test_collector_host_port_zero_reads_the_address_file(tmp_path, collector):
    """`use ROLE: Personal` sets COLLECTOR_HOST = host:0: clients find the collector through
    COLLECTOR_ADDRESS_FILE."""
    addr_file = tmp_path / ".collector_address"
    assert addr_file.exists()
    cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": "127.0.0.1:0",
                                       "_CONDOR_COLLECTOR_ADDRESS_FILE": str(addr_file)},
                      read_user_config=False)
    assert locate_daemon("collector", config=cfg) == collector.sinful
    assert len(CollectorClient(config=cfg).query("Collector")) == 1
    missing = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": "127.0.0.1:0",
                                           "_CONDOR_COLLECTOR_ADDRESS_FILE": str(tmp_path / "nope")},
                          read_user_config=False)
    with pytest.raises(DaemonNotFound, match="port 0"):
        CollectorClient(config=missing)
