"""Job state changes (hold/release/remove), the periodic policy evaluation and history
trimming, in process."""
import json

from pyhtc import classad as C
from pyhtc.daemons.schedd import jobactions as J
from pyhtc.daemons.schedd.jobads import AdCache, is_true, parse_expr
from pyhtc.daemons.schedd.policy import HOLD, RELEASE, REMOVE, analyze
from pyhtc.daemons.schedd.queue import JobQueue
from pyhtc.daemons.schedd.queue_db import JobQueueDB
from pyhtc.userlog import JobEventLog, UserLog


def make_queue(tmp_path, n=2, **cluster):
    q = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    tx = q.begin()
    c = tx.new_cluster()
    tx.set_attribute(c, -1, "Owner", '"alice"')
    tx.set_attribute(c, -1, "UserLog", '"job.log"')
    tx.set_attribute(c, -1, "Iwd", J.quote(str(tmp_path)))
    for k, v in cluster.items():
        tx.set_attribute(c, -1, k, v)
    for _ in range(n):
        p = tx.new_proc(c)
        tx.set_attribute(c, p, "ProcId", str(p))
        tx.set_attribute(c, p, "JobStatus", "1")
    tx.commit()
    return q, c


def test_hold_release_remove_attributes_and_events(tmp_path):
    q, c = make_queue(tmp_path)
    events = []
    tx = q.begin()
    events.append(J.hold_job(tx, c, 0, 'say "no"', 1, 4, 1000))
    tx.commit()
    a = q.job_attrs(c, 0)
    assert a["JobStatus"] == "5" and a["HoldReason"] == '"say \\"no\\""'
    assert (a["HoldReasonCode"], a["HoldReasonSubCode"], a["NumHolds"]) == ("1", "4", "1")
    assert a["EnteredCurrentStatus"] == "1000" and a["LastJobStatus"] == "1"
    assert a["NumHoldsByReason"] == "[ UserRequest = 1 ]"
    tx = q.begin()
    events.append(J.release_job(tx, c, 0, "go", 1001))
    tx.commit()
    a = q.job_attrs(c, 0)
    assert a["JobStatus"] == "1" and "HoldReason" not in a and a["LastHoldReasonCode"] == "1"
    assert a["LastHoldReason"] == '"say \\"no\\""' and a["ReleaseReason"] == '"go"'
    tx = q.begin()
    events.append(J.hold_job(tx, c, 0, "again", 3, 0, 1002, system_hold=True))
    tx.commit()
    a = q.job_attrs(c, 0)
    assert a["NumHolds"] == "2" and a["NumHoldsByReason"] == "[ UserRequest = 1; JobPolicy = 1 ]"
    assert a["LastReleaseReason"] == '"go"' and "ReleaseReason" not in a and a["NumSystemHolds"] == "1"
    tx = q.begin()
    events.append(J.remove_job(tx, c, 0, "bye", 1003))
    tx.retire(c, 0, 1003)
    tx.commit()
    assert list(q.jobs()) == [(c, 1)]
    (hc, hp, when, ha), = list(q.db.history())
    assert (hc, hp, when) == (c, 0, 1003)
    assert ha["JobStatus"] == "3" and ha["RemoveReason"] == '"bye"' and ha["LastHoldReasonCode"] == "3"
    assert ha["Owner"] == '"alice"'  # the full ad (cluster attributes included) is kept
    log = tmp_path / "job.log"
    for path, ev in events:
        assert path == str(log)
        with UserLog(path) as ul:
            ul.write(ev)
    got = [(int(e.type), e.proc) for e in JobEventLog(str(log)).events(0)]
    assert got == [(12, 0), (13, 0), (12, 0), (9, 0)]


def test_retiring_last_proc_drops_cluster_and_transaction_sees_itself(tmp_path):
    q, c = make_queue(tmp_path, n=2)
    tx = q.begin()
    tx.set_attribute(c, 1, "Foo", "1")
    assert tx.job_attrs(c, 1)["Foo"] == "1" and tx.job_attrs(c, 1)["Owner"] == '"alice"'
    tx.retire(c, 0)
    tx.retire(c, 1)
    assert tx.procs(c) == []
    assert q.job_count() == 2  # nothing visible before commit
    tx.commit()
    assert q.clusters() == [] and len(list(q.db.history())) == 2
    assert [h[3].get("Foo") for h in q.db.history() if h[1] == 1] == ["1"]


def policy_ad(**attrs):
    ad = C.ClassAd()
    for k, v in attrs.items():
        ad[k] = parse_expr(v)
    return ad


def test_periodic_policy_analysis():
    none = {HOLD: None, RELEASE: None, REMOVE: None}
    big = 2 ** 31
    ad = policy_ad(JobStatus="1", PeriodicHold="JobStatus == 1", PeriodicHoldSubCode="5")
    assert analyze(ad, none, big) == (HOLD, "The job attribute PeriodicHold expression "
                                            "'JobStatus == 1' evaluated to TRUE", 3, 5)
    ad = policy_ad(JobStatus="1", PeriodicHold="undefined", PeriodicRemove="1")
    assert analyze(ad, none, big)[0] == REMOVE
    # held by the user: periodic_release does not apply; SYSTEM_MAX_RELEASES limits releases
    ad = policy_ad(JobStatus="5", HoldReasonCode="1", PeriodicRelease="true")
    assert analyze(ad, none, big) is None
    ad = policy_ad(JobStatus="5", HoldReasonCode="3", NumHolds="2", PeriodicRelease="true",
                   PeriodicReleaseReason='"ok now"')
    assert analyze(ad, none, big) == (RELEASE, "ok now", 3, 0)
    assert analyze(ad, none, 2) is None
    # held jobs are not held again; system expressions give code 26
    system = {HOLD: [("SYSTEM_PERIODIC_HOLD", parse_expr("RequestMemory > 100"), None,
                      parse_expr("RequestMemory"))], RELEASE: None, REMOVE: None}
    ad = policy_ad(JobStatus="2", RequestMemory="512")
    assert analyze(ad, system, big) == (HOLD, "The system macro SYSTEM_PERIODIC_HOLD expression "
                                              "'RequestMemory > 100' evaluated to TRUE", 26, 512)
    ad = policy_ad(JobStatus="5", HoldReasonCode="26", RequestMemory="512")
    assert analyze(ad, system, big) is None


def test_ad_cache_and_truth(tmp_path):
    q, c = make_queue(tmp_path, n=2, RequestMemory="128")
    cache = AdCache(q)
    a0 = cache.get(c, 0)
    assert a0["RequestMemory"] == 128 and a0["Owner"] == "alice" and a0["ProcId"] == 0
    assert cache.get(c, 0) is a0  # unchanged: same object
    tx = q.begin()
    tx.set_attribute(c, -1, "RequestMemory", "256")
    tx.commit()
    assert cache.get(c, 0)["RequestMemory"] == 256 and cache.get(c, 1)["RequestMemory"] == 256
    assert cache.get(c, 9) is None
    assert is_true(parse_expr("RequestMemory > 200"), cache.get(c, 0))
    assert not is_true(parse_expr("NoSuchAttr"), cache.get(c, 0))  # UNDEFINED is not true
    assert not is_true(parse_expr('"yes"'), cache.get(c, 0))


def test_history_trimmed_by_rows_and_bytes(tmp_path):
    q, c = make_queue(tmp_path, n=10)
    for p in range(10):
        q.remove_to_history([(c, p)], when=100 + p)
    sizes = {h[1]: len(json.dumps(h[3], separators=(",", ":"))) for h in q.db.history()}
    assert q.db.trim_history(8) == 2
    assert sorted(h[1] for h in q.db.history()) == list(range(2, 10))
    keep = sizes[9] + sizes[8] + sizes[7]
    assert q.db.trim_history_bytes(keep) == 5
    assert [h[1] for h in q.db.history()] == [9, 8, 7]
    assert q.db.trim_history_bytes(10 ** 9) == 0


def test_policies_that_cannot_fire_are_skipped_without_building_the_ad():
    from pyhtc.daemons.schedd.policy import _may_fire
    assert not _may_fire(None) and not _may_fire("false") and not _may_fire(" FALSE ")
    assert _may_fire("true") and _may_fire("JobStatus == 1 && time() > QDate + 5")
