"""Controllers: a controller service that dies and resyncs, slow controllers, the socket
transport, queued signals and auto_up timing."""
import os
import signal
import sys
import textwrap
import time

from proxy_helpers import alive, wait_until

CONTROLLER = textwrap.dedent("""\
    import os, sys
    log = open(sys.argv[1], "a", buffering=1)
    me = os.getpid()
    out = sys.stdout
    out.write("statedump\\necho\\tready\\t%d\\n" % me)
    out.flush()
    state = {}
    for line in sys.stdin:
        f = line.rstrip("\\n").split("\\t")
        log.write("%d\\t%s" % (me, line))
        if f[0] == "service.state":
            state[f[1]] = f[2]
        if f[:2] == ["ready", str(me)]:
            if state.get("worker") != "up":
                out.write("service.args\\tworker\\tsleep\\t1000\\nservice.auto_up\\tworker\\t1\\talways\\n")
                out.flush()
            log.write("%d\\tRESYNCED\\n" % me)
""")


def test_controller_killed_mid_stream_is_restarted_and_resyncs(procs, tmp_path):
    script = tmp_path / "ctl.py"
    script.write_text(CONTROLLER)
    log = tmp_path / "ctl.log"
    conf = tmp_path / "proxy.conf"
    conf.write_text(f"service.args\tcontroller\t{sys.executable}\t{script}\t{log}\n"
                    "service.fds\tcontroller\tcontrol.event\tcontrol.cmd\tstderr\n"
                    "service.auto_up\tcontroller\t1\talways\n")
    obs = procs.interactive("-c", str(conf))
    c1 = int(obs.wait_for(("service.state", "controller", "up"), 10)[4])
    worker = int(obs.wait_for(("service.state", "worker", "up"), 10)[4])
    wait_until(lambda: f"{c1}\tRESYNCED" in log.read_text())
    # kill the controller while events are streaming to it
    for i in range(300):
        obs.send("service.tags", "worker", f"burst-{i}")
    os.kill(c1, signal.SIGKILL)
    down = obs.wait_for(("service.state", "controller", "down"), 10)
    assert down[4:7] == [str(c1), "signal", "SIGKILL"]
    c2 = int(obs.wait_for(("service.state", "controller", "up"), 10)[4])
    assert c2 != c1
    wait_until(lambda: f"{c2}\tRESYNCED" in log.read_text(), 10)
    mine = [ln.split("\t", 1)[1] for ln in log.read_text().splitlines() if ln.startswith(f"{c2}\t")]
    ups = [ln for ln in mine if ln.startswith("service.state\tworker\tup\t")]
    assert ups and ups[0].split("\t")[4] == str(worker)      # statedump shows the same worker
    assert "service.tags\tworker\tburst-299" in mine            # and its latest settings
    assert alive(worker)
    obs.send("statedump")
    evs = obs.events_until_echo()
    assert not any(e[:3] == ["service.state", "worker", "down"] for e in evs + obs.seen)
    procs.extra_pids.add(worker)


def test_slow_controller_gets_overflow_then_statedump(procs, tmp_path):
    path = tmp_path / "ctl.sock"
    proxy = procs.daemon("-S", str(path))
    slow = procs.connect(path)
    tag = "t" * 200
    n = 6000
    slow.send_raw("".join(f"service.tags\tsvc\t{tag}\t{i}\n" for i in range(n)))
    slow.send("service.args", "svc", "true")
    time.sleep(0.5)
    rss_kib = int(open(f"/proc/{proxy.pid}/status").read().split("VmRSS:")[1].split()[0])
    assert rss_kib < 60 * 1024, "event queue must stay bounded"
    got = []
    while True:
        ev = slow.read_event()
        got.append(ev)
        if ev == ["overflow"]:
            break
    tags = [e for e in got if e[0] == "service.tags"]
    assert 0 < len(tags) < n
    assert [int(e[3]) for e in tags] == list(range(len(tags)))   # a prefix, never a half line
    state = slow.resync()
    assert state.services["svc"]["tags"] == [tag, str(n - 1)]
    assert state.services["svc"]["args"] == ["true"]
    slow.send("echo", "after")
    assert slow.wait_for(("after",)) == ["after"]


def test_unread_events_close_the_connection_after_close_timeout(procs, tmp_path):
    path = tmp_path / "ctl.sock"
    procs.daemon("-S", str(path))
    slow = procs.connect(path)
    slow.send("conn.event_timeout", "0", "1")
    slow.send_raw("".join(f"service.tags\tsvc\t{'x' * 200}\t{i}\n" for i in range(4000)))
    time.sleep(1.6)
    evs = []
    while True:
        ev = slow.read_event()
        if ev is None:
            break
        evs.append(ev)
    assert len(evs) < 4000                                  # dropped, then disconnected
    other = procs.connect(path)                             # the proxy itself is fine
    other.send("echo", "alive")
    assert other.read_event() == ["alive"]


def test_over_long_line_is_an_error_and_commands_work_again(proxy):
    proxy.send_raw("echo\t" + "x" * 10000 + "\n")
    ev = proxy.read_event()
    assert ev[0] == "error" and "line too long" in ev[1]
    proxy.send_raw("#" + "y" * 10000 + "\n")                 # a long comment is fine
    proxy.send("echo", "marker")
    assert proxy.read_event() == ["marker"]
    proxy.send_raw("service.args\tlong\t" + "z" * 5000 + "\n")  # arrives in one chunk
    assert "line too long" in proxy.read_event()[1]
    proxy.send("echo", "marker2")
    assert proxy.read_event() == ["marker2"]


def test_socket_transport_broadcast_echo_exit(procs, tmp_path):
    path = tmp_path / "ctl.sock"
    procs.daemon("-S", str(path))
    a = procs.connect(path)
    b = procs.connect(path)
    b.send("echo", "b-ready")
    assert b.read_event() == ["b-ready"]
    a.send("service.args", "s", "true")
    a.send("echo", "only-a")
    assert a.read_event() == ["service.args", "s", "true"]
    assert a.read_event() == ["only-a"]
    assert b.read_event() == ["service.args", "s", "true"]  # broadcast
    a.send("bogus")
    assert a.read_event()[0] == "error"
    a.send("exit")
    assert a.read_event() is None                          # connection closed by the proxy
    second = tmp_path / "second.sock"
    b.send("socket.create", "-", str(second))
    b.send("echo", "created")
    b.wait_for(("created",))
    c = procs.connect(second)
    c.send("echo", "via-second")
    assert c.read_event() == ["via-second"]
    b.send("socket.delete")
    b.send("echo", "deleted")
    b.wait_for(("deleted",))
    assert not second.exists() and not path.exists()


def test_signals_are_queued_with_timestamps_until_cleared(procs, tmp_path):
    path = tmp_path / "ctl.sock"
    proxy = procs.interactive("-S", str(path))
    proxy.send("echo", "ready")
    proxy.read_event()
    os.kill(proxy.proc.pid, signal.SIGUSR2)
    e1 = proxy.read_event()
    os.kill(proxy.proc.pid, signal.SIGUSR2)
    e2 = proxy.read_event()
    assert e1[0::3] == ["signal", "1"] and e2[0::3] == ["signal", "2"] and e1[1] == "SIGUSR2"
    assert float(e2[2]) >= float(e1[2]) > 0
    os.kill(proxy.proc.pid, signal.SIGHUP)
    assert proxy.read_event()[:2] == ["signal", "SIGHUP"]
    # a controller connecting later is told about pending signals at once
    late = procs.connect(path)
    late.send("echo", "x")
    seen = late.sync()
    assert ["signal", "SIGUSR2", e2[2], "2"] in seen and any(e[:2] == ["signal", "SIGHUP"] for e in seen)
    proxy.send("statedump")
    assert ["signal", "SIGUSR2", e2[2], "2"] in proxy.events_until_echo()
    proxy.send("signal.clear", "SIGUSR2", "1")
    proxy.send("statedump")
    assert ["signal", "SIGUSR2", e2[2], "1"] in proxy.events_until_echo()
    proxy.send("signal.clear", "USR2", "5")
    proxy.send("signal.clear", "1", "1")  # SIGHUP by number
    proxy.send("statedump")
    assert not any(e[0] == "signal" for e in proxy.events_until_echo())


def test_signal_trigger_starts_service(proxy):
    proxy.send("service.args", "onhup", "sleep", "0.3")
    proxy.send("service.auto_up", "onhup", "1", "SIGHUP")
    assert proxy.wait_for(("service.auto_up",)) == ["service.auto_up", "onhup", "1", "SIGHUP"]
    os.kill(proxy.proc.pid, signal.SIGHUP)
    proxy.wait_for(("service.state", "onhup", "up"))
    proxy.send("signal.clear", "SIGHUP", "1")
    proxy.wait_for(("service.state", "onhup", "down"))
    proxy.send("echo", "quiet")
    time.sleep(1.2)
    assert proxy.wait_for(("quiet",)) and not any(e[2] == "start" for e in proxy.seen if e[0] == "service.state")


def test_auto_up_restart_timing_from_event_timestamps(proxy):
    proxy.send("service.args", "flap", "sh", "-c", "exit 1")
    proxy.send("service.auto_up", "flap", "1", "always")
    ups = [float(proxy.wait_for(("service.state", "flap", "up"), 5)[3]) for _ in range(3)]
    proxy.send("service.auto_up", "flap", "-")
    gaps = [b - a for a, b in zip(ups, ups[1:])]
    assert all(1.0 <= g < 1.5 for g in gaps), gaps           # no more often than the interval
    # a service that ran longer than the interval is restarted at once
    proxy.send("service.args", "long", "sleep", "30")
    proxy.send("service.auto_up", "long", "1", "always")
    up = proxy.wait_for(("service.state", "long", "up"))
    time.sleep(1.05)
    os.kill(int(up[4]), signal.SIGKILL)
    down = proxy.wait_for(("service.state", "long", "down"))
    up2 = proxy.wait_for(("service.state", "long", "up"))
    assert down[5:7] == ["signal", "SIGKILL"]
    assert float(up2[3]) - float(down[3]) < 0.1
    proxy.send("service.auto_up", "long", "-")
    assert proxy.wait_for(("service.auto_up",)) == ["service.auto_up", "long", "-"]


def test_events_only_and_commands_only_controller_services(proxy, tmp_path):
    out = tmp_path / "events.txt"
    proxy.send("service.args", "listener", "sh", "-c", f"head -n 2 > {out}")
    proxy.send("service.fds", "listener", "control.event", "null", "stderr")
    proxy.send("service.start", "listener")
    proxy.wait_for(("service.state", "listener", "up"))
    proxy.send("service.tags", "other", "hello")
    proxy.wait_for(("service.state", "listener", "down"))
    lines = out.read_text().splitlines()
    assert lines[0].startswith("service.state\tlistener\tup\t") and lines[1] == "service.tags\tother\thello"
    proxy.send("service.args", "talker", "sh", "-c", r"printf 'service.tags\ttalker\tsent-by-me\n'")
    proxy.send("service.fds", "talker", "null", "control.cmd", "stderr")
    proxy.send("service.start", "talker")
    assert proxy.wait_for(("service.tags", "talker")) == ["service.tags", "talker", "sent-by-me"]
    # a controller with the full control.socket on one descriptor
    proxy.send("service.args", "both", "sh", "-c", r"printf 'echo\tx\n' >&3; head -n 1 <&3 > %s" % (tmp_path / "both.txt"))
    proxy.send("service.fds", "both", "null", "null", "stderr", "control.socket")
    proxy.send("service.start", "both")
    proxy.wait_for(("service.state", "both", "down"))
    text = (tmp_path / "both.txt").read_text()
    assert text.startswith("service.state\tboth\tup") or text == "x\n"
