"""Execute-point policies seen from the submit side of a whole pool (issue 6).

At startd level tests/startd/test_startd.py drives the claim protocols by hand; here the same
behaviour is reached the way a user reaches it -- pyhtc's ``condor_submit``, ``condor_q``,
``condor_rm`` and ``condor_history`` against one pool of real processes (collector,
negotiator, a startd with one partitionable slot, schedd):

- a job that allocates more than its ``request_memory`` is killed by the kernel in its
  memory cgroup (the dynamic slot's Memory, quantized to 128 MB) and ends Held with
  HoldReasonCode 34 (JobOutOfResources, condor_holdcodes.h), a JOB_HELD event in its log;
- ``condor_rm`` of a running job whose script daemonized a grandchild (double fork +
  setsid: it leaves the job's process tree and session) removes the job and leaves neither
  process behind (the starter kills the whole family, tracked by cgroup / procd);
- jobs submitted with the REAL client's ``htcondor2.Schedd.submit`` (with itemdata) run to
  completion, and ``htcondor2.JobEventLog`` reads their whole sequence.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
import time

import psutil
import pytest

from daemon_helpers import run_client
from test_real_submit_files import (JOB_PYTHON, UID_DOMAIN, WHOLE_RUN, daemon_logs, read_events,
                                    start_pool, stop_pool, tool)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policypool")
    execute = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-execute-"))
    os.chmod(execute, 0o755)
    # the jobs' directory: jobs of root run as nobody, who must write there
    iwd = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-policy-"))
    os.chmod(iwd, 0o777)
    p = start_pool(tmp, execute, {"NUM_CPUS": 2, "MEMORY": 2048, "NUM_SLOTS_TYPE_1": 1,
                                  "SLOT_TYPE_1": "100%", "SLOT_TYPE_1_PARTITIONABLE": "True"})
    p["iwd"] = iwd
    try:
        yield p
    finally:
        stop_pool(p)
        shutil.rmtree(iwd, ignore_errors=True)
        shutil.rmtree(execute, ignore_errors=True)


def submit(pool, name: str, text: str) -> int:
    """Write ``name`` in the pool's job directory, condor_submit it there; the cluster id."""
    d = pool["iwd"]
    (d / name).write_text(text)
    r = tool(pool, "condor_submit", name, cwd=d)
    assert r.returncode == 0 and "1 job(s) submitted to cluster" in r.stdout, r.stdout + r.stderr
    return int(r.stdout.rstrip().rstrip(".").rsplit(" ", 1)[1])


def q_af(pool, cluster: int, *attrs) -> list[str] | None:
    """``condor_q -af ATTRS`` of the cluster's job 0: its values, or None when not queued."""
    r = tool(pool, "condor_q", "-allusers", f"{cluster}.0", "-af", *attrs)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    return line.split(None, len(attrs) - 1) if line else None


def wait_for(what: str, pred, pool, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{daemon_logs(pool)}"
        time.sleep(0.3)


def test_job_over_request_memory_is_held_with_code_34(pool):
    d = pool["iwd"]
    cluster = submit(pool, "hog.sub", f"""\
executable = {JOB_PYTHON}
arguments = "-c 'x = bytearray(300 * 1024 * 1024); import time; time.sleep(30)'"
request_memory = 50
request_disk = 1024
should_transfer_files = NO
log = hog.log
output = hog.out
error = hog.err
queue
""")
    def settled():
        v = q_af(pool, cluster, "JobStatus", "HoldReasonCode", "HoldReasonSubCode", "HoldReason")
        return ["gone"] if v is None else (v if v[0] not in ("1", "2") else None)
    status = wait_for("the job to be held or to leave the queue", settled, pool, timeout=90)
    if status[0] != "5" and "No cgroup" in daemon_logs(pool):
        pytest.skip("no usable cgroups on this machine")
    assert status[:3] == ["5", "34", "102"], status
    # "Job has gone over cgroup memory limit of 128 megabytes. ..." (the dynamic slot's Memory)
    assert status[3].startswith("Job has gone over cgroup memory limit of 128 megabytes."), status
    r = tool(pool, "condor_q", "-allusers", "-hold", f"{cluster}.0")
    assert r.returncode == 0 and "34/102" in r.stdout, r.stdout
    evs = read_events([str(d / "hog.log")])[str(d / "hog.log")][f"{cluster}.0"]
    assert [e for e in evs if e != "IMAGE_SIZE"] == ["SUBMIT", "EXECUTE", "JOB_HELD"], evs
    r = tool(pool, "condor_rm", str(cluster))
    assert r.returncode == 0, r.stderr


def test_retry_request_memory_reruns_the_job_with_more_memory(pool):
    """retry_request_memory: the first run exceeds its 50 MB request and is killed (OOM,
    34/102); instead of holding the job the schedd applies the job's TransformOnEvict
    (RequestMemory = 512) and it runs again, in a bigger dynamic slot, to completion."""
    d = pool["iwd"]
    cluster = submit(pool, "retry.sub", f"""\
executable = {JOB_PYTHON}
arguments = "-c 'x = bytearray(300 * 1024 * 1024); print(len(x))'"
request_memory = 50
retry_request_memory = 512
request_disk = 1024
should_transfer_files = NO
log = retry.log
output = retry.out
error = retry.err
queue
""")

    def settled():
        v = q_af(pool, cluster, "JobStatus", "RequestMemory", "HoldReasonCode")
        return ["gone"] if v is None else (v if v[0] not in ("1", "2") else None)
    status = wait_for("the job to finish or be held", settled, pool, timeout=120)
    if status != ["gone"] and "No cgroup" in daemon_logs(pool):
        pytest.skip("no usable cgroups on this machine")
    assert status == ["gone"], status
    r = tool(pool, "condor_history", f"{cluster}.0", "-af", "JobStatus", "RequestMemory", "NumJobStarts",
             "VacateReasonCode", "VacateReasonSubCode")
    assert r.stdout.split() == ["4", "512", "2", "34", "102"], r.stdout + r.stderr
    assert (d / "retry.out").read_text().strip() == str(300 * 1024 * 1024)
    evs = read_events([str(d / "retry.log")])[str(d / "retry.log")][f"{cluster}.0"]
    assert [e for e in evs if e != "IMAGE_SIZE"] == ["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE",
                                                     "JOB_TERMINATED"], evs


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_condor_rm_leaves_no_daemonized_grandchild(pool):
    d = pool["iwd"]
    for name in ("job.pid", "grandchild.pid"):
        (d / name).unlink(missing_ok=True)
    script = d / "spawner.sh"
    # the grandchild: started by a subshell that exits at once (so it is re-parented),
    # in a new session (setsid), writing its own pid before it becomes `sleep 1000`
    script.write_text("#!/bin/sh\n"
                      "( setsid sh -c 'echo $$ > grandchild.pid; exec sleep 1000' & )\n"
                      "echo $$ > job.pid\n"
                      "exec sleep 1000\n")
    script.chmod(0o755)
    cluster = submit(pool, "spawner.sub", """\
executable = spawner.sh
should_transfer_files = NO
log = spawner.log
queue
""")
    pids = []
    try:
        def started():
            # both pid files written, and both shells have become `sleep 1000`
            try:
                found = [int((d / n).read_text()) for n in ("job.pid", "grandchild.pid")]
                pids[:] = found
                return found if all(psutil.Process(p).cmdline()[:2] == ["sleep", "1000"]
                                    for p in found) else None
            except (OSError, ValueError, psutil.Error):
                return None
        wait_for("the job and its grandchild to become `sleep 1000`", started, pool, timeout=90)
        job, grandchild = (psutil.Process(p) for p in pids)
        # daemonized: not the job's child, and in a session of its own
        assert grandchild.ppid() != job.pid and os.getsid(grandchild.pid) != os.getsid(job.pid)
        assert q_af(pool, cluster, "JobStatus") == ["2"]

        r = tool(pool, "condor_rm", f"{cluster}.0")
        assert r.returncode == 0 and f"Job {cluster}.0 marked for removal" in r.stdout, r.stdout + r.stderr
        wait_for("the job to leave the queue", lambda: q_af(pool, cluster, "JobStatus") is None, pool, 30)
        t0 = time.monotonic()
        wait_for("the job and the grandchild to be gone", lambda: not any(_alive(p) for p in pids), pool, 10)
        assert time.monotonic() - t0 < 10
        r = tool(pool, "condor_history", str(cluster), "-af", "JobStatus")
        assert r.returncode == 0 and r.stdout.split() == ["3"], r.stdout + r.stderr
        evs = [e for e in read_events([str(d / "spawner.log")])[str(d / "spawner.log")][f"{cluster}.0"]
               if e != "IMAGE_SIZE"]
        assert evs[:2] == ["SUBMIT", "EXECUTE"] and "JOB_ABORTED" in evs, evs
        pool["removed_events"] = evs
    finally:
        for pid in pids:            # never leave our own processes behind on failure
            if _alive(pid):
                psutil.Process(pid).kill()


def test_removed_running_job_log_ends_evicted_then_aborted(pool):
    evs = pool.get("removed_events")
    if evs is None:
        pytest.skip("needs test_condor_rm_leaves_no_daemonized_grandchild to run first")
    assert evs == ["SUBMIT", "EXECUTE", "JOB_EVICTED", "JOB_ABORTED"], evs


def test_real_client_schedd_submit_runs_to_completion(pool):
    d = pool["iwd"]
    script = d / "greet.sh"
    script.write_text('#!/bin/sh\necho "hello $1 from job $2"\n')
    script.chmod(0o755)
    code = f"""
import time
ad = classad2.ClassAd({{'MyAddress': {pool['schedd'].sinful!r}, 'Name': 'pyhtc-schedd',
                       'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}})
s = htcondor2.Schedd(ad)
sub = htcondor2.Submit({{'executable': {str(script)!r}, 'arguments': '$(word) $(ProcId)',
                         'output': 'greet.$(ProcId).out', 'error': 'greet.$(ProcId).err',
                         'log': 'greet.log', 'initialdir': {str(d)!r},
                         'request_memory': '64', 'request_disk': '1024'}})
c = s.submit(sub, itemdata=iter([{{'word': 'alpha'}}, {{'word': 'beta'}}, {{'word': 'gamma'}}])).cluster()
deadline = time.time() + 120
while time.time() < deadline:
    h = list(s.history(constraint='ClusterId == %d' % c,
                       projection=['ProcId', 'JobStatus', 'ExitCode', 'JobSubmitMethod']))
    if len(h) == 3:
        break
    time.sleep(0.3)
print(json.dumps({{'cluster': c, 'hist': sorted((dict(a) for a in h), key=lambda a: a['ProcId'])}}))
"""
    r = run_client(code, timeout=150, _CONDOR_FILESYSTEM_DOMAIN=UID_DOMAIN, _CONDOR_UID_DOMAIN=UID_DOMAIN)
    assert r.returncode == 0, r.stderr + r.stdout + daemon_logs(pool)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    c = out["cluster"]
    assert out["hist"] == [{"ProcId": p, "JobStatus": 4, "ExitCode": 0, "JobSubmitMethod": 2}
                           for p in range(3)], out["hist"]
    for p, word in enumerate(("alpha", "beta", "gamma")):
        assert (d / f"greet.{p}.out").read_text() == f"hello {word} from job {p}\n"
    events = read_events([str(d / "greet.log")])[str(d / "greet.log")]
    assert sorted(events) == [f"{c}.{p}" for p in range(3)]
    for evs in events.values():
        assert WHOLE_RUN.fullmatch(" ".join(evs)), evs


# -- the wheel's own `htcondor` command line (htcondor_cli, on htcondor2) against this pool --
def htcondor_cli(pool, *args, cwd=None):
    """``htcondor ARGS`` as the PyPI wheel's htcondor_cli runs it (its entry point is main()),
    configured as the pool's schedd is (its local schedd is named SCHEDD_NAME)."""
    import subprocess
    import sys
    env = dict(pool["env"], _CONDOR_SCHEDD_NAME="pyhtc-schedd")
    return subprocess.run([sys.executable, "-c", "import sys; from htcondor_cli.cli import main; "
                           "sys.exit(main())", *args], env=env, cwd=cwd, text=True, timeout=120,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # it logs to stderr


def test_the_wheels_htcondor_command_line(pool):
    d = pool["iwd"]
    (d / "cli.sub").write_text("executable = /bin/echo\narguments = hello from htcondor job\n"
                               "output = cli.out\nerror = cli.err\nlog = cli.log\n"
                               "request_memory = 1\nrequest_disk = 1\nqueue\n")
    r = htcondor_cli(pool, "job", "submit", "cli.sub", cwd=d)
    assert r.returncode == 0 and " was submitted." in r.stdout, r.stdout + r.stderr
    cluster = int(r.stdout.split("Job ", 1)[1].split()[0])

    def done():
        r = htcondor_cli(pool, "job", "status", f"{cluster}.0")
        return f"Job {cluster}.0 has completed." in r.stdout and r
    r = wait_for("the job to complete", done, pool)
    assert "It was submitted " in r.stdout
    r = htcondor_cli(pool, "job", "out", f"{cluster}.0")
    assert r.returncode == 0 and "hello from htcondor job" in r.stdout, r.stdout + r.stderr
    r = htcondor_cli(pool, "eventlog", "read", str(d / "cli.log"))
    assert r.returncode == 0 and f"{cluster}.0" in r.stdout, r.stdout + r.stderr
    # daemon health from DaemonCore's statistics: RecentDaemonCoreDutyCycle in the ads
    r = htcondor_cli(pool, "ap", "status")
    assert r.returncode == 0 and "Access Point" in r.stdout and "DutyCycle" in r.stdout, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1].split()[1] == "Good", r.stdout
    r = htcondor_cli(pool, "cm", "status")      # collector and negotiator ads
    assert r.returncode == 0 and "Central Manager" in r.stdout and "Good" in r.stdout, r.stdout
