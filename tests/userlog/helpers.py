"""Shared helpers for the user log tests: compare our events with the htcondor2 oracle's."""
from __future__ import annotations

import classad2
import htcondor2

from pyhtc import classad as C
from pyhtc.userlog import Expression, JobEventLog


def oracle_value(v):
    """A classad2 value as a plain comparable Python value."""
    if isinstance(v, classad2.ClassAd):
        return {k: oracle_value(x) for k, x in v.items()}
    if isinstance(v, classad2.ExprTree):
        return ("expr", str(v))
    if isinstance(v, list):
        return [oracle_value(x) for x in v]
    return v


def our_value(v):
    """One of our values (an event's, or a plain expected one: dict, Expression) in the same
    comparable form as :func:`oracle_value`."""
    if isinstance(v, Expression):
        return ("expr", v.text)
    if isinstance(v, dict):
        return {k: our_value(x) for k, x in v.items()}
    if isinstance(v, C.ExprTree):
        return ("expr", str(v))
    if isinstance(v, C.ClassAd):
        return {k: our_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [our_value(x) for x in v]
    return v


def oracle_events(path) -> list:
    """Every event the real htcondor2.JobEventLog reads from ``path`` (no waiting)."""
    return list(htcondor2.JobEventLog(str(path)).events(0))


def our_events(path) -> list:
    return list(JobEventLog(path).events(0))


def as_oracle_dict(event) -> dict:
    return {k: oracle_value(event[k]) for k in event}


def as_our_dict(event) -> dict:
    """An event's values, checked to be what htcondor2 gives (pyhtc ClassAd / ExprTree
    where htcondor2 gives classad2's, never a plain dict or Expression), made comparable."""
    out = {}
    for k in event:
        v = event[k]
        assert not isinstance(v, (dict, Expression)), f"JobEvent gave a {type(v).__name__}: {v!r}"
        out[k] = our_value(v)
    return out


def assert_same_event(oracle_ev, our_ev, where: str = "") -> None:
    """Type, ids, timestamp and every key/value (and value type) must agree."""
    assert int(oracle_ev["EventTypeNumber"]) == int(our_ev["EventTypeNumber"]), where
    if int(oracle_ev["EventTypeNumber"]) in {int(t) for t in htcondor2.JobEventType}:
        assert int(oracle_ev.type) == int(our_ev.type), where
    assert (oracle_ev.cluster, oracle_ev.proc, oracle_ev.timestamp) == \
        (our_ev.cluster, our_ev.proc, our_ev.timestamp), where
    od, ud = as_oracle_dict(oracle_ev), as_our_dict(our_ev)
    assert od == ud, f"{where}: oracle {od} != ours {ud}"
    for k in od:
        assert type(od[k]) is type(ud[k]), f"{where}: {k}: {type(od[k])} vs {type(ud[k])}"


def assert_logs_agree(path) -> int:
    """Both readers read the same events from ``path``; returns how many."""
    theirs, ours = oracle_events(path), our_events(path)
    assert len(theirs) == len(ours), f"{path}: oracle read {len(theirs)}, we read {len(ours)}"
    for i, (a, b) in enumerate(zip(theirs, ours)):
        assert_same_event(a, b, f"{path} event #{i}")
    return len(ours)
