"""``condor_master``: starts the daemons of DAEMON_LIST, keeps them running, stops them.

The master is a *controller* of a :class:`pyhtc.proxy.Supervisor` embedded in its DaemonCore
loop (docs/architecture.md): the supervisor holds the child processes and reports their
starts and exits as events; the policy below decides what to run and when, following
HTCondor's src/condor_master.V6/master.cpp and masterDaemon.cpp and the manual
(admin-manual/configuration/master.rst):

- each DAEMON_LIST entry runs ``$(<SUBSYS>)`` with ``$(<SUBSYS>_ARGS)`` and
  ``$(<SUBSYS>_ENVIRONMENT)``; the child gets ``CONDOR_INHERIT="<master pid> <master sinful> 0 0"``
  so it can send DC_SET_READY back; the COLLECTOR is started first and the others only once
  it is ready (DC_SET_READY or its address file), as StartAllDaemons /
  WaitBeforeStartingOtherDaemons do;
- a crashed daemon is restarted after ``c + ceil(k ** n)`` seconds (MASTER_BACKOFF_CONSTANT c,
  MASTER_BACKOFF_FACTOR k, n restarts so far, capped by MASTER_BACKOFF_CEILING); a daemon that
  was restarted and then runs MASTER_RECOVER_FACTOR seconds is "recovered" (n back to 0);
- stopping a daemon sends SIGTERM (graceful), then SIGQUIT after SHUTDOWN_GRACEFUL_TIMEOUT
  (fast), then SIGKILL to its process group after SHUTDOWN_FAST_TIMEOUT; peaceful never times
  out; a full stop takes the STARTDs first, then the others, the COLLECTOR last;
- the Master ad goes to the collector every MASTER_UPDATE_INTERVAL and on every change;
- commands: DAEMONS_ON, DAEMONS_OFF(_FAST/_PEACEFUL), DAEMON_ON / DAEMON_OFF(_FAST/_PEACEFUL)
  + subsystem string, RESTART(_PEACEFUL), DC_RECONFIG(_FULL), DC_OFF_* and MASTER_OFF(_FAST)
  (stop everything, then exit), DC_SET_READY,
  DC_QUERY_READY, DC_CHILDALIVE.
"""
from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import WireAd, to_classad
from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING, Daemon
from pyhtc.daemoncore.log import Category
from pyhtc.proxy import Supervisor

from .children import DaemonEntry, StopState, daemon_list, program_mtime

__all__ = ["Master", "main", "DAEMON_NO_RESTART"]

#: exit status with which a daemon asks not to be restarted (condor_includes/exit.h)
DAEMON_NO_RESTART = 99
#: daemons stopped last in a graceful shutdown so the others can still reach them
_LATE_STOPPERS = ("COLLECTOR", "SHARED_PORT")
# htcondor2's DaemonCommand.DaemonsOn sends 483 (DAEMON_OFF_PEACEFUL) with no subsystem:
# see _cmd_daemon_off_peaceful
DC_QUERY_READY = int(Command.DC_QUERY_READY)
DAEMONS_ON = int(Command.DAEMONS_ON)
MASTER_OFF = int(Command.MASTER_OFF)
MASTER_OFF_FAST = int(Command.MASTER_OFF_FAST)
DAEMON_OFF_PEACEFUL = int(Command.DAEMON_OFF_PEACEFUL)


def _status_text(status: int) -> tuple[str, int, bool]:
    """(text, exit code or signal, signalled) of a waitpid status (daemon::Exited)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            import signal as _s
            name = _s.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"died due to signal {sig} ({name})", sig, True
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"exited with status {code}", code, False


class Master(Daemon):
    """The condor_master daemon (see the module docstring)."""

    subsystem = "MASTER"
    ad_type = "DaemonMaster"
    ready_at_startup = False  # the master has no parent to report to

    # ================================================================ life cycle
    def main_init(self) -> None:
        self.daemons: dict[str, DaemonEntry] = {}
        self.removed: list[DaemonEntry] = []
        self.start_daemons = True          # False after DAEMONS_OFF (Daemons::StartDaemons)
        self.all_gone_action: Optional[str] = None  # "exit" | "restart" | "reset"
        self.stop_how = "graceful"
        self.retry_tid: Optional[int] = None
        self.update_tid: Optional[int] = None
        self.exec_tid: Optional[int] = None
        self.last_reconfig = self.start_time
        self.update_seq = 0
        self.alive: dict[int, float] = {}
        self.master_timestamp = program_mtime(os.path.abspath(sys.argv[0]))
        # the supervision core, driven in-process (docs/pyhtc-proxy.md "PYTHON API")
        self.sup = Supervisor(handle_signals=False, log_fd=-1)
        self.ctl = self.sup.attach(self._on_proxy_event, label="condor_master")
        self.dc.loop.add_reader(self.sup.fileno(), self._pump)
        self.dc.register_timer(1.0, self._pump, period=1.0, name="supervisor poll")
        self.dc.add_shutdown_hook(self._close_supervisor)
        reg = self.register_command
        reg(DAEMONS_ON, "DAEMONS_ON", self._cmd_daemons_on, "ADMINISTRATOR")
        reg(DAEMON_OFF_PEACEFUL, "DAEMON_OFF_PEACEFUL", self._cmd_daemon_off_peaceful, "ADMINISTRATOR")
        reg(Command.DAEMONS_OFF, "DAEMONS_OFF", self._cmd_daemons_off("graceful"), "ADMINISTRATOR")
        reg(Command.DAEMONS_OFF_FAST, "DAEMONS_OFF_FAST", self._cmd_daemons_off("fast"), "ADMINISTRATOR")
        reg(Command.DAEMONS_OFF_PEACEFUL, "DAEMONS_OFF_PEACEFUL", self._cmd_daemons_off("peaceful"),
            "ADMINISTRATOR")
        reg(Command.DAEMON_ON, "DAEMON_ON", self._cmd_subsys("on"), "ADMINISTRATOR")
        reg(Command.DAEMON_OFF, "DAEMON_OFF", self._cmd_subsys("graceful"), "ADMINISTRATOR")
        reg(Command.DAEMON_OFF_FAST, "DAEMON_OFF_FAST", self._cmd_subsys("fast"), "ADMINISTRATOR")
        reg(MASTER_OFF, "MASTER_OFF", self._cmd_off("graceful"), "ADMINISTRATOR")
        reg(MASTER_OFF_FAST, "MASTER_OFF_FAST", self._cmd_off("fast"), "ADMINISTRATOR")
        reg(Command.RESTART, "RESTART", self._cmd_restart("graceful"), "ADMINISTRATOR")
        reg(Command.RESTART_PEACEFUL, "RESTART_PEACEFUL", self._cmd_restart("peaceful"), "ADMINISTRATOR")
        reg(Command.DC_SET_READY, "DC_SET_READY", self._cmd_set_ready, "DAEMON")
        reg(DC_QUERY_READY, "DC_QUERY_READY", self._cmd_query_ready, "READ")
        reg(Command.DC_CHILDALIVE, "DC_CHILDALIVE", self._cmd_child_alive, "DAEMON")
        self.dprintf(Category.ALWAYS, f"Master started at {self.sinful}")
        self._read_daemon_list()
        self._start_timers()
        self.start_all_daemons()

    def _close_supervisor(self) -> None:
        try:
            self.dc.loop.remove_reader(self.sup.fileno())
        except (ValueError, OSError):
            pass
        self.sup.close()

    def _pump(self) -> None:
        """Let the supervisor handle child exits (its pidfds are behind fileno())."""
        self.sup.run_once(0)

    def _start_timers(self) -> None:
        for tid in (self.update_tid, self.exec_tid):
            if tid is not None:
                self.dc.cancel_timer(tid)
        interval = self.param_integer("MASTER_UPDATE_INTERVAL", 300, min_value=1)
        self.update_tid = self.dc.register_timer(0, self.update_collector, period=interval,
                                                 name="Daemons::UpdateCollector")
        check = self.param_integer("MASTER_CHECK_NEW_EXEC_INTERVAL", 300, min_value=1)
        self.exec_tid = self.dc.register_timer(check, self.check_new_executables, period=check,
                                               name="Daemons::CheckForNewExecutable")

    # ================================================================ configuration
    def _param_double(self, name: str, default: float) -> float:
        return self.config.param_double(name, default)

    def _read_daemon_list(self) -> list[str]:
        """(Re)build the entries from DAEMON_LIST; returns the names that are new."""
        names = daemon_list(self.param("DAEMON_LIST", "MASTER"))
        new = []
        for n in names:
            entry = self.daemons.get(n)
            if entry is None:
                entry = DaemonEntry(n)
                self.daemons[n] = entry
                new.append(n)
            old_program = entry.program
            entry.configure(self.param, self.param_integer, self._param_double)
            if n != "MASTER" and old_program and entry.program != old_program:
                # the path in the config changed: a new executable (daemon::DoConfig)
                entry.new_exec = True
        # keep DAEMON_LIST order
        self.daemons = {n: self.daemons[n] for n in names}
        return new

    def main_config(self) -> None:
        """DC_RECONFIG(_FULL) / SIGHUP: re-read the config, forward the reconfig to running
        children, stop daemons taken out of DAEMON_LIST, start added ones, restart those
        whose program changed (Daemons::ReconfigAllDaemons / main_config in master.cpp)."""
        self.last_reconfig = int(time.time())
        before = set(self.daemons)
        after = set(daemon_list(self.param("DAEMON_LIST", "MASTER")))
        for name in sorted(before - after):
            entry = self.daemons.pop(name)
            self.dprintf(Category.ALWAYS, f"{name} was removed from DAEMON_LIST; stopping it")
            entry.removed = True
            self._cancel(entry, "start_tid", "recover_tid")
            if entry.running:
                self.removed.append(entry)
                self.stop(entry)
            else:
                self._forget(entry)
        added = self._read_daemon_list()
        for entry in self.daemons.values():
            if entry.name == "MASTER" or entry.name in added:
                continue
            if entry.running and entry.stop_state == StopState.NONE:
                self.ctl.send("service.signal", entry.name, "SIGHUP")
                self.dprintf(Category.ALWAYS, f"Sent SIGHUP to {entry.name} (pid {entry.pid})")
        self._start_timers()
        self.check_new_executables()
        if added and self.start_daemons and self.all_gone_action is None:
            self.dprintf(Category.ALWAYS, "New daemons in DAEMON_LIST: " + " ".join(added))
            self.start_all_daemons()
        self.update_collector()

    # ================================================================ starting
    def start_all_daemons(self) -> None:
        """Start every daemon that is down and not held, in DAEMON_LIST order, waiting for the
        COLLECTOR to be ready before starting the ones after it (Daemons::StartAllDaemons)."""
        self._cancel_retry()
        if self.all_gone_action is not None:
            return
        for entry in list(self.daemons.values()):
            if entry.name == "MASTER" or entry.on_hold:
                continue
            if not entry.running and entry.start_tid is None:
                self.start(entry)
            if entry.running and self._wait_for(entry):
                self.retry_tid = self.dc.register_timer(0.1, self.start_all_daemons,
                                                        name="RetryStartAllDaemons")
                return
        self.dprintf(Category.ALWAYS, "Daemons::StartAllDaemons all daemons were started")

    def _wait_for(self, entry: DaemonEntry) -> bool:
        """True while later daemons must wait for *entry*: the collector, until it sent
        DC_SET_READY or (re)wrote its address file (COLLECTOR_ADDRESS_FILE, default
        $(LOG)/.collector_address) -- at most 20 s."""
        if entry.name != "COLLECTOR" or entry.ready_state or not entry.running:
            return False
        if time.time() - entry.start_time > 20:
            return False
        path = self.param("COLLECTOR_ADDRESS_FILE") or os.path.join(self.param("LOG") or "",
                                                                    ".collector_address")
        try:
            return os.stat(path).st_mtime < entry.start_time
        except OSError:
            return True

    def _cancel_retry(self) -> None:
        if self.retry_tid is not None:
            self.dc.cancel_timer(self.retry_tid)
            self.retry_tid = None

    def start(self, entry: DaemonEntry) -> bool:
        """Start *entry* now through the supervisor (daemon::Start / RealStart)."""
        entry.start_tid = None
        if entry.running or entry.removed or entry.name == "MASTER":
            return False
        if entry.config_error:
            self.dprintf(Category.ALWAYS, f"ERROR: can't start {entry.name}: {entry.config_error}")
            self.schedule_restart(entry, by_command=False)
            return False
        name = entry.name
        busy = self.sup.services.get(name)
        if busy is not None and busy.running:
            # an earlier instance (taken out of DAEMON_LIST and put back) is still stopping
            entry.start_tid = self.dc.register_timer(0.5, lambda e=entry: self.start(e),
                                                     name="daemon::DoStart")
            return False
        argv = entry.argv()
        env = [f"{k}={v}" for k, v in entry.env.items()]
        env.append(f"CONDOR_INHERIT={os.getpid()} {self.sinful} 0 0")
        self.ctl.send("service.args", name, *argv)
        self.ctl.send("service.env", name, "inherit", *env)
        self.ctl.send("service.fds", name, "null", "null", "stderr")
        self.ctl.send("service.start", name)
        svc = self.sup.services.get(name)
        if svc is None or svc.state != "up":
            why = getattr(svc, "spawn_error", None) or "unknown error"
            self.dprintf(Category.ALWAYS, f"ERROR: failed to start {name} ({' '.join(argv)}): {why}")
            self.schedule_restart(entry, by_command=False)
            return False
        entry.pid = svc.pid
        entry.start_time = int(time.time())
        entry.timestamp = program_mtime(entry.program)
        entry.ready_state = None
        entry.stop_state = StopState.NONE
        self.dprintf(Category.ALWAYS, f'Started DaemonCore process "{" ".join(argv)}", '
                                      f"pid and pgroup = {entry.pid}")
        if entry.restarts > 0:
            entry.recover_tid = self.dc.register_timer(entry.recover_time,
                                                       lambda e=entry: self._recover(e),
                                                       name="daemon::Recover")
        self.update_collector()
        return True

    def _recover(self, entry: DaemonEntry) -> None:
        entry.restarts = 0
        entry.recover_tid = None
        self.dprintf(Category.ALWAYS, f"{entry.name} recovered")

    def schedule_restart(self, entry: DaemonEntry, by_command: bool) -> None:
        """Plan the next start of *entry* (daemon::Restart): after MASTER_NEW_BINARY_DELAY
        for a new executable, 1 s after an expected exit, else after the backoff."""
        if entry.on_hold or entry.removed or not self.start_daemons or self.all_gone_action:
            return
        if entry.new_exec:
            entry.restarts = 0
            entry.new_exec = False
            n = self.param_integer("MASTER_NEW_BINARY_DELAY", 120, min_value=0)
        elif by_command:
            n = 1
            entry.restarts = 0
        else:
            n = entry.next_start()
            entry.restarts += 1
        entry.ready_state = None
        self._cancel(entry, "recover_tid", "start_tid")
        entry.start_tid = self.dc.register_timer(n, lambda e=entry: self.start(e), name="daemon::DoStart")
        self.dprintf(Category.ALWAYS, f"restarting {entry.name} in {n} seconds")
        self.update_collector()

    # ================================================================ child exits
    def _on_proxy_event(self, fields: list[str]) -> None:
        """Events of the supervisor.  Called synchronously (also from inside ctl.send), so
        the work is deferred to the next loop iteration."""
        if fields[0] == "service.state" and len(fields) > 2 and fields[2] == "down":
            svc = self.sup.services.get(fields[1])
            if svc is not None and svc.pid is not None:
                self.dc.loop.call_soon(self._child_exited, fields[1], svc.pid, svc.wstatus or 0)
        elif fields[0] in ("error", "warning"):
            self.dprintf(Category.ALWAYS, "supervisor: " + " ".join(fields))

    def _find(self, name: str, pid: int) -> Optional[DaemonEntry]:
        entry = self.daemons.get(name)
        if entry is not None and entry.pid == pid:
            return entry
        for e in self.removed:
            if e.pid == pid:
                return e
        return None

    def _child_exited(self, name: str, pid: int, status: int) -> None:
        entry = self._find(name, pid)
        if entry is None:
            return
        text, code, signalled = _status_text(status)
        expected = False
        msg = f"The {entry.name} (pid {pid}) {text}"
        if entry.not_responding:
            msg = f"The {entry.name} (pid {pid}) was killed because it was no longer responding"
        elif not signalled and code == DAEMON_NO_RESTART:
            msg += " (daemon will not restart automatically)"
            entry.on_hold = True
        elif not signalled and code == 0 and (entry.on_hold or self.all_gone_action
                                               or entry.stop_state != StopState.NONE):
            expected = True
        self.dprintf(Category.ALWAYS, msg)
        self.alive.pop(pid, None)
        entry.pid = None
        entry.start_time = 0
        entry.ready_state = None
        entry.stop_state = StopState.NONE
        entry.not_responding = False
        self._cancel(entry, "stop_tid", "recover_tid", "hung_tid")
        if entry.removed:
            self.removed.remove(entry)
            self._forget(entry)
        if self.all_gone_action is not None:
            self._stop_phase()
            return
        if not entry.removed:
            self.schedule_restart(entry, by_command=expected)

    def _forget(self, entry: DaemonEntry) -> None:
        self._cancel(entry, "start_tid", "recover_tid", "stop_tid", "hung_tid")
        if entry.name in self.sup.services and not self.sup.services[entry.name].running:
            self.ctl.send("service.delete", entry.name)

    def _cancel(self, entry: DaemonEntry, *attrs: str) -> None:
        for attr in attrs:
            tid = getattr(entry, attr)
            if tid is not None:
                self.dc.cancel_timer(tid)
                setattr(entry, attr, None)

    # ================================================================ stopping one daemon
    def _signal(self, entry: DaemonEntry, sig: str, group: bool = False) -> None:
        args = ["service.signal", entry.name, sig] + (["group"] if group else [])
        self.ctl.send(*args)

    def stop(self, entry: DaemonEntry, peaceful: bool = False) -> None:
        """SIGTERM; SIGQUIT after SHUTDOWN_GRACEFUL_TIMEOUT unless peaceful (daemon::Stop,
        daemon::StopPeaceful)."""
        self._cancel(entry, "start_tid")
        if not entry.running or entry.stop_state in (StopState.GRACEFUL, StopState.PEACEFUL,
                                                     StopState.FAST, StopState.KILL):
            return
        entry.stop_state = StopState.PEACEFUL if peaceful else StopState.GRACEFUL
        self.dprintf(Category.ALWAYS, f"Stopping {entry.name} (pid {entry.pid}) "
                                      f"{'peacefully' if peaceful else 'gracefully'}")
        self._signal(entry, "SIGTERM")
        if not peaceful:
            timeout = self.param_integer("SHUTDOWN_GRACEFUL_TIMEOUT", 30 * 60, min_value=1)
            entry.stop_tid = self.dc.register_timer(timeout, lambda e=entry: self.stop_fast(e, True),
                                                    name="daemon::StopFastTimer")

    def stop_fast(self, entry: DaemonEntry, timed_out: bool = False) -> None:
        """SIGQUIT; SIGKILL to the process group after SHUTDOWN_FAST_TIMEOUT (daemon::StopFast)."""
        self._cancel(entry, "start_tid")
        if not entry.running or entry.stop_state in (StopState.FAST, StopState.KILL):
            return
        if timed_out:
            entry.stop_tid = None
            self.dprintf(Category.ALWAYS, f"Timeout for graceful shutdown has expired for {entry.name}.")
        self._cancel(entry, "stop_tid")
        entry.stop_state = StopState.FAST
        self._signal(entry, "SIGQUIT")
        timeout = self.param_integer("SHUTDOWN_FAST_TIMEOUT", 300, min_value=1)
        entry.stop_tid = self.dc.register_timer(timeout, lambda e=entry: self.hard_kill(e),
                                                name="daemon::HardKill")

    def hard_kill(self, entry: DaemonEntry) -> None:
        """SIGKILL to the daemon and its process group (daemon::HardKill)."""
        entry.stop_tid = None
        if not entry.running or entry.stop_state == StopState.KILL:
            return
        entry.stop_state = StopState.KILL
        self.dprintf(Category.ALWAYS, f"Timeout for fast shutdown has expired for {entry.name}.")
        self._signal(entry, "SIGKILL", group=True)
        self.dprintf(Category.ALWAYS, f"Sent SIGKILL to {entry.name} (pid {entry.pid}) and all its children.")

    # ================================================================ stopping them all
    def stop_all(self, how: str, then: str) -> None:
        """Stop every child (*how*: graceful, fast, peaceful), then *then*: ``exit`` the
        master, ``restart`` it (exec itself anew) or ``reset`` (stay up with nothing running:
        DAEMONS_OFF)."""
        if self.all_gone_action == "exit" and then != "exit":
            return  # already exiting
        self.all_gone_action = then
        if how == "fast" or self.stop_how != "fast":
            self.stop_how = how
        self._cancel_retry()
        for entry in list(self.daemons.values()) + self.removed:
            self._cancel(entry, "start_tid", "recover_tid")
        self.dprintf(Category.ALWAYS, f"Stopping all daemons ({self.stop_how}), then {then}")
        self._stop_phase()

    def _running(self) -> list[DaemonEntry]:
        return [e for e in list(self.daemons.values()) + self.removed
                if e.running and e.name != "MASTER"]

    def _stop_phase(self) -> None:
        """Stop the next group: STARTDs first (Daemons::StopAllDaemons), then all others,
        the COLLECTOR and SHARED_PORT last; fast: everything at once."""
        running = self._running()
        if not running:
            self._all_daemons_gone()
            return
        how = self.stop_how
        if how == "fast":
            group = running
        else:
            startds = [e for e in running if e.name.startswith("STARTD")]
            others = [e for e in running if e not in startds and e.name not in _LATE_STOPPERS]
            group = startds or others or running
        for entry in reversed(group):
            if how == "fast":
                self.stop_fast(entry)
            else:
                self.stop(entry, peaceful=(how == "peaceful"))

    def _all_daemons_gone(self) -> None:
        action, self.all_gone_action = self.all_gone_action, None
        self.dprintf(Category.ALWAYS, "All daemons are gone.")
        if action == "exit":
            self.all_gone_action = "exit"  # stay in exit mode: nothing restarts
            self.dc.spawn(self._exit_after_invalidate(), name="master exit")
        elif action == "restart":
            self.all_gone_action = "restart"
            self.dc.spawn(self._exec_self(), name="master restart")
        else:
            self.update_collector()

    async def _exit_after_invalidate(self) -> None:
        await self.dc.run_in_thread(self._invalidate_ad)
        self.shutdown_done(0)

    async def _exec_self(self) -> None:
        """Restart the master: a new program image in the same process (Daemons::ExecMaster)."""
        await self.dc.run_in_thread(self._invalidate_ad)
        argv = list(getattr(sys, "orig_argv", None) or [sys.executable] + sys.argv)
        self.dprintf(Category.ALWAYS, "Restarting master: exec " + " ".join(argv))
        self.dprintf(Category.ALWAYS, "**** condor_master (condor_MASTER) pid %d EXECING %s"
                     % (os.getpid(), argv[0]))
        try:
            self.sup.close()
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable] + argv[1:])

    # ================================================================ shutdown of the master
    def main_shutdown_graceful(self) -> None:
        self.stop_all("peaceful" if self.shutting_down == "peaceful" else "graceful", "exit")

    def main_shutdown_fast(self) -> None:
        self.stop_all("fast", "exit")

    # ================================================================ other checks
    def check_new_executables(self) -> None:
        """Restart daemons whose program changed on disk (Daemons::CheckForNewExecutable);
        MASTER_NEW_BINARY_RESTART = NEVER disables it.  A changed master binary restarts
        the master in that mode (GRACEFUL, PEACEFUL or FAST)."""
        mode = (self.param("MASTER_NEW_BINARY_RESTART") or "GRACEFUL").strip().upper()
        if mode == "NEVER" or self.all_gone_action is not None or not self.start_daemons:
            return
        master_now = program_mtime(os.path.abspath(sys.argv[0]))
        if self.master_timestamp and master_now and master_now != self.master_timestamp:
            self.master_timestamp = master_now
            self.dprintf(Category.ALWAYS, f"{sys.argv[0]} was modified, restarting condor_master "
                                          f"{mode.capitalize()}.")
            self.stop_all({"FAST": "fast", "PEACEFUL": "peaceful"}.get(mode, "graceful"), "restart")
            return
        for entry in self.daemons.values():
            if entry.name == "MASTER" or entry.on_hold:
                continue
            changed = entry.running and entry.timestamp and \
                program_mtime(entry.program) not in (0, entry.timestamp)
            if entry.new_exec or changed:
                entry.new_exec = True
                if entry.running:
                    self.dprintf(Category.ALWAYS, f"{entry.program} was modified, killing {entry.name}.")
                    self.stop(entry)
                elif entry.start_tid is not None:
                    self._cancel(entry, "start_tid")
                    self.schedule_restart(entry, by_command=True)

    # ================================================================ commands
    async def _cmd_daemons_on(self, stream) -> None:
        self.dprintf(Category.ALWAYS, "Handling admin command DAEMONS_ON.")
        self.start_daemons = True
        if self.all_gone_action == "reset":
            self.all_gone_action = None
        for entry in self.daemons.values():
            entry.on_hold = False
        self.start_all_daemons()

    async def _cmd_daemon_off_peaceful(self, stream) -> None:
        """483 is DAEMON_OFF_PEACEFUL + subsystem for condor_off, but htcondor2's
        DaemonCommand.DaemonsOn sends it with no payload: then it means DAEMONS_ON."""
        try:
            subsys = await asyncio.wait_for(stream.get_string(), 5)
        except Exception:
            subsys = None
        if subsys:
            self._subsys_command("peaceful", subsys.strip().upper())
        else:
            await self._cmd_daemons_on(stream)

    def _cmd_daemons_off(self, how: str):
        async def handler(stream) -> None:
            self.dprintf(Category.ALWAYS, f"Handling admin command DAEMONS_OFF ({how}).")
            self.start_daemons = False
            self.stop_all(how, "reset")
        return handler

    def _cmd_subsys(self, what: str):
        async def handler(stream) -> None:
            subsys = (await stream.get_string()).strip().upper()
            try:
                await stream.end_of_message()
            except Exception:  # the real client may close right after the string
                pass
            self._subsys_command(what, subsys)
        return handler

    def _subsys_command(self, what: str, subsys: str) -> None:
        """DAEMON_ON / DAEMON_OFF(_FAST/_PEACEFUL) for one subsystem (handle_subsys_command)."""
        entry = self.daemons.get(subsys)
        if entry is None:
            self.dprintf(Category.ALWAYS, f"Error: Can't find daemon of type {subsys}")
            return
        self.dprintf(Category.ALWAYS, f"Handling DAEMON_{'ON' if what == 'on' else 'OFF'} "
                                      f"command for {subsys}")
        if subsys == "MASTER":
            return  # the master never stops itself this way (daemon::Stop)
        if what == "on":
            entry.on_hold = False
            if not entry.running and entry.start_tid is None:
                self.start(entry)
            return
        entry.on_hold = True
        if what == "fast":
            self.stop_fast(entry)
        else:
            self.stop(entry, peaceful=(what == "peaceful"))

    def _cmd_restart(self, how: str):
        async def handler(stream) -> None:
            self.dprintf(Category.ALWAYS, f"Handling admin command RESTART ({how}).")
            self.stop_all(how, "restart")
        return handler

    async def _cmd_set_ready(self, stream) -> None:
        ad = to_classad(await stream.get_ad())
        await stream.end_of_message()
        name = ad.get("DaemonName")
        pid = ad.get("DaemonPID")
        state = ad.get("DaemonState")
        entry = next((e for e in self.daemons.values() if e.pid is not None and e.pid == pid), None)
        if entry is None:
            self.dprintf(Category.ALWAYS, f"Cant find daemon {name} to set ready state '{state}'")
            return
        entry.ready_state = str(state)
        self.dprintf(Category.ALWAYS, f"Setting ready state '{state}' for {entry.name}")

    async def _cmd_query_ready(self, stream) -> None:
        """Reply one ad: ``<SUBSYS> = "Ready"|"Alive"|"Down"|"Hold"``, NumDaemons, NumAlive,
        IsReady (Daemons::QueryReady, without waiting)."""
        try:
            await stream.get_ad()
            await stream.end_of_message()
        except Exception:
            pass
        reply = WireAd()
        n_alive = n_ready = 0
        kids = [e for e in self.daemons.values() if e.name != "MASTER"]
        for e in kids:
            if e.running:
                n_alive += 1
                n_ready += bool(e.ready_state)
            state = e.ready_state or ("Alive" if e.running else "Hold" if e.on_hold else "Down")
            reply.set(e.name, state)
        reply.set("NumDaemons", len(kids))
        reply.set("NumAlive", n_alive)
        reply.set("IsReady", n_ready == len(kids))
        stream.put_ad(reply)
        await stream.end_of_message()

    async def _cmd_child_alive(self, stream) -> None:
        """DC_CHILDALIVE ``int pid, int timeout [, ...]``: the child promises another one
        within *timeout* seconds; if none comes it is considered hung and killed hard
        (daemon_keep_alive.cpp HandleChildAliveCommand / HungChildTimeout)."""
        pid = await stream.get_int()
        timeout = await stream.get_int()
        entry = next((e for e in self.daemons.values() if e.pid is not None and e.pid == pid), None)
        if entry is None:
            self.dprintf(Category.ALWAYS, f"Received child alive command from unknown pid {pid}")
            return
        self.alive[pid] = time.time() + timeout
        entry.not_responding = False
        self._cancel(entry, "hung_tid")
        entry.hung_tid = self.dc.register_timer(timeout, lambda e=entry, p=pid: self._hung(e, p),
                                                name="HungChildTimeout")
        self.log.dprintf(Category.DAEMONCORE, f"received childalive, pid={pid}, secs={timeout}")

    def _hung(self, entry: DaemonEntry, pid: int) -> None:
        entry.hung_tid = None
        if entry.pid != pid or time.time() < self.alive.get(pid, 0):
            return
        entry.not_responding = True
        self.dprintf(Category.ALWAYS, f"ERROR: Child pid {pid} appears hung! Killing it hard.")
        self._signal(entry, "SIGKILL", group=True)

    # ================================================================ the Master ad
    def master_ad(self) -> C.ClassAd:
        """The DaemonMaster ad (master.cpp init_classad, Daemons::Update): Name, Machine,
        MyAddress, MasterIpAddr, DaemonStartTime, ``<SUBSYS>_Timestamp`` and
        ``<SUBSYS>_StartTime`` (0 when it should run but is down) for every daemon."""
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        self.update_seq += 1
        attrs = {
            "MyType": "DaemonMaster", "TargetType": "", "Name": self.name, "Machine": host,
            "MyAddress": self.sinful, "MasterIpAddr": self.sinful, "AddressV1": self.sinful,
            "DaemonStartTime": self.start_time, "DaemonLastReconfigTime": self.last_reconfig,
            "MyCurrentTime": int(time.time()), "CondorVersion": VERSION_STRING,
            "CondorPlatform": PLATFORM_STRING, "RealUid": os.getuid(), "MyPid": os.getpid(),
            "UpdateSequenceNumber": self.update_seq,
            "DaemonList": ", ".join(self.daemons),
        }
        for e in self.daemons.values():
            if e.name == "MASTER":
                attrs["MASTER_Timestamp"] = self.master_timestamp
                attrs["MASTER_StartTime"] = self.start_time
            else:
                attrs[f"{e.name}_Timestamp"] = e.timestamp or program_mtime(e.program)
                attrs[f"{e.name}_StartTime"] = e.start_time if e.running else 0
        self.publish_daemon_stats(attrs)
        return C.ClassAd(attrs)

    def update_collector(self) -> None:
        """Send the Master ad (UPDATE_MASTER_AD) to COLLECTOR_HOST in a worker thread."""
        if self.all_gone_action == "exit" or not self.param("COLLECTOR_HOST"):
            return
        ad = self.master_ad()

        def send():
            from pyhtc.client import CollectorClient
            CollectorClient(config=self.config).advertise([ad], Command.UPDATE_MASTER_AD)

        def done(_result, exc):
            if exc is not None:
                self.dprintf(Category.ALWAYS, f"Failed to send UPDATE_MASTER_AD to the collector: {exc}")
        self.dc.run_in_thread(send, reaper=done)

    def _invalidate_ad(self) -> None:
        """INVALIDATE_MASTER_ADS for our ad (master.cpp invalidate_ads); errors ignored."""
        if not self.param("COLLECTOR_HOST"):
            return
        try:
            from pyhtc.client import CollectorClient, start_command
            client = CollectorClient(config=self.config)
            q = WireAd()
            q.set("MyType", "Query")
            q.set("TargetType", "DaemonMaster")
            q.set("Name", self.name)
            q.set("MyAddress", self.sinful)
            q.set_expr("Requirements", f'(TARGET.Name == "{self.name}")')
            with start_command(client.addresses[0], Command.INVALIDATE_MASTER_ADS, client.policy,
                               timeout=5) as s:
                s.put_ad(q).end_of_message()
        except Exception as exc:
            self.dprintf(Category.ALWAYS, f"Failed to invalidate the Master ad: {exc}")


def main(argv=None) -> int:
    """Entry point of ``condor_master``."""
    return Master.main(argv)


if __name__ == "__main__":
    sys.exit(main())
