"""condor_schedd driven by the real htcondor2 client (FS authentication and AES required):
submit, query, edit, act (hold/release/remove), history, the user log, periodic policy,
and a submit that never commits."""
import json
import signal
import sqlite3

import pytest

from daemon_helpers import run_client, start_daemon

UID_DOMAIN = "pyhtc.test"
SECURE = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": UID_DOMAIN,
}


def start_schedd(tmp_path, **extra):
    env = dict(SECURE)
    env.update(extra)
    return start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog", **env)


@pytest.fixture
def schedd(tmp_path):
    d = start_schedd(tmp_path, _CONDOR_PERIODIC_EXPR_INTERVAL="1")
    yield d
    d.stop()


def client(d, body: str, **env):
    """Run ``body`` with ``s`` = htcondor2.Schedd located by a hand-made ad; it prints JSON."""
    code = f"""
ad = classad2.ClassAd({{'MyAddress': {d.sinful!r}, 'Name': 'pyhtc-schedd',
                       'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}})
s = htcondor2.Schedd(ad)
def plain(ads):
    return [{{k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in a.items()}} for a in ads]
""" + body
    r = run_client(code, **env)
    assert r.returncode == 0, r.stderr + "\n--- schedd log ---\n" + d.log_text()[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_submit_query_edit(schedd, tmp_path):
    out = client(schedd, f"""
r = s.submit(htcondor2.Submit({{'executable': '/bin/sleep', 'arguments': '60',
                                'log': {str(tmp_path / 'job.log')!r}, 'request_memory': '64'}}), count=3)
r2 = s.submit(htcondor2.Submit({{'executable': '/bin/true'}}), count=1)
res = {{'cluster': r.cluster(), 'procs': r.num_procs(), 'cluster2': r2.cluster()}}
res['all'] = plain(s.query())
res['proj'] = plain(s.query(constraint='ClusterId == %d && ProcId >= 1' % r.cluster(),
                            projection=['ClusterId', 'ProcId', 'Owner']))
res['limit'] = len(s.query(limit=2))
res['edited'] = s.edit('%d.1' % r.cluster(), 'RequestMemory', '256')
res['edited_c'] = s.edit('ClusterId == %d' % r.cluster(), 'Foo', '"bar"')
res['after'] = plain(s.query(constraint='ClusterId == %d' % r.cluster(), projection=['ProcId', 'RequestMemory', 'Foo']))
errs = []
for attr, val in (('ClusterId', '99'), ('Owner', '"mallory"'), ('ProcId', '7')):
    try:
        s.edit('%d.0' % r.cluster(), attr, val)
        errs.append('accepted')
    except Exception as e:
        errs.append(str(e))
res['errs'] = errs
try:
    s.edit('ClusterId == 12345', 'Foo', '1')
    res['nomatch'] = 'accepted'
except Exception as e:
    res['nomatch'] = str(e)
print(json.dumps(res))
""")
    c = out["cluster"]
    assert out["procs"] == 3 and out["cluster2"] == c + 1
    jobs = out["all"]
    assert [(j["ClusterId"], j["ProcId"]) for j in jobs] == [(c, 0), (c, 1), (c, 2), (c + 1, 0)]
    j0 = jobs[0]
    assert j0["Owner"] == "root" and j0["User"] == f"root@{UID_DOMAIN}"
    assert j0["JobStatus"] == 1 and j0["Cmd"] == "/bin/sleep" and j0["RequestMemory"] == 64
    assert j0["QDate"] == j0["EnteredCurrentStatus"] > 0 and "ServerTime" in j0
    assert j0["TotalSubmitProcs"] == 3
    assert {(a["ClusterId"], a["ProcId"], a["Owner"]) for a in out["proj"]} == {(c, 1, "root"), (c, 2, "root")}
    assert all(set(a) <= {"ClusterId", "ProcId", "Owner", "ServerTime"} for a in out["proj"])
    assert out["limit"] == 2
    assert out["edited"] == 1 and out["edited_c"] == 3
    after = {a["ProcId"]: a for a in out["after"]}
    assert after[1]["RequestMemory"] == 256 and after[0]["RequestMemory"] == 64
    assert all(a["Foo"] == "bar" for a in after.values())
    assert all("Unable to commit transaction" in e and "immutable attribute" in e for e in out["errs"]), out["errs"]
    assert "Unable to edit jobs matching constraint" in out["nomatch"]


def test_act_history_and_user_log(schedd, tmp_path):
    log = str(tmp_path / "job.log")
    out = client(schedd, f"""
r = s.submit(htcondor2.Submit({{'executable': '/bin/sleep', 'arguments': '60', 'log': {log!r}}}), count=3)
c = r.cluster()
def act(*a, **k):
    ad = s.act(*a, **k)
    return {{k: ad[k] for k in ('TotalSuccess', 'TotalAlreadyDone', 'TotalBadStatus', 'TotalNotFound', 'TotalJobAds')}}
res = {{'c': c}}
res['hold'] = act(htcondor2.JobAction.Hold, ['%d.0' % c, '%d.1' % c], reason=('stop it', 5))  # a plain string reason is dropped by the bindings
res['hold_again'] = act(htcondor2.JobAction.Hold, '%d.0' % c)
res['held'] = plain(s.query('JobStatus == 5', ['ProcId', 'HoldReason', 'HoldReasonCode', 'HoldReasonSubCode', 'NumHolds', 'NumHoldsByReason']))
res['release'] = act(htcondor2.JobAction.Release, 'ClusterId == %d' % c)
res['release_idle'] = act(htcondor2.JobAction.Release, '%d.2' % c)
res['missing'] = act(htcondor2.JobAction.Hold, '%d.7' % c)
res['vacate'] = act(htcondor2.JobAction.Vacate, '%d.2' % c)
res['suspend'] = act(htcondor2.JobAction.Suspend, 'ClusterId == %d' % c)
res['removex'] = act(htcondor2.JobAction.RemoveX, '%d.2' % c)
res['released'] = plain(s.query('ProcId == 0', ['JobStatus', 'LastHoldReason', 'LastHoldReasonCode', 'HoldReason', 'LastJobStatus']))
res['remove'] = act(htcondor2.JobAction.Remove, 'ClusterId == %d && ProcId != 2' % c, reason=('cleanup', 0))
res['left'] = plain(s.query(projection=['ProcId']))
res['hist'] = plain(s.history(None, ['ClusterId', 'ProcId', 'JobStatus', 'RemoveReason', 'LastHoldReason']))
res['hist_c'] = plain(s.history('ProcId == 1', ['ProcId'], match=5))
res['hist_m'] = len(s.history(None, ['ProcId'], match=1))
res['hist_since'] = plain(s.history(None, ['ProcId'], since='%d.0' % c))
res['events'] = [(e.type.name, e.cluster, e.proc, dict(e)) for e in htcondor2.JobEventLog({log!r}).events(0)]
print(json.dumps(res, default=str))
""")
    c = out["c"]
    assert out["hold"]["TotalSuccess"] == 2 and out["hold"]["TotalJobAds"] == 3
    assert out["hold_again"]["TotalSuccess"] == 0 and out["hold_again"]["TotalAlreadyDone"] == 1
    held = sorted(out["held"], key=lambda a: a["ProcId"])
    assert [h["ProcId"] for h in held] == [0, 1]
    assert held[0]["HoldReason"] == "stop it (by user root)"
    assert held[0]["HoldReasonCode"] == 1 and held[0]["HoldReasonSubCode"] == 5
    assert held[0]["NumHolds"] == 1 and "UserRequest = 1" in held[0]["NumHoldsByReason"]
    assert out["release"]["TotalSuccess"] == 2
    assert out["release_idle"]["TotalSuccess"] == 0 and out["release_idle"]["TotalBadStatus"] == 1
    assert out["missing"]["TotalNotFound"] == 1
    assert out["vacate"]["TotalBadStatus"] == 1 and out["removex"]["TotalBadStatus"] == 1
    assert out["suspend"]["TotalSuccess"] == 0 and out["suspend"]["TotalBadStatus"] == 0  # nothing runs
    rel = out["released"][0]
    assert rel["JobStatus"] == 1 and rel["LastJobStatus"] == 5 and "HoldReason" not in rel
    assert rel["LastHoldReason"] == "stop it (by user root)" and rel["LastHoldReasonCode"] == 1
    assert out["remove"]["TotalSuccess"] == 2
    assert [a["ProcId"] for a in out["left"]] == [2]
    hist = out["hist"]
    assert sorted((h["ClusterId"], h["ProcId"]) for h in hist) == [(c, 0), (c, 1)]
    assert all(h["JobStatus"] == 3 and h["RemoveReason"] == "cleanup (by user root)" for h in hist)
    assert hist[0]["LastHoldReason"] == "stop it (by user root)"
    assert [h["ProcId"] for h in out["hist_c"]] == [1]
    assert out["hist_m"] == 1
    assert out["hist_since"] == [{"ProcId": 1}]  # most recent first, stops at 0
    ev = [(t, p) for t, _, p, _ in out["events"]]
    assert ev == [("SUBMIT", 0), ("SUBMIT", 1), ("SUBMIT", 2), ("JOB_HELD", 0), ("JOB_HELD", 1),
                  ("JOB_RELEASED", 0), ("JOB_RELEASED", 1), ("JOB_ABORTED", 0), ("JOB_ABORTED", 1)]
    held_ev = out["events"][3][3]
    assert held_ev["HoldReasonCode"] == 1 and held_ev["HoldReason"] == "stop it (by user root)"
    assert out["events"][7][3]["Reason"] == "cleanup (by user root)"


def test_periodic_policy(tmp_path):
    d = start_schedd(tmp_path, _CONDOR_PERIODIC_EXPR_INTERVAL="1",
                     _CONDOR_SYSTEM_PERIODIC_HOLD_NAMES="Prio",
                     _CONDOR_SYSTEM_PERIODIC_HOLD_Prio="JobPrio == 7",
                     _CONDOR_SYSTEM_PERIODIC_HOLD_Prio_REASON='strcat("prio ", JobPrio)',
                     _CONDOR_SYSTEM_PERIODIC_HOLD_Prio_SUBCODE="42",
                     _CONDOR_SYSTEM_PERIODIC_HOLD="JobPrio == 8")
    try:
        out = client(d, """
import time
a = s.submit(htcondor2.Submit({'executable': '/bin/true',
    'periodic_hold': 'JobStatus == 1 && NumHolds =?= undefined',
    'periodic_hold_reason': '"idle too long"', 'periodic_hold_subcode': '7',
    'periodic_release': 'true'})).cluster()
b = s.submit(htcondor2.Submit({'executable': '/bin/true', 'periodic_remove': 'JobStatus == 1'})).cluster()
c = s.submit(htcondor2.Submit({'executable': '/bin/true', 'priority': '7'})).cluster()
e = s.submit(htcondor2.Submit({'executable': '/bin/true', 'priority': '8'})).cluster()
deadline = time.time() + 15
while time.time() < deadline:
    q = {j['ClusterId']: j for j in s.query()}
    if a in q and q[a].get('NumHolds') == 1 and q[a]['JobStatus'] == 1 and b not in q and c in q and q[c]['JobStatus'] == 5:
        break
    time.sleep(0.2)
time.sleep(1.5)
q = {j['ClusterId']: j for j in plain(s.query())}
print(json.dumps({'a': q.get(a), 'b': b in q, 'c': q.get(c), 'e': q.get(e), 'hist': plain(s.history('ClusterId == %d' % b, ['RemoveReason', 'JobStatus']))}))
""")
    finally:
        d.stop()
    a, c = out["a"], out["c"]
    assert a["JobStatus"] == 1 and a["NumHolds"] == 1, a
    assert a["LastHoldReason"] == "idle too long" and a["LastHoldReasonCode"] == 3
    assert a["LastHoldReasonSubCode"] == 7
    assert a["ReleaseReason"] == "The job attribute PeriodicRelease expression 'true' evaluated to TRUE"
    assert out["b"] is False
    assert out["hist"] == [{"JobStatus": 3, "RemoveReason":
                            "The job attribute PeriodicRemove expression 'JobStatus == 1' evaluated to TRUE"}]
    assert c["JobStatus"] == 5 and c["HoldReasonCode"] == 26 and c["HoldReasonSubCode"] == 42
    assert c["HoldReason"] == "prio 7"
    e = out["e"]
    assert e["JobStatus"] == 5 and e["HoldReasonCode"] == 26 and e["HoldReasonSubCode"] == 0
    assert e["HoldReason"] == "The system macro SYSTEM_PERIODIC_HOLD expression 'JobPrio == 8' evaluated to TRUE"


def test_not_owner_may_not_act_or_edit(tmp_path):
    """Jobs owned by alice; root is not a queue super user: act and edit are refused, and
    root may not change the protected JobStatus of its own job.  A removed job left in the
    queue goes to history at startup."""
    d = start_schedd(tmp_path)
    client(d, """
r = s.submit(htcondor2.Submit({'executable': '/bin/true'}), count=3)
print(json.dumps({'c': r.cluster()}))
""")
    d.stop()
    (tmp_path / ".schedd_address").unlink()
    db = sqlite3.connect(str(tmp_path / "spool" / "job_queue.db"))
    a = json.loads(db.execute("SELECT attrs FROM jobs WHERE cluster = 1 AND proc = -1").fetchone()[0])
    a["Owner"], a["User"] = '"alice"', f'"alice@{UID_DOMAIN}"'
    db.execute("UPDATE jobs SET attrs = ? WHERE cluster = 1 AND proc = -1", (json.dumps(a),))
    p2 = json.loads(db.execute("SELECT attrs FROM jobs WHERE cluster = 1 AND proc = 2").fetchone()[0])
    p2["JobStatus"] = "3"
    db.execute("UPDATE jobs SET attrs = ? WHERE cluster = 1 AND proc = 2", (json.dumps(p2),))
    db.commit()
    db.close()
    d = start_schedd(tmp_path, _CONDOR_QUEUE_SUPER_USERS="condor")
    try:
        out = client(d, """
ad = s.act(htcondor2.JobAction.Hold, ['1.0', '1.1'])
res = {'denied': ad['TotalPermissionDenied'], 'ok': ad['TotalSuccess']}
def edit(*a):
    try:
        s.edit(*a)
        return 'accepted'
    except Exception as e:
        return str(e)
res['edit'] = edit('1.0', 'Foo', '1')
res['status'] = [j['JobStatus'] for j in s.query(projection=['JobStatus'])]
res['hist'] = [(j['ProcId'], j['JobStatus']) for j in s.history(None, ['ProcId', 'JobStatus'])]
c = s.submit(htcondor2.Submit({'executable': '/bin/true'})).cluster()
res['own_edit'] = edit('%d.0' % c, 'Foo', '2')
res['own_status'] = edit('%d.0' % c, 'JobStatus', '2')
print(json.dumps(res))
""")
    finally:
        d.stop()
    assert out["denied"] == 2 and out["ok"] == 0
    assert "may not change attributes for jobs they do not own" in out["edit"]
    assert out["status"] == [1, 1]
    assert out["hist"] == [[2, 3]]
    assert out["own_edit"] == "accepted"
    assert "Unauthorized setting of protected attribute JobStatus" in out["own_status"]


def test_connection_without_commit_leaves_nothing(schedd):
    """A QMGMT client that creates a cluster and procs and then disconnects leaves nothing;
    the abandoned cluster id is not reused."""
    from pyhtc.cedar import transport_blocking as tb
    from pyhtc.cedar.security.policy import Level, SecurityPolicy
    pol = SecurityPolicy(authentication=Level.REQUIRED, encryption=Level.REQUIRED, auth_methods=["FS"])
    host, port = schedd.host_port.split(":")
    s = tb.start_command(host, int(port), 1112, pol)
    s.put_int(10002).end_of_message()          # NewCluster
    cid = s.get_int()
    s.end_of_message()
    s.put_int(10003).put_int(cid).end_of_message()   # NewProc
    assert s.get_int() == 0
    s.end_of_message()
    s.put_int(10006).put_int(cid).put_int(0).put_string('"/bin/true"').put_string("Cmd").end_of_message()
    assert s.get_int() == 0                    # SetAttribute (acknowledged)
    s.end_of_message()
    s.put_int(10011).put_int(cid).put_int(0).put_string("Cmd").end_of_message()  # GetAttributeExpr
    assert s.get_int() == 0 and s.get_string() == '"/bin/true"'
    s.end_of_message()
    s.close()
    out = client(schedd, """
r = s.submit(htcondor2.Submit({'executable': '/bin/true'}))
print(json.dumps({'jobs': [(j['ClusterId'], j['ProcId']) for j in s.query()], 'c': r.cluster()}))
""")
    assert out["c"] == cid + 1
    assert out["jobs"] == [[cid + 1, 0]]


def test_through_collector_ads_and_reschedule(tmp_path):
    """The schedd advertises its Scheduler ad and a Submitter ad per user to COLLECTOR_HOST;
    the client locates the schedd through the collector, submits, and sees the counts."""
    ctmp = tmp_path / "cm"
    ctmp.mkdir()
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", ctmp, "CollectorLog")
    d = start_schedd(tmp_path, _CONDOR_COLLECTOR_HOST=coll.host_port, _CONDOR_SCHEDD_INTERVAL="30",
                     _CONDOR_SCHEDD_NAME="pyhtc-schedd",
                     _CONDOR_START_LOCAL_UNIVERSE="TotalLocalJobsRunning < 3")
    try:
        r = run_client(f"""
import time
coll = htcondor2.Collector({coll.host_port!r})
for _ in range(100):
    if coll.query(htcondor2.AdTypes.Schedd):
        break
    time.sleep(0.1)
ad = coll.locate(htcondor2.DaemonType.Schedd)
s = htcondor2.Schedd(ad)
c = s.submit(htcondor2.Submit({{'executable': '/bin/true'}}), count=4).cluster()
s.act(htcondor2.JobAction.Hold, '%d.0' % c, reason=('x', 0))
s.reschedule()
res = {{'name': ad['Name'], 'addr': ad['MyAddress']}}
for _ in range(100):
    sched = coll.query(htcondor2.AdTypes.Schedd, projection=['TotalIdleJobs', 'TotalHeldJobs', 'TotalJobAds', 'NumUsers', 'StartLocalUniverse', 'StartSchedulerUniverse'])
    subs = coll.query(htcondor2.AdTypes.Submitter, projection=['Name', 'ScheddName', 'IdleJobs', 'HeldJobs', 'RunningJobs'])
    if sched and sched[0].get('TotalHeldJobs') == 1 and subs and subs[0].get('HeldJobs') == 1:
        break
    time.sleep(0.1)
res['sched'] = {{k: (str(v) if isinstance(v, classad2.ExprTree) else v) for k, v in sched[0].items()}}
res['subs'] = [dict(a) for a in subs]
print(json.dumps(res))
""")
        assert r.returncode == 0, r.stderr + d.log_text()[-3000:]
        out = json.loads(r.stdout.strip().splitlines()[-1])
        # a graceful shutdown (SIGTERM) withdraws the ads
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=10) == 0
        r = run_client(f"""
coll = htcondor2.Collector({coll.host_port!r})
print(json.dumps([len(coll.query(htcondor2.AdTypes.Schedd)), len(coll.query(htcondor2.AdTypes.Submitter))]))
""")
        assert json.loads(r.stdout) == [0, 0], r.stderr
    finally:
        d.stop()
        coll.stop()
    assert out["addr"] == d.sinful and out["name"].startswith("pyhtc-schedd@")
    assert {k: out["sched"][k] for k in ("TotalIdleJobs", "TotalHeldJobs", "TotalJobAds", "NumUsers")} == \
        {"TotalIdleJobs": 3, "TotalHeldJobs": 1, "TotalJobAds": 4, "NumUsers": 1}
    # the local/scheduler universe start policies: the configured one, and the default
    assert out["sched"]["StartLocalUniverse"] == "TotalLocalJobsRunning < 3"
    assert out["sched"]["StartSchedulerUniverse"] == "TotalSchedulerJobsRunning < 500"
    assert len(out["subs"]) == 1
    sub = out["subs"][0]
    assert sub["Name"] == f"root@{UID_DOMAIN}" and sub["ScheddName"] == out["name"]
    assert (sub["IdleJobs"], sub["HeldJobs"], sub["RunningJobs"]) == (3, 1, 0)
    assert "Got RESCHEDULE" in d.log_text()


def test_my_jobs_summary_and_qmgmt_reads(schedd):
    out = client(schedd, """
c = s.submit(htcondor2.Submit({'executable': '/bin/true'}), count=3).cluster()
s.act(htcondor2.JobAction.Hold, '%d.2' % c, reason=('x', 0))
mine = s.query(opts=htcondor2.QueryOpt.DefaultMyJobsOnly, projection=['ProcId'])
summ = s.query(opts=htcondor2.QueryOpt.SummaryOnly)
withc = s.query(opts=htcondor2.QueryOpt.IncludeClusterAd, projection=['ClusterId', 'ProcId'])
print(json.dumps({'c': c, 'mine': len(mine), 'summary': plain(summ),
                  'withc': [(a['ClusterId'], a.get('ProcId', -1)) for a in withc]}))
""")
    assert out["mine"] == 3
    summ = out["summary"][0]
    assert summ["MyType"] == "Summary" and summ["Jobs"] == 3 and summ["Idle"] == 2 and summ["Held"] == 1
    assert summ["AllusersJobs"] == 3
    c = out["c"]
    assert out["withc"] == [[c, -1], [c, 0], [c, 1], [c, 2]]
    # QMGMT_READ_CMD from pyhtc's own client: GetJobAd, GetAllJobsByConstraint, and no writes
    from pyhtc.cedar import transport_blocking as tb
    from pyhtc.cedar.security.policy import Level, SecurityPolicy
    pol = SecurityPolicy(authentication=Level.REQUIRED, encryption=Level.REQUIRED, auth_methods=["FS"])
    host, port = schedd.host_port.split(":")
    s = tb.start_command(host, int(port), 1111, pol)
    c = out["c"]
    s.put_int(10018).put_int(c).put_int(1).end_of_message()       # GetJobAd
    assert s.get_int() == 0
    ad = s.get_ad()
    s.end_of_message()
    assert ad.get("ProcId") == 1 and ad.get("Cmd") == "/bin/true" and ad.get("Owner") == "root"
    s.put_int(10026).put_string("JobStatus == 1").put_string("ProcId,JobStatus").end_of_message()
    got = []
    while s.get_int() == 0:
        got.append(s.get_ad())
    s.get_int()  # errno
    s.end_of_message()
    assert [(a.get("ProcId"), a.get("JobStatus")) for a in got] == [(0, 1), (1, 1)]
    assert all("ServerTime" in a for a in got)
    s.put_int(10009).put_int(c).put_int(2).put_string("HoldReasonCode").end_of_message()  # GetAttributeInt
    assert s.get_int() == 0 and s.get_int() == 1
    s.end_of_message()
    s.put_int(10002).end_of_message()                            # NewCluster on a read-only connection
    assert s.get_int() < 0
    s.get_int()
    s.get_ad()
    s.end_of_message()
    s.put_int(10028).end_of_message()                            # CloseSocket
    s.close()
    # condor_reconfig keeps the queue and the service
    out = client(schedd, """
s_ad = classad2.ClassAd({'MyAddress': ad['MyAddress'], 'MyType': 'Scheduler', 'Name': 'pyhtc-schedd'})
htcondor2.send_command(s_ad, htcondor2.DaemonCommand.Reconfig)
import time
time.sleep(0.5)
print(json.dumps({'n': len(s.query())}))
""")
    assert out["n"] == 3 and schedd.wait_log("re-reading configuration")


def test_root_owner_refused_when_configured(tmp_path):
    """HTCondor refuses jobs owned by root; pyhtc does too with SCHEDD_ALLOW_ROOT_OWNER=false."""
    d = start_schedd(tmp_path, _CONDOR_SCHEDD_ALLOW_ROOT_OWNER="false")
    try:
        out = client(d, """
try:
    s.submit(htcondor2.Submit({'executable': '/bin/true'}))
    res = 'accepted'
except Exception as e:
    res = str(e)
print(json.dumps({'err': res, 'n': len(s.query())}))
""")
    finally:
        d.stop()
    assert 'Setting job owner to "root" is not permitted' in out["err"]
    assert out["n"] == 0


def test_submit_limits_and_requirements(tmp_path):
    """MAX_JOBS_PER_OWNER, SUBMIT_REQUIREMENT_* (refusing and warning), MAX_HISTORY_LOG."""
    d = start_schedd(tmp_path, _CONDOR_MAX_JOBS_PER_OWNER="3",
                     _CONDOR_SUBMIT_REQUIREMENT_NAMES="Mem Prio",
                     _CONDOR_SUBMIT_REQUIREMENT_Mem="JOB.RequestMemory <= 1024",
                     _CONDOR_SUBMIT_REQUIREMENT_Mem_REASON='strcat("RequestMemory ", TARGET.RequestMemory, " is too much")',
                     _CONDOR_SUBMIT_REQUIREMENT_Prio="JobPrio == 0",
                     _CONDOR_SUBMIT_REQUIREMENT_Prio_IS_WARNING="true",
                     _CONDOR_MAX_HISTORY_LOG="1", _CONDOR_MAX_HISTORY_ROTATIONS="0",
                     _CONDOR_QUEUE_CLEAN_INTERVAL="1")
    try:
        out = client(d, """
def sub(n, **kw):
    kw.setdefault('executable', '/bin/true')
    try:
        return s.submit(htcondor2.Submit(kw), count=n).cluster()
    except Exception as e:
        return str(e)
res = {'mem': sub(1, request_memory='2048')}
res['ok'] = sub(2)
res['over'] = sub(2)
res['warned'] = sub(1, priority='5')
res['n'] = len(s.query())
s.act(htcondor2.JobAction.Remove, 'true')
import time
for _ in range(50):
    res['hist'] = len(s.history(None, ['ProcId']))
    if res['hist'] == 0:
        break
    time.sleep(0.1)
print(json.dumps(res))
""")
    finally:
        d.stop()
    assert "RequestMemory 2048 is too much" in str(out["mem"])
    assert isinstance(out["ok"], int)
    assert not isinstance(out["over"], int)  # the 4th job exceeds MAX_JOBS_PER_OWNER
    assert isinstance(out["warned"], int)   # a warning requirement does not refuse
    assert out["n"] == 3
    assert "MAX_JOBS_PER_OWNER exceeded" in d.log_text()
    assert out["hist"] == 0 and "Trimmed 3 old job ad(s)" in d.log_text()  # MAX_HISTORY_LOG


def test_raw_commands_force_authentication(tmp_path):
    """With SEC_CLIENT_NEGOTIATION=NEVER the client sends raw commands; QMGMT_WRITE_CMD and
    ACT_ON_JOBS then run FS authentication inside the command (PROTOCOL.md 5 path b)."""
    d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog",
                     _CONDOR_UID_DOMAIN=UID_DOMAIN)
    try:
        out = client(d, """
c = s.submit(htcondor2.Submit({'executable': '/bin/true'}), count=2).cluster()
held = s.act(htcondor2.JobAction.Hold, '%d.0' % c)['TotalSuccess']
edited = s.edit('%d.1' % c, 'Foo', '3')
h = s.submit(htcondor2.Submit({'executable': '/bin/true', 'hold': 'true'})).cluster()
print(json.dumps({'held': held, 'edited': edited,
                  'jobs': plain(s.query('ClusterId == %d' % c, ['User', 'JobStatus', 'Foo'])),
                  'on_hold': plain(s.query('ClusterId == %d' % h, ['JobStatus', 'HoldReasonCode', 'NumHolds']))}))
""", _CONDOR_SEC_CLIENT_NEGOTIATION="NEVER")
    finally:
        d.stop()
    assert out["held"] == 1 and out["edited"] == 1
    assert [(j["User"], j["JobStatus"], j.get("Foo")) for j in out["jobs"]] == \
        [(f"root@{UID_DOMAIN}", 5, None), (f"root@{UID_DOMAIN}", 1, 3)]
    # submitted on hold: code 15 (SubmittedOnHold), counted in NumHolds as qmgmt.cpp does
    assert [(j["JobStatus"], j["HoldReasonCode"], j["NumHolds"]) for j in out["on_hold"]] == [(5, 15, 1)]


def test_corrupt_queue_file_is_reported(tmp_path):
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "job_queue.db").write_bytes(b"this is not an SQLite database\n" * 8)
    d = start_schedd(tmp_path)
    try:
        assert d.proc.wait(timeout=15) == 1
    finally:
        d.stop()
    assert "cannot open the job queue" in d.log_text() and "file is not a database" in d.log_text()
