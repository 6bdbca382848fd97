"""Fixtures for the pyhtc-proxy tests: real proxy processes, cleaned up with their services."""
import os
import signal
import subprocess
import sys

import pytest

from pyhtc.proxy.client import ProxyClient

PY = sys.executable


class Alarm(Exception):
    pass


@pytest.fixture(autouse=True)
def _time_bound():
    """Every test in this directory is bounded: 30 s, then it fails."""
    def on_alarm(signum, frame):
        raise Alarm("test took longer than 30 s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


class TrackingClient(ProxyClient):
    """A ProxyClient that remembers every service pid it saw, for cleanup."""

    pids: set

    def read_event(self, timeout=5.0):
        ev = super().read_event(timeout)
        if ev and ev[0] == "service.state" and len(ev) > 4 and ev[2] == "up":
            self.pids.add(int(ev[4]))
        return ev

    def events_until_echo(self, token="mark", timeout=5.0):
        self.send("echo", token)
        self.wait_for((token,), timeout)
        return self.seen


def _kill_groups(pids):
    for pid in pids:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class Procs:
    """Starts proxies; on teardown kills them first (no more restarts), then their services."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.procs = []
        self.clients = []
        self.extra_pids = set()

    def interactive(self, *args, env=None, cwd=None) -> TrackingClient:
        """Start ``pyhtc-proxy -i ARGS`` and return a client on its stdin/stdout.
        Its stderr goes to ``client.stderr_path``."""
        errpath = self.tmp / f"proxy{len(self.procs)}.err"
        err = open(errpath, "wb")
        proc = subprocess.Popen([PY, "-m", "pyhtc.proxy.cli", "-i", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd)
        err.close()
        cli = TrackingClient(proc.stdout.fileno(), proc.stdin.fileno(), proc=proc)
        cli.pids = set()
        cli.stderr_path = errpath
        self.procs.append(proc)
        self.clients.append(cli)
        greeting = cli.read_event(10)
        assert greeting[0] == "info" and "Interactive mode" in greeting[1]
        return cli

    def daemon(self, *args, env=None) -> subprocess.Popen:
        """Start ``pyhtc-proxy ARGS`` (no -i) with stdin closed; stderr to ``proc.stderr_path``."""
        errpath = self.tmp / f"proxy{len(self.procs)}.err"
        with open(errpath, "wb") as err:
            proc = subprocess.Popen([PY, "-m", "pyhtc.proxy.cli", *args], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err, env=env)
        proc.stderr_path = errpath
        self.procs.append(proc)
        return proc

    def connect(self, path) -> TrackingClient:
        base = ProxyClient.connect(str(path), timeout=10)
        cli = TrackingClient(base.rfd, base.wfd, sock=base.sock)
        cli.pids = set()
        self.clients.append(cli)
        return cli

    def cleanup(self):
        pids = set(self.extra_pids)
        for cli in self.clients:
            pids |= cli.pids
            if cli.sock is None and cli.proc is not None and cli.proc.poll() is None:
                try:
                    for ev in cli.resync(2).services.values():
                        if ev.get("state") == "up":
                            pids.add(int(ev["pid"]))
                except Exception:
                    pass
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)
            for f in (proc.stdin, proc.stdout):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass
        for cli in self.clients:
            if cli.sock is not None:
                cli.sock.close()
        _kill_groups(pids)


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.cleanup()


@pytest.fixture
def proxy(procs):
    """An interactive proxy and its client."""
    return procs.interactive()
