"""HTCondor-style daemon logging (``dprintf``).

Semantics follow src/condor_utils/dprintf*.cpp, src/condor_includes/condor_debug.h and
src/condor_utils/log_rotate.cpp:

- a line is ``<time> [header fields] <message>``, time formatted with DEBUG_TIME_FORMAT
  (default ``%m/%d/%y %H:%M:%S``); header flags ``D_SUB_SECOND`` (``.mmm`` after the
  seconds), ``D_PID`` (``(pid:N)``), ``D_CAT`` (``(D_CATEGORY)``) come from ``<SUBSYS>_DEBUG``;
- categories D_ALWAYS, D_ERROR and D_STATUS are always written; the others (D_COMMAND,
  D_SECURITY, D_NETWORK, ...) only when listed in ``<SUBSYS>_DEBUG``; ``D_FULLDEBUG`` (or
  ``D_CAT:2``) also enables the verbose level of the listed categories (and of D_ALWAYS);
- when the file would exceed ``MAX_<SUBSYS>_LOG`` bytes it is rotated: with
  ``MAX_NUM_<SUBSYS>_LOG`` = 1 to ``<file>.old``, otherwise to ``<file>.<YYYYmmddTHHMMSS>``
  keeping that many rotated files.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Optional, TextIO

__all__ = ["Category", "DebugLog", "parse_debug_flags"]


class Category:
    """Debug category names (HTCondor's D_* names). Verbose level 2 is ``D_X:2``."""

    ALWAYS = "D_ALWAYS"
    ERROR = "D_ERROR"
    STATUS = "D_STATUS"
    GENERAL = "D_GENERAL"
    FULLDEBUG = "D_FULLDEBUG"
    COMMAND = "D_COMMAND"
    SECURITY = "D_SECURITY"
    NETWORK = "D_NETWORK"
    PROCFAMILY = "D_PROCFAMILY"
    DAEMONCORE = "D_DAEMONCORE"
    MATCH = "D_MATCH"
    ACCOUNTANT = "D_ACCOUNTANT"
    PROTOCOL = "D_PROTOCOL"
    JOB = "D_JOB"
    MACHINE = "D_MACHINE"
    HOSTNAME = "D_HOSTNAME"
    LOAD = "D_LOAD"
    SYSCALLS = "D_SYSCALLS"
    AUDIT = "D_AUDIT"
    TEST = "D_TEST"
    STATS = "D_STATS"


_ALWAYS_ON = {Category.ALWAYS, Category.ERROR, Category.STATUS}
_HEADER_FLAGS = {"D_PID", "D_CAT", "D_SUB_SECOND", "D_FDS", "D_IDENT", "D_BACKTRACE", "D_NOHEADER"}


def parse_debug_flags(text: Optional[str]) -> tuple[dict[str, int], set[str]]:
    """Parse a ``<SUBSYS>_DEBUG`` value.

    Returns ``(levels, header_flags)``: ``levels`` maps a category name to its enabled
    verbosity (1 = basic, 2 = verbose); ``header_flags`` is the set of header options
    (D_PID, D_CAT, D_SUB_SECOND, ...). Items are separated by spaces, commas or ``|``;
    ``D_ALL`` enables every category; ``D_FULLDEBUG`` means D_ALWAYS:2 and raises every
    listed category to verbose. Unknown names are accepted (HTCondor ignores them too).
    """
    levels = {c: 1 for c in _ALWAYS_ON}
    header: set[str] = set()
    fulldebug = False
    for raw in (text or "").replace(",", " ").replace("|", " ").split():
        name, _, lvl = raw.upper().partition(":")
        if not name.startswith("D_"):
            name = "D_" + name
        if name in _HEADER_FLAGS:
            header.add(name)
            continue
        level = int(lvl) if lvl.isdigit() else 1
        if name == "D_FULLDEBUG":
            fulldebug = True
            continue
        if name == "D_ALL":
            for attr, v in vars(Category).items():
                if not attr.startswith("_") and isinstance(v, str):
                    levels[v] = max(levels.get(v, 0), level)
            continue
        levels[name] = max(levels.get(name, 0), level)
    if fulldebug:
        for k in list(levels):
            levels[k] = 2
        levels[Category.ALWAYS] = 2
        levels[Category.FULLDEBUG] = 2
    return levels, header


class DebugLog:
    """One daemon's debug log (file or stderr).

    - ``path``: the log file, or None to write to ``stream`` (``-t``: the terminal).
    - ``debug``: the ``<SUBSYS>_DEBUG`` value; ``max_bytes``/``max_num``: rotation knobs
      ``MAX_<SUBSYS>_LOG`` (0 = never rotate) and ``MAX_NUM_<SUBSYS>_LOG``.
    - ``time_format``: DEBUG_TIME_FORMAT.

    Thread-safe: worker threads may log. Write errors are swallowed after one report on
    stderr (a full disk must not kill a daemon).
    """

    def __init__(self, path: Optional[str] = None, debug: Optional[str] = None,
                 max_bytes: int = 10 * 1024 * 1024, max_num: int = 1,
                 time_format: str = "%m/%d/%y %H:%M:%S", stream: Optional[TextIO] = None):
        self.path = path
        self.stream = stream if stream is not None else (None if path else sys.stderr)
        self.max_bytes = max_bytes
        self.max_num = max(1, max_num)
        self.time_format = time_format
        self.levels, self.header = parse_debug_flags(debug)
        self._lock = threading.Lock()
        self._file = None
        self._size = 0
        self._warned = False

    def configure(self, debug: Optional[str] = None, max_bytes: Optional[int] = None,
                  max_num: Optional[int] = None, time_format: Optional[str] = None) -> None:
        """Apply new settings (on reconfig)."""
        if debug is not None:
            self.levels, self.header = parse_debug_flags(debug)
        if max_bytes is not None:
            self.max_bytes = max_bytes
        if max_num is not None:
            self.max_num = max(1, max_num)
        if time_format is not None:
            self.time_format = time_format

    def enabled(self, category: str, level: int = 1) -> bool:
        """Whether a message of ``category`` at verbosity ``level`` would be written."""
        return self.levels.get(category, 0) >= level

    def dprintf(self, category: str, message: str, level: int = 1) -> None:
        """Write ``message`` (one or more lines) if ``category`` at ``level`` is enabled.

        ``category`` may carry a level as HTCondor writes it (``"D_FULLDEBUG"`` is
        D_ALWAYS at level 2).
        """
        if category == Category.FULLDEBUG:
            category, level = Category.ALWAYS, 2
        if self.levels.get(category, 0) < level:
            return
        self._write(self._format(category, message))

    def close(self) -> None:
        """Close the log file (reopened on the next write)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- internals -------------------------------------------------------------------
    def _format(self, category: str, message: str) -> str:
        now = time.time()
        stamp = time.strftime(self.time_format, time.localtime(now))
        if "D_SUB_SECOND" in self.header:
            stamp += ".%03d" % int((now % 1) * 1000)
        head = stamp + " "
        if "D_PID" in self.header:
            head += "(pid:%d) " % os.getpid()
        if "D_CAT" in self.header:
            head += "(%s) " % category
        lines = message.rstrip("\n").split("\n")
        return "".join(head + line + "\n" for line in lines)

    def _write(self, text: str) -> None:
        with self._lock:
            try:
                if self.path is None:
                    self.stream.write(text)
                    self.stream.flush()
                    return
                if self._file is None:
                    self._open()
                data = text.encode("utf-8", "surrogateescape")
                if self.max_bytes and self._size + len(data) > self.max_bytes and self._size:
                    self._rotate()
                self._file.write(data)
                self._file.flush()
                self._size += len(data)
            except OSError as exc:
                if not self._warned:
                    self._warned = True
                    print(f"pyhtc: cannot write log {self.path}: {exc}", file=sys.stderr)

    def _open(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._file = open(self.path, "ab")
        self._size = self._file.tell()

    def _rotate(self) -> None:
        self._file.close()
        self._file = None
        if self.max_num <= 1:
            os.replace(self.path, self.path + ".old")
        else:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime())
            os.replace(self.path, f"{self.path}.{stamp}")
            base = os.path.basename(self.path) + "."
            d = os.path.dirname(os.path.abspath(self.path))
            rotated = sorted(f for f in os.listdir(d)
                             if f.startswith(base) and f[len(base):][:1].isdigit())
            for old in rotated[:-self.max_num]:
                os.unlink(os.path.join(d, old))
        self._open()
