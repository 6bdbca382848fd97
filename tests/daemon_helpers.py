"""Helpers for tests that run real daemon processes and the real htcondor2 client.

Daemons run as subprocesses with ``CONDOR_CONFIG=ONLY_ENV`` and ``_CONDOR_*`` knobs, logging
under a test's tmp_path; the real client runs in its own subprocess with a scrubbed
environment (``CONDOR_CONFIG=/dev/null``) so its configuration is deterministic.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

OPEN_POLICY = {
    "_CONDOR_ALLOW_READ": "*",
    "_CONDOR_ALLOW_WRITE": "*",
    "_CONDOR_ALLOW_DAEMON": "*",
    "_CONDOR_ALLOW_ADMINISTRATOR": "*",
    "_CONDOR_ALLOW_NEGOTIATOR": "*",
    "_CONDOR_ALLOW_ADVERTISE_STARTD": "*",
    "_CONDOR_ALLOW_ADVERTISE_SCHEDD": "*",
    "_CONDOR_ALLOW_ADVERTISE_MASTER": "*",
}


def daemon_env(tmp_path: pathlib.Path, subsys: str, **extra) -> dict:
    """Environment for a daemon: no config file, logs under tmp_path, loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({
        "CONDOR_CONFIG": "ONLY_ENV",
        "_CONDOR_LOCAL_DIR": str(tmp_path),
        "_CONDOR_LOG": str(tmp_path),
        "_CONDOR_SPOOL": str(tmp_path / "spool"),
        "_CONDOR_EXECUTE": str(tmp_path / "execute"),
        f"_CONDOR_{subsys}_DEBUG": "D_COMMAND D_SECURITY",
        "_CONDOR_NETWORK_INTERFACE": "127.0.0.1",
    })
    env.update(OPEN_POLICY)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class DaemonProcess:
    """A daemon started with :func:`start_daemon`; ``stop()`` ends it (SIGQUIT, then KILL)."""

    def __init__(self, proc, sinful, log):
        self.proc, self.sinful, self.log = proc, sinful, log

    @property
    def host_port(self) -> str:
        return self.sinful.strip("<>").split("?")[0]

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_log(self, text: str, timeout: float = 10.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log_text():
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> int:
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def start_daemon(module: str, subsys: str, tmp_path: pathlib.Path, log_name: str, *args, **extra) -> DaemonProcess:
    """Start ``python -m module -f`` and wait (20 s) for its address file."""
    env = daemon_env(tmp_path, subsys, **extra)
    env[f"_CONDOR_{subsys}_LOG"] = str(tmp_path / log_name)
    addr = tmp_path / f".{subsys.lower()}_address"
    env.setdefault(f"_CONDOR_{subsys}_ADDRESS_FILE", str(addr))
    addr = pathlib.Path(env[f"_CONDOR_{subsys}_ADDRESS_FILE"])
    if "-p" not in args:
        args = ("-p", "0") + tuple(args)  # never the well-known port in tests
    proc = subprocess.Popen([sys.executable, "-m", module, "-f", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not addr.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace")
            raise AssertionError(f"{module} did not start:\n{out}")
        time.sleep(0.05)
    return DaemonProcess(proc, addr.read_text().splitlines()[0], tmp_path / log_name)


def run_client(code: str, timeout: float = 60, **env_extra) -> subprocess.CompletedProcess:
    """Run Python ``code`` with the real htcondor2 client in a clean environment."""
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    env.update({k: str(v) for k, v in env_extra.items()})
    return subprocess.run([sys.executable, "-c", "import htcondor2, classad2, json\n" + code],
                          env=env, capture_output=True, text=True, timeout=timeout)
