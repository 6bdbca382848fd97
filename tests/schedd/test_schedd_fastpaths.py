"""Per-job shortcuts of the schedd give exactly what the general paths give.

- ``JobAd.printOld`` (the job ad file written per shadow start) is byte for byte
  ``ClassAd.printOld`` of the same ad, from the queue's texts;
- the job counts of the Scheduler/Submitter ads, kept per job between builds, follow every
  commit (status changes, cluster-level changes, jobs leaving);
- a commit with nothing to upsert or delete still commits, and durably.
- the Advertiser spaces updates caused by queue changes by SCHEDD_MIN_INTERVAL (at most
  SCHEDD_INTERVAL), except an explicit RESCHEDULE.
"""
from __future__ import annotations

import types

from pyhtc import classad as C
from pyhtc.daemons.schedd.advertise import Advertiser, build_ads
from pyhtc.daemons.schedd.jobads import AdCache, JobAd
from pyhtc.daemons.schedd.queue import JobQueue
from pyhtc.daemons.schedd.queue_db import JobQueueDB

CLUSTER_TEXTS = {
    "Owner": '"alice"', "User": '"alice@example.org"', "JobUniverse": "5", "JobStatus": "1",
    "Cmd": '"/bin/echo"', "Args": '"a \\"quoted\\" arg"', "Iwd": '"/tmp/x y"',
    "Requirements": '(TARGET.Arch=="X86_64")&&(TARGET.OpSys   == "LINUX") && Memory>=RequestMemory',
    "RequestMemory": "ifThenElse(MemoryUsage =!= undefined,MemoryUsage,( 128 ))",
    "Env": '"A=1;B=c:\\\\dir"', "WindowsPath": '"C:\\temp\\new"', "Rank": "0.0",
    "Real": "1.5e10", "Lst": "{ 1,2, \"three\" }", "Nested": "[ a = 1; b = \"x\" ]",
    "Bad": "(((", "LeaveJobInQueue": "false", "x.y": "1",
}


def _queue(tmp_path):
    q = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    tx = q.begin()
    c = tx.new_cluster()
    for n, t in CLUSTER_TEXTS.items():
        tx.set_attribute(c, -1, n, t)
    for i in range(3):
        p = tx.new_proc(c)
        tx.set_attribute(c, p, "ProcId", str(p))
        tx.set_attribute(c, p, "ClusterId", str(c))
        tx.set_attribute(c, p, "owner", '"bob"' if i == 1 else '"alice"')  # other spelling
        if i == 1:
            tx.set_attribute(c, p, "User", '"bob@example.org"')
        tx.set_attribute(c, p, "Extra_" + str(i), f'strcat("p", "{i}")')
    tx.commit()
    return q, c


def test_job_ad_print_old_is_classad_print_old(tmp_path):
    q, c = _queue(tmp_path)
    ads = AdCache(q)
    for p in (-1, 0, 1, 2):
        ad = ads.get(c, p)
        assert isinstance(ad, JobAd)
        assert ad.printOld() == C.ClassAd.printOld(ad)
        assert ad.printOld() == C.ClassAd(ad).printOld()   # a plain copy prints the same
        assert "Bad" not in ad and ads.bad_exprs > 0
    # changing the ad drops the shortcut (the general printing follows the change)
    ad = ads.get(c, 0)
    ad["Added"] = 3
    assert "Added = 3\n" in ad.printOld() and ad.printOld() == C.ClassAd.printOld(ad)
    ad2 = ads.get(c, 1)
    del ad2["Owner"]
    assert ad2.printOld() == C.ClassAd.printOld(ad2)
    # a later commit: the rebuilt ad prints the new texts
    tx = q.begin()
    tx.set_attribute(c, 2, "JobStatus", "2")
    tx.commit()
    ad3 = ads.get(c, 2)
    assert "JobStatus = 2\n" in ad3.printOld() and ad3.printOld() == C.ClassAd.printOld(ad3)


def _schedd(q):
    return types.SimpleNamespace(queue=q, uid_domain="example.org", name="s@x", sinful="<1.2.3.4:5>",
                                 start_time=0, schedd_interval=300,
                                 param=lambda k, d=None: None, publish_daemon_stats=lambda ad: None,
                                 advertiser=types.SimpleNamespace(sequence=1))


def _counts(q, c):
    """What build_ads must report, counted the slow way."""
    idle = sum(1 for p in q.procs_of.get(c, []) if q.lookup(c, p, "JobStatus") == "1")
    run = sum(1 for p in q.procs_of.get(c, []) if q.lookup(c, p, "JobStatus") == "2")
    return idle, run


def test_job_counts_follow_commits(tmp_path):
    q, c = _queue(tmp_path)
    s = _schedd(q)
    sched, subs = build_ads(s, 1)
    assert (sched["TotalIdleJobs"], sched["TotalRunningJobs"], sched["NumUsers"]) == (3, 0, 2)
    tx = q.begin()
    tx.set_attribute(c, 0, "JobStatus", "2")
    tx.commit()
    sched, subs = build_ads(s, 2)
    assert (sched["TotalIdleJobs"], sched["TotalRunningJobs"]) == _counts(q, c) == (2, 1)
    # a cluster-level change reaches every proc that does not override it
    tx = q.begin()
    tx.set_attribute(c, -1, "JobStatus", "5")
    tx.commit()
    sched, subs = build_ads(s, 3)
    assert (sched["TotalIdleJobs"], sched["TotalRunningJobs"], sched["TotalHeldJobs"]) == (0, 1, 2)
    by_user = {a["Name"]: (a["IdleJobs"], a["RunningJobs"], a["HeldJobs"]) for a in subs}
    assert by_user == {"alice@example.org": (0, 1, 1), "bob@example.org": (0, 0, 1)}
    tx = q.begin()
    tx.retire(c, 0)
    tx.commit()
    sched, _ = build_ads(s, 4)
    assert (sched["TotalRunningJobs"], sched["TotalHeldJobs"], sched["TotalJobAds"]) == (0, 2, 2)


def test_commit_with_only_a_history_row_is_durable(tmp_path):
    q, c = _queue(tmp_path)
    tx = q.begin()
    tx.retire(c, 1)
    tx.commit()
    q.db.close()
    q2 = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    assert (c, 1) not in q2.ads and (c, 0) in q2.ads
    assert [(h[0], h[1]) for h in q2.db.history()] == [(c, 1)]


class _FakeDC:
    def __init__(self):
        self.timers = {}
        self.n = 0

    def register_timer(self, delay, fn, name=""):
        self.n += 1
        self.timers[self.n] = delay
        return self.n

    def cancel_timer(self, tid):
        self.timers.pop(tid, None)


def test_advertiser_spacing(monkeypatch):
    dc = _FakeDC()
    knobs = {"SCHEDD_MIN_INTERVAL": 5}
    s = types.SimpleNamespace(dc=dc, schedd_interval=300,
                              param_integer=lambda k, d, **kw: knobs.get(k, d))
    a = Advertiser(s)
    a.soon()
    assert list(dc.timers.values()) == [0.2]          # nothing sent yet: soon
    dc.timers.clear()
    a._pending = None
    a._last_sent = __import__("time").monotonic()      # just sent
    a.soon()
    (delay,) = dc.timers.values()
    assert 3.0 < delay <= 5.0                          # spaced by SCHEDD_MIN_INTERVAL
    a.soon(urgent=True)                                # RESCHEDULE: no spacing
    assert list(dc.timers.values()) == [0.2]
    s.schedd_interval = 2                              # never more than SCHEDD_INTERVAL
    a._pending = None
    dc.timers.clear()
    a.soon()
    (delay,) = dc.timers.values()
    assert 0.5 < delay <= 2.0
