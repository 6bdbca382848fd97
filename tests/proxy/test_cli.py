"""The pyhtc-proxy command line: modes, end of input, exit guard, exec-on-exit, config files."""
import os
import signal
import subprocess
import sys
import time

from proxy_helpers import alive, wait_until

PROXY = [sys.executable, "-m", "pyhtc.proxy.cli"]
EXIT42 = "/bin/sh\t-c\texit 42"


def run(*args, stdin=b"", timeout=10):
    return subprocess.run([*PROXY, *args], input=stdin, capture_output=True, timeout=timeout)


def test_version_help_and_usage_errors():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith(b"pyhtc-proxy ")
    r = run("-h")
    assert r.returncode == 0 and b"-c, --config FILE" in r.stdout and b"--exit-guard" in r.stdout
    r = run()
    assert r.returncode == 2 and b"require -i or -c or -S" in r.stderr
    r = run("--frobnicate")
    assert r.returncode == 2 and b"unknown option '--frobnicate'" in r.stderr
    r = run("--exit-guard", "abc", "-i")
    assert r.returncode == 2 and b"must be an integer" in r.stderr
    r = run("-c")
    assert r.returncode == 2 and b"needs an argument" in r.stderr


def test_exec_on_exit_for_version_help_bad_option_and_missing_config():
    assert run("-E", EXIT42, "--version").returncode == 42
    assert run("--exit-exec", EXIT42, "--help").returncode == 42
    assert run("-E", EXIT42, "--nonsense").returncode == 42
    r = run("-E", EXIT42, "-c", "/nonexistent/config")
    assert r.returncode == 42


def test_missing_config_file_is_reported():
    r = run("-c", "/nonexistent/config")
    assert r.returncode == 3 and b"failed to open config file '/nonexistent/config'" in r.stderr


def test_interactive_end_of_input_names_running_services(procs):
    cli = procs.interactive()
    cli.send("service.args", "keep", "sleep", "30")
    cli.send("service.start", "keep")
    pid = int(cli.wait_for(("service.state", "keep", "up"))[4])
    cli.send("service.args", "gone", "true")
    cli.send("service.start", "gone")
    cli.wait_for(("service.state", "gone", "down"))
    cli.proc.stdin.close()
    ev = cli.wait_for(("info",))
    assert "end of input" in ev[1] and "1 service(s) still running: keep" in ev[1] and "exiting" in ev[1]
    assert cli.read_event() is None
    assert cli.proc.wait(5) == 0
    assert alive(pid)                                   # services are not killed on exit
    assert "still running: keep" in cli.stderr_path.read_text()
    os.kill(pid, signal.SIGKILL)


def test_exit_command_ends_interactive_session(procs):
    cli = procs.interactive()
    cli.send("exit")
    ev = cli.wait_for(("info",))
    assert "no services running" in ev[1]
    assert cli.proc.wait(5) == 0


def test_exit_guard_keeps_running_after_end_of_input(procs):
    cli = procs.interactive("--exit-guard", "54321")
    cli.send("terminate", "0")
    assert "guard code required" in cli.read_event()[1]
    cli.send("terminate", "0", "12345")
    assert "incorrect terminate guard code" in cli.read_event()[1]
    cli.send("terminate", "0", "54321")
    assert "exec-on-exit is not configured" in cli.read_event()[1]
    cli.send("terminate.guard", "+", "7")
    assert "already set" in cli.read_event()[1]
    cli.proc.stdin.close()
    ev = cli.wait_for(("info",))
    assert "terminate-guard is set, so the proxy keeps running" in ev[1]
    time.sleep(0.3)
    assert cli.proc.poll() is None


def test_terminate_guard_disarm_and_exit_codes(procs):
    cli = procs.interactive("--exit-guard", "99")
    cli.send("terminate.guard", "-", "98")
    assert "incorrect guard code" in cli.read_event()[1]
    cli.send("terminate.guard", "-", "99")
    cli.send("terminate", "3")
    assert cli.proc.wait(5) == 3
    cli2 = procs.interactive()
    cli2.send("terminate", "255")
    assert cli2.proc.wait(5) == 255


def test_terminate_exec_args_and_guard_with_exec(procs, tmp_path):
    out = tmp_path / "exec.txt"
    cli = procs.interactive("--exit-guard", "5")
    cli.send("service.args", "svc", "sleep", "30")
    cli.send("service.start", "svc")
    pid = int(cli.wait_for(("service.state", "svc", "up"))[4])
    cli.send("terminate.exec_args", "/bin/sh", "-c",
             f'echo "$PYHTC_PROXY_EXITCODE|$PYHTC_PROXY_SERVICES" > {out}; exit 42')
    cli.send("terminate", "7", "5")
    assert cli.proc.wait(5) == 42
    assert out.read_text().strip() == f"7|svc={pid}"
    os.kill(pid, signal.SIGKILL)


def test_exec_on_exit_on_terminate_and_fatal_signal(procs):
    cli = procs.interactive("-E", EXIT42)
    cli.send("terminate", "0")
    assert cli.proc.wait(5) == 42
    cli = procs.interactive("-E", EXIT42)
    cli.send("echo", "up")
    cli.read_event()
    os.kill(cli.proc.pid, signal.SIGABRT)
    assert cli.proc.wait(5) == 42
    cli = procs.interactive()
    cli.send("terminate.exec_args", "/bin/sh", "-c", "exit 43")
    cli.send("echo", "set")
    cli.read_event()
    os.kill(cli.proc.pid, signal.SIGILL)
    assert cli.proc.wait(5) == 43


def test_config_file_errors_are_logged_with_file_and_line(procs, tmp_path):
    conf = tmp_path / "bad.conf"
    out = tmp_path / "ran.txt"
    conf.write_text("# comment\n"
                    "\n"
                    f"service.args\tok\tsh\t-c\techo ran > {out}\n"
                    "service.args\tempty\n"
                    "no.such.command\n"
                    "service.start\tok")                  # last line without newline still runs
    proc = procs.daemon("-c", str(conf), "-S", str(tmp_path / "s.sock"))
    wait_until(lambda: out.exists())
    text = proc.stderr_path.read_text()
    assert f"{conf}:4: empty argv" in text
    assert f"{conf}:5: Unknown command: no.such.command" in text
    assert "command ends at end of file" in text


def test_config_from_stdin(tmp_path):
    out = tmp_path / "ran.txt"
    proc = subprocess.Popen([*PROXY, "-c", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(f"service.args\tx\tsh\t-c\techo hi > {out}\nservice.start\tx\nterminate\t5\n".encode())
    proc.stdin.close()
    assert proc.wait(5) == 5
    wait_until(lambda: out.exists() and out.read_text() == "hi\n")


def test_verbosity_options(procs):
    for args, level in ((("-q",), "info"), (("-v",), "trace"), (("-q", "-q"), "warning"), ((), "debug")):
        cli = procs.interactive(*args)
        cli.send("log.filter")
        assert cli.read_event() == ["log.filter", level]
        cli.proc.stdin.close()
        cli.proc.wait(5)
        logged = cli.stderr_path.read_text()
        assert ("info: interactive session ended" in logged) == (level in ("debug", "trace"))


def test_services_get_only_their_fds_and_default_signals(procs, tmp_path):
    """Descriptors of the proxy never leak into a service; ignored signals are reset."""
    out = tmp_path / "fds.txt"
    r, w = os.pipe()  # an inherited descriptor (registered as fd_N, not passed on)
    os.set_inheritable(w, True)
    cli = procs.interactive()
    os.close(w)
    os.close(r)
    cli.send("fd.pipe", "pr", "pw")
    cli.send("service.args", "ls", "sh", "-c",
             f"ls /proc/$$/fd > {out}; grep SigIgn /proc/$$/status >> {out}")
    cli.send("service.fds", "ls", "null", "pw")
    cli.send("service.start", "ls")
    cli.wait_for(("service.state", "ls", "down"))
    lines = out.read_text().split()
    fds = sorted(int(x) for x in lines if x.isdigit())
    assert fds[:2] == [0, 1] and 2 not in fds and all(f < 3 or f >= 10 for f in fds)  # 10+: sh's own
    ignored = int(lines[-1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1)), "Python's SIG_IGN for SIGPIPE must be reset"
    assert not ignored & (1 << (signal.SIGXFSZ - 1))


def test_interactive_with_commands_from_a_regular_file(tmp_path):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("echo\tfrom-file\nservice.args\tz\tsleep\t30\nservice.start\tz\n")
    with open(cmds, "rb") as f:
        r = subprocess.run([*PROXY, "-i"], stdin=f, capture_output=True, timeout=10)
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 0
    assert lines[0].startswith("info\tInteractive mode") and lines[1] == "from-file"
    up = [ln.split("\t") for ln in lines if ln.startswith("service.state\tz\tup")]
    assert lines[-1].startswith("info\tend of input") and "still running: z" in lines[-1]
    os.killpg(int(up[0][4]), signal.SIGKILL)
