"""A whole pool in real processes: collector, negotiator, startd and schedd; jobs submitted
with the real htcondor2 client are matched (NEGOTIATE), claimed (REQUEST_CLAIM), run by a
condor_shadow per job (ACTIVATE_CLAIM -> condor_starter), and end in the history with the
user log that htcondor2.JobEventLog reads."""
import json
import os
import pathlib
import shutil
import tempfile

import pytest

from daemon_helpers import run_client, start_daemon

UID_DOMAIN = "pyhtc.test"


@pytest.fixture
def pool(tmp_path):
    started = []
    # the jobs' directory and EXECUTE: a starter running as root runs root's jobs as
    # "nobody", which must reach both (pytest's tmp_path is private to root)
    iwd = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-jobs-"))
    os.chmod(iwd, 0o777)
    execute = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-execute-"))
    os.chmod(execute, 0o755)
    try:
        coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
        started.append(coll)
        common = {"_CONDOR_COLLECTOR_HOST": coll.host_port, "_CONDOR_UID_DOMAIN": UID_DOMAIN,
                  "_CONDOR_FILESYSTEM_DOMAIN": UID_DOMAIN}
        started.append(start_daemon(
            "pyhtc.daemons.negotiator.daemon", "NEGOTIATOR", tmp_path, "NegotiatorLog",
            # rare periodic cycles and none on pool changes: jobs start quickly because the
            # schedd sends RESCHEDULE after a submit and when a slot frees up
            _CONDOR_NEGOTIATOR_INTERVAL=20, _CONDOR_NEGOTIATOR_CYCLE_DELAY=0,
            _CONDOR_NEGOTIATOR_MIN_INTERVAL=0, _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0, **common))
        started.append(start_daemon(
            "pyhtc.daemons.startd.daemon", "STARTD", tmp_path, "StartdLog",
            _CONDOR_NUM_CPUS=2, _CONDOR_MEMORY=2048, _CONDOR_UPDATE_INTERVAL=2,
            _CONDOR_POLLING_INTERVAL=1, _CONDOR_STARTER_UPDATE_INTERVAL=1,
            _CONDOR_EXECUTE=execute, **common))
        schedd = start_daemon(
            "pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog",
            _CONDOR_SCHEDD_INTERVAL=1, _CONDOR_SCHEDD_NAME="pyhtc-schedd",
            _CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS="FS", **common)
        started.append(schedd)
        yield {"collector": coll, "schedd": schedd, "tmp": tmp_path, "iwd": iwd, "execute": execute}
    finally:
        for d in reversed(started):
            d.stop()
        shutil.rmtree(iwd, ignore_errors=True)
        shutil.rmtree(execute, ignore_errors=True)


def _logs(tmp_path) -> str:
    out = []
    for name in ("SchedLog", "ShadowLog", "StartdLog", "NegotiatorLog"):
        p = tmp_path / name
        if p.exists():
            out.append(f"--- {name} ---\n" + p.read_text()[-3000:])
    return "\n".join(out)


def _client(pool, body: str, timeout: float = 90) -> dict:
    code = f"""
import time
ad = classad2.ClassAd({{'MyAddress': {pool['schedd'].sinful!r}, 'Name': 'pyhtc-schedd',
                       'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}})
s = htcondor2.Schedd(ad)
def wait_history(cluster, n, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        h = list(s.history(constraint='ClusterId == %d' % cluster,
                           projection=['ClusterId', 'ProcId', 'JobStatus', 'ExitCode', 'NumJobStarts',
                                       'JobRunCount', 'CompletionDate', 'RemoteWallClockTime',
                                       'NumJobCompletions', 'LastRemoteHost', 'ExitBySignal',
                                       'JobCurrentStartDate', 'QDate', 'EnteredCurrentStatus']))
        if len(h) >= n:
            return [dict(a) for a in h]
        time.sleep(0.3)
    raise SystemExit('timeout: history of %d has %d ad(s); queue: %r' % (
        cluster, len(h), [dict(j) for j in s.query(projection=['ClusterId', 'ProcId', 'JobStatus', 'HoldReason'])]))
def events(path):
    out = {{}}
    for e in htcondor2.JobEventLog(path).events(0):
        out.setdefault('%d.%d' % (e.cluster, e.proc), []).append(htcondor2.JobEventType(int(e.type)).name)
    return out
""" + body
    r = run_client(code, timeout=timeout, _CONDOR_FILESYSTEM_DOMAIN=UID_DOMAIN,
                   _CONDOR_UID_DOMAIN=UID_DOMAIN)
    assert r.returncode == 0, r.stderr + r.stdout + "\n" + _logs(pool["tmp"])
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_five_echo_jobs_complete(pool):
    tmp = pool["iwd"]
    out = _client(pool, f"""
sub = htcondor2.Submit({{'executable': '/bin/echo', 'arguments': 'hello $(ProcId)',
                         'output': 'out.$(ProcId)', 'error': 'err.$(ProcId)',
                         'log': 'jobs.log', 'initialdir': {str(tmp)!r},
                         'should_transfer_files': 'NO', 'request_memory': '64',
                         'request_disk': '1024'}})
c = s.submit(sub, count=5).cluster()
hist = wait_history(c, 5)
print(json.dumps({{'hist': hist, 'events': events({str(tmp / 'jobs.log')!r}), 'queue': len(s.query())}}))
""")
    hist = out["hist"]
    assert sorted(h["ProcId"] for h in hist) == [0, 1, 2, 3, 4]
    for h in hist:
        assert h["JobStatus"] == 4 and h["ExitCode"] == 0, h
        assert h["NumJobStarts"] == 1 and h["JobRunCount"] == 1, h
        assert h["CompletionDate"] > 0 and "slot" in h["LastRemoteHost"], h
        assert h["ExitBySignal"] is False and h["QDate"] <= h["JobCurrentStartDate"] <= h["CompletionDate"], h
        assert 0 <= h["RemoteWallClockTime"] <= h["CompletionDate"] - h["QDate"] + 1, h
    assert out["queue"] == 0
    for proc in range(5):
        evs = [e for e in out["events"][f"{hist[0]['ClusterId']}.{proc}"] if e != "IMAGE_SIZE"]
        assert evs == ["SUBMIT", "EXECUTE", "JOB_TERMINATED"], out["events"]
        assert (tmp / f"out.{proc}").read_text() == f"hello {proc}\n"
    assert "Got RESCHEDULE" in (pool["tmp"] / "NegotiatorLog").read_text()
    # two slots, five jobs: claims were reused (fewer claims than jobs)
    sched_log = (pool["tmp"] / "SchedLog").read_text()
    assert sched_log.count("Started shadow for job") == 5
    assert "(reused claim)" in sched_log
    assert (pool["tmp"] / "StartdLog").read_text().count("claiming protocol successful") < 5


def test_max_retries_runs_three_times(pool):
    tmp = pool["iwd"]
    out = _client(pool, f"""
sub = htcondor2.Submit({{'executable': '/bin/false',
                         'log': 'retry.log', 'initialdir': {str(tmp)!r}, 'max_retries': '2',
                         'should_transfer_files': 'NO', 'request_memory': '64'}})
c = s.submit(sub).cluster()
hist = wait_history(c, 1, 90)
print(json.dumps({{'hist': hist, 'events': events({str(tmp / 'retry.log')!r})}}))
""", timeout=110)
    (h,) = out["hist"]
    assert h["ExitCode"] == 1 and h["JobStatus"] == 4, h
    assert h["NumJobStarts"] == 3 and h["NumJobCompletions"] == 3 and h["JobRunCount"] == 3, h
    evs = [e for e in out["events"][f"{h['ClusterId']}.0"] if e != "IMAGE_SIZE"]
    assert evs == ["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_EVICTED",
                   "EXECUTE", "JOB_TERMINATED"], evs


def test_on_exit_hold_and_remove_of_a_running_job(pool):
    """on_exit_hold puts the job on hold (code 3 JobPolicy) after JOB_TERMINATED; condor_rm
    of a running job makes its shadow vacate it and the slot is released."""
    tmp = pool["iwd"]
    out = _client(pool, f"""
held = s.submit(htcondor2.Submit({{'executable': '/bin/false', 'log': 'hold.log',
                 'initialdir': {str(tmp)!r}, 'on_exit_hold': 'ExitCode == 1',
                 'should_transfer_files': 'NO', 'request_memory': '64'}})).cluster()
sleeper = s.submit(htcondor2.Submit({{'executable': '/bin/sleep', 'arguments': '300',
                    'log': 'rm.log', 'initialdir': {str(tmp)!r},
                    'should_transfer_files': 'NO', 'request_memory': '64'}})).cluster()
def status(c):
    q = s.query(constraint='ClusterId == %d' % c, projection=['JobStatus', 'HoldReasonCode', 'NumJobCompletions', 'ExitCode'])
    return dict(q[0]) if q else None
deadline = time.time() + 40
while time.time() < deadline and not (
        (status(held) or {{}}).get('JobStatus') == 5 and (status(sleeper) or {{}}).get('JobStatus') == 2):
    time.sleep(0.2)
h = status(held)
running = status(sleeper)
s.act(htcondor2.JobAction.Remove, '%d.0' % sleeper, reason='test removes it')
gone = wait_history(sleeper, 1, 30)
coll = htcondor2.Collector({pool['collector'].host_port!r})
deadline = time.time() + 30
states = []
while time.time() < deadline:
    states = [a.get('State') for a in coll.query(htcondor2.AdTypes.Startd, projection=['State'])]
    if states and all(st == 'Unclaimed' for st in states):
        break
    time.sleep(0.3)
print(json.dumps({{'held': h, 'running': running, 'gone': gone, 'states': states,
                  'hold_events': events({str(tmp / 'hold.log')!r}), 'rm_events': events({str(tmp / 'rm.log')!r})}}))
""")
    assert out["held"]["JobStatus"] == 5 and out["held"]["HoldReasonCode"] == 3, out["held"]
    assert out["held"]["ExitCode"] == 1 and out["held"]["NumJobCompletions"] == 1, out["held"]
    (hold_events,) = out["hold_events"].values()
    assert hold_events[:3] == ["SUBMIT", "EXECUTE", "JOB_TERMINATED"] and hold_events[-1] == "JOB_HELD", hold_events
    assert out["running"]["JobStatus"] == 2
    assert out["gone"][0]["JobStatus"] == 3
    (rm_events,) = out["rm_events"].values()
    assert rm_events[:2] == ["SUBMIT", "EXECUTE"] and "JOB_ABORTED" in rm_events, rm_events
    # the held job's claim was released, and the vacated one too: both slots are free
    assert out["states"] == ["Unclaimed", "Unclaimed"], out["states"]


def test_file_transfer_input_and_output(pool):
    """should_transfer_files = YES: the starter fetches transfer_input_files from the
    shadow's transfer server into the sandbox, the job transforms it there, and the new
    file and the job's stdout come back to the submit directory."""
    tmp = pool["iwd"]
    (tmp / "in.txt").write_text("hello pool\n")
    script = tmp / "shout.sh"
    script.write_text("#!/bin/sh\ntr a-z A-Z < in.txt > out.txt\necho done in $(pwd)\n")
    script.chmod(0o755)
    out = _client(pool, f"""
c = s.submit(htcondor2.Submit({{'executable': {str(script)!r}, 'initialdir': {str(tmp)!r},
              'transfer_input_files': 'in.txt', 'should_transfer_files': 'YES',
              'when_to_transfer_output': 'ON_EXIT', 'output': 'stdout.txt', 'error': 'stderr.txt',
              'log': 'ft.log', 'request_memory': '64'}})).cluster()
print(json.dumps({{'hist': wait_history(c, 1), 'events': events({str(tmp / 'ft.log')!r})}}))
""")
    (h,) = out["hist"]
    assert h["ExitCode"] == 0 and h["JobStatus"] == 4, h
    assert (tmp / "out.txt").read_text() == "HELLO POOL\n"
    stdout = (tmp / "stdout.txt").read_text()
    assert stdout.startswith("done in ") and str(tmp) not in stdout, stdout  # ran in the sandbox
    (evs,) = out["events"].values()
    assert [e for e in evs if e != "IMAGE_SIZE"] == ["SUBMIT", "EXECUTE", "JOB_TERMINATED"]


def test_lost_starter_is_a_shadow_exception_and_the_job_runs_again(pool):
    """A starter killed without a result: the shadow exits with JOB_EXCEPTION, the schedd
    logs SHADOW_EXCEPTION and requeues the job, which is matched and started again."""
    import psutil
    import signal
    import time

    tmp = pool["iwd"]
    out = _client(pool, f"""
c = s.submit(htcondor2.Submit({{'executable': '/bin/sleep', 'arguments': '120', 'log': 'lost.log',
              'initialdir': {str(tmp)!r}, 'should_transfer_files': 'NO', 'request_memory': '64'}})).cluster()
deadline = time.time() + 40
while time.time() < deadline:
    q = s.query(constraint='ClusterId == %d' % c, projection=['JobStatus'])
    if q and q[0]['JobStatus'] == 2:
        break
    time.sleep(0.2)
print(json.dumps({{'cluster': c}}))
""")
    starters = []
    deadline = time.time() + 20
    while time.time() < deadline:
        # this pool's starter (its command line names this pool's EXECUTE), once the job
        # (its child) runs
        starters = [p for p in psutil.process_iter(["cmdline"])
                    if "pyhtc.daemons.starter.main" in (p.info["cmdline"] or [])
                    and str(pool["execute"]) in (p.info["cmdline"] or [])]
        if len(starters) == 1 and starters[0].children():
            break
        time.sleep(0.2)
    assert len(starters) == 1 and starters[0].children(), starters
    victims = [starters[0]] + starters[0].children(recursive=True)
    for p in victims:
        p.send_signal(signal.SIGKILL)
    out = _client(pool, f"""
c = {out['cluster']}
deadline = time.time() + 40
seen = None
while time.time() < deadline:
    q = s.query(constraint='ClusterId == %d' % c, projection=['JobStatus', 'JobRunCount'])
    seen = dict(q[0])
    if seen.get('JobRunCount') == 2 and seen['JobStatus'] == 2 and \
            sum(e == 'EXECUTE' for e in events({str(tmp / 'lost.log')!r}).get('%d.0' % c, [])) == 2:
        break
    time.sleep(0.2)
s.act(htcondor2.JobAction.Remove, '%d.0' % c)
wait_history(c, 1, 30)
print(json.dumps({{'seen': seen, 'events': events({str(tmp / 'lost.log')!r})}}))
""")
    assert out["seen"]["JobRunCount"] == 2 and out["seen"]["JobStatus"] == 2, out["seen"]
    (evs,) = out["events"].values()
    evs = [e for e in evs if e != "IMAGE_SIZE"]
    assert evs[:4] == ["SUBMIT", "EXECUTE", "SHADOW_EXCEPTION", "EXECUTE"], evs
    assert "JOB_ABORTED" in evs, evs


def _tool(pool, *argv):
    """Run one of our condor_* tools (python -m) against this pool's schedd."""
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": pool["collector"].host_port,
                "_CONDOR_SCHEDD_ADDRESS_FILE": str(pool["tmp"] / ".schedd_address"),
                "_CONDOR_UID_DOMAIN": UID_DOMAIN, "_CONDOR_FILESYSTEM_DOMAIN": UID_DOMAIN,
                "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
    code = "import sys; from pyhtc.tools import jobctl; sys.exit(getattr(jobctl, sys.argv[1])(sys.argv[2:]))"
    return subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True,
                          text=True, timeout=60)


def test_vacate_job_requeues_a_running_job_and_reschedule(pool):
    """condor_vacate_job sends a running job back to Idle (it is matched and runs again);
    condor_reschedule reaches the schedd."""
    tmp = pool["iwd"]
    out = _client(pool, f"""
c = s.submit(htcondor2.Submit({{'executable': '/bin/sleep', 'arguments': '300', 'log': 'vac.log',
              'initialdir': {str(tmp)!r}, 'should_transfer_files': 'NO',
              'request_memory': '64'}})).cluster()
def st():
    q = s.query(constraint='ClusterId == %d' % c, projection=['JobStatus', 'JobRunCount'])
    return dict(q[0]) if q else {{}}
deadline = time.time() + 40
while time.time() < deadline and st().get('JobStatus') != 2:
    time.sleep(0.2)
print(json.dumps({{'cluster': c, 'first': st()}}))
""")
    c = out["cluster"]
    assert out["first"]["JobStatus"] == 2, out
    r = _tool(pool, "vacate_job_main", f"{c}.0")
    assert r.returncode == 0, r.stderr + r.stdout
    assert f"Job {c}.0 vacated" in r.stdout
    r = _tool(pool, "reschedule_main")
    assert r.returncode == 0 and 'Sent "Reschedule" command' in r.stdout, r.stderr + r.stdout
    out = _client(pool, f"""
c = {c}
deadline = time.time() + 40
runs = 0
while time.time() < deadline:
    q = s.query(constraint='ClusterId == %d' % c, projection=['JobStatus', 'JobRunCount'])
    ev = [e for evs in events({str(tmp / 'vac.log')!r}).values() for e in evs]
    if q and q[0].get('JobRunCount', 0) >= 2 and ev.count('EXECUTE') >= 2:
        runs = q[0]['JobRunCount']
        break
    time.sleep(0.3)
s.act(htcondor2.JobAction.Remove, '%d.0' % c)
print(json.dumps({{'runs': runs, 'events': events({str(tmp / 'vac.log')!r})}}))
""")
    assert out["runs"] >= 2, out
    (evs,) = out["events"].values()
    # the vacated run ends without JOB_TERMINATED and the job executes again
    # (HTCondor logs JOB_EVICTED for the vacated run; pyhtc's shadow logs SHADOW_EXCEPTION
    # there today: a known gap, see the closing note)
    assert evs[:2] == ["SUBMIT", "EXECUTE"] and evs.count("EXECUTE") >= 2, evs
    assert "JOB_TERMINATED" not in evs[:evs.index("EXECUTE", 2)], evs
    assert "RESCHEDULE" in (pool["tmp"] / "SchedLog").read_text()
