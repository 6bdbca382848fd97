"""The REAL ``htcondor2.personal.PersonalPool`` drives our daemons and tools.

PersonalPool writes its own condor_config, runs ``condor_master -f`` from PATH, waits with
``condor_who -wait:10 'IsReady && STARTD_State =?= "Ready"'`` (parsing the output as a
ClassAd and requiring every DAEMON_LIST entry to be "Alive"), reads ``condor_who -quick``
and stops the pool with ``condor_off -daemon master``.  PATH points at our console scripts,
so every one of those programs is pyhtc's.  The scenario runs in its own interpreter (the
real bindings keep process-global configuration).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent

SCENARIO = textwrap.dedent(r'''
    import json, os, sys, time
    from pathlib import Path
    import htcondor2 as htcondor
    from htcondor2.personal import PersonalPool, PersonalPoolState

    local_dir, config, run_job = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "run"
    iwd = Path(sys.argv[4])
    out = {}
    t0 = time.monotonic()
    with PersonalPool(local_dir=local_dir, config=config) as pool:
        out["up_seconds"] = time.monotonic() - t0
        out["state_up"] = str(pool.state.value)
        who = pool.who()
        out["who"] = {k: who.eval(k) for k in who.keys()}
        out["daemon_list"] = pool.get_config_val("DAEMON_LIST")
        deadline = time.monotonic() + 20
        while True:
            slots = pool.collector.query(htcondor.AdType.Startd,
                                         projection=["Name", "PartitionableSlot"])
            if slots or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        out["slots"] = [[s.get("Name"), s.get("PartitionableSlot")] for s in slots]
        schedd = pool.schedd
        out["queue_before"] = len(schedd.query(projection=["ClusterId"]))
        sub = htcondor.Submit({"executable": "/bin/echo", "arguments": "hello",
                               "output": "out.txt", "log": "job.log",
                               "initialdir": str(iwd)})
        result = schedd.submit(sub)
        out["cluster"] = result.cluster()
        ads = schedd.query(constraint=f"ClusterId == {result.cluster()}",
                           projection=["ClusterId", "ProcId", "Owner", "Cmd", "JobStatus"])
        out["queued"] = [[a.get("ClusterId"), a.get("ProcId"), a.get("Cmd")] for a in ads]
        if run_job:
            deadline = time.monotonic() + 45
            while (schedd.query(constraint=f"ClusterId == {result.cluster()}",
                                projection=["JobStatus"]) and time.monotonic() < deadline):
                time.sleep(0.5)
            out["history"] = [[a.get("JobStatus"), a.get("ExitCode")] for a in schedd.history(
                constraint=f"ClusterId == {result.cluster()}", projection=["JobStatus", "ExitCode"])]
            out["stdout"] = (iwd / "out.txt").read_text() if (iwd / "out.txt").exists() else None
            events = [e.type for e in htcondor.JobEventLog(str(iwd / "job.log")).events(0)]
            out["events"] = [str(t.name) for t in events]
        out["master_pid"] = pool._master_pid()
        out["pids"] = pool._daemon_pids()
    out["state_down"] = str(pool.state.value)
    out["who_after"] = len(pool.who())
    print("RESULT " + json.dumps(out))
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _path_with_our_tools(tmp_path: Path) -> str:
    """PATH with our console scripts first; condor_who is reached through a shim until its
    console script is installed (pyproject entry point condor_who = pyhtc.tools.who:main)."""
    dirs = [str(BIN)]
    if not (BIN / "condor_who").exists():
        shim = tmp_path / "shim"
        shim.mkdir()
        (shim / "condor_who").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m pyhtc.tools.who "$@"\n')
        (shim / "condor_who").chmod(0o755)
        dirs.insert(0, str(shim))
    return os.pathsep.join(dirs + [os.environ.get("PATH", "")])


def _run_scenario(tmp_path: Path, mode: str) -> dict:
    port = _free_port()
    # PersonalPool copies RELEASE_DIR/BIN/SBIN/LIBEXEC from the wheel's own param table
    # (/usr/...), so the daemons' directory is given as config, as a user of a non-standard
    # installation would.  The loopback interface, a fixed collector port and the
    # ALLOW_ADVERTISE_* levels are given too (see the report: pyhtc daemons do not yet
    # resolve COLLECTOR_HOST port 0 through COLLECTOR_ADDRESS_FILE, nor default
    # ALLOW_ADVERTISE_<DAEMON> to ALLOW_ADVERTISE).
    config = {"SBIN": str(BIN), "BIN": str(BIN), "LIBEXEC": str(BIN),
              "NETWORK_INTERFACE": "127.0.0.1",
              "COLLECTOR_HOST": f"127.0.0.1:{port}", "COLLECTOR_PORT": str(port),
              "ALLOW_ADVERTISE_STARTD": "$(ALLOW_ADVERTISE)",
              "ALLOW_ADVERTISE_SCHEDD": "$(ALLOW_ADVERTISE)",
              "ALLOW_ADVERTISE_MASTER": "$(ALLOW_ADVERTISE)"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("_CONDOR_") and k != "CONDOR_CONFIG"}
    env["PATH"] = _path_with_our_tools(tmp_path)
    local_dir = tmp_path / "personal"
    # the job's directory: a starter running as root runs root's jobs as "nobody", which
    # must be able to write there (pytest's tmp_path is private to root)
    iwd = Path(tempfile.mkdtemp(prefix="pyhtc-personal-"))
    os.chmod(iwd, 0o777)
    try:
        r = subprocess.run([sys.executable, "-c", SCENARIO, str(local_dir), json.dumps(config),
                            mode, str(iwd)], env=env, capture_output=True, text=True, timeout=100)
    finally:
        shutil.rmtree(iwd, ignore_errors=True)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}"
                     for p in sorted((local_dir / "log").glob("*Log")))
    assert r.returncode == 0 and line, r.stderr[-3000:] + logs
    return json.loads(line[len("RESULT "):])


def test_real_personal_pool_starts_queries_submits_and_stops(tmp_path):
    out = _run_scenario(tmp_path, "submit")

    assert out["state_up"] == "READY" and out["state_down"] == "STOPPED"
    assert out["up_seconds"] < 60
    daemons = out["daemon_list"].split()
    assert set(daemons) == {"MASTER", "COLLECTOR", "NEGOTIATOR", "STARTD", "SCHEDD"}
    who = out["who"]
    assert who["IsReady"] is True and who["STARTD_State"] == "Ready"
    assert all(who[d] == "Alive" for d in daemons)
    assert who["MASTER_PID"] == out["master_pid"]
    assert [name for name, p in out["slots"] if p] and out["slots"][0][0].startswith("slot1@")
    assert out["queue_before"] == 0
    assert out["queued"] == [[out["cluster"], 0, "/bin/echo"]]
    # stop() waited for the master; every daemon it reported is gone as well
    assert out["who_after"] == 0
    live = [p for p in out["pids"] if psutil.pid_exists(p)
            and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not live


def test_real_personal_pool_runs_a_job_to_completion(tmp_path):
    """Through PersonalPool's schedd: matched, claimed, run, written to history and the
    user log (needs the schedd/negotiator/shadow path of tests/pool/test_run_jobs.py)."""
    out = _run_scenario(tmp_path, "run")
    assert out["history"] == [[4, 0]]
    assert out["stdout"] == "hello\n"
    assert out["events"][0] == "SUBMIT" and out["events"][-1] == "JOB_TERMINATED"
    assert "EXECUTE" in out["events"]
    assert out["state_down"] == "STOPPED" and out["who_after"] == 0
