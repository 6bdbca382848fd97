"""Client side of the negotiator's accounting commands (src/condor_tools/user_prio.cpp,
src/python-bindings: negotiator client; the daemon side is
:mod:`pyhtc.daemons.negotiator`): read the user priorities and edit accounting records.

- :meth:`NegotiatorClient.priorities` -- GET_PRIORITY / GET_PRIORITY_ROLLUP: one ad with
  numbered attributes (``Name1``, ``Priority1``... ``NumSubmittors``);
- :meth:`NegotiatorClient.resource_list` -- GET_RESLIST for one submitter;
- :meth:`NegotiatorClient.edit` -- SET_PRIORITY, SET_PRIORITYFACTOR, SET_ACCUMUSAGE,
  SET_BEGINTIME, SET_LASTTIME, SET_CEILING, SET_FLOOR (user + value), RESET_USAGE and
  DELETE_USER (user), RESET_ALL_USAGE (nothing).

:func:`split_numbered` turns the numbered ad into one ad per record, as htcondor2's
``Negotiator.getPriorities`` returns it.
"""
from __future__ import annotations

import re
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import to_classad

from .core import client_policy, start_command

__all__ = ["NegotiatorClient", "split_numbered", "EDIT_VALUE_KINDS"]

#: command -> kind of the value sent after the user name ("double", "int" or None)
EDIT_VALUE_KINDS = {
    Command.SET_PRIORITY: "double", Command.SET_PRIORITYFACTOR: "double",
    Command.SET_ACCUMUSAGE: "double", Command.SET_BEGINTIME: "int",
    Command.SET_LASTTIME: "int", Command.SET_CEILING: "int", Command.SET_FLOOR: "int",
    Command.RESET_USAGE: None, Command.DELETE_USER: None, Command.RESET_ALL_USAGE: None,
}

_NUMBERED = re.compile(r"(.*?)(\d+)$")


def split_numbered(ad: C.ClassAd) -> list[C.ClassAd]:
    """``Name1 = ..; Priority1 = ..; Name2 = ..`` -> one ClassAd per number, in number
    order, the number dropped from the names (htcondor2's
    _convert_numbered_attributes_to_list_of_ads); attributes without a number are left
    out."""
    groups: dict = {}
    for name in ad.keys():
        m = _NUMBERED.match(name)
        if m and m.group(1):
            groups.setdefault(int(m.group(2)), C.ClassAd())[m.group(1)] = ad.lookup(name)
    return [groups[k] for k in sorted(groups)]


class NegotiatorClient:
    """Blocking client of one negotiator at ``address`` (a sinful string); ``config``
    gives the client security policy.  Methods raise the CEDAR client's errors (OSError
    subclasses) when the negotiator cannot be reached or refuses."""

    def __init__(self, address: str, config=None):
        self.address = address
        self.config = config

    def _start(self, command: int):
        return start_command(self.address, int(command), client_policy(self.config))

    def priorities(self, rollup: bool = False) -> C.ClassAd:
        """The accounting records as one numbered ad (GET_PRIORITY[_ROLLUP])."""
        cmd = Command.GET_PRIORITY_ROLLUP if rollup else Command.GET_PRIORITY
        with self._start(cmd) as s:
            s.end_of_message()
            wire = s.get_ad(types=False)
            s.end_of_message()
        return to_classad(wire)

    def resource_list(self, user: str) -> C.ClassAd:
        """The slots ``user`` has (GET_RESLIST): ``Name1``, ``StartTime1``..."""
        with self._start(Command.GET_RESLIST) as s:
            s.put_string(user)
            s.end_of_message()
            wire = s.get_ad(types=False)
            s.end_of_message()
        return to_classad(wire)

    def edit(self, command: int, user: Optional[str] = None, value=None) -> Optional[C.ClassAd]:
        """One accounting edit; ``value`` is sent as the command's kind (double or int).
        Returns the reply ad of SET_PRIORITYFACTOR (``ErrorCode``/``ErrorString``), else
        None."""
        kind = EDIT_VALUE_KINDS[Command(command)]
        with self._start(command) as s:
            if command != Command.RESET_ALL_USAGE:
                s.put_string(user)
                if kind == "double":
                    s.put_double(float(value))
                elif kind == "int":
                    s.put_int(int(value))
            s.end_of_message()
            if command == Command.SET_PRIORITYFACTOR:
                reply = to_classad(s.get_ad())
                s.end_of_message()
                return reply
        return None
