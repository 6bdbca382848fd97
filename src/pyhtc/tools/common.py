"""Shared machinery of the condor_* query tools (condor_status, condor_ping, later condor_q).

Three pieces, each following the HTCondor source named:

* Option matching -- HTCondor's single-dash long options with prefix abbreviation
  (src/condor_utils/match_prefix.cpp ``is_dash_arg_prefix``/``is_dash_arg_colon_prefix``):
  ``-const`` matches ``constraint`` when at least the minimum number of characters match;
  a leading ``--`` demands the whole word; matching is case-sensitive.
* The print-format engine -- a column table built from print-format lines
  (``expr [AS label] [WIDTH [-]N|AUTO] [PRINTF fmt] [PRINTAS fn] [OR c] [TRUNCATE] [FIT]
  [NOPREFIX] [NOSUFFIX] [LEFT|RIGHT]``; src/condor_utils/make_printmask.cpp) rendered and
  displayed as src/condor_utils/ad_printmask.cpp ``AttrListPrintMask::render``/``display``
  do it: rows are rendered first (AUTO widths grow to the widest value), then headings and
  rows are printed.  ``-af``/``-autoformat[:lhtjrV,ng]`` and ``-format FMT EXPR`` build
  the same kind of mask (``parse_autoformat_args``).
* Whole-ad output -- ``-long`` (old syntax, attributes sorted case-insensitively, a blank
  line after each ad; src/condor_status.V6/prettyPrint.cpp ``printVerbose``) and ``-json``
  (``[`` + each ad as src/classad/jsonSink.cpp prints it, joined by ``,`` + ``]``).
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from typing import Iterable, Optional

from pyhtc import classad as C
from pyhtc.classad.classad import evaluate_node
from pyhtc.classad.errors import ClassAdException
from pyhtc.classad.nodes import AttrRef
from pyhtc.classad.parser import parse_expr
from pyhtc.classad.printing import _Json
from pyhtc.classad.unparse import quote_name, unparse_node, unparse_value
from pyhtc.classad.values import ERROR, AbsTime, RelTime

__all__ = [
    "UsageError", "is_dash_arg_prefix", "is_dash_arg_colon_prefix", "Column", "PrintMask",
    "parse_format_line", "parse_print_format", "load_print_format", "PrintFormat",
    "autoformat_mask", "format_printf",
    "format_time", "format_long", "format_json", "value_text", "parse_constraint",
    "print_wrapped_text", "PRIVATE_ATTRS", "natural_cmp", "natural_key",
]


class UsageError(Exception):
    """A command-line error; the message is printed to stderr and the tool exits 1."""


# --------------------------------------------------------------------------- options

def is_dash_arg_prefix(arg: str, word: str, min_len: int = 0) -> bool:
    """True when ``arg`` (``-xyz`` or ``--xyz``) abbreviates option ``word``.

    ``-`` + at least ``min_len`` leading characters of ``word`` match (all of ``arg`` must
    be a prefix of ``word``); ``--`` requires the complete word; ``min_len < 0`` always
    requires the complete word (src/condor_utils/match_prefix.cpp)."""
    return is_dash_arg_colon_prefix(arg, word, min_len, colon=False)[0]


def is_dash_arg_colon_prefix(arg: str, word: str, min_len: int = 0,
                             colon: bool = True) -> tuple[bool, Optional[str]]:
    """Like :func:`is_dash_arg_prefix`, but ``-word:opts`` also matches; returns
    ``(matched, opts)`` where ``opts`` is the text after the colon (or None)."""
    if not arg.startswith("-"):
        return False, None
    body = arg[1:]
    if body.startswith("-"):
        body, min_len = body[1:], -1
    opts = None
    if colon and ":" in body:
        body, opts = body.split(":", 1)
    if not body or not word.startswith(body):
        return False, None
    if min_len < 0:
        return body == word, opts
    return len(body) >= min_len, opts


# --------------------------------------------------------------------------- sorting

def _schar(b: int) -> int:
    return b - 256 if b >= 128 else b     # C's (signed) char on x86


def natural_cmp(a: str, b: str) -> int:
    """strverscmp-like compare (src/classad/natural_cmp.cpp): digit runs compare as numbers
    (``slot2`` < ``slot10``), more leading zeros sort first.  Returns <0, 0 or >0."""
    s1, s2 = a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
    n, m = len(s1), len(s2)

    def at(s, i):
        return s[i] if i < len(s) else 0

    def isdigit(c):
        return 48 <= c <= 57
    i = 0
    while i < n and i < m and s1[i] == s2[i]:
        i += 1
    if at(s1, i) == at(s2, i):
        return 0
    nb = i
    while nb > 0 and isdigit(s1[nb - 1]):
        nb -= 1
    c1, c2 = at(s1, i), at(s2, i)
    if nb == i and (not isdigit(c1) or not isdigit(c2)):
        return _schar(c1) - _schar(c2)
    z1 = nb
    while at(s1, z1) == 48:
        z1 += 1
    z2 = nb
    while at(s2, z2) == 48:
        z2 += 1
    if z1 > nb and not isdigit(at(s1, z1)):
        z1 -= 1
    if z2 > nb and not isdigit(at(s2, z2)):
        z2 -= 1
    if z1 - nb != z2 - nb:
        return (z2 - nb) - (z1 - nb)
    if z1 > nb:
        return _schar(c1) - _schar(c2)
    e1 = z1
    while isdigit(at(s1, e1)):
        e1 += 1
    e2 = z2
    while isdigit(at(s2, e2)):
        e2 += 1
    if e1 - nb != e2 - nb:
        return (e1 - nb) - (e2 - nb)
    return _schar(c1) - _schar(c2)


natural_key = functools.cmp_to_key(natural_cmp)


# --------------------------------------------------------------------------- values

def value_text(v, cap_v: bool = False) -> str:
    """Text of a ClassAd value as ``%v`` prints it: strings unquoted (``%V``: quoted),
    everything else in old-ClassAd syntax (``undefined``, ``error``, ``true``, ``{ 1,2 }``)."""
    if type(v) is str and not cap_v:
        return v
    return unparse_value(v, True)


def format_time(secs) -> str:
    """Seconds as ``ddd+hh:mm:ss`` with the day count right-aligned in 3 characters
    (src/condor_utils/format_time.cpp ``format_time``)."""
    secs = int(secs)
    days, secs = divmod(secs, 86400) if secs >= 0 else (-(-secs // 86400), -(-secs % 86400))
    h, secs = divmod(secs, 3600)
    m, s = divmod(secs, 60)
    return "%3d+%02d:%02d:%02d" % (days, h, m, s)


def format_date(secs) -> str:
    """Epoch seconds as local ``mm/dd HH:MM`` (src/condor_utils/format_time.cpp ``format_date``)."""
    return time.strftime("%m/%d %H:%M", time.localtime(int(secs)))


def _is_number(v) -> bool:
    # classad::Value::IsNumber: integers, reals and booleans
    return type(v) in (int, float, bool)


# printf conversions: flags, width, precision, length modifier, conversion letter
_PRINTF = re.compile(r"%([-+ #0]*)(\d+)?(?:\.(\d*))?(hh|h|ll|l|L|q|j|z|t)?([diouxXeEfFgGaAcsSpvVrRTY%])")
_KIND = {**dict.fromkeys("diouxXp", "int"), "c": "char", **dict.fromkeys("eEfFgGaA", "float"),
         "s": "string", "S": "string", "v": "value", "V": "value", "r": "raw", "R": "raw",
         "T": "time", "Y": "date"}


@dataclass
class PrintfInfo:
    """The single conversion of a printf format: ``kind`` (int/float/string/value/raw/
    time/date/char), ``letter``, ``width``, ``left``, and the (prefix, spec, suffix) text.
    ``unsafe`` when the format has no or several conversions (it is printed literally)."""
    kind: str = ""
    letter: str = ""
    width: int = 0
    left: bool = False
    prefix: str = ""
    spec: str = ""
    suffix: str = ""
    unsafe: bool = True


def expression_projection(mask: "PrintMask", always: Iterable[str] = (),
                          extra_exprs: Iterable[str] = ()) -> list[str]:
    """The attributes a tool asks a daemon for when it prints ``mask`` (condor_q's and
    condor_status's ``-af``/``-format``: queue.cpp and status.cpp add the references of every
    column expression, ``GetExprReferences``): the columns' and ``extra_exprs``' (sort keys)
    external references plus ``always``, sorted case-insensitively.  ``[]`` means whole ads:
    a column with a ``printas`` renderer may look at any attribute, and so may a column that
    does not parse."""
    if any(col.printas for col in mask.columns):
        return []
    names = {a.lower(): a for a in always}
    probe = C.ClassAd()
    for text in [col.expr for col in mask.columns] + list(extra_exprs):
        try:
            refs = probe.externalRefs(C.ExprTree(text))
        except Exception:
            return []
        for ref in refs:
            scope, _, attr = ref.rpartition(".")
            name = attr if scope.lower() in ("", "my", "target") else ref.split(".", 1)[0]
            names.setdefault(name.lower(), name)
    return sorted(names.values(), key=str.lower)


@functools.lru_cache(maxsize=512)
def parse_printf(fmt: str) -> PrintfInfo:
    """Find the one conversion of ``fmt`` (src/condor_utils/printf_format.cpp).  The result
    is cached and shared: do not modify it."""
    info = PrintfInfo()
    convs = [m for m in _PRINTF.finditer(fmt) if m.group(5) != "%"]
    if len(convs) != 1:
        return info
    m = convs[0]
    info.kind, info.letter = _KIND[m.group(5)], m.group(5)
    info.width = int(m.group(2) or 0)
    info.left = "-" in m.group(1)
    info.prefix, info.suffix = fmt[:m.start()], fmt[m.end():]
    info.spec = "%" + m.group(1) + (m.group(2) or "") + ("." + m.group(3) if m.group(3) is not None else "")
    info.unsafe = False
    return info


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
            "\\": "\\", "'": "'", '"': '"', "?": "?"}
_ESC = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)")


def collapse_escapes(text: str) -> str:
    """C escapes (``\\n``, ``\\t``, ``\\\\``, octal, ``\\xHH``) replaced by the characters
    they stand for, as src/condor_utils/stl_string_utils.cpp ``collapse_escapes`` does
    for -format strings; an unknown escape keeps its backslash."""
    def one(m):
        e = m.group(1)
        if e in _ESCAPES:
            return _ESCAPES[e]
        if e[0] == "x" and len(e) > 1:
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8) & 0xFF)
        return "\\" + e
    return _ESC.sub(one, text)


def _pct(text: str) -> str:
    return text.replace("%%", "%")


def format_printf(fmt: str, v) -> str:
    """``fmt`` applied to ClassAd value ``v`` as HTCondor's ``formatstr`` does in
    ``-format``: ``%d`` etc. take numbers, ``%f`` reals, ``%s`` strings, ``%v`` any value
    (strings unquoted), ``%V`` any value unparsed, ``%T`` a duration, ``%Y`` a date."""
    info = parse_printf(fmt)
    if info.unsafe:
        return _pct(fmt)
    spec = info.spec
    if info.kind == "int":
        body = (spec + info.letter.replace("p", "x").replace("u", "d")) % int(_num(v))
    elif info.kind == "char":
        body = (spec + "c") % chr(int(_num(v)) & 0xFF)
    elif info.kind == "float":
        body = (spec + info.letter.replace("a", "e").replace("A", "E")) % float(_num(v))
    elif info.kind == "time":
        body = format_time(_num(v))
    elif info.kind == "date":
        body = format_date(_num(v) if not isinstance(v, AbsTime) else v.secs)
    elif info.kind == "string":
        body = (spec + "s") % (v if type(v) is str else "")
    else:   # value / raw (raw text was produced by the caller)
        body = (spec + "s") % value_text(v, info.letter == "V")
    return _pct(info.prefix) + body + _pct(info.suffix)


def _num(v):
    if type(v) is bool:
        return int(v)
    if isinstance(v, RelTime):
        return v.secs
    return v if _is_number(v) else 0


def eval_text(text: str, ad: C.ClassAd, target: Optional[C.ClassAd] = None):
    """The ClassAd value of expression ``text`` evaluated in ``ad`` (ERROR when it cannot be
    evaluated). Raises ClassAdParseError for text that is not an expression."""
    node = parse_expr(text)
    try:
        return evaluate_node(node, ad, target)
    except ClassAdException:
        return ERROR


def parse_constraint(text: str) -> None:
    """Raise ClassAdParseError when ``text`` is not a ClassAd expression."""
    parse_expr(text)


# --------------------------------------------------------------------------- custom renderers
# Each PRINTAS function (src/condor_utils/print_format_tables.cpp) is (kind, printf, fn):
#   kind "render": fn(value, ad) -> (valid, new value); then displayed with printf
#   kind "format": fn(value) -> text, called only for valid values; value must be of `need`.

def _activity_or_ocu(v, ad):
    act = v if type(v) is str else ""
    if not act:
        return True, "??"
    if ad.get("OCU") is True and act == "Idle":
        return True, "OCU"
    return True, act


def _now_of(ad):
    for attr in ("MyCurrentTime", "LastHeardFrom"):
        t = ad.get(attr)
        if type(t) is int:
            return t
    return None


def _activity_time(v, ad):
    now = _now_of(ad)
    if now is None:
        return False, v
    return True, max(0, now - int(_num(v)))


def _elapsed_time(v, ad):
    now = ad.get("LastHeardFrom")
    if type(now) is not int:
        return False, v
    return True, now - int(_num(v))


def _version(v, ad, width=0, auto=False):
    if type(v) is not str or not v:
        return False, v
    words = v.split()
    ver = words[1] if len(words) > 1 else ""
    rest = words[2:]
    if rest and re.match(r"\d{4}-\d\d-\d\d$", rest[0]):
        rest = rest[1:]
    else:
        rest = rest[3:]
    if rest and rest[0].startswith("B"):
        rest = rest[1:]
    no_build = not auto and -10 < width < 10
    if rest and not rest[0].startswith("$") and not no_build:
        ver += "." + re.split(r"[- ]", rest[0])[0]
    return True, ver[:21]


def metric_units(nbytes: float) -> str:
    """``%.1f`` + B/KB/MB/GB/TB, dividing by 1024 while above 1024
    (src/condor_utils/metric_units.cpp)."""
    power, value = 0, float(nbytes)
    suffix = ("B ", "KB", "MB", "GB", "TB")
    while value > 1024.0 and power < 4:
        value /= 1024.0
        power += 1
    return "%.1f %s" % (value, suffix[power])


def _readable_mb(v):
    if type(v) is int or type(v) is float:
        return metric_units(v * 1024.0 * 1024.0)
    return "        "


# State and Activity letters (src/condor_utils/print_format_tables.cpp
# digest_state_and_activity; enum order of src/condor_includes/condor_state.h)
_STATES = ["Owner", "Unclaimed", "Matched", "Claimed", "Preempting", "Shutdown", "Delete",
           "Backfill", "Drained"]
_ACTIVITIES = ["Idle", "Busy", "Retiring", "Vacating", "Suspended", "Benchmarking", "Killing",
               "Cleaning"]
STATE_LETTERS = dict(zip(_STATES, "OUMCPSXFD"))
ACTIVITY_LETTERS = dict(zip(_ACTIVITIES, "ibrvsekc"))


def state_activity_code(state: Optional[str], activity: Optional[str]) -> str:
    """Two letters for a slot's State and Activity (``Ui`` = Unclaimed/Idle, ``Cb`` =
    Claimed/Busy); a blank for an unknown one; ``*`` is used by callers for a mixture."""
    st = STATE_LETTERS.get(state, "#" if state == "#" else " ")
    ac = ACTIVITY_LETTERS.get(activity, "#" if activity == "#" else " ")
    return st + ac


def _activity_code(v, ad):
    act = v if type(v) is str else ""
    if act in ACTIVITY_LETTERS:
        st = ad.get("State")
        return True, state_activity_code(st if type(st) is str else None, act)
    if act in STATE_LETTERS:        # the input was a state: look the activity up
        ac = ad.get("Activity")
        return True, state_activity_code(act, ac if type(ac) is str else None)
    return False, "  "


def _platform(v, ad):
    # format_platform_name: Arch (X86_64 -> x64) + "/" + OpSysAndVer (OpSysShortName on Windows)
    opsys = ad.get("OpSys")
    name = ad.get("OpSysShortName" if opsys == "WINDOWS" else "OpSysAndVer")
    if type(name) is not str:
        return False, v
    arch = ad.get("Arch")
    arch = {"X86_64": "x64", "X86": "x86"}.get(arch, arch if type(arch) is str else "")
    return True, arch + "/" + name


def _slot_count_tag(v, ad):
    # status.cpp local_render_slot_count_tag
    t = v if type(v) is str else ""
    return True, "S" if t == "Static" else " " if t == "Partitionable" else t[:1]


# print_format_tables.cpp GlobalPrintFormats used by condor_status's -server/-absent/-offline


def _due_date(v, ad):
    # render_due_date: LastHeardFrom + ClassAdLifetime, shown as a date
    now = ad.get("LastHeardFrom")
    if type(now) is not int or type(v) not in (int, float):
        return False, v
    return True, now + int(v)


def _strings_from_list(v, ad):
    # render_strings_from_list: the string items of a list joined by ", "
    from pyhtc.classad.values import ListValue
    if isinstance(v, ListValue):
        v = v.values()
    if not isinstance(v, list):
        return False, v
    return True, ", ".join(x for x in v if type(x) is str)


PRINTAS = {
    "ACTIVITY_CODE": ("render", None, _activity_code, "string"),
    "PLATFORM": ("render", None, _platform, "string"),
    "SLOT_COUNT_TAG": ("render", None, _slot_count_tag, "value"),
    "DATE": ("render", "%Y", lambda v, ad: (True, v), "date"),
    "ACTIVITY_OR_OCU": ("render", None, _activity_or_ocu, "string"),
    "ACTIVITY_TIME": ("render", "%T", _activity_time, "int"),
    "ELAPSED_TIME": ("render", "%T", _elapsed_time, "int"),
    "CONDOR_VERSION": ("render", None, _version, "string"),
    "LOAD_AVG": ("format", None, lambda v: "%.3f" % float(_num(v)), "float"),
    "READABLE_MB": ("format", None, _readable_mb, "value"),
    "READABLE_KB": ("format", None, lambda v: metric_units(v * 1024.0) if _is_number(v) else "        ", "value"),
    "READABLE_BYTES": ("format", None, lambda v: metric_units(v) if _is_number(v) else "        ", "value"),
    "TIME": ("format", None, lambda v: format_time(int(_num(v))), "int"),
    "DUE_DATE": ("render", "%Y", _due_date, "date"),
    "STRINGS_FROM_LIST": ("render", None, _strings_from_list, "value"),
}


# --------------------------------------------------------------------------- columns

_ALT_CHARS = " ?*.-_#0"


@dataclass
class Column:
    """One column of a :class:`PrintMask` (HTCondor ``Formatter``).

    ``expr``: the attribute or expression; ``width``: absolute width (0: none);
    ``left``/``auto``/``truncate``/``noprefix``/``nosuffix``: layout flags;
    ``printf``: printf format or None; ``printas``: a :data:`PRINTAS` name or None;
    ``alt``: the OR character (``' '``: nothing) and ``alt_wide`` (``OR ??``: fill the width);
    ``heading``: column title or None; ``role``: a tag for tools that resize columns."""
    expr: str
    width: int = 0
    left: bool = False
    auto: bool = False
    truncate: bool = False
    noprefix: bool = False
    nosuffix: bool = False
    printf: Optional[str] = None
    printas: Optional[str] = None
    alt: str = " "
    alt_wide: bool = False
    heading: Optional[str] = None
    role: Optional[str] = None      # "name"/"machine": columns a tool may resize
    _node: object = field(default=None, repr=False)

    def __post_init__(self):
        self._node = parse_expr(self.expr)
        if self.printf is not None:
            self.printf = collapse_escapes(self.printf)
        if self.printf is not None and not self.width:
            info = parse_printf(self.printf)
            if not info.unsafe:
                self.width = info.width
                self.left = self.left or info.left

    @property
    def kind(self) -> str:
        """The value type the column wants: int/float/string/value/raw/time/date/char."""
        if self.printas:
            return PRINTAS[self.printas][3]
        if self.printf is not None:
            info = parse_printf(self.printf)
            return "none" if info.unsafe else info.kind
        return "value"

    def alt_text(self) -> str:
        """What an invalid value shows (ad_printmask.cpp ``append_alt``)."""
        ch = self.alt
        if self.alt_wide:
            n = self.width
            if not n:
                return ""
            if n < 3:
                return ch
            return "[" + "?" * (n - 2) + "]" if ch == "?" else ch * n
        return "" if ch == " " else ch


class PrintMask:
    """A list of :class:`Column` with separators (HTCondor ``AttrListPrintMask``).

    ``row_prefix``/``col_prefix``/``col_suffix``/``row_suffix`` are placed as
    ``SetAutoSep`` does: the column prefix goes before every column but the first,
    the column suffix after every column but the last."""

    def __init__(self, row_prefix: Optional[str] = None, col_prefix: Optional[str] = None,
                 col_suffix: Optional[str] = None, row_suffix: Optional[str] = None):
        self.columns: list[Column] = []
        self.row_prefix, self.col_prefix = row_prefix, col_prefix
        self.col_suffix, self.row_suffix = col_suffix, row_suffix
        self.overall_width = 0

    def set_auto_sep(self, row_prefix, col_prefix, col_suffix, row_suffix) -> None:
        """``AttrListPrintMask::SetAutoSep``."""
        self.row_prefix, self.col_prefix = row_prefix, col_prefix
        self.col_suffix, self.row_suffix = col_suffix, row_suffix

    def add(self, col: Column) -> Column:
        """Append a column."""
        self.columns.append(col)
        return col

    @property
    def has_headings(self) -> bool:
        return any(c.heading is not None for c in self.columns)

    # -- render: evaluate every column of one ad (ad_printmask.cpp render)
    def render(self, ad: C.ClassAd, target: Optional[C.ClassAd] = None) -> list:
        """A row: one ``(valid, value)`` per column; AUTO widths grow to fit."""
        row = []
        for col in self.columns:
            kind = col.kind
            if kind == "none":   # a format with no (or many) conversions prints itself
                row.append((True, col.printf))
                if col.auto:
                    col.width = max(col.width, len(col.printf))
                continue
            is_attr = col.expr in ad and isinstance(col._node, AttrRef)
            if kind == "string" and col.printas is None and is_attr:
                v = self._eval(col, ad, target)
                if type(v) is not str:
                    kind = "raw"
            if kind == "raw":
                if is_attr:
                    v = unparse_node(ad._attrs[col.expr.lower()][1], True)
                elif isinstance(col._node, AttrRef):
                    v = "undefined"
                else:
                    v = unparse_node(col._node, True)
                valid = True
            else:
                v = self._eval(col, ad, target)
                valid = True
            if col.printas and PRINTAS[col.printas][0] == "render":
                fn = PRINTAS[col.printas][2]
                if col.printas == "CONDOR_VERSION":
                    valid, v = fn(v, ad, col.width if not col.left else -col.width, col.auto)
                else:
                    valid, v = fn(v, ad)
            elif valid:
                if kind in ("int", "char", "time"):
                    valid = _is_number(v)
                    v = int(_num(v)) if valid else 0
                elif kind == "float":
                    valid = _is_number(v)
                    v = float(_num(v)) if valid else 0.0
                elif kind == "string":
                    valid = type(v) is str
                elif kind == "date":
                    valid = _is_number(v) or isinstance(v, AbsTime)
            if valid and col.auto:
                col.width = max(col.width, self._value_width(col, kind, v))
            row.append((valid, v))
        return row

    @staticmethod
    def _eval(col, ad, target):
        try:
            return evaluate_node(col._node, ad, target)
        except ClassAdException:
            return ERROR

    @staticmethod
    def _value_width(col, kind, v) -> int:
        # ad_printmask.cpp calc_column_width
        t = type(v)
        if t is str:
            return len(v)
        if t is float:
            if kind in ("float", "int", "time", "date") and col.printf:
                return len(format_printf(col.printf, v))
            return len(unparse_value(v, True))
        if t is int:
            if kind in ("float", "int", "time", "date") and col.printf:
                return len(format_printf(col.printf, v))
            return len(str(v))
        return col.width

    # -- display: one row as text (ad_printmask.cpp display)
    def display(self, row: list) -> str:
        """The text of a rendered row, row suffix included."""
        out = [self.row_prefix or ""]
        n = len(self.columns)
        for i, (col, (valid, v)) in enumerate(zip(self.columns, row)):
            if self.col_prefix and i > 0 and not col.noprefix:
                out.append(self.col_prefix)
            text = self._cell_text(col, valid, v)
            if col.auto:
                col.width = max(col.width, len(text))
            out.append(self._align(col, text))
            if self.col_suffix and i + 1 < n and not col.nosuffix:
                out.append(self.col_suffix)
        line = "".join(out)
        if self.overall_width and len(line) > self.overall_width:
            line = line[:self.overall_width]
        return line + (self.row_suffix or "")

    @staticmethod
    def _cell_text(col: Column, valid: bool, v) -> str:
        printf = col.printf
        if printf is not None and (printf == "" or printf == "%s"):
            printf = None
        if col.printas and PRINTAS[col.printas][0] == "format":
            if not valid:
                return col.alt_text()
            return PRINTAS[col.printas][2](v)
        if not valid:
            return col.alt_text()
        if printf is not None:
            info = parse_printf(printf)
            if info.unsafe:           # no single conversion: the format itself is the text
                return printf
            text = format_printf(printf, v)
            if info.kind not in ("value", "raw", "string") and col.width > len(text):
                # ad_printmask.cpp format_value right-justifies numbers in the column
                text = " " * (col.width - len(text)) + text
            return text
        return v if type(v) is str else ""

    @staticmethod
    def _align(col: Column, text: str) -> str:
        if not col.width:
            return text
        if len(text) > col.width:
            return text if not col.truncate else text[:col.width]
        pad = " " * (col.width - len(text))
        return text + pad if col.left else pad + text

    def headings(self) -> str:
        """The heading line (``display_Headings``): each title left-justified in its width."""
        out = [self.row_prefix or ""]
        n = len(self.columns)
        for i, col in enumerate(self.columns):
            head = col.heading or ""
            if i and self.col_prefix and not col.noprefix:
                out.append(self.col_prefix)
            out.append(head.ljust(col.width) if col.width else head)
            if self.col_suffix and i + 1 < n and not col.nosuffix:
                out.append(self.col_suffix)
        line = "".join(out)
        if self.overall_width and len(line) > self.overall_width:
            line = line[:self.overall_width]
        return line + (self.row_suffix or "")


# --------------------------------------------------------------------------- print-format lines

_KEYWORDS = {"AS", "PRINTF", "PRINTAS", "RENDERAS", "OR", "NOSUFFIX", "NOPREFIX", "LEFT", "RIGHT",
             "FIT", "TRUNCATE", "ALWAYS", "WIDTH"}
_TOKEN = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")


def _tokens(line: str):
    pos = 0
    while True:
        m = _TOKEN.match(line, pos)
        if not m:
            return
        yield m.start(1), m.group(1)
        pos = m.end()


def _unquote(tok: str) -> str:
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "'\"":
        return tok[1:-1].replace("\\'", "'").replace('\\"', '"')
    return tok


def parse_format_line(line: str, truncate_by_default: bool = False) -> Column:
    """A :class:`Column` from one SELECT line of HTCondor's print-format language
    (src/condor_utils/make_printmask.cpp ``AddAttrListRow``). The expression is the text
    before the first keyword; a column with no WIDTH is as wide as its heading and AUTO.
    Raises ValueError naming the offending token."""
    expr_end, name, printf, printas = None, None, "%v", None
    width, width_from_label, auto, noprefix, nosuffix = 0, True, True, False, False
    notruncate, left_kw = True, None
    alt, alt_wide = " ", False
    toks = list(_tokens(line))
    i = 0
    while i < len(toks):
        start, tok = toks[i]
        if tok not in _KEYWORDS:
            i += 1
            continue
        if expr_end is None:
            expr_end = start
        arg = toks[i + 1][1] if i + 1 < len(toks) else None
        if tok in ("AS", "PRINTF", "PRINTAS", "RENDERAS", "OR", "WIDTH") and arg is None:
            raise ValueError(f"expected an argument after {tok} in print-format line {line!r}")
        if tok == "AS":
            name = _unquote(arg)
            i += 1
        elif tok == "PRINTF":
            printf = _unquote(arg)
            i += 1
        elif tok in ("PRINTAS", "RENDERAS"):
            if arg not in PRINTAS:
                raise ValueError(f"Unknown argument {arg} for {tok}")
            printas = arg
            if tok == "PRINTAS" or printf == "%v":
                printf = PRINTAS[arg][1]
            i += 1
        elif tok == "OR":
            alt_text = _unquote(arg)
            if not alt_text or alt_text[0] not in _ALT_CHARS:
                raise ValueError(f"Unknown argument {arg} for OR")
            alt = alt_text[0]
            alt_wide = len(alt_text) > 1 and alt_text[0] == alt_text[1]
            i += 1
        elif tok == "NOPREFIX":
            noprefix = True
        elif tok == "NOSUFFIX":
            nosuffix = True
        elif tok == "LEFT":
            left_kw = True
        elif tok == "RIGHT":
            left_kw = False
        elif tok == "FIT":
            notruncate = True
        elif tok == "TRUNCATE":
            notruncate = False
        elif tok == "WIDTH":
            if arg == "AUTO":
                auto = True
            else:
                try:
                    width = int(arg)
                except ValueError:
                    raise ValueError(f"expected number or AUTO after WIDTH, got {arg!r}") from None
                auto = False
                width_from_label = False
                if printf == "%v":
                    printf = None
            i += 1
        i += 1
    expr = (line[:expr_end] if expr_end is not None else line).strip()
    if not expr:
        raise ValueError(f"print-format line has no expression: {line!r}")
    label = name if name is not None else expr
    if width_from_label:
        width = -len(label)
    col = Column(expr=expr, width=abs(width), left=width < 0 or bool(left_kw),
                 auto=auto, truncate=not notruncate, noprefix=noprefix, nosuffix=nosuffix,
                 printf=printf, printas=printas, alt=alt, alt_wide=alt_wide, heading=label)
    return col


def parse_print_format(lines: Iterable[str]) -> PrintMask:
    """A :class:`PrintMask` (columns separated by one space, rows ending in a newline)
    from print-format SELECT lines; ``SELECT``/``SUMMARY``/``WHERE`` lines are skipped."""
    pm = PrintMask(None, " ", None, "\n")
    for line in lines:
        s = line.strip()
        if not s or s.startswith("#") or s.split()[0] in ("SELECT", "SUMMARY", "WHERE", "GROUP"):
            continue
        pm.add(parse_format_line(s))
    return pm


@dataclass
class PrintFormat:
    """A print-format file (make_printmask.cpp ``SetAttrListPrintMaskFromStream``):
    ``mask`` (the SELECT columns), ``select_from`` (the ad type after ``SELECT FROM``),
    ``no_header`` (NOHEADER/BARE), ``summary`` (True for ``SUMMARY STANDARD``; files
    default to no summary), ``where`` (constraint or None), ``group_by`` (sort expressions)."""
    mask: PrintMask
    select_from: Optional[str] = None
    no_header: bool = False
    summary: bool = False
    where: Optional[str] = None
    group_by: list = field(default_factory=list)


def load_print_format(text: str, source: str = "<print-format>") -> PrintFormat:
    """Parse print-format ``text``; raises ValueError naming ``source`` and the line."""
    pf = PrintFormat(PrintMask(None, " ", None, "\n"))
    section = "SELECT"
    where: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        head = words[0]
        try:
            if head == "SELECT":
                section = "SELECT"
                rest = words[1:]
                while rest:
                    w = rest.pop(0)
                    if w == "FROM" and rest:
                        pf.select_from = rest.pop(0)
                    elif w in ("BARE", "NOHEADER"):
                        pf.no_header = True
                    elif w == "NOSUMMARY":
                        pf.summary = False
            elif head in ("WHERE", "AND"):
                section = "WHERE"
                where.append(line[len(head):].strip())
            elif head == "GROUP":
                section = "GROUP"
                rest = line[len(head):].strip()
                if rest.startswith("BY"):
                    rest = rest[2:].strip()
                if rest:
                    pf.group_by.append(rest.split(" ASCENDING")[0].split(" DESCENDING")[0].strip())
            elif head == "SUMMARY":
                section = "SUMMARY"
                pf.summary = len(words) < 2 or words[1] != "NONE"
            elif section == "SELECT":
                pf.mask.add(parse_format_line(line))
            elif section == "WHERE":
                where.append(line)
            elif section == "GROUP":
                pf.group_by.append(line.split(" ASCENDING")[0].split(" DESCENDING")[0].strip())
            else:
                raise ValueError(f"{head} was unexpected")
            for w in where:
                parse_expr(w)
            for g in pf.group_by:
                parse_expr(g)
        except (ValueError, C.ClassAdParseError) as exc:
            raise ValueError(f"{source}:{lineno}: {exc}") from None
    if where:
        pf.where = " && ".join(f"({w})" for w in where)
    return pf


def autoformat_mask(exprs: list[str], opts: str = "", pm: Optional[PrintMask] = None) -> PrintMask:
    """The mask of ``-af[:opts] EXPR...`` (ad_printmask.cpp ``parse_autoformat_args``):
    values separated by a space (``t``: tab, ``,``: a comma after each, ``n``: a newline
    after each, ``g``: newline before each row), ``l``: ``expr = value``, ``h``: a heading
    line and AUTO widths, ``V``: strings quoted, ``r``: unevaluated expressions.
    Raises ValueError naming an expression that does not parse."""
    row_prefix, col_prefix, col_suffix = None, " ", None
    label = heads = cap_v = raw = False
    for ch in opts:
        if ch == ",":
            col_suffix = ","
        elif ch == "n":
            col_suffix = "\n"
        elif ch == "g":
            col_prefix, row_prefix = None, "\n"
        elif ch == "t":
            col_prefix = "\t"
        elif ch == "l":
            label = True
        elif ch == "V":
            cap_v = True
        elif ch in "ro":
            raw = True
        elif ch == "h":
            heads = True
    if pm is None:
        pm = PrintMask()
    pm.set_auto_sep(row_prefix, col_prefix, col_suffix, "\n")
    deffmt = "%r" if raw else ("%V" if cap_v else "%v")
    for expr in exprs:
        try:
            node = parse_expr(expr)
        except C.ClassAdParseError:
            raise ValueError(f"invalid expression: {expr}") from None
        if heads or pm.has_headings:
            hd = expr
            if not isinstance(node, AttrRef) and not heads and len(hd) > 16:
                hd = "(expr)"
            pm.add(Column(expr=expr, width=len(hd), left=True, auto=True, printf=deffmt, heading=hd))
        elif label:
            pm.add(Column(expr=expr, printf=expr + " = " + deffmt))
        else:
            pm.add(Column(expr=expr, printf=deffmt))
    return pm


# --------------------------------------------------------------------------- whole ads

#: attributes never printed by -long (src/condor_utils/compat_classad.cpp ClassAdPrivateAttrs)
PRIVATE_ATTRS = {"capability", "childclaimids", "claimid", "claimidlist", "claimids",
                 "pairedclaimid", "transferkey"}


def _sorted_attrs(ad: C.ClassAd, attrs: Optional[Iterable[str]] = None):
    items = [(name, node) for name, node in ad._attrs.values() if name.lower() not in PRIVATE_ATTRS]
    if attrs is not None:
        want = {a.lower() for a in attrs}
        items = [it for it in items if it[0].lower() in want]
    return sorted(items, key=lambda it: it[0].lower())


def format_long(ad: C.ClassAd, attrs: Optional[Iterable[str]] = None) -> str:
    """``-long``: ``Name = expr`` lines in old syntax, sorted case-insensitively, then a
    blank line (prettyPrint.cpp ``printVerbose``)."""
    return "".join(quote_name(n) + " = " + unparse_node(node, True) + "\n"
                   for n, node in _sorted_attrs(ad, attrs)) + "\n"


def format_json(ads: list[C.ClassAd], attrs: Optional[Iterable[str]] = None) -> str:
    """``-json``: ``[`` newline, the ads as jsonSink prints them (attributes sorted
    case-insensitively), each followed by a newline and separated by ``,`` newline, then
    ``]`` newline (prettyPrint.cpp ``printJSON``); empty text for no ads."""
    if not ads:
        return ""
    parts = []
    for ad in ads:
        out: list = []
        _Json().record(out, _sorted_attrs(ad, attrs))
        parts.append("".join(out))
    return "[\n" + "\n,\n".join(parts) + "\n]\n"


def print_wrapped_text(text: str, chars_per_line: int = 78) -> str:
    """``text`` as src/condor_utils/print_wrapped_text.cpp prints it: words split at blanks
    and tabs, each followed by a blank, a word that does not fit below ``chars_per_line``
    starting a new line, and a final newline (so lines keep a trailing blank)."""
    out = []
    count = 0
    for word in text.replace("\t", " ").split(" "):
        if not word:
            continue
        if len(word) < chars_per_line - count:
            out.append(word)
            count += len(word)
        else:
            out.append("\n" + word)
            count = len(word)
        if count < chars_per_line:
            out.append(" ")
            count += 1
        else:
            out.append("\n")
            count = 0
    return "".join(out) + "\n"
