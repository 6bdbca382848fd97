"""One entry of the master's DAEMON_LIST: its program, arguments, environment and life state.

Follows HTCondor's ``class daemon`` in src/condor_master.V6/masterDaemon.cpp (DoConfig,
NextStart, Restart, Recover, Exited) and the manual's admin-manual/configuration/master.rst
(DAEMON_LIST, ``<SUBSYS>``, ``<SUBSYS>_ARGS``, ``<SUBSYS>_ENVIRONMENT``,
``MASTER_[<SUBSYS>_]BACKOFF_CONSTANT/FACTOR/CEILING``, ``MASTER_[<SUBSYS>_]RECOVER_FACTOR``).
"""
from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from typing import Optional

from pyhtc.classad.fn_condor import split_args

__all__ = ["DaemonEntry", "StopState", "parse_args_knob", "parse_env_knob", "DEFAULT_DC_DAEMONS",
           "daemon_list"]

#: daemons HTCondor knows by name (masterDaemon.cpp default_dc_daemon_array); any other
#: DAEMON_LIST entry is started with ``-local-name <NAME>``
DEFAULT_DC_DAEMONS = frozenset({
    "MASTER", "COLLECTOR", "NEGOTIATOR", "SCHEDD", "STARTD", "KBDD", "SHARED_PORT", "CREDD",
    "GRIDMANAGER", "HAD", "REPLICATION", "JOB_ROUTER", "ROOSTER", "DEFRAG", "GANGLIAD",
    "ANNEXD", "C_GAHP", "C_GAHP_WORKER_THREAD", "TRANSFERER", "STARTER", "SHADOW",
})


class StopState:
    """How far a stop has gone (masterDaemon.cpp StopStateT)."""
    NONE = "NONE"
    PEACEFUL = "PEACEFUL"
    GRACEFUL = "GRACEFUL"
    FAST = "FAST"
    KILL = "KILL"


def daemon_list(value: Optional[str]) -> list[str]:
    """DAEMON_LIST as upper-case names in order, duplicates dropped; MASTER always first
    (the master is always "in" the list, master.cpp)."""
    names = ["MASTER"]
    for item in (value or "").replace(",", " ").split():
        n = item.strip().upper()
        if n and n not in names:
            names.append(n)
    return names


def parse_args_knob(value: Optional[str], knob: str) -> list[str]:
    """``<SUBSYS>_ARGS``: V2 syntax when the value is enclosed in double quotes (single quotes
    group, ``''`` is a literal quote), else V1 (whitespace separated), as ArgList
    AppendArgsV1RawOrV2Quoted.  Raises ValueError naming *knob* on an unbalanced quote."""
    if not value or not value.strip():
        return []
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        parts = split_args(v[1:-1].encode())
        if parts is None:
            raise ValueError(f"{knob}: unbalanced single quote in {value!r}")
        return [p.decode() for p in parts]
    return v.split()


def parse_env_knob(value: Optional[str], knob: str) -> dict[str, str]:
    """``<SUBSYS>_ENVIRONMENT``: V2 (double-quoted, whitespace separated NAME=VALUE) or V1
    (``;`` separated), as Env MergeFromV1RawOrV2Quoted.  Raises ValueError naming *knob*."""
    if not value or not value.strip():
        return {}
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        parts = split_args(v[1:-1].encode())
        if parts is None:
            raise ValueError(f"{knob}: unbalanced single quote in {value!r}")
        items = [p.decode() for p in parts]
    else:
        items = [p for p in v.split(";") if p.strip()]
    env = {}
    for item in items:
        name, eq, val = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"{knob}: {item!r} is not NAME=VALUE")
        env[name.strip()] = val
    return env


def program_mtime(path: str) -> int:
    """Modification time (s) of a daemon's program, 0 if it cannot be read
    (the ``timeStamp`` of masterDaemon.cpp NewExecutable)."""
    try:
        return int(os.stat(path).st_mtime)
    except OSError:
        return 0


@dataclass
class DaemonEntry:
    """State of one daemon the master runs.

    ``restarts`` counts failed starts since the last recovery; :meth:`next_start` is the
    backoff delay in seconds, ``c + ceil(k ** restarts)`` capped by the ceiling
    (masterDaemon.cpp daemon::NextStart; manual "t = c + k^n").
    """

    name: str
    program: str = ""
    args: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    backoff_constant: int = 9
    backoff_factor: float = 2.0
    backoff_ceiling: int = 3600
    recover_time: int = 300
    restarts: int = 0
    pid: Optional[int] = None
    start_time: int = 0            # wall-clock start of the current process (0 = down)
    timestamp: int = 0             # program mtime when last started
    ready_state: Optional[str] = None
    stop_state: str = StopState.NONE
    on_hold: bool = False          # DAEMON_OFF / DAEMONS_OFF: not restarted
    removed: bool = False          # taken out of DAEMON_LIST by a reconfig
    new_exec: bool = False         # program changed: restart after MASTER_NEW_BINARY_DELAY
    restart_when_down: bool = False  # DAEMON_ON arrived while it was stopping
    start_tid: Optional[int] = None
    recover_tid: Optional[int] = None
    stop_tid: Optional[int] = None
    config_error: Optional[str] = None
    not_responding: bool = False   # killed because its DC_CHILDALIVE deadline passed
    hung_tid: Optional[int] = None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def configure(self, param, param_integer, param_double) -> None:
        """(Re)read this daemon's knobs with the given param functions (daemon::DoConfig).
        A bad ``_ARGS``/``_ENVIRONMENT`` is kept in ``config_error`` (start refused)."""
        n = self.name
        self.backoff_constant = param_integer(f"MASTER_{n}_BACKOFF_CONSTANT",
                                              param_integer("MASTER_BACKOFF_CONSTANT", 9, min_value=1),
                                              min_value=1)
        self.backoff_ceiling = param_integer(f"MASTER_{n}_BACKOFF_CEILING",
                                             param_integer("MASTER_BACKOFF_CEILING", 3600, min_value=1),
                                             min_value=1)
        factor = param_double(f"MASTER_{n}_BACKOFF_FACTOR", 0.0)
        if factor <= 0.0:
            factor = param_double("MASTER_BACKOFF_FACTOR", 2.0)
        self.backoff_factor = factor if factor > 0 else 2.0
        self.recover_time = param_integer(f"MASTER_{n}_RECOVER_FACTOR",
                                          param_integer("MASTER_RECOVER_FACTOR", 300, min_value=1),
                                          min_value=1)
        prog = (param(n) or "").strip()
        if prog and not os.path.isabs(prog):
            prog = shutil.which(prog) or prog
        self.program = prog
        self.config_error = None
        try:
            self.args = parse_args_knob(param(f"{n}_ARGS"), f"{n}_ARGS")
            self.env = parse_env_knob(param(f"{n}_ENVIRONMENT"), f"{n}_ENVIRONMENT")
        except ValueError as exc:
            self.config_error = str(exc)
        if not prog:
            self.config_error = f"no program configured: {n} is not defined"

    def argv(self) -> list[str]:
        """The command line: program, ``-local-name NAME`` for daemons HTCondor does not know
        by name (unless the args already give one), then ``<SUBSYS>_ARGS``."""
        argv = [self.program]
        if self.name not in DEFAULT_DC_DAEMONS and "-local-name" not in self.args:
            argv += ["-local-name", self.name]
        return argv + list(self.args)

    def next_start(self) -> int:
        """Seconds to wait before the next restart after a crash (daemon::NextStart)."""
        try:
            seconds = self.backoff_constant + int(math.ceil(self.backoff_factor ** self.restarts))
        except OverflowError:
            return self.backoff_ceiling
        if seconds > self.backoff_ceiling or seconds < 0:
            seconds = self.backoff_ceiling
        return seconds
