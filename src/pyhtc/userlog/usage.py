"""Pieces shared by several event bodies: CPU usage lines, byte counts, the resource table.

Follows ULogEvent::formatRusage / readRusageLine / rusageToStr, formatUsageAd and
UsageLineParser in HTCondor's src/condor_utils/condor_event.cpp.
"""
from __future__ import annotations

import math
import re
import struct

from .adtext import AdTextError, Expression, old_to_new_escaping, parse_value, unparse_value

__all__ = ["format_rusage", "parse_rusage", "rusage_string", "float32", "usage_ad_from_fields",
           "usage_fields_from_job_ad",
           "format_usage_table", "UsageTableParser", "parse_expr_strict"]

_DAY, _HOUR, _MIN = 86400, 3600, 60

_RUSAGE_RE = re.compile(
    r"\s*Usr\s*([+-]?\d+)\s*([+-]?\d+):\s*([+-]?\d+):\s*([+-]?\d+),\s*"
    r"Sys\s*([+-]?\d+)\s*([+-]?\d+):\s*([+-]?\d+):\s*([+-]?\d+)")


def _split_secs(secs: int):
    d, secs = divmod(secs, _DAY) if secs >= 0 else (-(-secs // _DAY), -(-secs % _DAY))
    h, secs = divmod(secs, _HOUR) if secs >= 0 else (-(-secs // _HOUR), -(-secs % _HOUR))
    m, s = divmod(secs, _MIN) if secs >= 0 else (-(-secs // _MIN), -(-secs % _MIN))
    return d, h, m, s


def rusage_string(usr_secs: int, sys_secs: int) -> str:
    """``Usr D HH:MM:SS, Sys D HH:MM:SS`` for whole seconds of user and system CPU time."""
    ud, uh, um, us = _split_secs(int(usr_secs))
    sd, sh, sm, ss = _split_secs(int(sys_secs))
    return "Usr %d %02d:%02d:%02d, Sys %d %02d:%02d:%02d" % (ud, uh, um, us, sd, sh, sm, ss)


def parse_rusage(text: str):
    """``(usr_secs, sys_secs)`` from a usage line or string, or None if it does not match."""
    m = _RUSAGE_RE.match(text)
    if not m:
        return None
    v = [int(g) for g in m.groups()]
    return (v[3] + v[2] * _MIN + v[1] * _HOUR + v[0] * _DAY,
            v[7] + v[6] * _MIN + v[5] * _HOUR + v[4] * _DAY)


def normalize_rusage(value) -> str:
    """Canonical ``Usr ..., Sys ...`` string for a usage field given as text or (usr, sys)."""
    if value is None:
        return rusage_string(0, 0)
    if isinstance(value, (tuple, list)):
        return rusage_string(value[0], value[1])
    parsed = parse_rusage(str(value))
    if parsed is None:
        raise ValueError(f"CPU usage must look like 'Usr 0 00:00:00, Sys 0 00:00:00', got {value!r}")
    return rusage_string(*parsed)


def format_rusage(value) -> str:
    """The ``\\tUsr ...`` text HTCondor writes for a usage value (no label, no newline)."""
    return "\t" + normalize_rusage(value)


def float32(x: float) -> float:
    """``x`` rounded to single precision, as the terminated-event reader's ``%f`` does."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


# --- expressions as HTCondor's parser would accept them -------------------------------------

_TOKEN_RE = re.compile(r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<op>=\?=|=!=|==|!=|<=|>=|&&|\|\||<<|>>>|>>|[-+*/%<>!~^&|?:,;.])
)""", re.X)
_WORD_OPS = {"is", "isnt"}


def parse_expr_strict(text: str):
    """Parse like ClassAdParser::ParseExpression(text, full=true): the whole text must be one
    expression.  Returns the value (see :mod:`pyhtc.userlog.adtext`) or None if the text is
    empty or not an expression (e.g. two operands in a row).
    """
    t = text.strip()
    if not t:
        return None
    try:
        value = parse_value(t)
    except AdTextError:
        return None
    if not isinstance(value, Expression):
        return value
    # sanity-check the expression's token sequence
    pos, prev, depth = 0, None, 0
    while pos < len(t):
        m = _TOKEN_RE.match(t, pos)
        if not m or m.end() == pos:
            return None
        pos = m.end()
        kind = m.lastgroup
        if kind == "ident" and m.group("ident").lower() in _WORD_OPS:
            kind = "op"
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return None
        operand_start = kind in ("num", "ident", "str") or (kind == "open" and m.group("open") != "[")
        if prev in ("num", "ident", "str", "close") and operand_start:
            if not (prev == "ident" and m.group(kind) == "("):
                return None
        prev = kind
    if depth != 0 or prev == "op":
        return None
    return value


# --- the resource usage table -------------------------------------------------------------

def usage_ad_from_fields(fields) -> dict:
    """The usage ad of a terminated/evicted event from its flat fields.

    A resource ``R`` takes part when both ``R`` and ``RequestR`` are present; then ``R``,
    ``RequestR``, ``RUsage``, ``RAverageUsage``, ``RMemoryUsage``, ``RMemoryAverageUsage``
    and ``AssignedR`` (when present) are copied (TerminatedEvent::initUsageFromAd, and the
    attributes setEventUsageAd adds); so are ``TimeExecuteUsage`` and ``TimeSlotBusyUsage``.
    An ``RAverageUsage`` is shown in R's usage column instead of ``RUsage``.
    """
    lower = {k.lower(): k for k in fields}
    out: dict = {}
    for key in fields:
        if not key.lower().startswith("request") or len(key) == 7:
            continue
        tag = key[7:]
        tag_key = lower.get(tag.lower())
        if tag_key is None:
            continue
        out[tag_key] = fields[tag_key]
        out[key] = fields[key]
        for extra in (tag + "Usage", tag + "AverageUsage", tag + "MemoryUsage",
                      tag + "MemoryAverageUsage", "Assigned" + tag):
            k = lower.get(extra.lower())
            if k is not None:
                out[k] = fields[k]
    for extra in ("TimeExecuteUsage", "TimeSlotBusyUsage"):
        k = lower.get(extra.lower())
        if k is not None:
            out[k] = fields[k]
    return out


def _title_case(s: str) -> str:
    out, upper = [], True
    for ch in s:
        out.append(ch.upper() if upper and "a" <= ch <= "z" else
                   ch.lower() if not upper and "A" <= ch <= "Z" else ch)
        upper = ch.isspace()
    return "".join(out)


def usage_fields_from_job_ad(job_ad) -> dict:
    """Resource-table fields for a terminated/evicted event from a job ad (setEventUsageAd).

    ``job_ad`` is a mapping of attribute names (any case) to values.  For each resource of
    ``ProvisionedResources`` (default "Cpus, Disk, Memory"): ``R`` from ``RProvisioned``,
    ``RequestR``, ``RUsage``, ``RAverageUsage``, ``RMemoryUsage``, ``RMemoryAverageUsage``
    (numbers and booleans only) and ``AssignedR`` (any value); plus ``TimeExecuteUsage``
    and ``TimeSlotBusyUsage`` from ``ActivationExecutionDuration`` and
    ``ActivationDuration``.  Merge the result into the event's fields.
    """
    lower = {str(k).lower(): k for k in job_ad}

    def get(name):
        k = lower.get(name.lower())
        return (True, job_ad[k]) if k is not None else (False, None)

    def scalar(v):
        return isinstance(v, (int, float)) and not isinstance(v, complex)

    found, resslist = get("ProvisionedResources")
    if not found or not isinstance(resslist, str):
        resslist = "Cpus, Disk, Memory"
    out: dict = {}
    for resname in re.split(r"[\s,]+", resslist.strip()):
        if not resname:
            continue
        res = _title_case(resname)
        for attr, key in ((res + "Provisioned", resname), ("Request" + res, None),
                          (res + "Usage", None), (res + "AverageUsage", None),
                          (res + "MemoryUsage", None), (res + "MemoryAverageUsage", None)):
            ok, v = get(attr)
            if ok and scalar(v):
                out[key or attr] = v
        ok, v = get("Assigned" + res)
        if ok:
            out["Assigned" + res] = v
    if out:
        for src, dst in (("ActivationExecutionDuration", "TimeExecuteUsage"),
                         ("ActivationDuration", "TimeSlotBusyUsage")):
            ok, v = get(src)
            if ok and isinstance(v, int) and not isinstance(v, bool):
                out[dst] = v
    return out


_LABEL_UNITS = {"Memory": " (MB)", "Disk": " (KB)", "Gpus": " (Average)", "GpusMemory": " (MB)",
                "TimeExecute": " (s)", "TimeSlotBusy": " (s)"}


def _usage_value(v):
    """(text, has_fractional_part) of one table cell (formatUsageAd)."""
    if isinstance(v, float) and not isinstance(v, bool):
        if math.isfinite(v):
            frac, whole = math.modf(v)
            if frac > 0.0:
                return "%.2f" % v, True
            return "%d" % int(whole), False
        return unparse_value(v), False
    return unparse_value(v), False


def format_usage_table(usage: dict) -> str:
    """The ``Partitionable Resources : Usage Request Allocated [Assigned]`` block."""
    if not usage:
        return ""
    rows: dict[str, dict] = {}
    names: dict[str, str] = {}
    req_hfp = alloc_hfp = use_hfp = assigned_hfp = False
    out = ""
    for attr, value in usage.items():
        text, hfp = _usage_value(value)
        low = attr.lower()
        if low.startswith("request"):
            res, col = attr[7:], "req"
            req_hfp |= hfp
        elif low.startswith("assigned"):
            res, col = attr[8:], "assigned"
            assigned_hfp = hfp
        elif low.endswith("averageusage"):
            res, col = attr[:-12], "use"
            use_hfp |= hfp
        elif low.endswith("usage"):
            res, col = attr[:-5], "use"
            use_hfp |= hfp
        else:
            res, col = attr, "alloc"
            alloc_hfp |= hfp
        if not res:
            out += "\t%s = %s\n" % (attr, text)
        key = res.lower()
        names.setdefault(key, res)
        rows.setdefault(key, {"use": "", "req": "", "alloc": "", "assigned": ""})[col] = text
    if not rows:
        return out
    c_res, c_use, c_req, c_alloc, c_assigned = len("Memory (MB)") + 1, 8, 8, 0, 0
    for key, row in rows.items():
        for col, flag in (("use", use_hfp), ("req", req_hfp), ("alloc", alloc_hfp),
                          ("assigned", assigned_hfp)):
            if flag and row[col].isdigit():
                row[col] += "   "
        c_res = max(c_res, len(names[key]))
        c_use = max(c_use, len(row["use"]))
        c_req = max(c_req, len(row["req"]))
        c_alloc = max(c_alloc, len(row["alloc"]))
        c_assigned = max(c_assigned, len(row["assigned"]))
    w_alloc = max(c_alloc, 9)
    out += "\tPartitionable Resources : %*s %*s %*s %s\n" % (
        c_use, "Usage", c_req, "Request", w_alloc, "Allocated" if c_alloc else "",
        "Assigned" if c_assigned else "")
    for key in sorted(rows):
        name = names[key]
        if not name:
            continue
        row = rows[key]
        label = name + _LABEL_UNITS.get(name, "")
        out += "\t   %-*s : %*s %*s %*s %s\n" % (c_res + 8, label, c_use, row["use"], c_req,
                                                  row["req"], w_alloc, row["alloc"],
                                                  row["assigned"])
    return out


class UsageTableParser:
    """Reads rows of the usage table by the column edges of its header line (UsageLineParser)."""

    def __init__(self, header: str):
        colon = header.find(":")
        self.ix_colon = colon if colon >= 0 else 0
        tbl = header[self.ix_colon + 1:]
        n = len(tbl)
        p = 0
        while p < n and tbl[p] == " ":
            p += 1
        while p < n and tbl[p] != " ":
            p += 1
        self.ix_use = p + 1
        while p < n and tbl[p] == " ":
            p += 1
        while p < n and tbl[p] != " ":
            p += 1
        self.ix_req = p + 1
        while p < n and tbl[p] == " ":
            p += 1
        self.ix_alloc = self.ix_assigned = -1
        if p < n:
            a = tbl.find("Allocated", p)
            if a >= 0:
                self.ix_alloc = a + 9
                s = tbl.find("Assigned", a)
                if s >= 0:
                    self.ix_assigned = s

    def parse_row(self, line: str, into: dict) -> None:
        """Add ``RUsage``, ``RequestR``, ``R`` and ``AssignedR`` of one row to ``into``."""
        p = 0
        while p < len(line) and line[p] in "\t ":
            p += 1
        e = p
        while e < len(line) and line[e] not in " :":
            e += 1
        tag = line[p:e]
        colon = line.find(":", e)
        if colon < 0:
            return
        tbl = line[colon + 1:]
        cells = [(tag + "Usage", tbl[:self.ix_use]),
                 ("Request" + tag, tbl[self.ix_use:self.ix_req])]
        if self.ix_alloc > 0:
            cells.append((tag, tbl[self.ix_req:self.ix_alloc]))
        if self.ix_assigned > 0:
            cells.append(("Assigned" + tag, tbl[self.ix_assigned:]))
        for attr, text in cells:
            value = parse_expr_strict(old_to_new_escaping(text))
            if value is not None:
                into[attr] = value
