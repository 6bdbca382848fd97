"""The matchmaking core of ``condor_negotiator``: no sockets, no files.

Given the slot ads (with their claim ids), the submitters (effective priority, usage, idle
jobs) and, per submitter, a *session* that yields resource requests and receives matches,
:func:`negotiate_cycle` runs HTCondor's pie-spin negotiation (matchmaker.cpp
``negotiateWithGroup``, ``negotiate``, ``matchmakingAlgorithm``; manual
users-manual/priorities-and-preemption.rst and admin-manual/cm-configuration.rst):

- **fair share** (``calculateSubmitterLimit``): with ``maxPrio`` the largest effective priority
  among the submitters still negotiating and ``normal = sum(maxPrio / prio_i)``, submitter i's
  share of the pool is ``maxPrio / (prio_i * normal)`` -- proportional to ``1 / prio_i`` (lower
  priority values are better) -- and its limit this spin is ``share * pool_weight - in_use``
  (never below 0, never above what is left of the pie).  Submitters without idle jobs take
  no share (no preemption: ``filter_submitters_no_idle``).  A submitter that has nothing left
  to ask for leaves the pie, so later spins share out what it did not use;
- **submitter order**: ascending effective priority (best first), then name;
- **matching** (``matchmakingAlgorithm``): a slot is a candidate when both ads'
  Requirements hold against each other (``symmetricMatch``) and, for a partitionable slot,
  the request's RequestCpus/RequestMemory/RequestDisk fit what the slot has left.  Claimed
  or preempting static/dynamic slots are not offered (no preemption); claimed partitionable
  slots are, to the schedd that holds them (``RemoteScheddName``).  The best candidate is
  the largest ``(NEGOTIATOR_PRE_JOB_RANK, job Rank, NEGOTIATOR_POST_JOB_RANK)``, the first
  in pool order on ties; each slot is handed out at most once per cycle;
- **cost**: a match costs the slot's ``SlotWeight`` (else ``Cpus``, else 1); for a
  partitionable slot, the request's RequestCpus (the dynamic slot the startd will carve);
- **the crumb rule** (``SubmitterLimitPermits``): a submitter that has not matched anything
  yet this spin may take one slot even if its cost exceeds the limit, when the limit is > 0.

The core is asynchronous only so that sessions may talk to a schedd; it does no I/O itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable, Optional, Protocol

from pyhtc import classad as C

__all__ = ["Candidate", "MatchList", "SlotPool", "SubmitterState", "SubmitterSession", "SpinResult",
           "fair_shares", "negotiate_cycle", "negotiate_submitter", "slot_key", "slot_weight",
           "DEFAULT_PRE_JOB_RANK", "DEFAULT_POST_JOB_RANK"]

#: NEGOTIATOR_PRE_JOB_RANK / NEGOTIATOR_POST_JOB_RANK defaults (param_info.in)
DEFAULT_PRE_JOB_RANK = ("(10000000 * My.Rank) + (1000000 * (RemoteOwner =?= UNDEFINED)) "
                        "- (100000 * Cpus) - Memory")
DEFAULT_POST_JOB_RANK = ("(RemoteOwner =?= UNDEFINED) * (ifthenElse(isUndefined(KFlops), 1000, "
                         "Kflops) - SlotID - 1.0e10*(Offline=?=True))")

_NEG_INF = -math.inf


def _number(value) -> Optional[float]:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _eval(expr: Optional[C.ExprTree], my: C.ClassAd, target: C.ClassAd):
    if expr is None:
        return None
    try:
        return expr.eval(my, target)
    except Exception:  # an expression that cannot be evaluated ranks lowest
        return None


def _attr(ad: C.ClassAd, name: str, target: Optional[C.ClassAd] = None):
    """Value of ``name`` in ``ad`` evaluated with TARGET=target (None when absent)."""
    if name not in ad:
        return None
    try:
        return ad.lookup(name).eval(ad, target) if target is not None else ad.eval(name)
    except Exception:
        return None


def slot_key(ad: C.ClassAd) -> str:
    """The claim-table key of a slot: Name + StartdIpAddr (else MyAddress), as
    matchmaker.cpp ``MakeClaimIdHash`` keys the private ads."""
    return f"{ad.get('Name', '')}{ad.get('StartdIpAddr') or ad.get('MyAddress') or ''}"


def slot_weight(ad: C.ClassAd) -> float:
    """A slot's weight (Accountant::GetSlotWeight): ``SlotWeight`` if it evaluates to a
    number, else ``Cpus``, else 1."""
    for name in ("SlotWeight", "Cpus"):
        v = _number(_attr(ad, name))
        if v is not None:
            return v
    return 1.0


def _is_pslot(ad: C.ClassAd) -> bool:
    return _attr(ad, "PartitionableSlot") is True


@dataclass
class Candidate:
    """One slot offered in this cycle: its ad, the claim ids from its private ad and the
    resources it still has (partitionable slots)."""

    ad: C.ClassAd
    claim_ids: list[str]
    key: str
    partitionable: bool = False


class SlotPool:
    """The slots offered in one negotiation cycle.

    Args:
        slots: public slot ads (from QUERY_STARTD_ADS).
        claim_ids: slot key (:func:`slot_key`) -> claim ids from the private ads; slots
            without one are not offered (matchmaker.cpp: "has no claim id").  None offers
            every slot with the claim id ``"null"`` (tests, WantClaiming=false pools).
        pre_job_rank / post_job_rank: NEGOTIATOR_PRE_JOB_RANK / NEGOTIATOR_POST_JOB_RANK
            source text (None or "" = not used).

    ``pool_weight`` is the weight of every slot ad, claimed ones included (the pie).
    """

    def __init__(self, slots: Iterable[C.ClassAd], claim_ids: Optional[dict[str, list[str]]] = None,
                 pre_job_rank: Optional[str] = DEFAULT_PRE_JOB_RANK,
                 post_job_rank: Optional[str] = DEFAULT_POST_JOB_RANK):
        slots = list(slots)
        self.pool_weight = sum(slot_weight(s) for s in slots)
        self.pre_job_rank = C.ExprTree(pre_job_rank) if pre_job_rank else None
        self.post_job_rank = C.ExprTree(post_job_rank) if post_job_rank else None
        self.candidates: list[Candidate] = []
        #: ids of the candidates handed out this cycle
        self.taken: set[int] = set()
        self.trimmed = 0
        for ad in slots:
            state = str(ad.get("State", "Unclaimed"))
            pslot = _is_pslot(ad)
            # trimStartdAds: no preemption -> claimed/preempting slots are not offered,
            # except partitionable slots (claimed pslots go to their schedd)
            if state in ("Claimed", "Preempting") and not pslot:
                self.trimmed += 1
                continue
            key = slot_key(ad)
            if claim_ids is None:
                ids = ["null"]
            else:
                ids = list(claim_ids.get(key) or [])
                if not ids:
                    self.trimmed += 1
                    continue
            self.candidates.append(Candidate(ad, ids, key, pslot))

    def __len__(self) -> int:
        return len(self.candidates) - len(self.taken)

    def available(self, cand: Candidate) -> bool:
        """True while ``cand`` has not been handed out this cycle."""
        return id(cand) not in self.taken

    # -- matching --------------------------------------------------------------------
    @staticmethod
    def fits(request: C.ClassAd, cand: Candidate) -> bool:
        """For a partitionable slot: RequestCpus (default 1), RequestMemory and RequestDisk
        (when defined) are within the slot's Cpus, Memory and Disk."""
        if not cand.partitionable:
            return True
        for req_name, have_name, default in (("RequestCpus", "Cpus", 1), ("RequestMemory", "Memory", None),
                                             ("RequestDisk", "Disk", None)):
            want = _number(_attr(request, req_name, cand.ad))
            if want is None:
                want = default
            if want is None:
                continue
            have = _number(_attr(cand.ad, have_name))
            if have is None or want > have:
                return False
        return True

    def is_match(self, request: C.ClassAd, cand: Candidate, schedd_name: Optional[str] = None) -> bool:
        """Both Requirements hold (symmetric match) and the request fits (see :meth:`fits`);
        a claimed partitionable slot only matches requests from the schedd holding it."""
        if cand.partitionable and schedd_name is not None:
            claimer = cand.ad.get("RemoteScheddName")
            if claimer and claimer != schedd_name:
                return False
        if not self.fits(request, cand):
            return False
        try:
            return request.symmetricMatch(cand.ad)
        except Exception:
            return False

    def ranks(self, request: C.ClassAd, cand: Candidate) -> tuple[float, float, float]:
        """``(pre job rank, job Rank, post job rank)``: the negotiator ranks evaluate with
        MY = slot, TARGET = request (unevaluable = -infinity); the job's Rank with MY =
        request, TARGET = slot (unevaluable = 0), as ``calculateRanks``."""
        pre = _number(_eval(self.pre_job_rank, cand.ad, request))
        rank = _number(_attr(request, "Rank", cand.ad))
        post = _number(_eval(self.post_job_rank, cand.ad, request))
        return (_NEG_INF if pre is None else pre, 0.0 if rank is None else rank,
                _NEG_INF if post is None else post)

    def cost(self, request: C.ClassAd, cand: Candidate) -> float:
        """What a match costs the submitter (see the module docstring)."""
        if cand.partitionable:
            v = _number(_attr(request, "RequestCpus", cand.ad))
            return 1.0 if v is None else max(v, 0.0)
        return slot_weight(cand.ad)

    def match_list(self, request: C.ClassAd, schedd_name: Optional[str] = None) -> "MatchList":
        """Every available candidate matching ``request``, best first by :meth:`ranks`
        (pool order on ties) -- matchmaker.cpp's MatchList, reused for the following
        requests of the same autocluster."""
        scored = []
        for i, cand in enumerate(self.candidates):
            if not self.available(cand) or not self.is_match(request, cand, schedd_name):
                continue
            pre, rank, post = self.ranks(request, cand)
            scored.append(((-pre, -rank, -post, i), cand))
        scored.sort(key=lambda e: e[0])
        return MatchList(self, [c for _, c in scored])

    def best(self, request: C.ClassAd, schedd_name: Optional[str] = None,
             permits: Callable[[float], bool] = lambda cost: True) -> tuple[Optional[Candidate], str]:
        """The best candidate for ``request`` and a reason when there is none
        ("no match found" or "submitter limit exceeded").  ``permits(cost)`` says whether
        the submitter may take a slot of that cost."""
        return self.match_list(request, schedd_name).pop(request, permits)

    def take(self, cand: Candidate) -> str:
        """Hand out ``cand``: returns its claim id; it is not offered again this cycle."""
        self.taken.add(id(cand))
        return cand.claim_ids[0]


class MatchList:
    """Sorted candidates for one autocluster (see :meth:`SlotPool.match_list`)."""

    def __init__(self, pool: SlotPool, entries: list[Candidate]):
        self.pool = pool
        self.entries = entries
        self.pos = 0

    def pop(self, request: C.ClassAd, permits: Callable[[float], bool] = lambda cost: True
            ) -> tuple[Optional[Candidate], str]:
        """The best candidate still available that the submitter's limit permits, or
        ``(None, reason)``.  A candidate the limit refuses is dropped: the submitter's usage
        only grows within a spin."""
        limited = False
        while self.pos < len(self.entries):
            cand = self.entries[self.pos]
            if not self.pool.available(cand):
                self.pos += 1
                continue
            if not permits(self.pool.cost(request, cand)):
                limited = True
                self.pos += 1
                continue
            return cand, ""
        return None, ("submitter limit exceeded" if limited else "no match found")


@dataclass
class SubmitterState:
    """A submitter in this cycle: ``priority`` is the effective priority (real × factor),
    ``usage`` the weighted resources it has in use, ``ceiling`` -1 for none."""

    name: str
    priority: float
    usage: float = 0.0
    idle_jobs: int = 0
    ceiling: int = -1
    ad: Optional[C.ClassAd] = None
    done: bool = False
    matched: float = 0.0
    share: float = 0.0
    limit: float = 0.0


def fair_shares(subs: list[SubmitterState], pool_weight: float) -> dict[str, tuple[float, float]]:
    """``name -> (share, limit)`` as ``calculateSubmitterLimit``: share ∝ 1/priority over the
    given submitters (summing to 1), limit = max(0, share × pool_weight − usage)."""
    if not subs:
        return {}
    prios = {s.name: max(s.priority, 1e-300) for s in subs}
    max_prio = max(prios.values())
    normal = sum(max_prio / p for p in prios.values())
    out = {}
    for s in subs:
        share = max_prio / (prios[s.name] * normal)
        out[s.name] = (share, max(0.0, share * pool_weight - s.usage))
    return out


class SubmitterSession(Protocol):
    """One negotiation with a submitter's schedd (what the protocol driver implements)."""

    async def next_request(self) -> Optional[C.ClassAd]:
        """The next resource request ad (with ClusterId, ProcId, AutoClusterId and
        ResourceRequestCount), or None when the schedd has no more."""

    async def send_match(self, request: C.ClassAd, slot_ad: C.ClassAd, claim_id: str) -> bool:
        """Send PERMISSION_AND_AD; False if the schedd could not be told."""

    async def send_reject(self, request: C.ClassAd, reason: str) -> bool:
        """Send REJECTED / REJECTED_WITH_REASON; False on a communication failure."""

    async def end(self, early: bool) -> None:
        """Finish: ``early`` = we stop before the schedd said NO_MORE_JOBS (END_NEGOTIATE)."""


@dataclass
class SpinResult:
    """Outcome of negotiating with one submitter in one pie spin."""

    done: bool            # no more requests (MM_DONE) -- or the schedd failed
    matched_weight: float
    matches: int
    error: bool = False


def _offer_ad(slot: C.ClassAd, request: C.ClassAd) -> C.ClassAd:
    """The slot ad as sent in PERMISSION_AND_AD (matchmakingProtocol): a copy with the
    request's job id and group attributes, and the evaluated concurrency limits."""
    offer = C.ClassAd()
    for k in slot.keys():
        offer[k] = slot.lookup(k)
    limits = _attr(request, "ConcurrencyLimits", slot)
    if isinstance(limits, str):
        offer["MatchedConcurrencyLimits"] = limits.lower()
    for src, dst in (("SubmitterGroup", "RemoteGroup"),
                     ("SubmitterNegotiatingGroup", "RemoteNegotiatingGroup"),
                     ("SubmitterAutoregroup", "RemoteAutoregroup")):
        if src in request:
            offer[dst] = request.lookup(src)
    offer["ResourceRequestCluster"] = request.get("ClusterId", -1)
    offer["ResourceRequestProc"] = request.get("ProcId", -1)
    return offer


async def negotiate_submitter(session: SubmitterSession, pool: SlotPool, sub: SubmitterState,
                              limit: float, schedd_name: Optional[str] = None,
                              on_match: Optional[Callable[..., None]] = None,
                              log: Callable[[str], None] = lambda m: None) -> SpinResult:
    """Negotiate with one submitter for one spin (matchmaker.cpp ``negotiate``): take
    requests, hand out up to ResourceRequestCount matches per request while the submitter
    stays within ``limit`` and its ceiling, reject (and skip the rest of) an autocluster that
    finds no slot.  ``on_match(sub, offer_ad, cost, claim_id)`` is called after each match was
    sent."""
    used = 0.0
    matches = 0
    rejected_autoclusters: set = set()
    match_lists: dict = {}
    ceiling = math.inf if sub.ceiling is None or sub.ceiling < 0 else max(0.0, sub.ceiling - sub.usage)
    stopped_early = False
    limited = False

    def permits(cost: float) -> bool:
        if used + cost <= limit:
            return True
        return used <= 0 and limit > 0  # the crumb rule

    while True:
        if used >= limit or used >= ceiling:
            stopped_early = True
            break
        request = await session.next_request()
        if request is None:
            break
        ac = request.get("AutoClusterId", -1)
        if ac in rejected_autoclusters and ac != -1:
            continue
        count = request.get("ResourceRequestCount", 1)
        if not isinstance(count, int) or count < 1:
            count = 1
        # the submitter's standing, as the negotiator inserts it into every request
        request["SubmitterUserPrio"] = sub.priority
        request["SubmittorPrio"] = sub.priority
        request["SubmitterUserResourcesInUse"] = sub.usage + sub.matched
        request["SubmitterNegotiatingGroup"] = "<none>"
        request["SubmitterAutoregroup"] = False
        for _ in range(count):
            if used >= limit or used >= ceiling:
                break
            mlist = match_lists.get(ac) if ac != -1 else None
            if mlist is None:
                mlist = pool.match_list(request, schedd_name)
                if ac != -1:
                    match_lists[ac] = mlist
            cand, reason = mlist.pop(request, permits)
            if cand is None:
                if reason == "submitter limit exceeded":
                    limited = True
                log(f"      Rejected {request.get('ClusterId')}.{request.get('ProcId')} "
                    f"{sub.name}: {reason}")
                if not await session.send_reject(request, reason):
                    return SpinResult(True, used, matches, error=True)
                rejected_autoclusters.add(ac)
                break
            cost = pool.cost(request, cand)
            claim = pool.take(cand)
            offer = _offer_ad(cand.ad, request)
            if not await session.send_match(request, offer, claim):
                return SpinResult(True, used, matches, error=True)
            used += cost
            matches += 1
            sub.matched += cost
            log(f"      Matched {request.get('ClusterId')}.{request.get('ProcId')} {sub.name} "
                f"{cand.ad.get('Name')} (cost {cost:g})")
            if on_match is not None:
                on_match(sub, offer, cost, claim)
        if limited:
            # "Hit submitter limit: done negotiating" -- resume in a later spin
            stopped_early = True
            break
    await session.end(stopped_early)
    return SpinResult(done=not stopped_early, matched_weight=used, matches=matches)


async def negotiate_cycle(pool: SlotPool, submitters: list[SubmitterState],
                          open_session: Callable[[SubmitterState], Awaitable[Optional[SubmitterSession]]],
                          on_match: Optional[Callable[..., None]] = None,
                          log: Callable[[str], None] = lambda m: None,
                          max_spins: int = 100) -> list[SubmitterState]:
    """One negotiation cycle over ``submitters`` (pie spins until nobody makes progress).

    ``open_session(sub)`` starts a NEGOTIATE with the submitter's schedd (None: it cannot
    be reached, the submitter is dropped for this cycle).  Returns the submitters in the
    order they were first served, with ``share``, ``limit`` (of the first spin) and
    ``matched`` filled in."""
    active = sorted([s for s in submitters if s.idle_jobs > 0], key=lambda s: (s.priority, s.name))
    order = list(active)
    first = True
    spins = 0
    while active and len(pool) > 0 and spins < max_spins:
        spins += 1
        shares = fair_shares(active, pool.pool_weight)

        # one user may submit from several schedds (several ads, one Name): the share is
        # per name (calculateNormalizationFactor counts each name once), and so is usage,
        # which includes what the user's other ads matched earlier in this cycle
        def current_limit(name: str) -> float:
            matched = sum(s.matched for s in order if s.name == name)
            return shares[name][1] - matched

        pie_left = sum(max(0.0, current_limit(n)) for n in {s.name for s in active})
        if first:
            for s in active:
                s.share, s.limit = shares[s.name][0], shares[s.name][1]
            first = False
        log(f"---------- Started pie spin {spins}: pie {pie_left:.3f}, "
            f"{len(active)} submitter(s), {len(pool)} slot(s)")
        if pie_left <= 0:
            break
        progress = False
        still = []
        for sub in active:
            if len(pool) == 0:
                still.append(sub)
                continue
            limit = min(max(0.0, current_limit(sub.name)), pie_left)
            if limit <= 0:
                still.append(sub)
                continue
            log(f"  Negotiating with {sub.name}: priority {sub.priority:g}, share "
                f"{shares[sub.name][0]:.4f}, limit {limit:.3f}")
            session = await open_session(sub)
            if session is None:
                progress = True  # the submitter leaves the pie
                continue
            res = await negotiate_submitter(session, pool, sub, limit, _schedd_name(sub),
                                            on_match, log)
            pie_left -= res.matched_weight
            if res.matches:
                progress = True
            if res.done:
                progress = True
                continue
            still.append(sub)
        active = still
        if not progress:
            break
    return order


def _schedd_name(sub: SubmitterState) -> Optional[str]:
    return sub.ad.get("ScheddName") if sub.ad is not None else None
