"""One job event: a read-only mapping of its ClassAd attributes, plus its text form.

:class:`JobEvent` mirrors ``htcondor2.JobEvent``: item access by attribute name
(case-insensitive, as ClassAd lookups are) and the attributes ``type``, ``cluster``,
``proc`` and ``timestamp``.  Its keys are those of HTCondor's ``ULogEvent::toClassAd``
(src/condor_utils/condor_event.cpp): ``EventTypeNumber``, ``MyType``, ``EventTime``,
``Cluster``/``Proc``/``Subproc`` when not negative, and the event's own fields.
"""
from __future__ import annotations

import datetime
import time
from collections.abc import Mapping

from .adtext import Expression
from .bodies import format_body, is_ep_event, merge_job_ad, parse_body, split_hints
from .eventtypes import JobEventType, my_type_name, ulog_name
from .header import DEFAULT_FORMAT_OPTIONS, event_time_string, format_header

def _api_value(v):
    """A stored value as htcondor2.JobEvent gives it: nested ads as ClassAd, expressions
    as ExprTree (recursively through lists and ads)."""
    from pyhtc import classad as C
    if type(v) is dict:
        ad = C.ClassAd()
        for k, x in v.items():
            ad[k] = _api_value(x)
        return ad
    if type(v) is list:
        return [_api_value(x) for x in v]
    if type(v) is Expression:
        return C.ExprTree(v.text)
    return v


__all__ = ["JobEvent", "JobAdEvent", "make_event", "format_event", "base_data", "event_from_lines",
           "COMMON_KEYS"]

COMMON_KEYS = ("EventTypeNumber", "MyType", "EventTime", "Cluster", "Proc", "Subproc",
               "SlotId", "DSlotId")


class JobEvent(Mapping):
    """A single event of a job event log (``htcondor2.JobEvent``).

    ``event[key]`` gives a value as htcondor2 does: int, float, bool, str, list, a
    :class:`pyhtc.classad.ClassAd` for a nested ad (a submit event's ``StructuredNotes``) and a
    :class:`pyhtc.classad.ExprTree` for an expression that is not a literal (e.g. ``time()``
    in a JOB_AD_INFORMATION event); lookups ignore case.  The event keeps plain values
    (dict, :class:`~pyhtc.userlog.adtext.Expression`) inside, for the log writer and readers.
    ``str(event)`` is the event's text as HTCondor writes it (header, body, no ``...`` line).
    """

    __slots__ = ("_data", "_lower", "_sec", "_usec", "_text", "_hints")

    def __init__(self, data: dict, sec: int, usec: int = 0, text: str | None = None,
                 hints: dict | None = None):
        self._hints = hints or {}
        self._data = dict(data)
        self._lower = None          # lower-case name -> name, built on first miss
        self._sec = int(sec)
        self._usec = int(usec)
        self._text = text

    # --- Mapping ---
    def _real_key(self, key):
        if key in self._data:
            return key
        if not isinstance(key, str):
            return None
        if self._lower is None:
            self._lower = {k.lower(): k for k in self._data}
        return self._lower.get(key.lower())

    def __getitem__(self, key):
        real = self._real_key(key)
        if real is None:
            raise KeyError(key)
        v = self._data[real]
        return _api_value(v) if type(v) in (dict, list, Expression) else v

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        return self._real_key(key) is not None

    # --- htcondor2.JobEvent attributes ---
    @property
    def type(self):
        """The :class:`JobEventType` (a plain int for a number HTCondor does not define)."""
        n = self._data["EventTypeNumber"]
        try:
            return JobEventType(n)
        except ValueError:
            return n

    @property
    def cluster(self) -> int:
        """Cluster id, -1 if the event has none."""
        return self.get("Cluster", -1)

    @property
    def proc(self) -> int:
        """Proc id, -1 if the event has none."""
        return self.get("Proc", -1)

    @property
    def subproc(self) -> int:
        """Subproc id, -1 if the event has none."""
        return self.get("Subproc", -1)

    @property
    def timestamp(self) -> int:
        """Unix time of the event, computed from ``EventTime`` read as local time (exactly
        as htcondor2.JobEvent.timestamp does)."""
        iso = self._data["EventTime"]
        fmt = "%Y-%m-%dT%H:%M:%S"
        if "." in iso:
            fmt += ".%f"
        if iso.endswith("Z"):
            fmt += "Z"
        return int(datetime.datetime.strptime(iso, fmt).timestamp())

    @property
    def clock(self) -> tuple[int, int]:
        """``(seconds, microseconds)`` of the event time as recorded."""
        return self._sec, self._usec

    @property
    def fields(self) -> dict:
        """The event-specific attributes (everything but the common header keys)."""
        return {k: v for k, v in self._data.items() if k not in COMMON_KEYS}

    def to_dict(self) -> dict:
        """All attributes as a new plain dict."""
        return dict(self._data)

    def format(self, options: int = DEFAULT_FORMAT_OPTIONS) -> str:
        """The event's text with the given header format options, ending with ``...\\n``."""
        return format_event(self, options)

    def __str__(self):
        if self._text is None:
            self._text = format_event(self)[:-4]
        return self._text

    def __repr__(self):
        t = self.type
        tname = f"JobEventType.{t.name}" if isinstance(t, JobEventType) else str(t)
        return (f"JobEvent(type={tname}, cluster={self.cluster}, proc={self.proc}, "
                f"timestamp={self.timestamp})")

    def __eq__(self, other):
        if isinstance(other, JobEvent):
            return self._data == other._data
        return NotImplemented

    __hash__ = None


def base_data(number: int, cluster: int, proc: int, subproc: int, sec: int, usec: int) -> dict:
    """The attributes every event's ClassAd starts with (ULogEvent::toClassAd)."""
    data = {"EventTypeNumber": number, "MyType": my_type_name(number),
            "EventTime": event_time_string(sec, usec)}
    if is_ep_event(number):
        if cluster > 0:
            data["SlotId"] = cluster
        if proc > 0:
            data["DSlotId"] = proc
        return data
    if cluster >= 0:
        data["Cluster"] = cluster
    if proc >= 0:
        data["Proc"] = proc
    if subproc >= 0:
        data["Subproc"] = subproc
    return data


def _split_time(when) -> tuple[int, int]:
    if when is None:
        when = time.time()
    if isinstance(when, datetime.datetime):
        when = when.timestamp()
    if isinstance(when, tuple):
        return int(when[0]), int(when[1])
    sec = int(when // 1)
    usec = int(round((when - sec) * 1_000_000))
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


def make_event(event_type, cluster: int = -1, proc: int = -1, subproc: int = 0, *,
               when=None, **fields) -> JobEvent:
    """Build an event to write.

    ``event_type`` is a :class:`JobEventType` or its number; ``when`` is the event time
    (Unix seconds as int/float, a datetime, ``(sec, usec)``, or None for now); ``fields``
    are the event's attributes named as in ``htcondor2.JobEvent`` (for example
    ``make_event(JobEventType.JOB_HELD, 12, 0, HoldReason="...", HoldReasonCode=3,
    HoldReasonSubCode=0)``).  For JOB_AD_INFORMATION the fields are the ad's attributes;
    ``TriggerEventTypeNumber`` gets its ``TriggerEventTypeName`` added.
    """
    number = int(event_type)
    if not 0 <= number <= 999:
        raise ValueError(f"event type must be 0..999, got {number}")
    sec, usec = _split_time(when)
    data = base_data(number, cluster, proc, subproc, sec, usec)
    if number == JobEventType.JOB_AD_INFORMATION:
        if "TriggerEventTypeNumber" in fields and "TriggerEventTypeName" not in fields:
            fields["TriggerEventTypeName"] = ulog_name(int(fields["TriggerEventTypeNumber"]))
        data = merge_job_ad(data, fields)
        data["MyType"] = "JobAdInformationEvent"
        return JobAdEvent(data, sec, usec, fields)
    data.update(fields)
    return JobEvent(data, sec, usec)


class JobAdEvent(JobEvent):
    """A JOB_AD_INFORMATION event also remembers the ad it carries (for writing)."""

    __slots__ = ("job_ad",)

    def __init__(self, data, sec, usec, job_ad, text=None):
        super().__init__(data, sec, usec, text)
        self.job_ad = dict(job_ad)

    @property
    def fields(self) -> dict:
        return dict(self.job_ad)


def format_event(event: JobEvent, options: int = DEFAULT_FORMAT_OPTIONS) -> str:
    """The complete text of ``event`` as HTCondor writes it: header, body, ``...`` line.

    ``options`` are header flags from :mod:`pyhtc.userlog.header` (ISO_DATE by default).
    Raises ValueError if the event lacks fields its type requires.
    """
    number = int(event["EventTypeNumber"])
    if is_ep_event(number):
        cluster, proc, subproc = event.get("SlotId", 0), event.get("DSlotId", 0), 0
    else:
        cluster, proc, subproc = event.cluster, event.proc, event.subproc
    sec, usec = event.clock
    fields = event.fields
    if event._hints:
        fields = {**fields, **event._hints}
    return (format_header(number, cluster, proc, subproc, sec, usec, options)
            + format_body(number, fields) + "...\n")


def event_from_lines(number: int, cluster: int, proc: int, subproc: int, sec: int, usec: int,
                     body: list[str]) -> JobEvent:
    """Build a read event from its parsed header and body lines (raises BodyError)."""
    fields, hints = split_hints(parse_body(number, body))
    data = base_data(number, cluster, proc, subproc, sec, usec)
    if number == JobEventType.JOB_AD_INFORMATION:
        data = merge_job_ad(data, fields)
        data["MyType"] = "JobAdInformationEvent"
        return JobAdEvent(data, sec, usec, fields)
    for k, v in fields.items():
        data[k] = v
    return JobEvent(data, sec, usec, hints=hints)
