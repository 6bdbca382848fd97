"""The JSON variant of the event log (DEFAULT_USERLOG_FORMAT_OPTIONS = JSON).

Each event is its ClassAd (the same attributes :class:`~pyhtc.userlog.events.JobEvent`
holds) written as one JSON object, pretty-printed the way ``classad::ClassAdJsonUnParser``
does (two-space indentation, reals as ``%.16G``, expressions as ``"\\/Expr(...)\\/"``) and
followed by a newline (WriteUserLog::doWriteEvent in src/condor_utils/write_user_log.cpp).
Reading follows ReadUserLog::readEventClassad: the object is turned back into an event of
its type and then into that event's ClassAd, so only the attributes the event type knows
survive, exactly as with HTCondor's reader.
"""
from __future__ import annotations

import calendar
import json
import math
import time

from .adtext import Expression
from .bodies import clean_text, format_body, merge_job_ad
from .events import COMMON_KEYS, JobAdEvent, JobEvent, base_data, event_from_lines
from .eventtypes import JobEventType
from .header import UTC

__all__ = ["format_event_json", "event_from_json", "find_json_object"]


def _real(x: float) -> str:
    if not math.isfinite(x):
        return "null"
    s = "%.16G" % x
    if not any(c in s for c in ".EN"):
        s += ".0"
    return s


def _value(v, indent: int) -> str:
    pad = "  " * indent
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _real(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Expression):
        return '"\\/Expr(' + json.dumps(v.text, ensure_ascii=False)[1:-1] + ')\\/"'
    if isinstance(v, dict):
        if not v:
            return "{\n" + pad + "}"
        items = [f'{pad}  {json.dumps(k, ensure_ascii=False)}: {_value(x, indent + 1)}'
                 for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[\n" + pad + "]"
        items = [f"{pad}  {_value(x, indent + 1)}" for x in v]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} as JSON")


def _event_time(sec: int, usec: int, utc: bool) -> str:
    tm = time.gmtime(sec) if utc else time.localtime(sec)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % tm[:6]
    if usec:
        s += ".%03d" % (usec // 1000)
    return s + ("Z" if utc else "")


def format_event_json(event: JobEvent, options: int = 0) -> str:
    """One event as HTCondor's JSON event log writes it (ends with a newline).

    The fields are checked by formatting the text body first, so an event HTCondor could not
    write (a required field missing) raises ValueError here too.
    """
    number = int(event["EventTypeNumber"])
    format_body(number, event.fields)
    data = event.to_dict()
    data["EventTime"] = _event_time(*event.clock, bool(options & UTC))
    return _value(data, 0) + "\n"


def find_json_object(buf: bytes, start: int) -> int:
    """Index just past the JSON object starting at ``buf[start]`` (a ``{``), or -1 if the
    object is not complete yet."""
    depth = 0
    i, n = start, len(buf)
    in_str = False
    while i < n:
        c = buf[i]
        if in_str:
            if c == 0x5C:          # backslash
                i += 2
                continue
            if c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
        elif c in (0x7B, 0x5B):
            depth += 1
        elif c in (0x7D, 0x5D):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _from_json(v):
    if isinstance(v, str) and v.startswith("/Expr(") and v.endswith(")/"):
        return Expression(v[6:-2])
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    return v


def _parse_event_time(text: str):
    """``(sec, usec)`` of an EventTime value (UTC if it ends with Z, else local time)."""
    utc = text.endswith("Z")
    body = text[:-1] if utc else text
    frac = ""
    if "." in body:
        body, frac = body.split(".", 1)
    tm = time.strptime(body, "%Y-%m-%dT%H:%M:%S")
    fields = (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 0, 0, -1)
    sec = calendar.timegm(fields) if utc else int(time.mktime(fields))
    usec = int((frac + "000000")[:6]) if frac else 0
    return sec, usec


def event_from_json(text: str) -> JobEvent:
    """The event a JSON object describes, as HTCondor's reader would return it.

    Raises ValueError (json.JSONDecodeError, or a message naming the missing attribute).
    """
    ad = _from_json(json.loads(text))
    if not isinstance(ad, dict):
        raise ValueError("a JSON event must be an object")
    lower = {k.lower(): k for k in ad}
    if "eventtypenumber" not in lower or not isinstance(ad[lower["eventtypenumber"]], int):
        raise ValueError("JSON event has no integer EventTypeNumber")
    number = ad[lower["eventtypenumber"]]
    sec, usec = int(time.time()), 0
    if "eventtime" in lower:
        sec, usec = _parse_event_time(str(ad[lower["eventtime"]]))

    def get_id(name):
        v = ad.get(lower.get(name.lower(), ""), -1)
        return v if isinstance(v, int) and not isinstance(v, bool) else -1

    if 100 <= number <= 112:
        cluster, proc, subproc = get_id("SlotId"), get_id("DSlotId"), -1
    else:
        cluster, proc, subproc = get_id("Cluster"), get_id("Proc"), get_id("Subproc")
    common = {k.lower() for k in COMMON_KEYS}
    if number == JobEventType.JOB_AD_INFORMATION:
        fields = {k: v for k, v in ad.items() if k.lower() not in ("eventtime",)}
        data = merge_job_ad(base_data(number, cluster, proc, subproc, sec, usec), fields)
        data["MyType"] = "JobAdInformationEvent"
        return JobAdEvent(data, sec, usec, fields)
    fields = {k: v for k, v in ad.items() if k.lower() not in common}
    data = base_data(number, cluster, proc, subproc, sec, usec)
    data.update(_normalize(number, fields))
    return JobEvent(data, sec, usec)


# Attributes initFromClassAd copies straight from the ad for these events (their text form
# would transform them: "DAG Node:" notes, the quirky attribute-update line).
_DIRECT = {
    JobEventType.SUBMIT: ("SubmitHost", "LogNotes", "UserNotes", "Warnings", "StructuredNotes"),
    JobEventType.CLUSTER_SUBMIT: ("SubmitHost", "StructuredNotes"),
    JobEventType.ATTRIBUTE_UPDATE: ("Attribute", "Value"),
}


def _normalize(number: int, fields: dict) -> dict:
    """The fields HTCondor's event object keeps from an ad (initFromClassAd, then toClassAd).

    Done by writing the event's text and reading it back, then taking strings and reals from
    the ad itself where the text form had trimmed, cleaned or rounded them (the ClassAd path
    does not).
    """
    lower = {k.lower(): k for k in fields}
    if number in _DIRECT:
        out = {}
        for key in _DIRECT[number]:
            v = fields.get(lower.get(key.lower(), ""))
            if (isinstance(v, str) and v) or (isinstance(v, dict) and v and key == "StructuredNotes"):
                out[key] = v
        return out
    body = format_body(number, fields).split("\n")
    if body and body[-1] == "":
        body.pop()
    parsed = event_from_lines(number, -1, -1, -1, 0, 0, body).fields
    for key, value in parsed.items():
        src = fields.get(lower.get(key.lower(), ""))
        if isinstance(value, str) and isinstance(src, str) and value == clean_text(src).strip():
            parsed[key] = src
        elif (isinstance(value, float) and isinstance(src, (int, float))
              and not isinstance(src, bool)):
            parsed[key] = float(src)
    return parsed
