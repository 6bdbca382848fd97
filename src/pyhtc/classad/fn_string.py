"""ClassAd built-ins: strings, version comparison and type conversion.

Semantics follow HTCondor's ``src/classad/fnCall.cpp`` (``strCat``, ``changeCase``,
``subString``, ``compareString``, ``compareVersion``, ``versionInRange``, ``convInt``,
``convReal``, ``convString``, ``convBool``, ``stringListsIntersect``), the value conversions
of ``src/classad/value.cpp`` (``convertValueTo{Real,Integer,String}Value``) and the
"natural" compare of ``src/classad/natural_cmp.cpp``. ClassAd strings are byte strings:
every byte-level operation goes through :func:`pyhtc.classad.values.to_bytes`.

The conversion helpers here (:func:`c_strtod`, :func:`real_of`, :func:`int_of`,
:func:`string_of`, :func:`double_to_int64`, :func:`abs_time_text`, :func:`rel_time_text`)
are shared by the other ``fn_*`` modules.
"""
from __future__ import annotations

import math
import re
import time

from .functions import builtin
from .values import (ERROR, INT64_MIN, UNDEFINED, AbsTime, ListValue, RelTime,
                     from_bytes, to_bytes)

__all__ = [
    "c_strtod", "double_to_int64", "int32", "c_int_of_double", "real_of", "int_of", "string_of", "real_text",
    "abs_time_text", "rel_time_text", "natural_cmp", "c_isspace", "string_list_tokens",
]

# --------------------------------------------------------------------------------------
# C library emulation helpers
# --------------------------------------------------------------------------------------

#: C ``isspace`` in the "C" locale.
_C_SPACE = b" \t\n\v\f\r"


def c_isspace(byte: int) -> bool:
    """C ``isspace()`` (C locale) for one byte value."""
    return byte in (32, 9, 10, 11, 12, 13)


_DEC_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_RE = re.compile(rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))"
                     rb"(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf(?:inity)?)", re.I)
_NAN_RE = re.compile(rb"([+-]?)nan(?:\([0-9A-Za-z_]*\))?", re.I)
_ZEROX_RE = re.compile(rb"[+-]?0[xX]")


def c_strtod(data: bytes) -> tuple[float, int]:
    """C ``strtod(3)`` on ``data``: ``(value, bytes consumed)``; consumed 0 = no conversion.

    Accepts leading C whitespace, a sign, decimal and hexadecimal floats, ``inf``,
    ``infinity`` and ``nan[(chars)]`` (case-insensitive), as glibc does.
    """
    i = 0
    n = len(data)
    while i < n and c_isspace(data[i]):
        i += 1
    m = _HEX_RE.match(data, i)
    if m:
        sign, mant, exp = m.group(1), m.group(2), m.group(3)
        text = mant.decode()
        if "." in text:
            whole, frac = text.split(".", 1)
        else:
            whole, frac = text, ""
        value = int(whole or "0", 16) if whole else 0
        if frac:
            value = value + int(frac, 16) / (16 ** len(frac))
        e = int(exp) if exp is not None else 0
        try:
            value = math.ldexp(float(value), e) if frac else _ldexp_int(value, e)
        except OverflowError:
            value = math.inf
        return (-value if sign == b"-" else value), m.end()
    if _ZEROX_RE.match(data, i):
        # "0x" with no hex digits: strtod consumes just the "0"
        neg = data[i:i + 1] == b"-"
        start = i + (1 if data[i:i + 1] in (b"+", b"-") else 0)
        return (-0.0 if neg else 0.0), start + 1
    m = _DEC_RE.match(data, i)
    if m:
        return float(m.group(0)), m.end()
    m = _INF_RE.match(data, i)
    if m:
        return (-math.inf if m.group(1) == b"-" else math.inf), m.end()
    m = _NAN_RE.match(data, i)
    if m:
        return math.nan, m.end()
    return 0.0, 0


def _ldexp_int(mantissa: int, exp: int) -> float:
    """``mantissa * 2**exp`` correctly rounded (mantissa a non-negative int)."""
    if exp >= 0:
        return float(mantissa << exp)
    from fractions import Fraction
    return float(Fraction(mantissa, 1 << -exp))


def double_to_int64(x: float) -> int:
    """C ``(long long) x`` on x86-64: truncation; NaN or out of range gives INT64_MIN."""
    if x != x or x >= 9223372036854775808.0 or x < -9223372036854775808.0:
        return INT64_MIN
    return int(x)


def int32(x: int) -> int:
    """C conversion of an int64 to ``int`` (keep the low 32 bits, two's complement)."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


# --------------------------------------------------------------------------------------
# Value conversions (src/classad/value.cpp)
# --------------------------------------------------------------------------------------

def real_of(v):
    """``convertValueToRealValue``: float, or UNDEFINED / ERROR when it cannot convert."""
    t = type(v)
    if t is float:
        return v
    if t is bool:
        return 1.0 if v else 0.0
    if t is int:
        return float(v)
    if t is str:
        value, used = c_strtod(to_bytes(v))
        if used == 0 and value == 0.0:
            return ERROR
        return value
    if t is AbsTime:
        return float(v.secs)
    if t is RelTime:
        return float(_rel_int(v))
    if v is UNDEFINED:
        return UNDEFINED
    return ERROR


def int_of(v):
    """``convertValueToIntegerValue``: int, or UNDEFINED / ERROR when it cannot convert.

    Strings are read with ``strtod`` and truncated (``"17abc"`` -> 17, ``"2.5"`` -> 2,
    ``"0x10"`` -> 16); reals are truncated toward zero (out of range -> INT64_MIN).
    """
    t = type(v)
    if t is int:
        return v
    if t is bool:
        return 1 if v else 0
    if t is float:
        return double_to_int64(v)
    if t is str:
        value, used = c_strtod(to_bytes(v))
        ival = double_to_int64(value)
        if used == 0 and ival == 0:
            return ERROR
        return ival
    if t is AbsTime:
        return v.secs
    if t is RelTime:
        return _rel_int(v)
    if v is UNDEFINED:
        return UNDEFINED
    return ERROR


def c_int_of_double(x: float) -> int:
    """C ``(int) x`` on x86-64: truncation; NaN or outside the int range -> INT_MIN."""
    if x != x or x >= 2147483648.0 or x <= -2147483649.0:
        return -2147483648
    return int(x)


def _rel_int(v: RelTime) -> int:
    """A reltime read as ``time_t`` the way HTCondor does it (``Value::IsRelativeTimeValue
    (time_t&)`` casts the stored double through C ``int``)."""
    return c_int_of_double(float(v.secs))


def real_text(x: float) -> str:
    """A real as the ClassAd unparser writes it (``%1.15E``; ``0.0``; ``real("INF")``)."""
    if x != x:
        return 'real("NaN")'
    if x == math.inf:
        return 'real("INF")'
    if x == -math.inf:
        return 'real("-INF")'
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    return "%1.15E" % x


def abs_time_text(t: AbsTime) -> str:
    """``absTimeToString`` (src/classad/util.cpp): ``YYYY-MM-DDThh:mm:ss+hh:mm``.

    A zero offset is shown as ``-00:00`` (the C++ code only uses ``+`` for offsets > 0).
    """
    secs = t.secs + t.offset
    tm = time.gmtime(secs)
    off = t.offset
    sign = "+" if off > 0 else "-"
    off = abs(off)
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        sign, off // 3600, (off // 60) % 60)


def _g2(x: float) -> str:
    """C ``%02g``."""
    s = "%g" % x
    return s if len(s) >= 2 else "0" + s


def rel_time_text(secs: float) -> str:
    """``relTimeToString`` (src/classad/util.cpp): ``[-][D+]HH:MM:SS`` with leading zero
    fields dropped (``"01:00:00"``, ``"1+01:01:01"``, ``"01"``)."""
    out = ""
    if secs < 0:
        out = "-"
        secs = -secs
    frac = secs - math.floor(secs)
    days = int(secs)
    hrs = days % 86400
    mins = hrs % 3600
    s = (mins % 60) + frac
    days //= 86400
    hrs //= 3600
    mins //= 60
    sec_txt = "%02d" % int(s) if frac == 0 else _g2(s)
    if days:
        return out + "%d+%02d:%02d:%s" % (days, hrs, mins, sec_txt)
    if hrs:
        return out + "%02d:%02d:%s" % (hrs, mins, sec_txt)
    if mins:
        return out + "%02d:%s" % (mins, sec_txt)
    return out + sec_txt


def string_of(v):
    """``convertValueToStringValue``: str, or UNDEFINED / ERROR.

    Strings pass through; numbers, booleans, lists and records are unparsed (new syntax);
    abstimes / reltimes use their bare text (``2024-03-01T12:00:00-00:00``, ``01:00:00``).
    """
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return real_text(v)
    if t is AbsTime:
        return abs_time_text(v)
    if t is RelTime:
        return rel_time_text(float(_rel_int(v)))
    if v is UNDEFINED:
        return UNDEFINED
    if v is ERROR:
        return ERROR
    from .unparse import unparse_value  # written by the evaluator side; imported lazily
    return unparse_value(v)


# --------------------------------------------------------------------------------------
# strcat / join / toUpper / toLower / substr
# --------------------------------------------------------------------------------------

@builtin("strcat", 0, None)
def _strcat(ctx, *args):
    """strcat(...): concatenation of the arguments converted to strings (fnCall.cpp strCat).
    An undefined argument makes the result undefined; an error one makes it error."""
    return _concat(args, is_join=False)


@builtin("join", 0, None)
def _join(ctx, *args):
    """join(sep, list) / join(list) / join(sep, a, b, ...) (fnCall.cpp strCat).
    Undefined items are skipped; the result is undefined only if nothing was defined."""
    n = len(args)
    if 0 < n <= 2 and type(args[-1]) is ListValue:
        items = args[-1].values()
        args = ((args[0] if n == 2 else ""), *items)
    return _concat(args, is_join=True)


def _concat(args, is_join: bool):
    parts = []
    size = 0  # bytes so far: join only puts a separator after a non-empty prefix
    sep = ""
    undef = False
    defined = False
    for i, v in enumerate(args):
        s = string_of(v)
        if s is UNDEFINED:
            undef = True
            if is_join:
                continue
            defined = False
            break
        if s is ERROR:
            return ERROR
        if is_join:
            if i == 0:
                sep = s
                continue
            if size:
                parts.append(sep)
                size += len(sep)
        defined = True
        parts.append(s)
        size += len(s)
    if undef and not defined:
        return UNDEFINED
    return "".join(parts)


_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _change_case(v, table):
    s = string_of(v)
    if s is UNDEFINED or s is ERROR:
        return s
    return from_bytes(to_bytes(s).translate(table))


@builtin("toUpper", 1)
def _toupper(ctx, v):
    """toUpper(x): x converted to a string, ASCII letters upper-cased (fnCall.cpp changeCase)."""
    return _change_case(v, _UPPER)


@builtin("toLower", 1)
def _tolower(ctx, v):
    """toLower(x): x converted to a string, ASCII letters lower-cased (fnCall.cpp changeCase)."""
    return _change_case(v, _LOWER)


@builtin("substr", 2, 3)
def _substr(ctx, s, offset, length=None):
    """substr(s, offset[, length]), byte based, perl-like (fnCall.cpp subString).

    Negative offset counts from the end; length <= 0 drops that many bytes from the end.
    Any undefined argument -> undefined; non-string s or non-integer offset/length -> error.
    Offsets are C ``int`` (32-bit), as in HTCondor.
    """
    if s is UNDEFINED or offset is UNDEFINED or length is UNDEFINED:
        return UNDEFINED
    if type(s) is not str or type(offset) is not int or (
            length is not None and type(length) is not int):
        return ERROR
    data = to_bytes(s)
    alen = len(data)
    off = int32(offset)
    ln = int32(length) if length is not None else 0
    if off < 0:
        off = max(alen + off, 0)
    elif off >= alen:
        off = alen
    if ln <= 0:
        ln = max(alen - off + ln, 0)
    elif ln > alen - off:
        ln = alen - off
    if length is not None and int32(length) == 0:
        ln = 0
    return from_bytes(data[off:off + ln])


# --------------------------------------------------------------------------------------
# strcmp / stricmp / versions
# --------------------------------------------------------------------------------------

def _two_strings(a, b):
    """Both arguments as bytes, or the UNDEFINED / ERROR result (compareString rules)."""
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    sa = string_of(a)
    sb = string_of(b)
    if type(sa) is not str or type(sb) is not str:
        return ERROR
    return to_bytes(sa), to_bytes(sb)


def _sign(x) -> int:
    return (x > 0) - (x < 0)


@builtin("strcmp", 2)
def _strcmp(ctx, a, b):
    """strcmp(a, b) -> -1/0/1, byte-wise, after converting both to strings."""
    r = _two_strings(a, b)
    if type(r) is not tuple:
        return r
    return _sign((r[0] > r[1]) - (r[0] < r[1]))


@builtin("stricmp", 2)
def _stricmp(ctx, a, b):
    """stricmp(a, b) -> -1/0/1, ASCII case-insensitive (C strcasecmp)."""
    r = _two_strings(a, b)
    if type(r) is not tuple:
        return r
    x, y = r[0].translate(_LOWER), r[1].translate(_LOWER)
    return (x > y) - (x < y)


def _schar(c: int) -> int:
    """A byte as C (signed) ``char``."""
    return c - 256 if c >= 128 else c


def natural_cmp(s1: bytes, s2: bytes) -> int:
    """HTCondor's ``natural_cmp`` (src/classad/natural_cmp.cpp; strverscmp-like).

    Returns a signed int whose magnitude matches the C function (differences of signed
    chars or of digit-run lengths), not just its sign.
    """
    a = s1 + b"\0"
    b = s2 + b"\0"
    i = 0
    while a[i] and a[i] == b[i]:
        i += 1
    if a[i] == b[i]:
        return 0
    isd = lambda c: 48 <= c <= 57  # noqa: E731
    n_beg = i
    while n_beg > 0 and isd(a[n_beg - 1]):
        n_beg -= 1
    if n_beg == i and (not isd(a[i]) or not isd(b[i])):
        return _schar(a[i]) - _schar(b[i])
    z1 = n_beg
    while a[z1] == 48:
        z1 += 1
    z2 = n_beg
    while b[z2] == 48:
        z2 += 1
    if z1 > n_beg and not isd(a[z1]):
        z1 -= 1
    if z2 > n_beg and not isd(b[z2]):
        z2 -= 1
    if z1 - n_beg != z2 - n_beg:
        return (z2 - n_beg) - (z1 - n_beg)
    if z1 > n_beg:
        return _schar(a[i]) - _schar(b[i])
    e1 = z1
    while isd(a[e1]):
        e1 += 1
    e2 = z2
    while isd(b[e2]):
        e2 += 1
    if e1 - n_beg != e2 - n_beg:
        return (e1 - n_beg) - (e2 - n_beg)
    return _schar(a[i]) - _schar(b[i])


def _version_args(a, b):
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    sa, sb = string_of(a), string_of(b)
    if type(sa) is not str or type(sb) is not str:
        return ERROR
    return natural_cmp(to_bytes(sa), to_bytes(sb))


@builtin("versioncmp", 2)
def _versioncmp(ctx, a, b):
    """versioncmp(a, b): natural (version-aware) compare; the raw C result (e.g. -49)."""
    return _version_args(a, b)


def _version_pred(test):
    def impl(ctx, a, b):
        r = _version_args(a, b)
        return r if type(r) is not int else test(r)
    return impl


for _name, _test in (("versionLT", lambda r: r < 0), ("versionLE", lambda r: r <= 0),
                     ("versionGT", lambda r: r > 0), ("versionGE", lambda r: r >= 0),
                     ("versionEQ", lambda r: r == 0)):
    builtin(_name, 2)(_version_pred(_test))


@builtin("version_in_range", 3)
def _version_in_range(ctx, v, lo, hi):
    """version_in_range(v, lo, hi): lo <= v <= hi under natural_cmp.
    Undefined lo or hi -> undefined; anything not convertible to a string -> error."""
    if lo is UNDEFINED or hi is UNDEFINED:
        return UNDEFINED
    sv, sl, sh = string_of(v), string_of(lo), string_of(hi)
    if type(sv) is not str or type(sl) is not str or type(sh) is not str:
        return ERROR
    bv = to_bytes(sv)
    return natural_cmp(to_bytes(sl), bv) <= 0 and natural_cmp(bv, to_bytes(sh)) <= 0


# --------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------

@builtin("int", 1)
def _int(ctx, v):
    """int(x): integer conversion (value.cpp convertValueToIntegerValue)."""
    return int_of(v)


@builtin("real", 1)
def _real(ctx, v):
    """real(x): real conversion (value.cpp convertValueToRealValue); "INF", "nan" accepted."""
    return real_of(v)


@builtin("string", 1)
def _string(ctx, v):
    """string(x): string conversion (value.cpp convertValueToStringValue)."""
    return string_of(v)


@builtin("bool", 1)
def _bool(ctx, v):
    """bool(x) (fnCall.cpp convBool): numbers non-zero; strings "true"/"false"
    (case-insensitive) else undefined; lists, records, abstimes -> error."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if t is str:
        low = to_bytes(v).translate(_LOWER)
        if low == b"false":
            return False
        if low == b"true":
            return True
        return UNDEFINED
    if t is RelTime:
        return _rel_int(v) != 0
    if v is UNDEFINED:
        return UNDEFINED
    return ERROR


# --------------------------------------------------------------------------------------
# stringListsIntersect (fnCall.cpp; the other string-list functions are in fn_condor)
# --------------------------------------------------------------------------------------

def string_list_tokens(s: str, delims: str | None = None, trim: bool = True) -> list[bytes]:
    """Split ``s`` like HTCondor's ``StringTokenIterator`` (STI_TRIM): runs of delimiter
    characters separate items, surrounding C whitespace is trimmed, empty items dropped.
    ``delims`` None means the default ``", \\t\\r\\n"``. Returns the items as bytes."""
    data = to_bytes(s)
    dset = set(to_bytes(delims)) if delims is not None else set(b", \t\r\n")
    out = []
    i, n = 0, len(data)
    while True:
        while i < n and (data[i] in dset or (trim and c_isspace(data[i]))):
            i += 1
        start = end = i
        while i < n and data[i] not in dset:
            if not trim or not c_isspace(data[i]):
                end = i
            i += 1
        if i <= start:
            return out
        out.append(data[start:end + 1])


def _split_plain(s: str, delims: str) -> list[bytes]:
    """``split_string_list`` of fnCall.cpp: items between delimiter characters, no
    trimming, empty items dropped; empty ``delims`` means ``" ,"``."""
    d = to_bytes(delims) or b" ,"
    data = to_bytes(s)
    out = []
    cur = bytearray()
    for c in data:
        if c in d:
            if cur:
                out.append(bytes(cur))
                cur = bytearray()
        else:
            cur.append(c)
    if cur:
        out.append(bytes(cur))
    return out


@builtin("stringListsIntersect", 2, 3)
def _string_lists_intersect(ctx, a, b, delims=None):
    """stringListsIntersect(a, b[, delims]): whether the two string lists share an item
    (case-sensitive; default delimiters " ,"). Error/undefined arguments propagate."""
    args = (a, b) if delims is None else (a, b, delims)
    if any(x is ERROR for x in args):
        return ERROR
    if any(x is UNDEFINED for x in args):
        return UNDEFINED
    if delims is not None and type(delims) is not str:
        return ERROR
    if type(a) is not str or type(b) is not str:
        return ERROR
    d = delims if delims is not None else ""
    right = set(_split_plain(b, d))
    return any(item in right for item in _split_plain(a, d))
