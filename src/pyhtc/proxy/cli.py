"""``pyhtc-proxy``: the command-line front end of :class:`pyhtc.proxy.Supervisor`.

Options follow daemonproxy (``src/options.c``); see docs/pyhtc-proxy.md for the full reference.
"""
from __future__ import annotations

import os
import sys

from .. import __version__

USAGE = """\
usage: pyhtc-proxy [OPTIONS] -c FILE | -i | -S PATH

A small reliable parent process for services: it holds their file handles and pipes,
reports child exits and signals as a TAB-separated event stream, and executes the commands
of an external controller (daemonproxy's protocol).

  -c, --config FILE     execute the command stream in FILE at startup ("-" = stdin);
                        errors are logged as FILE:LINE
  -i, --interactive     commands from stdin, events to stdout; at end of input print a
                        message naming the services still running and exit
                        (unless --exit-guard is set)
  -S, --socket PATH     listen for controller connections on the Unix socket PATH
      --exit-guard N    refuse to exit unless "terminate CODE N" is sent (N nonzero);
                        even then only exec-on-exit is allowed
  -E, --exit-exec ARGS  TAB-separated argv to exec instead of exiting (on terminate,
                        fatal errors, fatal signals, bad options, --help, --version)
  -v, --verbose         log more (repeatable)
  -q, --quiet           log less (repeatable)
      --version         print the version and exit
  -h, --help            print this help and exit

At least one of -c, -i or -S is required.  Full reference: docs/pyhtc-proxy.md
"""


class UsageError(Exception):
    pass


def parse_args(argv: list[str]) -> dict:
    """Parse the command line into a dict; raises UsageError naming the bad argument."""
    opts = {"config": None, "interactive": False, "socket": None, "guard": 0, "exec": [],
            "verbosity": 0, "help": False, "version": False}
    takes = {"-c": "config", "--config": "config", "-S": "socket", "--socket": "socket",
             "--exit-guard": "guard", "-E": "exec", "--exit-exec": "exec"}
    flags = {"-i": "interactive", "--interactive": "interactive", "-h": "help", "--help": "help",
             "--version": "version"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("--") and "=" in arg:
            arg, val = arg.split("=", 1)
            argv = argv[:i] + [val] + argv[i:]
        if arg in takes:
            if i >= len(argv):
                raise UsageError(f"option {arg} needs an argument")
            val = argv[i]
            i += 1
            key = takes[arg]
            if key == "guard":
                try:
                    val = int(val, 10)
                except ValueError:
                    raise UsageError(f"--exit-guard: terminate guard must be an integer, got {val!r}") from None
                if val == 0:
                    raise UsageError("--exit-guard: code cannot be 0")
            elif key == "exec":
                val = [a for a in val.split("\t")] if val else []
            opts[key] = val
        elif arg in flags:
            opts[flags[arg]] = True
        elif arg in ("--verbose",):
            opts["verbosity"] += 1
        elif arg in ("--quiet",):
            opts["verbosity"] -= 1
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 1 and set(arg[1:]) <= set("vqih"):
            for ch in arg[1:]:
                if ch == "v":
                    opts["verbosity"] += 1
                elif ch == "q":
                    opts["verbosity"] -= 1
                else:
                    opts[flags["-" + ch]] = True
        else:
            raise UsageError(f"unknown option {arg!r} (see --help)")
    return opts


def _exec_or_exit(exec_args: list[str], code: int, reason: str) -> int:
    if exec_args:
        env = dict(os.environ, PYHTC_PROXY_EXITCODE=str(code), PYHTC_PROXY_ERROR=reason,
                   DAEMONPROXY_EXITCODE=str(code), DAEMONPROXY_ERROR=reason)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvpe(exec_args[0], exec_args, env)
        except OSError as e:
            print(f"error: exec-on-exit {exec_args[0]!r} failed: {e.strerror}", file=sys.stderr)
    return code


def _inherited_fds() -> list[int]:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return []
    out = []
    for n in names:
        fd = int(n)
        if fd > 2:
            try:
                os.fstat(fd)
            except OSError:
                continue  # the directory handle of listdir itself
            out.append(fd)
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (or execs the exec-on-exit argv)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    early_exec = []
    for j, a in enumerate(argv):  # honour -E even when another option is bad (daemonproxy does)
        if a in ("-E", "--exit-exec") and j + 1 < len(argv):
            early_exec = [x for x in argv[j + 1].split("\t")] if argv[j + 1] else []
        elif a.startswith("--exit-exec="):
            early_exec = a.split("=", 1)[1].split("\t")
    try:
        opts = parse_args(argv)
    except UsageError as e:
        print(f"pyhtc-proxy: {e}", file=sys.stderr)
        return _exec_or_exit(early_exec, 2, str(e))
    if opts["help"]:
        sys.stdout.write(USAGE)
        return _exec_or_exit(opts["exec"], 0, "help")
    if opts["version"]:
        sys.stdout.write(f"pyhtc-proxy {__version__} (daemonproxy protocol)\n")
        return _exec_or_exit(opts["exec"], 0, "version")
    if not (opts["interactive"] or opts["config"] or opts["socket"]):
        print("pyhtc-proxy: require -i or -c or -S (see --help)", file=sys.stderr)
        return _exec_or_exit(opts["exec"], 2, "require -i or -c or -S")
    if opts["interactive"] and opts["config"] == "-":
        print("pyhtc-proxy: -i and -c - both want stdin", file=sys.stderr)
        return _exec_or_exit(opts["exec"], 2, "-i and -c - both want stdin")

    from .supervisor import LOG_LEVELS, FatalSignal, Supervisor

    inherited = _inherited_fds()
    level = max(0, min(len(LOG_LEVELS) - 1, LOG_LEVELS.index("debug") - opts["verbosity"]))
    sup = Supervisor(handle_signals=True, log_filter=LOG_LEVELS[level])
    for fd in inherited:
        try:
            sup.handles.register_inherited(fd, f"fd_{fd}")
        except OSError:
            pass
    sup.guard = opts["guard"]
    sup.exec_on_exit = opts["exec"]
    reason = "terminated normally"
    try:
        if opts["socket"]:
            try:
                sup.listen(opts["socket"])
            except OSError as e:
                raise SetupError(f"can't create controller socket {opts['socket']!r}: {e.strerror}") from None
        if opts["interactive"]:
            sup.interactive_session()
        if opts["config"]:
            try:
                sup.config_file(opts["config"])
            except OSError as e:
                raise SetupError(f"failed to open config file {opts['config']!r}: {e.strerror}") from None
        code = sup.run()
    except SetupError as e:
        sup.log("fatal", str(e))
        code, reason = 3, str(e)
    except FatalSignal as e:
        sup.log("fatal", str(e))
        code, reason = 4, str(e)
    except KeyboardInterrupt:
        code, reason = 130, "interrupted"
    except Exception as e:  # a bug: still honour exec-on-exit, as daemonproxy's fatal() does
        import traceback
        sup.log("fatal", "internal error: " + "".join(traceback.format_exception(e)).replace("\n", " | "))
        code, reason = 70, f"internal error: {e}"
    running = sup.running_services()
    if running:
        sup.log("info", f"exiting with services still running: {', '.join(running)}")
    for conn in list(sup.connections):
        conn.flush()
    sup.exec_on_exit_now(code, reason)
    return code


class SetupError(Exception):
    pass


if __name__ == "__main__":
    sys.exit(main())
