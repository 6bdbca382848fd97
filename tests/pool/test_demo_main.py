"""The README's main command: a personal pool runs word frequencies over
/usr/share/common-licenses (one job per file, files transferred in and counts back, then a
merge job); the result equals counting the files directly, and the real htcondor2
JobEventLog reads the full event sequence of every job."""
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from pyhtc.wordfreq import LICENSES, input_files


@pytest.mark.skipif(not LICENSES.is_dir() or not Path("/usr/bin/python3").exists(),
                    reason="needs /usr/share/common-licenses and /usr/bin/python3")
def test_pyhtc_demo_word_frequencies():
    root = Path(tempfile.mkdtemp(prefix="pyhtc-demo-test-"))
    try:
        r = subprocess.run([sys.executable, "-m", "pyhtc.cli", "demo", "--dir", str(root)],
                           capture_output=True, text=True, timeout=400)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Top 15 words" in r.stdout and "The pool is down." in r.stdout
        got = json.loads((root / "wordfreq" / "wordfreq.json").read_text())
        want = Counter()
        for f in input_files():
            text = f.read_text(encoding="utf-8", errors="replace").lower()
            want.update(re.findall(r"[a-z][a-z']+", text))
        assert got == dict(want)
        log = root / "wordfreq" / "wordfreq.log"
        code = ("import htcondor2, json, sys\n"
                "ev = [(int(e.type), e.cluster, e.proc) for e in htcondor2.JobEventLog(sys.argv[1]).events(0)]\n"
                "print(json.dumps(ev))")
        out = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True,
                             timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"})
        assert out.returncode == 0, out.stderr
        events = json.loads(out.stdout)
        jobs = {(c, p) for _, c, p in events}
        assert len(jobs) == len(input_files()) + 1
        for job in jobs:
            seq = [t for t, c, p in events if (c, p) == job]
            assert seq[0] == 0 and 1 in seq and seq[-1] == 5, (job, seq)  # SUBMIT .. EXECUTE .. TERMINATED
    finally:
        subprocess.run([sys.executable, "-m", "pyhtc.cli", "pool", "down", "--dir", str(root / "pool")],
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
