"""``Negotiator``: read and edit the pool's accounting (htcondor2.Negotiator; the protocol is
:mod:`pyhtc.client.negotiator`, the same condor_userprio uses)."""
from __future__ import annotations

from typing import List, Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.client.negotiator import NegotiatorClient, split_numbered

from ._enums import DaemonType
from ._errors import HTCondorException
from ._param import get_config

__all__ = ["Negotiator"]


def _validate_user(user) -> None:
    if not isinstance(user, str):
        raise TypeError("user must be a string")
    if "@" not in user:
        raise ValueError("You must specify the submitter (user@uid.domain)")


class Negotiator:
    """The negotiator at ``location`` (a ClassAd with ``MyAddress``, e.g. from
    ``Collector.locate(DaemonType.Negotiator)``; None: the pool's).  Argument errors raise
    TypeError/ValueError with htcondor2's messages; failures to talk to the negotiator raise
    HTCondorException."""

    def __init__(self, location: Optional[C.ClassAd] = None):
        if location is None:
            from ._collector import Collector
            location = Collector().locate(DaemonType.Negotiator)
        if not isinstance(location, C.ClassAd):
            raise TypeError("location must be a ClassAd")
        self._addr = location["MyAddress"]
        self._client = NegotiatorClient(self._addr, get_config())

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError as exc:
            raise HTCondorException(f"Failed to talk to the negotiator at {self._addr}: {exc}") from exc

    def getPriorities(self, rollup: bool = False) -> List[C.ClassAd]:
        """The accounting records, one ClassAd per submitter or group (GET_PRIORITY, or
        GET_PRIORITY_ROLLUP with ``rollup``)."""
        return split_numbered(self._call(self._client.priorities, bool(rollup)))

    def getResourceUsage(self, user: str) -> List[C.ClassAd]:
        """The slots ``user`` holds (GET_RESLIST), one ClassAd each."""
        _validate_user(user)
        return split_numbered(self._call(self._client.resource_list, user))

    def _edit(self, command, user, value=None):
        reply = self._call(self._client.edit, command, user, value)
        if reply is not None and reply.get("ErrorCode", 0):
            raise HTCondorException(str(reply.get("ErrorString") or f"error {reply.get('ErrorCode')}"))

    def deleteUser(self, user: str) -> None:
        """Delete the accounting record of ``user``."""
        _validate_user(user)
        self._edit(Command.DELETE_USER, user)

    def resetAllUsage(self) -> None:
        """Set every accumulated usage to zero."""
        self._edit(Command.RESET_ALL_USAGE, None)

    def resetUsage(self, user: str) -> None:
        """Set the accumulated usage of ``user`` to zero."""
        _validate_user(user)
        self._edit(Command.RESET_USAGE, user)

    def setBeginUsage(self, user: str, when: int) -> None:
        """Set when the usage of ``user`` began (Unix seconds)."""
        _validate_user(user)
        self._edit(Command.SET_BEGINTIME, user, int(when))

    def setLastUsage(self, user: str, when: int) -> None:
        """Set when ``user`` last used resources (Unix seconds)."""
        _validate_user(user)
        self._edit(Command.SET_LASTTIME, user, int(when))

    def setCeiling(self, user: str, ceiling: int) -> None:
        """Set the submitter ceiling of ``user`` (>= -1)."""
        _validate_user(user)
        if ceiling <= -1:
            raise ValueError("Ceiling must be greater than -1.")
        self._edit(Command.SET_CEILING, user, int(ceiling))

    def setFactor(self, user: str, factor: float) -> None:
        """Set the priority factor of ``user`` (>= 1.0)."""
        _validate_user(user)
        if factor < 1:
            raise ValueError("Priority factors must be >= 1")
        self._edit(Command.SET_PRIORITYFACTOR, user, float(factor))

    def setPriority(self, user: str, priority: float) -> None:
        """Set the real priority of ``user`` (>= 0.0)."""
        _validate_user(user)
        if priority < 0:
            raise ValueError("User priority must be non-negative")
        self._edit(Command.SET_PRIORITY, user, float(priority))

    def setUsage(self, user: str, usage: float) -> None:
        """Set the accumulated usage of ``user`` (hours, >= 0)."""
        _validate_user(user)
        if usage < 0:
            raise ValueError("Usage must be non-negative")
        self._edit(Command.SET_ACCUMUSAGE, user, float(usage))
