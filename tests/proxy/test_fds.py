"""Named handles: pipes between services, files, sockets, deletion and fd passing."""
import os
import socket
import sys

from proxy_helpers import wait_until


def test_logger_service_receives_another_services_output(proxy, tmp_path):
    out = tmp_path / "log.txt"
    proxy.send("fd.pipe", "app.log.r", "app.log.w")
    assert proxy.read_event() == ["fd.state", "app.log.r", "pipe", "from", "app.log.w"]
    assert proxy.read_event() == ["fd.state", "app.log.w", "pipe", "to", "app.log.r"]
    proxy.send("service.args", "logger", "sh", "-c", "while read l; do echo \"got $l\" >> %s; done" % out)
    proxy.send("service.fds", "logger", "app.log.r", "null", "null")
    proxy.send("service.args", "app", "sh", "-c", "echo out-$$; echo err-$$ >&2")
    proxy.send("service.fds", "app", "null", "app.log.w", "app.log.w")
    proxy.send("service.start", "logger")
    proxy.send("service.start", "app")
    a1 = proxy.wait_for(("service.state", "app", "up"))[4]
    proxy.wait_for(("service.state", "app", "down"))
    proxy.send("service.start", "app")  # the pipe survives the writer's restart
    a2 = proxy.wait_for(("service.state", "app", "up"))[4]
    wait_until(lambda: out.exists() and len(out.read_text().splitlines()) == 4)
    assert sorted(out.read_text().splitlines()) == sorted(
        [f"got out-{a1}", f"got err-{a1}", f"got out-{a2}", f"got err-{a2}"])


def test_service_pipe_shorthand_and_logger_restart(proxy, tmp_path):
    out = tmp_path / "log.txt"
    proxy.send("service.fds", "web", "null", "stdout", "stderr")
    proxy.events_until_echo()
    proxy.send("service.pipe", "web", "weblog")
    assert proxy.read_event() == ["fd.state", "web.log.r", "pipe", "from", "web.log.w"]
    assert proxy.read_event() == ["fd.state", "web.log.w", "pipe", "to", "web.log.r"]
    assert proxy.read_event() == ["service.fds", "web", "null", "web.log.w", "web.log.w"]
    assert proxy.read_event() == ["service.fds", "weblog", "web.log.r", "null", "null"]
    proxy.send("service.args", "weblog", "sh", "-c", "read l; echo \"$l\" >> %s" % out)
    proxy.send("service.auto_up", "weblog", "0.1", "always")
    proxy.send("service.args", "web", "sh", "-c", "echo line1; echo line2")
    proxy.send("service.start", "web")
    # the logger reads one line, exits, is restarted and reads the next from the same pipe
    wait_until(lambda: out.exists() and out.read_text().splitlines() == ["line1", "line2"])
    proxy.send("service.pipe", "web", "weblog", "custom")
    proxy.wait_for(("fd.state", "custom.r", "pipe"))
    proxy.send("statedump")
    evs = proxy.events_until_echo()
    assert ["service.fds", "web", "null", "custom.w", "custom.w"] in evs
    assert ["service.fds", "weblog", "custom.r", "null", "null"] in evs


def test_fd_open_flags(proxy, tmp_path):
    path = tmp_path / "deep" / "er" / "out.txt"
    proxy.send("fd.open", "out", "write,create,trunc,mkdir", str(path))
    assert proxy.read_event() == ["fd.state", "out", "file", "write,create,trunc,mkdir", str(path)]
    proxy.send("service.args", "w", "sh", "-c", "echo one")
    proxy.send("service.fds", "w", "null", "out", "stderr")
    proxy.send("service.start", "w")
    proxy.wait_for(("service.state", "w", "down"))
    assert path.read_text() == "one\n"
    proxy.send("fd.open", "out", "write,append", str(path))   # replaces the handle
    assert proxy.read_event() == ["fd.state", "out", "file", "write,append", str(path)]
    proxy.send("service.start", "w")
    proxy.wait_for(("service.state", "w", "down"))
    assert path.read_text() == "one\none\n"
    proxy.send("fd.open", "in", "read,nonblock", str(path))
    assert proxy.read_event() == ["fd.state", "in", "file", "read,nonblock", str(path)]
    proxy.send("fd.open", "rw", "read,write,create", str(tmp_path / "rw"))
    assert proxy.read_event()[3] == "read,write,create"
    assert oct((tmp_path / "rw").stat().st_mode & 0o777) == "0o600"
    cat_out = tmp_path / "cat.txt"
    proxy.send("fd.open", "catout", "write,create,truncate", str(cat_out))
    proxy.send("service.args", "cat", "cat")
    proxy.send("service.fds", "cat", "in", "catout", "-")
    proxy.send("service.start", "cat")
    proxy.wait_for(("service.state", "cat", "down"))
    assert cat_out.read_text() == "one\none\n"


def test_fd_delete(proxy, tmp_path):
    proxy.send("fd.pipe", "r", "w", "nonblock")
    assert proxy.read_event() == ["fd.state", "r", "pipe", "nonblock,from", "w"]
    proxy.read_event()
    proxy.send("fd.delete", "w")
    assert proxy.read_event() == ["fd.state", "w", "deleted"]
    proxy.send("statedump")
    evs = proxy.events_until_echo()
    assert ["fd.state", "r", "pipe", "nonblock,from", "w"] in evs
    assert not any(e[:2] == ["fd.state", "w"] for e in evs)
    proxy.send("fd.delete", "null")
    assert "cannot be altered" in proxy.read_event()[1]


def test_socketpair_and_sockets(proxy, tmp_path):
    proxy.send("fd.pipe", "a", "b", "unix,dgram")
    assert proxy.read_event() == ["fd.state", "a", "pipe", "unix,dgram,to", "b"]
    assert proxy.read_event() == ["fd.state", "b", "pipe", "unix,dgram,to", "a"]
    sock_path = tmp_path / "sub" / "listen.sock"
    proxy.send("fd.socket", "lsn", "unix,listen=5,mkdir", str(sock_path))
    assert proxy.read_event() == ["fd.state", "lsn", "socket", "unix,stream,bind,listen=5,mkdir", str(sock_path)]
    c = socket.socket(socket.AF_UNIX)
    c.connect(str(sock_path))                       # the proxy holds a listening socket
    c.close()
    proxy.send("fd.socket", "tcp", "tcp,listen", "127.0.0.1:0")
    ev = proxy.read_event()
    assert ev[:4] == ["fd.state", "tcp", "socket", "inet,stream,bind,listen=32"]
    host, port = ev[4].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    # a service accepts on the inherited listening socket (fd 0) and answers
    proxy.send("service.args", "srv", sys.executable, "-c",
               "import socket;s=socket.socket(fileno=0);c,_=s.accept();c.sendall(b'hi')")
    proxy.send("service.fds", "srv", "tcp", "null", "stderr")
    proxy.send("service.start", "srv")
    proxy.wait_for(("service.state", "srv", "up"))
    with socket.create_connection((host, int(port)), timeout=5) as c:
        assert c.recv(10) == b"hi"
    assert proxy.wait_for(("service.state", "srv", "down"))[5:7] == ["exit", "0"]
    proxy.send("fd.socket", "unbound", "udp")
    assert proxy.read_event() == ["fd.state", "unbound", "socket", "inet,dgram", "-"]


def test_fd_take_over_socket(procs, tmp_path):
    path = tmp_path / "ctl.sock"
    procs.daemon("-S", str(path))
    cli = procs.connect(path)
    r, w = os.pipe()
    cli.send_fd("given", w)
    os.close(w)
    ev = cli.read_event()
    assert ev == ["fd.state", "given", "pipe", "write", "passed by controller"]
    cli.send("service.args", "talk", "sh", "-c", "echo through-passed-fd")
    cli.send("service.fds", "talk", "null", "given", "null")
    cli.send("service.start", "talk")
    cli.wait_for(("service.state", "talk", "down"))
    cli.send("fd.delete", "given")
    cli.wait_for(("fd.state", "given", "deleted"))
    assert os.read(r, 100) == b"through-passed-fd\n"
    assert os.read(r, 100) == b""                      # all write ends closed
    os.close(r)
