"""Fault test (issue 6): during a 200-job run on a personal pool (``condor_master`` with
COLLECTOR, NEGOTIATOR, SCHEDD and STARTD, as ``pyhtc pool up`` starts it), the schedd, the
startd, the negotiator and the master are each SIGKILLed several times at random moments.
The master restarts the daemons it supervises; a killed master is restarted by the test
once its daemons have noticed that their parent is gone and exited (DaemonCore's parent
check).

Every job must end Completed exactly once: the history holds each cluster.proc once with
JobStatus 4, the queue is empty, the user log holds exactly one JOB_TERMINATED per job
(a job that ran to completion twice would log two), and no process of the pool (daemon,
shadow, starter) is left after the pool is stopped.

Two focused tests go with it: a schedd SIGKILLed while its shadow runs a job adopts the
shadow when the master restarts it (the job completes once, one run), and a second schedd
never opens a queue another live schedd holds.

The moments are drawn from a seeded ``random.Random``; the seed is printed (run with
``PYHTC_FAULT_SEED=<seed>`` to replay a run's schedule; ``PYHTC_FAULT_KILLS=SCHEDD=5,MASTER=0``
changes the number of kills; ``PYHTC_FAULT_KEEP=1`` keeps the pool directory).
"""
from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from pyhtc.pool.config import PoolLayout, find_bin_dir
from pyhtc.pool.control import load_config, pool_env, start_pool, stop_pool
from pyhtc.submit.jobad import filesystem_domain
from pyhtc.tools import who
from pyhtc.userlog import JobEventLog

N_JOBS = 200
#: SIGKILLs per daemon
KILLS = {"SCHEDD": 3, "STARTD": 3, "NEGOTIATOR": 3, "MASTER": 2}
DAEMONS = ("COLLECTOR", "NEGOTIATOR", "SCHEDD", "STARTD")
#: the whole run (submit to empty queue) must end within this many seconds
RUN_DEADLINE = 150
#: knobs of this pool, read after the pool's own condor_config (condor_config.local):
#: restarts 1 + 1**n = 2 s after a crash instead of 9 + 2**n s, eight one-cpu slots
LOCAL_CONFIG = """\
MASTER_BACKOFF_CONSTANT = 1
MASTER_BACKOFF_FACTOR = 1.0
NUM_CPUS = 8
MEMORY = 4096
"""


def _tool(layout: PoolLayout, name: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([str(find_bin_dir() / name), *args], env=pool_env(layout),
                          capture_output=True, text=True, timeout=timeout)


def _ready_ad(layout: PoolLayout):
    ad, _ = who.wait_for_ready(load_config(layout), None, 0, layout.log)
    return ad


def _wait(what: str, pred, timeout: float, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(poll)


def _daemon_up(layout: PoolLayout, name: str, not_pid: int | None):
    """The daemon's pid once the master reports it Alive and Ready (and not ``not_pid``)."""
    def check():
        try:
            ad = _ready_ad(layout)
        except Exception:
            return None
        if ad is None or ad.get(name) != "Alive" or ad.get(f"{name}_State") != "Ready":
            return None
        pid = ad.get(f"{name}_PID")
        return pid if isinstance(pid, int) and pid > 0 and pid != not_pid else None
    return check


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _start_master(layout: PoolLayout) -> int:
    """Start condor_master as start_pool does (own session, same config); returns its pid."""
    with open(layout.master_out, "ab") as out:
        proc = subprocess.Popen([str(find_bin_dir() / "condor_master"), "-f"], env=pool_env(layout),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=str(layout.local_dir), start_new_session=True)
    return proc.pid


def _pool_processes(layout: PoolLayout) -> list:
    """Live processes whose environment names this pool's config (daemons, shadows,
    starters)."""
    cfg = str(layout.config)
    found = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if p.pid == os.getpid() or p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if p.environ().get("CONDOR_CONFIG") == cfg:
                found.append(f"{p.pid} {' '.join(p.cmdline())}")
        except (psutil.Error, OSError):
            continue
    return found


def _queue(layout: PoolLayout) -> list[str] | None:
    r = _tool(layout, "condor_q", "-allusers", "-af", "ClusterId", "ProcId", "JobStatus")
    return r.stdout.split("\n") if r.returncode == 0 else None


def _logs(layout: PoolLayout) -> str:
    out = []
    for name in ("MasterLog", "SchedLog", "ShadowLog", "StartLog", "StartdLog", "NegotiatorLog"):
        p = layout.log / name
        if p.exists():
            out.append(f"--- {name} ---\n" + p.read_text(errors="replace")[-4000:])
    return "\n".join(out)


def _kill_daemon(layout: PoolLayout, name: str, killed: dict, log: list) -> None:
    """SIGKILL ``name`` once the master reports it up again after our last kill of it (the
    other daemons may still be restarting: kills overlap). For the master: wait until every
    daemon is up, kill it, wait for its daemons to exit on their own (DaemonCore's parent
    check), then start a new master."""
    if name == "MASTER":
        pids = {d: _wait(f"{d} to be up", _daemon_up(layout, d, killed.get(d)), 60) for d in DAEMONS}
        ad = _ready_ad(layout)
        master = ad.get("MASTER_PID")
        os.kill(master, signal.SIGKILL)
        log.append(f"{time.strftime('%H:%M:%S')} SIGKILL master {master}")
        _wait(f"the daemons {pids} to exit after their master {master} died",
              lambda: not any(_alive(p) for p in pids.values()), 20)
        killed.update(pids)
        _start_master(layout)
        return
    pid = _wait(f"{name} to be up", _daemon_up(layout, name, killed.get(name)), 60)
    os.kill(pid, signal.SIGKILL)
    killed[name] = pid
    log.append(f"{time.strftime('%H:%M:%S')} SIGKILL {name.lower()} {pid}")


@contextlib.contextmanager
def _personal_pool(local_config: str = LOCAL_CONFIG):
    """A personal pool under a fresh directory: yields ``(root, iwd, layout)``; afterwards
    stops it and asserts that no process of the pool (daemon, shadow, starter) is left."""
    # the pool and the jobs' directory: a starter running as root runs root's jobs as
    # "nobody", which must reach EXECUTE and the job directory (pytest's tmp_path is private)
    root = Path(tempfile.mkdtemp(prefix="pyhtc-fault-"))
    os.chmod(root, 0o755)
    iwd = root / "jobs"
    iwd.mkdir()
    os.chmod(iwd, 0o777)
    layout = PoolLayout(root / "pool")
    layout.local_dir.mkdir()
    # one FILESYSTEM_DOMAIN for condor_submit (this process) and the startd, so the jobs run
    # in place (should_transfer_files = IF_NEEDED) whatever the host's name resolves to
    layout.local_config.write_text(local_config + f"FILESYSTEM_DOMAIN = {filesystem_domain()}\n")
    left: list = []
    try:
        start_pool(layout, timeout=60)
        os.chmod(layout.local_dir, 0o755)
        os.chmod(layout.execute, 0o755)
        yield root, iwd, layout
    finally:
        stop_pool(layout, timeout=30)
        try:
            _wait("the pool's processes to exit", lambda: not _pool_processes(layout), 15)
        except AssertionError:
            left = _pool_processes(layout)
        for line in left:
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        if not os.environ.get("PYHTC_FAULT_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
    assert not left, f"processes of the pool left after shutdown: {left}"


def _submit(layout: PoolLayout, root: Path, iwd: Path, script: str, count: int) -> None:
    (iwd / "job.sh").write_text(script)
    os.chmod(iwd / "job.sh", 0o755)
    (root / "jobs.sub").write_text(
        f"executable = {iwd / 'job.sh'}\narguments = $(ProcId)\n"
        f"initialdir = {iwd}\nlog = jobs.log\nshould_transfer_files = NO\n"
        "request_cpus = 1\nrequest_memory = 64\nrequest_disk = 1024\n"
        f"queue {count}\n")
    r = _tool(layout, "condor_submit", str(root / "jobs.sub"), timeout=60)
    assert r.returncode == 0, r.stderr + r.stdout


def _drained(layout: PoolLayout) -> bool:
    q = _queue(layout)
    return q is not None and not "".join(q).strip()


def _check_completed_once(layout: PoolLayout, iwd: Path, n: int, context: str) -> None:
    """History: each cluster.proc once, JobStatus 4; the user log: one JOB_TERMINATED each."""
    h = _tool(layout, "condor_history", "-af", "ClusterId", "ProcId", "JobStatus", timeout=60)
    assert h.returncode == 0, h.stderr
    rows = [tuple(map(int, ln.split())) for ln in h.stdout.splitlines() if ln.strip()]
    ids = Counter((c, p) for c, p, _ in rows)
    assert len(ids) == n and set(ids.values()) == {1}, ids.most_common(3)
    assert {p for _, p in ids} == set(range(n))
    assert {st for _, _, st in rows} == {4}, Counter(st for _, _, st in rows)
    terminated = Counter()
    for ev in JobEventLog(str(iwd / "jobs.log")).events(0):
        if ev.type.name == "JOB_TERMINATED":
            terminated[(ev.cluster, ev.proc)] += 1
    twice = {k: c for k, c in terminated.items() if c != 1}
    assert not twice, f"jobs terminated more than once: {twice}\n{context}\n{_logs(layout)}"
    assert set(terminated) == set(ids), set(ids) ^ set(terminated)


def test_sigkill_daemons_during_200_jobs(capsys):
    seed = int(os.environ.get("PYHTC_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))
    rng = random.Random(seed)
    with capsys.disabled():
        print(f"\n[test_fault] PYHTC_FAULT_SEED={seed}; knobs: {LOCAL_CONFIG.strip().replace(chr(10), ', ')}")
    kills: list[str] = []
    t0 = time.monotonic()
    with _personal_pool() as (root, iwd, layout):
        # every tenth job runs 8 s (so that some shadows outlive a killed schedd and are
        # adopted by the next one), the others 0.1 s
        _submit(layout, root, iwd, '#!/bin/sh\ncase $(($1 % 10)) in 0) sleep 8;; *) sleep 0.1;; esac\n',
                N_JOBS)
        t_submit = time.monotonic()
        # the kills, in a seeded random order, at seeded random moments
        kill_counts = dict(KILLS)
        for item in filter(None, os.environ.get("PYHTC_FAULT_KILLS", "").split(",")):
            name, _, n = item.partition("=")
            kill_counts[name.strip().upper()] = int(n)
        plan = [d for d, n in kill_counts.items() for _ in range(n)]
        rng.shuffle(plan)
        killed: dict[str, int] = {}
        for name in plan:
            time.sleep(rng.uniform(0.2, 2.0))
            _kill_daemon(layout, name, killed, kills)
        t_kills = time.monotonic()
        try:
            _wait("the queue to drain", lambda: _drained(layout),
                  max(10.0, RUN_DEADLINE - (time.monotonic() - t_submit)), poll=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nkills: {kills}\nqueue: {_queue(layout)}\n{_logs(layout)}")
        t_done = time.monotonic()
        with capsys.disabled():
            print(f"[test_fault] seed {seed}: pool up {t_submit - t0:.1f} s, kills done after "
                  f"{t_kills - t_submit:.1f} s, queue empty {t_done - t_submit:.1f} s after submit; "
                  f"kills: {', '.join(kills)}")
        _check_completed_once(layout, iwd, N_JOBS, f"seed {seed}, kills: {kills}")


@pytest.mark.parametrize("threads", [True, False], ids=["shadow-thread", "shadow-process"])
def test_restarted_schedd_adopts_the_running_shadow(threads):
    """SIGKILL the schedd while its shadow runs a 6 s job: the shadow (own session: a forked
    shadow, or a thread of the shadow server with SHADOW_THREADS) finishes the job; the
    schedd the master restarts adopts it (recovery.py) and takes its fate from its report:
    Completed once, one JOB_TERMINATED, one run."""
    with _personal_pool(LOCAL_CONFIG + f"SHADOW_THREADS = {threads}\n") as (root, iwd, layout):
        _submit(layout, root, iwd, "#!/bin/sh\nsleep 6\n", 1)
        _wait("the job to run", lambda: (iwd / "jobs.log").exists()
              and "Job executing" in (iwd / "jobs.log").read_text(), 60)
        pid = _wait("the schedd", _daemon_up(layout, "SCHEDD", None), 30)
        os.kill(pid, signal.SIGKILL)
        _wait("the job to complete", lambda: _drained(layout), 60, poll=0.5)
        log = (layout.log / "SchedLog").read_text()
        adopted = "Adopted shadow thread" if threads else "Adopted shadow pid"
        assert adopted in log and "of job 1.0" in log, _logs(layout)
        assert "exited with status 100 (JOB_EXITED)" in log.split(adopted, 1)[1]
        _check_completed_once(layout, iwd, 1, "adoption")
        h = _tool(layout, "condor_history", "-af", "NumJobStarts", "JobRunCount", "ExitCode")
        assert h.stdout.split() == ["1", "1", "0"], h.stdout


def test_two_schedds_never_share_a_queue(tmp_path):
    """One schedd per queue (recovery.QueueLock): a second schedd on the same SPOOL waits
    SCHEDD_QUEUE_LOCK_TIMEOUT seconds for the lock, then exits with status 1 naming the
    holder; once the first one is SIGKILLed the kernel frees the lock and a new one starts."""
    from daemon_helpers import daemon_env, start_daemon
    first = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog")
    try:
        env = daemon_env(tmp_path, "SCHEDD", _CONDOR_SCHEDD_QUEUE_LOCK_TIMEOUT=1,
                         _CONDOR_SCHEDD_LOG=str(tmp_path / "SchedLog2"),
                         _CONDOR_SCHEDD_ADDRESS_FILE=str(tmp_path / ".schedd2"))
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "pyhtc.daemons.schedd.daemon", "-f", "-p", "0"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1
        assert 1 <= time.monotonic() - t0 < 30
        log = (tmp_path / "SchedLog2").read_text()
        lock = tmp_path / "spool" / "job_queue.db.lock"
        assert (f"ERROR: cannot lock the job queue {tmp_path / 'spool' / 'job_queue.db'}: the job "
                f"queue lock {lock} is held by another condor_schedd (pid {first.proc.pid})") in log
        assert "Job queue" not in log   # it never opened the queue
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        second = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog3",
                              _CONDOR_SCHEDD_QUEUE_LOCK_TIMEOUT=1,
                              _CONDOR_SCHEDD_ADDRESS_FILE=str(tmp_path / ".schedd3"))
        try:
            _wait("the new schedd to open the queue",
                  lambda: "Job queue" in (tmp_path / "SchedLog3").read_text(), 20)
            assert lock.read_text().split() == [str(second.proc.pid)]
        finally:
            second.stop()
    finally:
        first.stop()
