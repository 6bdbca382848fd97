"""condor_submit -dry-run against the ads HTCondor 25's own submit code produced.

For each case directory of shared/real/submit (see its README.md) the case is
copied to a scratch directory, the placeholders from oracle_runs.json are
created, and ``python -m pyhtc.tools.submit -dry-run - FILE`` runs there as a
real subprocess with the oracle's environment (PATH=/usr/bin:/bin HOME=/tmp
CONDOR_CONFIG=/dev/null).  Every expected attribute must come out with the same
value, and no unexpected attribute may appear, with the README's rules for
environment-dependent attributes:

* QDate / EnteredCurrentStatus: any integer, equal to each other;
* @SUBMITDIR@ -> our scratch directory;
* CondorVersion / SubmitVersion / CondorPlatform: our own build strings;
* FileSystemDomain -> our host's (pyhtc.submit.jobad.filesystem_domain());
* ExecutableSize / ImageSize / DiskUsage / TransferInputSizeMB: recomputed from
  a local stat() of system executables (e.g. /bin/cat) the oracle measured;
* JobSubmitMethod: the oracle used the Python bindings (2); condor_submit
  sends 0, as HTCondor's condor_submit does.
* A value drawn by ``$RANDOM_CHOICE(...)`` may be any of the listed choices.

The bindings submit only the FIRST queue statement; condor_submit runs them
all, so for files with several queue statements the expected procs are
compared with our first procs and the total count is checked separately.
Error cases must fail (exit 1) naming the same problem.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from pyhtc.submit.jobad import filesystem_domain
from tests.conftest import SHARED

CASES_DIR = SHARED / "real" / "submit"
RUNS = json.loads((CASES_DIR / "oracle_runs.json").read_text()) if (CASES_DIR / "oracle_runs.json").exists() else {}
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}
IGNORED = {"CondorVersion", "SubmitVersion", "CondorPlatform"}

# Error cases: the phrase our message must contain (the problem HTCondor named).
ERROR_PHRASES = {
    "convert-multi-q-statements-L142": "Unexpected characters following double-quote",
    "ep-policy-configuration-L341": "No 'executable' parameter was provided",
    "job-router-L152": "unable to read proxy file",
    "quick-start-guide-L631": "syntax error",
    "submitting-a-job-L203": "invalid Queue statement",
    "submitting-a-job-L791": "invalid Queue statement",
    "dagman-A": "'Standard' is not a supported universe.",
    "job_ligo_x86-64-chkpttst": "'Standard' is not a supported universe.",
    "part1-ex2-file-transfer-L48": "No 'executable' parameter was provided",
    "analyze_ID0000004": "No such directory:",
}


def _kb(path: str) -> int:
    try:
        return (os.path.getsize(path) + 1023) // 1024 if os.path.isfile(path) else 0
    except OSError:
        return 0


def parse_dry_run(text: str) -> list[dict[str, str]]:
    """Split -dry-run output into ads ({name: expr text}); '#' lines are comments."""
    ads, cur = [], {}
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                ads.append(cur)
                cur = {}
            continue
        if line.startswith("#"):
            continue
        name, sep, value = line.partition(" = ")
        assert sep, f"not an old-syntax attribute line: {line!r}"
        cur[name] = value
    if cur:
        ads.append(cur)
    return ads


def _setup(case: str, tmp_path) -> tuple[str, dict]:
    info = RUNS[case]
    work = tmp_path / case
    shutil.copytree(CASES_DIR / case, work)
    for ph in info.get("placeholders_created", []):
        p = work / ph
        if ph.endswith("/"):
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
    return str(work), info


def _run(work: str, submit_file: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.submit", *extra, "-dry-run", "-", submit_file],
                          cwd=work, env=ENV, capture_output=True, text=True, timeout=60)


def _case_ids(kind: str) -> list[str]:
    out = []
    for case in sorted(RUNS):
        d = CASES_DIR / case
        has_expected = any(p.name.endswith(".expected.jsonl") for p in d.iterdir())
        if (kind == "ok") == has_expected:
            out.append(case)
    return out


def _choices(text: str) -> set[str]:
    out = set()
    for m in re.finditer(r"\$RANDOM_CHOICE\(([^)]*)\)", text):
        out.update(x.strip() for x in m.group(1).split(","))
    return out


def _expected_value(name: str, value: str, exp_ad: dict, scratch_root: str) -> str:
    value = value.replace("@SUBMITDIR@", scratch_root)
    if name == "FileSystemDomain":
        return f'"{filesystem_domain()}"'
    if name == "JobSubmitMethod":
        return "0"
    return value


def _size_fixups(exp: dict) -> dict:
    """Re-base stat()-derived sizes on this machine for system executables."""
    cmd = exp.get("Cmd", '""').strip('"')
    if cmd == "java" or not cmd.startswith("/") or "@SUBMITDIR@" in cmd:
        return exp
    old_exe = int(exp.get("ExecutableSize", "0"))
    if old_exe == 0:
        return exp
    new_exe = _kb(cmd)
    exp = dict(exp)
    other = int(exp.get("DiskUsage", "0")) - old_exe
    exp["ExecutableSize"] = str(new_exe)
    if exp.get("ImageSize") == str(old_exe):
        exp["ImageSize"] = str(new_exe)
    exp["DiskUsage"] = str(new_exe + other)
    exp["TransferInputSizeMB"] = str((new_exe + other + 1023) // 1024)
    return exp


@pytest.mark.parametrize("case", _case_ids("ok"))
def test_dry_run_matches_oracle(case, tmp_path, shared_dir):
    work, info = _setup(case, tmp_path)
    scratch_root = str(tmp_path)
    expected_file = next(p for p in (CASES_DIR / case).iterdir() if p.name.endswith(".expected.jsonl"))
    rows = [json.loads(line) for line in expected_file.read_text().splitlines() if line.strip()]
    cluster = next(r for r in rows if r["kind"] == "cluster")["attrs"]
    procs = [r for r in rows if r["kind"] == "proc"]
    factory = [r for r in rows if r["kind"] == "factory"]
    submit_text = (CASES_DIR / case / info["submit_file"]).read_text()
    choices = _choices(submit_text)

    r = _run(work, info["submit_file"])
    assert r.returncode == 0, r.stderr
    ours = parse_dry_run(r.stdout)
    expected_ads = [{**cluster, **p["attrs"]} for p in procs] if procs else [cluster]
    n_queue = len(re.findall(r"(?im)^\s*queue\b", submit_text))
    if n_queue > 1:
        assert len(ours) > len(expected_ads), "condor_submit runs every queue statement"
    else:
        assert len(ours) == len(expected_ads)

    for i, exp in enumerate(expected_ads):
        exp = _size_fixups(exp)
        got = ours[i]
        problems = []
        for name, value in exp.items():
            if name in IGNORED:
                continue
            want = _expected_value(name, value, exp, scratch_root)
            have = got.get(name)
            if name in ("QDate", "EnteredCurrentStatus"):
                if not (have and re.fullmatch(r"\d+", have) and have == got.get("QDate")):
                    problems.append(f"{name}: {have!r} is not the submit time")
                continue
            if have != want and choices and have is not None:
                a, b = want.split(" "), have.split(" ")
                if len(a) == len(b) and all(x == y or (x.strip('"') in choices and y.strip('"') in choices)
                                            for x, y in zip(a, b)):
                    continue
            if have != want:
                problems.append(f"{name}: expected {want[:300]!r}, got {str(have)[:300]!r}")
        for name in got:
            if name not in exp and not (name == "ProcId" and not procs) and name not in IGNORED:
                problems.append(f"unexpected attribute {name} = {got[name][:100]}")
        assert not problems, f"proc {i}:\n  " + "\n  ".join(problems)

    if factory:
        digest = factory[0]["digest"].replace("@SUBMITDIR@", scratch_root)
        comment = [ln[2:] if ln.startswith("# ") else ln[1:] for ln in r.stdout.splitlines() if ln.startswith("#")]
        assert comment[0].startswith(f"Submit digest (late materialization of {factory[0]['num']} jobs")
        assert "\n".join(comment[1:]) + "\n" == digest


@pytest.mark.parametrize("case", _case_ids("error"))
def test_dry_run_error_cases(case, tmp_path, shared_dir):
    work, info = _setup(case, tmp_path)
    r = _run(work, info["submit_file"])
    assert r.returncode == 1
    assert r.stdout == ""
    phrase = next(v for k, v in ERROR_PHRASES.items() if case.endswith(k))
    assert phrase in r.stderr
    # the message names the file and line
    assert re.search(re.escape(info["submit_file"]) + r":\d+: ", r.stderr) or "-queue" in r.stderr


ORACLE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "LC_CTYPE": "C.UTF-8"}


@pytest.mark.parametrize("case", _case_ids("ok"))
def test_bindings_cluster_and_proc_ads(case, tmp_path, monkeypatch, shared_dir):
    """pyhtc.submit.Submit(text).cluster() gives the very cluster ad / proc ads / digest the
    real bindings sent (JobSubmitMethod 2, only the first queue statement)."""
    from pyhtc.submit import Submit

    work, info = _setup(case, tmp_path)
    monkeypatch.chdir(work)
    for k in list(os.environ):
        monkeypatch.delenv(k)
    for k, v in ORACLE_ENV.items():
        monkeypatch.setenv(k, v)
    expected_file = next(p for p in (CASES_DIR / case).iterdir() if p.name.endswith(".expected.jsonl"))
    rows = [json.loads(line) for line in expected_file.read_text().splitlines() if line.strip()]
    text = (CASES_DIR / case / info["submit_file"]).read_text()
    choices = _choices(text)
    qdate = int(next(r for r in rows if r["kind"] == "cluster")["attrs"]["QDate"])
    res = Submit(text).cluster(qdate=qdate, cwd=work)

    def fix(ad):
        out = {}
        for k, v in ad.items():
            if k in IGNORED:
                continue
            v = v.replace("@SUBMITDIR@", str(tmp_path))
            if k == "FileSystemDomain":
                v = f'"{filesystem_domain()}"'
            out[k] = v
        return out

    def same(want, got):
        if want == got:
            return True
        if not choices or set(want) != set(got):
            return False
        for k in want:  # a $RANDOM_CHOICE draw may differ
            a, b = want[k].split(" "), got[k].split(" ")
            if len(a) != len(b) or not all(x == y or (x.strip('"') in choices and y.strip('"') in choices)
                                           for x, y in zip(a, b)):
                return False
        return True

    cluster = fix(_size_fixups(next(r for r in rows if r["kind"] == "cluster")["attrs"]))
    assert same(cluster, fix(res.cluster_ad)), sorted(set(cluster.items()) ^ set(fix(res.cluster_ad).items()))
    procs = [fix(r["attrs"]) for r in rows if r["kind"] == "proc"]
    assert [p for p in procs] == [fix(p) for p in res.proc_ads]
    factory = [r for r in rows if r["kind"] == "factory"]
    if factory:
        assert res.factory["num"] == factory[0]["num"]
        assert res.factory["digest"] == factory[0]["digest"].replace("@SUBMITDIR@", str(tmp_path))
    else:
        assert res.factory is None
