"""What a fork server hands its children: the served module's ``fork_server_warmup()`` runs
once in the zygote (pyhtc.daemoncore.zygote), and ``Config.load`` memoizes its result so a
forked child's load is a copy -- re-read whenever a file, a directory listing, the
environment the load reads, or the arguments differ, and never memoized when a command ran."""
import json
import os
import sys
import textwrap
import time

import pytest

from pyhtc.config import Config
from pyhtc.daemoncore import DaemonCore, DebugLog
from pyhtc.daemoncore.zygote import Zygote

TARGET = textwrap.dedent('''
    import gc, json, os, sys, time
    WARMED = []

    def fork_server_warmup():
        if os.environ.get("WARMUP_FAILS"):
            raise RuntimeError("warmup says no")
        WARMED.append((os.getpid(), time.time()))

    def main(argv):
        with open(argv[0] + ".tmp", "w") as f:
            json.dump({"warmed": WARMED, "ppid": os.getppid(), "frozen": gc.get_freeze_count()}, f)
        os.replace(argv[0] + ".tmp", argv[0])
        return 0
''')


@pytest.fixture
def target(tmp_path, monkeypatch):
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "zyg_warm_target.py").write_text(TARGET)
    monkeypatch.setenv("PYTHONPATH", str(mod_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return "zyg_warm_target"


def _run_two_children(target, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    seen = {"n": 0}
    dc = DaemonCore(DebugLog(stream=sys.stderr))

    def setup():
        z = Zygote(dc, [target], name="test")
        seen["zygote"] = z.start()

        def reaper(pid, status):
            assert os.waitstatus_to_exitcode(status) == 0
            seen["n"] += 1
            if seen["n"] == 2:
                dc.stop(0)
        rid = dc.register_reaper("t", reaper)
        for out in outs:
            z.create_process(target, [str(out)], rid)
        dc.register_timer(20, lambda: dc.stop(99), name="test-timeout")

    assert dc.run(setup) != 99, "timed out"
    return seen["zygote"], [json.loads(o.read_text()) for o in outs]


def test_warmup_runs_once_in_the_zygote_before_serving(target, tmp_path):
    zygote, (a, b) = _run_two_children(target, tmp_path)
    assert a["ppid"] == b["ppid"] == zygote
    # called once, in the zygote (its pid), and inherited by both children
    assert len(a["warmed"]) == 1 and a["warmed"] == b["warmed"]
    assert a["warmed"][0][0] == zygote
    # what the zygote holds is frozen out of the children's garbage collector (no copying)
    assert a["frozen"] > 1000


def test_a_failing_warmup_is_not_fatal(target, tmp_path, monkeypatch):
    monkeypatch.setenv("WARMUP_FAILS", "1")
    _, (a, b) = _run_two_children(target, tmp_path)
    assert a["warmed"] == b["warmed"] == []


# -- the Config.load memo -------------------------------------------------------------------
@pytest.fixture
def pool_config(tmp_path):
    Config.clear_load_cache()
    d = tmp_path / "config.d"
    d.mkdir()
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_CONFIG_DIR = {d}\nFOO = one\nWHO = $ENV(WHO_AM_I)\n")
    (d / "10-a").write_text("BAR = 1\n")
    env = {"CONDOR_CONFIG": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    yield root, d, env
    Config.clear_load_cache()


def _load(env):
    return Config.load("STARTER", None, environ=dict(env), read_user_config=False)


def _sources_read(monkeypatch):
    """Count the files a load actually opens for parsing."""
    opened = []
    real = Config._parse_file

    def spy(self, path, *a, **kw):
        opened.append(path)
        return real(self, path, *a, **kw)
    monkeypatch.setattr(Config, "_parse_file", spy)
    return opened


def test_second_load_is_a_copy_and_mutations_do_not_leak(pool_config, monkeypatch):
    root, d, env = pool_config
    first = _load(env)
    opened = _sources_read(monkeypatch)
    second = _load(env)
    assert opened == []                                  # no file parsed again
    assert second is not first
    assert second.param("FOO") == "one" and second.param("BAR") == "1"
    assert second.sources == first.sources == [str(root), str(d / "10-a")]
    second.set("FOO", "changed")
    second.sources.append("x")
    third = _load(env)
    assert third.param("FOO") == "one" and first.param("FOO") == "one"
    assert third.sources == [str(root), str(d / "10-a")]
    third.unset("BAR")
    assert _load(env).param("BAR") == "1"


def test_changed_file_same_size_is_read_again(pool_config, monkeypatch):
    root, d, env = pool_config
    assert _load(env).param("BAR") == "1"
    (d / "10-a").write_text("BAR = 2\n")                 # same size, maybe same mtime tick
    opened = _sources_read(monkeypatch)
    assert _load(env).param("BAR") == "2"
    assert str(d / "10-a") in opened


def test_old_file_rewritten_keeping_its_stamp_but_not_its_inode(pool_config):
    root, d, env = pool_config
    past = time.time() - 3600
    os.utime(d / "10-a", (past, past))
    assert _load(env).param("BAR") == "1"
    (d / "10-a.new").write_text("BAR = 3\n")
    os.utime(d / "10-a.new", (past, past))
    os.replace(d / "10-a.new", d / "10-a")
    assert _load(env).param("BAR") == "3"


def test_new_file_in_config_dir_is_read(pool_config):
    root, d, env = pool_config
    assert _load(env).param("BAZ") is None
    (d / "20-b").write_text("BAZ = yes\n")
    assert _load(env).param("BAZ") == "yes"
    (d / "20-b").unlink()
    assert _load(env).param("BAZ") is None


def test_environment_the_load_reads_is_part_of_the_key(pool_config, tmp_path):
    root, d, env = pool_config
    assert _load(env).param("FOO") == "one"
    # a _CONDOR_ override
    assert _load({**env, "_CONDOR_FOO": "two"}).param("FOO") == "two"
    assert _load(env).param("FOO") == "one"
    # another root file through CONDOR_CONFIG
    other = tmp_path / "other_config"
    other.write_text("FOO = other\n")
    assert _load({**env, "CONDOR_CONFIG": str(other)}).param("FOO") == "other"
    # $ENV() is expanded with the caller's environment, not the memo's
    assert _load({**env, "WHO_AM_I": "me"}).param("WHO") == "me"
    assert _load({**env, "WHO_AM_I": "you"}).param("WHO") == "you"
    unset = _load(env).param("WHO")
    Config.clear_load_cache()
    assert unset == _load(env).param("WHO") == "UNDEFINED"   # what a fresh load says


def test_parse_time_env_read_is_part_of_the_key(pool_config, tmp_path):
    root, d, env = pool_config
    for name in ("x1", "x2"):
        (tmp_path / name).write_text(f"EXTRA = {name}\n")
    (d / "30-inc").write_text("include ifexist : $ENV(EXTRA_FILE)\n")
    assert _load({**env, "EXTRA_FILE": str(tmp_path / "x1")}).param("EXTRA") == "x1"
    assert _load({**env, "EXTRA_FILE": str(tmp_path / "x2")}).param("EXTRA") == "x2"
    assert _load(env).param("EXTRA") is None
    assert _load({**env, "EXTRA_FILE": str(tmp_path / "x1")}).param("EXTRA") == "x1"


def test_a_command_source_is_run_every_time(pool_config, tmp_path, monkeypatch):
    root, d, env = pool_config
    counter = tmp_path / "runs"
    script = tmp_path / "gen.sh"
    script.write_text(f"#!/bin/sh\necho x >> {counter}\necho RUNS = $(wc -l < {counter})\n")
    script.chmod(0o755)
    (d / "40-cmd").write_text(f"include command : {script}\n")
    assert _load(env).param("RUNS") == "1"
    assert _load(env).param("RUNS") == "2"


def test_random_values_are_drawn_afresh(pool_config, tmp_path):
    root, d, env = pool_config
    (d / "50-rand").write_text(f"include ifexist : {tmp_path}/none.$RANDOM_INTEGER(0, 1000000)\n")
    _load(env)
    from pyhtc.config import config as config_module
    assert not config_module._LOAD_MEMO._memos       # a load that drew is not memoized
    (d / "50-rand").unlink()
    _load(env)
    assert config_module._LOAD_MEMO._memos           # (control)


def test_a_fork_gets_its_own_pid(pool_config):
    root, d, env = pool_config
    parent = _load(env)
    assert parent.param("PID") == str(os.getpid())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            child = _load(env)
            os.write(w, json.dumps([child.param("PID"), child.param("PPID")]).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = os.read(r, 1000)
    os.close(r)
    os.waitpid(pid, 0)
    assert json.loads(data) == [str(pid), str(os.getpid())]
