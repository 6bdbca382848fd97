"""The job's +PreCmd / +PostCmd around it (starter.cpp SpawnJobOrPreScript, script_proc.cpp),
run through condor_starter's real command line on real ad files and real processes."""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from pyhtc import classad as C
from pyhtc.daemoncore.adfile import read_ad, write_ad

SCRIPT = ('#!/bin/sh\n{{ printf "{label}:"; for a in "$@"; do printf " <%s>" "$a"; done; '
          'printf " X=%s S=%s J=%s" "$X" "${{_CONDOR_SCRATCH_DIR:+set}}" "$JOBVAR"; echo; }} '
          '>> {out}\nexit {code}\n')


def _script(path: pathlib.Path, label: str, out: pathlib.Path, code: int = 0) -> str:
    path.write_text(SCRIPT.format(label=label, out=out, code=code))
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def tmp_path():
    """A directory the job's account (nobody, when we are root) can reach."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-starter-scripts-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_starter(tmp_path, job_attrs, allow="True"):
    execute = tmp_path / "execute"
    execute.mkdir(exist_ok=True)
    execute.chmod(0o755)
    iwd = tmp_path / "iwd"
    iwd.mkdir(exist_ok=True)
    iwd.chmod(0o777)
    cfg = tmp_path / "condor_config"
    cfg.write_text(f"LOG = {tmp_path}\nEXECUTE = {execute}\nUID_DOMAIN = test\n"
                   + (f"STARTER_ALLOW_JOB_PRE_AND_POST_CMD = {allow}\n" if allow else ""))
    job = C.ClassAd({"MyType": "Job", "Owner": "nobody", "User": "nobody@test", "Iwd": str(iwd),
                     "ShouldTransferFiles": "NO", "JobUniverse": 5, "Environment": "JOBVAR=j"})
    job.update(job_attrs)
    machine = C.ClassAd({"MyType": "Machine", "Cpus": 1, "Memory": 256, "UidDomain": "test"})
    jf, mf = tmp_path / "job.ad", tmp_path / "machine.ad"
    write_ad(str(jf), job)
    write_ad(str(mf), machine)
    env = dict(os.environ, CONDOR_CONFIG=str(cfg))
    r = subprocess.run([sys.executable, "-m", "pyhtc.daemons.starter.main", "-f", "-t", "-a", "slot1",
                        "-job-ad", str(jf), "-machine-ad", str(mf), "-execute", str(execute)],
                       env=env, capture_output=True, text=True, timeout=60)
    results = list(execute.glob("dir_*.result.ad"))
    assert len(results) == 1, r.stderr
    return read_ad(str(results[0])), r.stderr, iwd


def test_pre_job_post_in_order_with_their_own_args_and_env(tmp_path):
    d = tmp_path / "iwd"
    d.mkdir()
    out = d / "out2"
    res, log, iwd = run_starter(tmp_path, {
        "Cmd": _script(d / "job.sh", "Job", out), "Arguments": "job\"a1 'job a2'",
        "PreCmd": _script(d / "pre.sh", "Pre", out), "PreArgs": "pre\"a1 pre'a2",
        "PreEnvironment": "X=pre",
        "PostCmd": _script(d / "post.sh", "Post", out), "PostArguments": "post\"a1 'post''a 2'",
        "PostEnv": "X=post",
    })
    assert res["Outcome"] == "Exited" and res["ExitCode"] == 0, log
    assert out.read_text() == (
        "Pre: <pre\"a1> <pre'a2> X=pre S=set J=\n"
        "Job: <job\"a1> <job a2> X= S=set J=j\n"
        "Post: <post\"a1> <post'a 2> X=post S=set J=\n")
    assert "About to exec Pre script" in log and "About to exec Post script" in log


def test_not_allowed_by_default(tmp_path):
    d = tmp_path / "iwd"
    d.mkdir()
    out = d / "out2"
    res, log, _ = run_starter(tmp_path, {"Cmd": _script(d / "job.sh", "Job", out),
                                         "PreCmd": _script(d / "pre.sh", "Pre", out)}, allow=None)
    assert res["Outcome"] == "Exited"
    assert out.read_text().startswith("Job:") and "Pre:" not in out.read_text()
    assert "PreCmd and PostCmd will be ignored" in log


@pytest.mark.parametrize("which, code", [("Pre", 43), ("Post", 44)])
def test_failing_script_holds_the_job(tmp_path, which, code):
    d = tmp_path / "iwd"
    d.mkdir()
    out = d / "out2"
    attrs = {"Cmd": _script(d / "job.sh", "Job", out),
             f"{which}Cmd": _script(d / "s.sh", which, out, code=3),
             f"Success{which}ExitCode": 0}
    res, log, _ = run_starter(tmp_path, attrs)
    assert res["Outcome"] == "Held", log
    assert (res["HoldReasonCode"], res["HoldReasonSubCode"]) == (code, 0)
    assert res["HoldReason"] == f"{which} script failed."
    ran = out.read_text()
    assert ("Job:" in ran) == (which == "Post")     # a failed pre command: the job never runs


def test_script_exit_status_ignored_without_success_code(tmp_path):
    d = tmp_path / "iwd"
    d.mkdir()
    out = d / "out2"
    res, log, _ = run_starter(tmp_path, {"Cmd": _script(d / "job.sh", "Job", out),
                                         "PreCmd": _script(d / "pre.sh", "Pre", out, code=3)})
    assert res["Outcome"] == "Exited" and "Job:" in out.read_text()


def test_self_checkpointing_job_restarts_in_its_sandbox(tmp_path):
    """checkpoint_exit_code (SuccessCheckpointExitCode + WantFTOnCheckpoint): on that exit
    the job runs again in the same sandbox, its output appended; its final exit ends it."""
    d = tmp_path / "iwd"
    d.mkdir()
    job = d / "ckpt.sh"
    job.write_text("#!/bin/sh\nn=$(cat count 2>/dev/null || echo 0)\nn=$((n + 1))\n"
                   "echo $n > count\necho run $n\n[ $n -lt 3 ] && exit 85\nexit 0\n")
    job.chmod(0o755)
    res, log, iwd = run_starter(tmp_path, {"Cmd": str(job), "Out": str(d / "out"),
                                           "SuccessCheckpointExitCode": 85,
                                           "WantFTOnCheckpoint": True})
    assert res["Outcome"] == "Exited" and res["ExitCode"] == 0, log
    assert (d / "out").read_text() == "run 1\nrun 2\nrun 3\n"
    assert log.count("restarting it in the same sandbox") == 2


def test_checkpoint_exit_code_without_want_ft_ends_the_job(tmp_path):
    d = tmp_path / "iwd"
    d.mkdir()
    job = d / "ckpt.sh"
    job.write_text("#!/bin/sh\necho once\nexit 85\n")
    job.chmod(0o755)
    res, log, _ = run_starter(tmp_path, {"Cmd": str(job), "Out": str(d / "out"),
                                         "SuccessCheckpointExitCode": 85})
    assert res["Outcome"] == "Exited" and res["ExitCode"] == 85
    assert (d / "out").read_text() == "once\n"
