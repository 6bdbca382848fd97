"""ALLOW_*/DENY_* matching and the permission hierarchy (condor_ipverify.cpp semantics)."""
import pytest

from pyhtc.daemoncore.permissions import Authorizer, parse_entries


def make(settings, subsys="COLLECTOR"):
    return Authorizer(lambda k: settings.get(k), subsys, resolve=lambda n: {"cm.example": ["10.1.2.3"]}.get(n, []))


def test_star_allows_everyone_and_deny_wins():
    a = make({"ALLOW_READ": "*", "DENY_READ": "badguy@*"})
    assert a.verify("READ", "alice@pool", "10.0.0.1")
    assert not a.verify("READ", "badguy@pool", "10.0.0.1")


def test_hierarchy_administrator_implies_write_implies_read():
    a = make({"ALLOW_ADMINISTRATOR": "root@*/127.0.0.1"})
    assert a.verify("WRITE", "root@host", "127.0.0.1")
    assert a.verify("READ", "root@host", "127.0.0.1")
    assert not a.verify("READ", "root@host", "10.9.9.9")
    assert not a.verify("DAEMON", "root@host", "127.0.0.1")


def test_level_without_allow_list_denies_all_except_read_write():
    a = make({})
    d = a.verify("DAEMON", "condor@pool", "127.0.0.1")
    assert not d and "denies all access" in d.reason
    assert not a.verify("READ", "x@y", "127.0.0.1")


def test_subsystem_specific_setting_preferred():
    a = make({"ALLOW_WRITE": "*", "ALLOW_WRITE_COLLECTOR": "10.0.0.0/8"})
    assert a.verify("WRITE", "u@d", "10.200.1.1")
    assert not a.verify("WRITE", "u@d", "192.168.1.1")


@pytest.mark.parametrize("entry,user,ip,ok", [
    ("192.168.*", "u@d", "192.168.7.8", True),
    ("192.168.*", "u@d", "192.169.7.8", False),
    ("10.0.0.0/8", "u@d", "10.255.0.1", True),
    ("*@cs.wisc.edu/10.0.0.0/8", "u@cs.wisc.edu", "10.1.1.1", True),
    ("*@cs.wisc.edu/10.0.0.0/8", "u@other", "10.1.1.1", False),
    ("alice@*", "alice@anywhere", "1.2.3.4", True),
    ("cm.example", "u@d", "10.1.2.3", True),
    ("cm.example", "u@d", "10.1.2.4", False),
    ("unauthenticated@unmapped", "unauthenticated@unmapped", "127.0.0.1", True),
    ("*/*", "x@y", "::1", True),
])
def test_entry_forms(entry, user, ip, ok):
    a = make({"ALLOW_WRITE": entry})
    assert bool(a.verify("WRITE", user, ip)) is ok


def test_bad_entry_is_reported():
    with pytest.raises(ValueError, match="bad authorization entry"):
        parse_entries("10.0.0.0/99")


def test_advertise_levels_fall_back_to_daemon_then_default_settings():
    a = make({"ALLOW_DAEMON": "condor@*"})
    assert a.verify("ADVERTISE_STARTD", "condor@pool", "10.0.0.1")
    assert not a.verify("ADVERTISE_STARTD", "alice@pool", "10.0.0.1")
    b = make({"ALLOW_DEFAULT": "*"})
    assert b.verify("ADVERTISE_MASTER", "anyone@x", "1.2.3.4")
    assert b.verify("NEGOTIATOR", "anyone@x", "1.2.3.4")
    c = make({"ALLOW_ADVERTISE_SCHEDD": "s@*", "ALLOW_DAEMON": "*"})
    assert not c.verify("ADVERTISE_SCHEDD", "x@y", "1.2.3.4")  # own setting wins over DAEMON's
