"""Bodies of the events of a job's life: submit, execute, errors, eviction, termination,
image size, shadow exception, abort, suspend, hold, release, parallel nodes, file transfer.

Each ``_fmt_*`` writes the body from fields, each ``_parse_*`` reads fields back, following
the ``formatBody``/``readEvent``/``toClassAd`` methods of the event class named in each
section (src/condor_utils/condor_event.cpp).
"""
from __future__ import annotations

import re

from .adtext import AdTextError, parse_ad, unparse_old, unparse_value
from .bodybase import (HINT_USAGE, Lines, _int, _notes, _num, _sscanf_int, clean_text,
                       parse_long_form as _parse_long_form)
from .usage import (UsageTableParser, float32, format_rusage, format_usage_table,
                    normalize_rusage, parse_rusage, usage_ad_from_fields)


# ---------------------------------------------------------------- SubmitEvent (000) ---------

def _fmt_submit(f) -> str:
    out = "Job submitted from host: %s\n" % clean_text(f.get("SubmitHost", ""))
    out += _fmt_notes(f)
    if f.get("Warnings"):
        out += ("    WARNING: Committed job submission into the queue with the following "
                "warning(s): %s\n" % clean_text(f["Warnings"])[:8110])
    return out


def _fmt_notes(f) -> str:
    out = ""
    structured = f.get("StructuredNotes")
    if isinstance(structured, dict) and structured:
        out += "    %s\n" % unparse_value(structured)
    elif f.get("LogNotes"):
        out += "    %s\n" % _notes(f["LogNotes"])
    if f.get("UserNotes"):
        out += "    %s\n" % _notes(f["UserNotes"])
    return out


def _read_notes(lines: Lines, out: dict, warnings: bool) -> None:
    """Optional note lines of submit and cluster-submit events (checkSubmitLine)."""
    structured = None
    lineno = 0
    while True:
        line = lines.next()
        if line is None:
            break
        line = line.strip()
        lineno += 1
        if line.startswith("["):
            if structured is None:
                out["LogNotes"] = line
                try:
                    structured = parse_ad(line)
                except AdTextError:
                    structured = None
        elif line.startswith("DAG Node: "):
            out["LogNotes"] = line
            if structured is None:
                structured = {}
            structured["DAGNodeName"] = line[10:].strip()
        elif warnings and line.startswith("WARNING: "):
            out["Warnings"] = line
        elif lineno == 1:
            out["LogNotes"] = line
        elif lineno == 2:
            out["UserNotes"] = line
    for key in ("LogNotes", "UserNotes", "Warnings"):
        if key in out and not out[key]:
            del out[key]
    if structured:
        out["StructuredNotes"] = structured


def _parse_submit(lines: Lines) -> dict:
    out = {}
    host = lines.value("Job submitted from host: ")
    _read_notes(lines, out, warnings=True)
    if host:
        out = {"SubmitHost": host, **out}
    return out


# ------------------------------------------------- ExecuteEvent (001), NodeExecute (014) ----

def _fmt_props(f) -> str:
    out = ""
    if f.get("SlotName"):
        out += "\tSlotName: %s\n" % clean_text(f["SlotName"])
    props = f.get("ExecuteProps")
    if isinstance(props, dict) and props:
        for k in sorted(props, key=str.lower):
            out += "\t%s = %s\n" % (k, unparse_old(props[k]))
    return out




def _read_props(lines: Lines, out: dict) -> None:
    props: dict = {}
    first = True
    while True:
        line = lines.next()
        if line is None:
            break
        if first and line.startswith("\tSlotName:"):
            slot = line[line.index(":") + 1:].strip()
            if len(slot) >= 2 and slot[0] == '"' and slot[-1] == '"':
                slot = slot[1:-1]
            if slot:
                out["SlotName"] = slot
        else:
            kv = _parse_long_form(line)
            if kv:
                props[kv[0]] = kv[1]
        first = False
    if props:
        out["ExecuteProps"] = props


def _fmt_execute(f) -> str:
    return "Job executing on host: %s\n" % clean_text(f.get("ExecuteHost", "")) + _fmt_props(f)


def _parse_execute(lines: Lines) -> dict:
    host = lines.value("Job executing on host: ")
    out = {"ExecuteHost": host} if host else {}
    _read_props(lines, out)
    return out


_NODE_EXEC_RE = re.compile(r"Node\s*([+-]?\d+)\s*executing")


def _fmt_node_execute(f) -> str:
    return ("Node %d executing on host: %s\n" % (_int(f, "Node", -1),
                                                 clean_text(f.get("ExecuteHost", "")))
            + _fmt_props(f))


def _parse_node_execute(lines: Lines) -> dict:
    line = lines.next()
    if line is None:
        lines.fail("event ended where 'Node N executing on host:' was expected")
    m = _NODE_EXEC_RE.match(line)
    if not m or ":" not in line:
        lines.fail(f"expected 'Node N executing on host: HOST', got {line!r}")
    host = line[line.index(":") + 1:].strip()
    out = {}
    if host:
        out["ExecuteHost"] = host
    out["Node"] = int(m.group(1))
    _read_props(lines, out)
    return out


# ------------------------------------------------------- ExecutableErrorEvent (002) ---------

_EXEC_ERRORS = {0: "Job file not executable.", 1: "Job not properly linked for Condor."}


def _fmt_executable_error(f) -> str:
    t = _int(f, "ExecuteErrorType", -1)
    return "(%d) %s\n" % (t, _EXEC_ERRORS.get(t, "[Bad error number.]"))


def _parse_executable_error(lines: Lines) -> dict:
    rest = lines.value("(")
    n, end = _sscanf_int(rest)
    if n is None or not rest[end:].lstrip().startswith(")"):
        lines.fail("expected '(N)' error type")
    return {"ExecuteErrorType": n} if n >= 0 else {}


# ----------------------------------------------------------- CheckpointedEvent (003) --------

def _fmt_checkpointed(f) -> str:
    return ("Job was checkpointed.\n"
            + format_rusage(f.get("RunRemoteUsage")) + "  -  Run Remote Usage\n"
            + format_rusage(f.get("RunLocalUsage")) + "  -  Run Local Usage\n"
            + "\t%.0f  -  Run Bytes Sent By Job For Checkpoint\n" % _num(f, "SentBytes"))


# A usage line already in canonical form (hours < 24, minutes and seconds < 60).
_CANON_RUSAGE_RE = re.compile(r"\s*Usr (?:0|[1-9]\d*) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d, "
                              r"Sys (?:0|[1-9]\d*) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?!\d)")


def _read_rusage(lines: Lines) -> str:
    line = lines.next()
    if line is not None:
        m = _CANON_RUSAGE_RE.match(line)
        if m:
            return m.group(0).lstrip()
    parsed = None if line is None else parse_rusage(line)
    if parsed is None:
        lines.fail(f"expected a 'Usr D HH:MM:SS, Sys D HH:MM:SS' line, got {line!r}")
    return normalize_rusage(parsed)


_BYTES_RE = re.compile(
    r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*-\s*(\S{1,5})\s+Bytes\s+(\S{1,8})\s+By\s+(\S{1,21})")


def _bytes_line(line, label: str):
    """sscanf(line, "\\t%lf  -  <label>") -> float or None."""
    if line is None:
        return None
    m = re.match(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*-\s*" + re.escape(label), line)
    return float(m.group(1)) if m else None


def _parse_checkpointed(lines: Lines) -> dict:
    lines.value("Job was checkpointed.")
    remote = _read_rusage(lines)
    local = _read_rusage(lines)
    out = {"RunLocalUsage": local, "RunRemoteUsage": remote, "SentBytes": 0.0}
    line = lines.next()
    if line is not None:
        sent = _bytes_line(line, "Run Bytes Sent By Job For Checkpoint")
        if sent is None:
            lines.fail(f"expected 'Run Bytes Sent By Job For Checkpoint', got {line!r}")
        out["SentBytes"] = sent
    return out


# ------------------------------------------------------------- JobEvictedEvent (004) --------

def _fmt_evicted(f) -> str:
    code, subcode = _int(f, "ReasonCode", 0), _int(f, "ReasonSubCode", 0)
    requeued = bool(f.get("TerminatedAndRequeued", False))
    out = ("Job was evicted. Code %d Subcode %d\n\t" % (code, subcode) if code
           else "Job was evicted.\n\t")
    if requeued:
        out += "(0) Job terminated and was requeued\n\t"
    elif f.get("Checkpointed"):
        out += "(1) Job was checkpointed.\n\t"
    else:
        out += "(0) CPU times\n\t"
    out += format_rusage(f.get("RunRemoteUsage")) + "  -  Run Remote Usage\n\t"
    out += format_rusage(f.get("RunLocalUsage")) + "  -  Run Local Usage\n"
    out += "\t%.0f  -  Run Bytes Sent By Job\n" % _num(f, "SentBytes")
    out += "\t%.0f  -  Run Bytes Received By Job\n" % _num(f, "ReceivedBytes")
    if requeued:
        if f.get("TerminatedNormally"):
            out += "\t(1) Normal termination (return value %d)\n" % _int(f, "ReturnValue", -1)
        else:
            out += "\t(0) Abnormal termination (signal %d)\n" % _int(f, "TerminatedBySignal", -1)
            if f.get("CoreFile"):
                out += "\t(1) Corefile in: %s\n" % clean_text(f["CoreFile"])
            else:
                out += "\t(0) No core file\n"
    reason = clean_text(f.get("Reason", ""))
    if reason:
        out += ("\t%s\n" if requeued else "\tReason: %s\n") % reason
    out += format_usage_table(usage_ad_from_fields(f))
    return out


_PAREN_FLAG_RE = re.compile(r"\s*\(\s*([+-]?\d+)\)\s*")
_EVICT_KIND_RE = re.compile(r"[a-zA-Z\[\\\]^_` ]{1,127}")


def _paren_line(lines: Lines, line, what: str):
    """sscanf(line, "\\t(%d) %127[^\\r\\n]") -> (flag, text)."""
    m = _PAREN_FLAG_RE.match(line or "")
    if line is None or not m or m.end() >= len(line):
        lines.fail(f"expected '(N) {what}', got {line!r}")
    return int(m.group(1)), line[m.end():m.end() + 127]


_NORMAL_RE = re.compile(r"Normal\s+termination\s+\(return\s+value\s*([+-]?\d+)")
_ABNORMAL_RE = re.compile(r"Abnormal\s+termination\s+\(signal\s*([+-]?\d+)")


def _read_termination(lines: Lines, out: dict, normal_key="TerminatedNormally") -> None:
    """``(1) Normal termination (return value N)`` or ``(0) Abnormal termination (signal N)``
    followed by the core-file line; sets _normal/_ret/_sig/CoreFile in ``out``."""
    flag, text = _paren_line(lines, lines.next(), "Normal/Abnormal termination")
    if flag:
        m = _NORMAL_RE.match(text)
        if not m:
            lines.fail(f"expected 'Normal termination (return value N)', got {text!r}")
        out["_normal"], out["_ret"] = True, int(m.group(1))
    else:
        m = _ABNORMAL_RE.match(text)
        if not m:
            lines.fail(f"expected 'Abnormal termination (signal N)', got {text!r}")
        out["_normal"], out["_sig"] = False, int(m.group(1))
        line = lines.next()
        if line is None:
            lines.fail("event ended where the core file line was expected")
        line = line.strip()
        if line.startswith("(1) Corefile in: "):
            out["CoreFile"] = line[len("(1) Corefile in: "):]
        elif not line.startswith("(0)"):
            lines.fail(f"expected '(0) No core file' or '(1) Corefile in: PATH', got {line!r}")


def _parse_evicted(lines: Lines) -> dict:
    rest = lines.value("Job was evicted.")
    code = subcode = 0
    m = re.match(r"\s*Code\s*([+-]?\d+)(?:\s*Subcode\s*([+-]?\d+))?", rest)
    if m:
        code = int(m.group(1))
        if m.group(2) is not None:
            subcode = int(m.group(2))
    line = lines.next()
    pm = _PAREN_FLAG_RE.match(line or "")
    km = _EVICT_KIND_RE.match(line, pm.end()) if pm else None
    if line is None or not km:
        lines.fail(f"expected '(N) Job was checkpointed.' or similar, got {line!r}")
    checkpointed = bool(int(pm.group(1)))
    requeued = km.group(0).startswith("Job terminated and was requeued")
    remote = _read_rusage(lines)
    local = _read_rusage(lines)
    t = {}
    sent = recvd = 0.0
    reason = core = ""
    s = _bytes_line(lines.next(), "Run Bytes Sent By Job")
    r = _bytes_line(lines.next(), "Run Bytes Received By Job") if s is not None else None
    if s is not None:
        sent = s
    if s is not None and r is not None:
        recvd = r
        if requeued:
            _read_termination(lines, t)
            core = t.get("CoreFile", "")
        line = lines.next()
        if line is not None:
            if line.startswith("\tPartitionable Resources"):
                pass
            elif line.startswith("\tReason: "):
                reason = line[len("\tReason: "):]
            else:
                reason = line.strip()
    out = {"Checkpointed": checkpointed, "RunLocalUsage": local, "RunRemoteUsage": remote,
           "SentBytes": sent, "ReceivedBytes": recvd, "TerminatedAndRequeued": requeued,
           "TerminatedNormally": bool(t.get("_normal", False))}
    if t.get("_ret", -1) >= 0:
        out["ReturnValue"] = t["_ret"]
    if t.get("_sig", -1) >= 0:
        out["TerminatedBySignal"] = t["_sig"]
    if reason:
        out["Reason"] = reason
    if code:
        out["ReasonCode"] = code
    if subcode:
        out["ReasonSubCode"] = subcode
    if core:
        out["CoreFile"] = core
    return out


# ------------------------------ JobTerminatedEvent (005), NodeTerminatedEvent (015) ---------

def _usage_for(f) -> dict:
    hinted = f.get(HINT_USAGE)
    return hinted if hinted is not None else usage_ad_from_fields(f)


def _fmt_terminated_body(f, who: str) -> str:
    if f.get("TerminatedNormally"):
        out = "\t(1) Normal termination (return value %d)\n\t" % _int(f, "ReturnValue", -1)
    else:
        out = "\t(0) Abnormal termination (signal %d)\n" % _int(f, "TerminatedBySignal", -1)
        if f.get("CoreFile"):
            out += "\t(1) Corefile in: %s\n\t" % clean_text(f["CoreFile"])
        else:
            out += "\t(0) No core file\n\t"
    out += format_rusage(f.get("RunRemoteUsage")) + "  -  Run Remote Usage\n\t"
    out += format_rusage(f.get("RunLocalUsage")) + "  -  Run Local Usage\n\t"
    out += format_rusage(f.get("TotalRemoteUsage")) + "  -  Total Remote Usage\n\t"
    out += format_rusage(f.get("TotalLocalUsage")) + "  -  Total Local Usage\n"
    out += "\t%.0f  -  Run Bytes Sent By %s\n" % (_num(f, "SentBytes"), who)
    out += "\t%.0f  -  Run Bytes Received By %s\n" % (_num(f, "ReceivedBytes"), who)
    out += "\t%.0f  -  Total Bytes Sent By %s\n" % (_num(f, "TotalSentBytes"), who)
    out += "\t%.0f  -  Total Bytes Received By %s\n" % (_num(f, "TotalReceivedBytes"), who)
    out += format_usage_table(_usage_for(f))
    return out


_TABLE_PARSERS: dict[str, UsageTableParser] = {}


def _table_parser(header: str) -> UsageTableParser:
    """Column layout of a usage-table header (cached: logs repeat the same few headers)."""
    parser = _TABLE_PARSERS.get(header)
    if parser is None:
        if len(_TABLE_PARSERS) > 256:
            _TABLE_PARSERS.clear()
        parser = _TABLE_PARSERS[header] = UsageTableParser(header)
    return parser


def _read_terminated_body(lines: Lines, who: str) -> dict:
    """TerminatedEvent::readEventBody; returns the fields plus private _normal/_ret/_sig."""
    t: dict = {}
    _read_termination(lines, t)
    t["RunRemoteUsage"] = _read_rusage(lines)
    t["RunLocalUsage"] = _read_rusage(lines)
    t["TotalRemoteUsage"] = _read_rusage(lines)
    t["TotalLocalUsage"] = _read_rusage(lines)
    counts = {("Run", "Sent"): "SentBytes", ("Run", "Received"): "ReceivedBytes",
              ("Total", "Sent"): "TotalSentBytes", ("Total", "Received"): "TotalReceivedBytes"}
    for key in counts.values():
        t[key] = 0.0
    usage: dict = {}
    table = None
    while True:
        line = lines.next()
        if line is None:
            break
        if table is not None:
            if ":" not in line:
                break
            table.parse_row(line, usage)
            continue
        m = _BYTES_RE.match(line)
        if m:
            key = counts.get((m.group(2), m.group(3)))
            if key and m.group(4) == who:
                t[key] = float32(float(m.group(1)))
            continue
        if line.startswith("\tPartitionable ") or line.startswith("\tResources"):
            usage.clear()
            table = _table_parser(line)
            continue
        break
    t["_usage"] = usage
    return t


def _fmt_terminated(f) -> str:
    return "Job terminated.\n" + _fmt_terminated_body(f, "Job")




def _terminated_fields(t: dict, always_codes: bool) -> dict:
    usage = t.pop("_usage")
    out = dict(usage)
    out[HINT_USAGE] = dict(usage)
    out["TerminatedNormally"] = bool(t.pop("_normal", False))
    ret, sig = t.pop("_ret", -1), t.pop("_sig", -1)
    if always_codes or ret >= 0:
        out["ReturnValue"] = ret
    if always_codes or sig >= 0:
        out["TerminatedBySignal"] = sig
    out.update(t)
    return out


def _parse_terminated(lines: Lines) -> dict:
    lines.value("Job terminated.")
    t = _read_terminated_body(lines, "Job")
    if not lines.at_end:
        line = lines.next()
        if line == "" and lines.next() is not None:
            lines.fail("unexpected text after the end of the terminated event")
    return _terminated_fields(t, always_codes=False)


def _fmt_node_terminated(f) -> str:
    return "Node %d terminated.\n" % _int(f, "Node", -1) + _fmt_terminated_body(f, "Node")


def _parse_node_terminated(lines: Lines) -> dict:
    line = lines.next()
    m = re.match(r"Node\s*([+-]?\d+)\s*terminated\.", line or "")
    if not m:
        lines.fail(f"expected 'Node N terminated.', got {line!r}")
    out = _terminated_fields(_read_terminated_body(lines, "Node"), always_codes=True)
    node = int(m.group(1))
    if node >= 0:
        out["Node"] = node
    return out


# ------------------------------------------------------------ JobImageSizeEvent (006) -------

def _fmt_image_size(f) -> str:
    out = "Image size of job updated: %d\n" % _int(f, "Size", -1)
    mem, rss, pss = (_int(f, "MemoryUsage", -1), _int(f, "ResidentSetSize", 0),
                     _int(f, "ProportionalSetSize", -1))
    if mem >= 0:
        out += "\t%d  -  MemoryUsage of job (MB)\n" % mem
    if rss >= 0:
        out += "\t%d  -  ResidentSetSize of job (KB)\n" % rss
    if pss >= 0:
        out += "\t%d  -  ProportionalSetSize of job (KB)\n" % pss
    return out


_IMAGE_LINE_RE = re.compile(r"\s*([+-]?\d+)\s+-\s*(\S*)")


def _parse_image_size(lines: Lines) -> dict:
    rest = lines.value("Image size of job updated: ")
    size, _ = _sscanf_int(rest)
    if size is None:
        lines.fail(f"expected an image size, got {rest!r}")
    vals = {"memoryusage": -1, "residentsetsize": 0, "proportionalsetsize": -1}
    while True:
        line = lines.next()
        if line is None or len(line) >= 249:
            break
        m = _IMAGE_LINE_RE.match(line)
        if not m or m.group(2).lower() not in vals:
            break
        vals[m.group(2).lower()] = int(m.group(1))
    out = {}
    if size >= 0:
        out["Size"] = size
    for key, name in (("memoryusage", "MemoryUsage"), ("residentsetsize", "ResidentSetSize"),
                      ("proportionalsetsize", "ProportionalSetSize")):
        if vals[key] >= 0:
            out[name] = vals[key]
    return out


# ---------------------------------------------------------- ShadowExceptionEvent (007) ------

def _fmt_shadow_exception(f) -> str:
    return ("Shadow exception!\n\t%s\n" % clean_text(f.get("Message", ""))
            + "\t%.0f  -  Run Bytes Sent By Job\n" % _num(f, "SentBytes")
            + "\t%.0f  -  Run Bytes Received By Job\n" % _num(f, "ReceivedBytes"))


def _parse_shadow_exception(lines: Lines) -> dict:
    lines.value("Shadow exception!")
    out = {"Message": "", "SentBytes": 0.0, "ReceivedBytes": 0.0}
    line = lines.next()
    if line is None:
        return out
    out["Message"] = line.strip()
    s = _bytes_line(lines.next(), "Run Bytes Sent By Job")
    r = _bytes_line(lines.next(), "Run Bytes Received By Job") if s is not None else None
    if s is not None:
        out["SentBytes"] = s
        if r is not None:
            out["ReceivedBytes"] = r
    return out


# ----------------------------------------------------------------- GenericEvent (008) -------

def _fmt_generic(f) -> str:
    return "%s\n" % clean_text(f.get("Info", ""))[:1023]


def _parse_generic(lines: Lines) -> dict:
    line = lines.next()
    if line is None or len(line) >= 1024:
        lines.fail("generic event needs one line of at most 1023 characters")
    return {"Info": line} if line else {}


# -------------------------------------------------------------- JobAbortedEvent (009) -------

def _fmt_reason_event(banner: str):
    def fmt(f) -> str:
        reason = clean_text(f.get("Reason", ""))
        return banner + "\n" + ("\t%s\n" % reason if reason else "")
    return fmt


def _parse_aborted(lines: Lines) -> dict:
    lines.value("Job was aborted")
    return _aborted_tail(lines)


def _aborted_tail(lines: Lines) -> dict:
    """Optional reason line, then the optional (ignored) termination tag."""
    out = {}
    line = lines.next()
    if line is not None:
        reason = line.strip()
        if reason:
            out["Reason"] = reason
        nxt = lines.next()
        if nxt == "" and lines.next() is None:
            lines.fail("aborted event: empty line where the termination tag was expected")
    return out


# ------------------------------------------- JobSuspendedEvent (010), Unsuspended (011) -----

def _fmt_suspended(f) -> str:
    return ("Job was suspended.\n\tNumber of processes actually suspended: %d\n"
            % _int(f, "NumberOfPIDs", -1))


def _parse_suspended(lines: Lines) -> dict:
    lines.value("Job was suspended.")
    line = lines.next()
    m = re.match(r"\s*Number of processes actually suspended:\s*([+-]?\d+)", line or "")
    if not m:
        lines.fail(f"expected 'Number of processes actually suspended: N', got {line!r}")
    return {"NumberOfPIDs": int(m.group(1))}


def _fmt_unsuspended(f) -> str:
    return "Job was unsuspended.\n"


def _parse_unsuspended(lines: Lines) -> dict:
    lines.value("Job was unsuspended.")
    return {}


# ----------------------------------------------------------------- JobHeldEvent (012) -------

def _fmt_held(f) -> str:
    reason = clean_text(f.get("HoldReason", ""))
    return ("Job was held.\n" + ("\t%s\n" % reason if reason else "\tReason unspecified\n")
            + "\tCode %d Subcode %d\n" % (_int(f, "HoldReasonCode", 0),
                                          _int(f, "HoldReasonSubCode", 0)))


def _parse_held(lines: Lines) -> dict:
    lines.value("Job was held.")
    out = {}
    code = subcode = 0
    line = lines.next()
    if line is not None:
        reason = line.strip()
        if reason != "Reason unspecified" and reason:
            out["HoldReason"] = reason
        m = re.match(r"\s*Code\s*([+-]?\d+)\s*Subcode\s*([+-]?\d+)", lines.next() or "")
        if m:
            code, subcode = int(m.group(1)), int(m.group(2))
    out["HoldReasonCode"] = code
    out["HoldReasonSubCode"] = subcode
    return out


def _parse_released(lines: Lines) -> dict:
    lines.value("Job was released.")
    line = lines.next()
    reason = "" if line is None else line.strip()
    return {"Reason": reason} if reason else {}



# ------------------------------------------------------------ FileTransferEvent (040) -------

FILE_TRANSFER_TEXT = {
    1: "Entered queue to transfer input files",
    2: "Started transferring input files",
    3: "Finished transferring input files",
    4: "Entered queue to transfer output files",
    5: "Started transferring output files",
    6: "Finished transferring output files",
}
_FILE_TRANSFER_TYPES = {v: k for k, v in FILE_TRANSFER_TEXT.items()}


def _fmt_file_transfer(f) -> str:
    t = _int(f, "Type", 0)
    if t not in FILE_TRANSFER_TEXT:
        raise ValueError(f"file transfer event Type must be 1..6, got {t}")
    out = FILE_TRANSFER_TEXT[t] + "\n"
    delay = _int(f, "QueueingDelay", -1)
    if delay != -1:
        out += "\tSeconds spent in queue: %d\n" % delay
    if f.get("Host"):
        out += "\tTransferring to host: %s\n" % clean_text(f["Host"])
    return out


def _parse_file_transfer(lines: Lines) -> dict:
    line = lines.next()
    if line not in _FILE_TRANSFER_TYPES:
        lines.fail(f"unknown file transfer event text {line!r}")
    out = {"Type": _FILE_TRANSFER_TYPES[line]}
    line = lines.next()
    if line is None:
        return out
    prefix = "\tSeconds spent in queue: "
    if line.startswith(prefix):
        m = re.fullmatch(r"\s*([+-]?\d+)", line[len(prefix):])
        if not m:
            lines.fail(f"bad queueing delay {line!r}")
        out["QueueingDelay"] = int(m.group(1))
        line = lines.next()
        if line is None:
            return out
    prefix = "\tTransferring to host: "
    if line.startswith(prefix) and line[len(prefix):]:
        out = {"Host": line[len(prefix):], **out}
    return out
