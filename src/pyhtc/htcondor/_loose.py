"""htcondor2's free functions for daemons written in Python and for checking access:
:func:`set_ready_state`, :func:`send_alive` (the DC_SET_READY / DC_CHILDALIVE contract a
daemon has with its condor_master, dc_message.cpp / htcondor2._loose_functions),
:func:`ping` (DC_SEC_QUERY, as condor_ping), :func:`set_subsystem`."""
from __future__ import annotations

import os
from typing import Optional, Union

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import WireAd
from pyhtc.client import client_policy, start_command
from pyhtc.client.ping import command_for_token, sec_query

from ._errors import HTCondorException
from ._param import get_config

__all__ = ["set_ready_state", "send_alive", "ping", "set_subsystem"]


def _parent_address(missing) -> str:
    inherit = os.environ.get("CONDOR_INHERIT")
    if inherit is None:
        raise missing("CONDOR_INHERIT not in environment.")
    parts = inherit.split(" ")
    if len(parts) < 2:
        raise missing("CONDOR_INHERIT environment variable malformed.")
    return parts[1]


def set_ready_state(state: str = "Ready") -> None:
    """Tell the parent condor_master (from ``CONDOR_INHERIT``) this daemon's state with
    DC_SET_READY (``DaemonPID``, ``DaemonName``, ``DaemonState``).  Raises
    HTCondorException without a (well-formed) CONDOR_INHERIT or when the master cannot be
    reached."""
    state = state or "Ready"
    addr = _parent_address(HTCondorException)
    ad = WireAd()
    ad.set("DaemonPID", os.getpid())
    ad.set("DaemonName", get_config().subsystem)
    ad.set("DaemonState", state)
    try:
        with start_command(addr, int(Command.DC_SET_READY), client_policy(get_config())) as s:
            s.put_ad(ad)
            s.end_of_message()
    except OSError as exc:
        raise HTCondorException(f"Failed to send DC_SET_READY to {addr}: {exc}") from exc


def send_alive(ad: Optional[C.ClassAd] = None, pid: Optional[int] = None,
               timeout: Optional[int] = None) -> None:
    """DC_CHILDALIVE (``pid``, ``timeout`` seconds before the master may kill us as hung,
    default NOT_RESPONDING_TIMEOUT) to the daemon whose ad is given, else to the parent
    master from ``CONDOR_INHERIT``.  TypeError/ValueError for bad arguments, as htcondor2."""
    pid = os.getpid() if pid is None else pid
    if not isinstance(pid, int):
        raise TypeError("pid must be integer")
    if timeout is None:
        timeout = get_config().param_integer("NOT_RESPONDING_TIMEOUT", 3600)
    if not isinstance(timeout, int):
        raise TypeError("timeout must be integer")
    if ad is not None:
        if not isinstance(ad, C.ClassAd):
            raise TypeError("ad must be ClassAd")
        addr = ad.get("MyAddress")
        if addr is None:
            raise ValueError("Address not available in location ClassAd.")
    else:
        addr = _parent_address(ValueError)
    try:
        with start_command(addr, int(Command.DC_CHILDALIVE), client_policy(get_config())) as s:
            s.put_int(pid)
            s.put_int(timeout)
            s.put_double(0.0)
            s.end_of_message()
    except OSError as exc:
        raise HTCondorException(f"Failed to send DC_CHILDALIVE to {addr}: {exc}") from exc


def ping(location: Union[str, C.ClassAd], authz: Optional[str] = None, security=None) -> C.ClassAd:
    """Ask a daemon whether ``authz`` (a level such as ``"WRITE"`` or a command name or
    number; default DC_NOP) would be authorized for us (DC_SEC_QUERY, ping.cpp).  Returns
    the negotiated session's policy ad with ``AuthCommand`` and ``AuthorizationSucceeded``.
    Raises ValueError without an address, HTCondorException when the daemon cannot be
    reached or the level is unknown."""
    addr = location if isinstance(location, str) else location.get("MyAddress")
    if addr is None:
        raise ValueError("Address not available in location argument.")
    command = command_for_token(authz or "DC_NOP")
    if command < 0:
        raise HTCondorException(f"Unknown authorization level or command {authz!r}.")
    r = sec_query(addr, command, get_config())
    if not r.ok:
        raise HTCondorException(f"Failed to ping {addr}: {r.error}")
    ad = C.ClassAd()
    for name, text in r.raw.items():
        if name in ("ECDHPublicKey", "MyRemoteUserName"):
            continue  # the key exchange is not for callers; the identity is "User"
        try:
            ad[name] = C.ExprTree(text)
        except C.ClassAdParseError:
            ad[name] = text
    # what htcondor2 merges in from its side of the session (condor_secman.cpp m_auth_info)
    ad["User"] = r.raw.get("MyRemoteUserName", '"unauthenticated@unmapped"').strip('"')
    ad["Command"] = int(Command.DC_SEC_QUERY)
    ad["ConnectSinful"] = addr
    ad["Subsystem"] = get_config().subsystem
    ad["ValidCommands"] = ",".join(str(c) for c in r.valid_commands)
    ad["AuthCommand"] = command
    ad["AuthorizationSucceeded"] = bool(r.authorized)
    return ad


def set_subsystem(name: str, subsystem_type=None) -> None:
    """Read the configuration again as subsystem ``name`` (``SUBSYS.KNOB`` settings and
    ``$(SUBSYSTEM)`` then apply), as htcondor2.set_subsystem does."""
    from pyhtc.config import Config, set_config
    set_config(Config.load(str(name).upper(), require_root=False))
