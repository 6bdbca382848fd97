"""Start, watch and stop a personal pool's condor_master.

- :func:`start_pool` writes the config (:mod:`pyhtc.pool.config`), starts ``condor_master -f``
  in its own session (detached: no terminal, stdout/stderr to ``log/master.out``) and waits
  until the master's readiness ad (DC_QUERY_READY, condor_master.V6/masterDaemon.cpp
  Daemons::QueryReady; read with :mod:`pyhtc.tools.who`) shows every DAEMON_LIST daemon
  alive with ready state ``Ready``.
- :func:`stop_pool` sends ``DAEMON_OFF master`` (what ``condor_off -daemon master`` and
  htcondor2's PersonalPool send), waits for the master to exit and then SIGKILLs what is
  left of its process group.
- :func:`pool_status` gathers the readiness ad, the slots (collector) and a job summary
  (schedd).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional

from pyhtc.config import Config
from pyhtc.tools import who

from .config import PoolLayout, find_bin_dir, write_config

__all__ = ["PoolError", "load_config", "running_master", "start_pool", "stop_pool",
           "pool_status", "pool_env"]


class PoolError(RuntimeError):
    """A pool could not be started or stopped; the message names the daemon and its log."""


def load_config(layout: PoolLayout) -> Config:
    """The pool's configuration as a tool sees it (no user config file)."""
    return Config.load(root_config=str(layout.config), read_user_config=False)


def pool_env(layout: PoolLayout, base: Optional[dict] = None) -> dict:
    """``base`` (default os.environ) with CONDOR_CONFIG pointing at the pool and no
    ``_CONDOR_*`` overrides, so that the pool's own config governs its processes."""
    env = {k: v for k, v in (base if base is not None else os.environ).items()
           if not k.startswith("_CONDOR_")}
    env["CONDOR_CONFIG"] = str(layout.config)
    return env


def running_master(layout: PoolLayout) -> Optional[who.LogInfo]:
    """The pool's master if its process is alive (from MasterLog and the address file)."""
    if not layout.config.exists():
        return None
    master = who.find_master(load_config(layout), layout.log)
    if master is None or master.exit_code is not None or not who._pid_alive(master.pid):
        return None
    return master


def _daemons(config: Config) -> list[str]:
    names = (config.param("DAEMON_LIST") or "").replace(",", " ").split()
    return [n.upper() for n in names if n.upper() != "MASTER"]


def _ready_expr(daemons: list[str]) -> str:
    parts = ["IsReady"] + [f'{d} =?= "Alive" && {d}_State =?= "Ready"' for d in daemons]
    return " && ".join(parts)


def _tail(path: Path, n: int = 5) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return "    (no log)"
    return "\n".join("    " + ln for ln in lines)


def _not_ready_error(config: Config, layout: PoolLayout, ad, daemons: list[str],
                     timeout: float) -> PoolError:
    if ad is None:
        return PoolError(f"condor_master did not answer within {timeout:g} s; "
                         f"see {layout.log / 'MasterLog'} and {layout.master_out}:\n"
                         + _tail(layout.log / "MasterLog") + "\n" + _tail(layout.master_out))
    for d in daemons:
        state, ready = ad.get(d), ad.get(f"{d}_State")
        if state != "Alive" or ready != "Ready":
            log = config.param(f"{d}_LOG") or str(layout.log)
            return PoolError(f"{d} is not ready after {timeout:g} s (state {state}, ready state "
                             f"{ready}); see its log {log}:\n" + _tail(Path(log)))
    return PoolError(f"the pool is not ready after {timeout:g} s; see {layout.log / 'MasterLog'}")


def start_pool(layout: PoolLayout, timeout: float = 60.0) -> tuple[bool, object]:
    """Bring the pool in ``layout`` up; returns ``(started, ready_ad)`` where ``started`` is
    False when a master was already running there (then the config is left untouched).
    Raises PoolError (naming the daemon that is not ready and its log) on timeout, or when
    the master exits during start-up; in both cases the started processes are stopped."""
    master = running_master(layout)
    if master is not None:
        config = load_config(layout)
        ad, _ = who.wait_for_ready(config, None, 0, layout.log)
        return False, ad
    write_config(layout)
    config = load_config(layout)
    daemons = _daemons(config)
    bin_dir = find_bin_dir()
    for stale in (layout.log / ".master_address",):
        stale.unlink(missing_ok=True)
    with open(layout.master_out, "ab") as out:
        proc = subprocess.Popen([str(bin_dir / "condor_master"), "-f"], env=pool_env(layout),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=str(layout.local_dir), start_new_session=True)
    deadline = time.monotonic() + timeout
    expr = _ready_expr(daemons)
    ad = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PoolError(f"condor_master exited with status {proc.returncode} during start-up; "
                            f"see {layout.log / 'MasterLog'} and {layout.master_out}:\n"
                            + _tail(layout.master_out) + "\n" + _tail(layout.log / "MasterLog"))
        ad, _ = who.wait_for_ready(config, expr, min(2.0, max(0.0, deadline - time.monotonic())),
                                   layout.log)
        if ad is not None and who._satisfied(ad, expr):
            return True, ad
    err = _not_ready_error(config, layout, ad, daemons, timeout)
    stop_pool(layout, timeout=20, master_pid=proc.pid)
    raise err


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if who._pid_alive(p)}


def stop_pool(layout: PoolLayout, timeout: float = 30.0,
              master_pid: Optional[int] = None) -> bool:
    """Stop the pool: ``condor_off -daemon master`` (as htcondor2's PersonalPool does), wait
    up to ``timeout`` seconds for the master and every daemon it reported to exit, then
    SIGKILL the survivors and the master's process group.  Returns False if no master ran."""
    master = running_master(layout)
    pid = master_pid or (master.pid if master else None)
    if pid is None or not who._pid_alive(pid):
        return False
    pids = {pid}
    ad, _ = who.wait_for_ready(load_config(layout), None, 0, layout.log)
    if ad is not None:
        pids |= {int(v) for k, v in ad.items() if k.endswith("_PID") and isinstance(v, int) and v > 0}
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        pgid = None
    off = None
    if master is not None:
        off = subprocess.run([str(find_bin_dir() / "condor_off"), "-daemon", "master"],
                             env=pool_env(layout), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=30)
    if off is None or off.returncode != 0:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for p in _alive(pids):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if pgid is not None and pgid != os.getpgid(0):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return True


def pool_status(layout: PoolLayout) -> dict:
    """``{"running": bool, "ready": ad or None, "slots": [ads], "jobs": {status: count},
    "errors": [text]}`` of the pool in ``layout``."""
    out = {"running": False, "ready": None, "slots": [], "jobs": {}, "errors": []}
    if running_master(layout) is None:
        return out
    out["running"] = True
    config = load_config(layout)
    out["ready"], _ = who.wait_for_ready(config, None, 0, layout.log)
    try:
        from pyhtc.client import CollectorClient
        out["slots"] = CollectorClient(config=config).query(
            "Startd", projection=["Name", "State", "Activity", "Cpus", "Memory",
                                  "PartitionableSlot", "SlotType"])
    except Exception as exc:
        out["errors"].append(f"collector: {exc}")
    try:
        from pyhtc.client import client_policy, locate_daemon
        from pyhtc.client.schedd import ScheddClient
        schedd = ScheddClient(locate_daemon("schedd", config=config), client_policy(config))
        for ad in schedd.query("true", ["JobStatus"]):
            st = ad.get_int("JobStatus", 0)
            out["jobs"][st] = out["jobs"].get(st, 0) + 1
    except Exception as exc:
        out["errors"].append(f"schedd: {exc}")
    return out
