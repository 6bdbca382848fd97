"""The event header line: ``NNN (cluster.proc.subproc) <date> <time> <first body line>``.

Rules follow ULogEvent::formatHeader / ULogEvent::readHeader and ULogEvent::parse_opts in
HTCondor's src/condor_utils/condor_event.cpp:

* the event number is exactly three digits followed by a space;
* cluster, proc and subproc are printed ``%03d`` (so -1 is ``-01``);
* the date is ``YYYY-MM-DD HH:MM:SS`` when the ISO_DATE format option is set (HTCondor 25's
  default, since DEFAULT_USERLOG_FORMAT_OPTIONS is unset by default and USERLOG_FORMAT_DEFAULT
  is ISO_DATE), else the legacy ``MM/DD HH:MM:SS``, whose year is taken from the current local
  time when read back;
* SUB_SECOND appends ``.mmm``; UTC prints UTC time and appends ``Z``; otherwise local time.
"""
from __future__ import annotations

import calendar
import re
import time

__all__ = ["XML", "JSON", "ISO_DATE", "UTC", "SUB_SECOND", "DEFAULT_FORMAT_OPTIONS",
           "parse_format_options", "format_header", "parse_header", "event_time_string",
           "HeaderError"]

# ULogEvent::formatOpt (condor_event.h)
XML = 0x0001
JSON = 0x0002
ISO_DATE = 0x0010
UTC = 0x0020
SUB_SECOND = 0x0040
DEFAULT_FORMAT_OPTIONS = ISO_DATE  # USERLOG_FORMAT_DEFAULT

_OPTION_FLAGS = {"XML": XML, "JSON": JSON, "ISO_DATE": ISO_DATE, "UTC": UTC,
                 "SUB_SECOND": SUB_SECOND}


class HeaderError(ValueError):
    """An event header line that does not follow the format."""


def parse_format_options(text: str | None, default: int = DEFAULT_FORMAT_OPTIONS) -> int:
    """Flags from a DEFAULT_USERLOG_FORMAT_OPTIONS value such as ``"ISO_DATE UTC SUB_SECOND"``.

    Tokens are separated by spaces or commas, case-insensitive; ``!OPT`` clears a flag;
    ``LEGACY`` clears ISO_DATE, UTC and SUB_SECOND and ``!LEGACY`` sets ISO_DATE
    (ULogEvent::parse_opts).  Unknown tokens are ignored, as HTCondor does.
    """
    opts = default
    if not text:
        return opts
    for tok in re.split(r"[\s,]+", text.strip()):
        if not tok:
            continue
        bang = tok.startswith("!")
        name = tok[1:].upper() if bang else tok.upper()
        if name in _OPTION_FLAGS:
            flag = _OPTION_FLAGS[name]
            opts = (opts & ~flag) if bang else (opts | flag)
        elif name == "LEGACY":
            if bang:
                opts |= ISO_DATE
            else:
                opts &= ~(ISO_DATE | UTC | SUB_SECOND)
    return opts


def format_header(number: int, cluster: int, proc: int, subproc: int, sec: int, usec: int,
                  options: int = DEFAULT_FORMAT_OPTIONS) -> str:
    """Header text up to and including the space before the body's first line."""
    tm = time.gmtime(sec) if options & UTC else time.localtime(sec)
    out = "%03d (%03d.%03d.%03d) " % (number, cluster, proc, subproc)
    if options & ISO_DATE:
        out += "%04d-%02d-%02d %02d:%02d:%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday,
                                                  tm.tm_hour, tm.tm_min, tm.tm_sec)
    else:
        out += "%02d/%02d %02d:%02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                             tm.tm_sec)
    if options & SUB_SECOND:
        out += ".%03d" % (usec // 1000)
    if options & UTC:
        out += "Z"
    return out + " "


def event_time_string(sec: int, usec: int) -> str:
    """``EventTime`` of an event's ClassAd: local ISO 8601, ``.mmm`` only if usec != 0.

    (ULogEvent::toClassAd with event_time_utc false, condor_event.cpp.)
    """
    tm = time.localtime(sec)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
                                          tm.tm_min, tm.tm_sec)
    if usec:
        s += ".%03d" % (usec // 1000)
    return s


_TIME_RE = re.compile(r"(\d\d):?(\d\d):?(\d\d)(?:[.,](\d+))?(Z)?")
_ISO_DATE_RE = re.compile(r"(\d{4})-?(\d\d)-?(\d\d)")
_IDS_RE = re.compile(r" \(\s*([+-]?\d+)\.\s*([+-]?\d+)\.\s*([+-]?\d+)\)")


def _parse_time(text: str):
    m = _TIME_RE.match(text)
    if not m:
        raise HeaderError(f"bad time {text!r}")
    frac = m.group(4) or ""
    usec = int((frac + "000000")[:6]) if frac else 0
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), usec, bool(m.group(5))


# The usual HTCondor 25 header, matched in one go before the general parser below.
_FAST_RE = re.compile(r"(\d{3}) \((-?\d+)\.(-?\d+)\.(-?\d+)\) (\d{4})-(\d\d)-(\d\d) "
                      r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z?) ")


def parse_header(line: str):
    """Parse a header line (without its newline).

    Returns ``(number, cluster, proc, subproc, sec, usec, rest)`` where ``rest`` is the text
    after the date and time (the body's first line).  Raises :class:`HeaderError`.
    """
    m = _FAST_RE.match(line)
    if m:
        g = m.groups()
        mon, mday, hh = int(g[5]), int(g[6]), int(g[7])
        if 1 <= mon <= 12 and 0 <= mday <= 32 and 0 <= hh <= 24:
            fields = (int(g[4]), mon, mday, hh, int(g[8]), int(g[9]), 0, 0, -1)
            try:
                sec = calendar.timegm(fields) if g[11] else int(time.mktime(fields))
            except (OverflowError, ValueError):
                pass
            else:
                usec = int((g[10] + "00000")[:6]) if g[10] else 0
                return (int(g[0]), int(g[1]), int(g[2]), int(g[3]), sec, usec,
                        line[m.end():])
    return _parse_header_general(line)


def _parse_header_general(line: str):
    if len(line) < 4 or not line[:3].isdigit() or line[3] != " ":
        raise HeaderError("event header must start with a three-digit event number and a space")
    number = int(line[:3])
    m = _IDS_RE.match(line, 3)
    if not m:
        raise HeaderError("expected ' (cluster.proc.subproc)' after the event number")
    cluster, proc, subproc = (int(g) for g in m.groups())
    p = m.end()
    if line[p:p + 1] != " ":
        raise HeaderError("expected a space before the event date")
    p += 1
    datend = line.find(" ", p)
    if datend < 0:
        raise HeaderError("event header has no date and time")
    year = None
    if line[p:p + 2].isdigit() and line[p + 2:p + 3] == "/":
        # legacy MM/DD HH:MM:SS
        if datend != p + 5:
            raise HeaderError(f"bad date {line[p:datend]!r}")
        try:
            mon = int(line[p:p + 2])
            mday = int(line[p + 3:p + 5])
        except ValueError:
            raise HeaderError(f"bad date {line[p:datend]!r}") from None
        tend = line.find(" ", datend + 1)
        hh, mm, ss, usec, is_utc = _parse_time(line[datend + 1:tend if tend >= 0 else None])
    else:
        if datend == p + 10:        # "YYYY-MM-DD HH:MM:SS"
            dm = _ISO_DATE_RE.fullmatch(line, p, datend)
            tstart = datend + 1
        else:                       # "YYYY-MM-DDTHH:MM:SS"
            dm = _ISO_DATE_RE.match(line, p)
            tstart = dm.end() + 1 if dm and line[dm.end():dm.end() + 1] == "T" else -1
        if not dm or tstart < 0:
            raise HeaderError(f"bad date {line[p:datend]!r}")
        year, mon, mday = (int(g) for g in dm.groups())
        tend = line.find(" ", tstart)
        hh, mm, ss, usec, is_utc = _parse_time(line[tstart:tend if tend >= 0 else None])
    # the bogus-date check of readHeader
    if not (1 <= mon <= 12) or not (0 <= mday <= 32) or not (0 <= hh <= 24):
        raise HeaderError(f"bad date or time in {line[p:]!r}")
    if tend < 0:
        raise HeaderError("expected a space after the event time")
    if year is None:
        year = time.localtime().tm_year  # HTCondor's (documented) legacy behaviour, see #6936
    fields = (year, mon, mday, hh, mm, ss, 0, 0, -1)
    try:
        sec = calendar.timegm(fields) if is_utc else int(time.mktime(fields))
    except (OverflowError, ValueError) as exc:
        raise HeaderError(f"bad date {line[p:tend]!r}: {exc}") from None
    return number, cluster, proc, subproc, sec, usec, line[tend + 1:]
