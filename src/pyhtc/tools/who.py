"""``condor_who``: the daemons of a local HTCondor instance and their readiness.

Follows src/condor_who/who.cpp and docs/man-pages/condor_who.rst for the daemon modes:

- ``-quick`` (``-quickdaemons``): find the condor_master of the LOG directory (its address
  file MASTER_ADDRESS_FILE and its MasterLog), send it ``DC_QUERY_READY`` and print the
  readiness ad as ``Attr = value`` lines, attribute names in case-insensitive order
  (sPrintAdAttrs).  When the master is not alive, print
  ``Master <addr> pid=<pid> Exited with code=<code>`` instead.
- ``-wait[-for-ready][:<secs>] <expr>``: as ``-quick``, but wait up to *secs* seconds
  (first for the master to appear, then for *expr* to become true when evaluated against the
  readiness ad).  The ad is printed either way; the exit status is 0, as in who.cpp.
- ``-daemons``: the table ``Daemon Alive PID PPID Exit Addr Executable`` of every ``*Log``
  in the LOG directory (who.cpp print_daemon_info); liveness, parent pid and executable are
  read from the local process table (psutil) instead of asking each daemon for PPID.
- ``-logdir DIR`` (``-log``): scan DIR instead of ``$(LOG)``; ``-address <sinful>``: ask that
  master directly.

The readiness ad has the shape of condor_master's Daemons::InitDaemonReadyAd
(src/condor_master.V6/masterDaemon.cpp): for every daemon ``<D> = "Alive"|"Startup"|"Hold"|
"Dead"``, ``<D>_PID``, ``<D>_State`` (the DC_SET_READY state, e.g. "Ready"), ``<D>_Addr``;
``NumDaemons``, ``NumAlive``, ``NumStartup``, ``NumHung``, ``NumHold``, ``NumDead``,
``IsReady`` (all daemons alive).  A master whose reply lacks the MASTER entries (the
compact form ``<D> = "<ready state>"``) is brought to that shape here, with pids read from
the daemons' logs.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.sinful import read_address_file
from pyhtc.cedar.wire_ad import WireAd, to_classad
from pyhtc.client import client_policy
from pyhtc.client.core import start_command
from pyhtc.config import ConfigError, get_config

__all__ = ["main", "LogInfo", "scan_log_dir", "find_master", "query_ready", "ready_ad",
           "format_ad", "wait_for_ready"]

#: daemon states of InitDaemonReadyAd; any other value in a compact reply is a ready state
_DAEMON_STATES = {"Alive", "Startup", "Hung", "Hold", "Dead", "WaitForStartup",
                  "WaitForStartupFile", "Down", "Stopping", "StoppingFast", "StoppingPeaceful"}
_SUMMARY = {"NumDaemons", "NumAlive", "NumStartup", "NumHung", "NumHold", "NumDead",
            "IsReady", "InShutdownMode", "Error", "PostDrain", "ShutdownProgram"}
#: log file stem -> daemon name as who.cpp query_log_dir renames them
_LOG_RENAMES = {"Sched": "Schedd", "Start": "Startd", "Match": "Negotiator", "Cred": "Credd",
                "Kbd": "Kbdd"}
_PID_RE = re.compile(r"\*\* PID = (\d+)")
_EXIT_RE = re.compile(r"\*\*\*\* \S+ \(\S+\) pid (\d+) EXITING WITH STATUS (-?\d+)")
_ADDR_RE = re.compile(r"command socket at (<[^>]+>)")

USAGE = """Usage: condor_who [options] [daemon-opt]
    where [options] are
\t-h[elp]\t\t\tDisplay this screen
\t-logdir <dir>\t\tLocate daemons from the logs in <dir> instead of $(LOG)
\t-address <addr>\t\tQuery the master at <addr>
\t-verbose\t\tMore detail
    where [daemon-opt] is one of
\t-dae[mons]\t\t Display pids and addressed for daemons then exit.
\t-quic[kdaemons]\t Display master exit code or daemon readyness ad then exit
\t-wait[-for-ready][:<time>] <expr> Query the MASTER for its daemon
\t    readyness ad and Wait up to <time> seconds for the <expr> to become true.
"""


@dataclass
class LogInfo:
    """What the log of one daemon says: ``name`` (``Master``, ``Schedd`` ...), ``log`` path,
    last ``pid`` started, its ``exit_code`` (None while it runs) and ``addr`` (sinful)."""
    name: str
    log: Path
    pid: Optional[int] = None
    exit_code: Optional[int] = None
    addr: Optional[str] = None


def _scan_log(path: Path) -> tuple[Optional[int], Optional[int], Optional[str]]:
    """(pid, exit code, address) of the last daemon start recorded in a daemon log: the
    ``** PID = N`` banner line, ``EXITING WITH STATUS`` and ``command socket at`` after it."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None, None, None
    starts = list(_PID_RE.finditer(text))
    if not starts:
        return None, None, None
    last = starts[-1]
    pid = int(last.group(1))
    tail = text[last.end():]
    exit_code = None
    for m in _EXIT_RE.finditer(tail):
        if int(m.group(1)) == pid:
            exit_code = int(m.group(2))
    addr = _ADDR_RE.search(tail)
    return pid, exit_code, addr.group(1) if addr else None


def scan_log_dir(log_dir: Path) -> dict[str, LogInfo]:
    """Daemon name -> :class:`LogInfo` for every ``<Name>Log`` in ``log_dir``
    (who.cpp query_log_dir + scan_logs_for_info)."""
    out: dict[str, LogInfo] = {}
    try:
        entries = sorted(os.listdir(log_dir))
    except OSError:
        return out
    for fname in entries:
        if not fname.endswith("Log") or fname == "Log":
            continue
        stem = fname[:-3]
        name = _LOG_RENAMES.get(stem, stem)
        if stem == "Match" or name in out:
            continue
        pid, code, addr = _scan_log(Path(log_dir) / fname)
        out[name] = LogInfo(name, Path(log_dir) / fname, pid, code, addr)
    return out


def _pid_alive(pid: Optional[int]) -> bool:
    from pyhtc.procd.procinfo import pid_alive
    return pid_alive(pid)


def find_master(config, log_dir: Optional[Path] = None) -> Optional[LogInfo]:
    """The master of ``log_dir`` (default ``$(LOG)``): pid and exit code from MasterLog
    (or MASTER_LOG), address from MASTER_ADDRESS_FILE or the log.  None when there is no
    master log at all."""
    log_dir = Path(log_dir or config.param("LOG") or ".")
    log = Path(config.param("MASTER_LOG") or log_dir / "MasterLog")
    if log.parent != log_dir:
        log = log_dir / "MasterLog"
    if not log.exists():
        return None
    pid, code, addr = _scan_log(log)
    addr_file = config.param("MASTER_ADDRESS_FILE") or str(log_dir / ".master_address")
    if Path(addr_file).parent != log_dir:
        addr_file = str(log_dir / ".master_address")
    if code is None and os.path.exists(addr_file):
        try:
            addr = read_address_file(addr_file).sinful
        except Exception:
            pass
    if code is None and pid is not None and not _pid_alive(pid):
        code = -1  # died without logging its exit (killed)
    return LogInfo("Master", log, pid, code, addr)


def query_ready(addr: str, config=None, timeout: float = 20.0) -> C.ClassAd:
    """Send DC_QUERY_READY (``WaitTimeout = 0``, ``WantAddrs = true``) to the master at
    ``addr`` and return its reply ad.  Raises OSError / SecurityError on failure."""
    q = WireAd()
    q.set("WaitTimeout", 0)
    q.set("WantAddrs", True)
    with start_command(addr, Command.DC_QUERY_READY, client_policy(config), timeout=timeout) as s:
        s.put_ad(q).end_of_message()
        reply = to_classad(s.get_ad())
        s.end_of_message()
    return reply


def ready_ad(reply: C.ClassAd, config, master: Optional[LogInfo],
             master_addr: Optional[str]) -> C.ClassAd:
    """The readiness ad in InitDaemonReadyAd shape.  A reply that already names MASTER is
    returned unchanged; a compact reply (``<D> = "<state>"`` per child) gets MASTER,
    ``<D>_PID`` (from the daemon's log), ``<D>_State``, ``<D>_Addr`` and the counters."""
    if "MASTER" in reply:
        return reply
    ad = C.ClassAd()
    counts = dict(alive=0, startup=0, hold=0, dead=0)
    ad["MASTER"] = "Alive"
    ad["MASTER_PID"] = master.pid if master and master.pid else 0
    if master_addr:
        ad["MASTER_Addr"] = master_addr
    names = [k for k in reply.keys() if k not in _SUMMARY and not k.endswith(("_PID", "_State", "_Addr"))]
    for name in names:
        value = reply.get(name)
        log = config.param(f"{name}_LOG")
        pid, code, addr = _scan_log(Path(log)) if log else (None, None, None)
        if value in _DAEMON_STATES:
            state = {"Down": "Dead"}.get(value, value)
        else:
            ad[f"{name}_State"] = value
            state = "Alive"
        if state == "Alive" and not (pid and code is None and _pid_alive(pid)):
            state = "Startup" if pid is None else state
        ad[name] = state
        ad[f"{name}_PID"] = pid if (pid and code is None and state != "Dead") else 0
        af = config.param(f"{name}_ADDRESS_FILE")
        if af and os.path.exists(af):
            try:
                addr = read_address_file(af).sinful
            except Exception:
                pass
        if addr and state == "Alive":
            ad[f"{name}_Addr"] = addr
        key = {"Alive": "alive", "Hold": "hold", "Dead": "dead"}.get(state, "startup")
        counts[key] += 1
    ad["NumDaemons"] = len(names) + 1
    ad["NumAlive"] = counts["alive"] + 1
    ad["NumStartup"] = counts["startup"]
    ad["NumHung"] = 0
    ad["NumHold"] = counts["hold"]
    ad["NumDead"] = counts["dead"]
    ad["IsReady"] = counts["startup"] == 0 and counts["dead"] == 0
    return ad


def format_ad(ad: C.ClassAd) -> str:
    """``Attr = value`` lines, names in case-insensitive order (who.cpp sPrintAdAttrs)."""
    lines = []
    for name in sorted(ad.keys(), key=str.lower):
        expr = ad.lookup(name)
        lines.append(f"{name} = {expr}")
    return "\n".join(lines)


def _satisfied(ad: C.ClassAd, expr: Optional[str]) -> bool:
    if not expr:
        return bool(ad.get("IsReady"))
    try:
        return C.ExprTree(expr).eval(ad) is True
    except Exception:
        return False


def wait_for_ready(config, expr: Optional[str], timeout: float, log_dir: Optional[Path] = None,
                   address: Optional[str] = None, poll: float = 0.5):
    """Poll the master until ``expr`` (default ``IsReady``) holds for its readiness ad or
    ``timeout`` seconds pass.  Returns ``(ad, master)``: ``ad`` is the last readiness ad
    (None if the master could not be asked), ``master`` the :class:`LogInfo` found (None
    without a master log).  Two thirds of the timeout may go to waiting for the master's
    log and address to appear (who.cpp poll_log_dir_for_active_master)."""
    start = time.monotonic()
    deadline = start + max(0.0, timeout)
    master = None
    while True:
        if address:
            master = LogInfo("Master", Path(""), None, None, address)
        else:
            master = find_master(config, log_dir)
        found = master is not None and master.addr and master.exit_code is None
        if found or time.monotonic() >= start + timeout * 2 / 3:
            break
        time.sleep(poll)
    if not found:
        return None, master
    ad = None
    while True:
        try:
            ad = ready_ad(query_ready(master.addr, config), config, master, master.addr)
        except Exception:
            ad = None
        if ad is not None and (timeout <= 0 or _satisfied(ad, expr)):
            return ad, master
        if time.monotonic() >= deadline:
            return ad, master
        time.sleep(poll)


def _daemon_table(log_dir: Path, config) -> str:
    """The ``-daemons`` table (who.cpp print_daemon_info, non-quick)."""
    import psutil
    rows = [f'\nLOG directory "{log_dir}"\n']
    fmt = "%-12s %-6s %-6s %-6s %-6s %-24s %s"
    rows.append(fmt % ("Daemon", "Alive", "PID", "PPID", "Exit", "Addr", "Executable"))
    rows.append(fmt % ("------", "-----", "---", "----", "----", "----", "----------"))
    for name, li in sorted(scan_log_dir(log_dir).items()):
        if li.pid is None and li.exit_code is None and li.addr is None:
            continue
        alive, ppid, exe = "no", "no", str(li.log)
        if li.exit_code is None and _pid_alive(li.pid):
            p = psutil.Process(li.pid)
            alive, ppid = "yes", str(p.ppid())
            try:
                cmd = p.cmdline()
                exe = cmd[1] if len(cmd) > 1 and "python" in os.path.basename(cmd[0]) else cmd[0]
            except Exception:
                exe = "?"
            pid, code = str(li.pid), "no"
        elif li.exit_code is None:
            pid, code = "no", "?"  # the log says running but the process is gone
        else:
            pid, code = "no", str(li.exit_code)
        rows.append(fmt % (name, alive, pid, ppid, code, li.addr or "", exe))
    return "\n".join(rows)


def main(argv=None) -> int:
    """Entry point of ``condor_who``; returns the exit status (0, 1 on usage errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    mode, expr, timeout, log_dir, address = None, None, 0, None, None
    i = 0
    while i < len(args):
        a = args[i]
        low = a.lstrip("-").lower()
        head, _, colon = low.partition(":")
        if not a.startswith("-"):
            print(f"Error: unexpected argument {a}", file=sys.stderr)
            return 1
        if low in ("h", "help") or (low.startswith("he") and "help".startswith(low)):
            sys.stdout.write(USAGE)
            return 0
        if len(head) >= 4 and "wait-for-ready".startswith(head):
            mode = "wait"
            if colon:
                try:
                    timeout = int(colon)
                except ValueError:
                    print(f"Error: {a}: time must be an integer", file=sys.stderr)
                    return 1
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                print(f"Error: Argument {a} requires a requirements expression", file=sys.stderr)
                return 1
            expr = args[i + 1]
            try:
                C.ExprTree(expr)
            except Exception as exc:
                print(f"Error: {a}: invalid expression '{expr}': {exc}", file=sys.stderr)
                return 1
            i += 2
            continue
        if len(low) >= 3 and "daemons".startswith(low):
            mode = mode or "daemons"
        elif len(low) >= 4 and "quickdaemons".startswith(low):
            mode = "quick" if mode != "wait" else mode
        elif len(low) >= 3 and ("logdir".startswith(low) or low == "log"):
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                print(f"Error: Argument {a} requires a directory", file=sys.stderr)
                return 1
            log_dir = Path(args[i + 1])
            i += 1
        elif len(low) >= 4 and "address".startswith(low):
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                print(f"Error: Argument {a} requires a host address", file=sys.stderr)
                return 1
            address = args[i + 1]
            i += 1
        elif len(low) >= 4 and "verbose".startswith(low):
            pass
        else:
            print(f"Error: unknown argument {a}", file=sys.stderr)
            sys.stderr.write(USAGE)
            return 1
        i += 1
    try:
        config = get_config()
    except ConfigError as exc:
        print(f"condor_who: configuration error: {exc}", file=sys.stderr)
        return 1
    log_dir = log_dir or Path(config.param("LOG") or ".")
    if mode in (None, "daemons"):
        if not log_dir.is_dir():
            print(f'Error: LOG directory "{log_dir}" does not exist', file=sys.stderr)
            return 1
        print(_daemon_table(log_dir, config))
        return 0
    ad, master = wait_for_ready(config, expr if mode == "wait" else None,
                                timeout if mode == "wait" else 0, log_dir, address)
    if ad is not None:
        print(format_ad(ad))
    elif master is not None:
        addr = master.addr or "NULL"
        code = "" if master.exit_code is None else master.exit_code
        print(f"\nMaster {addr} pid={master.pid or 0} Exited with code={code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
