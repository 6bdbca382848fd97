"""``pyhtc demo``: the README's main job — a real workload on a personal pool.

It brings up a personal pool (``pyhtc.pool``) in a fresh directory, then runs word
frequencies over the text files under /usr/share/common-licenses (every Debian machine has
them): one job per file, with the file transferred in and its counts transferred back, then
one job merging the counts. It prints the combined result, the pool's summary and where the
user log is, and takes the pool down again (``--keep`` leaves it running).

The jobs run the system's ``/usr/bin/python3`` (a job may run as ``nobody``, who cannot
reach a Python under /root).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Optional

__all__ = ["main", "COUNT_SCRIPT", "MERGE_SCRIPT", "input_files"]

COUNT_SCRIPT = r'''
import json, re, sys
name = sys.argv[1]
text = open(name, encoding="utf-8", errors="replace").read().lower()
counts = {}
for w in re.findall(r"[a-z][a-z']+", text):
    counts[w] = counts.get(w, 0) + 1
with open("counts-" + name + ".json", "w") as f:
    json.dump(counts, f)
print(name, sum(counts.values()), "words", len(counts), "distinct")
'''

MERGE_SCRIPT = r'''
import glob, json
total = {}
for p in sorted(glob.glob("counts-*.json")):
    for w, n in json.load(open(p)).items():
        total[w] = total.get(w, 0) + n
with open("wordfreq.json", "w") as f:
    json.dump(total, f)
print(len(total), "distinct words,", sum(total.values()), "in all")
'''

PYTHON = "/usr/bin/python3"
LICENSES = Path("/usr/share/common-licenses")


def input_files(directory: Path = LICENSES) -> list[Path]:
    """The regular files (not symlinks) of ``directory``, sorted."""
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.is_symlink())


def _wait(schedd, cluster: int, count: int, timeout: float) -> list:
    """Wait until all ``count`` procs of ``cluster`` left the queue; their history ads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not schedd.query(f"ClusterId == {cluster}", ["ProcId"]):
            break
        held = schedd.query(f"ClusterId == {cluster} && JobStatus == 5", ["ProcId", "HoldReason"])
        if held:
            raise RuntimeError(f"job {cluster}.{held[0]['ProcId']} is held: {held[0].get('HoldReason')}")
        time.sleep(0.25)
    else:
        raise TimeoutError(f"cluster {cluster} did not finish in {timeout:.0f} s")
    return list(schedd.history(f"ClusterId == {cluster}", ["ProcId", "ExitCode", "JobStatus"], count))


def main(pool_dir: Optional[str] = None, keep: bool = False, timeout: float = 300.0,
         out=sys.stdout) -> int:
    """Run the workload; returns 0 on success. ``pool_dir`` defaults to a new directory
    under /tmp (traversable by the job user)."""
    from pyhtc.pool import PoolError, PoolLayout, start_pool, stop_pool

    w = out.write
    files = input_files()
    if not files:
        w(f"no input files under {LICENSES}\n")
        return 1
    if not os.access(PYTHON, os.X_OK):
        w(f"{PYTHON} is needed to run the jobs\n")
        return 1
    made_dir = pool_dir is None
    root = Path(pool_dir or tempfile.mkdtemp(prefix="pyhtc-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    layout = PoolLayout(root / "pool")
    work = root / "wordfreq"
    work.mkdir(exist_ok=True)
    os.chmod(work, 0o777)  # the jobs' output comes back here
    (work / "count.py").write_text(COUNT_SCRIPT)
    (work / "merge.py").write_text(MERGE_SCRIPT)
    log = work / "wordfreq.log"

    w(f"Starting a personal pool in {layout.local_dir} ...\n")
    t0 = time.monotonic()
    try:
        start_pool(layout, timeout=90)
    except PoolError as exc:
        w(f"could not start the pool: {exc}\n")
        return 1
    w(f"  up in {time.monotonic() - t0:.1f} s\n")
    os.environ["CONDOR_CONFIG"] = str(layout.config)
    for k in [k for k in os.environ if k.startswith("_CONDOR_")]:
        del os.environ[k]
    from pyhtc import htcondor
    htcondor.reload_config()
    try:
        schedd = htcondor.Schedd()
        items = "\n".join(f.name for f in files)
        count = htcondor.Submit({
            "executable": PYTHON, "transfer_executable": "false",
            "arguments": "count.py $(file)",
            "transfer_input_files": f"count.py, {LICENSES}/$(file)",
            "should_transfer_files": "YES", "when_to_transfer_output": "ON_EXIT",
            "output": "count-$(file).out", "error": "count-$(file).err",
            "log": str(log), "initialdir": str(work),
            "request_cpus": "1", "request_memory": "64MB", "request_disk": "10MB",
        })
        t1 = time.monotonic()
        r = schedd.submit(count, itemdata=iter({"file": f.name} for f in files))
        cluster = r.cluster()
        w(f"Submitted {len(files)} word-count jobs as cluster {cluster} (one per file in {LICENSES})\n")
        hist = _wait(schedd, cluster, len(files), timeout)
        bad = [h for h in hist if h.get("ExitCode") != 0]
        if bad or len(hist) != len(files):
            w(f"some count jobs failed: {bad}\n")
            return 1
        w(f"  {len(files)} jobs done in {time.monotonic() - t1:.1f} s\n")
        counts = sorted(p.name for p in work.glob("counts-*.json"))
        merge = htcondor.Submit({
            "executable": PYTHON, "transfer_executable": "false", "arguments": "merge.py",
            "transfer_input_files": ", ".join(["merge.py"] + counts),
            "should_transfer_files": "YES", "when_to_transfer_output": "ON_EXIT",
            "output": "merge.out", "error": "merge.err", "log": str(log),
            "initialdir": str(work), "request_memory": "64MB",
        })
        m = schedd.submit(merge, count=1).cluster()
        w(f"Submitted the merge job as cluster {m}\n")
        mh = _wait(schedd, m, 1, timeout)
        if not mh or mh[0].get("ExitCode") != 0:
            w(f"the merge job failed: {mh}\n")
            return 1
        total = Counter(json.loads((work / "wordfreq.json").read_text()))
        w(f"\nTop 15 words over {len(files)} licence texts "
          f"({sum(total.values())} words, {len(total)} distinct):\n")
        for word, n in total.most_common(15):
            w(f"  {n:7d}  {word}\n")
        slots = htcondor.Collector().query(htcondor.AdTypes.Startd, projection=["Name", "Cpus", "Memory", "State"])
        w(f"\nPool summary: {len(slots)} slot ad(s): "
          + ", ".join(f"{s.get('Name')} ({s.get('Cpus')} cpus, {s.get('Memory')} MB, {s.get('State')})" for s in slots)
          + f"\n  jobs completed: {len(hist) + 1} in {time.monotonic() - t1:.1f} s"
          + f"\n  user log: {log}\n  results:  {work / 'wordfreq.json'}\n")
        return 0
    finally:
        if keep:
            w(f"\nThe pool keeps running: export CONDOR_CONFIG={layout.config}; "
              f"stop it with: pyhtc pool down --dir {layout.local_dir}\n")
        else:
            stop_pool(layout, timeout=30)
            w("The pool is down.\n")
            if made_dir and os.environ.get("PYHTC_DEMO_CLEAN"):
                shutil.rmtree(root, ignore_errors=True)
