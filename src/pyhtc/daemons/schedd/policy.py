"""Periodic job policy: periodic_hold / periodic_release / periodic_remove.

Follows src/condor_utils/user_job_policy.cpp (UserPolicy::AnalyzePolicy, FiringReason) as
the schedd runs it every PERIODIC_EXPR_INTERVAL seconds on the jobs it manages:

1. not held and not completed: the job's ``PeriodicHold``, else SYSTEM_PERIODIC_HOLD -> hold
   with HoldReasonCode 3 (JobPolicy; subcode ``PeriodicHoldSubCode``, reason
   ``PeriodicHoldReason``) or 26 (SystemPolicy; SYSTEM_PERIODIC_HOLD_SUBCODE / _REASON);
2. held, not by the user (code 1) and fewer than SYSTEM_MAX_RELEASES holds: the job's
   ``PeriodicRelease``, else SYSTEM_PERIODIC_RELEASE -> release;
3. the job's ``PeriodicRemove``, else SYSTEM_PERIODIC_REMOVE -> remove.

Each SYSTEM_PERIODIC_<X> may be a list: SYSTEM_PERIODIC_<X>_NAMES = A B adds
SYSTEM_PERIODIC_<X>_A, ..._B (with their own _REASON and _SUBCODE), checked in that order
before the untagged knob (ENABLE_JOB_POLICY_LISTS in user_job_policy.cpp).

An expression fires when it evaluates to a non-zero number or true; the default reason is
"The job attribute PeriodicHold expression '<expr>' evaluated to TRUE" ("The system macro
SYSTEM_PERIODIC_HOLD expression ..." for the knobs).
"""
from __future__ import annotations

import time
from pyhtc.daemoncore.log import Category

from . import jobactions as J
from .jobads import eval_value, is_true, parse_expr

__all__ = ["PeriodicPolicy", "HOLD", "RELEASE", "REMOVE", "analyze"]

HOLD, RELEASE, REMOVE = "hold", "release", "remove"


def _fire(ad, attr: str, system):
    """Check one policy: the job attribute ``attr``, else each system expression in turn.
    Returns ``(reason, code, subcode)`` when one fires, else None.  ``system`` is a list of
    ``(knob name, expr, reason expr or None, subcode expr or None)`` (or None)."""
    if attr in ad:
        expr = ad.lookup(attr)
        if is_true(expr, ad):
            text = str(expr)
            reason = eval_value(parse_expr(f"{attr}Reason"), ad) if f"{attr}Reason" in ad else None
            sub = eval_value(parse_expr(f"{attr}SubCode"), ad) if f"{attr}SubCode" in ad else None
            if not isinstance(reason, str) or not reason:
                reason = f"The job attribute {attr} expression '{text}' evaluated to TRUE"
            sub = int(sub) if isinstance(sub, (int, float)) and not isinstance(sub, bool) else 0
            return reason, 3, sub
    for knob, expr, reason_expr, sub_expr in system or ():
        if is_true(expr, ad):
            reason = eval_value(reason_expr, ad) if reason_expr is not None else None
            sub = eval_value(sub_expr, ad) if sub_expr is not None else None
            if not isinstance(reason, str) or not reason:
                reason = f"The system macro {knob} expression '{expr}' evaluated to TRUE"
            sub = int(sub) if isinstance(sub, (int, float)) and not isinstance(sub, bool) else 0
            return reason, 26, sub
    return None


_JOB_POLICIES = ("PeriodicHold", "PeriodicRelease", "PeriodicRemove")


def _may_fire(text) -> bool:
    """False for a policy expression that cannot fire: absent or the literal false (what
    condor_submit writes by default)."""
    return text is not None and text.strip().lower() not in ("false", "0")


def analyze(ad, system: dict, max_releases: int):
    """UserPolicy::AnalyzePolicy in PERIODIC_ONLY mode: ``(action, reason, code, subcode)``
    or None.  ``system`` maps HOLD/RELEASE/REMOVE to the system tuples (or None)."""
    st = ad.get("JobStatus")
    if st not in (J.HELD, J.COMPLETED):
        hit = _fire(ad, "PeriodicHold", system.get(HOLD))
        if hit:
            return (HOLD,) + hit
    if st == J.HELD:
        code = ad.get("HoldReasonCode")
        holds = ad.get("NumHolds")
        holds = holds if isinstance(holds, int) else 0
        if holds < max_releases and code != 1:
            hit = _fire(ad, "PeriodicRelease", system.get(RELEASE))
            if hit:
                return (RELEASE,) + hit
    hit = _fire(ad, "PeriodicRemove", system.get(REMOVE))
    if hit:
        return (REMOVE,) + hit
    return None


class PeriodicPolicy:
    """Evaluates the periodic expressions of every job of the schedd (see module doc)."""

    def __init__(self, schedd):
        self.s = schedd
        self.configure()

    def configure(self) -> None:
        """Read SYSTEM_PERIODIC_{HOLD,RELEASE,REMOVE} with their _NAMES lists (each tag T
        adds knob ``<X>_T`` with ``<X>_T_REASON`` / ``<X>_T_SUBCODE``; the untagged knob is
        checked last, as load_policy_list does) and SYSTEM_MAX_RELEASES."""
        self.system = {}
        for action, base in ((HOLD, "SYSTEM_PERIODIC_HOLD"), (RELEASE, "SYSTEM_PERIODIC_RELEASE"),
                             (REMOVE, "SYSTEM_PERIODIC_REMOVE")):
            tags = [t for t in (self.s.param(base + "_NAMES") or "").replace(",", " ").split()
                    if t.upper() != "NAMES"]
            knobs = [f"{base}_{t}" for t in dict.fromkeys(tags)] + [base]
            policies = []
            for knob in knobs:
                text = self.s.param(knob)
                if not text:
                    continue
                try:
                    expr = parse_expr(text)
                    extras = []
                    for suffix in ("_REASON", "_SUBCODE"):
                        t = self.s.param(knob + suffix)
                        extras.append(parse_expr(t) if t else None)
                except Exception as exc:
                    self.s.dprintf(Category.ALWAYS, f"WARNING: ignoring invalid {knob} expression: {exc}")
                    continue
                if str(expr).strip().lower() in ("false", "0"):
                    continue
                policies.append((base, expr, extras[0], extras[1]))
            self.system[action] = policies
        mr = self.s.param_integer("SYSTEM_MAX_RELEASES", -1)
        self.max_releases = mr if mr >= 0 else 2 ** 31 - 1

    def run(self) -> None:
        """One pass over the queue; all resulting changes commit in one transaction."""
        q = self.s.queue
        tx = q.begin("condor@" + self.s.uid_domain)
        now = int(time.time())
        events = []
        fired = 0
        only_job_policies = not any(self.system.get(k) for k in (HOLD, RELEASE, REMOVE))
        for c, p in list(q.jobs()):
            # without SYSTEM_PERIODIC_* only a job's own Periodic* can fire: skip the jobs
            # whose texts are absent or "false" without building their ads (a 100,000-job
            # queue is one dict lookup per attribute and job, not 100,000 ClassAds a pass)
            if only_job_policies and not any(_may_fire(q.lookup(c, p, a)) for a in _JOB_POLICIES):
                continue
            ad = self.s.ads.get(c, p)
            if ad is None:
                continue
            hit = analyze(ad, self.system, self.max_releases)
            if hit is None:
                continue
            action, reason, code, sub = hit
            fired += 1
            self.s.dprintf(Category.ALWAYS, f"Job {c}.{p}: periodic {action}: {reason}")
            if action == HOLD:
                events.append(J.hold_job(tx, c, p, reason, code, sub, now, system_hold=True))
            elif action == RELEASE:
                events.append(J.release_job(tx, c, p, reason, now))
            else:
                running = ad.get("JobStatus") in (J.RUNNING, J.TRANSFERRING_OUTPUT, J.SUSPENDED)
                events.append(J.remove_job(tx, c, p, reason, now, log=not running))
                if not running:
                    tx.retire(c, p, now)
        if not fired:
            tx.abort()
            return
        tx.commit()
        self.s.write_events(events)
        self.s.queue_changed()
