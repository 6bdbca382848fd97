"""Bodies of the other events: DAGMan (post script, PRE_SKIP), remote errors, disconnection,
grid resources, job ad information, attribute updates, late materialization (cluster submit
and remove, factory pause and resume), dataflow skips, common files, and the generic
"FutureEvent" and execution-point (startd) events.

Formats follow the event classes named in each section (src/condor_utils/condor_event.cpp).
"""
from __future__ import annotations

import re

from .adtext import unparse_old
from .body_job import (_ABNORMAL_RE, _NORMAL_RE, _aborted_tail, _fmt_notes, _paren_line,
                       _read_notes)
from .bodybase import (HINT_PAYLOAD, Lines, _int, _notes, _sscanf_int, clean_text,
                       parse_long_form as _parse_long_form)


# ---------------------------------------------------- PostScriptTerminatedEvent (016) -------

def _fmt_post_script(f) -> str:
    if f.get("TerminatedNormally"):
        out = "POST Script terminated.\n\t(1) Normal termination (return value %d)\n" % _int(
            f, "ReturnValue", -1)
    else:
        out = "POST Script terminated.\n\t(0) Abnormal termination (signal %d)\n" % _int(
            f, "TerminatedBySignal", -1)
    if f.get("DAGNodeName"):
        out += "    DAG Node: %s\n" % _notes(f["DAGNodeName"])
    return out


def _parse_post_script(lines: Lines) -> dict:
    lines.value("POST Script terminated.")
    flag, text = _paren_line(lines, lines.next(), "Normal/Abnormal termination")
    out = {"TerminatedNormally": flag == 1}
    m = (_NORMAL_RE if flag == 1 else _ABNORMAL_RE).match(text)
    if not m:
        lines.fail(f"bad POST script termination line {text!r}")
    out["ReturnValue" if flag == 1 else "TerminatedBySignal"] = int(m.group(1))
    if out.get("ReturnValue", 0) < 0:
        del out["ReturnValue"]
    if out.get("TerminatedBySignal", 0) < 0:
        del out["TerminatedBySignal"]
    line = lines.next()
    if line is not None:
        line = line.strip()
        if line.startswith("DAG Node: ") and line[10:]:
            out["DAGNodeName"] = line[10:]
    return out


# ---------------------------------------------------------------- RemoteErrorEvent (021) ----

def _fmt_remote_error(f) -> str:
    critical = bool(f.get("CriticalError", True))
    out = "%s from %s on %s:\n" % ("Error" if critical else "Message",
                                   clean_text(f.get("Daemon", "")),
                                   clean_text(f.get("ExecuteHost", "")))
    msg = str(f.get("ErrorMsg", "")).replace("\r", " ")
    if msg:
        parts = msg.split("\n")
        if msg.endswith("\n"):
            parts.pop()
        for part in parts:
            out += "\t%s\n" % part
    code = _int(f, "HoldReasonCode", 0)
    if code:
        out += "\tCode %d Subcode %d\n" % (code, _int(f, "HoldReasonSubCode", 0))
    return out


def _parse_remote_error(lines: Lines) -> dict:
    line = lines.next()
    if line is None:
        lines.fail("remote error event is empty")
    line = line.strip()
    ix = line.find(" from ")
    if ix < 0:
        lines.fail(f"expected '<Error|Warning> from DAEMON on HOST:', got {line!r}")
    error_type = line[:ix].strip()
    line = line[ix + 6:].strip()
    daemon = ""
    ix = line.find(" on ")
    if ix > 0:
        daemon = line[:ix].strip()
        line = line[ix + 4:].strip()
    if line.endswith(":"):
        line = line[:-1]
    out = {}
    if daemon:
        out["Daemon"] = daemon
    if line:
        out["ExecuteHost"] = line
    msgs = []
    code = subcode = 0
    while True:
        line = lines.next()
        if line is None:
            break
        text = line[1:] if line.startswith("\t") else line
        m = re.match(r"\s*Code\s*([+-]?\d+)\s*Subcode\s*([+-]?\d+)", text)
        if m:
            code, subcode = int(m.group(1)), int(m.group(2))
            break
        msgs.append(text)
    if msgs and "\n".join(msgs):
        out["ErrorMsg"] = "\n".join(msgs)
    if error_type == "Warning":
        out["CriticalError"] = 0
    if code:
        out["HoldReasonCode"] = code
        out["HoldReasonSubCode"] = subcode
    return out


# ----------------------------------------- JobDisconnected / Reconnected / ReconnectFailed --

def _require(f, *keys):
    for k in keys:
        if not f.get(k):
            raise ValueError(f"this event needs a non-empty {k}")


def _fmt_disconnected(f) -> str:
    _require(f, "DisconnectReason", "StartdAddr", "StartdName")
    return ("Job disconnected, attempting to reconnect\n    %s\n    Trying to reconnect to %s %s\n"
            % (_notes(f["DisconnectReason"]), clean_text(f["StartdName"]),
               clean_text(f["StartdAddr"])))


def _parse_disconnected(lines: Lines) -> dict:
    if lines.next() is None:
        lines.fail("disconnected event is empty")
    line = lines.next()
    if line is None or not line.startswith("    ") or len(line) < 5:
        lines.fail(f"expected an indented disconnect reason, got {line!r}")
    reason = line[4:]
    line = lines.next()
    prefix = "    Trying to reconnect to "
    if line is None or prefix not in line:
        lines.fail(f"expected {prefix.strip()!r}, got {line!r}")
    line = line.replace(prefix, "")
    i = line.find(" ")
    if i < 0:
        lines.fail("expected 'Trying to reconnect to NAME ADDRESS'")
    return {"StartdAddr": line[i + 1:], "StartdName": line[:i], "DisconnectReason": reason,
            "EventDescription": "Job disconnected, attempting to reconnect"}


def _fmt_reconnected(f) -> str:
    _require(f, "StartdAddr", "StartdName", "StarterAddr")
    return ("Job reconnected to %s\n    startd address: %s\n    starter address: %s\n"
            % (clean_text(f["StartdName"]), clean_text(f["StartdAddr"]),
               clean_text(f["StarterAddr"])))


def _after(lines: Lines, prefix: str) -> str:
    line = lines.next()
    if line is None or prefix not in line:
        lines.fail(f"expected {prefix.strip()!r}, got {line!r}")
    return line.replace(prefix, "")


def _parse_reconnected(lines: Lines) -> dict:
    name = _after(lines, "Job reconnected to ")
    startd = _after(lines, "    startd address: ")
    starter = _after(lines, "    starter address: ")
    return {"StartdAddr": startd, "StartdName": name, "StarterAddr": starter,
            "EventDescription": "Job reconnected"}


def _fmt_reconnect_failed(f) -> str:
    _require(f, "Reason", "StartdName")
    return ("Job reconnection failed\n    %s\n    Can not reconnect to %s, rescheduling job\n"
            % (_notes(f["Reason"]), clean_text(f["StartdName"])))


def _parse_reconnect_failed(lines: Lines) -> dict:
    if lines.next() is None:
        lines.fail("reconnect-failed event is empty")
    line = lines.next()
    if line is None or not line.startswith("    ") or len(line) < 5:
        lines.fail(f"expected an indented reason, got {line!r}")
    reason = line[4:]
    rest = _after(lines, "    Can not reconnect to ")
    if "," not in rest:
        lines.fail("expected 'Can not reconnect to NAME, rescheduling job'")
    return {"StartdName": rest[:rest.index(",")], "Reason": reason,
            "EventDescription": "Job reconnect impossible: rescheduling job"}


# ------------------------------------------------------------ Grid events (025-027) ---------

def _fmt_grid(banner: str, job_id: bool):
    def fmt(f) -> str:
        out = banner + "\n    GridResource: %s\n" % (_notes(f.get("GridResource")) or "UNKNOWN")
        if job_id:
            out += "    GridJobId: %s\n" % (_notes(f.get("GridJobId")) or "UNKNOWN")
        return out
    return fmt


def _parse_grid(banner: str, job_id: bool):
    def parse(lines: Lines) -> dict:
        lines.value(banner)
        out = {}
        res = lines.value("    GridResource: ")
        if res:
            out["GridResource"] = res
        if job_id:
            jid = lines.value("    GridJobId: ")
            if jid:
                out["GridJobId"] = jid
        return out
    return parse


# --------------------------------------------------------- JobAdInformationEvent (028) ------

_COMMON_KEYS = ("EventTypeNumber", "MyType", "EventTime", "Cluster", "Proc", "Subproc")


def _fmt_job_ad(f) -> str:
    out = "Job ad information event triggered.\n"
    for k in sorted(f, key=str.lower):
        out += "%s = %s\n" % (k, unparse_old(f[k]))
    return out


def _parse_job_ad(lines: Lines) -> dict:
    lines.value("Job ad information event triggered.")
    ad: dict = {}
    while True:
        line = lines.next()
        if line is None:
            break
        kv = _parse_long_form(line)
        if kv is None:
            lines.fail(f"not an 'attribute = value' line: {line!r}")
        ad[kv[0]] = kv[1]
    if not ad:
        lines.fail("job ad information event has no attributes")
    return ad


# ------------------------------------------------- status / stage / simple banners ----------

def _banner_only(banner: str):
    def fmt(f) -> str:
        return banner + "\n"

    def parse(lines: Lines) -> dict:
        lines.value(banner)
        return {}
    return fmt, parse


# ------------------------------------------------------------- AttributeUpdate (033) --------

def _fmt_attribute_update(f) -> str:
    name, value = clean_text(f.get("Attribute", "")), clean_text(f.get("Value", ""))
    if f.get("OldValue") is not None:
        return "Changing job attribute %s from %s to %s\n" % (name, clean_text(f["OldValue"]),
                                                               value)
    return "Setting job attribute %s to %s\n" % (name, value)


def _parse_attribute_update(lines: Lines) -> dict:
    line = lines.next()
    if line is None:
        lines.fail("attribute update event is empty")
    # sscanf("Changing job attribute %s from %s to %s") assigns what matches, in order;
    # a line that does not start that way leaves every field empty (HTCondor's behaviour).
    m = re.match(r"Changing\s+job\s+attribute\s+(\S+)(?:\s+from\s+(\S+)(?:\s+to\s+(\S+))?)?",
                 line)
    if not line.strip():
        lines.fail("attribute update event has an empty first line")
    name = m.group(1) if m else ""
    value = (m.group(3) or "") if m else ""
    return {"Attribute": name, "Value": value}


# ---------------------------------------------------------------- PreSkipEvent (034) --------

def _fmt_preskip(f) -> str:
    _require(f, "SkipEventLogNotes")
    return "PRE script return value is PRE_SKIP value\n    %s\n" % _notes(f["SkipEventLogNotes"])


def _parse_preskip(lines: Lines) -> dict:
    if lines.next() is None:
        lines.fail("PRE_SKIP event is empty")
    line = lines.next()
    notes = "" if line is None else line.strip()
    if not notes:
        lines.fail("PRE_SKIP event needs a notes line")
    return {"SkipEventLogNotes": notes}


# ------------------------------------------ ClusterSubmit (035), ClusterRemove (036) --------

def _fmt_cluster_submit(f) -> str:
    return "Cluster submitted from host: %s\n" % clean_text(f.get("SubmitHost", "")) + _fmt_notes(f)


def _parse_cluster_submit(lines: Lines) -> dict:
    host = lines.value("Cluster submitted from host: ")
    notes: dict = {}
    _read_notes(lines, notes, warnings=False)
    out = {"SubmitHost": host} if host else {}
    if "StructuredNotes" in notes:
        out["StructuredNotes"] = notes["StructuredNotes"]
    return out


def _fmt_cluster_remove(f) -> str:
    completion = _int(f, "Completion", 0)
    out = "Cluster removed\n\tMaterialized %d jobs from %d items." % (_int(f, "NextProcId", 0),
                                                                       _int(f, "NextRow", 0))
    if completion <= -1:
        out += "\tError %d\n" % completion
    elif completion == 1:
        out += "\tComplete\n"
    elif completion >= 2:
        out += "\tPaused\n"
    else:
        out += "\tIncomplete\n"
    if f.get("Notes"):
        out += "\t%s\n" % clean_text(f["Notes"])
    return out


def _parse_cluster_remove(lines: Lines) -> dict:
    out = {"NextProcId": 0, "NextRow": 0, "Completion": 0}
    buf = lines.next()
    if buf is not None and ("remove" in buf or "Remove" in buf):
        buf = lines.next()
    if buf is None:
        return out
    p = buf.lstrip()
    m = re.match(r"Materialized\s*([+-]?\d+)\s*jobs\s+from\s*([+-]?\d+)\s*items\.", p)
    if m:
        out["NextProcId"], out["NextRow"] = int(m.group(1)), int(m.group(2))
        p = p[m.end():].lstrip()
    if p[:5].lower() == "error":
        code, _ = _sscanf_int(p[5:])
        out["Completion"] = code if code is not None and code < 0 else -1
    elif p[:8].lower() == "complete":
        out["Completion"] = 1
    elif p[:6].lower() == "paused":
        out["Completion"] = 2
    line = lines.next()
    if line is not None and line.strip():
        out = {"Notes": line.lstrip(), **out}
    return out


# ---------------------------------------------- FactoryPaused (037), FactoryResumed (038) ---

def _fmt_factory_paused(f) -> str:
    reason, pause, hold = clean_text(f.get("Reason", "")), _int(f, "PauseCode", 0), _int(
        f, "HoldCode", 0)
    out = "Job Materialization Paused\n"
    if reason or pause:
        out += "\t%s\n" % reason
    if pause:
        out += "\tPauseCode %d\n" % pause
    if hold:
        out += "\tHoldCode %d\n" % hold
    return out


def _parse_factory_paused(lines: Lines) -> dict:
    reason, pause, hold = "", 0, 0
    buf = lines.next()
    if buf is not None and ("pause" in buf or "Pause" in buf):
        buf = lines.next()
    if buf is not None:
        reason = buf.lstrip()
        while True:
            line = lines.next()
            if line is None:
                break
            matched = False
            i = line.find("PauseCode ")
            if i >= 0:
                pause = _sscanf_int(line, i + 10)[0] or 0
                matched = True
            j = line.find("HoldCode ", i + 10 if i >= 0 else 0)
            if j >= 0:
                hold = _sscanf_int(line, j + 9)[0] or 0
                matched = True
            if not matched:
                break
    out = {"Reason": reason} if reason else {}
    out["PauseCode"] = pause
    out["HoldCode"] = hold
    return out


def _parse_factory_resumed(lines: Lines) -> dict:
    buf = lines.next()
    if buf is not None and ("resume" in buf or "Resume" in buf):
        buf = lines.next()
    reason = "" if buf is None else buf.lstrip()
    return {"Reason": reason} if reason else {}



# ------------------------------------- DataflowJobSkipped (046), CommonFiles (047) ----------

def _parse_dataflow_skipped(lines: Lines) -> dict:
    lines.value("Dataflow job was skipped.")
    return _aborted_tail(lines)


_COMMON_FILES_TEXT = {
    "none": None,
    "transferqueued": "Entered queue to transfer common files",
    "transferstarted": "Started transferring common files",
    "transferfinished": "Finished transferring common files",
    "waitstarted": "Started waiting for previous job to transfer common files",
    "waitfinished": "Finished waitiing for previous job to transfer common files",  # sic
}


def _fmt_common_files(f) -> str:
    t = clean_text(f.get("Type", "None"))
    out = "Common files event: %s\n" % t
    text = _COMMON_FILES_TEXT.get(t.lower())
    if text:
        out += "\t%s\n" % text
    return out


def _parse_common_files(lines: Lines) -> dict:
    line = lines.next()
    m = re.search(r"Common files event: (.+)$", line or "")
    if not m:
        lines.fail(f"expected 'Common files event: TYPE', got {line!r}")
    return {"Type": m.group(1)}


# ------------------------------------------------- FutureEvent and EP (startd) events -------

def _fmt_future(f) -> str:
    out = clean_text(f.get("EventHead", "")) + "\n"
    payload = f.get(HINT_PAYLOAD)
    if payload is not None:
        return out + "".join(line + "\n" for line in payload)
    for k, v in f.items():
        if k != "EventHead":
            out += "%s = %s\n" % (k, unparse_old(v))
    return out


def _parse_future(lines: Lines) -> dict:
    """FutureEvent: the first line is EventHead, later ``attr = value`` lines become
    attributes, other lines are kept only as payload text."""
    head = lines.next()
    out = {"EventHead": head or ""}
    payload = []
    while True:
        line = lines.next()
        if line is None:
            break
        payload.append(line)
        if not line:
            continue
        kv = _parse_long_form(line)
        if kv and kv[0] not in out:
            out[kv[0]] = kv[1]
    out[HINT_PAYLOAD] = payload
    return out


def _fmt_ep(f) -> str:
    out = clean_text(f.get("EventHead", "")) + "\n"
    for k in sorted(f, key=str.lower):
        if k not in ("EventHead", "SlotId", "DSlotId"):
            out += "  %s = %s\n" % (k, unparse_old(f[k]))
    return out
