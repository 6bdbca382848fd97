#!/usr/bin/env python3
"""pyhtc-proxy versus supervisord on N ``sleep 1000`` services (default 50).

Measured for each supervisor, in the same run and the same way:

* start: time from launching the supervisor until all N ``sleep`` children exist;
* restart: SIGKILL one long-running service (running > 1.5 s) and time until its replacement
  exists; median (and p90, max) of K kills (default 20), polling the supervisor's children;
* RSS of the supervisor process once all services run.

For pyhtc-proxy the restart is also timed from the ``service.state ... up`` event on a control
socket (exact, no polling error).

supervisord (PyPI ``supervisor``) is not a pyhtc dependency.  Install it in a separate venv::

    python3 -m venv /tmp/supvenv && /tmp/supvenv/bin/pip install supervisor
    python benchmarks/supervisor_bench.py --supervisord /tmp/supvenv/bin/supervisord

(or set ``SUPERVISORD=/path/to/supervisord``).  Without it, that side is skipped with a message.
Targets: restart median <= 50 ms, RSS below supervisord's, start of N faster than supervisord's.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from pyhtc.proxy.client import ProxyClient  # noqa: E402


def sleep_children(proc: psutil.Process) -> dict[int, psutil.Process]:
    out = {}
    for c in proc.children():
        try:
            if c.name() == "sleep":
                out[c.pid] = c
        except psutil.NoSuchProcess:
            pass
    return out


def wait_children(proc: psutil.Process, n: int, timeout: float) -> dict[int, psutil.Process]:
    deadline = time.monotonic() + timeout
    while True:
        kids = sleep_children(proc)
        if len(kids) >= n:
            return kids
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(kids)} of {n} services started within {timeout} s")
        time.sleep(0.002)


def _pids() -> set[int]:
    return {int(d) for d in os.listdir("/proc") if d.isdigit()}


def _new_sleep_child(parent: int, known: set[int]) -> bool:
    """True if a process not in *known* is a ``sleep`` child of *parent* (cheap: reads only
    the stat files of new pids, so the polling error stays well under a millisecond)."""
    for pid in _pids() - known:
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:
            continue
        if int(tail.split()[1]) == parent and head.endswith("(sleep"):
            return True
        # not ours (or still the forked supervisor before exec): look again next time
        if int(tail.split()[1]) != parent:
            known.add(pid)
    return False


def measure_restarts(proc: psutil.Process, n: int, kills: int, settle: float = 1.6) -> list[float]:
    """Kill *kills* different long-running children; seconds until each is replaced."""
    time.sleep(settle)
    lat = []
    for _ in range(kills):
        before = sleep_children(proc)
        victim = min(before.values(), key=lambda p: p.create_time())
        known = _pids()
        t0 = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        while not _new_sleep_child(proc.pid, known):
            if time.monotonic() - t0 > 30:
                raise RuntimeError("service was not restarted within 30 s")
            time.sleep(0.0002)
        lat.append(time.monotonic() - t0)
    return lat


def cleanup(proc: subprocess.Popen) -> None:
    try:
        p = psutil.Process(proc.pid)
        kids = p.children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    proc.kill()
    proc.wait()
    for k in kids:
        try:
            k.kill()
        except psutil.NoSuchProcess:
            pass


def bench_supervisord(exe: str, n: int, kills: int, tmp: str) -> dict:
    conf = os.path.join(tmp, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(f"[unix_http_server]\nfile={tmp}/supervisor.sock\n\n"
                f"[supervisord]\nnodaemon=true\nlogfile={tmp}/supervisord.log\n"
                f"pidfile={tmp}/supervisord.pid\nchildlogdir={tmp}\n\n"
                "[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
        for i in range(n):
            f.write(f"[program:s{i}]\ncommand=sleep 1000\nautostart=true\nautorestart=true\n"
                    "stdout_logfile=NONE\nstderr_logfile=NONE\n\n")
    t0 = time.monotonic()
    proc = subprocess.Popen([exe, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ps = psutil.Process(proc.pid)
        wait_children(ps, n, 60)
        start = time.monotonic() - t0
        lat = measure_restarts(ps, n, kills)
        wait_children(ps, n, 30)
        rss = ps.memory_info().rss
    finally:
        cleanup(proc)
    return {"start": start, "restart": lat, "rss": rss}


def bench_proxy(cmd: list[str], n: int, kills: int, tmp: str) -> dict:
    conf = os.path.join(tmp, "proxy.conf")
    sock = os.path.join(tmp, "proxy.sock")
    with open(conf, "w") as f:
        for i in range(n):
            f.write(f"service.args\ts{i}\tsleep\t1000\nservice.auto_up\ts{i}\t1\talways\n")
    t0 = time.monotonic()
    proc = subprocess.Popen([*cmd, "-S", sock, "-c", conf], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ps = psutil.Process(proc.pid)
        wait_children(ps, n, 60)
        start = time.monotonic() - t0
        lat = measure_restarts(ps, n, kills)
        # exact figure from the event stream: kill -> "service.state NAME up" event received
        cli = ProxyClient.connect(sock)
        state = cli.resync()
        exact = []
        for i in range(kills):
            name = f"s{n - 1 - i}"
            pid = int(state.services[name]["pid"])
            t1 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            ev = cli.wait_for(lambda e, nm=name: e[:3] == ["service.state", nm, "up"], 30)
            exact.append(time.monotonic() - t1)
            state.services[name]["pid"] = ev[4]
        wait_children(ps, n, 30)
        rss = ps.memory_info().rss
        cli.close()
    finally:
        cleanup(proc)
    return {"start": start, "restart": lat, "rss": rss, "restart_events": exact}


def summary(lat: list[float]) -> str:
    s = sorted(lat)
    return (f"median {statistics.median(s) * 1000:7.1f} ms  p90 {s[int(len(s) * 0.9) - 1] * 1000:7.1f} ms"
            f"  max {s[-1] * 1000:7.1f} ms")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=50)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--supervisord", default=os.environ.get("SUPERVISORD") or shutil.which("supervisord"),
                    help="path of supervisord (default: $SUPERVISORD or on PATH)")
    ap.add_argument("--proxy", default=f"{sys.executable} -m pyhtc.proxy.cli",
                    help="command that runs pyhtc-proxy")
    args = ap.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="supbench") as tmp:
        if args.supervisord and os.path.exists(args.supervisord):
            results["supervisord"] = bench_supervisord(args.supervisord, args.services, args.kills, tmp)
        else:
            print("supervisord not found: skipping that side.  Install it in a separate venv:\n"
                  "  python3 -m venv /tmp/supvenv && /tmp/supvenv/bin/pip install supervisor\n"
                  "and pass --supervisord /tmp/supvenv/bin/supervisord (or set SUPERVISORD).\n")
        results["pyhtc-proxy"] = bench_proxy(args.proxy.split(), args.services, args.kills, tmp)
    print(f"{args.services} x 'sleep 1000', {args.kills} SIGKILLs of long-running services\n")
    for name, r in results.items():
        print(f"{name:12s} start of {args.services}: {r['start'] * 1000:7.1f} ms   RSS {r['rss'] / 2**20:5.1f} MiB")
        print(f"{'':12s} restart (polled children): {summary(r['restart'])}")
        if "restart_events" in r:
            print(f"{'':12s} restart (up event):        {summary(r['restart_events'])}")
    p = results["pyhtc-proxy"]
    ok = statistics.median(p["restart"]) <= 0.050
    if "supervisord" in results:
        s = results["supervisord"]
        print("\nratios supervisord / pyhtc-proxy:")
        print(f"  restart median {statistics.median(s['restart']) / statistics.median(p['restart']):6.1f}x")
        print(f"  RSS            {s['rss'] / p['rss']:6.2f}x")
        print(f"  start of {args.services:<5d} {s['start'] / p['start']:6.1f}x")
        ok = ok and p["rss"] < s["rss"] and p["start"] < s["start"]
    print("\ntargets (restart <= 50 ms median; RSS and start below supervisord):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
