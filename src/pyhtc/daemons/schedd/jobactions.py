"""Job state changes done by the schedd: hold, release, remove (inside a queue transaction).

Semantics follow src/condor_schedd.V6/schedd.cpp (holdJobRaw, releaseJobRaw, abortJobRaw,
fixReasonAttrs, actOnJobs) and the JobStatus hook of qmgmt.cpp SetAttribute:

- hold: ``HoldReason`` (quoted), ``HoldReasonCode``, ``HoldReasonSubCode``, ``JobStatus = 5``,
  ``LastJobStatus``, ``EnteredCurrentStatus``, ``LastSuspensionTime = 0``; ``NumHolds`` and
  ``NumHoldsByReason`` count the holds; ``ReleaseReason`` moves to ``LastReleaseReason``;
  a removed job that is held remembers ``JobStatusOnRelease = 3``;
- release: ``ReleaseReason``; ``JobStatus`` = ``JobStatusOnRelease`` (default 1 Idle);
  ``HoldReason``/``HoldReasonCode``/``HoldReasonSubCode`` move to their ``Last*`` names;
- remove: ``JobStatus = 3``, ``RemoveReason``; hold reasons move to ``Last*``.

Each function returns the user-log event to write once the transaction is committed
(JOB_HELD, JOB_RELEASED, JOB_ABORTED) as ``(path, event)``, or None when the job has no
``UserLog``.
"""
from __future__ import annotations

import os
from typing import Optional

from pyhtc.userlog import JobEventType, make_event

__all__ = ["IDLE", "RUNNING", "REMOVED", "COMPLETED", "HELD", "TRANSFERRING_OUTPUT",
           "SUSPENDED", "HOLD_CODE_NAMES", "count_hold", "hold_job", "release_job", "remove_job", "abort_event",
           "user_log_path", "quote", "unquote"]

# JobStatus values (FEATURES.md b; condor_includes/proc.h)
IDLE, RUNNING, REMOVED, COMPLETED, HELD, TRANSFERRING_OUTPUT, SUSPENDED = 1, 2, 3, 4, 5, 6, 7

# CONDOR_HOLD_CODE names (src/condor_utils/condor_holdcodes.h), for NumHoldsByReason
HOLD_CODE_NAMES = {
    0: "Unspecified", 1: "UserRequest", 2: "GlobusGramError", 3: "JobPolicy",
    4: "CorruptedCredential", 5: "JobPolicyUndefined", 6: "FailedToCreateProcess",
    7: "UnableToOpenOutput", 8: "UnableToOpenInput", 9: "UnableToOpenOutputStream",
    10: "UnableToOpenInputStream", 11: "InvalidTransferAck", 12: "TransferOutputError",
    13: "TransferInputError", 14: "IwdError", 15: "SubmittedOnHold", 16: "SpoolingInput",
    17: "JobShadowMismatch", 18: "InvalidTransferGoAhead", 19: "HookPrepareJobFailure",
    20: "MissedDeferredExecutionTime", 21: "StartdHeldJob", 22: "UnableToInitUserLog",
    23: "FailedToAccessUserAccount", 24: "NoCompatibleShadow", 25: "InvalidCronSettings",
    26: "SystemPolicy", 27: "SystemPolicyUndefined", 32: "MaxTransferInputSizeExceeded",
    33: "MaxTransferOutputSizeExceeded", 34: "JobOutOfResources", 35: "InvalidDockerImage",
    36: "FailedToCheckpoint", 43: "PreScriptFailed", 44: "PostScriptFailed",
    45: "SingularityTestFailed", 46: "JobDurationExceeded", 47: "JobExecuteExceeded",
    48: "HookShadowPrepareJobFailure", 49: "CannotSwitchPrimaryGroup",
}


def quote(s: str) -> str:
    """A ClassAd string literal for ``s`` (old syntax: only ``"`` and ``\\`` escaped)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(text: Optional[str]) -> Optional[str]:
    """The value of a string-literal expression text, or None if ``text`` is not one."""
    if text is None or len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    body = text[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _int(text: Optional[str], default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def user_log_path(tx, cluster: int, proc: int) -> Optional[str]:
    """The job's user log (``UserLog``, relative to ``Iwd``), or None."""
    log = unquote(tx.get_attribute(cluster, proc, "UserLog"))
    if not log:
        return None
    if not os.path.isabs(log):
        iwd = unquote(tx.get_attribute(cluster, proc, "Iwd")) or "/"
        log = os.path.join(iwd, log)
    return log


def _event(tx, cluster, proc, etype, when, **fields):
    path = user_log_path(tx, cluster, proc)
    if path is None:
        return None
    return path, make_event(etype, cluster, proc, 0, when=when, **fields)


def _move(tx, c, p, old: str, new: str) -> None:
    val = tx.get_attribute(c, p, old)
    if val is None:
        return
    tx.set_attribute(c, p, new, val)
    if tx.delete_attribute(c, p, old) is False:
        tx.set_attribute(c, p, old, "undefined")  # only on the cluster ad: hide it


def _set_status(tx, c, p, new: int, now: int) -> None:
    cur = _int(tx.get_attribute(c, p, "JobStatus"))
    if cur and cur != new:
        tx.set_attribute(c, p, "LastJobStatus", str(cur))
    tx.set_attribute(c, p, "JobStatus", str(new))
    tx.set_attribute(c, p, "EnteredCurrentStatus", str(now))


def count_hold(tx, c, p, code: int) -> None:
    """Add one hold with ``code`` to ``NumHolds`` and ``NumHoldsByReason`` (qmgmt.cpp)."""
    tx.set_attribute(c, p, "NumHolds", str(_int(tx.get_attribute(c, p, "NumHolds")) + 1))
    name = HOLD_CODE_NAMES.get(code, "Unspecified")
    counts: dict[str, int] = {}
    text = tx.get_attribute(c, p, "NumHoldsByReason")
    if text and text.startswith("[") and text.endswith("]"):
        for part in text[1:-1].split(";"):
            k, eq, v = part.partition("=")
            if eq and k.strip():
                counts[k.strip()] = _int(v.strip())
    counts[name] = counts.get(name, 0) + 1
    tx.set_attribute(c, p, "NumHoldsByReason",
                     "[ " + "; ".join(f"{k} = {v}" for k, v in counts.items()) + " ]")


def hold_job(tx, c: int, p: int, reason: str, code: int, subcode: int, now: int,
             system_hold: bool = False):
    """Put ``c.p`` on hold (holdJobRaw); returns the JOB_HELD event ``(path, event)`` or
    None.  The caller has checked the job may be held."""
    cur = _int(tx.get_attribute(c, p, "JobStatus"))
    if cur == REMOVED and _int(tx.get_attribute(c, p, "JobStatusOnRelease")) != REMOVED:
        tx.set_attribute(c, p, "JobStatusOnRelease", str(REMOVED))
    tx.set_attribute(c, p, "HoldReason", quote(reason))
    tx.set_attribute(c, p, "HoldReasonCode", str(code))
    tx.set_attribute(c, p, "HoldReasonSubCode", str(subcode))
    if code != 16:  # SpoolingInput holds are not counted (qmgmt.cpp)
        count_hold(tx, c, p, code)
    _set_status(tx, c, p, HELD, now)
    _move(tx, c, p, "ReleaseReason", "LastReleaseReason")
    tx.set_attribute(c, p, "LastSuspensionTime", "0")
    if system_hold:
        tx.set_attribute(c, p, "NumSystemHolds",
                         str(_int(tx.get_attribute(c, p, "NumSystemHolds")) + 1))
    return _event(tx, c, p, JobEventType.JOB_HELD, now, HoldReason=reason,
                  HoldReasonCode=code, HoldReasonSubCode=subcode)


def release_job(tx, c: int, p: int, reason: Optional[str], now: int):
    """Release held ``c.p`` (releaseJobRaw + fixReasonAttrs); returns the JOB_RELEASED
    event or None."""
    if reason:
        tx.set_attribute(c, p, "ReleaseReason", quote(reason))
    new = _int(tx.get_attribute(c, p, "JobStatusOnRelease"), IDLE) or IDLE
    _set_status(tx, c, p, new, now)
    _move(tx, c, p, "HoldReason", "LastHoldReason")
    _move(tx, c, p, "HoldReasonCode", "LastHoldReasonCode")
    _move(tx, c, p, "HoldReasonSubCode", "LastHoldReasonSubCode")
    if tx.get_attribute(c, p, "JobStatusOnRelease") is not None:
        tx.delete_attribute(c, p, "JobStatusOnRelease")
    tx.set_attribute(c, p, "LastSuspensionTime", "0")
    fields = {"Reason": reason} if reason else {}
    return _event(tx, c, p, JobEventType.JOB_RELEASED, now, **fields)


def remove_job(tx, c: int, p: int, reason: Optional[str], now: int, log: bool = True):
    """Mark ``c.p`` removed (abortJobRaw + fixReasonAttrs); returns the JOB_ABORTED event
    or None.  Moving the job to history is the caller's business (after commit).

    ``log=False`` for a job that is running: its shadow first logs the eviction, and the
    schedd writes JOB_ABORTED once that shadow has exited (schedd.cpp: a REMOVED job's
    abort event is written when its shadow is reaped) -- see :func:`abort_event`."""
    _set_status(tx, c, p, REMOVED, now)
    if reason:
        tx.set_attribute(c, p, "RemoveReason", quote(reason))
    _move(tx, c, p, "HoldReason", "LastHoldReason")
    _move(tx, c, p, "HoldReasonCode", "LastHoldReasonCode")
    _move(tx, c, p, "HoldReasonSubCode", "LastHoldReasonSubCode")
    if tx.get_attribute(c, p, "JobStatusOnRelease") is not None:
        tx.delete_attribute(c, p, "JobStatusOnRelease")
    return abort_event(tx, c, p, now) if log else None


def abort_event(tx, c: int, p: int, now: int):
    """The JOB_ABORTED event of removed job ``c.p`` (its RemoveReason as the reason), or
    None when the job has no user log."""
    reason = unquote(tx.get_attribute(c, p, "RemoveReason"))
    fields = {"Reason": reason} if reason else {}
    return _event(tx, c, p, JobEventType.JOB_ABORTED, now, **fields)
