"""ProcFamilyMonitor(scan="family"): a snapshot reads only the families' processes (walking
/proc/<pid>/task/*/children down from roots, members and adopters), never the whole process
table; with a child subreaper as adopter, a daemonized grandchild stays in the family.
Real processes; each scenario runs in a forked "starter" so the subreaper setting and the
orphans it adopts never touch the pytest process."""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from pyhtc.procd import ProcFamilyError as E, ProcFamilyMonitor
from pyhtc.procd import procinfo

from procd_helpers import dead, wait_until

pytestmark = pytest.mark.skipif(not procinfo.can_list_children(),
                                reason="kernel cannot list /proc/<pid>/task/<tid>/children")

# the job: leaves a grandchild in a new session whose parent exits (so it is re-parented),
# writes the grandchild's pid, then sleeps
JOB = r"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(60)
        os._exit(0)
    os._exit(0)
os.wait()
time.sleep(60)
"""


def _in_fake_starter(tmp_path, body):
    """Run ``body(report)`` in a forked child; ``report`` is a dict it fills; returns it."""
    out = tmp_path / "report.json"
    pid = os.fork()
    if pid == 0:
        code = 0
        report = {}
        try:
            body(report)
        except BaseException as exc:  # report, never return into pytest
            report["error"] = f"{type(exc).__name__}: {exc}"
            code = 1
        finally:
            out.write_text(json.dumps(report))
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    report = json.loads(out.read_text())
    for p in report.get("pids", []):   # nothing may outlive the test
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert "error" not in report, report["error"]
    return report


def _no_table(*a, **kw):
    raise AssertionError("the whole process table was read")


def _start_job_and_find_grandchild(report, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    job = subprocess.Popen([sys.executable, "-c", JOB, str(pid_file)])
    report["pids"] = [job.pid]
    assert wait_until(pid_file.exists, 10), "no grandchild appeared"
    gc = int(pid_file.read_text())
    report["pids"].append(gc)
    # its parent has exited: it is re-parented (to us when we are a subreaper)
    assert wait_until(lambda: psutil.Process(gc).ppid() != job.pid, 5)
    return job, gc


def test_subreaper_keeps_the_daemonized_grandchild_in_the_family(tmp_path):
    def body(report):
        import pyhtc.procd.monitor as M
        M.read_process_table = _no_table
        assert procinfo.become_subreaper()
        job, gc = _start_job_and_find_grandchild(report, tmp_path)
        mon = ProcFamilyMonitor(root_pid=job.pid, max_snapshot_interval=-1, scan="family",
                                adopters=(os.getpid(),))
        report["gc_parent"] = psutil.Process(gc).ppid()
        report["family"] = mon.family_of(gc)
        report["method"] = mon.method_of(gc)
        report["num_procs"] = mon.get_usage(job.pid)[1].num_procs
        report["me_member"] = mon.family_of(os.getpid())
        assert mon.kill_family(job.pid) == E.SUCCESS
        report["gone"] = wait_until(lambda: dead(gc) and dead(job.pid), 5)
        os.waitpid(gc, 0)          # adopted: ours to reap
        job.wait()

    r = _in_fake_starter(tmp_path, body)
    job, gc = r["pids"]
    assert r["gc_parent"] != job                     # it did leave the job's tree
    assert r["family"] == job and r["method"] == "REAPER"
    assert r["num_procs"] == 2
    assert r["me_member"] is None                    # the adopter itself is no member
    assert r["gone"]


def test_without_an_adopter_the_orphan_is_not_found(tmp_path):
    """Control: walking down from the job alone cannot see a re-parented process."""
    def body(report):
        import pyhtc.procd.monitor as M
        M.read_process_table = _no_table
        job, gc = _start_job_and_find_grandchild(report, tmp_path)
        mon = ProcFamilyMonitor(root_pid=job.pid, max_snapshot_interval=-1, scan="family")
        report["family"] = mon.family_of(gc)
        report["job_member"] = mon.family_of(job.pid)
        mon.kill_family(job.pid)
        os.kill(gc, signal.SIGKILL)
        job.wait()

    r = _in_fake_starter(tmp_path, body)
    assert r["family"] is None and r["job_member"] == r["pids"][0]


def test_family_scan_measures_children_and_exited_cpu(spawner, monkeypatch):
    import pyhtc.procd.monitor as M
    monkeypatch.setattr(M, "read_process_table", _no_table)
    code = ("import os, time\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    t = time.process_time()\n"
            "    while time.process_time() - t < 0.3: pass\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "x = bytearray(20 * 1024 * 1024)\n"
            "time.sleep(30)\n")
    p = subprocess.Popen([sys.executable, "-c", code])
    spawner.remember(p.pid)
    try:
        mon = ProcFamilyMonitor(root_pid=p.pid, max_snapshot_interval=-1, scan="family")

        def measured():
            _, u = mon.get_usage(p.pid)
            return u.user_cpu_time + u.sys_cpu_time >= 0.25 and u.total_resident_set_size > 20000
        assert wait_until(measured, 10)
        assert mon.kill_family(p.pid) == E.SUCCESS
    finally:
        p.kill()
        p.wait()


def test_read_pid_agrees_with_psutil():
    for pid in (1, os.getpid()):
        mine = procinfo.read_pid(pid)
        p = psutil.Process(pid)
        assert mine.ppid == p.ppid()
        assert abs(mine.birthday - p.create_time()) < 0.02
        assert mine.uid == p.uids().real
        t = p.cpu_times()
        assert abs(mine.user_time - t.user) < 0.5 and abs(mine.child_sys - t.children_system) < 0.5
        assert mine.vms == p.memory_info().vms and mine.rss > 0
        assert not mine.zombie
    assert procinfo.read_pid(2 ** 22 + 12345) is None
    assert set(procinfo.children_of(os.getpid())) == {c.pid for c in psutil.Process().children()}


def test_unknown_scan_mode_is_refused():
    with pytest.raises(ValueError, match="scan"):
        ProcFamilyMonitor(scan="everything")
