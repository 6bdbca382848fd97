"""DaemonCore loop: timers, signals, reapers with real children, threads, sockets."""
import os
import signal
import socket
import sys
import time

import pytest

from pyhtc.daemoncore import DaemonCore, DebugLog


def run_dc(setup, timeout=10.0):
    """Run a DaemonCore whose ``setup(dc)`` registers handlers; fail if it doesn't stop."""
    dc = DaemonCore(DebugLog(stream=sys.stderr, debug="D_FULLDEBUG"))

    def main():
        setup(dc)
        dc.register_timer(timeout, lambda: dc.stop(99), name="test-timeout")

    status = dc.run(main)
    assert status != 99, "DaemonCore test timed out"
    return dc, status


def test_one_shot_and_periodic_timers_fire_in_order():
    events = []

    def setup(dc):
        dc.register_timer(0.05, lambda: events.append(("once", time.monotonic())))
        ticks = []

        def tick():
            ticks.append(time.monotonic())
            events.append(("tick", ticks[-1]))
            if len(ticks) == 3:
                dc.stop(0)

        dc.register_timer(0.0, tick, period=0.1)

    _, status = run_dc(setup)
    assert status == 0
    kinds = [k for k, _ in events]
    assert kinds.count("tick") == 3 and kinds.count("once") == 1
    ticks = [t for k, t in events if k == "tick"]
    assert ticks[2] - ticks[0] >= 0.19  # period respected


def test_cancel_and_reset_timer():
    fired = []

    def setup(dc):
        tid = dc.register_timer(0.05, lambda: fired.append("cancelled"))
        assert dc.cancel_timer(tid)
        assert not dc.cancel_timer(tid)
        t2 = dc.register_timer(10.0, lambda: (fired.append("reset"), dc.stop(0)))
        dc.reset_timer(t2, 0.05)

    run_dc(setup)
    assert fired == ["reset"]


def test_signal_handler_runs_on_loop():
    got = []

    def setup(dc):
        dc.register_signal(signal.SIGUSR1, lambda s: (got.append(s), dc.stop(0)))
        dc.register_timer(0.01, lambda: os.kill(os.getpid(), signal.SIGUSR1))

    run_dc(setup)
    assert got == [signal.SIGUSR1]


def test_reaper_gets_exit_status_of_real_child():
    reaped = {}

    def setup(dc):
        def reaper(pid, status):
            reaped[pid] = os.waitstatus_to_exitcode(status)
            if len(reaped) == 2:
                dc.stop(0)

        rid = dc.register_reaper("test", reaper)
        dc.create_process([sys.executable, "-c", "import sys; sys.exit(7)"], rid)
        pid = dc.create_process(["sleep", "30"], rid)
        dc.register_timer(0.1, lambda: dc.send_signal(pid, signal.SIGKILL))

    run_dc(setup)
    assert sorted(reaped.values()) == [-signal.SIGKILL, 7]


def test_thread_work_delivered_to_reaper_and_loop_stays_responsive():
    results = []
    ticks = []

    def setup(dc):
        dc.register_timer(0.0, lambda: ticks.append(1), period=0.02)

        def done(result, exc):
            results.append((result, exc))
            dc.stop(0)

        dc.run_in_thread(lambda: (time.sleep(0.3), 42)[1], reaper=done)

    run_dc(setup)
    assert results == [(42, None)]
    assert len(ticks) >= 5  # the loop kept running while the thread blocked


def test_handler_exception_is_logged_not_fatal(capsys):
    def setup(dc):
        dc.register_timer(0.0, lambda: 1 / 0)
        dc.register_timer(0.05, lambda: dc.stop(0))

    _, status = run_dc(setup)
    assert status == 0
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_socket_handler_and_owned_task_cancelled_at_shutdown():
    a, b = socket.socketpair()
    got = []
    cancelled = []

    def setup(dc):
        import asyncio

        async def forever():
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        dc.spawn(forever())

        def readable(sock):
            got.append(sock.recv(100))
            dc.stop(0)

        dc.register_socket(b, readable)
        dc.register_timer(0.01, lambda: a.send(b"hello"))

    run_dc(setup)
    a.close()
    b.close()
    assert got == [b"hello"]
    assert cancelled == [True]
