"""The fork server's threads mode (pyhtc.daemoncore.zygote, ``Zygote(..., threads=True)``,
what the schedd runs its shadows in): each request runs ``thread_main(argv, env, child)`` in
a thread of one server process; exit codes, virtual pids and signals reach DaemonCore as for
forked children; a crashing thread is confined to itself; the server outlives a SIGKILLed
daemon until its threads finish; a dead server's threads are reported with status -1."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pyhtc.daemoncore.zygote import VPID_BASE, Zygote

from test_zygote import _alive, _wait_file, run_dc

TARGET = textwrap.dedent('''
    """Test program run as threads: thread_main(argv, env, child) does what argv says."""
    import json, os, sys, threading, time
    IMPORTED_AT = time.time()

    def thread_main(argv, env, child):
        op = argv[0]
        if op == "exit":
            return int(argv[1])
        if op == "raise":
            raise SystemExit(int(argv[1]))
        if op == "crash":
            raise RuntimeError("boom")
        if op == "report":
            with open(argv[1] + ".tmp", "w") as f:
                json.dump({"pid": os.getpid(), "sid": os.getsid(0), "vpid": child.pid,
                           "env": env, "os_env_has": "ONLY" in os.environ,
                           "thread": threading.current_thread().name,
                           "imported_at": IMPORTED_AT}, f)
            os.replace(argv[1] + ".tmp", argv[1])
            time.sleep(float(argv[2]) if len(argv) > 2 else 0)
            return 3
        if op == "wait_signal":
            woke = threading.Event()
            child.on_signal = woke.set
            deadline = time.time() + 20
            while not child.signals and time.time() < deadline:
                woke.wait(0.5)
            return 40 + child.signals[0] if child.signals else 2
        return 99
''')


@pytest.fixture
def target(tmp_path, monkeypatch):
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "zyg_threads_target.py").write_text(TARGET)
    monkeypatch.setenv("PYTHONPATH", str(mod_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return "zyg_threads_target"


def test_exit_codes_and_signals_reach_the_daemon(target):
    reaped, want = {}, {}

    def setup(dc):
        z = Zygote(dc, [target], name="test", threads=True)

        def reaper(pid, status):
            reaped[pid] = os.waitstatus_to_exitcode(status)
            if len(reaped) == len(want):
                dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        want[z.create_process(target, ["exit", "7"], rid)] = 7
        want[z.create_process(target, ["raise", "5"], rid)] = 5
        want[z.create_process(target, ["crash"], rid)] = 1     # confined to its thread
        want[z.create_process(target, ["exit", "0"], rid)] = 0
        vpid = z.create_process(target, ["wait_signal"], rid)
        want[vpid] = 40 + signal.SIGTERM
        assert vpid in dc.children
        dc.register_timer(0.3, lambda: dc.send_signal(vpid, signal.SIGTERM))

    run_dc(setup)
    assert reaped == want
    # virtual pids: above any real pid, so a stray kill() of one finds no process
    assert all(VPID_BASE <= p < 2 * VPID_BASE for p in reaped)
    assert len(set(reaped)) == len(reaped)


def test_threads_share_the_server_and_get_their_own_environment(target, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    seen = {"vpids": [], "codes": []}

    def setup(dc):
        z = Zygote(dc, [target], name="test", threads=True)
        seen["server"] = z.start()

        def reaper(pid, status):
            seen["codes"].append(os.waitstatus_to_exitcode(status))
            if len(seen["codes"]) == 2:
                dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        seen["vpids"].append(z.create_process(target, ["report", str(outs[0])], rid,
                                              env={"ONLY": "this"}))
        seen["vpids"].append(z.create_process(target, ["report", str(outs[1])], rid))

    run_dc(setup)
    a, b = (_wait_file(o) for o in outs)
    assert seen["codes"] == [3, 3]
    assert a["pid"] == b["pid"] == seen["server"]          # one process, no fork
    assert a["sid"] == seen["server"]                      # the server has its own session
    assert [a["vpid"], b["vpid"]] == seen["vpids"]
    assert a["env"] == {"ONLY": "this"} and not a["os_env_has"]   # os.environ untouched
    assert a["imported_at"] == b["imported_at"]
    assert a["thread"] != b["thread"]


def test_threads_of_a_killed_server_are_reported_lost(target, tmp_path):
    out = tmp_path / "lost.json"
    got = {}

    def setup(dc):
        z = Zygote(dc, [target], name="test", threads=True)

        def reaper(pid, status):
            got["status"] = status
            dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        got["vpid"] = z.create_process(target, ["report", str(out), "30"], rid)
        got["server"] = z.pid

        def kill_server():
            _wait_file(out)
            os.kill(got["server"], signal.SIGKILL)
        dc.register_timer(0.05, kill_server)

    run_dc(setup)
    assert got["status"] == -1


DAEMON = textwrap.dedent('''
    import sys
    from pyhtc.daemoncore import DaemonCore, DebugLog
    from pyhtc.daemoncore.zygote import Zygote
    out = sys.argv[1]
    dc = DaemonCore(DebugLog(stream=sys.stderr))
    def main():
        z = Zygote(dc, ["zyg_threads_target"], name="t", threads=True)
        vpid = z.create_process("zyg_threads_target", ["report", out, "1.5"], None)
        print(vpid, z.pid, flush=True)
    dc.run(main)
''')


def test_the_server_outlives_a_sigkilled_daemon_until_its_threads_end(target, tmp_path):
    out = tmp_path / "survivor.json"
    proc = subprocess.Popen([sys.executable, "-c", DAEMON, str(out)], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        vpid, server = (int(x) for x in proc.stdout.readline().split())
        _wait_file(out)
        os.killpg(proc.pid, signal.SIGKILL)      # the daemon and its process group
        proc.wait(10)
        time.sleep(0.3)
        assert _alive(server)                     # its thread still runs the "job"
        deadline = time.time() + 10
        while _alive(server) and time.time() < deadline:
            time.sleep(0.05)
        assert not _alive(server)                 # ... and it leaves once the thread ends
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_retired_server_finishes_its_threads_then_exits(target, tmp_path):
    """retire(): the old server takes no more requests but still delivers its running
    thread's signals and exit; it exits once that thread is done; a new server serves."""
    got = {"codes": {}}

    def setup(dc):
        old = Zygote(dc, [target], name="old", threads=True)
        rid = dc.register_reaper("t", lambda pid, st: got["codes"].__setitem__(
            pid, os.waitstatus_to_exitcode(st) if st >= 0 else st))
        waiting = old.create_process(target, ["wait_signal"], rid)
        got["old_pid"], got["waiting"] = old.pid, waiting

        def retire_and_go_on():
            assert old.ready and old.age() > 0
            old.retire()
            with pytest.raises(OSError, match="retired"):
                old.create_process(target, ["exit", "1"], rid)
            new = Zygote(dc, [target], name="new", threads=True)
            got["fresh"] = new.create_process(target, ["exit", "9"], rid)
            got["new_pid"] = new.pid
            assert _alive(old.pid)                       # its thread still runs
            dc.register_timer(0.3, lambda: dc.send_signal(waiting, signal.SIGQUIT))

        def done():
            if len(got["codes"]) == 2 and not _alive(got["old_pid"]):
                dc.stop(0)
        dc.register_timer(0.8, retire_and_go_on)
        dc.register_timer(1.0, done, period=0.1)

    run_dc(setup)
    assert got["codes"] == {got["waiting"]: 40 + signal.SIGQUIT, got["fresh"]: 9}
    assert got["new_pid"] != got["old_pid"]
