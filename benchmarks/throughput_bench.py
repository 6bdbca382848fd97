#!/usr/bin/env python3
"""Job throughput and one-job latency of a personal pool, beside Slurm and the fork floor.

In one run, on this machine:

1. **pyhtc**: a personal pool (:func:`pyhtc.pool.start_pool`, the defaults of ``pyhtc pool
   up`` plus the knobs printed below) runs ``N`` (500) × ``/bin/true`` submitted as one
   cluster with the real ``htcondor2`` client; the clock runs from just before the submit
   to the last JOB_TERMINATED event in the job's user log (the log's new lines are read
   every 5 ms, the schedd is not polled, so measuring costs the pool next to nothing).  Then one job on the idle pool, a few
   times: submit -> its JOB_TERMINATED event; the median is reported.
2. **Slurm** 22.05 single node, tuned, 256 CPUs declared on this machine
   (../shared/anchors/slurm_single_node.sh, the project's anchor): ``N`` × ``sbatch
   --wrap /bin/true`` (one submission per job, as the anchor was measured) from the first
   submit until ``squeue`` is empty.  When Slurm cannot be installed or started the reason
   is printed and the run goes on.
3. **floor**: ``xargs -P <cores> -n1 /bin/true`` over ``N`` arguments (fork/exec only).

Printed: jobs/s of each, pyhtc/Slurm, pyhtc as a fraction of the floor, one-job latency.
Issue 6's targets: pyhtc >= 1.5 × Slurm's jobs/s and one job submit -> complete <= 1 s.

usage: python benchmarks/throughput_bench.py [--jobs N] [--latency-runs K] [--no-slurm]
                                             [--cpus C]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from pyhtc.pool.config import PoolLayout  # noqa: E402
from pyhtc.pool.control import pool_env, start_pool, stop_pool  # noqa: E402


def shared_dir() -> pathlib.Path:
    """../shared beside the clone (as tests/conftest.py finds it)."""
    return ROOT.parent / "shared"


# -- pyhtc -------------------------------------------------------------------------------
CLIENT = textwrap.dedent(r'''
    import json, os, sys, time
    import htcondor2 as htcondor
    iwd, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    schedd = htcondor.Schedd()

    class Terminated:
        """Counts JOB_TERMINATED events in a user log, reading only what was appended since
        the last call (a harness that re-read the whole log every 5 ms would spend CPU
        growing with the log's length on the machine it measures)."""
        def __init__(self, log):
            self.log, self.f, self.rest, self.count = log, None, "", 0

        def __call__(self):
            if self.f is None:
                try:
                    self.f = open(self.log)
                except FileNotFoundError:
                    return 0
            data = self.rest + self.f.read()
            lines = data.split("\n")
            self.rest = lines.pop()     # a line still being written
            self.count += sum(1 for line in lines if line.startswith("005 ("))
            return self.count

    def run(count, log, timeout):
        sub = htcondor.Submit({"executable": "/bin/true", "log": log, "initialdir": iwd,
                               "request_memory": "1", "request_disk": "1",
                               "should_transfer_files": "NO"})
        terminated = Terminated(log)
        t0 = time.time()
        schedd.submit(sub, count=count)
        t_sub = time.time() - t0
        while terminated() < count:
            if time.time() - t0 > timeout:
                raise SystemExit(f"only {terminated()} of {count} jobs done after {timeout} s")
            time.sleep(0.005)
        return time.time() - t0, t_sub

    out = {"latency": []}
    # warm-up: one job (daemons' first use of every code path)
    run(1, os.path.join(iwd, "warm.log"), 120)
    time.sleep(1)
    for i in range(runs):
        out["latency"].append(run(1, os.path.join(iwd, f"one.{i}.log"), 120)[0])
        time.sleep(1.0)
    out["seconds"], out["submit_seconds"] = run(n, os.path.join(iwd, "many.log"), 1800)
    print(json.dumps(out))
''')

#: knobs the bench sets on top of the personal pool's defaults (printed with the results)
POOL_KNOBS = {
    # Slurm is measured with 256 CPUs declared on this machine; the pool gets the same
    "NUM_CPUS": "256",
    "MEMORY": "65536",
}


def bench_pyhtc(jobs: int, runs: int, knobs: dict) -> dict:
    base = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-tput-"))
    os.chmod(base, 0o755)
    layout = PoolLayout(base / "pool")
    iwd = base / "jobs"
    iwd.mkdir()
    os.chmod(iwd, 0o777)
    layout.local_dir.mkdir(parents=True)
    layout.local_config.write_text("".join(f"{k} = {v}\n" for k, v in knobs.items()))
    try:
        t0 = time.time()
        start_pool(layout, timeout=60)
        up = time.time() - t0
        env = pool_env(layout)
        r = subprocess.run([sys.executable, "-c", CLIENT, str(iwd), str(jobs), str(runs)],
                           env=env, capture_output=True, text=True, timeout=3600)
        if r.returncode:
            tail = "".join((layout.log / n).read_text()[-1500:] for n in ("SchedLog", "ShadowLog")
                           if (layout.log / n).exists())
            raise SystemExit(f"pyhtc client failed:\n{r.stderr[-3000:]}\n{tail}")
        out = json.loads(r.stdout.strip().splitlines()[-1])
        out["up_seconds"] = up
        out["dir"] = str(base)
        return out
    finally:
        stop_pool(layout, timeout=30)
        if not os.environ.get("PYHTC_BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)


# -- Slurm -------------------------------------------------------------------------------
def bench_slurm(jobs: int, cpus: int) -> dict:
    script = shared_dir() / "anchors" / "slurm_single_node.sh"
    if not script.exists():
        return {"error": f"{script} not found"}
    run = pathlib.Path(tempfile.mkdtemp(prefix="anchor-slurm-"))
    os.chmod(run, 0o755)
    env = dict(os.environ, ANCHOR_SLURM_RUN=str(run / "slurm"))
    try:
        r = subprocess.run(["bash", str(script), "install"], env=env, capture_output=True,
                           text=True, timeout=900)
        if r.returncode:
            return {"error": f"install failed ({r.returncode}): {(r.stderr or r.stdout)[-500:]}"}
        r = subprocess.run(["bash", str(script), "up", str(cpus), "tuned"], env=env,
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            return {"error": f"up failed ({r.returncode}): {(r.stdout + r.stderr)[-800:]}"}
        env["SLURM_CONF"] = str(run / "slurm" / "slurm.conf")
        work = run / "work"
        work.mkdir()
        os.chmod(work, 0o777)

        def sbatch_one():
            subprocess.run(["sbatch", "--quiet", "-o", "/dev/null", "-D", str(work),
                            "--wrap", "/bin/true"], env=env, check=True)

        def queue_empty():
            q = subprocess.run(["squeue", "-h", "-o", "%i"], env=env, capture_output=True,
                               text=True)
            return q.returncode == 0 and not q.stdout.strip()

        def wait_empty(t0, timeout):
            while not queue_empty():
                if time.time() - t0 > timeout:
                    raise TimeoutError("Slurm queue not empty")
                time.sleep(0.02)
            return time.time() - t0

        # warm-up and one-job latency (the median of three)
        lat = []
        for _ in range(3):
            t0 = time.time()
            sbatch_one()
            lat.append(wait_empty(t0, 60))
            time.sleep(0.5)
        t0 = time.time()
        for _ in range(jobs):
            sbatch_one()
        t_sub = time.time() - t0
        secs = wait_empty(t0, 1800)
        return {"seconds": secs, "submit_seconds": t_sub, "latency": lat}
    except (subprocess.SubprocessError, OSError, TimeoutError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        subprocess.run(["bash", str(script), "down"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(run, ignore_errors=True)


# -- floor -------------------------------------------------------------------------------
def bench_floor(jobs: int, cores: int) -> dict:
    t0 = time.time()
    subprocess.run(["xargs", "-P", str(cores), "-n1", "/bin/true"], input="x\n" * jobs,
                   text=True, check=True)
    return {"seconds": time.time() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=500)
    ap.add_argument("--latency-runs", type=int, default=5)
    ap.add_argument("--cpus", type=int, default=256, help="CPUs declared to Slurm and the pool")
    ap.add_argument("--no-slurm", action="store_true")
    ns = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    knobs = dict(POOL_KNOBS, NUM_CPUS=str(ns.cpus))
    print(f"machine: {cores} cores; {ns.jobs} x /bin/true")
    print("pyhtc pool knobs set by this bench (on top of `pyhtc pool up` defaults): "
          + ", ".join(f"{k}={v}" for k, v in knobs.items()))
    print("pyhtc slots: the pool's one partitionable slot; the schedd claims its leftovers "
          "(CLAIM_PARTITIONABLE_LEFTOVERS, default) and reuses claims")

    floor = bench_floor(ns.jobs, cores)
    floor_rate = ns.jobs / floor["seconds"]
    print(f"floor  xargs -P{cores} /bin/true: {floor_rate:8.1f} jobs/s ({floor['seconds']:.2f} s)")

    py = bench_pyhtc(ns.jobs, ns.latency_runs, knobs)
    py_rate = ns.jobs / py["seconds"]
    lat = statistics.median(py["latency"])
    print(f"pyhtc  personal pool:        {py_rate:8.1f} jobs/s ({py['seconds']:.2f} s; submit "
          f"{py['submit_seconds']:.2f} s; pool up {py['up_seconds']:.1f} s)")
    print(f"pyhtc  one job submit->done: median {lat:.3f} s of "
          + ", ".join(f"{x:.3f}" for x in py["latency"]))

    slurm_rate = None
    if ns.no_slurm:
        print("slurm  skipped (--no-slurm)")
    else:
        sl = bench_slurm(ns.jobs, ns.cpus)
        if "error" in sl:
            print(f"slurm  not measured: {sl['error']}")
        else:
            slurm_rate = ns.jobs / sl["seconds"]
            print(f"slurm  single node, tuned, CPUs={ns.cpus}: {slurm_rate:8.1f} jobs/s "
                  f"({sl['seconds']:.2f} s; submit {sl['submit_seconds']:.2f} s); one job "
                  f"median {statistics.median(sl['latency']):.3f} s")

    print("--")
    if slurm_rate:
        print(f"pyhtc / Slurm: {py_rate / slurm_rate:.2f}x (target >= 1.5x)")
    print(f"pyhtc / floor: {py_rate / floor_rate:.3f}")
    print(f"one job submit->done: {lat:.3f} s (target <= 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
