"""File discovery, environment overrides, detected values, typed helpers, reload, get_config."""
from __future__ import annotations

import os

import pytest

import pyhtc.config as pc
from pyhtc.config import Config, ConfigError, split_list


def env_for(root, **extra) -> dict:
    env = {"CONDOR_CONFIG": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra)
    return env


def test_root_file_and_config_root(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("A = 1\n")
    c = Config.load(environ=env_for(root))
    assert c.param("A") == "1"
    assert c.root_source == str(root)
    assert c.param("CONFIG_ROOT") == str(tmp_path)
    assert c.location("CONFIG_ROOT") == "<Detected>"


def test_only_env_reads_no_files_and_uses_environment(tmp_path):
    c = Config.load(environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": "127.0.0.1:9618",
                             "_condor_SCHEDD.DEBUG": "D_FULLDEBUG", "_CONDOR_LOCAL_CONFIG_DIR": str(tmp_path)},
                    subsystem="SCHEDD")
    assert c.sources == [] and c.root_source is None
    assert c.param("COLLECTOR_HOST") == "127.0.0.1:9618"
    assert c.location("COLLECTOR_HOST") == "<Environment>"
    assert c.param("DEBUG") == "D_FULLDEBUG"
    assert c.param("CONFIG_ROOT") is None
    assert c.param("DAEMON_LIST") == "MASTER"          # defaults still apply
    assert c.location("DAEMON_LIST") == "<Default>"


def test_dev_null_reads_nothing_but_processes_locals(tmp_path):
    local = tmp_path / "local.conf"
    local.write_text("L = 1\n")
    c = Config.load(environ=env_for("/dev/null", _CONDOR_LOCAL_CONFIG_FILE=str(local)))
    # _CONDOR_ variables are applied after files, so LOCAL_CONFIG_FILE from the environment
    # is not seen while files are read (HTCondor order)
    assert c.param("L") is None
    assert c.root_source is None


def test_missing_condor_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(environ=env_for(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="is a directory"):
        Config.load(environ=env_for(tmp_path))


def test_no_root_found(monkeypatch):
    monkeypatch.setattr(Config, "_search_root", staticmethod(lambda: None))
    with pytest.raises(ConfigError, match="Neither the environment variable CONDOR_CONFIG"):
        Config.load(environ={})
    c = Config.load(environ={}, require_root=False)
    assert c.root_source is None and c.param("DAEMON_LIST") == "MASTER"


def test_environment_overrides_win_and_self_reference(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("DAEMON_LIST = MASTER SCHEDD\nX = file\n")
    c = Config.load(environ=env_for(root, _CONDOR_DAEMON_LIST="$(DAEMON_LIST) STARTD", _condor_x=" env "))
    assert c.param("DAEMON_LIST") == "MASTER SCHEDD STARTD"
    assert c.param("X") == "env "
    assert c.location("x") == "<Environment>"


def test_local_config_dir_sorted_with_exclusions_and_file_list(tmp_path):
    d = tmp_path / "config.d"
    d.mkdir()
    (d / "20-b.conf").write_text("ORDER = $(ORDER) b\n")
    (d / "10-a.conf").write_text("ORDER = $(ORDER) a\n")
    (d / "30-c.conf.rpmsave").write_text("ORDER = $(ORDER) SKIPPED\n")
    (d / "script.py").write_text("ORDER = $(ORDER) SKIPPED\n")
    (d / "subdir").mkdir()
    l1 = tmp_path / "l1.conf"
    l1.write_text("ORDER = $(ORDER) l1\n")
    l2 = tmp_path / "l2.conf"
    l2.write_text("ORDER = $(ORDER) l2\n")
    root = tmp_path / "condor_config"
    root.write_text(f"ORDER = root\nLOCAL_CONFIG_DIR = {d}\nLOCAL_CONFIG_FILE = {l1}, {l2}\n")
    c = Config.load(environ=env_for(root))
    assert c.param("ORDER") == "root a b l1 l2"
    assert c.local_sources == [str(d / "10-a.conf"), str(d / "20-b.conf"), str(l1), str(l2)]
    assert c.location("ORDER") == f"{l2}, line 1"


def test_local_config_file_list_changed_by_a_local_file(tmp_path):
    l1 = tmp_path / "l1.conf"
    l2 = tmp_path / "l2.conf"
    l3 = tmp_path / "l3.conf"
    l1.write_text(f"LOCAL_CONFIG_FILE = {l1} {l3}\nSEEN = $(SEEN) l1\n")
    l2.write_text("SEEN = $(SEEN) l2\n")
    l3.write_text("SEEN = $(SEEN) l3\n")
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_CONFIG_FILE = {l1} {l2}\n")
    c = Config.load(environ=env_for(root))
    assert c.param("SEEN") == " l1 l3"


def test_missing_local_config_file(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_CONFIG_FILE = {tmp_path}/missing.conf\n")
    with pytest.raises(ConfigError, match="Can't read config source"):
        Config.load(environ=env_for(root))
    root.write_text(f"LOCAL_CONFIG_FILE = {tmp_path}/missing.conf\nREQUIRE_LOCAL_CONFIG_FILE = false\n")
    assert Config.load(environ=env_for(root)).local_sources == []


def test_local_config_file_command(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("LOCAL_CONFIG_FILE = /bin/echo GENERATED = yes |\n")
    c = Config.load(environ=env_for(root))
    assert c.param("GENERATED") == "yes"
    assert c.location("GENERATED") == "/bin/echo GENERATED = yes |, line 1"


def test_user_config_file(tmp_path, monkeypatch):
    user = tmp_path / "user.conf"
    user.write_text("FROM_USER = yes\n")
    root = tmp_path / "condor_config"
    root.write_text(f"USER_CONFIG_FILE = {user}\n")
    c = Config.load(environ=env_for(root))
    if os.geteuid() == 0:
        assert c.param("FROM_USER") is None          # HTCondor skips it when running as root
    else:
        assert c.param("FROM_USER") == "yes"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    c = Config.load(environ=env_for(root))
    assert c.param("FROM_USER") == "yes" and str(user) in c.local_sources
    c = Config.load(environ=env_for(root), read_user_config=False)
    assert c.param("FROM_USER") is None


def test_detected_values():
    c = Config.load(environ={"CONDOR_CONFIG": "ONLY_ENV", "OMP_THREAD_LIMIT": "1"}, subsystem="startd",
                    local_name="slot9")
    assert int(c.param("DETECTED_CPUS")) >= 1
    assert int(c.param("DETECTED_CORES")) >= 1
    assert int(c.param("DETECTED_MEMORY")) > 16
    assert c.param("DETECTED_CPUS_LIMIT") == "1"
    assert c.param("SUBSYSTEM") == "STARTD" and c.param("LOCALNAME") == "slot9"
    assert c.param("OPSYS") == "LINUX" and c.param("ARCH")
    assert c.param("HOSTNAME") == os.uname().nodename.split(".")[0]
    assert c.param("FULL_HOSTNAME").startswith(c.param("HOSTNAME"))
    assert c.param("IP_ADDRESS") and c.param("PID") == str(os.getpid())
    assert c.param("RELEASE_DIR") == "/usr" and c.param("SBIN") == "/usr/sbin"
    assert c.param("LIBEXEC") == "/usr/libexec" and c.param("BIN") == "/usr/bin"


def test_paths_follow_local_dir():
    c = Config.load(environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_LOCAL_DIR": "/var/lib/pool"})
    assert c.param("LOG") == "/var/lib/pool/log"
    assert c.param("SPOOL") == "/var/lib/pool/spool"
    assert c.param("EXECUTE") == "/var/lib/pool/execute"
    assert c.param("LOCK") == "/var/lib/pool/log"
    assert c.param("SCHEDD_LOG") == "/var/lib/pool/log/SchedLog"


def test_builtin_overrides_cannot_replace_hostname(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("HOSTNAME = fake\nARCH = MYARCH\n")
    c = Config.load(environ=env_for(root))
    assert c.param("HOSTNAME") != "fake"      # reinserted last, as reinsert_specials does
    assert c.param("ARCH") == "MYARCH"        # early detected values may be overridden


@pytest.mark.parametrize("name,expected", [
    ("UPDATE_INTERVAL", 300), ("NEGOTIATOR_INTERVAL", 60), ("CLASSAD_LIFETIME", 900),
    ("SCHEDD_INTERVAL", 300), ("PERIODIC_EXPR_INTERVAL", 60), ("MASTER_BACKOFF_CONSTANT", 9),
    ("MASTER_BACKOFF_CEILING", 3600), ("SHUTDOWN_GRACEFUL_TIMEOUT", 30 * 60), ("SHUTDOWN_FAST_TIMEOUT", 300),
    ("JOB_DEFAULT_REQUESTMEMORY", 128), ("CLAIM_WORKLIFE", 1200), ("NEGOTIATOR_CYCLE_DELAY", 20),
])
def test_defaults_table_integers(name, expected):
    c = Config.load(environ={"CONDOR_CONFIG": "ONLY_ENV"})
    assert c.param_integer(name) == expected


def test_defaults_table_policy_and_security():
    c = Config.load(environ={"CONDOR_CONFIG": "ONLY_ENV"})
    assert c.param("START") == "True"
    assert c.param_boolean("WANT_HOLD") is False
    assert c.param("SUSPEND") == "False" and c.param("KILL") == "False"
    assert c.param("COLLECTOR_HOST") is None          # $(CONDOR_HOST) with no CONDOR_HOST
    assert c.param("ALLOW_WRITE") is None
    # in-code defaults: param() says "not defined" as HTCondor does; the typed helpers know them
    assert c.param("SCHEDD_INTERVAL") is None and c.param_integer("SCHEDD_INTERVAL") == 300
    assert pc.code_default("SEC_DEFAULT_NEGOTIATION") == "PREFERRED"
    assert pc.code_default("SEC_DEFAULT_ENCRYPTION") == "OPTIONAL"
    assert c.param("SEC_DEFAULT_AUTHENTICATION_METHODS")
    assert c.param_bytes("MAX_SCHEDD_LOG") == 10 * 1024 * 1024
    c.set("MAX_SCHEDD_LOG", "512k")
    assert c.param_bytes("MAX_SCHEDD_LOG") == 512 * 1024
    c.set("MAX_SCHEDD_LOG", "1000000")
    assert c.param_bytes("MAX_SCHEDD_LOG") == 1000000
    c.set("MAX_SCHEDD_LOG", "lots")
    with pytest.raises(ConfigError, match="not a size"):
        c.param_bytes("MAX_SCHEDD_LOG")


def test_typed_helpers():
    c = Config(environ={}).read_string(
        "I = 42\nIE = 2 * (3 + 4)\nIB = abc\nD = 2.5\nB1 = TRUE\nB2 = 0\nB3 = 1 > 2\nB4 = yes\n"
        "L = a, b  c,d\nCLAIM_WORKLIFE =\n", "t.conf")
    assert c.param_integer("I") == 42 and c.param_integer("IE") == 14
    assert c.param_integer("I", max_value=10) == 10 and c.param_integer("I", min_value=50) == 50
    assert c.param_integer("NOPE", 7) == 7
    assert c.param_integer("CLAIM_WORKLIFE") == 1200      # empty falls back to the table default
    with pytest.raises(ConfigError) as err:
        c.param_integer("IB")
    assert err.value.source == "t.conf" and err.value.line == 3
    assert c.param_double("D") == 2.5 and c.param_double("I") == 42.0
    assert c.param_boolean("B1") is True and c.param_boolean("B2") is False and c.param_boolean("B3") is False
    with pytest.raises(ConfigError, match="not a valid boolean"):
        c.param_boolean("B4")
    assert c.param_boolean("NOPE", True) is True
    assert c.param_list("L") == ["a", "b", "c", "d"] and c.param_list("NOPE") == []
    assert split_list(" x ,y\tz ") == ["x", "y", "z"]
    assert c["I"] == "42"
    with pytest.raises(KeyError):
        c["NOPE"]


def test_reload_rereads_sources_and_keeps_old_table_on_error(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("A = 1\n")
    c = Config.load(environ=env_for(root))
    assert c.param("A") == "1"
    root.write_text("A = 2\n")
    c.reload()
    assert c.param("A") == "2"
    root.write_text("A = 3\nerror : broken\n")
    with pytest.raises(ConfigError, match="broken"):
        c.reload()
    assert c.param("A") == "2"


def test_cache_invalidated_on_change():
    c = Config(environ={}).read_string("A = $(B)\nB = 1\n")
    assert c.param("A") == "1"
    c.set("B", "2")
    assert c.param("A") == "2"


def test_get_config_singleton(tmp_path, monkeypatch):
    root = tmp_path / "condor_config"
    root.write_text("A = 1\nSCHEDD.A = 2\n")
    monkeypatch.setenv("CONDOR_CONFIG", str(root))
    pc.set_config(None)
    try:
        c = pc.get_config()
        assert c.subsystem == "TOOL" and pc.param("A") == "1"
        assert pc.get_config() is c
        s = pc.get_config(subsystem="schedd")
        assert s is not c and pc.param("A") == "2"
        root.write_text("A = 1\nSCHEDD.A = 3\n")
        assert pc.reload_config() is s and pc.param("A") == "3"
    finally:
        pc.set_config(None)


def test_names_and_iteration():
    c = Config(environ={}).read_string("b = 1\nA = 2\n")
    assert list(c) == ["A", "b"] and len(c) == 2
    assert "DAEMON_LIST" in c.names(include_defaults=True)
    assert [e.name for e in c.entries()] == ["A", "b"]


def test_reload_reports_changed_names(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("DAEMON_LIST = MASTER SCHEDD\nKEEP = $(A)\nA = 1\nGONE = x\n")
    c = Config.load(environ=env_for(root))
    root.write_text("DAEMON_LIST = MASTER SCHEDD STARTD\nKEEP = $(A)\nA = 2\nNEW = y\n")
    assert c.reload() == {"DAEMON_LIST", "KEEP", "A", "GONE", "NEW"}
    assert c.reload() == set()


def test_likely_misspellings():
    c = Config(environ={}).read_string(
        "NEGOTIATOR_INTERVALL = 20\nSCHEDD.MAX_JOBS_RUNING = 4\nMY_SITE_THING = 1\nUWCS_PREEMPT = x\n"
        "EVENTD_LOG = l\nMASTER_HAD_BACKOFF_CONSTANT = 1\nUSED_LATER = 1\nX = $(USED_LATER)\n", "t.conf")
    found = [(entry.name, knob, entry.location()) for entry, knob in c.likely_misspellings()]
    assert found == [("NEGOTIATOR_INTERVALL", "NEGOTIATOR_INTERVAL", "t.conf, line 1"),
                     ("SCHEDD.MAX_JOBS_RUNING", "MAX_JOBS_RUNNING", "t.conf, line 2")]
