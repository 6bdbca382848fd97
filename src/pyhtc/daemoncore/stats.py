"""DaemonCore's own statistics in every daemon's ad: how busy the event loop is, and what the
process uses.

HTCondor 25's src/condor_daemon_core.V6/self_monitor.cpp: ``DaemonCore::Stats::Publish``
(``DaemonCoreDutyCycle`` = 1 - time waiting in select / time of the pump cycles since the
daemon started, ``RecentDaemonCoreDutyCycle`` the same over the last
``STATISTICS_WINDOW_SECONDS`` (default 1200) kept in ``STATISTICS_WINDOW_QUANTUM`` (default
240) second slices, never negative; ``DCStatsLifetime``, ``DCRecentStatsLifetime``) and
``SelfMonitorData::ExportData`` (``MonitorSelfTime``, ``MonitorSelfCPUUsage`` (percent of one
CPU since the previous sample), ``MonitorSelfImageSize`` and ``MonitorSelfResidentSetSize``
(KiB), ``MonitorSelfAge`` (seconds), ``MonitorSelfRegisteredSocketCount``,
``MonitorSelfSecuritySessions``).  Tools read them: ``htcondor ap status`` shows the schedd's
RecentDaemonCoreDutyCycle, and the default CURB_MATCHMAKING knob tests it.

The loop's wait time comes from :class:`TimedSelector`, the selector the DaemonCore's asyncio
loop is built on: each ``select`` call is timed, and a pump cycle runs from one ``select``
to the next.
"""
from __future__ import annotations

import collections
import selectors
import time
from typing import Optional

__all__ = ["LoopStats", "TimedSelector", "SelfMonitor"]


class LoopStats:
    """Select-wait and pump-cycle time of one event loop, all-time and per time slice.

    ``window`` and ``quantum`` are seconds (STATISTICS_WINDOW_SECONDS / _QUANTUM)."""

    def __init__(self, window: float = 1200.0, quantum: float = 240.0):
        self.window = float(window)
        self.quantum = max(1.0, float(quantum))
        self.started = time.monotonic()
        self.wait_total = 0.0
        self.cycle_total = 0.0
        self.cycles = 0
        #: (slice number, wait seconds, cycle seconds, cycles) of the recent slices
        self._slices: collections.deque = collections.deque()
        self._last_select_end: Optional[float] = None

    def reset(self) -> None:
        """Forget what was recorded (a daemon calls this once it has started, so the work of
        starting up is not counted as a busy loop: like HTCondor's, the statistics begin
        with the daemon's first pump cycle)."""
        self.started = time.monotonic()
        self.wait_total = self.cycle_total = 0.0
        self.cycles = 0
        self._slices.clear()
        self._last_select_end = None

    def configure(self, window: float, quantum: float) -> None:
        """New window/quantum (from a reconfig); the recorded slices are kept."""
        self.window, self.quantum = float(window), max(1.0, float(quantum))

    def record(self, t_start: float, t_end: float) -> None:
        """One ``select`` that began at ``t_start`` and returned at ``t_end`` (monotonic)."""
        wait = t_end - t_start
        cycle = wait if self._last_select_end is None else t_end - self._last_select_end
        self._last_select_end = t_end
        self.wait_total += wait
        self.cycle_total += cycle
        self.cycles += 1
        n = int(t_end // self.quantum)
        s = self._slices
        if s and s[-1][0] == n:
            _, w, c, k = s[-1]
            s[-1] = (n, w + wait, c + cycle, k + 1)
        else:
            s.append((n, wait, cycle, 1))
            oldest = n - int(self.window // self.quantum)
            while s and s[0][0] < oldest:
                s.popleft()

    def duty_cycle(self) -> float:
        """1 - wait/cycle since the start (0.0 before the first cycle)."""
        if self.cycles and self.cycle_total > 1e-9:
            return 1.0 - self.wait_total / self.cycle_total
        return 0.0

    def recent_duty_cycle(self, now: Optional[float] = None) -> float:
        """The same over the recent window (never negative)."""
        now = time.monotonic() if now is None else now
        oldest = int(now // self.quantum) - int(self.window // self.quantum)
        wait = cycle = 0.0
        for n, w, c, _ in self._slices:
            if n >= oldest:
                wait += w
                cycle += c
        if cycle <= 1e-9:
            return 0.0
        return max(0.0, 1.0 - wait / cycle)

    def publish(self, ad) -> None:
        """Put the DaemonCore statistics into ``ad`` (a ClassAd or dict)."""
        now = time.monotonic()
        lifetime = int(now - self.started)
        ad["DCStatsLifetime"] = lifetime
        ad["DCRecentStatsLifetime"] = min(lifetime, int(self.window))
        ad["DaemonCoreDutyCycle"] = self.duty_cycle()
        ad["RecentDaemonCoreDutyCycle"] = self.recent_duty_cycle(now)


class TimedSelector(selectors.DefaultSelector):
    """The platform's default selector, with every ``select`` timed into a :class:`LoopStats`
    (give it to ``asyncio.SelectorEventLoop``)."""

    def __init__(self, stats: LoopStats):
        super().__init__()
        self.loop_stats = stats

    def select(self, timeout=None):
        t0 = time.monotonic()
        try:
            return super().select(timeout)
        finally:
            self.loop_stats.record(t0, time.monotonic())


class SelfMonitor:
    """What the daemon process itself uses, sampled when the daemon's ad is built
    (SelfMonitorData::CollectData / ExportData)."""

    def __init__(self):
        import psutil
        self._proc = psutil.Process()
        self._last: Optional[tuple[float, float]] = None   # (wall, cpu seconds)

    def publish(self, ad, registered_sockets: int = 0, security_sessions: int = 0) -> None:
        """Put the MonitorSelf* attributes into ``ad`` (a ClassAd or dict)."""
        now = time.time()
        with self._proc.oneshot():
            t = self._proc.cpu_times()
            mem = self._proc.memory_info()
            created = self._proc.create_time()
        cpu = t.user + t.system
        if self._last is None:
            usage = 100.0 * cpu / max(now - created, 1e-3)
        else:
            usage = 100.0 * (cpu - self._last[1]) / max(now - self._last[0], 1e-3)
        self._last = (now, cpu)
        ad["MonitorSelfTime"] = int(now)
        ad["MonitorSelfCPUUsage"] = max(0.0, usage)
        ad["MonitorSelfImageSize"] = mem.vms // 1024
        ad["MonitorSelfResidentSetSize"] = mem.rss // 1024
        ad["MonitorSelfAge"] = int(now - created)
        ad["MonitorSelfRegisteredSocketCount"] = int(registered_sockets)
        ad["MonitorSelfSecuritySessions"] = int(security_sessions)
