"""DaemonCore: the event loop and handler tables every pyhtc daemon runs on.

See :mod:`pyhtc.daemoncore.core` (timers, signals, reapers, processes, threads, sockets) and
:mod:`pyhtc.daemoncore.log` (HTCondor-format debug logs).
"""
from .core import DaemonCore, ProcessInfo, Timer
from .log import Category, DebugLog, parse_debug_flags

__all__ = ["DaemonCore", "ProcessInfo", "Timer", "Category", "DebugLog", "parse_debug_flags"]
