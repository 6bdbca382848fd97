"""Reading a job event log: :class:`JobEventLog`, mirroring ``htcondor2.JobEventLog``.

An event is the text from its header line up to a line that is exactly ``...`` (ReadUserLog
in src/condor_utils/read_user_log.cpp).  An event whose ``...`` line has not been written yet
is not returned: the reader waits (or stops, depending on ``events(stop_after)``) and reads it
once it is complete, so a log being appended to can be followed.

Errors: where HTCondor's reader gives up on an event (``ULOG_RD_ERROR``), this reader raises
:class:`UserLogParseError` naming the file, the line and what was wrong, after moving past
that event, so iterating again continues with the next one.  Unknown event numbers are read
as HTCondor reads them (a "FutureEvent" with ``EventHead`` and any ``attr = value`` lines).
Blank lines between events are skipped.  Logs written with the JSON format option (one JSON
object per event) are read too; XML logs are not.
"""
from __future__ import annotations

import os
import re
import time

from .bodies import BodyError
from .events import JobEvent, event_from_lines
from .header import HeaderError, parse_header
from .jsonlog import event_from_json, find_json_object

__all__ = ["JobEventLog", "UserLogParseError", "read_events"]

_SYNC_RE = re.compile(rb"^\.\.\.\r?\n", re.M)
_CHUNK = 1 << 20
_POLL_SECONDS = 0.05


class UserLogParseError(ValueError):
    """A malformed event; ``path``, ``line`` (1-based) and ``offset`` (bytes) locate it."""

    def __init__(self, path: str, line: int, offset: int, message: str):
        super().__init__(f"{path}:{line}: {message} (event at byte offset {offset})")
        self.path = path
        self.line = line
        self.offset = offset
        self.reason = message


class JobEventLog:
    """Iterator over the events of a job event log file (``htcondor2.JobEventLog``).

    ``for event in JobEventLog(path).events(stop_after=0)`` reads what is there now;
    ``stop_after=None`` waits forever for new events, ``stop_after=N`` waits until N seconds
    after the call.  Iterating without calling :meth:`events` waits forever, as htcondor2
    does.  Also a context manager (closes the file) and picklable (resumes at the same byte
    offset).

    Raises OSError if the file cannot be opened, :class:`UserLogParseError` from ``next()``
    for a malformed event.
    """

    def __init__(self, filename: str | os.PathLike):
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError("filename must be a string")
        filename = os.fspath(filename)
        if not filename:
            raise ValueError("filename must not be empty")
        self._filename = filename
        self._deadline = 0
        self._open(0, 1)

    def _open(self, offset: int, line: int) -> None:
        self._fh = open(self._filename, "rb")
        self._fh.seek(offset)
        self._buf = b""
        self._pos = 0
        self._offset = offset      # file offset of self._buf[self._pos]
        self._line = line          # line number of self._buf[self._pos]

    # --- htcondor2.JobEventLog API ---
    def events(self, stop_after: int | None = None) -> "JobEventLog":
        """Return self, set to stop waiting ``stop_after`` seconds from now (None: never)."""
        if stop_after is None:
            self._deadline = 0
        elif isinstance(stop_after, int) and not isinstance(stop_after, bool):
            self._deadline = int(time.time()) + stop_after
        else:
            raise TypeError("deadline must be an integer")
        return self

    def close(self) -> None:
        """Close the file; iterating afterwards raises StopIteration."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __iter__(self):
        return self

    def __next__(self) -> JobEvent:
        while True:
            if self._fh is None:
                raise StopIteration("All events processed")
            event = self._read_event()
            if event is not None:
                return event
            now = time.time()
            if self._deadline and self._deadline <= now:
                raise StopIteration("All events processed")
            time.sleep(_POLL_SECONDS if not self._deadline
                       else max(0.0, min(_POLL_SECONDS, self._deadline - now)))

    def __enter__(self):
        self._deadline = 0
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __getstate__(self):
        return {"filename": self._filename, "deadline": self._deadline,
                "offset": self._offset, "line": self._line}

    def __setstate__(self, state):
        self._filename = state["filename"]
        self._deadline = state["deadline"]
        self._open(state["offset"], state["line"])

    @property
    def offset(self) -> int:
        """Byte offset of the next unread event."""
        return self._offset

    # --- reading ---
    def _fill(self) -> bool:
        """Append newly written bytes to the buffer; True if there were any."""
        data = self._fh.read(_CHUNK)
        if not data:
            return False
        if self._pos > len(self._buf) // 2:
            self._buf = self._buf[self._pos:]
            self._pos = 0
        self._buf += data
        return True

    def _consume(self, end: int) -> tuple[int, int]:
        """Advance past buffer index ``end``; returns the (offset, line) we started at."""
        start = (self._offset, self._line)
        self._line += self._buf.count(b"\n", self._pos, end)
        self._offset += end - self._pos
        self._pos = end
        return start

    def _read_event(self) -> JobEvent | None:
        """The next complete event, or None if none is complete yet."""
        while True:
            # skip blank lines between events
            while True:
                nl = self._buf.find(b"\n", self._pos)
                if nl < 0 or self._buf[self._pos:nl].strip():
                    break
                self._consume(nl + 1)
            first = self._buf[self._pos:self._pos + 64].lstrip()[:1]
            if first == b"{":
                return self._read_json_event()
            if first == b"<":
                offset, line = self._offset, self._line
                raise UserLogParseError(self._filename, line, offset,
                                        "XML event logs are not supported")
            m = _SYNC_RE.search(self._buf, self._pos)
            if m is not None:
                break
            if not self._fill():
                return None
        block = self._buf[self._pos:m.start()]
        offset, line = self._consume(m.end())
        return self._parse_block(block, offset, line)

    def _read_json_event(self) -> JobEvent | None:
        """The next event of a JSON event log (ReadUserLog::readEventClassad)."""
        while True:
            start = self._buf.index(b"{", self._pos)
            end = find_json_object(self._buf, start)
            if end >= 0:
                break
            if not self._fill():
                return None
        if self._buf[end:end + 1] == b"\n":
            end += 1
        text = self._buf[start:end].decode("utf-8", errors="surrogateescape")
        offset, line = self._consume(end)
        try:
            return event_from_json(text)
        except (ValueError, IndexError) as exc:
            raise UserLogParseError(self._filename, line, offset,
                                    f"bad JSON event: {exc}") from None

    def _parse_block(self, block: bytes, offset: int, line: int) -> JobEvent:
        text = block.decode("utf-8", errors="surrogateescape")
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            raise UserLogParseError(self._filename, line, offset, "empty event before '...'")
        try:
            number, cluster, proc, subproc, sec, usec, rest = parse_header(lines[0])
        except HeaderError as exc:
            raise UserLogParseError(self._filename, line, offset,
                                    f"bad event header {lines[0][:80]!r}: {exc}") from None
        try:
            return event_from_lines(number, cluster, proc, subproc, sec, usec,
                                    [rest] + lines[1:])
        except BodyError as exc:
            raise UserLogParseError(self._filename, line + exc.line, offset,
                                    f"event {number:03d}: {exc}") from None
        except (ValueError, IndexError) as exc:
            raise UserLogParseError(self._filename, line, offset,
                                    f"event {number:03d}: {exc}") from None


def read_events(path: str | os.PathLike, *, skip_errors: bool = False) -> list[JobEvent]:
    """All complete events now in ``path`` (no waiting).

    With ``skip_errors`` malformed events are left out instead of raising
    :class:`UserLogParseError`.
    """
    out = []
    with JobEventLog(path) as log:
        log.events(0)
        while True:
            try:
                out.append(next(log))
            except StopIteration:
                return out
            except UserLogParseError:
                if not skip_errors:
                    raise
