"""The startd's fast ad paths give exactly what the general ones give.

``slot_wire_ad`` (collector updates, the starter's machine ad file) must be the wire form of
``slot_ad``; ``eval_ad`` (policy evaluation, kept up to date in place) must hold the same
attributes and values as a freshly built ``slot_ad``; ``private_wire_ad`` the wire form of
``private_ad`` -- through claims, activations, usage updates, dynamic slots coming and
going and STARTD_ATTRS expressions and lists.  A Startd object is built without its event
loop (its ads need only the configuration, the address and the slots).
"""
from __future__ import annotations

import itertools
import types

import pytest

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import from_classad
from pyhtc.config import Config
from pyhtc.daemons.startd import daemon as startd_mod
from pyhtc.daemons.startd.daemon import Startd, _result_summary


def _startd(tmp_path, **knobs) -> Startd:
    env = {"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_NUM_CPUS": "8", "_CONDOR_MEMORY": "4096",
           "_CONDOR_EXECUTE": str(tmp_path / "execute"), "_CONDOR_FULL_HOSTNAME": "ep.example",
           "_CONDOR_COLLECTOR_HOST": "", "_CONDOR_NUM_SLOTS_TYPE_1": "1",
           "_CONDOR_SLOT_TYPE_1": "100%", "_CONDOR_SLOT_TYPE_1_PARTITIONABLE": "True"}
    env.update({f"_CONDOR_{k}": str(v) for k, v in knobs.items()})
    d = Startd(["-f", "-t"], environ=env)
    d.config = Config.load("STARTD", environ=env, read_user_config=False)
    d.sinful = "<127.0.0.1:9618?addrs=127.0.0.1-9618>"
    (tmp_path / "execute").mkdir()
    d.execute = str(tmp_path / "execute")
    d._reset_ad_cache()
    d._update_seq = 0
    d._loadavg = (0.0, 0.0)
    d._seq = itertools.count(1)
    d.slots = []
    d._sent = {}
    d._update_pending = True        # no update timer: there is no event loop
    d.dc.spawn = lambda coro, name="": coro.close()
    d._to_invalidate = []
    d.dc.loop = types.SimpleNamespace(call_soon=lambda fn: None)
    d._build_slots()
    return d


def _same(d: Startd, slot, now: float) -> None:
    full = d.slot_ad(slot, now)
    expect = list(from_classad(full))
    got = d.slot_wire_ad(slot, now)
    assert sorted(got) == sorted(expect)
    assert len({n.lower() for n, _ in got}) == len(got)
    ev = d.eval_ad(slot, now)
    assert sorted(from_classad(ev)) == sorted(expect)
    assert sorted(d.private_wire_ad(slot)) == sorted(from_classad(d.private_ad(slot)))


@pytest.mark.parametrize("knobs", [
    {},
    {"STARTD_ATTRS": "Color, Weights, Expr", "COLOR": '"bl\\"ue"', "WEIGHTS": "{ 1, 2.5, \"x\" }",
     "EXPR": "TARGET.RequestCpus <= 2 && Memory > 10", "STARTD_JOB_ATTRS": "Owner, Foo"},
])
def test_fast_ads_equal_general_ads_through_a_claim(tmp_path, knobs):
    d = _startd(tmp_path, **knobs)
    pslot = d.slots[0]
    now = 1_700_000_000.0
    for s in d.all_slots():
        _same(d, s, now)
    # a dynamic slot carved for a request, claimed, activated, with usage, then released
    req = C.ClassAd({"RequestCpus": 1, "RequestMemory": 100, "RequestDisk": 10, "User": "u@x",
                     "Owner": "u", "AccountingGroup": "grp.u", "ScheddName": "s@x"})
    claim_id = pslot.claim.id
    dslot = d._carve(pslot, req, d.eval_ad(pslot, now), claim_id)
    dslot.claim.job_ad, dslot.claim.client_addr = req, "<127.0.0.1:4000>"
    dslot.claim.claimed_at = now
    dslot.set_state("Claimed", "Idle")
    for s in d.all_slots():
        _same(d, s, now + 1)
    job = C.ClassAd({"ClusterId": 3, "ProcId": 0, "GlobalJobId": "s#3.0#1", "JobUniverse": 5,
                     "Owner": "u", "Foo": C.ExprTree("1 + 2")})
    d._starter_started(dslot, dslot.claim, job, 4242)
    for s in d.all_slots():
        _same(d, s, now + 2)
    dslot.claim.usage.update({"RemoteUserCpu": 1.5, "ImageSize": 1024, "LastClaimAliveTime": 7})
    d._update_seq += 1
    _same(d, dslot, now + 3)
    # starter gone, claim still there: job attributes leave the ad (eval_ad must drop them)
    dslot.claim.starter_pid = None
    dslot.set_state("Claimed", "Idle")
    _same(d, dslot, now + 4)
    d.release_claim(dslot, "test")
    for s in d.all_slots():
        _same(d, s, now + 5)
    assert dslot not in pslot.children
    assert d._to_invalidate == [d.slot_name(dslot)]   # its ad leaves the collector


def test_eval_ad_follows_a_reconfiguration(tmp_path):
    d = _startd(tmp_path, START="True")
    slot = d.slots[0]
    assert d.eval_ad(slot).lookup("Start").eval() is True
    d.config = Config.load("STARTD", environ=dict(d.environ, _CONDOR_START="False"),
                           read_user_config=False)
    d._reset_ad_cache()
    assert d.eval_ad(slot).lookup("Start").eval() is False
    _same(d, slot, 1_700_000_000.0)


def test_starter_started_after_the_claim_ended_kills_it(tmp_path, monkeypatch):
    d = _startd(tmp_path)
    pslot = d.slots[0]
    req = C.ClassAd({"RequestCpus": 1, "RequestMemory": 100, "RequestDisk": 10})
    dslot = d._carve(pslot, req, d.eval_ad(pslot), pslot.claim.id)
    dslot.set_state("Claimed", "Busy")
    claim = dslot.claim
    d.release_claim(dslot, "released while the starter was being forked")
    signals = []
    monkeypatch.setattr(d.dc, "send_signal", lambda pid, sig: signals.append((pid, sig)) or True)
    d._starter_started(dslot, claim, C.ClassAd({"JobUniverse": 5}), 777)
    assert signals == [(777, 3)]


def test_result_summary_reads_only_the_logged_attributes(tmp_path):
    path = tmp_path / "dir_1.result.ad"
    path.write_text('ExitCode = 3\nMessage = "a = b"\nExitBySignal = false\nRemoteUserCpu = 0.5\n'
                    'HoldReasonCode = 12\n')
    assert _result_summary(str(path)) == "ExitCode=3, ExitBySignal=False, HoldReasonCode=12"
    assert _result_summary(str(tmp_path / "missing")) == ""
    assert startd_mod._SUMMARY_ATTRS == ("ExitCode", "ExitBySignal", "ExitSignal", "HoldReasonCode")


def test_collector_updates_hold_back_job_churn_but_not_state_changes(tmp_path, monkeypatch):
    import asyncio
    d = _startd(tmp_path, COLLECTOR_HOST="127.0.0.1:1")
    d.shutting_down = None
    d._first_update = False
    d._churn_timer = None
    sent, timers = [], []
    d.dc.register_timer = lambda delay, fn, **kw: timers.append(delay) or len(timers)

    async def fake_send(addr, command, pairs):
        sent.append([dict(pub)["Name"].strip('"').split("@")[0] for pub, _ in pairs])
        return True
    d._send = fake_send
    clock = [1000.0]
    monkeypatch.setattr(startd_mod.time, "monotonic", lambda: clock[0])
    pslot = d.slots[0]
    req = C.ClassAd({"RequestCpus": 1, "RequestMemory": 100, "RequestDisk": 10, "User": "u@x"})
    dslot = d._carve(pslot, req, d.eval_ad(pslot), pslot.claim.id)
    dslot.claim.job_ad = req
    dslot.set_state("Claimed", "Idle")
    run = lambda only: asyncio.run(d.send_updates(only_changed=only))  # noqa: E731
    run(False)
    assert sent == [["slot1", "slot1_1"]]
    d._starter_started(dslot, dslot.claim, C.ClassAd({"JobUniverse": 5}), 11)   # Idle -> Busy
    clock[0] += 1
    run(True)
    assert sent[-1] == ["slot1_1"]                       # a state change goes at once
    # the job ends and the next one starts on the same claim within the second: the same
    # state (Claimed/Busy), another job: held back, a timer set for when it may go
    dslot.claim.starter_pid = None
    dslot.set_state("Claimed", "Idle")
    d._starter_started(dslot, dslot.claim, C.ClassAd({"JobUniverse": 5, "ClusterId": 2, "ProcId": 0}), 12)
    clock[0] += 1
    n = len(sent)
    run(True)
    assert len(sent) == n and d._churn_timer is not None
    assert 3.5 < timers[-1] <= startd_mod.CHURN_UPDATE_SECONDS
    clock[0] += startd_mod.CHURN_UPDATE_SECONDS
    d._churn_timer = None
    run(True)
    assert sent[-1] == ["slot1_1"]                       # ... and sent once due
    # a state change is never held back
    dslot.claim.starter_pid = None
    dslot.set_state("Claimed", "Idle")
    clock[0] += 0.5
    run(True)
    assert sent[-1] == ["slot1_1"]
    n = len(sent)
    run(True)
    assert len(sent) == n                                # nothing changed: nothing sent
