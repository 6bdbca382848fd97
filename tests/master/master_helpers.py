"""Helpers for the condor_master tests: a small test daemon and a master with a collector."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

from daemon_helpers import start_daemon

TESTD = textwrap.dedent('''\
    #!{python}
    """A minimal DaemonCore daemon the master can supervise."""
    import sys
    from pyhtc.daemoncore.daemon import Daemon

    class TestDaemon(Daemon):
        subsystem = "TESTD"

        def main_init(self):
            import os
            self.dprintf("D_ALWAYS", "testd main_init")
            self.dprintf("D_ALWAYS", "testd env PYHTC_TESTD_MARK=%s" % os.environ.get("PYHTC_TESTD_MARK"))

        def main_config(self):
            self.dprintf("D_ALWAYS", "testd main_config")

        def main_shutdown_graceful(self):
            self.dprintf("D_ALWAYS", "testd graceful shutdown")
            self.shutdown_done(0)

    sys.exit(TestDaemon.main())
''')


STUBBORN = textwrap.dedent('''\
    #!{python}
    """Not a DaemonCore daemon: ignores SIGTERM and SIGQUIT and has a child in its group."""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "300"])
    with open(sys.argv[-1], "w") as f:
        f.write(str(child.pid))
    while True:
        time.sleep(1)
''')


def write_stubborn(tmp_path) -> str:
    path = tmp_path / "stubborn"
    path.write_text(STUBBORN.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_testd(tmp_path) -> str:
    path = tmp_path / "condor_testd"
    path.write_text(TESTD.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def master_env(tmp_path, port: int, **extra) -> dict:
    """Knobs for a master running COLLECTOR (on *port*) and TESTD, with fast backoff."""
    env = {
        "DAEMON_LIST": "MASTER, COLLECTOR, TESTD",
        "COLLECTOR": sys.executable,
        "COLLECTOR_ARGS": "-m pyhtc.daemons.collector.daemon",
        "COLLECTOR_PORT": port,
        "COLLECTOR_HOST": f"127.0.0.1:{port}",
        "COLLECTOR_LOG": tmp_path / "CollectorLog",
        "COLLECTOR_ADDRESS_FILE": tmp_path / ".collector_address",
        "TESTD": write_testd(tmp_path),
        "TESTD_LOG": tmp_path / "TestdLog",
        "MASTER_BACKOFF_CONSTANT": 1,
        "MASTER_BACKOFF_FACTOR": 2,
        "MASTER_BACKOFF_CEILING": 3,
        "MASTER_RECOVER_FACTOR": 2,
        "MASTER_UPDATE_INTERVAL": 2,
        "SHUTDOWN_GRACEFUL_TIMEOUT": 5,
        "SHUTDOWN_FAST_TIMEOUT": 5,
        "MASTER_DEBUG": "D_COMMAND D_SECURITY",
    }
    env.update(extra)
    return {f"_CONDOR_{k}": str(v) for k, v in env.items() if v is not None}


class Master:
    """A running master (a DaemonProcess) plus log helpers; ``close()`` kills everything."""

    def __init__(self, proc):
        self.dp = proc
        self.proc = proc.proc
        self.sinful = proc.sinful

    def log(self) -> str:
        return self.dp.log_text()

    def wait_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> list:
        """Wait until regex *pattern* matches *count* times in the master log; the matches."""
        deadline = time.time() + timeout
        while True:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            if time.time() > deadline:
                raise AssertionError(f"{pattern!r} x{count} not in master log:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def child_pids(self, name: str) -> list[int]:
        return [int(p) for p in re.findall(
            rf'Started DaemonCore process "[^"]*{name}[^"]*", pid and pgroup = (\d+)', self.log())]

    def close(self) -> None:
        pids = set(self.child_pids("")) | {self.proc.pid}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        for pid in pids:  # every child is its own process group leader
            for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    target()
                except (ProcessLookupError, PermissionError):
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def start_master(tmp_path, **extra) -> Master:
    port = extra.pop("port", None) or free_port()
    raw = {"CONDOR_CONFIG": str(extra.pop("CONDOR_CONFIG"))} if "CONDOR_CONFIG" in extra else {}
    env = master_env(tmp_path, port, **extra)
    env.update(raw)
    dp = start_daemon("pyhtc.daemons.master.daemon", "MASTER", tmp_path, "MasterLog", **env)
    return Master(dp)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie not yet reaped by the master still "exists"
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
