"""Benchmark pyhtc.classad against HTCondor's classad2 (C++) in the same process.

Workloads (ads from ../shared/classad/ads/job.old and machine.old):

* ``parse new (cold)``  — parse the job ad in new syntax, pyhtc's expression intern cache
  cleared before every parse (what a process sees the first time it reads an ad);
* ``parse new (warm)``  — the same with warm caches;
* ``parse old (cold)`` / ``parse old (warm)`` — the job ad in old syntax (``condor_q -l``);
* ``matchmaking``       — ``job.symmetricMatch(machine)`` plus both Rank evaluations;
* ``queue parse``       — 10,000 procs of one cluster in old syntax differing in ProcId,
  Args and Out, each parsed into an ad (a schedd reading its queue), caches cleared first;
* ``queue parse new syntax`` — the same 10,000 ads in new syntax.

Prints seconds per operation for each library and the speed ratio classad2_time /
pyhtc_time (> 1 means pyhtc is faster). Run: ``TZ=UTC python benchmarks/classad_bench.py``.
"""
from __future__ import annotations

import os
import pathlib
import sys
import time

os.environ.setdefault("TZ", "UTC")
time.tzset()

HERE = pathlib.Path(__file__).resolve().parent
SHARED = pathlib.Path(os.environ.get("PYHTC_SHARED", HERE.parent.parent / "shared")).resolve()
sys.path.insert(0, str(HERE.parent / "src"))

import pyhtc.classad as P  # noqa: E402
from pyhtc.classad import oldsyntax, parser  # noqa: E402

try:
    import htcondor2  # noqa: F401,E402  (registers the compat functions)
    import classad2 as C  # noqa: E402
except ImportError:  # pragma: no cover
    C = None


def _clear_caches():
    parser._INTERN.clear()
    oldsyntax._VALUE_CACHE.clear()


def timeit(fn, min_time=0.5, max_reps=100000):
    """Seconds per call of fn (repeats until min_time elapsed)."""
    fn()
    reps = 0
    t0 = time.process_time()
    while True:
        fn()
        reps += 1
        el = time.process_time() - t0
        if el >= min_time or reps >= max_reps:
            return el / reps


def main():
    job_old = (SHARED / "classad" / "ads" / "job.old").read_text()
    mach_old = (SHARED / "classad" / "ads" / "machine.old").read_text()
    pj = P.parseOne(job_old, P.ParserType.Old)
    pm = P.parseOne(mach_old, P.ParserType.Old)
    job_new = repr(pj)
    rows = []

    def bench(name, f_py, f_c, per=1):
        tp = timeit(f_py) / per
        tc = timeit(f_c) / per if C is not None else float("nan")
        rows.append((name, tp, tc))

    def cold_new():
        _clear_caches()
        P.ClassAd(job_new)

    def cold_old():
        _clear_caches()
        P.parseOne(job_old, P.ParserType.Old)

    if C is not None:
        cj = C.parseOne(job_old, C.ParserType.Old)
        cm = C.parseOne(mach_old, C.ParserType.Old)
        assert repr(cj) == repr(pj), "job ads differ between libraries"
        c_new = lambda: C.ClassAd(job_new)  # noqa: E731
        c_old = lambda: C.parseOne(job_old, C.ParserType.Old)  # noqa: E731
    else:
        cj = cm = None
        c_new = c_old = None

    bench("parse new (cold)", cold_new, c_new)
    bench("parse new (warm)", lambda: P.ClassAd(job_new), c_new)
    bench("parse old (cold)", cold_old, c_old)
    bench("parse old (warm)", lambda: P.parseOne(job_old, P.ParserType.Old), c_old)

    rank = P.ExprTree("Rank")

    def py_match():
        ok = pj.symmetricMatch(pm)
        rank.eval(pj, pm)
        rank.eval(pm, pj)
        return ok

    if C is not None:
        crank = C.ExprTree("Rank")

        def c_match():
            ok = cj.symmetricMatch(cm)
            crank.eval(cj, cm)
            crank.eval(cm, cj)
            return ok
        assert py_match() == c_match()
    else:
        c_match = None
    bench("matchmaking", py_match, c_match)

    # queue-shaped: 10,000 procs of one cluster
    base = [ln for ln in job_old.splitlines()
            if not ln.startswith(("ProcId", "Args", "Out", "Arguments"))]
    texts = []
    for proc in range(10000):
        texts.append("\n".join(base + [
            f"ProcId = {proc}",
            f'Args = "--input data_run{proc}.root --iterations 25 --seed {proc}"',
            f'Out = "fit_4817_{proc}.out"']) + "\n")

    def py_queue():
        _clear_caches()
        for t in texts:
            P.parseOne(t, P.ParserType.Old)

    def c_queue():
        for t in texts:
            C.parseOne(t, C.ParserType.Old)
    bench("queue parse (10k procs)", py_queue, c_queue if C is not None else None)

    new_texts = [repr(P.parseOne(t, P.ParserType.Old)) for t in texts]

    def py_queue_new():
        _clear_caches()
        for t in new_texts:
            P.ClassAd(t)

    def c_queue_new():
        for t in new_texts:
            C.ClassAd(t)
    bench("queue parse new syntax", py_queue_new, c_queue_new if C is not None else None)

    print(f"{'workload':26} {'pyhtc s/op':>12} {'classad2 s/op':>14} {'ratio':>7}")
    for name, tp, tc in rows:
        print(f"{name:26} {tp:12.3e} {tc:14.3e} {tc / tp:7.2f}x")
    return rows


if __name__ == "__main__":
    main()
