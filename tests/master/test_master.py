"""condor_master over pyhtc.proxy: real master, collector and test-daemon processes."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from daemon_helpers import run_client
from master_helpers import alive, start_master


@pytest.fixture
def master(tmp_path):
    m = start_master(tmp_path)
    yield m
    m.close()


def ctl(tool: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    """Run one of condor_on/off/restart/reconfig as ``python -m pyhtc.tools.daemon_ctl``."""
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.daemon_ctl", tool, *args],
                          env=env, capture_output=True, text=True, timeout=30)


def tool_env(m, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_LOG": str(tmp_path),
                "_CONDOR_MASTER_ADDRESS_FILE": str(tmp_path / ".master_address")})
    return env


def master_env_of(m) -> dict:
    with open(f"/proc/{m.proc.pid}/environ", "rb") as f:
        items = f.read().split(b"\0")
    return dict(i.decode().split("=", 1) for i in items if b"=" in i)


def wait_for(pred, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_backoff_restarts_and_recovery(master):
    """SIGKILLed TESTD comes back after c + k**n seconds (1+1, 1+2, then the ceiling 3); after
    MASTER_RECOVER_FACTOR (2 s) of uptime the counter resets and the delay is 2 s again."""
    master.wait_log(r"Setting ready state 'Ready' for TESTD")
    delays, measured = [], []
    for i in range(4):
        if i == 3:
            master.wait_log(r"TESTD recovered", timeout=6)
        pids = master.child_pids("condor_testd")
        os.kill(pids[-1], signal.SIGKILL)
        t0 = time.time()
        new = wait_for(lambda: len(master.child_pids("condor_testd")) > len(pids) and
                       master.child_pids("condor_testd")[-1], timeout=10, what="TESTD restart")
        measured.append(time.time() - t0)
        assert new != pids[-1] and alive(new)
        delays = [int(x) for x in re.findall(r"restarting TESTD in (\d+) seconds", master.log())]
        assert f"The TESTD (pid {pids[-1]}) died due to signal 9" in master.log()
    assert delays == [2, 3, 3, 2]
    for want, got in zip(delays, measured):
        assert want - 0.2 <= got < want + 2.0, (delays, measured)


def test_ready_handshake_and_master_ad(master, tmp_path):
    """Children report DC_SET_READY through CONDOR_INHERIT; the Master ad, with
    <SUBSYS>_StartTime for every daemon, reaches the collector (queried by the real client)."""
    master.wait_log(r"Setting ready state 'Ready' for COLLECTOR")
    master.wait_log(r"Setting ready state 'Ready' for TESTD")
    log = master.log()
    # DAEMON_LIST order: the collector first, TESTD only once the collector is up
    assert log.index("pyhtc.daemons.collector.daemon") < log.index("condor_testd -local-name TESTD")
    port = re.search(r"COLLECTOR_HOST=127.0.0.1:(\d+)", " ".join(
        f"{k}={v}" for k, v in master_env_of(master).items())).group(1)
    code = f"""
coll = htcondor2.Collector("127.0.0.1:{port}")
import time
for _ in range(100):
    ads = coll.query(htcondor2.AdType.Master)
    if ads and ads[0].get("TESTD_StartTime", 0) > 0 and ads[0].get("COLLECTOR_StartTime", 0) > 0:
        break
    time.sleep(0.1)
ad = ads[0]
print(json.dumps({{k: ad.get(k) for k in ("MyType", "Name", "MyAddress", "Machine", "DaemonStartTime",
                  "MASTER_StartTime", "COLLECTOR_StartTime", "TESTD_StartTime", "TESTD_Timestamp")}}))
"""
    r = run_client(code, timeout=30)
    assert r.returncode == 0, r.stderr
    ad = json.loads(r.stdout.strip().splitlines()[-1])
    assert ad["MyType"] == "DaemonMaster"
    assert ad["MyAddress"] == master.sinful
    now = time.time()
    for attr in ("DaemonStartTime", "MASTER_StartTime", "COLLECTOR_StartTime", "TESTD_StartTime"):
        assert now - 60 < ad[attr] <= now, attr
    assert ad["TESTD_Timestamp"] == int(os.stat(tmp_path / "condor_testd").st_mtime)

    # DC_CHILDALIVE from the real client (htcondor2.send_alive): a child that promised another
    # keep-alive within 1 s and did not send it is killed as hung and restarted
    testd = master.child_pids("condor_testd")[-1]
    # the children's own keep-alives (one at startup, then every NOT_RESPONDING_TIMEOUT/3 - 30 s)
    master.wait_log(r"Calling HandleReq <DC_CHILDALIVE>", count=2)
    r = run_client(f"ad = classad2.ClassAd({{'MyAddress': {master.sinful!r}, 'MyType': 'DaemonMaster'}})\n"
                   f"htcondor2.send_alive(ad, 1, 5)\n"
                   f"htcondor2.send_alive(ad, {testd}, 1)\n", timeout=30)
    assert r.returncode == 0, r.stderr
    master.wait_log(r"Received child alive command from unknown pid 1")
    # the same contract through pyhtc.htcondor (alias htcondor): send_alive, set_ready_state
    import subprocess
    import sys
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null",
           "CONDOR_INHERIT": f"{os.getpid()} {master.sinful}"}
    r = subprocess.run([sys.executable, "-c", "import classad, htcondor\n"
                        f"htcondor.send_alive(classad.ClassAd({{'MyAddress': {master.sinful!r}}}), 2, 5)\n"
                        "htcondor.set_subsystem('NOSUCHD')\nhtcondor.set_ready_state('Almost')\n"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    master.wait_log(r"Received child alive command from unknown pid 2")
    master.wait_log(r"Cant find daemon NOSUCHD to set ready state 'Almost'")
    master.wait_log(rf"ERROR: Child pid {testd} appears hung! Killing it hard\.")
    master.wait_log(rf"The TESTD \(pid {testd}\) was killed because it was no longer responding")
    master.wait_log(r"restarting TESTD in 2 seconds")


def test_condor_off_on_daemon_reconfig_and_master_off(master, tmp_path):
    """condor_off -daemon TESTD stops only TESTD (no restart); condor_on -daemon TESTD starts
    it again; condor_reconfig reaches the children; condor_off -master stops TESTD before the
    collector and the master exits."""
    env = tool_env(master, tmp_path)
    master.wait_log(r"Setting ready state 'Ready' for TESTD")
    testd = master.child_pids("condor_testd")[-1]
    collector = master.child_pids("collector")[-1]

    r = ctl("condor_off", "-daemon", "testd", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'Sent "Kill-Daemon" command for "testd" to local master'
    wait_for(lambda: not alive(testd), what="TESTD to stop")
    assert "testd graceful shutdown" in (tmp_path / "TestdLog").read_text()
    master.wait_log(rf"The TESTD \(pid {testd}\) exited with status 0")
    time.sleep(1.1)  # an expected exit of a held daemon is not restarted
    assert master.child_pids("condor_testd") == [testd]
    assert alive(collector)

    r = ctl("condor_on", "-daemon", "TESTD", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'Sent "Spawn-Daemon" command for "TESTD" to local master'
    testd2 = wait_for(lambda: len(master.child_pids("condor_testd")) == 2 and master.child_pids("condor_testd")[-1],
                      what="TESTD to start again")
    master.wait_log(r"Setting ready state 'Ready' for TESTD", count=2)

    # condor_restart -daemon: DAEMON_OFF then DAEMON_ON; the master starts it once it is down
    r = ctl("condor_restart", "-daemon", "testd", env=env)
    assert r.stdout.strip() == 'Sent "Restart" command for "testd" to local master', r.stderr
    testd3 = wait_for(lambda: len(master.child_pids("condor_testd")) == 3 and master.child_pids("condor_testd")[-1],
                      what="TESTD restarted")
    assert not alive(testd2)
    master.wait_log(rf"The TESTD \(pid {testd2}\) exited with status 0")
    master.wait_log(r"restarting TESTD in 1 seconds")
    testd2 = testd3
    master.wait_log(r"Setting ready state 'Ready' for TESTD", count=3)

    r = ctl("condor_reconfig", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'Sent "Reconfig" command to local master'
    wait_for(lambda: "testd main_config" in (tmp_path / "TestdLog").read_text(), what="TESTD reconfig")

    r = ctl("condor_off", "-master", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'Sent "Kill-Daemon" command for "master" to local master'
    assert master.proc.wait(timeout=15) == 0
    log = master.log()
    assert not alive(testd2) and not alive(collector)
    # shutdown order: TESTD is stopped and gone before the collector is asked to stop
    assert log.index(f"The TESTD (pid {testd2}) exited") < log.index(f"Stopping COLLECTOR (pid {collector})")
    assert "EXITING WITH STATUS 0" in log


def send_real(sinful: str, command: str, target: str | None = None) -> None:
    """htcondor2.send_command(ad, DaemonCommand.<command>[, target]) in a real-client subprocess."""
    tgt = f", {target!r}" if target else ""
    r = run_client(f"ad = classad2.ClassAd({{'MyAddress': {sinful!r}, 'MyType': 'DaemonMaster'}})\n"
                   f"htcondor2.send_command(ad, htcondor2.DaemonCommand.{command}{tgt})\n", timeout=30)
    assert r.returncode == 0, r.stderr


def test_real_client_reconfig_removes_and_adds_daemons(tmp_path):
    """DaemonCommand.Reconfig after TESTD left DAEMON_LIST stops it (and only it); after it
    is back in the list, the next reconfig starts it."""
    cfg = tmp_path / "condor_config"
    cfg.write_text("DAEMON_LIST = MASTER, COLLECTOR, TESTD\n")
    m = start_master(tmp_path, DAEMON_LIST=None, CONDOR_CONFIG=cfg)
    try:
        m.wait_log(r"Setting ready state 'Ready' for TESTD")
        testd = m.child_pids("condor_testd")[-1]
        collector = m.child_pids("collector")[-1]
        cfg.write_text("DAEMON_LIST = MASTER, COLLECTOR\n")
        send_real(m.sinful, "Reconfig")
        m.wait_log(r"TESTD was removed from DAEMON_LIST; stopping it")
        wait_for(lambda: not alive(testd), what="TESTD to stop")
        m.wait_log(rf"The TESTD \(pid {testd}\) exited with status 0")
        time.sleep(1.1)
        assert m.child_pids("condor_testd") == [testd]
        assert alive(collector) and m.child_pids("collector") == [collector]

        cfg.write_text("DAEMON_LIST = MASTER, COLLECTOR, TESTD\n")
        send_real(m.sinful, "Reconfig")
        m.wait_log(r"New daemons in DAEMON_LIST: TESTD")
        new = wait_for(lambda: len(m.child_pids("condor_testd")) == 2 and m.child_pids("condor_testd")[-1],
                       what="TESTD to start")
        assert alive(new) and alive(collector)
        m.wait_log(r"Setting ready state 'Ready' for TESTD", count=2)

        # DaemonOff with a target subsystem (one string message after the command)
        send_real(m.sinful, "DaemonOff", "TESTD")
        m.wait_log(r"Handling DAEMON_OFF command for TESTD")
        wait_for(lambda: not alive(new), what="TESTD to stop")
        assert alive(collector)
    finally:
        m.close()


def test_real_client_daemons_off_on_and_restart(master):
    """DaemonsOff stops every child but the master stays; DaemonsOn starts them again; Restart
    stops them and re-execs the master (same pid), which starts fresh children."""
    master.wait_log(r"Setting ready state 'Ready' for TESTD")
    first = set(master.child_pids(""))
    send_real(master.sinful, "DaemonsOff")
    master.wait_log(r"All daemons are gone\.")
    assert not any(alive(p) for p in first)
    assert master.proc.poll() is None
    time.sleep(1.1)
    assert set(master.child_pids("")) == first  # nothing restarted

    send_real(master.sinful, "DaemonsOn")
    master.wait_log(r"Setting ready state 'Ready' for TESTD", count=2)
    second = set(master.child_pids("")) - first
    assert len(second) == 2 and all(alive(p) for p in second)

    send_real(master.sinful, "Restart")
    master.wait_log(r"STARTING UP", count=2)
    master.wait_log(r"Setting ready state 'Ready' for TESTD", count=3)
    assert not any(alive(p) for p in second)
    assert master.wait_log(r"\*\* PID = (\d+)", count=2) == [str(master.proc.pid)] * 2
    assert master.proc.poll() is None


def test_stop_escalates_sigterm_sigquit_sigkill(tmp_path):
    """A daemon ignoring SIGTERM and SIGQUIT gets SIGQUIT after SHUTDOWN_GRACEFUL_TIMEOUT and
    SIGKILL (its whole process group) after SHUTDOWN_FAST_TIMEOUT."""
    from master_helpers import write_stubborn
    m = start_master(tmp_path, DAEMON_LIST="MASTER, STUBBORN, MISSING, NOPROG", COLLECTOR_HOST=None,
                     MISSING=str(tmp_path / "no-such-program"),
                     STUBBORN=write_stubborn(tmp_path), STUBBORN_ARGS=str(tmp_path / "grandchild.pid"),
                     SHUTDOWN_GRACEFUL_TIMEOUT=1, SHUTDOWN_FAST_TIMEOUT=1)
    try:
        pid = wait_for(lambda: m.child_pids("stubborn") and m.child_pids("stubborn")[-1], what="STUBBORN")
        # start failures are reported and retried with the backoff, like crashes
        m.wait_log(r"ERROR: failed to start MISSING \(\S*no-such-program -local-name MISSING\): "
                   r"exec .* failed: No such file or directory")
        m.wait_log(r"ERROR: can't start NOPROG: no program configured: NOPROG is not defined")
        m.wait_log(r"restarting MISSING in 2 seconds")
        m.wait_log(r"restarting NOPROG in 2 seconds")
        grandchild = int(wait_for(lambda: (tmp_path / "grandchild.pid").exists() and
                                  (tmp_path / "grandchild.pid").read_text(), what="grandchild"))
        t0 = time.time()
        r = ctl("condor_off", "-daemon", "stubborn", env=tool_env(m, tmp_path))
        assert r.returncode == 0, r.stderr
        m.wait_log(r"Timeout for graceful shutdown has expired for STUBBORN\.")
        m.wait_log(rf"Sent SIGKILL to STUBBORN \(pid {pid}\) and all its children\.")
        m.wait_log(rf"The STUBBORN \(pid {pid}\) died due to signal 9")
        assert 1.8 < time.time() - t0 < 10
        wait_for(lambda: not alive(grandchild), timeout=5, what="grandchild killed with the group")
        time.sleep(1.1)
        assert m.child_pids("stubborn") == [pid]  # held: not restarted

        from pyhtc.cedar.security.policy import SecurityPolicy
        from pyhtc.client import send_command
        send_command(m.sinful, 462, policy=SecurityPolicy())  # MASTER_OFF_FAST
        assert m.proc.wait(timeout=10) == 0
        assert "Got fast shutdown request" in m.log()
    finally:
        m.close()


def test_new_binary_restart_environment_and_query_ready(tmp_path):
    """<SUBSYS>_ENVIRONMENT reaches the child; DC_QUERY_READY reports it; a reconfig after its
    program changed on disk restarts it after MASTER_NEW_BINARY_DELAY."""
    from pyhtc.cedar.security.policy import SecurityPolicy
    from pyhtc.client import start_command
    from pyhtc.cedar.wire_ad import WireAd, to_classad
    m = start_master(tmp_path, DAEMON_LIST="MASTER, TESTD", COLLECTOR_HOST=None,
                     TESTD_ENVIRONMENT="\"PYHTC_TESTD_MARK='hello world' OTHER=1\"",
                     MASTER_NEW_BINARY_DELAY=1)
    try:
        m.wait_log(r"Setting ready state 'Ready' for TESTD")
        assert "testd env PYHTC_TESTD_MARK=hello world" in (tmp_path / "TestdLog").read_text()
        with start_command(m.sinful, 60044, SecurityPolicy()) as s:  # DC_QUERY_READY
            s.put_ad(WireAd()).end_of_message()
            reply = to_classad(s.get_ad())
        assert reply.get("TESTD") == "Ready" and reply.get("IsReady") is True
        assert reply.get("NumDaemons") == 1 and reply.get("NumAlive") == 1

        old = m.child_pids("condor_testd")[-1]
        prog = tmp_path / "condor_testd"
        st = prog.stat()
        os.utime(prog, (st.st_atime, st.st_mtime + 10))
        r = ctl("condor_reconfig", env=tool_env(m, tmp_path))
        assert r.returncode == 0, r.stderr
        m.wait_log(rf"{prog} was modified, killing TESTD\.")
        m.wait_log(r"restarting TESTD in 1 seconds")
        new = wait_for(lambda: len(m.child_pids("condor_testd")) == 2 and m.child_pids("condor_testd")[-1],
                       what="TESTD restart")
        assert not alive(old) and alive(new)

        # condor_off -peaceful: no timeouts, the master stays; condor_on brings TESTD back
        env = tool_env(m, tmp_path)
        r = ctl("condor_off", "-peaceful", env=env)
        assert r.stdout.strip() == 'Sent "Kill-All-Daemons-Peacefully" command to local master', r.stderr
        m.wait_log(rf"Stopping TESTD \(pid {new}\) peacefully")
        m.wait_log(r"All daemons are gone\.")
        r = ctl("condor_on", env=env)
        assert r.stdout.strip() == 'Sent "Spawn-All-Daemons" command to local master', r.stderr
        wait_for(lambda: len(m.child_pids("condor_testd")) == 3, what="TESTD after condor_on")
        assert m.proc.poll() is None
    finally:
        m.close()


def test_tool_targets_name_addr_all_and_missing_master(master, tmp_path, capsys):
    """-name / -all go through the collector of -pool; -addr goes straight to the address;
    no master at all gives HTCondor's "Can't find address" error.  (In-process tool runs.)"""
    from pyhtc import config as pyhtc_config
    from pyhtc.client import CollectorClient
    from pyhtc.config import Config
    from pyhtc.tools import daemon_ctl
    pool = master_env_of(master)["_CONDOR_COLLECTOR_HOST"]

    def load(env):
        return Config.load("TOOL", environ=env, read_user_config=False)

    cfg = load({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_LOG": str(tmp_path)})

    def master_ads():
        try:
            return CollectorClient(pool, cfg).query("Master")
        except OSError:  # the collector is still starting
            return None
    name = wait_for(master_ads, what="Master ad")[0].get("Name")

    def tool(main, *args, config=cfg):
        pyhtc_config.set_config(config)
        try:
            status = main(list(args))
        finally:
            pyhtc_config.set_config(None)
        out = capsys.readouterr()
        return status, out.out.strip(), out.err.strip()

    assert tool(daemon_ctl.reconfig_main, "-pool", pool, "-name", name) == \
        (0, f'Sent "Reconfig" command to master {name}', "")
    assert tool(daemon_ctl.reconfig_main, "-pool", pool, "-all") == \
        (0, f'Sent "Reconfig" command to master {name}', "")
    assert tool(daemon_ctl.on_main, "-addr", master.sinful) == \
        (0, f'Sent "Spawn-All-Daemons" command to master at {master.sinful}', "")
    assert tool(daemon_ctl.reconfig_main, "-pool", pool, "-name", "nosuch@nowhere") == \
        (1, "", "Can't find address for master nosuch@nowhere")
    master.wait_log(r"Got SIGHUP/DC_RECONFIG", count=2)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert tool(daemon_ctl.off_main, config=load({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_LOG": str(empty)})) == \
        (1, "", "Can't find address for local master")


def test_daemons_exit_when_their_master_is_killed(tmp_path):
    """check_parent (daemon_core_main.cpp): SIGKILL the master; its COLLECTOR and TESTD notice
    that their parent (the CONDOR_INHERIT pid) is gone and shut down fast on their own, so a
    new master never runs a second copy beside them."""
    m = start_master(tmp_path)
    try:
        m.wait_log(r"Setting ready state 'Ready' for TESTD")
        m.wait_log(r"Setting ready state 'Ready' for COLLECTOR")
        kids = m.child_pids("condor_testd") + m.child_pids("collector")
        assert len(kids) == 2 and all(alive(p) for p in kids)
        os.kill(m.proc.pid, signal.SIGKILL)
        m.proc.wait()
        t0 = time.time()
        wait_for(lambda: not any(alive(p) for p in kids), timeout=10, what="the daemons to exit")
        assert time.time() - t0 < 5
        for log in ("TestdLog", "CollectorLog"):
            text = (tmp_path / log).read_text()
            assert f"Our parent process (pid {m.proc.pid}) went away; shutting down fast" in text
            assert "EXITING WITH STATUS 0" in text
    finally:
        m.close()
