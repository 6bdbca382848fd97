"""The startd's asynchronous use of the starter fork server (startd/forkserver.py) with real
processes: the event loop keeps running while a fork is requested, pids come back with
``on_pid`` run before the child's exit reaches its reaper (even for a child that exits at
once), several requests may be in flight, and a dead fork server fails the waiting
requests (the startd then falls back to starting the starter directly)."""
import os
import signal
import sys
import textwrap

import pytest

from pyhtc.daemoncore import DaemonCore, DebugLog
from pyhtc.daemons.startd.forkserver import AsyncZygote

TARGET = textwrap.dedent('''
    import time
    def main(argv):
        if argv[0] == "exit":
            return int(argv[1])
        time.sleep(float(argv[1]))
        return 0
''')


@pytest.fixture
def target(tmp_path, monkeypatch):
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "afz_target.py").write_text(TARGET)
    monkeypatch.setenv("PYTHONPATH", str(mod_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return "afz_target"


def run_dc(setup, timeout=20.0):
    dc = DaemonCore(DebugLog(stream=sys.stderr, debug="D_FULLDEBUG"))

    def main():
        setup(dc)
        dc.register_timer(timeout, lambda: dc.stop(99), name="test-timeout")

    status = dc.run(main)
    assert status != 99, "DaemonCore test timed out"


def test_spawn_returns_pids_and_reaper_follows_on_pid(target):
    events = []
    codes = {}

    def setup(dc):
        z = AsyncZygote(dc, [target], name="test")
        def maybe_done():
            if len(codes) == 6 and any(e[0] == "returned" for e in events):
                dc.stop(0)

        rid = dc.register_reaper("t", lambda pid, st: (events.append(("reaped", pid)),
                                                       codes.__setitem__(pid, os.waitstatus_to_exitcode(st)),
                                                       maybe_done()))
        ticks = []
        dc.register_timer(0, lambda: ticks.append(1), period=0.001, name="tick")

        async def go():
            import asyncio
            # six requests in flight at once; children that exit immediately
            pids = await asyncio.gather(*[
                z.spawn(target, ["exit", str(i)], rid, env=dict(os.environ),
                        on_pid=lambda pid: events.append(("pid", pid)), new_session=True)
                for i in range(6)])
            events.append(("returned", tuple(pids)))
            maybe_done()
        dc.spawn(go(), name="spawn")

    run_dc(setup)
    pids = [e[1] for e in events if e[0] == "pid"]
    assert len(pids) == 6 and len(set(pids)) == 6
    for pid in pids:  # the pid was known before its exit was reported
        assert events.index(("pid", pid)) < events.index(("reaped", pid))
    assert sorted(codes.values()) == [0, 1, 2, 3, 4, 5]
    returned = [e[1] for e in events if e[0] == "returned"][0]
    assert sorted(returned) == sorted(pids)


def test_a_dead_fork_server_fails_the_request_then_a_new_one_serves(target):
    got = {}

    def setup(dc):
        z = AsyncZygote(dc, [target], name="test")
        rid = dc.register_reaper("t", lambda pid, st: got.setdefault("codes", {}).__setitem__(
            pid, os.waitstatus_to_exitcode(st) if st >= 0 else st))

        async def go():
            first = await z.spawn(target, ["exit", "4"], rid, env=dict(os.environ))
            zpid = z.pid
            os.kill(zpid, signal.SIGSTOP)   # it cannot answer ...
            try:
                await z.spawn(target, ["exit", "5"], rid, env=dict(os.environ), timeout=0.5)
            except OSError as exc:
                got["error"] = str(exc)
            os.kill(zpid, signal.SIGKILL)
            os.kill(zpid, signal.SIGCONT)
            got["first"] = first
            # ... so it was abandoned: the next request starts a new fork server
            got["second"] = await z.spawn(target, ["exit", "6"], rid, env=dict(os.environ))
            got["new_zygote"] = z.pid not in (None, zpid)
            # both exits reported (the first one as unknown, once its orphan is noticed)
            dc.register_timer(0.05, lambda: len(got.get("codes", {})) == 2 and dc.stop(0),
                              period=0.05)
        dc.spawn(go(), name="spawn")

    run_dc(setup)
    assert "fork server failed" in got["error"]
    assert got["new_zygote"]
    # the first child's exit: 4 when the fork server told it before it was stopped, else
    # unknown (-1), reported once its orphan is noticed -- either way exactly once
    assert set(got["codes"]) == {got["first"], got["second"]}
    assert got["codes"][got["first"]] in (4, -1) and got["codes"][got["second"]] == 6
