"""condor_procd daemon + ProcFamilyClient + procd_ctl over the Unix socket."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys

import pytest

from pyhtc.procd import ProcDError, ProcFamilyClient, ProcFamilyError as E
from pyhtc.procd import pidenvid

from procd_helpers import IS_ROOT, cgroup_modes, dead, is_suspended, wait_until

CG_MODES = cgroup_modes()


class Procd:
    def __init__(self, sockdir, base, extra=()):
        self.address = str(sockdir / "procd.sock")
        self.log = sockdir / "procd.log"
        args = [sys.executable, "-m", "pyhtc.procd.daemon", "-A", self.address, "-S", "-1",
                "-L", str(self.log), "-G", "47010", "47012", "--base-cgroup", base, *extra]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        if not wait_until(lambda: os.path.exists(self.address) or self.proc.poll() is not None, 10):
            raise TimeoutError("procd did not create its socket")
        if self.proc.poll() is not None:
            raise RuntimeError(f"procd exited: {self.proc.stderr.read()}")
        self.client = ProcFamilyClient(self.address, timeout=20)

    def ctl(self, *args):
        return subprocess.run([sys.executable, "-m", "pyhtc.procd.ctl", "-A", self.address,
                               *map(str, args)], capture_output=True, text=True, timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.client.quit()
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()


@pytest.fixture
def procd(sockdir, base_cgroup):
    d = Procd(sockdir, base_cgroup)
    try:
        yield d
    finally:
        d.stop()


def raw(address, payload: bytes):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(address)
        s.sendall(payload)
        head = s.recv(4)
        (n,) = struct.unpack(">I", head)
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
        return json.loads(body)


def frame(obj) -> bytes:
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def test_client_exercises_every_command(procd, spawner):
    c = procd.client
    env, cookie = pidenvid.new_child_environment()
    p = spawner.start("doublefork", env=env)
    c.register_subfamily(p.pid, os.getpid(), -1)
    c.track_family_via_environment(p.pid, [cookie])
    if IS_ROOT:
        c.track_family_via_login(p.pid, "47125")
        gid = c.track_family_via_allocated_supplementary_group(p.pid)
        assert 47010 <= gid <= 47012
        c.track_family_via_associated_supplementary_group(p.pid, 47012 if gid != 47012 else 47011)
    if CG_MODES:
        c.track_family_via_cgroup(p.pid, "job_7_0")
    spawner.go(p)
    gc = int(spawner.readline(p))
    spawner.remember(gc)
    c.snapshot()
    fams = {f.root_pid: f for f in c.dump(0)}
    assert os.getpid() in fams and fams[p.pid].parent_root == os.getpid()
    assert {x.pid for x in fams[p.pid].procs} == {p.pid, gc}
    assert [f.root_pid for f in c.dump(p.pid)] == [p.pid]
    u = c.get_usage(p.pid)
    assert u.num_procs == 2 and u.total_resident_set_size > 0
    c.suspend_family(p.pid)
    assert wait_until(lambda: is_suspended(gc) and is_suspended(p.pid), 2)
    c.continue_family(p.pid)
    assert wait_until(lambda: not is_suspended(gc) and not is_suspended(p.pid), 2)
    # a second family to receive a signal
    q = spawner.start("sleep")
    c.register_subfamily(q.pid, os.getpid(), -1)
    c.signal_process(q.pid, signal.SIGTERM)
    assert q.wait(timeout=5) == -signal.SIGTERM
    c.kill_family(p.pid)
    assert wait_until(lambda: dead(p.pid) and dead(gc), 3)
    c.unregister_family(p.pid)
    c.unregister_family(q.pid)
    assert [f.root_pid for f in c.dump(0)] == [os.getpid()]
    c.quit()
    assert procd.proc.wait(timeout=5) == 0
    assert not os.path.exists(procd.address)
    assert "condor_procd STARTING UP" in procd.log.read_text()


def test_client_error_codes(procd, spawner):
    c = procd.client
    p = spawner.start("sleep")
    cases = [
        (lambda: c.register_subfamily(0, 0, -1), E.BAD_ROOT_PID),
        (lambda: c.register_subfamily(p.pid, -5, -1), E.BAD_WATCHER_PID),
        (lambda: c.register_subfamily(p.pid, 0, -7), E.BAD_SNAPSHOT_INTERVAL),
        (lambda: c.register_subfamily(1, 0, -1), E.PROCESS_NOT_FAMILY),
        (lambda: c.kill_family(999999), E.FAMILY_NOT_FOUND),
        (lambda: c.get_usage(999999), E.FAMILY_NOT_FOUND),
        (lambda: c.unregister_family(os.getpid()), E.UNREGISTER_ROOT),
        (lambda: c.track_family_via_environment(0, ["NOT_A_COOKIE=1"]), E.BAD_ENVIRONMENT_INFO),
        (lambda: c.track_family_via_login(0, "no-such-user-xyz"), E.BAD_LOGIN_INFO),
        (lambda: c.track_family_via_associated_supplementary_group(0, 5), E.NO_GROUP_ID_AVAILABLE),
        (lambda: c.track_family_via_cgroup(0, "../escape"), E.NO_CGROUP_ID_AVAILABLE),
        (lambda: c.signal_process(p.pid, 99999), E.BAD_REQUEST),
    ]
    for call, code in cases:
        with pytest.raises(ProcDError) as ei:
            call()
        assert ei.value.code == code, (code, ei.value)
    c.register_subfamily(p.pid, 0, -1)
    with pytest.raises(ProcDError) as ei:
        c.register_subfamily(p.pid, 0, -1)
    assert ei.value.code == E.ALREADY_REGISTERED


def test_malformed_requests_get_bad_request(procd):
    a = procd.address
    r = raw(a, frame({"command": "NO_SUCH"}))
    assert r["error"] == E.BAD_REQUEST and "NO_SUCH" in r["error_string"]
    r = raw(a, frame({"command": "KILL_FAMILY"}))
    assert r["error"] == E.BAD_REQUEST and "'pid'" in r["error_string"]
    r = raw(a, frame({"command": "GET_USAGE", "pid": "12"}))
    assert r["error"] == E.BAD_REQUEST and "integer" in r["error_string"]
    r = raw(a, frame({"command": 9, "pid": 0, "bogus": 1}))
    assert r["error"] == E.BAD_REQUEST and "bogus" in r["error_string"]
    r = raw(a, frame({"pid": 0}))
    assert r["error"] == E.BAD_REQUEST and "command" in r["error_string"]
    r = raw(a, struct.pack(">I", 5) + b"{nope")
    assert r["error"] == E.BAD_REQUEST and "byte offset 1" in r["error_string"]
    r = raw(a, struct.pack(">I", 0))
    assert r["error"] == E.BAD_REQUEST and "frame length" in r["error_string"]
    r = raw(a, frame([1, 2]))
    assert r["error"] == E.BAD_REQUEST and "JSON object" in r["error_string"]
    # numeric commands are HTCondor's proc_family_command_t values
    r = raw(a, frame({"command": 9, "pid": 0}))
    assert r["error"] == E.SUCCESS and r["usage"]["num_procs"] >= 1
    # the daemon survived all of it
    procd.client.snapshot()


def test_procd_ctl_every_command(procd, spawner):
    env, cookie = pidenvid.new_child_environment()
    p = spawner.start("doublefork", env=env)

    def ok(*args):
        r = procd.ctl(*args)
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    ok("REGISTER_FAMILY", p.pid, os.getpid(), 30)
    ok("track_by_environment", p.pid, cookie)
    if IS_ROOT:
        ok("TRACK_BY_LOGIN", "47126", p.pid)
        gid = int(ok("TRACK_BY_ALLOCATED_GID", p.pid))
        ok("TRACK_BY_ASSOCIATED_GID", 47012 if gid != 47012 else 47011, p.pid)
    if CG_MODES:
        ok("TRACK_BY_ASSOCIATED_CGROUP", "ctl_job", p.pid)
    spawner.go(p)
    gc = int(spawner.readline(p))
    spawner.remember(gc)
    ok("SNAPSHOT")
    out = ok("DUMP", p.pid).splitlines()
    assert out[0].split() == [str(os.getpid()), str(p.pid), str(os.getpid()), "2"]
    assert {int(line.split()[0]) for line in out[1:]} == {p.pid, gc}
    out = ok("LIST").splitlines()
    assert out[0] == "PID PPID START_TIME USER_TIME SYS_TIME"
    assert {p.pid, gc} <= {int(line.split()[0]) for line in out[1:]}
    out = ok("GET_USAGE", p.pid)
    assert "Number of Processes: 2" in out and "User CPU Time (s):" in out
    ok("SUSPEND_FAMILY", p.pid)
    assert wait_until(lambda: is_suspended(gc) and is_suspended(p.pid), 2)
    ok("CONTINUE_FAMILY", p.pid)
    assert wait_until(lambda: not is_suspended(gc) and not is_suspended(p.pid), 2)
    q = spawner.start("sleep")
    ok("REGISTER_FAMILY", q.pid, 0, -1)
    ok("SIGNAL_PROCESS", "SIGTERM", q.pid)
    assert q.wait(timeout=5) == -signal.SIGTERM
    ok("KILL_FAMILY", p.pid)
    assert wait_until(lambda: dead(p.pid) and dead(gc), 3)
    ok("UNREGISTER_FAMILY", p.pid)
    ok("UNREGISTER_FAMILY", q.pid)
    # errors: ProcD error codes and local argument checks
    r = procd.ctl("KILL_FAMILY", p.pid)
    assert r.returncode == 1 and "FAMILY_NOT_FOUND" in r.stderr
    r = procd.ctl("UNREGISTER_FAMILY", os.getpid())
    assert r.returncode == 1 and "UNREGISTER_ROOT" in r.stderr
    r = procd.ctl("FROB")
    assert r.returncode == 1 and "invalid command: FROB" in r.stderr
    r = procd.ctl("GET_USAGE", "abc")
    assert r.returncode == 1 and "invalid pid: abc" in r.stderr
    r = procd.ctl("SIGNAL_PROCESS", "SIGNOPE", 5)
    assert r.returncode == 1 and "invalid signal" in r.stderr
    r = procd.ctl("REGISTER_FAMILY", 1)
    assert r.returncode == 1 and "argument synopsis" in r.stderr
    ok("QUIT")
    assert procd.proc.wait(timeout=5) == 0
    r = procd.ctl("SNAPSHOT")
    assert r.returncode == 1 and "communication error" in r.stderr


def test_procd_exits_when_its_parent_dies(sockdir, spawner):
    address = str(sockdir / "p.sock")
    code = ("import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, '-m', 'pyhtc.procd.daemon', '-A', {address!r}, '-S', '1'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    spawner.popens.append(parent)
    procd_pid = int(parent.stdout.readline())
    spawner.remember(procd_pid)
    assert wait_until(lambda: os.path.exists(address), 10)
    assert ProcFamilyClient(address).dump(0)[0].root_pid == parent.pid
    parent.kill()
    parent.wait()
    assert wait_until(lambda: dead(procd_pid), 10)
    parent.stdout.close()


@pytest.mark.parametrize("args, message", [
    ([], '"-A" option is required'),
    (["-A"], 'requires 1 argument'),
    (["-A", "/tmp/x", "-S", "-5"], "non-negative or -1"),
    (["-A", "/tmp/x", "-P", "1"], "pid 1"),
    (["-A", "/tmp/x", "-G", "10", "5"], "invalid group range"),
    (["-A", "/tmp/x", "-Q"], "illegal option: -Q"),
    (["-A", "/tmp/x", "-P", "99999999"], "does not exist"),
])
def test_daemon_usage_errors(args, message):
    r = subprocess.run([sys.executable, "-m", "pyhtc.procd.daemon", *args], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert message in r.stderr


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown the socket")
def test_socket_owner_and_mode(sockdir, base_cgroup):
    d = Procd(sockdir, base_cgroup, extra=("-C", "47127"))
    try:
        st = os.stat(d.address)
        assert st.st_uid == 47127
        assert st.st_mode & 0o077 == 0
    finally:
        d.stop()
