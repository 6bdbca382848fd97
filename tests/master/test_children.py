"""Pure pieces of the master: backoff formula, DAEMON_LIST and knob parsing, tool planning."""
import pytest

from pyhtc.daemons.master.children import (DaemonEntry, daemon_list, parse_args_knob,
                                           parse_env_knob)
from pyhtc.tools import daemon_ctl


def test_backoff_follows_the_manual_example():
    # manual, master.rst: t = c + k^n -> 10, 11, 13, ... with the defaults, capped at 3600
    e = DaemonEntry("SCHEDD")
    got = []
    for n in range(14):
        e.restarts = n
        got.append(e.next_start())
    assert got[:4] == [10, 11, 13, 17]
    assert got[11] == 9 + 2048 and got[12] == 3600 and got[13] == 3600
    e.restarts = 10_000  # overflow -> ceiling
    assert e.next_start() == 3600
    e.backoff_factor = 1.5
    e.restarts = 3
    assert e.next_start() == 9 + 4  # ceil(3.375)


def test_daemon_list_order_and_master_first():
    assert daemon_list("collector, SCHEDD  startd,schedd") == ["MASTER", "COLLECTOR", "SCHEDD", "STARTD"]
    assert daemon_list(None) == ["MASTER"]


def test_args_and_environment_knobs():
    assert parse_args_knob("-m pyhtc.x  -p 5", "X_ARGS") == ["-m", "pyhtc.x", "-p", "5"]
    assert parse_args_knob('"-a \'two words\' \'it\'\'s\'"', "X_ARGS") == ["-a", "two words", "it's"]
    with pytest.raises(ValueError, match="X_ARGS"):
        parse_args_knob('"-a \'open"', "X_ARGS")
    assert parse_env_knob("A=1;B=two words", "X_ENVIRONMENT") == {"A": "1", "B": "two words"}
    assert parse_env_knob('"A=1 B=\'x y\'"', "X_ENVIRONMENT") == {"A": "1", "B": "x y"}
    with pytest.raises(ValueError, match="X_ENVIRONMENT.*NAME=VALUE"):
        parse_env_knob("JUSTANAME", "X_ENVIRONMENT")


def test_entry_argv_adds_local_name_for_unknown_daemons():
    e = DaemonEntry("TESTD", program="/bin/testd", args=["-x"])
    assert e.argv() == ["/bin/testd", "-local-name", "TESTD", "-x"]
    assert DaemonEntry("SCHEDD", program="/bin/s").argv() == ["/bin/s"]
    assert DaemonEntry("T2", program="/p", args=["-local-name", "other"]).argv() == ["/p", "-local-name", "other"]


@pytest.mark.parametrize("tool,args,want", [
    ("condor_off", [], [("Kill-All-Daemons", 454, None)]),
    ("condor_off", ["-fast"], [("Kill-All-Daemons-Fast", 461, None)]),
    ("condor_off", ["-peaceful"], [("Kill-All-Daemons-Peacefully", 484, None)]),
    ("condor_off", ["-daemon", "schedd"], [("Kill-Daemon", 467, "SCHEDD")]),
    ("condor_off", ["-fast", "-schedd"], [("Kill-Daemon-Fast", 468, "SCHEDD")]),
    ("condor_off", ["-master"], [("Kill-Daemon", 60005, None)]),
    ("condor_off", ["-master", "-fast"], [("Kill-Daemon-Fast", 60006, None)]),
    ("condor_on", [], [("Spawn-All-Daemons", 455, None)]),
    ("condor_on", ["-daemon", "startd"], [("Spawn-Daemon", 469, "STARTD")]),
    ("condor_restart", [], [("Restart", 453, None)]),
    ("condor_restart", ["-peaceful"], [("Restart-Peaceful", 485, None)]),
    ("condor_restart", ["-daemon", "schedd"], [("Restart", 467, "SCHEDD"), ("Restart", 469, "SCHEDD")]),
    ("condor_reconfig", [], [("Reconfig", 60012, None)]),
])
def test_tool_commands(tool, args, want):
    assert daemon_ctl.plan(daemon_ctl.parse(tool, args)) == want


def test_tool_command_line_errors(capsys):
    assert daemon_ctl.run("condor_off", ["-bogus"]) == 1
    err = capsys.readouterr().err
    assert "condor_off: unknown option -bogus" in err and "Usage: condor_off" in err
    assert daemon_ctl.run("condor_on", ["-name"]) == 1
    assert "-name requires an argument" in capsys.readouterr().err
    assert daemon_ctl.run("condor_on", ["-all", "host1"]) == 1
    assert daemon_ctl.main(["condor_bogus"]) == 1


def test_parse_condor_inherit():
    from pyhtc.daemoncore.daemon import parse_condor_inherit
    assert parse_condor_inherit("1234 <127.0.0.1:9618?addrs=127.0.0.1-9618> 0 0") == \
        (1234, "<127.0.0.1:9618?addrs=127.0.0.1-9618>")
    assert parse_condor_inherit(None) == (None, None)
    assert parse_condor_inherit("garbage") == (None, None)
    assert parse_condor_inherit("12 notasinful") == (None, None)
