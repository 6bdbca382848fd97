"""The in-process API: a controller driving a Supervisor by method calls and callbacks."""
import os
import signal
import time

import pytest

from pyhtc.proxy import ProxyState, Supervisor
from pyhtc.proxy.protocol import CommandError, signal_number, split_line


@pytest.fixture
def sup():
    s = Supervisor(log_fd=-1)
    yield s
    for svc in s.services.values():
        if svc.running:
            os.killpg(svc.pid, signal.SIGKILL)
            os.waitpid(svc.pid, 0)
    s.close()


def run_until(sup, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        sup.run_once(0.05)


def test_controller_in_process(sup):
    events = []
    ctl = sup.attach(events.append)
    ctl.send("service.args", "w", "sleep", "30")
    ctl.send("service.auto_up", "w", "1", "always")
    assert events[:2] == [["service.args", "w", "sleep", "30"], ["service.auto_up", "w", "1", "always"]]
    assert [e[2] for e in events if e[0] == "service.state"] == ["start", "up"]
    pid = sup.services["w"].pid
    assert sup.running_services() == ["w"]
    time.sleep(1.0)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    run_until(sup, lambda: sup.services["w"].running and sup.services["w"].pid != pid)
    assert time.monotonic() - t0 < 0.5
    downs = [e for e in events if e[:3] == ["service.state", "w", "down"]]
    assert downs[-1][5:7] == ["signal", "SIGKILL"]
    ctl.send("bogus")
    assert events[-1][0] == "error"
    state = ProxyState()
    mark = len(events)
    ctl.send("statedump")
    for e in events[mark:]:
        state.apply(e)
    assert state.services["w"]["state"] == "up" and state.services["w"]["pid"] == str(sup.services["w"].pid)
    assert state.fds["null"] == ["special", "read,write", "/dev/null"]
    ctl.send("service.auto_up", "w", "-")
    ctl.detach()
    n = len(events)
    ctl2 = sup.attach(lambda e: None)
    ctl2.send("service.tags", "w", "x")
    assert len(events) == n                          # a detached controller hears nothing


def test_protocol_helpers():
    assert split_line("a\tb\t\tc\r") == ["a", "b", "", "c"]
    with pytest.raises(CommandError, match="control character 0x07 at column 3"):
        split_line("ab\x07")
    assert signal_number("TERM") == signal_number("SIGTERM") == signal_number("15") == 15
    with pytest.raises(CommandError):
        signal_number("SIGWHAT")


def test_event_bigger_than_queue_gives_overflow_at_once():
    import socket as _socket
    s = Supervisor(log_fd=-1, event_buffer=200, std_handles=False)
    mine, theirs = _socket.socketpair()
    try:
        s.add_stream(theirs.fileno(), theirs.fileno(), label="test", sock=theirs)
        mine.sendall(b"echo\t" + b"x" * 300 + b"\necho\tsmall\n")
        mine.settimeout(0.05)
        got = b""
        while got.count(b"\n") < 2:
            s.run_once(0.05)
            try:
                got += mine.recv(4096)
            except _socket.timeout:
                pass
        assert got == b"overflow\nsmall\n"
    finally:
        mine.close()
        s.close()


def test_embedding_in_a_host_loop(sup):
    """A host loop waits on sup.fileno() and next_deadline(), then calls run_once(0)."""
    import select
    events = []
    ctl = sup.attach(events.append)
    ctl.send("service.args", "quick", "sh", "-c", "exit 4")
    ctl.send("service.start", "quick", "%.3f" % (time.monotonic() + 0.3))
    assert sup.next_deadline() == pytest.approx(time.monotonic() + 0.3, abs=0.05)
    deadline = time.monotonic() + 5
    while not any(e[:3] == ["service.state", "quick", "down"] for e in events):
        assert time.monotonic() < deadline
        nd = sup.next_deadline()
        wait = 1.0 if nd is None else max(0.0, nd - time.monotonic())
        select.select([sup.fileno()], [], [], wait)
        sup.run_once(0)
    assert [e for e in events if e[:3] == ["service.state", "quick", "down"]][0][5:7] == ["exit", "4"]
    assert sup.next_deadline() is None


def test_proxy_client_spawn_resync_close(tmp_path):
    from pyhtc.proxy import ProxyClient
    cli = ProxyClient.spawn(stderr=open(os.devnull, "wb"))
    try:
        assert cli.read_event()[0] == "info"
        cli.send("service.args", "a", "true")
        cli.send("fd.open", "f", "write,create", str(tmp_path / "f"))
        state = cli.resync()
        assert state.services["a"]["args"] == ["true"] and state.services["a"]["state"] == "down"
        assert state.fds["f"] == ["file", "write,create", str(tmp_path / "f")]
        cli.send("fd.delete", "f")
        cli.send("service.delete", "a")
        for ev in cli.sync():
            state.apply(ev)
        assert "f" not in state.fds and "a" not in state.services
        cli.close()
        assert cli.proc.wait(5) == 0
    finally:
        if cli.proc.poll() is None:
            cli.proc.kill()
        cli.proc.wait()
        cli.proc.stdout.close()


def test_late_reader_overflows_after_reset_timeout():
    """Below the size limit, a controller that reads nothing for RESET seconds still gets
    events dropped (after what was queued) and then 'overflow'."""
    import socket as _socket
    s = Supervisor(log_fd=-1, event_buffer=16 * 2**20, std_handles=False)
    mine, theirs = _socket.socketpair()
    try:
        conn = s.add_stream(theirs.fileno(), theirs.fileno(), label="late", sock=theirs)
        mine.sendall(b"conn.event_timeout\t0.3\t30\n")
        s.run_once(0.05)
        ctl = s.attach(lambda e: None)
        for i in range(5000):
            ctl.send("service.tags", "x", "y" * 100, str(i))
        assert conn.blocked_since is not None and not conn.overflow
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.6:
            s.run_once(0.05)
        assert conn.overflow
        ctl.send("service.tags", "x", "after")            # dropped
        mine.setblocking(False)
        data = b""
        while not data.endswith(b"overflow\n"):
            s.run_once(0.01)
            try:
                data += mine.recv(1 << 20)
            except BlockingIOError:
                pass
        lines = data.decode().splitlines()
        assert lines[-1] == "overflow" and len(lines) == 5001
        assert lines[-2] == "service.tags\tx\t" + "y" * 100 + "\t4999"
        ctl.send("echo", "unused")
        mine.sendall(b"echo\tback\n")
        s.run_once(0.05)
        s.run_once(0.05)
        assert mine.recv(100) == b"back\n"
    finally:
        mine.close()
        s.close()
