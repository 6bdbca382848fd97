"""The schedd's one-shot commands: QUERY_JOB_ADS(_WITH_AUTH), ACT_ON_JOBS, QUERY_SCHEDD_HISTORY.

- QUERY_JOB_ADS (schedd.cpp command_query_job_ads, PROTOCOL.md 6.4): request ad with
  ``Requirements``, ``Projection`` (newline/comma separated), ``LimitResults``,
  ``SendServerTime``, ``MyJobs``/``Me``, ``SummaryOnly``, ``IncludeClusterAd``,
  ``NoProcAds``; reply: one message per job ad,
  then a terminator ad ``Owner = 0, ErrorCode = 0, MyType = "Summary"`` with job totals
  (``Jobs``, ``Idle``, ``Running``, ``Held``, ...; ``Allusers*``; ``My*``).
- ACT_ON_JOBS (schedd.cpp actOnJobs, PROTOCOL.md 6.5): forced authentication if needed,
  action ad, per-job checks, result ad; if anything succeeded the client confirms with
  ``int 1`` and the schedd commits and answers ``int 1``.
- QUERY_SCHEDD_HISTORY (condor_utils/history_queue.cpp, condor_tools/history.cpp): request
  ad with ``Requirements``, ``Projection`` (a list or a string), ``NumJobMatches``, ``Since``;
  reply: the ads most recent first, all in one message, then ``Owner = 0, NumJobMatches = n,
  MalformedAds = 0`` and end of message.
"""
from __future__ import annotations

import re
import time

from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.wire_ad import WireAd
from pyhtc.daemoncore.log import Category
from pyhtc.userlog import JobEventType, make_event

from . import jobactions as J
from .jobads import ConstraintMatcher, JobEncoder, eval_value, is_true, parse_expr, wire_ad

__all__ = ["query_jobs", "act_on_jobs", "query_history", "JobAction", "job_counts"]


class JobAction:
    """JobAction values (src/condor_includes/proc.h)."""

    HOLD, RELEASE, REMOVE, REMOVE_X, VACATE, VACATE_FAST, CLEAR_DIRTY, SUSPEND, CONTINUE, \
        TRANSFER_AND_REMOVE = range(1, 11)


# action results (AR_*, src/condor_includes/condor_attributes.h / dc_schedd.h)
AR_ERROR, AR_SUCCESS, AR_NOT_FOUND, AR_BAD_STATUS, AR_ALREADY_DONE, AR_PERMISSION_DENIED, \
    AR_LIMIT_EXCEEDED = range(7)


def _projection(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        names = [n for n in re.split(r"[\s,]+", value) if n]
    elif isinstance(value, (list, tuple)):
        names = [str(n) for n in value if isinstance(n, str) and n]
    else:
        return None
    return names or None


def job_counts(statuses) -> dict:
    """LiveJobCounters.publish: totals by JobStatus (Transferring counts as Running)."""
    n = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 7: 0}
    for st in statuses:
        st = 2 if st == 6 else st
        if st in n:
            n[st] += 1
    return {"Jobs": sum(n.values()), "Idle": n[1], "Running": n[2], "Removed": n[3],
            "Completed": n[4], "Held": n[5], "Suspended": n[7]}


def _status_of(ad) -> int:
    try:
        v = ad.get("JobStatus")
    except Exception:
        return 0
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _status_text(text) -> int:
    """JobStatus from its stored expression text (0 unless a plain integer)."""
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


class _StatusTexts(dict):
    """JobStatus expression text -> its integer (:func:`_status_text`), computed once per
    distinct text (a queue holds a handful)."""

    def __missing__(self, text):
        v = self[text] = _status_text(text)
        return v


class MessageBatch:
    """Sends many reply messages with few writes: each message is framed (and encrypted)
    as :meth:`CedarStream.end_of_message` would, but the bytes are written once
    ``FLUSH_BYTES`` have gathered (a 100,000-ad reply in a few hundred writes instead of
    100,000; the peer sees the same byte stream).  Streams without the TCP framing
    attributes fall back to plain ``end_of_message``."""

    FLUSH_BYTES = 256 * 1024

    def __init__(self, stream):
        self.s = stream
        self.parts: list[bytes] = []
        self.size = 0
        self.direct = getattr(stream, "transport", None) != "tcp" or \
            not hasattr(stream, "conn") or not hasattr(stream, "_io")

    def put_wire(self, encoder, cluster: int, proc: int) -> None:
        """Put job ``cluster.proc`` as :class:`~.jobads.JobEncoder` lays it out."""
        s = self.s
        enc = s._encoder() if not self.direct else None
        if enc is None:
            s.put_ad(encoder.items(cluster, proc))
        else:
            enc.put_bytes(encoder.wire(cluster, proc, enc.crypto_mode))

    def put_job(self, encoder, cluster: int, proc: int) -> bool:
        """Frame job ``cluster.proc`` as one whole message (:meth:`put_wire` followed by
        :meth:`end_of_message`, without an Encoder per message); returns True when what
        has gathered should now be written (:meth:`flush`).  Only on a stream that is not
        :attr:`direct` and has nothing put."""
        conn = self.s.conn
        wire = conn.send_message(encoder.wire(cluster, proc, conn.crypto_mode))
        self.parts.append(wire)
        self.size += len(wire)
        return self.size >= self.FLUSH_BYTES

    async def end_of_message(self) -> None:
        """End the message put so far (sent at the latest on :meth:`flush`)."""
        s = self.s
        out = getattr(s, "_out", None)
        if self.direct or out is None or not len(out):
            await self.flush()
            await s.end_of_message()
            return
        s._out = None
        wire = s.conn.send_message(out.data)
        self.parts.append(wire)
        self.size += len(wire)
        if self.size >= self.FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        """Write what has gathered."""
        if self.parts:
            data = b"".join(self.parts)
            self.parts, self.size = [], 0
            await self.s._io.send_bytes(data)


async def _send_error(stream, code: int, message: str) -> None:
    stream.put_ad(WireAd.from_values({"Owner": 0, "ErrorCode": code, "ErrorString": message}))
    await stream.end_of_message()


async def query_jobs(schedd, stream) -> None:
    """QUERY_JOB_ADS / QUERY_JOB_ADS_WITH_AUTH."""
    req = await stream.get_ad()
    await stream.end_of_message()
    now = int(time.time())
    fqu = stream.peer.user
    constraint = req.expr("Requirements") or "true"
    my_name = None
    my_jobs = req.expr("MyJobs") if schedd.only_my_jobs else None
    if my_jobs is not None:
        lit = my_jobs.strip().lower()
        owner = None
        if lit in ("false", "0"):
            owner = None
        elif fqu:
            owner = fqu
        elif lit not in ("true", "1"):
            owner = req.get_str("Me")
        if owner and not schedd.is_queue_super_user(fqu):
            attr = "User" if "@" in owner else "Owner"
            constraint = f"({attr} == {J.quote(owner)}) && ({constraint})"
            my_name = owner
    try:
        expr = parse_expr(constraint)
    except Exception as exc:
        return await _send_error(stream, 1, f"Failed to parse requirements expression: {exc}")
    proj = _projection(req.get_str("Projection"))
    limit = req.get_int("LimitResults", -1)
    send_time = req.get_bool("SendServerTime", True)
    summary_only = req.get_bool("SummaryOnly", False)
    include_clusters = req.get_bool("IncludeClusterAd", False)
    no_procs = req.get_bool("NoProcAds", False)
    q = schedd.queue
    # job ads stay expression texts: the constraint sees a ClassAd of only the attributes it
    # references, and the reply is laid out from the texts (jobads.ConstraintMatcher, JobEncoder)
    match = ConstraintMatcher(q, expr).matches
    encoder = JobEncoder(q, proj, now if send_time else None)
    out = MessageBatch(stream)
    # the job messages go straight from the encoder to the framing (MessageBatch.put_job)
    # unless the stream needs its own put_ad / end_of_message
    direct = out.direct or (stream._out is not None and len(stream._out))
    ads = q.ads
    status_of = _StatusTexts()
    matched_status = []
    all_status = []
    count = 0
    for c in q.clusters():
        cad = ads.get((c, -1))
        if include_clusters and cad is not None and not (limit >= 0 and count >= limit) \
                and match(c, -1):
            count += 1
            if not summary_only:
                out.put_wire(encoder, c, -1)
                await out.end_of_message()
        cstatus = cad.get("jobstatus") if cad else None
        for p in q.procs_of.get(c, ()):
            pad = ads.get((c, p))
            v = pad.get("jobstatus") if pad else None
            if v is None:
                v = cstatus
            st = status_of[v[1]] if v is not None else 0
            all_status.append(st)
            if no_procs or (limit >= 0 and count >= limit) or not match(c, p):
                continue
            count += 1
            matched_status.append(st)
            if summary_only:
                continue
            if direct:
                out.put_wire(encoder, c, p)
                await out.end_of_message()
            elif out.put_job(encoder, c, p):
                await out.flush()
    await out.flush()
    done = {"Owner": 0, "ErrorCode": 0, "ServerTime": now, "MyType": "Summary"}
    for k, v in job_counts(all_status).items():
        done["Allusers" + k] = v
    done.update(job_counts(matched_status))
    if my_name:
        done["MyName"] = my_name
        mine = [_status_text(q.lookup(c, p, "JobStatus")) for c, p in q.jobs()
                if schedd.owns(my_name if "@" in my_name else f"{my_name}@{schedd.uid_domain}", c, p)]
        for k, v in job_counts(mine).items():
            done["My" + k] = v
    stream.put_ad(WireAd.from_values(done))
    await stream.end_of_message()
    schedd.log.dprintf(Category.COMMAND, f"QUERY_JOB_ADS from {stream.peer.address}: {count} ad(s)")


def _constraint_status_ok(action: int, ad) -> bool:
    """The JobStatus prefix actOnJobs puts before a constraint (schedd.cpp)."""
    st = _status_of(ad)
    if action in (JobAction.REMOVE, JobAction.TRANSFER_AND_REMOVE):
        return st != J.REMOVED
    if action == JobAction.REMOVE_X:
        return st == J.REMOVED or (st == J.HELD and ad.get("JobStatusOnRelease") == J.REMOVED)
    if action == JobAction.HOLD:
        return st not in (J.REMOVED, J.COMPLETED)
    if action == JobAction.RELEASE:
        return st == J.HELD and ad.get("HoldReasonCode") != 16
    if action == JobAction.SUSPEND:
        return st in (J.RUNNING, J.TRANSFERRING_OUTPUT) and ad.get("JobUniverse") not in (7, 12)
    if action in (JobAction.VACATE, JobAction.VACATE_FAST):
        return st in (J.RUNNING, J.TRANSFERRING_OUTPUT)
    if action == JobAction.CONTINUE:
        return st == J.SUSPENDED
    return True


def _parse_ids(text: str) -> list[tuple[int, int]]:
    out = []
    for tok in re.split(r"[\s,]+", text or ""):
        m = re.fullmatch(r"(\d+)(?:\.(-?\d+))?", tok)
        if m:
            out.append((int(m.group(1)), int(m.group(2)) if m.group(2) is not None else -1))
    return out


async def act_on_jobs(schedd, stream) -> None:
    """ACT_ON_JOBS (schedd.cpp Scheduler::actOnJobs)."""
    if not await schedd.force_authentication(stream, 478, "actOnJobs()"):
        return
    fqu = stream.peer.user
    owner = fqu.split("@", 1)[0]
    req = await stream.get_ad()
    await stream.end_of_message()
    action = req.get_int("JobAction")
    reason_attr = {JobAction.HOLD: "HoldReason", JobAction.RELEASE: "ReleaseReason",
                   JobAction.REMOVE: "RemoveReason", JobAction.REMOVE_X: "RemoveReason",
                   JobAction.TRANSFER_AND_REMOVE: "RemoveReason"}
    if action is None or not 1 <= action <= 10:
        schedd.dprintf(Category.ALWAYS, f"actOnJobs(): bad JobAction {req.expr('JobAction')}; aborting")
        return
    reason = req.get_str(reason_attr[action]) if action in reason_attr else None
    if reason:
        reason = f"{reason} (by user {owner})"
    subcode = req.get_int("HoldReasonSubCode", 0) if action == JobAction.HOLD else 0
    long_results = req.get_int("ActionResultType", 2) == 1
    q = schedd.queue
    constraint = req.expr("ActionConstraint")
    ids_text = req.get_str("ActionIds")
    if constraint is not None and ids_text is not None:
        schedd.dprintf(Category.ALWAYS, "actOnJobs(): ClassAd has both ActionConstraint and "
                                        "ActionIds, aborting")
        return
    if constraint is not None:
        try:
            expr = parse_expr(constraint)
        except Exception:
            schedd.dprintf(Category.ALWAYS, f"actOnJobs(): bad constraint {constraint!r}")
            return
        jobs = []
        match = ConstraintMatcher(q, expr).matches  # full ads only for the jobs it matches
        for c, p in list(q.jobs()):
            if not match(c, p):
                continue
            ad = schedd.ads.get(c, p)
            if ad is not None and _constraint_status_ok(action, ad):
                jobs.append((c, p))
    else:
        jobs = [j for j in _parse_ids(ids_text or "") if j[1] >= 0]
    # late materialization: the action also applies to matching factory clusters (schedd.cpp
    # actOnJobs, GetNextJobOrClusterByConstraint; a bare cluster id names the cluster)
    fm = getattr(schedd, "factories", None)
    factory_clusters = []
    if fm is not None and fm.factories:
        if constraint is not None:
            factory_clusters = [c for c in sorted(fm.factories) if (c, -1) in q.ads and match(c, -1)]
        else:
            factory_clusters = [c for c, p in _parse_ids(ids_text or "") if p < 0 and c in fm.factories]
    results: dict[tuple, int] = {}
    now = int(time.time())
    tx = q.begin(fqu)
    events = []
    super_user = schedd.is_queue_super_user(fqu)
    removed_factories = _act_on_factories(schedd, tx, action, factory_clusters, fqu, reason or "",
                                          results, events, now)
    max_releases = schedd.param_integer("SYSTEM_MAX_RELEASES", -1)
    for c, p in jobs:
        ad = schedd.ads.get(c, p)
        if ad is None or (c, p) not in q.ads:
            results[(c, p)] = AR_NOT_FOUND
            continue
        if not schedd.owns(fqu, c, p):
            results[(c, p)] = AR_PERMISSION_DENIED
            continue
        st = _status_of(ad)
        code = AR_SUCCESS
        if action == JobAction.CONTINUE:
            code = AR_SUCCESS if st == J.SUSPENDED else AR_BAD_STATUS
        elif action in (JobAction.SUSPEND, JobAction.VACATE, JobAction.VACATE_FAST):
            code = AR_SUCCESS if st in (J.RUNNING, J.TRANSFERRING_OUTPUT) else AR_BAD_STATUS
        elif action == JobAction.CLEAR_DIRTY:
            code = AR_SUCCESS
        elif action == JobAction.RELEASE:
            if st != J.HELD or ad.get("HoldReasonCode") == 16:
                code = AR_BAD_STATUS
            elif not super_user and max_releases > -1 and (ad.get("NumHolds") or 0) > max_releases:
                code = AR_LIMIT_EXCEEDED
            else:
                events.append(J.release_job(tx, c, p, reason, now))
        elif action in (JobAction.REMOVE, JobAction.TRANSFER_AND_REMOVE):
            if st == J.REMOVED:
                code = AR_ALREADY_DONE
            else:
                running = st in (J.RUNNING, J.TRANSFERRING_OUTPUT, J.SUSPENDED)
                events.append(J.remove_job(tx, c, p, reason, now, log=not running))
                if not running:
                    tx.retire(c, p, now)
        elif action == JobAction.REMOVE_X:
            on_release = ad.get("JobStatusOnRelease")
            if st != J.REMOVED and not (st == J.HELD and on_release == J.REMOVED):
                code = AR_BAD_STATUS
            else:
                tx.set_attribute(c, p, "LeaveJobInQueue", "false")
                if st != J.REMOVED:
                    J.remove_job(tx, c, p, reason, now)
                tx.retire(c, p, now)
        elif action == JobAction.HOLD:
            if st == J.HELD and ad.get("HoldReasonCode") in (1, 16):
                code = AR_ALREADY_DONE
            elif st in (J.REMOVED, J.COMPLETED):
                code = AR_PERMISSION_DENIED
            else:
                events.append(J.hold_job(tx, c, p, reason or "", 1, subcode, now))
        results[(c, p)] = code
    n_ok = sum(1 for v in results.values() if v == AR_SUCCESS)
    reply = WireAd()
    reply.set("ActionResultType", 1 if long_results else 2)
    if long_results:
        for (c, p), v in results.items():
            reply.set(f"job_{c}_{p}", v)
    else:
        for k in range(7):
            reply.set(f"result_total_{k}", sum(1 for v in results.values() if v == k))
    reply.set("JobAction", action)
    reply.set("ActionResult", 1 if n_ok else 0)
    reply.set("TotalJobAds", q.job_count())
    reply.set("IsQueueSuperUser", super_user)
    stream.put_ad(reply)
    await stream.end_of_message()
    if not n_ok:
        tx.abort()
        return
    try:
        answer = await stream.get_int()
        await stream.end_of_message()
    except (CedarError, EOFError, ConnectionError, OSError):
        tx.abort()
        return
    if answer != 1:
        tx.abort()
        return
    tx.commit()
    for c in removed_factories:
        fm.cluster_removed(c)
    stream.put_int(1)
    await stream.end_of_message()
    schedd.write_events(events)
    schedd.queue_changed()
    if action in (JobAction.VACATE, JobAction.VACATE_FAST) and getattr(schedd, "runner", None):
        for job, code in results.items():
            if code == AR_SUCCESS:
                schedd.runner.vacate(job, fast=action == JobAction.VACATE_FAST)
    schedd.dprintf(Category.ALWAYS, f"actOnJobs: action {action} by {fqu}: {n_ok} of "
                                    f"{len(results)} job(s) done")


def _act_on_factories(schedd, tx, action: int, clusters: list, fqu: str, reason: str,
                      results: dict, events: list, now: int) -> list:
    """ACT_ON_JOBS on late-materialization clusters (schedd.cpp actOnJobs, the cluster loop):
    hold pauses the factory (``JobMaterializePaused = 1`` (mmHold),
    ``JobMaterializePauseReason``, a FactoryPaused event), release resumes it
    (``JobMaterializePaused = 0``, the reason deleted, FactoryResumed), remove stops it for
    good: returned, for :meth:`~.factory.FactoryManager.cluster_removed` once committed (the
    cluster goes with its last proc; mmClusterRemoved is runtime-only state in HTCondor
    too).  Other actions do nothing to a cluster.  Results go to ``results[(c, -1)]``."""
    removed = []
    removes = (JobAction.REMOVE, JobAction.REMOVE_X, JobAction.TRANSFER_AND_REMOVE)
    if action not in (JobAction.HOLD, JobAction.RELEASE) + removes:
        return removed
    for c in clusters:
        if not schedd.owns(fqu, c, -1):
            results[(c, -1)] = AR_PERMISSION_DENIED
            continue
        results[(c, -1)] = AR_SUCCESS
        path = J.user_log_path(tx, c, -1)
        if action == JobAction.HOLD:
            tx.set_attribute(c, -1, "JobMaterializePaused", "1")
            tx.set_attribute(c, -1, "JobMaterializePauseReason", J.quote(reason))
            if path:
                events.append((path, make_event(JobEventType.FACTORY_PAUSED, c, -1, 0, when=now,
                                                Reason=reason, PauseCode=1, HoldCode=1)))
        elif action == JobAction.RELEASE:
            tx.set_attribute(c, -1, "JobMaterializePaused", "0")
            tx.delete_attribute(c, -1, "JobMaterializePauseReason")
            if path:
                events.append((path, make_event(JobEventType.FACTORY_RESUMED, c, -1, 0, when=now,
                                                Reason=reason)))
        else:
            removed.append(c)
    return removed


async def query_history(schedd, stream) -> None:
    """QUERY_SCHEDD_HISTORY: job ads of jobs that left the queue, most recent first."""
    req = await stream.get_ad()
    await stream.end_of_message()
    source = req.get_str("HistoryRecordSource")
    if source:
        stream.put_ad(WireAd.from_values({"Owner": 0, "ErrorCode": 1, "NumJobMatches": 0,
                                          "ErrorString": f"History record source {source} "
                                                         f"is not kept by this schedd"}))
        await stream.end_of_message()
        return
    try:
        constraint = parse_expr(req.expr("Requirements") or "true")
        since_text = req.expr("Since")
        since = parse_expr(since_text) if since_text else None
    except Exception as exc:
        stream.put_ad(WireAd.from_values({"Owner": 0, "ErrorCode": 1, "NumJobMatches": 0,
                                          "ErrorString": f"invalid expression: {exc}"}))
        await stream.end_of_message()
        return
    proj_text = req.expr("Projection")
    proj = None
    if proj_text:
        try:
            proj = _projection(eval_value(parse_expr(proj_text), None))
        except Exception:
            proj = None
    limit = req.get_int("NumJobMatches", -1)
    if limit is not None and limit <= 0:
        limit = -1
    from pyhtc import classad as C
    match_all = str(constraint).strip("() ").lower() == "true"
    count = 0
    for c, p, _t, attrs in schedd.queue.db.history():
        if limit >= 0 and count >= limit:
            break
        if since is not None or not match_all:
            ad = C.ClassAd()
            for name, text in attrs.items():
                try:
                    ad[name] = parse_expr(text)
                except Exception:
                    pass
            if since is not None and is_true(since, ad):
                break
            if not match_all and not is_true(constraint, ad):
                continue
        stream.put_ad(wire_ad(attrs), include_private=False, whitelist=proj)
        count += 1
    stream.put_ad(WireAd.from_values({"Owner": 0, "NumJobMatches": count, "MalformedAds": 0}))
    await stream.end_of_message()
    schedd.log.dprintf(Category.COMMAND, f"QUERY_SCHEDD_HISTORY from {stream.peer.address}: "
                                         f"{count} ad(s)")
