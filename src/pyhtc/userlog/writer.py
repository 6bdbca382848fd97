"""Appending events to a job event log safely from many writers.

HTCondor's WriteUserLog (src/condor_utils/write_user_log.cpp) opens the log with O_APPEND and
writes each event, ``...`` line included, with a single write(2), so events from the schedd,
several shadows and DAGMan never interleave.  We do the same and also hold an exclusive
``flock`` on the log while writing (HTCondor's ENABLE_USERLOG_LOCKING), which additionally
guards against short writes on filesystems where O_APPEND is not atomic.
"""
from __future__ import annotations

import fcntl
import os

from .events import JobEvent, format_event, make_event
from .header import DEFAULT_FORMAT_OPTIONS, JSON, XML, parse_format_options
from .jsonlog import format_event_json

__all__ = ["UserLog", "write_event"]


class UserLog:
    """A job event log opened for appending.

    ``format_options`` is an int of :mod:`pyhtc.userlog.header` flags or a
    DEFAULT_USERLOG_FORMAT_OPTIONS string (``"ISO_DATE UTC SUB_SECOND"``, ``"LEGACY"``,
    ``"JSON"``...); HTCondor 25's default is ISO_DATE in local time.  With JSON each event is
    written as a JSON object (:mod:`pyhtc.userlog.jsonlog`); XML is not supported.  ``locking`` takes an exclusive flock
    around each write; ``fsync`` syncs each event to disk (ENABLE_USERLOG_FSYNC).

    Raises OSError if the file cannot be opened or written.
    """

    def __init__(self, path: str | os.PathLike, *, format_options: int | str | None = None,
                 locking: bool = True, fsync: bool = False, mode: int = 0o664):
        self.path = os.fspath(path)
        if format_options is None:
            self.options = DEFAULT_FORMAT_OPTIONS
        elif isinstance(format_options, str):
            self.options = parse_format_options(format_options)
        else:
            self.options = int(format_options)
        if self.options & XML and not self.options & JSON:
            raise ValueError("the XML event log format is not supported; use text or JSON")
        self.locking = locking
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, mode)

    def write(self, event: JobEvent) -> int:
        """Append one event; returns the number of bytes written.

        Raises ValueError if the event cannot be formatted (e.g. a required field is empty).
        """
        if self.options & JSON:
            return self.write_text(format_event_json(event, self.options))
        return self.write_text(format_event(event, self.options))

    def log(self, event_type, cluster: int, proc: int, subproc: int = 0, *, when=None,
            **fields) -> JobEvent:
        """Build an event with :func:`~pyhtc.userlog.events.make_event`, write it, return it."""
        event = make_event(event_type, cluster, proc, subproc, when=when, **fields)
        self.write(event)
        return event

    def write_text(self, text: str) -> int:
        """Append already formatted event text (a whole event: text ending with the ``...``
        line, or a JSON object)."""
        if self._fd is None:
            raise ValueError(f"user log {self.path} is closed")
        data = text.encode("utf-8", errors="surrogateescape")
        if self.locking:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            written = os.write(self._fd, data)
            while written < len(data):          # only after a signal or a full disk
                written += os.write(self._fd, data[written:])
            if self.fsync:
                os.fsync(self._fd)
        finally:
            if self.locking:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return written

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def write_event(path: str | os.PathLike, event: JobEvent, *,
                format_options: int | str | None = None, locking: bool = True) -> int:
    """Append ``event`` to the log at ``path`` (opening and closing it); returns bytes written."""
    with UserLog(path, format_options=format_options, locking=locking) as log:
        return log.write(event)
