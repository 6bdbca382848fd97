"""Wire-format helpers for the pyhtc-proxy line protocol.

The protocol follows daemonproxy (nrdvana/daemonproxy, ``src/controller.c``): one message per
line, fields separated by a single TAB, no quoting or escaping; ASCII control characters other
than TAB and the terminating newline are reserved and refused.  Lines starting with ``#`` or
consisting only of whitespace are ignored.  Commands and events share this format, and a config
file is just a stream of commands.

Differences from daemonproxy (documented in docs/pyhtc-proxy.md):

* timestamps (CLOCK_MONOTONIC seconds) and durations carry millisecond decimals (``%.3f``);
  integer timestamps are still accepted by ``service.start``;
* the longest command line is :data:`LINE_MAX` bytes (daemonproxy: 1 KiB);
* names may be up to :data:`NAME_MAX` characters of ``[A-Za-z0-9._-]``.
"""
from __future__ import annotations

import re
import signal as _signal

#: Longest accepted command line in bytes, newline excluded.  A longer line yields
#: ``error<TAB>line too long ...`` and the rest of it is discarded (comments excepted).
LINE_MAX = 4096

#: Longest service or handle name (daemonproxy's NAME_BUF_SIZE is 32 including the NUL).
NAME_MAX = 63

_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,%d}\Z" % NAME_MAX)
_CTRL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class CommandError(Exception):
    """A command was refused.  The message becomes the text of an ``error`` event."""


def check_name(name: str, what: str = "name") -> str:
    """Return *name* if it is a valid service/handle name, else raise :class:`CommandError`."""
    if not name:
        raise CommandError(f"expected {what}")
    if not _NAME_RE.match(name):
        raise CommandError(f"invalid {what} {name!r} (want 1..{NAME_MAX} of A-Z a-z 0-9 . _ -)")
    return name


def split_line(line: str) -> list[str]:
    """Split one command line (newline already removed) into TAB-separated fields.

    A trailing carriage return is dropped.  Raises :class:`CommandError` when the line holds a
    reserved control character (anything below ASCII 32 but TAB, or DEL).
    """
    if line.endswith("\r"):
        line = line[:-1]
    m = _CTRL_RE.search(line)
    if m:
        raise CommandError(f"control character 0x{ord(m.group()):02x} at column {m.start() + 1}")
    return line.split("\t")


def is_ignorable(line: str) -> bool:
    """True for comment lines (``#`` first) and lines holding only whitespace."""
    return line.startswith("#") or not line.strip(" \t\r\n\0")


def join(*fields: object) -> str:
    """Format one event line (with the trailing newline) from *fields*."""
    return "\t".join(str(f) for f in fields) + "\n"


def fmt_ts(t: float | None) -> str:
    """Format a CLOCK_MONOTONIC timestamp or a duration in seconds; ``-`` for None."""
    return "-" if t is None else "%.3f" % t


def parse_number(text: str, what: str = "number", *, integer: bool = False) -> float:
    """Parse a decimal number (an integer when *integer*), raising :class:`CommandError`."""
    try:
        return int(text, 10) if integer else float(text)
    except ValueError:
        raise CommandError(f"expected {'integer' if integer else 'number'} for {what}, got {text!r}") from None


# --- signals -------------------------------------------------------------------------------------

#: Signals the proxy records (counts and timestamps) and that ``service.auto_up`` accepts as
#: triggers, as in daemonproxy's ``signal.c``.
TRIGGER_SIGNALS = ("SIGINT", "SIGHUP", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGQUIT")


def signal_number(text: str) -> int:
    """Resolve a signal given by name (``SIGTERM`` or ``TERM``) or number; raise CommandError."""
    if not text:
        raise CommandError("expected signal argument")
    if text[0].isdigit():
        try:
            num = int(text, 10)
        except ValueError:
            raise CommandError(f"invalid signal number {text!r}") from None
        if not 0 <= num < 65:
            raise CommandError(f"invalid signal number {text!r}")
        return num
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        sig = _signal.Signals[name]
    except KeyError:
        raise CommandError(f"invalid signal argument {text!r}") from None
    return int(sig)


def signal_name(num: int) -> str:
    """Name of signal *num* (``SIGTERM``); ``SIG<num>`` when unknown."""
    try:
        return _signal.Signals(num).name
    except ValueError:
        return f"SIG{num}"
