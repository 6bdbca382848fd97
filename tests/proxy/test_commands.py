"""Commands and events of pyhtc-proxy, line by line, against a real interactive proxy."""
import os
import time

import pytest

from proxy_helpers import alive, wait_until


def test_echo_comments_blank_and_unknown(proxy):
    proxy.send_raw("# a comment\n\n   \t \necho\ta\tb c\n")
    assert proxy.read_event() == ["a", "b c"]
    proxy.send("no.such.command", "x")
    ev = proxy.read_event()
    assert ev[0] == "error" and "Unknown command: no.such.command" in ev[1]
    proxy.send_raw("echo\tbad\x01char\n")
    ev = proxy.read_event()
    assert ev[0] == "error" and "control character 0x01" in ev[1]
    proxy.send("echo", "still-alive")
    assert proxy.read_event() == ["still-alive"]


def test_service_settings_are_echoed(proxy):
    proxy.send("service.args", "web", "sleep", "30")
    assert proxy.read_event() == ["service.args", "web", "sleep", "30"]
    proxy.send("service.tags", "web", "role=front", "7")
    assert proxy.read_event() == ["service.tags", "web", "role=front", "7"]
    proxy.send("service.fds", "web")
    assert proxy.read_event() == ["service.fds", "web", "null", "null", "null"]
    proxy.send("service.fds", "web", "null", "not.yet", "-")
    assert proxy.read_event() == ["warning", 'fd "not.yet" is not yet defined']
    assert proxy.read_event() == ["service.fds", "web", "null", "not.yet", "-"]
    proxy.send("service.env", "web", "A=1", "-HOME")
    assert proxy.read_event() == ["service.env", "web", "inherit", "A=1", "-HOME"]
    proxy.send("service.auto_up", "web", "-")
    assert proxy.read_event() == ["service.auto_up", "web", "-"]
    proxy.send("statedump")
    evs = proxy.events_until_echo()
    assert ["service.state", "web", "down", "-", "-", "-", "-", "-", "-"] in evs
    assert ["service.args", "web", "sleep", "30"] in evs
    assert ["service.env", "web", "inherit", "A=1", "-HOME"] in evs
    # statedump order: fd.state lines first, then per service state/tags/args/fds/auto_up/env
    kinds = [e[0] for e in evs]
    assert kinds.index("fd.state") < kinds.index("service.state") < kinds.index("service.tags") \
        < kinds.index("service.args") < kinds.index("service.fds") < kinds.index("service.auto_up")
    fd_names = [e[1] for e in evs if e[0] == "fd.state"]
    assert fd_names == sorted(fd_names)
    assert ["fd.state", "null", "special", "read,write", "/dev/null"] in evs


def test_empty_argv_refused_at_once(proxy):
    proxy.send("service.args", "ghost")
    ev = proxy.read_event()
    assert ev[0] == "error" and "empty argv" in ev[1]
    proxy.send("service.args", "ghost", "")
    assert "empty argv" in proxy.read_event()[1]
    proxy.send("statedump")
    assert not any(e[0].startswith("service.") for e in proxy.events_until_echo())


BAD_COMMANDS = [
    ("service.args\tbad name\tsleep", "invalid service name"),
    ("service.args\t" + "x" * 64 + "\tsleep", "invalid service name"),
    ("service.fds\tweb\tnull\tbad/name", "invalid fd name"),
    ("service.auto_up\tweb\t0\talways", "invalid interval"),
    ("service.auto_up\tweb\tabc\talways", "expected number"),
    ("service.auto_up\tweb\t1\tSIGKILL", "invalid trigger"),
    ("service.auto_up\tweb", "expected service name and interval"),
    ("service.env\tweb\tNOEQUALS", "expected KEY=VALUE"),
    ("service.env\tweb\t1BAD=x", "invalid environment variable name"),
    ("service.start\tnosuch", "no such service"),
    ("service.start\tweb\tnotanumber", "expected number"),
    ("service.start\tweb\t-", "no service.start pending"),
    ("service.start\tweb\t-100000000", "invalid timestamp"),
    ("service.signal\tweb\tSIGTERM", "service is not running"),
    ("service.signal\tweb\tSIGNOPE", "invalid signal argument"),
    ("service.signal\tweb\t99", "invalid signal number"),
    ("service.signal\tweb\tTERM\tweird", "unknown option"),
    ("service.delete\tnosuch", "no such service"),
    ("service.pipe\tweb", "expected PRODUCER CONSUMER"),
    ("service.pipe\tweb\tweb", "must differ"),
    ("fd.pipe\ta", "expected READ_NAME WRITE_NAME"),
    ("fd.pipe\ta\ta", "must differ"),
    ("fd.pipe\ta\tb\tbogus", "unknown flag"),
    ("fd.pipe\tnull\tb", "cannot be altered"),
    ("fd.open\tf\tread", "expected NAME FLAGS PATH"),
    ("fd.open\tf\tread\t/nonexistent/dir/file", "open '/nonexistent/dir/file' failed"),
    ("fd.open\tf\tread,frobnicate\t/dev/null", "unknown flag"),
    ("fd.open\tf\tread\t/dev/null\textra", "unexpected argument after path"),
    ("fd.socket\ts\tunix,bind", "expected address argument"),
    ("fd.socket\ts\tunix,wobble\t/tmp/x", "unknown flag"),
    ("fd.socket\ts\tunix,listen=0\t/tmp/x", "invalid listen queue length"),
    ("fd.socket\ts\tunix\t/nonexistent/dir/sock", "bind '/nonexistent/dir/sock': No such file or directory"),
    ("fd.socket\ts\tinet\t127.0.0.1:notaport", "invalid address"),
    ("fd.take\tsomething", "no file descriptor received"),
    ("fd.delete\tnosuch", "no such file descriptor"),
    ("fd.delete\tcontrol.cmd", "cannot be altered"),
    ("socket.create\tbad\t/tmp/x", "invalid options"),
    ("signal.clear\tSIGUSR1", "expected SIGNAL COUNT"),
    ("signal.clear\tSIGUSR1\tmany", "expected integer"),
    ("log.filter\tloud", "invalid loglevel"),
    ("log.dest\tfile\tx", "unknown logging type"),
    ("conn.event_timeout\t5\t2", "reset timeout is greater than close timeout"),
    ("conn.event_timeout\t-1\t2", "invalid timeout"),
    ("chdir\t/nonexistent/dir", "chdir failed"),
    ("chdir", "expected PATH"),
    ("terminate", "expected exit code"),
    ("terminate\tx", "expected integer"),
    ("terminate.guard\t*\t3", "expected + or -"),
    ("terminate.guard\t+\t0", "code cannot be 0"),
    ("terminate.guard\t-\t5", "terminate guard was not set"),
]


def test_bad_commands_error_and_change_nothing(proxy):
    proxy.send("service.args", "web", "sleep", "30")
    proxy.events_until_echo()
    proxy.send("statedump")
    before = proxy.events_until_echo("snap")
    for line, expect in BAD_COMMANDS:
        proxy.send_raw(line + "\n")
        ev = proxy.read_event()
        assert ev[0] == "error", (line, ev)
        assert expect in ev[1], (line, ev)
        assert len(ev) == 2
    proxy.send("statedump")
    assert proxy.events_until_echo("snap") == before
    # the errors were logged with the line number of the interactive stream
    proxy.send("echo", "x")
    proxy.read_event()
    text = proxy.stderr_path.read_text()
    assert "error: interactive line" in text and "invalid signal argument" in text


def test_start_run_exit_event_fields(proxy):
    proxy.send("service.args", "job", "sh", "-c", "sleep 0.2; exit 3")
    proxy.send("service.start", "job")
    start = proxy.wait_for(("service.state", "job", "start"))
    assert start[4:] == ["-"] * 5
    up = proxy.wait_for(("service.state", "job", "up"))
    pid = int(up[4])
    assert up[5:7] == ["-", "-"] and float(up[7]) < 0.5 and up[8] == "-"
    down = proxy.wait_for(("service.state", "job", "down"))
    assert down[4] == str(pid) and down[5:7] == ["exit", "3"]
    assert 0.15 < float(down[7]) < 2.0                     # uptime
    assert float(down[3]) - float(up[3]) == pytest.approx(float(down[7]), abs=0.002)
    assert float(down[8]) < 0.5                            # downtime
    proxy.send("service.start", "job")
    proxy.wait_for(("service.state", "job", "up"))
    proxy.send("service.start", "job")
    ev = proxy.wait_for(("error",))
    assert "not startable" in ev[1]


def test_start_without_args_and_missing_program(proxy):
    proxy.send("service.fds", "noargs")
    proxy.send("service.start", "noargs")
    assert "no args configured" in proxy.wait_for(("error",))[1]
    proxy.send("service.args", "missing", "/nonexistent/program")
    proxy.send("service.start", "missing")
    err = proxy.wait_for(("error",))
    assert "service missing" in err[1] and "exec '/nonexistent/program' failed" in err[1]
    down = proxy.wait_for(("service.state", "missing", "down"))
    assert down[4:7] == ["-", "exit", "127"]
    proxy.send("service.args", "badfd", "true")
    proxy.send("service.fds", "badfd", "null", "undefined.fd")
    proxy.send("service.start", "badfd")
    err = proxy.wait_for(("error",))
    assert 'file descriptor "undefined.fd" does not exist' in err[1]


def test_delayed_start_and_cancel(proxy):
    proxy.send("service.args", "later", "true")
    proxy.send("echo", "t")
    proxy.wait_for(("t",))
    t0 = time.monotonic()
    when = round(t0 + 0.6, 3)
    proxy.send("service.start", "later", "%.3f" % when)
    ev = proxy.wait_for(("service.state", "later", "start"))
    assert float(ev[3]) == pytest.approx(when, abs=0.002)
    up = proxy.wait_for(("service.state", "later", "up"))
    assert float(up[3]) >= when - 0.001 and time.monotonic() >= when
    proxy.wait_for(("service.state", "later", "down"))
    # schedule far in the future, then cancel
    proxy.send("service.start", "later", str(int(time.monotonic()) + 100))
    proxy.wait_for(("service.state", "later", "start"))
    proxy.send("service.start", "later", "-")
    assert proxy.wait_for(("service.state", "later")) == ["service.state", "later", "down"] + ["-"] * 6
    proxy.send("statedump")
    assert ["service.state", "later", "down"] + ["-"] * 6 in proxy.events_until_echo()


def test_signal_by_name_number_and_group(proxy):
    proxy.send("service.args", "one", "sleep", "30")
    proxy.send("service.start", "one")
    up = proxy.wait_for(("service.state", "one", "up"))
    proxy.send("service.signal", "one", "SIGTERM")
    down = proxy.wait_for(("service.state", "one", "down"))
    assert down[4:7] == [up[4], "signal", "SIGTERM"]
    proxy.send("service.start", "one")
    proxy.wait_for(("service.state", "one", "up"))
    proxy.send("service.signal", "one", "9")
    assert proxy.wait_for(("service.state", "one", "down"))[5:7] == ["signal", "SIGKILL"]
    # a shell with a child: 'group' reaches the grandchild too (services lead their group)
    proxy.send("service.args", "grp", "sh", "-c", "sleep 30 & echo $! > %s/child; wait" % proxy.stderr_path.parent)
    proxy.send("service.start", "grp")
    up = proxy.wait_for(("service.state", "grp", "up"))
    child = int(wait_until(lambda: (proxy.stderr_path.parent / "child").exists()
                           and (proxy.stderr_path.parent / "child").read_text().strip()))
    assert os.getpgid(child) == int(up[4])
    proxy.send("service.signal", "grp", "USR1", "group")
    assert proxy.wait_for(("service.state", "grp", "down"))[5:7] == ["signal", "SIGUSR1"]
    wait_until(lambda: not alive(child))


def test_delete(proxy):
    proxy.send("service.args", "d", "sleep", "30")
    proxy.send("service.start", "d")
    proxy.wait_for(("service.state", "d", "up"))
    proxy.send("service.delete", "d")
    assert "service is running" in proxy.wait_for(("error",))[1]
    proxy.send("service.signal", "d", "KILL")
    proxy.wait_for(("service.state", "d", "down"))
    proxy.send("service.delete", "d")
    assert proxy.wait_for(("service.state", "d")) == ["service.state", "d", "deleted"] + ["-"] * 6
    proxy.send("statedump")
    assert not any(e[0].startswith("service.") and e[1] == "d" for e in proxy.events_until_echo())


def test_environment_inherit_set_unset_clean(procs, tmp_path):
    env = dict(os.environ, PROXY_TEST_INHERITED="yes", PROXY_TEST_DROP="drop")
    cli = procs.interactive(env=env)
    out = tmp_path / "env.txt"
    script = 'echo "I=$PROXY_TEST_INHERITED D=${PROXY_TEST_DROP-unset} S=$SETME" >> %s' % out
    cli.send("service.args", "e", "/bin/sh", "-c", script)
    cli.send("service.start", "e")
    cli.wait_for(("service.state", "e", "down"))
    cli.send("service.env", "e", "SETME=a=b", "-PROXY_TEST_DROP")
    cli.send("service.start", "e")
    cli.wait_for(("service.state", "e", "down"))
    cli.send("service.env", "e", "clean", "SETME=c")
    cli.send("service.start", "e")
    cli.wait_for(("service.state", "e", "down"))
    assert out.read_text().splitlines() == [
        "I=yes D=drop S=", "I=yes D=unset S=a=b", "I= D=unset S=c"]


def test_chdir_changes_relative_paths(proxy, tmp_path):
    proxy.send("chdir", str(tmp_path))
    proxy.send("fd.open", "rel", "write,create", "relative.txt")
    ev = proxy.wait_for(("fd.state", "rel"))
    assert ev == ["fd.state", "rel", "file", "write,create", "relative.txt"]
    assert (tmp_path / "relative.txt").exists()


def test_log_filter_and_dest(proxy, tmp_path):
    proxy.send("log.filter")
    assert proxy.read_event() == ["log.filter", "debug"]
    proxy.send("log.filter", "+")
    assert proxy.read_event() == ["log.filter", "info"]
    proxy.send("log.filter", "-")
    proxy.send("log.filter", "-")
    assert proxy.read_event() == ["log.filter", "debug"]
    assert proxy.read_event() == ["log.filter", "trace"]
    proxy.send("log.filter", "warn")
    assert proxy.read_event() == ["log.filter", "warning"]
    proxy.send("log.dest", "fd", "proxylog")
    assert proxy.read_event() == ["warning", 'fd "proxylog" does not exist']
    proxy.send("fd.open", "proxylog", "write,create,append", str(tmp_path / "proxy.log"))
    proxy.send("frobnicate")
    proxy.events_until_echo()
    assert "Unknown command: frobnicate" in (tmp_path / "proxy.log").read_text()
    assert "frobnicate" not in proxy.stderr_path.read_text()
    proxy.send("log.filter", "fatal")
    proxy.send("frobnicate2")
    proxy.events_until_echo()
    assert "frobnicate2" not in (tmp_path / "proxy.log").read_text()
