"""ProcFamilyClient: talk to a running condor_procd (HTCondor's
``src/condor_procd/proc_family_client.cpp``), over the Unix socket protocol
described in :mod:`pyhtc.procd.protocol`.

High-level methods raise :class:`ProcDError` when the procd answers with an
error code; :meth:`ProcFamilyClient.request` returns the raw reply instead.
Connection problems raise ``OSError`` (e.g. ``FileNotFoundError`` when no
procd listens at the address).
"""

from __future__ import annotations

import socket

from .protocol import (Command, ProcFamilyDump, ProcFamilyError, ProcFamilyUsage, error_lookup,
                       recv_frame, send_frame)


class ProcDError(Exception):
    """The procd refused a request.  ``code`` is a ProcFamilyError,
    ``message`` the procd's explanation."""

    def __init__(self, command: str, code: int, message: str):
        try:
            self.code = ProcFamilyError(code)
            name = self.code.name
        except ValueError:
            self.code, name = code, str(code)
        self.command = command
        self.message = message
        super().__init__(f"{command} failed with ProcD: {name} ({message})")


class ProcFamilyClient:
    """Client for the procd at Unix socket ``address``; ``timeout`` seconds
    per request (KILL_FAMILY may take a few seconds)."""

    def __init__(self, address: str, timeout: float = 30.0):
        self.address = address
        self.timeout = timeout

    def request(self, command: Command | str | int, **args) -> dict:
        """Send one request and return the reply object (not checked)."""
        if isinstance(command, Command):
            command = command.name
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout)
            s.connect(self.address)
            send_frame(s, {"command": command, **args})
            out = recv_frame(s)
        if out is None:
            raise ConnectionError(f"procd at {self.address} closed the connection without replying")
        return out

    def _call(self, command: Command, **args) -> dict:
        out = self.request(command, **args)
        code = out.get("error")
        if code != ProcFamilyError.SUCCESS:
            raise ProcDError(command.name, code, out.get("error_string") or error_lookup(code))
        return out

    def register_subfamily(self, root_pid: int, watcher_pid: int, max_snapshot_interval: int) -> None:
        """REGISTER_SUBFAMILY (see ProcFamilyMonitor.register_subfamily)."""
        self._call(Command.REGISTER_SUBFAMILY, root_pid=root_pid, watcher_pid=watcher_pid,
                   max_snapshot_interval=max_snapshot_interval)

    def track_family_via_environment(self, pid: int, cookies: list[str]) -> None:
        """Claim processes carrying every ``_CONDOR_ANCESTOR_*=...`` entry in ``cookies``."""
        self._call(Command.TRACK_FAMILY_VIA_ENVIRONMENT, pid=pid, environment=list(cookies))

    def track_family_via_login(self, pid: int, login: str) -> None:
        """Claim every process of user ``login``."""
        self._call(Command.TRACK_FAMILY_VIA_LOGIN, pid=pid, login=login)

    def track_family_via_allocated_supplementary_group(self, pid: int) -> int:
        """Have the procd allocate a tracking gid; returns it."""
        return self._call(Command.TRACK_FAMILY_VIA_ALLOCATED_SUPPLEMENTARY_GROUP, pid=pid)["gid"]

    def track_family_via_associated_supplementary_group(self, pid: int, gid: int) -> None:
        """Associate an externally chosen gid (``-E`` mode) with the family."""
        self._call(Command.TRACK_FAMILY_VIA_ASSOCIATED_SUPPLEMENTARY_GROUP, pid=pid, gid=gid)

    def track_family_via_cgroup(self, pid: int, cgroup: str) -> None:
        """Put the family in cgroup ``<BASE_CGROUP>/<cgroup>`` and track by it."""
        self._call(Command.TRACK_FAMILY_VIA_CGROUP, pid=pid, cgroup=cgroup)

    def signal_process(self, pid: int, sig: int) -> None:
        """Send signal ``sig`` to a family root or member."""
        self._call(Command.SIGNAL_PROCESS, pid=pid, signal=int(sig))

    def suspend_family(self, pid: int) -> None:
        self._call(Command.SUSPEND_FAMILY, pid=pid)

    def continue_family(self, pid: int) -> None:
        self._call(Command.CONTINUE_FAMILY, pid=pid)

    def kill_family(self, pid: int) -> None:
        self._call(Command.KILL_FAMILY, pid=pid)

    def get_usage(self, pid: int = 0) -> ProcFamilyUsage:
        """Usage of the family rooted at ``pid`` (0 = root family)."""
        return ProcFamilyUsage.from_dict(self._call(Command.GET_USAGE, pid=pid)["usage"])

    def unregister_family(self, pid: int) -> None:
        self._call(Command.UNREGISTER_FAMILY, pid=pid)

    def snapshot(self) -> None:
        """TAKE_SNAPSHOT."""
        self._call(Command.TAKE_SNAPSHOT)

    def dump(self, pid: int = 0) -> list[ProcFamilyDump]:
        """DUMP: families (and members) under ``pid`` (0 = everything)."""
        return [ProcFamilyDump.from_dict(d) for d in self._call(Command.DUMP, pid=pid)["families"]]

    def quit(self) -> None:
        """QUIT: ask the procd to exit."""
        self._call(Command.QUIT)
