"""A real daemon process on the Daemon base class, driven by the real htcondor2 client."""
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

DAEMON = textwrap.dedent("""
    import sys
    from pyhtc.daemoncore.daemon import Daemon

    class TestDaemon(Daemon):
        subsystem = "TESTD"

        def main_init(self):
            self.dprintf("D_ALWAYS", "main_init called")

        def main_config(self):
            self.dprintf("D_ALWAYS", "main_config called")

        def main_shutdown_fast(self):
            self.dprintf("D_ALWAYS", "main_shutdown_fast called")
            self.shutdown_done(0)

    sys.exit(TestDaemon.main())
""")


def daemon_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({
        "CONDOR_CONFIG": "ONLY_ENV",
        "_CONDOR_LOG": str(tmp_path),
        "_CONDOR_TESTD_LOG": str(tmp_path / "TestdLog"),
        "_CONDOR_TESTD_DEBUG": "D_COMMAND D_SECURITY",
        "_CONDOR_NETWORK_INTERFACE": "127.0.0.1",
        "_CONDOR_ALLOW_ADMINISTRATOR": "*",
    })
    env.update(extra)
    return env


def start_daemon(tmp_path, **extra):
    script = tmp_path / "testd.py"
    script.write_text(DAEMON)
    proc = subprocess.Popen([sys.executable, str(script), "-f"], env=daemon_env(tmp_path, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    addr = tmp_path / ".testd_address"
    deadline = time.time() + 20
    while not addr.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise AssertionError("daemon did not start: " + proc.stdout.read().decode())
        time.sleep(0.05)
    return proc, addr.read_text().splitlines()[0]


def client(sinful, code, **env_extra):
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}
    env.update(env_extra)
    prog = "import htcondor2, classad2\nad = classad2.ClassAd({'MyAddress': %r, 'MyType': 'Generic', 'Name': 'testd'})\n" % sinful
    return subprocess.run([sys.executable, "-c", prog + code], env=env, capture_output=True, text=True, timeout=60)


def wait_log(path, text, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("negotiation", ["PREFERRED", "NEVER"])
def test_reconfig_and_off_fast_from_real_client(tmp_path, negotiation):
    proc, sinful = start_daemon(tmp_path)
    log = tmp_path / "TestdLog"
    try:
        assert wait_log(log, "main_init called")
        assert "STARTING UP" in log.read_text()
        env = {"_CONDOR_SEC_CLIENT_NEGOTIATION": negotiation}
        r = client(sinful, "htcondor2.send_command(ad, htcondor2.DaemonCommand.Reconfig)", **env)
        assert r.returncode == 0, r.stderr
        assert wait_log(log, "main_config called"), log.read_text()
        r = client(sinful, "htcondor2.send_command(ad, htcondor2.DaemonCommand.OffFast)", **env)
        assert r.returncode == 0, r.stderr
        assert proc.wait(timeout=15) == 0
        text = log.read_text()
        assert "main_shutdown_fast called" in text and "EXITING WITH STATUS 0" in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unauthorized_reconfig_is_refused_and_logged(tmp_path):
    proc, sinful = start_daemon(tmp_path, _CONDOR_ALLOW_ADMINISTRATOR="nobody@nowhere/10.9.9.9")
    log = tmp_path / "TestdLog"
    try:
        client(sinful, "htcondor2.send_command(ad, htcondor2.DaemonCommand.Reconfig)")
        assert wait_log(log, "PERMISSION DENIED"), log.read_text()
        assert "main_config called" not in log.read_text()
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGQUIT)
        assert proc.wait(timeout=15) == 0


def test_sighup_reconfigures_and_sigterm_shuts_down(tmp_path):
    proc, sinful = start_daemon(tmp_path)
    log = tmp_path / "TestdLog"
    try:
        assert wait_log(log, "main_init called")
        proc.send_signal(signal.SIGHUP)
        assert wait_log(log, "main_config called")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "graceful shutdown" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
