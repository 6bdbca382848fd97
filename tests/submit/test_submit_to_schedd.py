"""condor_submit (``python -m pyhtc.tools.submit``) submitting to a real schedd process (FS
authentication + AES), checked with the real htcondor2 client: HTCondor's output and exit
status, the same job ads as ``-dry-run`` shows for real submit files, command-line options,
late materialization (max_idle) and errors naming file:line."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest

from daemon_helpers import run_client, start_daemon
from tests.conftest import SHARED

CASES = SHARED / "real" / "submit"
SECURE = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": "pyhtc.test",
}
# what the schedd adds to a submitted job (qmgmt.cpp: the owner's User, TotalSubmitProcs)
SCHEDD_ADDS = {"User", "TotalSubmitProcs"}


@pytest.fixture(scope="module")
def schedd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schedd")
    d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp, "SchedLog", **SECURE)
    d.tmp = tmp
    yield d
    d.stop()


def client_env(d, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "TZ": "UTC", "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS",
                "_CONDOR_SCHEDD_ADDRESS_FILE": str(d.tmp / ".schedd_address")})
    env.update(extra)
    return env


def condor_submit(d, cwd, *args, stdin=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.submit", *args], cwd=cwd, input=stdin,
                          env=client_env(d, **env), capture_output=True, text=True, timeout=60)


def real(d, body: str):
    """Run ``body`` with ``s`` = htcondor2.Schedd of ``d``; returns its last JSON line."""
    r = run_client(f"""
import time
s = htcondor2.Schedd(classad2.ClassAd({{'MyAddress': {d.sinful!r}, 'Name': 'pyhtc-schedd',
                     'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}}))
def procs(c):
    return sorted((a['ProcId'], a.get('Args')) for a in s.query(f'ClusterId == {{c}}', ['ProcId', 'Args']))
def wait_for(c, pred, timeout=10):
    end = time.time() + timeout
    while True:
        p = procs(c)
        if pred(p) or time.time() > end:
            return p
        time.sleep(0.05)
{body}
""")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def submitted_cluster(out: str) -> int:
    m = re.fullmatch(r"Submitting job\(s\)\.*\n(\d+) job\(s\) submitted to cluster (\d+)\.\n", out)
    assert m, out
    return int(m.group(2))


def parse_dry_run(text: str) -> list[dict[str, str]]:
    ads, cur = [], {}
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                ads.append(cur)
                cur = {}
        elif not line.startswith("#"):
            name, _, value = line.partition(" = ")
            cur[name] = value
    if cur:
        ads.append(cur)
    return ads


def _case(case: str, tmp_path) -> tuple[str, str]:
    info = json.loads((CASES / "oracle_runs.json").read_text())[case]
    work = tmp_path / case
    shutil.copytree(CASES / case, work)
    return str(work), info["submit_file"]


@pytest.mark.parametrize("case", ["htctest__job_core_queue_sched", "htcdocs__quick-start-guide-L442"])
def test_real_files_same_ads_as_dry_run(schedd, tmp_path, case):
    work, sub = _case(case, tmp_path)
    dry = condor_submit(schedd, work, "-dry-run", "-", sub)
    assert dry.returncode == 0, dry.stderr
    expected = parse_dry_run(dry.stdout)
    r = condor_submit(schedd, work, sub)
    assert r.returncode == 0, r.stderr
    c = submitted_cluster(r.stdout)
    assert r.stdout.count(".") - 1 == len(expected) == 40   # one dot per job
    out = real(schedd, f"""
expected = json.loads({json.dumps(json.dumps(expected))})
got = sorted(s.query('ClusterId == {c}'), key=lambda a: a['ProcId'])
bad, extra = [], set()
for exp, ad in zip(expected, got):
    for k, text in exp.items():
        if k in ('ClusterId', 'QDate', 'EnteredCurrentStatus', 'Owner'):
            continue
        if str(classad2.ExprTree(text)) != str(ad.lookup(k)) if k in ad else True:
            bad.append([ad['ProcId'], k, text, str(ad.get(k))])
    extra |= set(ad.keys()) - set(exp) - {{'ServerTime'}}
print(json.dumps({{'n': len(got), 'bad': bad[:5], 'extra': sorted(extra),
                  'ids': [a['ClusterId'] for a in got], 'owner': got[0]['Owner'],
                  'q': [a['QDate'] == a['EnteredCurrentStatus'] for a in got]}}))
""")
    assert out["n"] == 40 and set(out["ids"]) == {c}
    assert out["bad"] == []
    assert set(out["extra"]) <= SCHEDD_ADDS, out["extra"]
    assert out["owner"] and all(out["q"])


def test_options(schedd, tmp_path):
    # name=value goes before the file (manual: the file may change it), -append before queue
    (tmp_path / "opts.sub").write_text("executable = /bin/echo\narguments = $(Item) $(greeting)\n"
                                       "queue 1 Item in (a b c)\n")
    r = condor_submit(schedd, tmp_path, "-terse", "-batch-name", "nightly", "greeting=bye",
                      "-append", "+Color = \"red\"", "opts.sub")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"(\d+)\.0 - \1\.2\n", r.stdout)
    assert m, r.stdout
    c1 = int(m.group(1))
    # -queue with a file without a queue statement; stdin with -terse
    (tmp_path / "noq.sub").write_text("executable = /bin/echo\narguments = n$(Process)\n")
    r = condor_submit(schedd, tmp_path, "noq.sub", "-queue", "2")   # -queue goes last (manual)
    assert r.returncode == 0, r.stderr
    c2 = submitted_cluster(r.stdout)
    r = condor_submit(schedd, tmp_path, "-terse", "-", stdin="executable = /bin/echo\nqueue 4\n")
    assert r.returncode == 0, r.stderr
    c3 = int(r.stdout.split(".")[0])
    assert r.stdout == f"{c3}.0 - {c3}.3\n"
    # stdin without -terse is verbose: every proc's ad, no summary (condor_submit.V6/submit.cpp)
    r = condor_submit(schedd, tmp_path, "-", stdin="executable = /bin/echo\nqueue 2\n")
    assert r.returncode == 0, r.stderr
    c4 = c3 + 1
    assert f"** Proc {c4}.0:\n" in r.stdout and f"** Proc {c4}.1:\n" in r.stdout
    assert "job(s) submitted" not in r.stdout and f"ClusterId = {c4}\n" in r.stdout
    out = real(schedd, f"""
ads = lambda c: sorted(s.query(f'ClusterId == {{c}}', ['ProcId', 'Args', 'JobBatchName', 'Color',
                                                      'JobSubmitMethod']), key=lambda a: a['ProcId'])
print(json.dumps({{'c1': [[a['Args'], a.get('JobBatchName'), a.get('Color'), a['JobSubmitMethod']] for a in ads({c1})],
                  'c2': [a['Args'] for a in ads({c2})], 'c3': len(ads({c3})), 'c4': len(ads({c4}))}}))
""")
    assert out["c1"] == [["a bye", "nightly", "red", 0], ["b bye", "nightly", "red", 0],
                         ["c bye", "nightly", "red", 0]]
    assert out["c2"] == ["n0", "n1"] and out["c3"] == 4 and out["c4"] == 2


def test_late_materialization_via_condor_submit(schedd, tmp_path):
    (tmp_path / "mi.sub").write_text("executable = /bin/echo\narguments = $(Item) $(Process)\n"
                                     "max_idle = 5\nqueue 2 Item from (\n" +
                                     "".join(f"i{n}\n" for n in range(10)) + ")\n")
    r = condor_submit(schedd, tmp_path, "mi.sub")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"Submitting job\(s\)\n20 job\(s\) submitted to cluster (\d+)\.\n", r.stdout)
    assert m, r.stdout
    c = int(m.group(1))
    out = real(schedd, f"""
first = wait_for({c}, lambda p: len(p) >= 5)
time.sleep(0.3)
steady = procs({c})
s.act(htcondor2.JobAction.Remove, ['{c}.0', '{c}.1', '{c}.2'])
after = wait_for({c}, lambda p: len(p) >= 5 and p[0][0] >= 3)
seen = dict(steady + after)
while True:
    cur = procs({c})
    seen.update(cur)
    if not cur:
        break
    s.act(htcondor2.JobAction.Remove, [f'{c}.{{p}}' for p, _ in cur])
    wait_for({c}, lambda p: not p or p[0][0] > cur[-1][0])
print(json.dumps({{'steady': steady, 'after': after, 'seen': sorted(seen.items())}}))
""")
    assert out["steady"] == [[p, f"i{p // 2} {p}"] for p in range(5)]
    assert out["after"] == [[p, f"i{p // 2} {p}"] for p in range(3, 8)]
    assert out["seen"] == [[p, f"i{p // 2} {p}"] for p in range(20)]   # all 20, each once


def test_real_factory_file_digest(schedd, tmp_path):
    """submitting-a-job L1382 (15000 jobs, max_idle = 100): the schedd holds the digest
    HTCondor's client makes, and only 100 jobs exist."""
    case = "htcdocs__submitting-a-job-L1382"
    work, sub = _case(case, tmp_path)
    r = condor_submit(schedd, work, sub)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("15000 job(s) submitted to cluster %d.\n" % submitted_cluster(r.stdout))
    c = submitted_cluster(r.stdout)
    exp = [json.loads(ln) for ln in (CASES / case / "submitting-a-job_L1382.expected.jsonl").read_text().splitlines()]
    fac = next(e for e in exp if e["kind"] == "factory")
    db = sqlite3.connect(schedd.tmp / "spool" / "job_queue.db")
    (digest,) = db.execute("SELECT digest FROM factories WHERE cluster=?", (c,)).fetchone()
    assert digest == fac["digest"].replace("@SUBMITDIR@/" + case, work)
    out = real(schedd, f"""
p = wait_for({c}, lambda p: len(p) >= 100)
time.sleep(0.3)
p = procs({c})
cad = s.query('ClusterId == {c} && ProcId == 0', ['JobMaterializeLimit', 'TotalSubmitProcs', 'Out'])[0]
print(json.dumps({{'n': len(p), 'last': p[-1], 'limit': cad['JobMaterializeLimit'],
                  'total': cad['TotalSubmitProcs'], 'out': cad['Out']}}))
""")
    assert out["n"] == 100 and out["last"] == [99, "input_file.99"]
    assert out["limit"] == fac["num"] == 15000 and out["total"] == 15000 and out["out"] == "out.0"


def test_errors(schedd, tmp_path):
    (tmp_path / "bad.sub").write_text("executable = /bin/echo\nqueue 2 Item in (a b\n")
    before = real(schedd, "print(json.dumps(len(s.query())))")
    r = condor_submit(schedd, tmp_path, "bad.sub")
    assert r.returncode == 1
    assert "bad.sub:2" in r.stderr and r.stderr.startswith("ERROR")
    (tmp_path / "noexe.sub").write_text("arguments = x\nqueue\n")
    r = condor_submit(schedd, tmp_path, "noexe.sub")
    assert r.returncode == 1 and "No 'executable' parameter was provided" in r.stderr
    assert real(schedd, "print(json.dumps(len(s.query())))") == before   # nothing committed
    r = condor_submit(schedd, tmp_path, "noexe.sub", _CONDOR_SCHEDD_ADDRESS_FILE=str(tmp_path / "none"))
    assert r.returncode == 1 and "ERROR: Can't find address of local schedd" in r.stderr
    r = condor_submit(schedd, tmp_path, "-name", "nosuch", "-pool", "127.0.0.1:9", "noexe.sub")
    assert r.returncode == 1 and "ERROR: Can't find address of schedd nosuch" in r.stderr
    # -addr goes straight to the schedd
    (tmp_path / "ok.sub").write_text("executable = /bin/echo\nqueue\n")
    r = condor_submit(schedd, tmp_path, "-addr", schedd.sinful, "-terse", "ok.sub",
                      _CONDOR_SCHEDD_ADDRESS_FILE=str(tmp_path / "none"))
    assert r.returncode == 0 and re.fullmatch(r"\d+\.0 - \d+\.0\n", r.stdout), r.stderr
    r = condor_submit(schedd, tmp_path, "missing.sub")
    assert r.returncode == 1 and "missing.sub" in r.stderr
