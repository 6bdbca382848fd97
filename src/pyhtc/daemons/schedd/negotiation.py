"""The schedd's side of negotiation (src/condor_schedd.V6/schedd_negotiate.cpp,
ScheddNegotiate; autoclusters as in autocluster.cpp).

NEGOTIATE (416, permission NEGOTIATOR) names one submitter (``Owner = user@domain``) in a
header ad that also lists ``AutoClusterAttrs``.  The submitter's idle jobs that have no
match in progress are grouped into autoclusters: jobs whose values of those attributes
(default :data:`DEFAULT_AUTOCLUSTER_ATTRS`) are identical.  Then, for each
``SEND_RESOURCE_REQUEST_LIST n``, up to ``n`` ``JOB_INFO`` replies carry one request ad per
autocluster (a job ad of the autocluster with ``AutoClusterId`` and
``ResourceRequestCount`` = its idle jobs), followed by ``NO_MORE_JOBS`` when the list is
used up.  Each ``PERMISSION_AND_AD`` (claim id + slot ad) hands the match to the
:class:`~.shadows.JobRunner`, which claims the slot for the next idle job of that
autocluster; ``REJECTED(_WITH_REASON)`` is logged; ``END_NEGOTIATE`` ends the session.
"""
from __future__ import annotations

from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.daemoncore.log import Category

from .jobactions import IDLE, unquote
from .jobads import job_status

__all__ = ["DEFAULT_AUTOCLUSTER_ATTRS", "Autocluster", "autoclusters", "negotiate"]

#: attributes that make two jobs equivalent for matchmaking when the negotiator sends none
DEFAULT_AUTOCLUSTER_ATTRS = ("Requirements", "Rank", "RequestCpus", "RequestMemory",
                             "RequestDisk", "Owner", "JobUniverse")


class Autocluster:
    """Jobs that match the same slots: ``id``, ``key`` (the attribute texts), ``jobs``
    (job ids, oldest first)."""

    def __init__(self, ac_id: int, key: tuple):
        self.id, self.key, self.jobs = ac_id, key, []


def signature(queue, cluster: int, proc: int, attrs) -> tuple:
    """The autocluster key of a job: the unparsed text of each attribute (proc over
    cluster), None when absent."""
    return tuple(queue.lookup(cluster, proc, a) for a in attrs)


def autoclusters(schedd, user: str, attrs, busy: set) -> list[Autocluster]:
    """The idle jobs of submitter ``user`` (``User`` attribute, else ``Owner@UID_DOMAIN``)
    not in ``busy``, grouped by ``attrs``; in job id order."""
    q = schedd.queue
    groups: dict[tuple, Autocluster] = {}
    for c, p in sorted(q.jobs()):
        if (c, p) in busy or job_status(q, c, p) != IDLE:
            continue
        owner = unquote(q.lookup(c, p, "User"))
        if owner is None:
            o = unquote(q.lookup(c, p, "Owner"))
            owner = f"{o}@{schedd.uid_domain}" if o else None
        if owner != user:
            continue
        key = signature(q, c, p, attrs)
        ac = groups.get(key)
        if ac is None:
            ac = groups[key] = Autocluster(len(groups) + 1, key)
        ac.jobs.append((c, p))
    return list(groups.values())


def _attr_list(value) -> tuple:
    if isinstance(value, str) and value.strip():
        return tuple(a for a in value.replace(",", " ").split() if a)
    return DEFAULT_AUTOCLUSTER_ATTRS


def request_ad(schedd, ac: Autocluster) -> C.ClassAd:
    """The resource request of an autocluster: its first job's ad plus AutoClusterId and
    ResourceRequestCount."""
    c, p = ac.jobs[0]
    ad = C.ClassAd(schedd.ads.get(c, p))
    ad["AutoClusterId"] = ac.id
    ad["ResourceRequestCount"] = len(ac.jobs)
    ad["ClusterId"], ad["ProcId"] = c, p
    return ad


async def negotiate(schedd, stream) -> None:
    """Serve one NEGOTIATE session on ``stream`` (see the module docstring)."""
    header = to_classad(await stream.get_ad())
    await stream.end_of_message()
    user = header.get("Owner")
    if not isinstance(user, str) or not user:
        schedd.dprintf(Category.ALWAYS, "NEGOTIATE without an Owner: ignored")
        return
    if "@" not in user:
        user = f"{user}@{schedd.uid_domain}"
    runner = schedd.runner
    attrs = _attr_list(header.get("AutoClusterAttrs"))
    acs = autoclusters(schedd, user, attrs, runner.busy_jobs())
    req_of: dict[tuple, Autocluster] = {}   # job id of each request sent -> autocluster
    pending = list(acs)
    schedd.dprintf(Category.ALWAYS, f"Negotiating for owner: {user} ({len(acs)} autocluster(s), "
                                    f"{sum(len(a.jobs) for a in acs)} idle job(s))")
    matches = 0
    while True:
        op = await stream.get_int()
        if op == Command.SEND_RESOURCE_REQUEST_LIST:
            n = await stream.get_int()
            await stream.end_of_message()
            sent = 0
            while sent < n and pending:
                ac = pending.pop(0)
                req_of[ac.jobs[0]] = ac
                stream.put_int(int(Command.JOB_INFO)).put_ad(from_classad(request_ad(schedd, ac)))
                await stream.end_of_message()
                sent += 1
            if sent < n:
                stream.put_int(int(Command.NO_MORE_JOBS))
                await stream.end_of_message()
                if sent == 0:
                    break
        elif op == Command.PERMISSION_AND_AD:
            claim = await stream.get_string()
            slot = to_classad(await stream.get_ad())
            await stream.end_of_message()
            ac = _autocluster_of(req_of, slot)
            job = ac.jobs.pop(0) if ac is not None and ac.jobs else None
            if job is None:
                schedd.dprintf(Category.ALWAYS, f"Match for {slot.get('Name')} has no idle job left: "
                                                "releasing it")
                runner.release_unused(claim, slot)
                continue
            matches += 1
            runner.matched(job, claim, slot, ac.key, attrs)
        elif op == Command.REJECTED_WITH_REASON:
            reason = await stream.get_string()
            if not await stream.peek_end_of_message():
                await stream.get_ad()
            await stream.end_of_message()
            schedd.dprintf(Category.ALWAYS, f"Request rejected for {user}: {reason}")
        elif op == Command.REJECTED:
            await stream.end_of_message()
            schedd.dprintf(Category.ALWAYS, f"Request rejected for {user}")
        elif op == Command.END_NEGOTIATE:
            await stream.end_of_message()
            break
        else:
            schedd.dprintf(Category.ALWAYS, f"NEGOTIATE for {user}: unexpected message {op}; ending")
            break
    schedd.dprintf(Category.ALWAYS, f"Finished negotiating for {user}: {matches} matched")


def _autocluster_of(req_of: dict, slot: C.ClassAd) -> Optional[Autocluster]:
    """The autocluster a match is for: the one whose request had the job id the negotiator
    echoes as ResourceRequestCluster/Proc (any idle job of the autocluster may take it)."""
    c, p = slot.get("ResourceRequestCluster"), slot.get("ResourceRequestProc")
    ac = req_of.get((c, p))
    if ac is not None:
        return ac
    for ac in req_of.values():
        if ac.jobs and any(j[0] == c for j in ac.jobs):
            return ac
    return None
