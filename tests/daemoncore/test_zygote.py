"""The fork server (pyhtc.daemoncore.zygote) with real processes and signals: pids and exit
statuses reach the DaemonCore reaper, send_signal works, children get their own argv,
environment, directory and session, and survive the death of the zygote and of the daemon."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pyhtc.daemoncore import DaemonCore, DebugLog
from pyhtc.daemoncore.zygote import Zygote

TARGET = textwrap.dedent('''
    """Test program run by the zygote: main(argv) does what argv says."""
    import json, os, sys, time
    IMPORTED_AT = time.time()

    def main(argv):
        op = argv[0]
        if op == "exit":
            return int(argv[1])
        if op == "raise":
            raise SystemExit(int(argv[1]))
        if op == "crash":
            raise RuntimeError("boom")
        if op == "sleep":
            time.sleep(float(argv[1]))
            return 0
        if op == "report":
            with open(argv[1] + ".tmp", "w") as f:
                json.dump({"pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
                           "cwd": os.getcwd(), "env": dict(os.environ), "argv": sys.argv[1:],
                           "imported_at": IMPORTED_AT}, f)
            os.replace(argv[1] + ".tmp", argv[1])
            if len(argv) > 2:
                time.sleep(float(argv[2]))
            return 3
        return 99
''')


@pytest.fixture
def target(tmp_path, monkeypatch):
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "zyg_target.py").write_text(TARGET)
    monkeypatch.setenv("PYTHONPATH", str(mod_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return "zyg_target"


def run_dc(setup, timeout=20.0):
    dc = DaemonCore(DebugLog(stream=sys.stderr, debug="D_FULLDEBUG"))

    def main():
        setup(dc)
        dc.register_timer(timeout, lambda: dc.stop(99), name="test-timeout")

    status = dc.run(main)
    assert status != 99, "DaemonCore test timed out"
    return dc


def _wait_file(path, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path):
            import json
            with open(path) as f:
                return json.load(f)
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_exit_codes_reach_the_reaper(target):
    reaped = {}
    want = {}

    def setup(dc):
        z = Zygote(dc, [target], name="test")

        def reaper(pid, status):
            reaped[pid] = os.waitstatus_to_exitcode(status)
            if len(reaped) == len(want):
                dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        want[z.create_process(target, ["exit", "7"], rid)] = 7
        want[z.create_process(target, ["raise", "5"], rid)] = 5
        want[z.create_process(target, ["crash"], rid)] = 1
        want[z.create_process(target, ["exit", "0"], rid)] = 0
        pid = z.create_process(target, ["sleep", "30"], rid)
        want[pid] = -signal.SIGKILL
        assert pid in dc.children
        dc.register_timer(0.2, lambda: dc.send_signal(pid, signal.SIGKILL))

    run_dc(setup)
    assert reaped == want


def test_child_gets_argv_env_cwd_session_and_preloaded_module(target, tmp_path):
    out, out2 = tmp_path / "report.json", tmp_path / "report2.json"
    seen = {"status": []}

    def setup(dc):
        z = Zygote(dc, [target], name="test")
        seen["zygote"] = z.start()

        def reaper(pid, status):
            seen["status"].append(os.waitstatus_to_exitcode(status))
            if len(seen["status"]) == 2:
                dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        seen["pid"] = z.create_process(target, ["report", str(out)], rid,
                                       env={"ONLY": "this", "PATH": "/usr/bin:/bin"},
                                       cwd=str(tmp_path), new_session=True, devnull_stdin=True)
        z.create_process(target, ["report", str(out2)], rid)

    run_dc(setup)
    rep, rep2 = _wait_file(out), _wait_file(out2)
    assert seen["status"] == [3, 3]
    assert rep["pid"] == seen["pid"]
    assert rep["ppid"] == seen["zygote"]           # forked by the zygote, not the daemon
    assert rep["sid"] == rep["pid"]                 # its own session
    assert rep2["sid"] != rep2["pid"]               # ... only when asked
    assert rep["cwd"] == str(tmp_path)
    assert rep["env"] == {"ONLY": "this", "PATH": "/usr/bin:/bin"}
    assert rep["argv"] == ["report", str(out)]
    # the module was imported once, in the zygote, not in each child
    assert rep["imported_at"] == rep2["imported_at"]


def test_children_survive_the_zygote_and_the_daemon_learns_their_end(target, tmp_path):
    out = tmp_path / "orphan.json"
    got = {}

    def setup(dc):
        z = Zygote(dc, [target], name="test")

        def reaper(pid, status):
            got["status"] = status
            got["alive_zygote"] = z.pid
            dc.stop(0)

        rid = dc.register_reaper("t", reaper)
        got["pid"] = z.create_process(target, ["report", str(out), "1.0"], rid, new_session=True)
        got["zpid"] = z.pid

        def kill_zygote():
            _wait_file(out)
            os.kill(got["zpid"], signal.SIGKILL)
            got["killed_at"] = time.time()
        dc.register_timer(0.05, kill_zygote)

    run_dc(setup)
    # the child outlived its zygote, then its exit was noticed (status unknown: -1)
    assert got["status"] == -1
    assert time.time() - got["killed_at"] >= 0.5
    assert not _alive(got["pid"])


def test_a_new_zygote_is_started_after_one_dies(target):
    codes = []

    def setup(dc):
        z = Zygote(dc, [target], name="test")
        rid = dc.register_reaper("t", lambda pid, st: codes.append(os.waitstatus_to_exitcode(st)))
        z.create_process(target, ["exit", "4"], rid)
        first = z.pid

        def again():
            os.kill(first, signal.SIGKILL)

            def later():
                pid = z.create_process(target, ["exit", "6"], rid)
                assert z.pid not in (None, first)
                dc.register_timer(0.5, lambda: dc.stop(0))
                return pid
            dc.register_timer(0.3, later)
        dc.register_timer(0.3, again)

    run_dc(setup)
    assert codes == [4, 6]


DAEMON = textwrap.dedent('''
    import os, sys
    from pyhtc.daemoncore import DaemonCore, DebugLog
    from pyhtc.daemoncore.zygote import Zygote
    out = sys.argv[1]
    dc = DaemonCore(DebugLog(stream=sys.stderr))
    def main():
        z = Zygote(dc, ["zyg_target"], name="t")
        pid = z.create_process("zyg_target", ["report", out, "1.5"], None, new_session=True)
        print(pid, z.pid, flush=True)
    dc.run(main)
''')


def test_children_survive_a_sigkilled_daemon(target, tmp_path):
    out = tmp_path / "survivor.json"
    proc = subprocess.Popen([sys.executable, "-c", DAEMON, str(out)], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        child, zpid = (int(x) for x in proc.stdout.readline().split())
        _wait_file(out)
        os.killpg(proc.pid, signal.SIGKILL)      # the daemon and its process group
        proc.wait(10)
        deadline = time.time() + 5
        while _alive(zpid) and time.time() < deadline:  # the zygote leaves on EOF
            time.sleep(0.02)
        assert not _alive(zpid)
        assert _alive(child)                      # the job's shadow lives on
        deadline = time.time() + 10
        while _alive(child) and time.time() < deadline:
            time.sleep(0.05)
        assert not _alive(child)                  # ... and finishes by itself
    finally:
        if proc.poll() is None:
            proc.kill()


def test_child_command_line_names_its_program_and_arguments(target, tmp_path):
    import psutil
    out = tmp_path / "cmd.json"
    got = {}

    def setup(dc):
        z = Zygote(dc, [target], name="test")
        got["pid"] = z.create_process(target, ["report", str(out), "0.5"], None)

        def look():
            _wait_file(out)
            got["cmdline"] = psutil.Process(got["pid"]).cmdline()
            dc.stop(0)
        dc.register_timer(0.05, look)

    run_dc(setup)
    cmd = [w for w in got["cmdline"] if w]
    assert cmd == [sys.executable, "-m", target, "report", str(out), "0.5"]


def test_replace_environ_makes_the_environment_exactly_the_request():
    """_replace_environ changes only what differs, in os.environ and in the C environment
    (what exec'd programs and getenv see)."""
    code = textwrap.dedent('''
        import ctypes, json, os, sys
        from pyhtc.daemoncore.zygote import _replace_environ
        os.environ.clear(); os.environ.update({"KEEP": "1", "CHANGE": "old", "DROP": "x"})
        _replace_environ({"KEEP": "1", "CHANGE": "new", "ADD": "a=b c"})
        libc = ctypes.CDLL(None); libc.getenv.restype = ctypes.c_char_p
        c_env = {k: (libc.getenv(k.encode()) or b"").decode() for k in ("KEEP", "CHANGE", "ADD", "DROP")}
        print(json.dumps([dict(os.environ), c_env]))
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import json
    py_env, c_env = json.loads(out)
    assert py_env == {"KEEP": "1", "CHANGE": "new", "ADD": "a=b c"}
    assert c_env == {"KEEP": "1", "CHANGE": "new", "ADD": "a=b c", "DROP": ""}
