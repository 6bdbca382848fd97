"""ClassAd built-ins: time, currentTime, timeZoneOffset, dayTime, getYear, getMonth,
getDayOfYear, getDayOfMonth, getDayOfWeek, getHours, getMinutes, getSeconds, getDays,
splitTime, formatTime, interval.

Semantics follow HTCondor's ``src/classad/fnCall.cpp`` (``epochTime``, ``currentTime``,
``timeZoneOffset``, ``dayTime``, ``getField``, ``splitTime``, ``formatTime``, ``interval``,
``doSplitTime``, ``absTimeToClassAd``, ``relTimeToClassAd``) and ``src/classad/util.cpp``
(``day_numbers``). Results depend on the local time zone (``TZ``), as in HTCondor.
``formatTime`` calls the C library's ``strftime`` (through :mod:`ctypes`) so every
conversion matches HTCondor's output; Python's ``time.strftime`` is the fallback.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math
import time as _time

from .fn_string import c_int_of_double, int32, int_of
from .functions import builtin
from .values import ERROR, UNDEFINED, AbsTime, RelTime, from_bytes, to_bytes

__all__ = ["local_offset", "split_abs", "split_rel", "c_strftime"]


def _now(ctx) -> float:
    fn = getattr(ctx, "now", None)
    return fn() if fn is not None else _time.time()


def local_offset(secs: int) -> int:
    """Seconds east of UTC of the local zone at ``secs`` (``timezone_offset``)."""
    try:
        return _time.localtime(secs).tm_gmtoff
    except (OverflowError, OSError, ValueError):
        return 0


@builtin("time", 0)
def _time_fn(ctx):
    """time() -> the current time as integer seconds since the epoch."""
    return int(_now(ctx))


@builtin("currentTime", 0)
def _current_time(ctx):
    """currentTime() -> the current time as an abstime in the local zone."""
    secs = int(_now(ctx))
    return AbsTime(secs, local_offset(secs))


@builtin("timeZoneOffset", 0)
def _tz_offset(ctx):
    """timeZoneOffset() -> the local zone's offset from UTC as a reltime."""
    return RelTime(float(local_offset(int(_now(ctx)))))


@builtin("dayTime", 0)
def _day_time(ctx):
    """dayTime() -> seconds since local midnight, as a reltime."""
    tm = _time.localtime(int(_now(ctx)))
    return RelTime(float(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec))


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cmod(a: int, b: int) -> int:
    return a - _cdiv(a, b) * b


_ABS_FIELDS = {
    "getyear": lambda tm: tm.tm_year, "getmonth": lambda tm: tm.tm_mon,
    "getdayofyear": lambda tm: tm.tm_yday - 1, "getdayofmonth": lambda tm: tm.tm_mday,
    "getdayofweek": lambda tm: (tm.tm_wday + 1) % 7, "gethours": lambda tm: tm.tm_hour,
    "getminutes": lambda tm: tm.tm_min, "getseconds": lambda tm: tm.tm_sec,
}
_REL_FIELDS = {
    "getdays": lambda r: _cdiv(r, 86400), "gethours": lambda r: _cdiv(_cmod(r, 86400), 3600),
    "getminutes": lambda r: _cdiv(_cmod(r, 3600), 60), "getseconds": lambda r: _cmod(r, 60),
}


def _field(name: str, label: str):
    def impl(ctx, t):
        if type(t) is AbsTime:
            get = _ABS_FIELDS.get(name)
            if get is None:
                return ERROR  # getDays is not meaningful for an abstime
            try:
                return get(_time.localtime(t.secs))
            except (OverflowError, OSError, ValueError):
                return ERROR  # beyond the C library's range too (glibc localtime fails)
        if type(t) is RelTime:
            get = _REL_FIELDS.get(name)
            if get is None:
                return ERROR
            return get(c_int_of_double(float(t.secs)))
        return ERROR
    impl.__doc__ = (f"{label}(t): the {label[3:]} field of abstime t (local time) or reltime t"
                    " (fnCall.cpp getField); any other argument, undefined included -> error.")
    return impl


for _label in ("getYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDayOfWeek",
               "getHours", "getMinutes", "getSeconds", "getDays"):
    builtin(_label, 1)(_field(_label.lower(), _label))


def civil(secs: int) -> tuple[int, int, int, int, int, int]:
    """UTC (year, month 1-12, day, hour, minute, second) of epoch ``secs`` for any year
    (proleptic Gregorian calendar, as glibc's gmtime computes it)."""
    days, rem = divmod(secs, 86400)
    # days -> civil date (H. Hinnant's algorithm)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d, rem // 3600, (rem // 60) % 60, rem % 60


def split_abs(secs: int, offset: int) -> dict:
    """``absTimeToClassAd``: the fields of ``secs`` shown in zone ``offset``. The year is
    computed in a C ``int`` (it wraps for absurd times, as in HTCondor); ValueError when
    even ``tm_year`` cannot hold it (glibc's gmtime fails there)."""
    y, mo, d, h, mi, sec = civil(secs + offset)
    if not -2147483648 <= y - 1900 <= 2147483647:
        raise ValueError("year out of range")
    return {"Type": "AbsoluteTime", "Year": int32(y), "Month": mo, "Day": d, "Hours": h,
            "Minutes": mi, "Seconds": sec, "Offset": offset}


def split_rel(rsecs: float) -> dict:
    """``relTimeToClassAd``: Days/Hours/Minutes/Seconds (real) of a duration; only the
    leading non-zero field carries the sign."""
    neg = rsecs < 0
    if neg:
        rsecs = -rsecs
    days = c_int_of_double(rsecs)
    hrs = _cmod(days, 86400)
    mins = _cmod(hrs, 3600)
    secs = _cmod(mins, 60) + (rsecs - math.floor(rsecs))
    days = _cdiv(days, 86400)
    hrs = _cdiv(hrs, 3600)
    mins = _cdiv(mins, 60)
    if neg:
        if days > 0:
            days = -days
        elif hrs > 0:
            hrs = -hrs
        elif mins > 0:
            mins = -mins
        else:
            secs = -secs
    return {"Type": "RelativeTime", "Days": days, "Hours": hrs, "Minutes": mins,
            "Seconds": float(secs)}


def _do_split(t):
    """``doSplitTime`` for a non-record value: a dict, or None when t has no time meaning."""
    ty = type(t)
    if ty is int:
        try:
            return split_abs(t, local_offset(t))
        except (OverflowError, OSError, ValueError):
            return None
    if ty is float:
        secs = c_int_of_double(t)
        return split_abs(secs, local_offset(secs))
    if ty is AbsTime:
        try:
            return split_abs(t.secs, t.offset)
        except (OverflowError, OSError, ValueError):
            return None
    if ty is RelTime:
        return split_rel(float(t.secs))
    return None


@builtin("splitTime", 1)
def _split_time(ctx, t):
    """splitTime(t) -> record of t's fields: abstime / int / real seconds give
    Type="AbsoluteTime", Year, Month, Day, Hours, Minutes, Seconds, Offset; reltime gives
    Type="RelativeTime", Days, Hours, Minutes, Seconds. Undefined -> undefined; others error."""
    if t is UNDEFINED:
        return UNDEFINED
    d = _do_split(t)
    return ERROR if d is None else d


# --------------------------------------------------------------------------------------
# formatTime
# --------------------------------------------------------------------------------------

class _TM(ctypes.Structure):
    _fields_ = [("tm_sec", ctypes.c_int), ("tm_min", ctypes.c_int), ("tm_hour", ctypes.c_int),
                ("tm_mday", ctypes.c_int), ("tm_mon", ctypes.c_int), ("tm_year", ctypes.c_int),
                ("tm_wday", ctypes.c_int), ("tm_yday", ctypes.c_int),
                ("tm_isdst", ctypes.c_int), ("tm_gmtoff", ctypes.c_long),
                ("tm_zone", ctypes.c_char_p)]


def _load_strftime():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        fn = libc.strftime
        fn.restype = ctypes.c_size_t
        fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                       ctypes.POINTER(_TM)]
        return fn
    except (OSError, AttributeError):
        return None


_strftime = _load_strftime()


def _is_leap(y: int) -> bool:
    return _cmod(y, 4) == 0 and _cmod(y, 400) not in (100, 200, 300)


def _fixed_from_gregorian(y: int, m: int, d: int) -> int:
    """util.cpp ``fixed_from_gregorian`` in C ``int`` arithmetic (wrapping)."""
    y1 = int32(y - 1)
    adj = 0 if m <= 2 else (-1 if _is_leap(y) else -2)
    return int32(365 * y1 + _cdiv(y1, 4) - _cdiv(y1, 100) + _cdiv(y1, 400)
                 + _cdiv(int32(367 * m - 362), 12) + adj + d)


def c_strftime(fmt: bytes, sec: int, minute: int, hour: int, mday: int, mon: int,
               year: int) -> bytes:
    """C ``strftime`` of the given broken-down time (``mon`` 0-11, ``year`` since 1900)
    with weekday / yearday computed like HTCondor's ``day_numbers`` (util.cpp)."""
    sec, minute, hour, mday, mon, year = (int32(x) for x in (sec, minute, hour, mday, mon,
                                                             year))
    fixed = _fixed_from_gregorian(int32(year + 1900), mon + 1, mday)
    wday = _cmod(fixed, 7)
    yday = int32(fixed - _fixed_from_gregorian(int32(year + 1900), 1, 1))
    if _strftime is not None:
        tm = _TM(sec, minute, hour, mday, mon, year, wday, yday, 0, 0, None)
        buf = ctypes.create_string_buffer(1024)
        n = _strftime(buf, 1023, fmt, ctypes.byref(tm))
        return buf.raw[:n]
    try:  # fallback: Python's strftime (normalises some out-of-range fields)
        return _time.strftime(fmt.decode("utf-8", "surrogateescape"),
                              (year + 1900, mon + 1, mday, hour, minute, sec,
                               (wday + 6) % 7, yday + 1, 0)).encode("utf-8", "surrogateescape")
    except (ValueError, OverflowError):
        return b""


def _record_int(ad, name: str):
    """An integer attribute of a record argument to formatTime (None when it is missing
    or not an integer, as ``EvaluateAttrInt`` fails)."""
    for meth in ("eval", "evaluate"):
        fn = getattr(ad, meth, None)
        if fn is not None:
            try:
                v = fn(name)
            except Exception:  # missing attribute, evaluation failure
                return None
            return int32(v) if type(v) is int else None
    return None


@builtin("formatTime", 0, 2)
def _format_time(ctx, t=None, fmt=None):
    """formatTime([t[, format]]) -> t (abstime, epoch seconds or a splitTime record;
    default now) formatted with C strftime (default ``%c``); t's own zone offset is used.
    Reltime / other t or a non-string format -> error."""
    if t is None:
        now = int(_now(ctx))
        tm = _time.localtime(now)
        return from_bytes(c_strftime(b"%c", tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday,
                                     tm.tm_mon - 1, tm.tm_year - 1900))
    if type(t) is RelTime:
        return ERROR
    if type(t) in (int, float, AbsTime):
        d = _do_split(t)
        if d is None:
            return ERROR
        get = d.get
    elif t is UNDEFINED or t is ERROR or type(t) in (bool, str) or type(t).__name__ == "ListValue":
        return ERROR
    else:
        def get(name, ad=t):
            return _record_int(ad, name)
    if fmt is None:
        fmt = "%c"
    elif type(fmt) is not str:
        return ERROR

    def field(name):
        v = get(name)
        return v if type(v) is int else None
    month = field("Month")
    year = field("Year")
    return from_bytes(c_strftime(to_bytes(fmt), field("Seconds") or 0, field("Minutes") or 0,
                                 field("Hours") or 0, field("Day") or 0,
                                 month - 1 if month is not None else 0,
                                 int32(year - 1900) if year is not None else 0))


@builtin("interval", 1)
def _interval(ctx, v):
    """interval(seconds) -> "[-]D+HH:MM:SS" with leading zero fields dropped
    ("1+01:01:01", "1:01:40", "59:59", "5"). Seconds are converted like int(), then to a
    C int (32-bit)."""
    i = int_of(v)
    if type(i) is not int:
        return ERROR
    tot = int32(i)
    days = _cdiv(tot, 86400)
    tot = _cmod(tot, 86400)
    hours = _cdiv(tot, 3600)
    tot = _cmod(tot, 3600)
    mins = _cdiv(tot, 60)
    secs = _cmod(tot, 60)
    if days:
        return "%d+%02d:%02d:%02d" % (days, abs(hours), abs(mins), abs(secs))
    if hours:
        return "%d:%02d:%02d" % (hours, abs(mins), abs(secs))
    if mins:
        return "%d:%02d" % (mins, abs(secs))
    return "%d" % secs
