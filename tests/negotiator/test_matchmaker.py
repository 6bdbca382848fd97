"""The pure matchmaking core: priority order, fair share, ranks, partitionable slots,
requirements, request counts and autocluster rejection."""
import asyncio

import pytest

from pyhtc import classad as C
from pyhtc.daemons.negotiator.matchmaker import (SlotPool, SubmitterState, fair_shares,
                                                 negotiate_cycle, slot_key)


def slot(name, cpus=1, memory=1024, state="Unclaimed", req="true", **extra):
    ad = C.ClassAd({"MyType": "Machine", "Name": name, "Machine": "exec", "Cpus": cpus,
                    "Memory": memory, "Disk": 100000, "State": state,
                    "MyAddress": "<127.0.0.1:9>", "StartdIpAddr": "<127.0.0.1:9>", "Rank": 0.0})
    ad["Requirements"] = C.ExprTree(req)
    for k, v in extra.items():
        ad[k] = v
    return ad


def request(cluster, proc=0, ac=1, count=1, req="true", rank="0", **extra):
    ad = C.ClassAd({"MyType": "Job", "ClusterId": cluster, "ProcId": proc, "AutoClusterId": ac,
                    "ResourceRequestCount": count, "RequestCpus": 1, "RequestMemory": 128,
                    "WantMatchDiagnostics": 2})
    ad["Requirements"] = C.ExprTree(req)
    ad["Rank"] = C.ExprTree(rank)
    for k, v in extra.items():
        ad[k] = v
    return ad


class FakeSession:
    """In-memory stand-in for a schedd: yields its requests, records what it gets."""

    def __init__(self, requests):
        self.requests = list(requests)
        self.matches = []
        self.rejects = []
        self.ended = None

    async def next_request(self):
        return self.requests.pop(0) if self.requests else None

    async def send_match(self, req, offer, claim):
        self.matches.append((req["ClusterId"], req["ProcId"], offer["Name"], claim,
                             offer["ResourceRequestCluster"]))
        return True

    async def send_reject(self, req, reason):
        self.rejects.append((req["ClusterId"], reason))
        return True

    async def end(self, early):
        self.ended = early


def run_cycle(pool, subs, sessions, **kw):
    served = []

    async def open_session(sub):
        served.append(sub.name)
        return sessions[sub.name].pop(0) if sessions[sub.name] else FakeSession([])

    order = asyncio.run(negotiate_cycle(pool, subs, open_session, **kw))
    return order, served


def test_priority_order_best_first():
    pool = SlotPool([slot("s1")], pre_job_rank=None, post_job_rank=None)
    a, b = FakeSession([request(1)]), FakeSession([request(2)])
    subs = [SubmitterState("bob@x", 5000.0, idle_jobs=1), SubmitterState("alice@x", 500.0, idle_jobs=1)]
    order, served = run_cycle(pool, subs, {"alice@x": [a], "bob@x": [b]})
    assert [s.name for s in order] == ["alice@x", "bob@x"]
    assert served[0] == "alice@x"
    assert [m[2] for m in a.matches] == ["s1"]  # the better priority gets the only slot
    assert b.matches == []


def test_fair_share_two_users_factors():
    # effective priorities 1000 and 3000 (same real prio, factors 1000 vs 3000): shares 3/4, 1/4
    shares = fair_shares([SubmitterState("a", 1000.0), SubmitterState("b", 3000.0)], 8.0)
    assert shares["a"][0] == pytest.approx(0.75) and shares["b"][0] == pytest.approx(0.25)
    assert shares["a"][1] == pytest.approx(6.0) and shares["b"][1] == pytest.approx(2.0)
    # usage is subtracted from the limit
    shares = fair_shares([SubmitterState("a", 1000.0, usage=5), SubmitterState("b", 3000.0)], 8.0)
    assert shares["a"][1] == pytest.approx(1.0)

    pool = SlotPool([slot(f"s{i}") for i in range(8)], pre_job_rank=None, post_job_rank=None)
    a = FakeSession([request(1, count=20)])
    b = FakeSession([request(2, count=20)])
    a2 = FakeSession([request(1, count=20)])
    b2 = FakeSession([request(2, count=20)])
    subs = [SubmitterState("a@x", 1000.0, idle_jobs=20), SubmitterState("b@x", 3000.0, idle_jobs=20)]
    run_cycle(pool, subs, {"a@x": [a, a2], "b@x": [b, b2]})
    assert len(a.matches) == 6 and len(b.matches) == 2
    assert a.ended is True and b.ended is True  # stopped at the limit: END_NEGOTIATE
    assert len(a2.matches) + len(b2.matches) == 0  # pool used up
    assert subs[0].share == pytest.approx(0.75)


def test_unused_share_is_redistributed():
    pool = SlotPool([slot(f"s{i}") for i in range(4)], pre_job_rank=None, post_job_rank=None)
    # equal priorities, but b only wants one slot: a gets the rest in the second spin
    a1, a2 = FakeSession([request(1, count=10)]), FakeSession([request(1, count=10)])
    b1 = FakeSession([request(2, count=1)])
    subs = [SubmitterState("a@x", 1000.0, idle_jobs=10), SubmitterState("b@x", 1000.0, idle_jobs=1)]
    run_cycle(pool, subs, {"a@x": [a1, a2], "b@x": [b1]})
    assert len(a1.matches) == 2 and len(b1.matches) == 1
    assert len(a2.matches) == 1
    assert b1.ended is False  # b ran out of requests: no END_NEGOTIATE needed


def test_rank_ordering_and_negotiator_ranks():
    slots = [slot("small", memory=1000), slot("big", memory=8000), slot("mid", memory=4000)]
    pool = SlotPool(slots, pre_job_rank=None, post_job_rank=None)
    s = FakeSession([request(1, count=3, rank="TARGET.Memory")])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=3)], {"u@x": [s]})
    assert [m[2] for m in s.matches] == ["big", "mid", "small"]
    # NEGOTIATOR_PRE_JOB_RANK outranks the job's Rank; POST_JOB_RANK breaks ties
    pool = SlotPool(slots, pre_job_rank="-Memory", post_job_rank=None)
    s = FakeSession([request(1, count=1, rank="TARGET.Memory")])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=1)], {"u@x": [s]})
    assert s.matches[0][2] == "small"
    pool = SlotPool([slot("a", memory=1000), slot("b", memory=1000, KFlops=5)],
                    pre_job_rank=None, post_job_rank="ifThenElse(isUndefined(KFlops), 0, KFlops)")
    s = FakeSession([request(1)])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=1)], {"u@x": [s]})
    assert s.matches[0][2] == "b"


def test_default_negotiator_ranks_prefer_unclaimed_small_slots():
    pool = SlotPool([slot("big", cpus=8, memory=8000), slot("little", cpus=1, memory=1000)])
    s = FakeSession([request(1)])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=1)], {"u@x": [s]})
    assert s.matches[0][2] == "little"


def test_requirements_reject_and_skip_autocluster():
    pool = SlotPool([slot("linux", OpSys="LINUX")], pre_job_rank=None, post_job_rank=None)
    s = FakeSession([request(1, ac=7, req='TARGET.OpSys == "WINDOWS"'),
                     request(2, ac=7, req='TARGET.OpSys == "WINDOWS"'),
                     request(3, ac=8, req='TARGET.OpSys == "LINUX"')])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=3)], {"u@x": [s]})
    assert s.rejects == [(1, "no match found")]  # cluster 2 is in the rejected autocluster
    assert [(m[0], m[2]) for m in s.matches] == [(3, "linux")]
    # the machine's Requirements count too (symmetric match)
    pool = SlotPool([slot("picky", req="TARGET.Owner == \"carol\"")], pre_job_rank=None, post_job_rank=None)
    s = FakeSession([request(1, Owner="dave")])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=1)], {"u@x": [s]})
    assert s.matches == [] and s.rejects == [(1, "no match found")]


def test_partitionable_slot_fit():
    p = slot("slot1@exec", cpus=4, memory=4096, PartitionableSlot=True)
    pool = SlotPool([p], pre_job_rank=None, post_job_rank=None)
    s = FakeSession([request(1, RequestCpus=8), request(2, ac=2, RequestMemory=2048, RequestCpus=2)])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=2)], {"u@x": [s]})
    assert s.rejects == [(1, "no match found")]  # 8 cpus do not fit in 4
    assert [(m[0], m[2], m[4]) for m in s.matches] == [(2, "slot1@exec", 2)]
    # a claimed partitionable slot is offered only to the schedd that holds it
    c = slot("slot1@exec", cpus=4, state="Claimed", PartitionableSlot=True, RemoteScheddName="schedd@a")
    pool = SlotPool([c], pre_job_rank=None, post_job_rank=None)
    sub = SubmitterState("u@x", 1.0, idle_jobs=1, ad=C.ClassAd({"ScheddName": "schedd@b"}))
    s = FakeSession([request(1)])
    run_cycle(pool, [sub], {"u@x": [s]})
    assert s.matches == []


def test_claimed_slots_and_claim_ids():
    busy = slot("busy", state="Claimed")
    free = slot("free")
    noclaim = slot("noclaim")
    noclaim["Name"] = "noclaim"
    ids = {slot_key(free): ["<127.0.0.1:9>#1#2#secret"]}
    pool = SlotPool([busy, free, noclaim], ids, pre_job_rank=None, post_job_rank=None)
    assert len(pool) == 1 and pool.pool_weight == 3
    s = FakeSession([request(1, count=3)])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=3)], {"u@x": [s]})
    assert [(m[2], m[3]) for m in s.matches] == [("free", "<127.0.0.1:9>#1#2#secret")]
    assert s.rejects == [(1, "no match found")]


def test_ceiling_caps_matches():
    pool = SlotPool([slot(f"s{i}") for i in range(5)], pre_job_rank=None, post_job_rank=None)
    s = FakeSession([request(1, count=5)])
    run_cycle(pool, [SubmitterState("u@x", 1.0, idle_jobs=5, ceiling=2)], {"u@x": [s]})
    assert len(s.matches) == 2 and s.ended is True


def test_same_user_on_two_schedds_shares_one_slice():
    pool = SlotPool([slot(f"s{i}") for i in range(4)], pre_job_rank=None, post_job_rank=None)
    a1 = SubmitterState("a@x", 1000.0, idle_jobs=10, ad=C.ClassAd({"ScheddName": "s1"}))
    a2 = SubmitterState("a@x", 1000.0, idle_jobs=10, ad=C.ClassAd({"ScheddName": "s2"}))
    b = SubmitterState("b@x", 1000.0, idle_jobs=10)
    sessions = {"a@x": [FakeSession([request(1, count=10)]) for _ in range(4)],
                "b@x": [FakeSession([request(2, count=10)]) for _ in range(2)]}
    got_a = sessions["a@x"][:]
    got_b = sessions["b@x"][:]
    run_cycle(pool, [a1, a2, b], sessions)
    # a and b have equal priorities: 2 slots each, however many schedds a submits from
    assert sum(len(s.matches) for s in got_a) == 2
    assert sum(len(s.matches) for s in got_b) == 2


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.5, max_value=1e9), min_size=1, max_size=8),
       st.floats(min_value=0, max_value=1e4))
def test_fair_shares_sum_to_one_and_follow_inverse_priority(prios, pool_weight):
    subs = [SubmitterState(f"u{i}", p) for i, p in enumerate(prios)]
    shares = fair_shares(subs, pool_weight)
    assert sum(s for s, _ in shares.values()) == pytest.approx(1.0)
    for i, p in enumerate(prios):
        for j, q in enumerate(prios):
            # share_i / share_j == prio_j / prio_i
            assert shares[f"u{i}"][0] * p == pytest.approx(shares[f"u{j}"][0] * q, rel=1e-9)
        assert shares[f"u{i}"][1] == pytest.approx(shares[f"u{i}"][0] * pool_weight)
