#!/usr/bin/env python3
"""Collector benchmark: advertise 10,000 slot ads, then query them all.

Measures, against a real ``condor_collector`` process of pyhtc on loopback:

1. TCP advertise of N slot ads through the real ``htcondor2`` client (one connection);
2. the full query of those N ads: the reply drained unparsed (server + transport cost), with
   ``htcondor2.Collector.query`` (all attributes, and a projection on Name), with pyhtc's client
   and with ``condor_status -af Name`` when that tool is installed;
3. UDP update rate: N raw UPDATE_STARTD_AD datagrams (one real slot ad each, distinct Names)
   sent as fast as the socket takes them; rate = ads the collector stored / seconds until it
   was done (its socket queue empty and its CPU idle, watched from outside so no query holds
   its loop meanwhile; then the stored ads are counted until the count is stable).  Lost
   datagrams are reported with how many the kernel dropped (/proc/net/udp: a full receive
   buffer, COLLECTOR_SOCKET_BUFSIZE capped by net.core.rmem_max), and the collector CPU per
   update leaves out the CPU its answers to the count queries took (printed apart).

Wall-clock figures depend on what else the machine runs; the collector's CPU time per
update / per query (from psutil) is printed beside them, and the htcondor2 client's own CPU
time per query (its ClassAd parsing: a floor no server can lower).

Targets (issue: CEDAR/collector): full query <= 1 s, >= 5,000 UDP updates/s. There is no
HTCondor collector on this machine to run beside it, so the figures are absolute.

usage: python benchmarks/collector_bench.py [--ads N] [--shared DIR] [--udp-rate PER_SECOND]
                                          [--profile DIR]
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
    """The first slot ad of a real pool's collector dump, without Name and MyAddress (set
    per ad) and LastHeardFrom: the collector stamps that on ads that do not carry one (a
    startd never sends it); with the dump's 2014 value every ad would be stale and removed
    by the first housekeeping pass, in the middle of the run."""
    text = (shared / "real" / "ads" / "htcondor__basic4slot.ads").read_text()
    first = text.strip().split("\n\n")[0]
    return "\n".join(line for line in first.splitlines()
                     if not line.startswith(("Name ", "Name=", "MyAddress", "LastHeardFrom")))


class ServerCpu:
    """CPU seconds (user + system) the collector process used since the last call."""

    def __init__(self, pid: int):
        import psutil
        self.proc = psutil.Process(pid)
        self.last = self._now()

    def _now(self) -> float:
        t = self.proc.cpu_times()
        return t.user + t.system

    def lap(self) -> float:
        now = self._now()
        spent, self.last = now - self.last, now
        return spent


def run_client(code: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise SystemExit(r.stderr)
    return r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ads", type=int, default=10_000)
    ap.add_argument("--udp-rate", type=float, default=0.0,
                    help="send the UDP updates at this many per second (default: as fast as possible)")
    ap.add_argument("--profile", metavar="DIR",
                    help="run the collector under cProfile (_CONDOR_COLLECTOR_PROFILE=DIR)")
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
                            _CONDOR_COLLECTOR_DEBUG=os.environ.get("COLLECTOR_BENCH_DEBUG", "D_ALWAYS:2"),
                            **({"_CONDOR_COLLECTOR_PROFILE": args.profile} if args.profile else {}))
        host, port = coll.host_port.split(":")
        port = int(port)
        try:
            print(f"collector at {coll.sinful}; slot ads of {nattrs} attributes, N = {n}")
            cpu = ServerCpu(coll.proc.pid)
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
            cpu.lap()
            t_adv = float(run_client(code))
            time.sleep(0.5)  # the collector may still be reading the last updates
            c_adv = cpu.lap()
            print(f"TCP advertise (htcondor2, one connection): {n} ads in {t_adv:.2f} s = {n / t_adv:,.0f} ads/s; "
                  f"collector CPU {c_adv:.2f} s = {1e6 * c_adv / n:.0f} us/ad")

            from pyhtc.client import CollectorClient
            from pyhtc.config import Config
            cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": coll.host_port},
                              read_user_config=False)
            cc = CollectorClient(config=cfg)
            # 2. full queries of the N ads
            # the reply drained by pyhtc's transport without parsing it: what the server and
            # the socket cost, apart from the client's ClassAd parsing
            from pyhtc.cedar.commands import Command
            from pyhtc.client.core import MAX_REPLY_MESSAGE, client_policy, start_command
            q = WireAd()
            q.set("MyType", "Query")
            q.set("TargetType", "Machine")
            q.set_expr("Requirements", "true")
            pol = client_policy(cfg)
            best, size = 1e9, 0
            cpu.lap()
            for _ in range(3):
                t = time.perf_counter()
                with start_command(coll.host_port, Command.QUERY_STARTD_ADS, pol,
                                   max_message=MAX_REPLY_MESSAGE) as st:
                    st.put_ad(q).end_of_message()
                    size = len(st._recv_message().payload)
                best = min(best, time.perf_counter() - t)
            c_q = cpu.lap() / 3
            print(f"full query, reply drained unparsed (pyhtc transport, AES-GCM): {size / 1e6:.1f} MB in "
                  f"{best:.2f} s; collector CPU {c_q:.2f} s per query")
            for proj in ("", "Name"):
                code = f"""
import time, htcondor2
c = htcondor2.Collector({coll.host_port!r})
best, cpu = 1e9, 1e9
for _ in range(3):
    t, p = time.perf_counter(), time.process_time()
    ads = c.query(htcondor2.AdTypes.Startd, projection={[proj] if proj else []!r})
    best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - p)
print(len(ads), best, cpu)
"""
                cpu.lap()
                cnt, t_q, c_client = run_client(code).split()
                c_q = cpu.lap() / 3
                what = "projection Name" if proj else "all attributes"
                print(f"full query ({what}), htcondor2.Collector.query: {cnt} ads in {float(t_q):.2f} s "
                      f"(target <= 1 s); client CPU {float(c_client):.2f} s, collector CPU {c_q:.2f} s per query")
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
            # 3. UDP update rate, raw datagrams with distinct names (after the queries, which
            # thus see the N ads of step 1)
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

            names_q = WireAd()
            names_q.set("MyType", "Query")
            names_q.set("TargetType", "Machine")
            names_q.set_expr("Requirements", "true")
            names_q.set("Projection", "Name")

            poll_cpu = [0.0]

            def count_udp() -> int:
                # no constraint (one evaluated per ad would cost the collector more than the
                # updates being measured): the Names, counted in the unparsed reply.  The
                # collector CPU these polls take is measured apart (it is not update cost)
                c0 = cpu._now()
                try:
                    with start_command(coll.host_port, Command.QUERY_STARTD_ADS, pol,
                                       max_message=MAX_REPLY_MESSAGE) as st:
                        st.put_ad(names_q).end_of_message()
                        return st._recv_message().payload.count(b"@udp")
                finally:
                    poll_cpu[0] += cpu._now() - c0

            def kernel_udp(port: int) -> tuple:
                """(datagrams the kernel dropped, receive buffer in use) for the collector's
                UDP socket, from /proc/net/udp (Linux); (-1, -1) elsewhere."""
                try:
                    lines = pathlib.Path("/proc/net/udp").read_text().splitlines()[1:]
                except OSError:
                    return -1, -1
                for line in lines:
                    f = line.split()
                    if int(f[1].split(":")[1], 16) == port:
                        return int(f[-1]), int(f[4].split(":")[1], 16)
                return -1, -1

            drops0 = kernel_udp(port)[0]
            cpu.lap()
            t0 = time.perf_counter()
            for i, g in enumerate(grams):
                if args.udp_rate and i % 25 == 0:  # paced: never ahead of the asked rate
                    ahead = t0 + i / args.udp_rate - time.perf_counter()
                    if ahead > 0:
                        time.sleep(ahead)
                while True:
                    try:
                        s.sendto(g, (host, port))
                        break
                    except BlockingIOError:
                        time.sleep(0.0005)
            t_sent = time.perf_counter() - t0
            # the end of the collector's work is seen without asking it anything (a query
            # would hold its event loop while datagrams wait): its socket queue is empty and
            # it used under 10 % of a CPU for two 50 ms windows running; then the stored
            # ads are counted, and counted again until the count is stable
            idle_since = None
            deadline = time.perf_counter() + 120
            prev = cpu._now()
            while time.perf_counter() < deadline:
                t_win = time.perf_counter()
                time.sleep(0.05)
                now_cpu = cpu._now()
                busy = now_cpu - prev > 0.005 or kernel_udp(port)[1] > 0
                prev = now_cpu
                if busy:
                    idle_since = None
                elif idle_since is None:
                    idle_since = t_win
                elif time.perf_counter() - idle_since >= 0.1:
                    break
            last, stable_since = -1, idle_since or time.perf_counter()
            while True:
                c = count_udp()
                if c != last:
                    if last >= 0:  # still storing after all: the time is that of this count
                        stable_since = time.perf_counter()
                    last = c
                elif time.perf_counter() - stable_since > 1.0 or c >= n:
                    break
                time.sleep(0.2)
            t_udp = stable_since - t0
            c_all = cpu.lap()
            c_udp = c_all - poll_cpu[0]  # without the count queries (Name projections)
            drops = kernel_udp(port)[0] - drops0 if drops0 >= 0 else -1
            print(f"UDP updates: sent {len(grams)} datagrams in {t_sent:.2f} s; collector stored {last} of {n} "
                  f"({n - last} lost; dropped by the kernel: {drops if drops >= 0 else '?'}) in {t_udp:.2f} s = "
                  f"{last / t_udp:,.0f} updates/s (target >= 5,000); "
                  f"collector CPU {c_udp:.2f} s = {1e6 * c_udp / max(last, 1):.0f} us/update "
                  f"(= {max(last, 1) / max(c_udp, 1e-9):,.0f} updates per CPU second), "
                  f"plus {poll_cpu[0]:.2f} s answering the count polls")
            import re as _re
            log_text = (tmp / "CollectorLog").read_text()
            bufs = _re.findall(r"Reset OS socket buffer size to (\d+k) \(UDP\)|UDP receive buffer is (\d+) bytes", log_text)
            rmem = pathlib.Path("/proc/sys/net/core/rmem_max")
            print(f"  UDP receive buffer: COLLECTOR_SOCKET_BUFSIZE default 10000*1024 bytes; granted "
                  f"{[a or b for a, b in bufs] or '?'} (net.core.rmem_max = "
                  f"{rmem.read_text().strip() if rmem.exists() else '?'}; Linux reports twice what it grants, and "
                  f"each loopback datagram of {len(grams[0])} bytes takes about twice its size of it)")

        finally:
            coll.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
