"""Shared pieces of the event-body formatters and parsers (see :mod:`pyhtc.userlog.bodies`).

Line reading follows ULogEvent::read_optional_line / read_line_value and ULogFile in HTCondor's
src/condor_utils/condor_event.cpp: lines arrive chomped, and running out of lines is HTCondor's
``got_sync_line`` (the ``...`` separator was reached).
"""
from __future__ import annotations

import re

from .adtext import AdTextError, old_to_new_escaping, split_assignment
from .usage import parse_expr_strict

__all__ = ["BodyError", "Lines", "clean_text", "parse_long_form", "HINT_USAGE", "HINT_PAYLOAD"]


class BodyError(ValueError):
    """An event body that HTCondor's reader would reject; ``line`` is its index in the body."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class Lines:
    """Cursor over an event's body lines (already chomped); ``None`` means the sync line."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.pos = 0

    def next(self):
        """Next line or None at the end of the event (HTCondor: got_sync_line)."""
        if self.pos >= len(self.lines):
            return None
        line = self.lines[self.pos]
        self.pos += 1
        return line

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.lines)

    def fail(self, message: str):
        raise BodyError(message, max(self.pos - 1, 0))

    def value(self, prefix: str) -> str:
        """read_line_value: the next line must start with ``prefix``; returns the rest."""
        line = self.next()
        if line is None:
            self.fail(f"event ended where {prefix.strip()!r} was expected")
        if not line.startswith(prefix):
            self.fail(f"expected a line starting with {prefix.strip()!r}, got {line!r}")
        return line[len(prefix):]


def clean_text(value) -> str:
    """A free-text field as HTCondor stores it: newlines become ``|``, CRs spaces
    (ULogEvent::set_reason_member), so one field never spans lines."""
    s = "" if value is None else str(value)
    return s.replace("\n", "|").replace("\r", " ")


def _notes(value) -> str:
    return clean_text(value)[:8191]          # "%.8191s"


def _int(fields, key, default):
    v = fields.get(key, default)
    if isinstance(v, bool):
        return int(v)
    return int(v)


def _num(fields, key, default=0.0) -> float:
    return float(fields.get(key, default))


_INT_PREFIX_RE = re.compile(r"\s*([+-]?\d+)")


def _sscanf_int(text: str, at: int = 0):
    m = _INT_PREFIX_RE.match(text, at)
    return (int(m.group(1)), m.end()) if m else (None, at)


# Keys under which parsers hand formatting hints to the event (never ClassAd attribute names):
# the usage table exactly as read, and the raw payload lines of a FutureEvent, so that an
# event read from a log is written back as HTCondor would (it keeps both in its event object).
HINT_USAGE = " usage"
HINT_PAYLOAD = " payload"


def parse_long_form(line: str):
    """ParseLongFormAttrValue: ``attr = value`` or None."""
    try:
        attr, rhs = split_assignment(line)
    except AdTextError:
        return None
    value = parse_expr_strict(old_to_new_escaping(rhs))
    return None if value is None else (attr, value)

