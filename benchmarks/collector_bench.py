#!/usr/bin/env python3
"""Collector benchmark: advertise 10,000 slot ads, then query them all.

Measures, against a real ``condor_collector`` process of pyhtc on loopback:

1. TCP advertise of N slot ads through the real ``htcondor2`` client (one connection);
2. UDP update rate: N raw UPDATE_STARTD_AD datagrams (one real slot ad each, distinct Names)
   sent as fast as the socket takes them; rate = ads the collector stored / seconds until it
   stopped receiving; lost datagrams are reported;
3. the full query of all N ads with ``htcondor2.Collector.query`` and with pyhtc's client
   (and ``condor_status -af Name`` when that tool is installed).

Targets (issue: CEDAR/collector): full query <= 1 s, >= 5,000 UDP updates/s. There is no
HTCondor collector on this machine to run beside it, so the figures are absolute.

usage: python benchmarks/collector_bench.py [--ads N] [--shared DIR]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from daemon_helpers import start_daemon  # noqa: E402


def slot_template(shared: pathlib.Path) -> str:
    text = (shared / "real" / "ads" / "htcondor__basic4slot.ads").read_text()
    first = text.strip().split("\n\n")[0]
    return "\n".join(line for line in first.splitlines()
                     if not line.startswith(("Name ", "Name=", "MyAddress")))


def run_client(code: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise SystemExit(r.stderr)
    return r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ads", type=int, default=10_000)
    ap.add_argument("--shared", default=os.environ.get("PYHTC_SHARED", str(HERE.parent.parent / "shared")))
    args = ap.parse_args()
    n = args.ads
    template = slot_template(pathlib.Path(args.shared))
    nattrs = len(template.splitlines()) + 2

    from pyhtc.cedar.safesock import encode_udp_command
    from pyhtc.cedar.wire_ad import WireAd, put_ad

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp, "CollectorLog",
                            _CONDOR_COLLECTOR_DEBUG="")
        host, port = coll.host_port.split(":")
        port = int(port)
        try:
            print(f"collector at {coll.sinful}; slot ads of {nattrs} attributes, N = {n}")
            # 1. TCP advertise with the real client
            code = f"""
import time, htcondor2, classad2
tmpl = classad2.parseOne({template!r}, classad2.ParserType.Old)
ads = []
for i in range({n}):
    a = classad2.ClassAd(); a.update(tmpl)
    a['Name'] = 'slot%d@tcp%d' % (i % 8, i // 8)
    a['MyAddress'] = '<127.0.0.1:%d>' % (10000 + i)
    ads.append(a)
t = time.perf_counter()
htcondor2.Collector({coll.host_port!r}).advertise(ads, 'UPDATE_STARTD_AD')
print(time.perf_counter() - t)
"""
            t_adv = float(run_client(code))
            print(f"TCP advertise (htcondor2, one connection): {n} ads in {t_adv:.2f} s = {n / t_adv:,.0f} ads/s")

            # 2. UDP update rate (raw datagrams, distinct names)
            base = WireAd()
            for line in template.splitlines():
                k, _, v = line.partition("=")
                if k.strip():
                    base.set_expr(k.strip(), v.strip())
            grams = []
            for i in range(n):
                ad = base.copy()
                ad.set("Name", f"slot{i % 8}@udp{i // 8}")
                ad.set("MyAddress", f"<127.0.0.1:{20000 + i}>")
                grams.extend(encode_udp_command(0, lambda enc, a=ad: put_ad(enc, a)))
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
            from pyhtc.client import CollectorClient
            from pyhtc.config import Config
            cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": coll.host_port},
                              read_user_config=False)
            cc = CollectorClient(config=cfg)

            def count_udp() -> int:
                return len(cc.query("Startd", 'regexp("@udp", Name)', ["Name"]))

            t0 = time.perf_counter()
            for g in grams:
                while True:
                    try:
                        s.sendto(g, (host, port))
                        break
                    except BlockingIOError:
                        time.sleep(0.0005)
            t_sent = time.perf_counter() - t0
            last, stable_since = -1, time.perf_counter()
            while True:
                time.sleep(0.2)
                c = count_udp()
                if c != last:
                    last, stable_since = c, time.perf_counter()
                elif time.perf_counter() - stable_since > 1.0 or c >= n:
                    break
            t_udp = stable_since - t0
            print(f"UDP updates: sent {len(grams)} datagrams in {t_sent:.2f} s; collector stored {last} of {n} "
                  f"({n - last} lost) in {t_udp:.2f} s = {last / t_udp:,.0f} updates/s (target >= 5,000)")

            # 3. full queries
            code = f"""
import time, htcondor2
c = htcondor2.Collector({coll.host_port!r})
best = 1e9
for _ in range(3):
    t = time.perf_counter(); ads = c.query(htcondor2.AdTypes.Startd); best = min(best, time.perf_counter() - t)
print(len(ads), best)
"""
            cnt, t_q = run_client(code).split()
            print(f"full query, htcondor2.Collector.query: {cnt} ads in {float(t_q):.2f} s (target <= 1 s)")
            best = 1e9
            for _ in range(3):
                t = time.perf_counter()
                ads = cc.query("Startd")
                best = min(best, time.perf_counter() - t)
            print(f"full query, pyhtc.client.CollectorClient.query: {len(ads)} ads in {best:.2f} s")
            status = pathlib.Path(sys.executable).with_name("condor_status")
            if status.exists():
                env = dict(os.environ, CONDOR_CONFIG="ONLY_ENV", _CONDOR_COLLECTOR_HOST=coll.host_port)
                t = time.perf_counter()
                r = subprocess.run([str(status), "-af", "Name"], env=env, capture_output=True, text=True)
                dt = time.perf_counter() - t
                print(f"full query, condor_status -af Name (whole process): {len(r.stdout.splitlines())} ads in {dt:.2f} s")
        finally:
            coll.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
