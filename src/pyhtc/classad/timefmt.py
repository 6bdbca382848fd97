"""Absolute / relative time text (HTCondor: src/classad/literals.cpp ``MakeAbsTime`` /
``MakeRelTime`` and src/classad/util.cpp ``absTimeToString`` / ``relTimeToString``).

* :func:`parse_abstime` — ``"2024-03-01T12:00:00Z"``, ``"...+01:00"``, ``"...-0600"``, or no
  zone (the local zone) -> :class:`~pyhtc.classad.values.AbsTime`, or None if malformed.
* :func:`parse_reltime` — ``"[-][D+][HH:][MM:]SS[.fff]"`` or with unit letters
  (``"1d"``, ``"2h30m"``) -> seconds (float), or None if malformed.
* :func:`abstime_to_string` / :func:`reltime_to_string` — the text classad2 prints inside
  ``absTime("...")`` / ``relTime("...")``.
"""
from __future__ import annotations

import math
import time

from .values import AbsTime

__all__ = ["parse_abstime", "parse_reltime", "abstime_to_string", "reltime_to_string",
           "local_offset"]


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of proleptic Gregorian date y-m-d (any year, m 1..12)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_secs(t: int):
    """(year, month, day, hour, minute, second) in UTC of Unix time ``t`` (any year)."""
    days, rem = divmod(int(t), 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d, rem // 3600, rem // 60 % 60, rem % 60)


def local_offset(secs: float) -> int:
    """Seconds east of UTC of the local time zone at Unix time ``secs``."""
    lt = time.localtime(secs)
    return int(lt.tm_gmtoff or 0)


_DIGITS = frozenset("0123456789")
_SPACES = frozenset(" \t\n\v\f\r")


def _bytewise(text: str) -> str:
    # C works on bytes: one character per byte of the UTF-8 text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _next_digit(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] not in _DIGITS:
        i += 1
    return i


def _atoi(s: str) -> int:
    j = 0
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    return int(s[:j]) if j else 0


def parse_abstime(text: str):
    """Parse absolute-time text as ``absTime("...")`` does; None when it is malformed."""
    s = _bytewise(text)
    has_off = False
    tzh = tzm = 0
    n = len(s)
    i = n - 1
    while i >= 0 and s[i] in _SPACES:
        i -= 1
    if i > 0 and s[i] in "zZ":
        has_off = True
        s = s[:i] + s[i + 1:]
    elif n > 5 and s[n - 5] in "+-":
        has_off, tzh, tzm, s = _extract_zone(s)
    elif n > 6 and s[n - 6] in "+-" and s[n - 3] == ":":
        s = s[:n - 3] + s[n - 2:]
        has_off, tzh, tzm, s = _extract_zone(s)
    n = len(s)
    i = _next_digit(s, 0)
    if i > n - 4:
        return None
    fields = [_atoi(s[i:i + 4])]
    i += 4
    vals = []
    for _ in range(5):
        i = _next_digit(s, i)
        if i <= n - 2:
            vals.append(_atoi(s[i:i + 2]))
            i += 2
        else:
            vals.append(None)
    i = _next_digit(s, i)
    if i <= n - 1 and s[i] in _DIGITS:
        return None
    year = fields[0]
    mon = (vals[0] - 1) if vals[0] is not None else 0
    mday = vals[1] if vals[1] is not None else 0
    hour = vals[2] or 0
    minute = vals[3] or 0
    sec = vals[4] or 0
    # mktime() normalises out-of-range fields; timegm on a normalised tuple does the same in UTC.
    total_months = year * 12 + mon
    y, m = divmod(total_months, 12)
    base = days_from_civil(y, m + 1, 1) * 86400
    secs = base + (mday - 1) * 86400 + hour * 3600 + minute * 60 + sec
    if has_off:
        if tzh < 0:
            offset = tzh * 3600 - tzm * 60
        else:
            offset = tzh * 3600 + tzm * 60
    else:
        offset = local_offset(secs)
    return AbsTime(secs - offset, offset)


def _extract_zone(s: str):
    # s ends with [+-]hhmm
    n = len(s)
    sign = s[n - 5]
    digits = s[n - 4:]
    if not all(c in _DIGITS for c in digits):
        return False, 0, 0, s
    hh, mm = int(digits[:2]), int(digits[2:])
    if sign == "-":
        hh = -hh
    return True, hh, mm, s[:n - 5]


def parse_reltime(text: str):
    """Parse relative-time text as ``relTime("...")`` does (seconds, float); None if bad."""
    s = _bytewise(text)
    i = len(s) - 1

    def skip_space(i):
        while i >= 0 and s[i] in _SPACES:
            i -= 1
        return i

    secs = 0.0
    mins = hrs = days = 0
    negative = False
    i = skip_space(i)
    if i >= 0 and (s[i] in "sS" or s[i] in _DIGITS):
        if s[i] in "sS":
            i -= 1
        i = skip_space(i)
        j = i
        while i >= 0 and s[i] in _DIGITS:
            i -= 1
        if i >= 0 and s[i] == ".":
            i -= 1
            while i >= 0 and s[i] in _DIGITS:
                i -= 1
        num = s[i + 1:j + 1]
        try:
            secs = float(num) if num and num != "." else 0.0
        except ValueError:
            secs = 0.0
    for letters, kind in (("mM:", "m"), ("hH:", "h"), ("dD+", "d")):
        i = skip_space(i)
        if i >= 0 and s[i] in letters:
            i -= 1
            i = skip_space(i)
            j = i
            while i >= 0 and s[i] in _DIGITS:
                i -= 1
            num = s[i + 1:j + 1]
            v = int(num) if num else 0
            if kind == "m":
                mins = v
            elif kind == "h":
                hrs = v
            else:
                days = v
    i = skip_space(i)
    if i >= 0 and s[i] == "-":
        negative = True
        i -= 1
    i = skip_space(i)
    if i >= 0 and s[i] not in _SPACES:
        return None
    r = days * 86400 + hrs * 3600 + mins * 60 + secs
    return -r if negative else r


def abstime_to_string(t: AbsTime) -> str:
    """``YYYY-MM-DDThh:mm:ss±hh:mm`` in the value's own zone (offset 0 prints ``-00:00``)."""
    tz = t.offset
    sign = "+" if tz > 0 else "-"
    tz = abs(tz)
    y, mo, d, h, mi, se = civil_from_secs(t.secs + t.offset)
    # strftime %Y (glibc): the year without padding
    ys = str(y)
    return "%s-%02d-%02dT%02d:%02d:%02d%c%02d:%02d" % (
        ys, mo, d, h, mi, se, sign, tz // 3600, (tz // 60) % 60)


def _g(x: float) -> str:
    return "%02g" % x


def _c_int32(x: float) -> int:
    # C (int) conversion of a double on x86: out of range / NaN -> INT_MIN
    if x != x or not (-2147483649.0 < x < 2147483648.0):
        return -2147483648
    return int(x)


def _cmod(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def reltime_to_string(r: float) -> str:
    """``[-][D+]HH:MM:SS`` with leading zero fields dropped (``"01:00:00"``, ``"05"``);
    util.cpp relTimeToString, including its C integer arithmetic."""
    out = ""
    if r < 0:
        out = "-"
        r = -r
    frac = r - math.floor(r) if not math.isinf(r) else math.nan
    whole = _c_int32(r)
    hrs = _cmod(whole, 86400)
    mins = _cmod(hrs, 3600)
    secs = _cmod(mins, 60) + frac
    days = _cdiv(whole, 86400)
    hrs = _cdiv(hrs, 3600)
    mins = _cdiv(mins, 60)
    if days:
        if frac == 0:
            return out + "%d+%02d:%02d:%02d" % (days, hrs, mins, int(secs))
        return out + "%d+%02d:%02d:%s" % (days, hrs, mins, _g(secs))
    if hrs:
        if frac == 0:
            return out + "%02d:%02d:%02d" % (hrs, mins, int(secs))
        return out + "%02d:%02d:%s" % (hrs, mins, _g(secs))
    if mins:
        if frac == 0:
            return out + "%02d:%02d" % (mins, int(secs))
        return out + "%02d:%s" % (mins, _g(secs))
    if frac == 0:
        return out + "%02d" % int(secs)
    return out + _g(secs)
