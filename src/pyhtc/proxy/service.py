"""The service model (daemonproxy ``src/service.c``).

A service is a name plus an argv, a list of handle names for descriptor slots 0..n-1, tags,
per-service environment settings and auto-up triggers.  Its life cycle:

``down`` --service.start / trigger--> ``start`` (pending, possibly at a future time)
--spawn--> ``up`` --child exits--> ``down`` (with exit reason and value) --> ...

States are reported by ``service.state`` events; see :meth:`Service.state_line`.
"""
from __future__ import annotations

import os

from .protocol import CommandError, fmt_ts, join, signal_name

DEFAULT_FDS = ("null", "null", "null")


class Service:
    """One supervised service.

    Attributes (times are ``time.monotonic()`` seconds):

    * ``name``, ``argv`` (list, argv[0] is also the program, searched on PATH), ``fds`` (list of
      handle names, ``-`` = closed slot), ``tags`` (list), ``env_base`` (``inherit`` or ``clean``),
      ``env`` (list of ``KEY=VALUE`` / ``-KEY`` settings applied in order);
    * ``interval`` (auto-up minimum interval, s), ``triggers`` (list of ``always`` / signal names);
    * ``state`` (``down``, ``start`` or ``up``), ``pid``, ``up_ts`` (start time, or the scheduled
      time while ``start``), ``reap_ts``, ``wstatus`` (``os.waitpid`` status, or None),
      ``spawn_error`` (text when the last start failed before exec);
    * ``pidfd`` (descriptor watched for the exit), ``controller`` (the connection created for a
      service whose fds name ``control.*``).
    """

    __slots__ = ("name", "argv", "fds", "tags", "env_base", "env", "interval", "triggers",
                 "state", "pid", "up_ts", "reap_ts", "wstatus", "spawn_error", "pidfd",
                 "controller", "last_start")

    def __init__(self, name: str):
        self.name = name
        self.argv: list[str] = []
        self.fds: list[str] = list(DEFAULT_FDS)
        self.tags: list[str] = []
        self.env_base = "inherit"
        self.env: list[str] = []
        self.interval = 1.0
        self.triggers: list[str] = []
        self.state = "down"
        self.pid: int | None = None
        self.up_ts: float | None = None
        self.reap_ts: float | None = None
        self.wstatus: int | None = None
        self.spawn_error: str | None = None
        self.pidfd: int | None = None
        self.controller = None
        self.last_start: float | None = None

    # -- derived values --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the process is alive (state ``up``)."""
        return self.state == "up"

    @property
    def auto_always(self) -> bool:
        return "always" in self.triggers

    def trigger_signals(self) -> set[str]:
        return {t for t in self.triggers if t != "always"}

    def uses_control(self) -> set[str]:
        return {f for f in self.fds if f.startswith("control.")}

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        """The environment for the next start: *base* (the proxy's own environment) unless
        ``env_base`` is ``clean``, then each ``KEY=VALUE`` set and each ``-KEY`` removed."""
        env = dict(base) if self.env_base == "inherit" else {}
        for item in self.env:
            if item.startswith("-"):
                env.pop(item[1:], None)
            else:
                k, _, v = item.partition("=")
                env[k] = v
        return env

    # -- events -----------------------------------------------------------------------------------
    def state_line(self, now: float) -> str:
        """``service.state NAME STATE TS PID EXITREASON EXITVALUE UPTIME DOWNTIME``.

        Follows daemonproxy ``ctl_notify_svc_state``: a never-started service is
        ``down - - - - - -``; a pending start shows the scheduled time; a running one its start
        time, pid and uptime; a stopped one its reap time, pid, ``exit CODE`` or
        ``signal SIGNAME``, how long it ran and how long it has been down.  A start that failed
        before exec (bad fd, program not found) is ``down TS - exit 127``.
        """
        n = self.name
        if self.up_ts is None:
            return join("service.state", n, "down", "-", "-", "-", "-", "-", "-")
        if self.state == "start":
            return join("service.state", n, "start", fmt_ts(self.up_ts), "-", "-", "-", "-", "-")
        if self.state == "up":
            return join("service.state", n, "up", fmt_ts(self.up_ts), self.pid, "-", "-",
                        fmt_ts(max(0.0, now - self.up_ts)), "-")
        reap = self.reap_ts if self.reap_ts is not None else self.up_ts
        pid = self.pid if self.pid else "-"
        if self.wstatus is None:
            reason, value = "-", "-"
        elif os.WIFSIGNALED(self.wstatus):
            reason, value = "signal", signal_name(os.WTERMSIG(self.wstatus))
        else:
            reason, value = "exit", os.WEXITSTATUS(self.wstatus)
        return join("service.state", n, "down", fmt_ts(reap), pid, reason, value,
                    fmt_ts(max(0.0, reap - self.up_ts)), fmt_ts(max(0.0, now - reap)))

    def args_line(self) -> str:
        return join("service.args", self.name, *self.argv)

    def fds_line(self) -> str:
        return join("service.fds", self.name, *self.fds)

    def tags_line(self) -> str:
        return join("service.tags", self.name, *self.tags)

    def env_line(self) -> str:
        return join("service.env", self.name, self.env_base, *self.env)

    def auto_up_line(self) -> str:
        if not self.triggers:
            return join("service.auto_up", self.name, "-")
        iv = int(self.interval) if self.interval == int(self.interval) else "%g" % self.interval
        return join("service.auto_up", self.name, iv, *self.triggers)


def parse_env_settings(args: list[str]) -> tuple[str | None, list[str]]:
    """Validate ``service.env`` arguments: an optional first word ``inherit`` or ``clean`` and
    then ``KEY=VALUE`` or ``-KEY`` items.  Returns (base or None, items); raises CommandError."""
    base = None
    if args and args[0] in ("inherit", "clean"):
        base, args = args[0], args[1:]
    for item in args:
        key = item[1:] if item.startswith("-") else item.partition("=")[0]
        if not item.startswith("-") and "=" not in item:
            raise CommandError(f"expected KEY=VALUE or -KEY, got {item!r}")
        if not key or not (key[0].isalpha() or key[0] == "_") or not all(c.isalnum() or c == "_" for c in key):
            raise CommandError(f"invalid environment variable name {key!r}")
    return base, list(args)
