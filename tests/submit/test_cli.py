"""condor_submit (python -m pyhtc.tools.submit) options, run as real subprocesses."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.submit.test_real_cases import parse_dry_run

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}


def run(cwd, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.submit", *args], cwd=cwd, env=ENV,
                          input=stdin, capture_output=True, text=True, timeout=60)


BASIC = "executable = /bin/echo\narguments = $(x) $(Item)\nbatch_name = from_file\n"


def test_dry_run_to_file_and_summary(tmp_path):
    (tmp_path / "job.sub").write_text(BASIC + "queue 3\n")
    r = run(tmp_path, "-dry-run", "ads.txt", "job.sub")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "3 job(s) dry-run to cluster 1."
    ads = parse_dry_run((tmp_path / "ads.txt").read_text())
    assert [a["ProcId"] for a in ads] == ["0", "1", "2"]
    assert all(a["ClusterId"] == "1" and a["JobSubmitMethod"] == "0" for a in ads)
    assert all(a["JobBatchName"] == '"from_file"' for a in ads)


def test_terse(tmp_path):
    (tmp_path / "job.sub").write_text(BASIC + "queue 4\n")
    r = run(tmp_path, "-terse", "-dry-run", "ads.txt", "job.sub")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1.0 - 1.3\n"


def test_command_line_macros_append_batch_name_queue(tmp_path):
    (tmp_path / "job.sub").write_text(BASIC)
    r = run(tmp_path, "-dry-run", "-", "job.sub", "x=5", "-batch-name", "B",
            "-append", "output = o.$(Process)", "-queue", "2", "in", "a", "b")
    assert r.returncode == 0, r.stderr
    ads = parse_dry_run(r.stdout)
    assert [a["Args"] for a in ads] == ['"5 a"', '"5 a"', '"5 b"', '"5 b"']
    assert [a["Out"] for a in ads] == ['"o.0"', '"o.1"', '"o.2"', '"o.3"']
    assert {a["JobBatchName"] for a in ads} == {'"B"'}


def test_file_value_beats_command_line_macro(tmp_path):
    # name=value is parsed as if it were at the top of the file
    (tmp_path / "job.sub").write_text("executable = /bin/echo\nx = infile\narguments = $(x)\nqueue\n")
    r = run(tmp_path, "-dry-run", "-", "job.sub", "x=cmdline")
    assert parse_dry_run(r.stdout)[0]["Args"] == '"infile"'


def test_append_queue_becomes_dash_queue(tmp_path):
    (tmp_path / "job.sub").write_text("executable = /bin/echo\narguments = $(Item)\n")
    r = run(tmp_path, "-dry-run", "-", "-append", "queue Item in (p, q, r)", "job.sub")
    assert [a["Args"] for a in parse_dry_run(r.stdout)] == ['"p"', '"q"', '"r"']


def test_queue_option_conflicts_with_file_queue(tmp_path):
    (tmp_path / "job.sub").write_text(BASIC + "queue\n")
    r = run(tmp_path, "-dry-run", "-", "job.sub", "-queue", "3")
    assert r.returncode == 1
    assert "-queue argument conflicts with queue statement" in r.stderr


def test_stdin_and_dash(tmp_path):
    text = "executable = /bin/echo\nqueue 2\n"
    for args in ((), ("-",)):
        r = run(tmp_path, "-dry-run", "-", *args, stdin=text)
        assert r.returncode == 0, r.stderr
        assert len(parse_dry_run(r.stdout)) == 2


def test_several_queue_statements_make_one_cluster(tmp_path):
    (tmp_path / "job.sub").write_text("executable = /bin/echo\narguments = 1\nqueue\narguments = 2\nqueue 2\n")
    r = run(tmp_path, "-dry-run", "-", "job.sub")
    ads = parse_dry_run(r.stdout)
    assert [(a["ProcId"], a["Args"]) for a in ads] == [("0", '"1"'), ("1", '"2"'), ("2", '"2"')]


def test_no_queue_statement_is_one_job(tmp_path):
    (tmp_path / "job.sub").write_text("executable = /bin/echo\n")
    assert len(parse_dry_run(run(tmp_path, "-dry-run", "-", "job.sub").stdout)) == 1


def test_error_names_file_and_line(tmp_path):
    (tmp_path / "bad.sub").write_text("executable = /bin/echo\n\nnot a command\nqueue\n")
    r = run(tmp_path, "-dry-run", "-", "bad.sub")
    assert r.returncode == 1
    assert r.stderr.startswith("ERROR: bad.sub:3: ")


def test_missing_initialdir_and_bad_universe(tmp_path):
    (tmp_path / "a.sub").write_text("executable = /bin/echo\ninitialdir = nowhere\nqueue\n")
    r = run(tmp_path, "-dry-run", "-", "a.sub")
    assert r.returncode == 1 and f"No such directory: {tmp_path}/nowhere" in r.stderr
    (tmp_path / "b.sub").write_text("universe = bogus\nexecutable = /bin/echo\nqueue\n")
    r = run(tmp_path, "-dry-run", "-", "b.sub")
    assert r.returncode == 1 and "I don't know about the 'bogus' universe." in r.stderr


def test_missing_file_and_unknown_option(tmp_path):
    r = run(tmp_path, "-dry-run", "-", "nope.sub")
    assert r.returncode == 1 and "nope.sub" in r.stderr
    r = run(tmp_path, "-frobnicate", "x.sub")
    assert r.returncode == 1 and "unknown option" in r.stderr


def test_late_materialization_writes_cluster_ad_and_digest(tmp_path):
    (tmp_path / "job.sub").write_text("executable = /bin/echo\narguments = in.$(Process)\nmax_idle = 10\n"
                                      "queue 1000\n")
    r = run(tmp_path, "-dry-run", "-", "job.sub")
    assert r.returncode == 0, r.stderr
    ads = parse_dry_run(r.stdout)
    assert len(ads) == 1 and ads[0]["JobMaterializeMaxIdle"] == "10" and "ProcId" not in ads[0]
    lines = [ln[2:] for ln in r.stdout.splitlines() if ln.startswith("# ")]
    assert lines[0] == "Submit digest (late materialization of 1000 jobs, at most 1000 at a time):"
    digest = lines[1:]
    assert digest[0] == "FACTORY.Requirements=MY.Requirements"
    assert "arguments=in.$(Process)" in digest
    assert f"FACTORY.Iwd={tmp_path}" in digest
    assert digest[-1] == "Queue 1000 "
    (tmp_path / "m.sub").write_text("executable = /bin/echo\narguments = $(x)\nmax_materialize = 2\n"
                                    "queue x in (a b c)\n")
    r = run(tmp_path, "-dry-run", "-", "m.sub")
    lines = [ln[2:] for ln in r.stdout.splitlines() if ln.startswith("# ")]
    assert lines[0] == "Submit digest (late materialization of 3 jobs, at most 2 at a time):"
    assert "arguments=$(x)" in lines and "Queue 1 x from <" in lines
    assert lines[-3:] == ["  a", "  b", "  c"]


def test_hold_and_getenv(tmp_path):
    (tmp_path / "job.sub").write_text("executable = /bin/echo\nhold = true\ngetenv = true\n"
                                      "environment = \"A=1 B='x y'\"\nqueue\n")
    ad = parse_dry_run(run(tmp_path, "-dry-run", "-", "job.sub").stdout)[0]
    assert ad["JobStatus"] == "5" and ad["HoldReasonCode"] == "15"
    assert ad["HoldReason"] == '"submitted on hold at user\'s request"'
    env = ad["Environment"]
    assert env.startswith('"A=1 B=x\' \'y CONDOR_CONFIG=/dev/null HOME=/tmp ')
    assert "PATH=/usr/bin:/bin" in env
    assert os.environ.get("PYHTC_NOT_THERE") is None
