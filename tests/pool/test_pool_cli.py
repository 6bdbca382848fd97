"""``pyhtc pool up|status|down|run`` and ``condor_who`` against a real personal pool.

Every daemon is a real process on loopback; the tools run as subprocesses with
CONDOR_CONFIG pointing at the pool's own config (as a user would after ``pool up``).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

BIN = Path(sys.executable).parent
DAEMONS = ("COLLECTOR", "NEGOTIATOR", "SCHEDD", "STARTD")


def _env(pool_dir: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    if pool_dir is not None:
        env["CONDOR_CONFIG"] = str(pool_dir / "condor_config")
    return env


def pyhtc(*args, timeout=90, pool_dir=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyhtc.cli", *args], env=_env(pool_dir),
                          capture_output=True, text=True, timeout=timeout)


def who(pool_dir: Path, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.who", *args], env=_env(pool_dir),
                          capture_output=True, text=True, timeout=timeout)


def tool(pool_dir: Path, name: str, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / name), *args], env=_env(pool_dir), capture_output=True,
                          text=True, timeout=timeout)


def parse_who(text: str) -> dict:
    """``Attr = value`` lines -> dict of Python values (strings unquoted)."""
    out = {}
    for line in text.strip().splitlines():
        k, _, v = line.partition(" = ")
        v = v.strip()
        if v.startswith('"'):
            out[k] = v.strip('"')
        elif v in ("true", "false"):
            out[k] = v == "true"
        else:
            out[k] = int(v) if v.lstrip("-").isdigit() else v
    return out


def _pool_processes(pool_dir: Path) -> list:
    """Live processes whose environment or command line names this pool's config."""
    cfg = str(pool_dir / "condor_config")
    found = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if p.pid == os.getpid():
                continue
            env = p.environ()
            if env.get("CONDOR_CONFIG") == cfg and "condor_" in " ".join(p.info["cmdline"] or []):
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    d = tmp_path_factory.mktemp("pool")
    t0 = time.monotonic()
    r = pyhtc("pool", "up", "--dir", str(d))
    up_seconds = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    yield d, r, up_seconds
    pyhtc("pool", "down", "--dir", str(d))


def test_up_starts_every_daemon_and_prints_where_things_are(pool):
    d, r, up_seconds = pool
    assert f"export CONDOR_CONFIG={d / 'condor_config'}" in r.stdout
    assert str(d / "log") in r.stdout
    assert up_seconds < 30
    text = (d / "condor_config").read_text()
    for line in ("use ROLE: Personal", "use FEATURE: PartitionableSlot",
                 "NETWORK_INTERFACE = 127.0.0.1", "SEC_DEFAULT_AUTHENTICATION_METHODS = FS",
                 "SEC_DEFAULT_CRYPTO_METHODS = AES", "NEGOTIATOR_CYCLE_DELAY = 0",
                 "NEGOTIATOR_MIN_INTERVAL = 1", f"LOCAL_DIR = {d}"):
        assert line in text
    ad = parse_who(who(d, "-quick").stdout)
    assert ad["MASTER"] == "Alive" and ad["IsReady"] is True
    for daemon in DAEMONS:
        assert ad[daemon] == "Alive" and ad[f"{daemon}_State"] == "Ready"
        assert psutil.pid_exists(ad[f"{daemon}_PID"])
        assert psutil.Process(ad[f"{daemon}_PID"]).ppid() == ad["MASTER_PID"]


def test_up_again_is_idempotent(pool):
    d, _, _ = pool
    before = parse_who(who(d, "-quick").stdout)
    r = pyhtc("pool", "up", "--dir", str(d))
    assert r.returncode == 0 and "already running" in r.stdout
    after = parse_who(who(d, "-quick").stdout)
    assert after["MASTER_PID"] == before["MASTER_PID"]


def test_run_in_a_running_pool_leaves_it_running(pool):
    d, _, _ = pool
    before = parse_who(who(d, "-quick").stdout)
    r = pyhtc("pool", "run", "--dir", str(d), "--", sys.executable, "-c", "raise SystemExit(3)")
    assert r.returncode == 3 and "already running" in r.stdout
    assert parse_who(who(d, "-quick").stdout)["MASTER_PID"] == before["MASTER_PID"]


def test_condor_status_shows_the_partitionable_slot(pool):
    d, _, _ = pool
    deadline = time.monotonic() + 20
    while True:
        r = tool(d, "condor_status", "-af", "Name", "PartitionableSlot", "Cpus")
        if r.returncode == 0 and r.stdout.strip():
            break
        assert time.monotonic() < deadline, r.stderr
        time.sleep(0.5)
    name, partitionable, cpus = r.stdout.split()[:3]
    assert name.startswith("slot1@") and partitionable == "true" and int(cpus) >= 1


def test_condor_q_talks_to_the_schedd(pool):
    d, _, _ = pool
    r = tool(d, "condor_q")
    assert r.returncode == 0, r.stderr
    assert "Total for query: 0 jobs" in r.stdout


def test_pool_status_lists_daemons_slots_and_jobs(pool):
    d, _, _ = pool
    deadline = time.monotonic() + 20
    while True:
        r = pyhtc("pool", "status", "--dir", str(d))
        assert r.returncode == 0, r.stderr
        if "Slots: 1" in r.stdout:
            break
        assert time.monotonic() < deadline, r.stdout
        time.sleep(0.5)
    ad = parse_who(who(d, "-quick").stdout)
    for daemon in ("MASTER",) + DAEMONS:
        assert any(line.split()[:2] == [daemon, str(ad[f"{daemon}_PID"])]
                   for line in r.stdout.splitlines()), r.stdout
    assert "partitionable" in r.stdout and "Jobs: 0" in r.stdout


def test_condor_who_wait_and_daemons_table(pool):
    d, _, _ = pool
    t0 = time.monotonic()
    r = who(d, "-wait:10", 'IsReady && STARTD_State =?= "Ready"')
    assert r.returncode == 0 and time.monotonic() - t0 < 8
    assert parse_who(r.stdout)["STARTD_State"] == "Ready"
    # an expression that never holds: the ad is printed when the time is up
    t0 = time.monotonic()
    r = who(d, "-wait:2", "NumDaemons == 99")
    assert r.returncode == 0 and 1.5 <= time.monotonic() - t0 < 10
    assert parse_who(r.stdout)["NumDaemons"] == 5
    r = who(d, "-daemons")
    assert f'LOG directory "{d / "log"}"' in r.stdout
    lines = r.stdout.splitlines()
    assert lines[lines.index(next(x for x in lines if x.startswith("Daemon"))) + 1].startswith("------")
    body = lines[next(i for i, x in enumerate(lines) if x.startswith("------")) + 1:]
    rows = {line.split()[0]: line.split() for line in body if line.strip()}
    assert set(rows) >= {"Master", "Collector", "Negotiator", "Schedd", "Startd"}
    assert all(row[1] == "yes" for row in rows.values())


def test_condor_who_rejects_bad_arguments(tmp_path):
    r = who(tmp_path, "-wait:5")
    assert r.returncode == 1 and "requires a requirements expression" in r.stderr
    r = who(tmp_path, "-wait:x", "true")
    assert r.returncode == 1 and "-wait:x" in r.stderr
    r = who(tmp_path, "-wait:5", "IsReady &&")
    assert r.returncode == 1 and "invalid expression" in r.stderr


def test_down_leaves_no_process_behind(tmp_path):
    d = tmp_path / "p"
    assert pyhtc("pool", "up", "--dir", str(d)).returncode == 0
    ad = parse_who(who(d, "-quick").stdout)
    pids = [v for k, v in ad.items() if k.endswith("_PID")]
    assert len(pids) == 5
    t0 = time.monotonic()
    r = pyhtc("pool", "down", "--dir", str(d))
    assert r.returncode == 0 and "Stopped" in r.stdout
    assert time.monotonic() - t0 < 30

    def alive(pid):
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    assert not [p for p in pids if alive(p)]
    assert not _pool_processes(d)
    out = who(d, "-quick").stdout
    assert "Exited with code=" in out and "MASTER" not in out
    assert "No pool is running" in pyhtc("pool", "down", "--dir", str(d)).stdout
    assert pyhtc("pool", "status", "--dir", str(d)).returncode == 1


def test_run_brackets_a_command_with_up_and_down(tmp_path):
    d = tmp_path / "r"
    r = pyhtc("pool", "run", "--dir", str(d), "--", sys.executable, "-c",
              "import os, subprocess, sys; print('CFG', os.environ['CONDOR_CONFIG']);"
              f"sys.exit(subprocess.call([{str(BIN / 'condor_q')!r}]))")
    assert r.returncode == 0, r.stderr
    assert f"CFG {d / 'condor_config'}" in r.stdout
    assert "Total for query: 0 jobs" in r.stdout
    assert not _pool_processes(d)


def test_up_timeout_names_the_daemon_and_its_log(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    # a SCHEDD that exits at once never becomes ready
    (d / "condor_config.local").write_text("SCHEDD = /bin/false\n")
    r = pyhtc("pool", "up", "--dir", str(d), "--timeout", "6")
    assert r.returncode == 1
    assert "SCHEDD is not ready" in r.stderr and "SchedLog" in r.stderr
    assert not _pool_processes(d)


def test_who_ready_ad_shapes(tmp_path):
    """A reply in condor_master's InitDaemonReadyAd shape is kept as is; a compact reply
    (``<D> = "<ready state>"``) gets MASTER, <D>_State, <D>_PID from the daemon's log."""
    from pyhtc import classad as C
    from pyhtc.config import Config
    from pyhtc.tools import who as W

    log = tmp_path / "SchedLog"
    log.write_text(f"11/22/26 02:00:00 ** PID = {os.getpid()}\n"
                   "11/22/26 02:00:00 DaemonCore: command socket at <127.0.0.1:4242>\n")
    (tmp_path / "condor_config").write_text(
        f"LOG = {tmp_path}\nSCHEDD_LOG = $(LOG)/SchedLog\nSCHEDD_ADDRESS_FILE = $(LOG)/.none\n")
    cfg = Config.load(root_config=str(tmp_path / "condor_config"), read_user_config=False)
    full = C.ClassAd({"MASTER": "Alive", "MASTER_PID": 7, "SCHEDD": "Startup", "IsReady": False})
    assert W.ready_ad(full, cfg, None, None) is full
    master = W.LogInfo("Master", tmp_path / "MasterLog", 7, None, "<127.0.0.1:1>")
    compact = C.ClassAd({"SCHEDD": "Ready", "NEGOTIATOR": "Down", "NumDaemons": 2,
                         "NumAlive": 1, "IsReady": False})
    ad = W.ready_ad(compact, cfg, master, "<127.0.0.1:1>")
    assert ad["MASTER"] == "Alive" and ad["MASTER_PID"] == 7
    assert ad["SCHEDD"] == "Alive" and ad["SCHEDD_State"] == "Ready"
    assert ad["SCHEDD_PID"] == os.getpid() and ad["SCHEDD_Addr"] == "<127.0.0.1:4242>"
    assert ad["NEGOTIATOR"] == "Dead" and ad["NEGOTIATOR_PID"] == 0
    assert ad["NumDaemons"] == 3 and ad["NumAlive"] == 2 and ad["NumDead"] == 1
    assert ad["IsReady"] is False
    text = W.format_ad(ad)
    assert text.splitlines()[0].startswith("IsReady = false")
    assert 'SCHEDD_State = "Ready"' in text
