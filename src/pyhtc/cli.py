"""The ``pyhtc`` umbrella command (``pyhtc demo``, later ``pyhtc pool up|status|down``)."""
import argparse
import sys


def main(argv=None) -> int:
    """Entry point of ``pyhtc``; returns the process exit status."""
    ap = argparse.ArgumentParser(prog="pyhtc", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="the README's main job")
    d.add_argument("--job", help="job ad (old syntax)")
    d.add_argument("--machine", help="machine ad (old syntax)")
    args = ap.parse_args(argv)
    if args.cmd == "demo":
        from pyhtc import demo

        return demo.main(job_path=args.job, machine_path=args.machine)
    return 2


if __name__ == "__main__":
    sys.exit(main())
