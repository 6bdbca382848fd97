"""DaemonCore statistics (pyhtc.daemoncore.stats, self_monitor.cpp): the duty cycle from the
timed selector of a real asyncio loop, the recent window, and the self-monitor attributes."""
import asyncio
import os
import time

from pyhtc.daemoncore.core import DaemonCore
from pyhtc.daemoncore.stats import LoopStats, SelfMonitor


def test_duty_cycle_arithmetic_and_window():
    s = LoopStats(window=20, quantum=10)
    assert s.duty_cycle() == 0.0 and s.recent_duty_cycle(0.0) == 0.0
    s.record(100.0, 101.0)            # first select: 1 s waiting
    s.record(103.0, 104.0)            # 2 s of work, then 1 s waiting
    assert abs(s.duty_cycle() - (1 - 2 / 4)) < 1e-9
    assert abs(s.recent_duty_cycle(104.0) - 0.5) < 1e-9
    s.record(150.0, 150.5)            # 46 s busy, 0.5 s waiting, in a later slice
    assert abs(s.recent_duty_cycle(150.5) - (1 - 0.5 / 46.5)) < 1e-9   # old slices dropped
    assert abs(s.duty_cycle() - (1 - 2.5 / 50.5)) < 1e-9               # all-time kept
    ad = {}
    s.publish(ad)
    assert set(ad) == {"DCStatsLifetime", "DCRecentStatsLifetime", "DaemonCoreDutyCycle",
                       "RecentDaemonCoreDutyCycle"}


def test_a_busy_loop_has_a_high_duty_cycle_and_an_idle_one_a_low():
    def run(busy: bool) -> float:
        dc = DaemonCore()
        t_end = time.monotonic() + 0.6

        def tick():
            if busy:
                x = time.monotonic() + 0.045
                while time.monotonic() < x:   # a handler that does not return for 45 ms
                    pass
            if time.monotonic() > t_end:
                dc.stop(0)

        dc.run(lambda: dc.register_timer(0.0, tick, period=0.05))
        return dc.loop_stats.duty_cycle()
    # 45 ms of work per 95 ms cycle (the period counts from the handler's end) vs ~none
    assert 0.35 < run(True) < 0.7
    assert run(False) < 0.1


def test_self_monitor_attributes():
    ad = {}
    SelfMonitor().publish(ad, registered_sockets=3, security_sessions=2)
    assert ad["MonitorSelfResidentSetSize"] > 1000 and ad["MonitorSelfImageSize"] >= ad["MonitorSelfResidentSetSize"]
    assert ad["MonitorSelfRegisteredSocketCount"] == 3 and ad["MonitorSelfSecuritySessions"] == 2
    assert abs(ad["MonitorSelfTime"] - time.time()) < 5 and ad["MonitorSelfAge"] >= 0
    assert ad["MonitorSelfCPUUsage"] >= 0.0


def test_reset_forgets_the_start_up():
    s = LoopStats(window=20, quantum=10)
    s.record(100.0, 100.0)
    s.record(110.0, 110.001)          # ten busy seconds of starting up
    assert s.duty_cycle() > 0.99
    s.reset()
    assert s.duty_cycle() == 0.0 and s.recent_duty_cycle(111.0) == 0.0
    s.record(111.0, 112.0)
    assert s.duty_cycle() == 0.0      # one idle select: nothing busy counted
