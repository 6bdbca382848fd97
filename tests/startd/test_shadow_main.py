"""condor_shadow's command line and its fork-server warm-up (shadow/main.py parse_args,
fork_server_warmup)."""
import os
import subprocess
import sys

import pytest

from pyhtc.daemoncore import exitcodes as X
from pyhtc.daemons.shadow.main import ShadowArgs, UsageError, main, parse_args

FULL = ["3.1", "-f", "-job-ad", "/j", "-claim-file", "/c", "-startd", "<127.0.0.1:9>",
        "-report", "/r", "-slot", "slot1_2@h", "-pid-file", "/p"]


def test_parse_args_flags_and_forms():
    assert parse_args(FULL) == ShadowArgs(job_id="3.1", job_ad="/j", claim_file="/c",
                                          startd="<127.0.0.1:9>", report="/r",
                                          slot="slot1_2@h", pid_file="/p", f=True)
    ns = parse_args(["-job-ad=/j", "-claim-file", "/c", "-startd=<h:1>", "-report", "/r", "7.0"])
    assert (ns.job_id, ns.job_ad, ns.startd, ns.slot, ns.pid_file, ns.f) == \
        ("7.0", "/j", "<h:1>", "", "", False)


@pytest.mark.parametrize("argv, message", [
    (FULL[:2] + FULL[4:], "required: -job-ad"),
    (FULL[1:], "required: JOB_ID"),
    (FULL + ["-bogus"], "unrecognized argument: -bogus"),
    (FULL + ["9.9"], "unrecognized argument: 9.9"),
    (FULL[:-1], "argument -pid-file: expected one argument"),
    (["3.1", "-job", "/j", "-claim-file", "/c", "-startd", "s", "-report", "/r"],
     "unrecognized argument: -job"),          # no abbreviations
])
def test_parse_args_usage_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_usage_error_exit_code(capsys):
    assert main(["-nonsense"]) == X.JOB_SHADOW_USAGE
    assert "usage: condor_shadow" in capsys.readouterr().err


def test_fork_server_warmup_runs_offline_and_warms_config(tmp_path):
    """The warm-up works in a clean process with only environment configuration, writes
    nothing outside its temporary directory, and leaves the configuration memoized so the
    load main() makes afterwards is much cheaper than a cold one."""
    code = r"""
import os, sys, time
from pyhtc.daemons.shadow import main as m
t0 = time.perf_counter(); m.fork_server_warmup(); warm = time.perf_counter() - t0
t0 = time.perf_counter(); m._load_config(dict(os.environ)); again = time.perf_counter() - t0
print(warm, again)
"""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CONDOR_CONFIG": "ONLY_ENV",
           "_CONDOR_LOG": str(tmp_path), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    before = set(os.listdir(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    warm, again = (float(x) for x in out.stdout.split())
    assert set(os.listdir(tmp_path)) == before, "the warm-up left files behind"
    assert again < warm
