"""Late materialization in condor_schedd, driven by the real htcondor2 client (FS + AES):
a factory keeps at most max_idle idle procs (and at most max_materialize procs), makes more
as jobs leave or stop being idle, makes every proc exactly once with the right ProcId, item
and arguments, removes the cluster when done (ClusterRemove event), and survives SIGKILL."""
import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from daemon_helpers import run_client, start_daemon

from pyhtc.daemons.schedd.factory import FactoryError, JobFactory, parse_item_rows

SECURE = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": "pyhtc.test",
}
ITEMS = "a b c d e f g h i j".split()


def start_schedd(tmp_path):
    addr = tmp_path / ".schedd_address"
    if addr.exists():
        addr.unlink()  # a killed schedd leaves its address file behind
    return start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog", **SECURE)


def client(d, body: str):
    """Run ``body`` with ``s`` = htcondor2.Schedd of daemon ``d`` and helpers; the last line
    it prints is JSON."""
    code = f"""
import time
s = htcondor2.Schedd(classad2.ClassAd({{'MyAddress': {d.sinful!r}, 'Name': 'pyhtc-schedd',
                     'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}}))
def procs(c):
    return sorted((a['ProcId'], a.get('Args'), a.get('JobStatus'))
                  for a in s.query(f'ClusterId == {{c}}', ['ProcId', 'Args', 'JobStatus']))
def wait_for(c, pred, timeout=10):
    end = time.time() + timeout
    while True:
        p = procs(c)
        if pred(p) or time.time() > end:
            return p
        time.sleep(0.05)
{body}
"""
    r = run_client(code)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def expected_args(p: int) -> str:
    return f"{ITEMS[p // 2]} {p} {p % 2}"


SUBMIT = ("sub = htcondor2.Submit('executable = /bin/echo\\narguments = $(Item) $(Process) $(Step)\\n"
          "log = {log}\\nmax_idle = 5\\nqueue 2 Item in (" + " ".join(ITEMS) + ")')\n"
          "r = s.submit(sub)\nc = r.cluster()\n")


@pytest.fixture
def schedd(tmp_path):
    d = start_schedd(tmp_path)
    yield d
    d.stop()


def test_max_idle_materializes_as_jobs_leave(schedd, tmp_path):
    log = tmp_path / "factory.log"
    out = client(schedd, SUBMIT.format(log=log) + """
first = wait_for(c, lambda p: len(p) >= 5)
time.sleep(0.3)
steady = procs(c)
s.act(htcondor2.JobAction.Remove, [f'{c}.0', f'{c}.1', f'{c}.2'])
after_rm = wait_for(c, lambda p: len(p) >= 5 and p[0][0] >= 3)
# a job that stops being idle (Running) lets one more materialize
s.edit([f'{c}.3'], 'JobStatus', '2')
after_run = wait_for(c, lambda p: len(p) >= 6)
s.edit([f'{c}.3'], 'JobStatus', '1')   # idle again: removable without a shadow
seen = {p[0]: p[1] for p in steady + after_rm + after_run}
while True:
    cur = procs(c)
    for p in cur:
        seen[p[0]] = p[1]
    if not cur:
        break
    s.act(htcondor2.JobAction.Remove, [f'{c}.{p[0]}' for p in cur])
    wait_for(c, lambda p: not p or p[0][0] > cur[-1][0])
print(json.dumps({'num': r.num_procs(), 'c': c, 'first': first, 'steady': steady, 'after_rm': after_rm,
                  'after_run': after_run, 'seen': sorted(seen.items())}))
""")
    assert out["num"] == 20
    c = out["c"]
    assert [p[0] for p in out["steady"]] == [0, 1, 2, 3, 4]            # only max_idle procs exist
    assert all(p[2] == 1 for p in out["steady"])
    assert [p[0] for p in out["after_rm"]] == [3, 4, 5, 6, 7]          # removing 3 made 3 more
    assert [p[0] for p in out["after_run"]] == [3, 4, 5, 6, 7, 8]       # 5 idle + 1 running
    assert [p for p, _ in out["seen"]] == list(range(20))              # every proc, once
    assert all(a == expected_args(p) for p, a in out["seen"])
    # the cluster went when the factory was done; its events are in the user log
    text = log.read_text()
    assert text.count("Job submitted from host") == 20
    assert f"035 ({c:03d}.-01.000)" in text and f"036 ({c:03d}.-01.000)" in text
    db = sqlite3.connect(tmp_path / "spool" / "job_queue.db")
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE cluster=?", (c,)).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM factories").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM history WHERE cluster=?", (c,)).fetchone()[0] == 20


def test_cluster_ad_and_digest_stored(schedd, tmp_path):
    out = client(schedd, SUBMIT.format(log=tmp_path / "x.log") + """
wait_for(c, lambda p: len(p) >= 5)
ad = s.query(f'ClusterId == {c} && ProcId == 0')[0]
print(json.dumps({'c': c, 'ad': {k: str(ad.get(k)) for k in ('JobMaterializeLimit', 'JobMaterializeMaxIdle',
      'TotalSubmitProcs', 'JobMaterializeNextProcId', 'JobMaterializeNextRow', 'JobMaterializeDigestFile',
      'JobMaterializeItemsFile', 'JobSubmitMethod', 'Owner')}}))
""")
    ad, c = out["ad"], out["c"]
    assert ad["JobMaterializeLimit"] == "20" and ad["JobMaterializeMaxIdle"] == "5"
    assert ad["TotalSubmitProcs"] == "20" and ad["JobMaterializeNextProcId"] == "5"
    assert ad["JobMaterializeNextRow"] == "2"
    spool = tmp_path / "spool"
    assert ad["JobMaterializeItemsFile"] == str(spool / str(c) / f"condor_submit.{c}.items")
    digest = (spool / str(c) / f"condor_submit.{c}.digest").read_text()
    assert ad["JobMaterializeDigestFile"].endswith(f"condor_submit.{c}.digest")
    # the real client's digest: per-proc commands only, items read back from the spooled file
    assert "arguments=$(Item) $(Process) $(Step)" in digest
    assert digest.rstrip().endswith(f"Queue 2 Item from {ad['JobMaterializeItemsFile']}")
    assert (spool / str(c) / f"condor_submit.{c}.items").read_text() == "".join(i + "\n" for i in ITEMS)


def test_factory_survives_sigkill(tmp_path):
    d = start_schedd(tmp_path)
    try:
        out = client(d, SUBMIT.format(log=tmp_path / "k.log") + """
p = wait_for(c, lambda p: len(p) >= 5)
print(json.dumps({'c': c, 'p': p}))
""")
    finally:
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
    c = out["c"]
    assert [p[0] for p in out["p"]] == [0, 1, 2, 3, 4]
    d = start_schedd(tmp_path)
    try:
        out = client(d, f"""
c = {c}
import time
time.sleep(0.3)
before = procs(c)
s.act(htcondor2.JobAction.Remove, [f'{{c}}.0', f'{{c}}.1'])
after = wait_for(c, lambda p: len(p) >= 5 and p[0][0] >= 2)
print(json.dumps({{'before': before, 'after': after}}))
""")
        assert [p[0] for p in out["before"]] == [0, 1, 2, 3, 4]    # none made twice, none lost
        assert [p[0] for p in out["after"]] == [2, 3, 4, 5, 6]
        assert all(a == expected_args(p) for p, a, _ in out["after"])
        # kill again right after more procs were made: the counter moved with them
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d = start_schedd(tmp_path)
        out = client(d, f"""
time.sleep(0.3)
print(json.dumps(procs({c})))
""")
        assert [p[0] for p in out] == [2, 3, 4, 5, 6]
    finally:
        d.stop()


def test_max_materialize_and_multi_variable_items(tmp_path):
    """max_materialize caps existing procs whatever their state; two loop variables travel
    as 0x1F-separated fields of SendMaterializeData (pyhtc's own client this time)."""
    d = start_schedd(tmp_path)
    try:
        code = f"""
import json, time
from pyhtc import classad
from pyhtc.htcondor._schedd import Schedd
from pyhtc.submit import Submit
s = Schedd(classad.ClassAd({{'MyAddress': {d.sinful!r}, 'CondorVersion': 'x'}}))
r = s.submit(Submit('executable = /bin/echo\\narguments = $(x)-$(y)\\nmax_materialize = 3\\nqueue x,y from (\\n1 one\\n2 two\\n3 three\\n4 four\\n)'))
time.sleep(0.5)
ads = s.query(f'ClusterId == {{r.cluster()}}', ['ProcId', 'Args'])
print(json.dumps({{'n': r.num_procs(), 'ads': sorted((a['ProcId'], a['Args']) for a in ads)}}))
"""
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
        env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["n"] == 4
        assert out["ads"] == [[0, "1-one"], [1, "2-two"], [2, "3-three"]]
    finally:
        d.stop()


def test_failed_proc_pauses_factory(schedd, tmp_path):
    """A proc the digest cannot make (its initialdir is missing) pauses the factory with a
    reason (JobMaterializePaused = 1) and a FactoryPaused event; earlier procs stay."""
    (tmp_path / "d0").mkdir()
    (tmp_path / "d1").mkdir()
    log = tmp_path / "p.log"
    out = client(schedd, f"""
sub = htcondor2.Submit('executable = /bin/echo\\ninitialdir = {tmp_path}/d$(Process)\\nlog = {log}\\n'
                       'max_materialize = 4\\nqueue 4')
c = s.submit(sub).cluster()
p = wait_for(c, lambda p: len(p) >= 2)
time.sleep(0.5)
ad = s.query(f'ClusterId == {{c}}', ['JobMaterializePaused', 'JobMaterializePauseReason', 'Iwd'])
print(json.dumps({{'n': len(procs(c)), 'paused': ad[0].get('JobMaterializePaused'),
                  'reason': ad[0].get('JobMaterializePauseReason'), 'iwd': sorted(a['Iwd'] for a in ad)}}))
""")
    assert out["n"] == 2 and out["paused"] == 1
    assert "No such directory" in out["reason"] and "d2" in out["reason"]
    assert out["iwd"] == [str(tmp_path / "d0"), str(tmp_path / "d1")]
    text = log.read_text()
    assert "037 (" in text and "No such directory" in text


def test_job_factory_units():
    f = JobFactory(7, "FACTORY.Requirements=MY.Requirements\narguments=$(x) $(Process)\n"
                      "FACTORY.Iwd=/tmp\nmax_idle=4\n\nQueue 2 x,y from /spool/7/items\n",
                   parse_item_rows(b"a\x1fb\nc\x1fd\n"))
    assert f.total_procs == 4 and f.vars == ["x", "y"] and f.row_step(3) == (1, 1)
    f.bind(lambda name: {"Cmd": '"/bin/echo"', "JobUniverse": "5"}.get(name))
    ad = f.proc_ad(3, 1000, 2000)
    assert ad["ProcId"] == "3" and ad["Args"] == '"c 3"' and ad["JobStatus"] == "1"
    assert "Cmd" not in ad  # the same as proc 0's: it stays in the cluster ad
    with pytest.raises(FactoryError, match="no Queue statement"):
        JobFactory(1, "arguments=x\n")
    with pytest.raises(FactoryError, match="no item data"):
        JobFactory(1, "arguments=x\nQueue 1 Item from /spool/1/items\n")
    with pytest.raises(FactoryError, match="byte offset 2"):
        parse_item_rows(b"ab\xff\n")


def test_hold_release_remove_act_on_the_factory(schedd, tmp_path):
    """ACT_ON_JOBS on a factory cluster (schedd.cpp actOnJobs): hold pauses the factory
    (JobMaterializePaused = 1, FactoryPaused event), release resumes it (FactoryResumed),
    remove stops it for good: no proc is made after the removal and the cluster goes."""
    log = tmp_path / "factory.log"
    out = client(schedd, SUBMIT.format(log=log) + """
def paused():
    ads = s.query(f'ClusterId == {c}', ['JobMaterializePaused', 'JobMaterializePauseReason'])
    return [str(a.get('JobMaterializePaused')) for a in ads][:1]
first = wait_for(c, lambda p: len(p) >= 5)
s.act(htcondor2.JobAction.Hold, f'ClusterId == {c}', reason='stop it')
held = wait_for(c, lambda p: all(x[2] == 5 for x in p))
hold_flag = paused()
s.act(htcondor2.JobAction.Remove, [f'{c}.0', f'{c}.1'])
time.sleep(0.6)
while_paused = procs(c)
s.act(htcondor2.JobAction.Release, f'ClusterId == {c}')
resumed = wait_for(c, lambda p: len(p) >= 5 and all(x[2] == 1 for x in p))
release_flag = paused()
s.act(htcondor2.JobAction.Remove, f'ClusterId == {c}')
gone = wait_for(c, lambda p: not p)
time.sleep(0.8)
after = procs(c)
print(json.dumps({'c': c, 'first': first, 'held': held, 'hold_flag': hold_flag,
                  'while_paused': while_paused, 'resumed': resumed, 'release_flag': release_flag,
                  'gone': gone, 'after': after}))
""")
    c = out["c"]
    assert [p[0] for p in out["first"]] == [0, 1, 2, 3, 4]
    assert all(p[2] == 5 for p in out["held"]) and out["hold_flag"] == ["1"]
    assert [p[0] for p in out["while_paused"]] == [2, 3, 4]          # paused: nothing new
    assert [p[0] for p in out["resumed"]] == [2, 3, 4, 5, 6]         # resumed: two more
    assert out["release_flag"] == ["0"]
    assert out["gone"] == [] and out["after"] == []                 # removed: never again
    text = log.read_text()
    assert f"037 ({c:03d}.-01.000)" in text and f"038 ({c:03d}.-01.000)" in text
    assert f"036 ({c:03d}.-01.000)" in text
    assert text.count("Job submitted from host") == 7
    db = sqlite3.connect(tmp_path / "spool" / "job_queue.db")
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE cluster=?", (c,)).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM factories").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM history WHERE cluster=?", (c,)).fetchone()[0] == 7
