#!/usr/bin/env python3
"""Schedd benchmark: submit 100,000 procs in one cluster, then query them all.

Measures, against a real ``condor_schedd`` process of pyhtc on loopback (FS authentication
and AES encryption required, as in tests/schedd):

1. ``htcondor2.Schedd.submit(count=N)`` with the real HTCondor client (time of the call);
2. ``condor_q -totals`` and ``condor_q -af ClusterId ProcId JobStatus`` (pyhtc's tool,
   the whole process timed, output checked);
3. ``htcondor2.Schedd.query()`` of all N job ads (full ads);
4. the schedd's resident memory per job (psutil RSS after the submit minus RSS before it,
   divided by N);
5. ``pyhtc.htcondor.Schedd.submit(count=N)`` into a second, fresh schedd (with the
   schedd's RSS per job for it too).

The 1-minute load average after each submit is printed beside it: on a shared machine the
wall times follow it, the CPU seconds much less.

Targets (brief): submit <= 10 s, the full query <= 5 s.  There is no HTCondor schedd on this
machine to run beside it, so the figures are absolute.

``PYHTC_SCHEDD_PROFILE=<dir>`` (passed on to the schedd as ``_CONDOR_SCHEDD_PROFILE``) makes
the schedd write a cProfile of its run to ``<dir>/schedd.<pid>.prof`` when it shuts down.

usage: python benchmarks/schedd_bench.py [--procs N]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from daemon_helpers import start_daemon  # noqa: E402

SECURE = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": "pyhtc.test",
    "_CONDOR_MAX_JOBS_PER_OWNER": "10000000",
    "_CONDOR_MAX_JOBS_PER_SUBMISSION": "10000000",
    "_CONDOR_MAX_JOBS_SUBMITTED": "10000000",
}

SUBMIT = {"executable": "/bin/sleep", "arguments": "600", "request_memory": "64",
          "output": "out.$(Process)", "error": "err.$(Process)"}


def run_python(code: str, env: dict | None = None, timeout: float = 900) -> str:
    e = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    e.update(env or {})
    r = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode:
        raise SystemExit(f"client failed:\n{r.stderr[-4000:]}")
    return r.stdout


def client_code(module: str, sinful: str, body: str) -> str:
    cad = "classad2" if module == "htcondor2" else "pyhtc.classad"
    return f"""
import json, time
import {module} as H
import {cad} as CA
ad = CA.ClassAd({{'MyAddress': {sinful!r}, 'Name': 'bench-schedd',
                 'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}})
s = H.Schedd(ad)
""" + body


def submit(module: str, sinful: str, n: int) -> tuple[float, int]:
    body = f"""
sub = H.Submit({SUBMIT!r})
t = time.perf_counter()
r = s.submit(sub, count={n})
dt = time.perf_counter() - t
print(json.dumps([dt, r.cluster(), r.num_procs()]))
"""
    dt, cluster, procs = json.loads(run_python(client_code(module, sinful, body)).splitlines()[-1])
    assert procs == n, (procs, n)
    return dt, cluster


def query_all(sinful: str, n: int) -> float:
    body = """
t, c = time.perf_counter(), time.process_time()
ads = s.query()
dt, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps([dt, cpu, len(ads), len(ads[0]) if ads else 0]))
"""
    dt, cpu, count, nattrs = json.loads(run_python(client_code("htcondor2", sinful, body)).splitlines()[-1])
    assert count == n, (count, n)
    return dt, cpu


def condor_q(tmp: pathlib.Path, *args: str) -> tuple[float, str]:
    env = {"CONDOR_CONFIG": "ONLY_ENV",
           "_CONDOR_SCHEDD_ADDRESS_FILE": str(tmp / ".schedd_address"),
           "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
           "_CONDOR_UID_DOMAIN": "pyhtc.test"}
    e = {"PATH": os.environ["PATH"], "HOME": "/tmp", "TZ": "UTC", **env}
    import resource
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pyhtc.tools.q", *args], env=e, capture_output=True,
                       text=True, timeout=900)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    condor_q.cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    if r.returncode:
        raise SystemExit(f"condor_q {' '.join(args)} failed:\n{r.stderr[-4000:]}")
    return dt, r.stdout


def start(tmp: pathlib.Path):
    extra = dict(SECURE)
    prof = os.environ.get("PYHTC_SCHEDD_PROFILE")
    if prof:
        extra["_CONDOR_SCHEDD_PROFILE"] = prof
    return start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp, "SchedLog", **extra)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, default=100_000)
    ap.add_argument("--pyhtc-procs", type=int, default=None,
                    help="procs for pyhtc's own Schedd.submit (default: --procs)")
    args = ap.parse_args()
    n = args.procs
    n_py = args.pyhtc_procs if args.pyhtc_procs is not None else n
    import psutil
    print(f"schedd benchmark, {n} procs in one cluster (targets: submit <= 10 s, full query <= 5 s); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)

    class Figures(dict):
        def __setitem__(self, k, v):
            super().__setitem__(k, v)
            print(f"  {k:45s} {v:.3f}" if isinstance(v, float) else f"  {k:45s} {v}", flush=True)
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="schedd_bench") as td:
        tmp = pathlib.Path(td) / "a"
        tmp.mkdir()
        d = start(tmp)
        try:
            sp = psutil.Process(d.proc.pid)
            rss0 = sp.memory_info().rss
            cpu0 = sum(sp.cpu_times()[:2])
            figures["submit htcondor2 (s)"], cluster = submit("htcondor2", d.sinful, n)
            cpu1 = sum(sp.cpu_times()[:2])
            figures["  schedd CPU in that submit (s)"] = cpu1 - cpu0
            figures["  1-min load average after it"] = round(os.getloadavg()[0], 1)
            rss1 = sp.memory_info().rss
            figures["schedd RSS per job (bytes)"] = round((rss1 - rss0) / n)
            figures["schedd RSS total (MB)"] = round(rss1 / 2**20, 1)
            cpu0 = sum(sp.cpu_times()[:2])
            dt, out = condor_q(tmp, "-totals", "-allusers")
            assert f"{n} jobs" in out, out
            figures["condor_q -totals (s)"] = dt
            figures["  condor_q CPU / schedd CPU in -totals (s)"] = \
                f"{condor_q.cpu:.3f} / {sum(sp.cpu_times()[:2]) - cpu0:.3f}"
            cpu0 = sum(sp.cpu_times()[:2])
            dt, out = condor_q(tmp, "-allusers", "-af", "ClusterId", "ProcId", "JobStatus")
            lines = out.splitlines()
            assert len(lines) == n and lines[-1] == f"{cluster} {n - 1} 1", (len(lines), lines[-1:])
            figures["condor_q -af ClusterId ProcId JobStatus (s)"] = dt
            figures["  condor_q CPU / schedd CPU in -af (s)"] = \
                f"{condor_q.cpu:.3f} / {sum(sp.cpu_times()[:2]) - cpu0:.3f}"
            cpu0 = sum(sp.cpu_times()[:2])
            figures["htcondor2 Schedd.query() all (s)"], client_cpu = query_all(d.sinful, n)
            figures["  client (htcondor2) CPU in it (s)"] = client_cpu
            figures["  schedd CPU in that query (s)"] = sum(sp.cpu_times()[:2]) - cpu0
            figures["schedd RSS after queries (MB)"] = round(
                psutil.Process(d.proc.pid).memory_info().rss / 2**20, 1)
        finally:
            d.stop()
        tmp2 = pathlib.Path(td) / "b"
        tmp2.mkdir()
        d = start(tmp2)
        try:
            sp = psutil.Process(d.proc.pid)
            cpu0 = sum(sp.cpu_times()[:2])
            rss0 = sp.memory_info().rss
            import resource
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            try:
                figures[f"submit pyhtc, {n_py} procs (s)"], _ = submit("pyhtc.htcondor", d.sinful, n_py)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                figures["  client (pyhtc) CPU in it (s)"] = \
                    (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
            except SystemExit as exc:
                figures[f"submit pyhtc, {n_py} procs"] = "FAILED: " + str(exc).strip().splitlines()[-1]
            figures["  schedd CPU in pyhtc submit (s)"] = sum(sp.cpu_times()[:2]) - cpu0
            figures["  schedd RSS per job, pyhtc submit (bytes)"] = \
                round((sp.memory_info().rss - rss0) / max(n_py, 1))
            figures["  1-min load average after the pyhtc submit"] = round(os.getloadavg()[0], 1)
        finally:
            d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
