"""The starter starts the job with posix_spawn (pyhtc.daemons.starter.spawn) and keeps every
pre-exec step of the old fork + exec: a new session, stdio, the job's cgroup from its first
instruction (a job that forks at once has its child in the cgroup too), the job's account
with no way back to root, its directory opened as that account, no stray descriptors --
and the starter gets its own identity, directory and cgroups back."""
import os
import time

import pytest

from pyhtc.daemons.starter.spawn import spawn_job
from pyhtc.procd import cgroups

ROOT = os.geteuid() == 0


@pytest.fixture
def open_dir():
    """A directory the job's account can enter (pytest's tmp_path is under a 0700 one)."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="starter-spawn-", dir="/tmp")
    os.chmod(d, 0o777)
    from pathlib import Path
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def _wait(pid, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} did not exit")


def _cgroup_or_skip(name):
    if not ROOT or cgroups.detect_mode() is None:
        pytest.skip("needs root and usable cgroups")
    try:
        return cgroups.open_cgroup(name, "htcondor")
    except cgroups.CgroupError as exc:
        pytest.skip(f"no cgroup here: {exc}")


def _nobody():
    import pwd
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no account nobody")
    return pw.pw_uid, pw.pw_gid, "nobody"


def test_job_and_what_it_forks_at_once_are_in_its_cgroup_as_the_job_user(open_dir):
    tmp_path = open_dir
    ids = _nobody()
    cg = _cgroup_or_skip(f"h1_spawn_test_{os.getpid()}")
    out = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    stray = os.open(os.devnull, os.O_RDONLY)          # inheritable: must not reach the job
    os.set_inheritable(stray, True)
    before = (os.getresuid(), os.getresgid(), os.getgroups(), os.getcwd(), open("/proc/self/cgroup").read())
    script = ("sleep 0.5 & child=$!; cat /proc/$child/cgroup > child.cg; cat /proc/self/cgroup > self.cg; "
              "grep -E '^(Uid|Gid|Groups):' /proc/self/status > ids; ls /proc/self/fd > fds; pwd; "
              "echo sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$; wait")
    try:
        pid = spawn_job(["/bin/sh", "-c", script], str(tmp_path), {"PATH": "/usr/bin:/bin"},
                        (0, out, out), ids, cg)
        assert cg.populated()
        assert _wait(pid) == 0
        after = (os.getresuid(), os.getresgid(), os.getgroups(), os.getcwd(), open("/proc/self/cgroup").read())
        assert after == before                         # the starter is itself again
        rel = next(iter(cg.rel.values())) if cg.version == 1 else cg.rel
        for name in ("self.cg", "child.cg"):
            text = (tmp_path / name).read_text()
            assert rel in text, (name, text)           # born in the cgroup, and its child too
        ids_text = (tmp_path / "ids").read_text().split("\n")
        uid, gid = str(ids[0]), str(ids[1])
        assert ids_text[0].split()[1:] == [uid] * 4    # real, effective, saved, fs: the job's
        assert ids_text[1].split()[1:] == [gid] * 4
        assert sorted((tmp_path / "fds").read_text().split()) == ["0", "1", "2", "3"]  # 3: ls's own
        printed = (tmp_path / "out").read_text()
        assert printed.startswith(str(tmp_path))
        sid, spid = printed.split()[-2:]
        assert sid == f"sid={pid}" and spid == f"pid={pid}"   # its own session
        deadline = time.time() + 5
        while cg.populated() and time.time() < deadline:
            time.sleep(0.02)
        assert not cg.populated()
    finally:
        os.close(out)
        os.close(stray)
        cg.remove(kill=True)


def test_errors_read_as_the_forked_childs_did(open_dir):
    tmp_path = open_dir
    ids = _nobody() if ROOT else None
    with pytest.raises(OSError, match=r"^FileNotFoundError: \[Errno 2\] No such file or directory: '/nonexistent/x'$"):
        spawn_job(["/nonexistent/x"], str(tmp_path), {}, (0, 1, 2), ids)
    with pytest.raises(OSError, match=r"^PermissionError: \[Errno 13\] Permission denied"):
        spawn_job([str(tmp_path)], str(tmp_path), {}, (0, 1, 2), ids)
    if ROOT:
        private = tmp_path / "private"
        private.mkdir(mode=0o700)        # root may enter it, the job's account may not
        with pytest.raises(OSError, match=r"^PermissionError: .*private"):
            spawn_job(["/bin/true"], str(private), {}, (0, 1, 2), ids)
        assert os.getresuid() == (0, 0, 0) and os.getcwd() != str(private)


def test_standard_descriptors_as_sources_are_safe(tmp_path):
    # Out given as fd 2 and Err as fd 1: dup2 in order must not clobber a later source
    r, w = os.pipe()
    pid = spawn_job(["/bin/sh", "-c", "echo out; echo err >&2"], str(tmp_path), {"PATH": "/bin:/usr/bin"},
                    (0, w, w))
    os.close(w)
    assert _wait(pid) == 0
    data = b""
    while True:
        chunk = os.read(r, 100)
        if not chunk:
            break
        data += chunk
    os.close(r)
    assert data.split() == [b"out", b"err"]
