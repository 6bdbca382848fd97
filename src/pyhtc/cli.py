"""The ``pyhtc`` umbrella command: ``pyhtc demo`` and ``pyhtc pool up|status|down|run``."""
import argparse
import subprocess
import sys
from pathlib import Path

#: JobStatus codes -> names (condor_q's totals line)
_JOB_STATES = {1: "idle", 2: "running", 3: "removed", 4: "completed", 5: "held",
               6: "transferring output", 7: "suspended"}


def _pool_up(layout, timeout: float, started_box: list = None) -> int:
    from pyhtc.pool import PoolError, start_pool
    try:
        started, _ad = start_pool(layout, timeout=timeout)
    except (PoolError, FileNotFoundError) as exc:
        print(f"pyhtc pool up: {exc}", file=sys.stderr)
        return 1
    if started_box is not None:
        started_box.append(started)
    if not started:
        print(f"The pool in {layout.local_dir} is already running.")
    else:
        print(f"Personal HTCondor pool is up in {layout.local_dir}")
    print(f"  config: {layout.config}")
    print(f"  logs:   {layout.log}")
    print(f"  use it: export CONDOR_CONFIG={layout.config}")
    print(f"  stop:   pyhtc pool down --dir {layout.local_dir}")
    return 0


def _pool_status(layout) -> int:
    from pyhtc.pool import pool_status
    st = pool_status(layout)
    if not st["running"]:
        print(f"No pool is running in {layout.local_dir}.")
        return 1
    ad = st["ready"]
    print(f"Pool in {layout.local_dir} (CONDOR_CONFIG={layout.config})")
    print(f"{'Daemon':<12} {'PID':<8} {'State':<8} {'Ready':<8}")
    if ad is not None:
        names = ["MASTER"] + sorted(k for k in ad.keys() if k.endswith("_PID") and k != "MASTER_PID")
        for key in names:
            d = key[:-4] if key.endswith("_PID") else key
            print(f"{d:<12} {str(ad.get(d + '_PID')):<8} {str(ad.get(d)):<8} "
                  f"{str(ad.get(d + '_State', '-')):<8}")
    print(f"\nSlots: {len(st['slots'])}")
    for s in st["slots"]:
        kind = "partitionable" if s.get("PartitionableSlot") else (s.get("SlotType") or "static")
        print(f"  {s.get('Name')}  {s.get('State')}/{s.get('Activity')}  Cpus={s.get('Cpus')} "
              f"Memory={s.get('Memory')}  ({kind})")
    total = sum(st["jobs"].values())
    parts = ", ".join(f"{n} {_JOB_STATES.get(k, k)}" for k, n in sorted(st["jobs"].items()))
    print(f"\nJobs: {total}" + (f" ({parts})" if parts else ""))
    for e in st["errors"]:
        print(f"warning: {e}", file=sys.stderr)
    return 0


def _pool_down(layout, timeout: float) -> int:
    from pyhtc.pool import stop_pool
    if stop_pool(layout, timeout=timeout):
        print(f"Stopped the pool in {layout.local_dir}.")
    else:
        print(f"No pool is running in {layout.local_dir}.")
    return 0


def _pool_run(layout, timeout: float, cmd: list) -> int:
    from pyhtc.pool import stop_pool
    from pyhtc.pool.control import pool_env
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("pyhtc pool run: no command given (pyhtc pool run -- CMD ...)", file=sys.stderr)
        return 2
    started = []
    rc = _pool_up(layout, timeout, started)
    if rc:
        return rc
    try:
        return subprocess.call(cmd, env=pool_env(layout))
    except OSError as exc:
        print(f"pyhtc pool run: cannot run {cmd[0]}: {exc}", file=sys.stderr)
        return 127
    finally:
        if started and started[0]:  # a pool that was already up is left running
            stop_pool(layout)


def main(argv=None) -> int:
    """Entry point of ``pyhtc``; returns the process exit status."""
    ap = argparse.ArgumentParser(prog="pyhtc", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="the README's main job: word frequencies on a personal pool")
    d.add_argument("--dir", help="directory for the pool and the jobs (default: a new one in /tmp)")
    d.add_argument("--keep", action="store_true", help="leave the pool running afterwards")
    d.add_argument("--match", action="store_true",
                   help="instead: explain a job/machine match clause by clause")
    d.add_argument("--job", help="with --match: job ad (old syntax)")
    d.add_argument("--machine", help="with --match: machine ad (old syntax)")
    p = sub.add_parser("pool", help="a personal HTCondor pool on this machine")
    psub = p.add_subparsers(dest="pool_cmd", required=True)
    for name, text in (("up", "start the pool (idempotent)"), ("status", "daemons, slots, jobs"),
                       ("down", "stop the pool"), ("run", "up, run a command in it, down")):
        sp = psub.add_parser(name, help=text)
        sp.add_argument("--dir", default=None,
                        help="pool directory (default ~/.pyhtc)")
        if name in ("up", "run", "down"):
            sp.add_argument("--timeout", type=float, default=60.0,
                            help="seconds to wait for the daemons (default 60)")
        if name == "run":
            sp.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = ap.parse_args(argv)
    if args.cmd == "demo":
        if args.match or args.job or args.machine:
            from pyhtc import demo
            return demo.main(job_path=args.job, machine_path=args.machine)
        from pyhtc import wordfreq
        return wordfreq.main(pool_dir=args.dir, keep=args.keep)
    if args.cmd == "pool":
        from pyhtc.pool import DEFAULT_DIR, PoolLayout
        layout = PoolLayout(Path(args.dir) if args.dir else DEFAULT_DIR)
        if args.pool_cmd == "up":
            return _pool_up(layout, args.timeout)
        if args.pool_cmd == "status":
            return _pool_status(layout)
        if args.pool_cmd == "down":
            return _pool_down(layout, args.timeout)
        return _pool_run(layout, args.timeout, args.command)
    return 2


if __name__ == "__main__":
    sys.exit(main())
