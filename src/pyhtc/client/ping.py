"""DC_SEC_QUERY, the question behind condor_ping and htcondor2.ping: would a daemon
authorize a command for us (src/condor_tools/ping.cpp, PROTOCOL.md 6.7)?

- :func:`command_for_token` -- a permission level, command name or number -> the command
  asked about (command_strings.cpp getSampleCommand / getCommandNum);
- :func:`sec_query` -- negotiate a new session for DC_SEC_QUERY with ``AuthCommand`` and read
  the daemon's ``AuthorizationSucceeded``; returns a :class:`PingResult`.
"""
from __future__ import annotations

import dataclasses

from pyhtc import classad as C
from pyhtc.cedar import transport_blocking as tb
from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import Level

from .core import client_policy, parse_address

__all__ = ["DC_BASE", "SAMPLE_COMMANDS", "DC_NOP_OWNER", "command_for_token", "PingResult",
           "sec_query"]

DC_BASE = 60000
#: permission level -> the sample command asked about (src/condor_utils/command_strings.cpp
#: getSampleCommand)
SAMPLE_COMMANDS = {
    "ALLOW": DC_BASE + 11, "READ": DC_BASE + 20, "WRITE": DC_BASE + 21,
    "NEGOTIATOR": DC_BASE + 22, "ADMINISTRATOR": DC_BASE + 23, "CONFIG": DC_BASE + 25,
    "DAEMON": DC_BASE + 26, "ADVERTISE_STARTD": DC_BASE + 27, "ADVERTISE_SCHEDD": DC_BASE + 28,
    "ADVERTISE_MASTER": DC_BASE + 29,
}
DC_NOP_OWNER = DC_BASE + 24


def command_for_token(token: str) -> int:
    """The command number a TOKEN stands for (ping.cpp getSomeCommandFromString), or -1."""
    level = token.upper()
    if level in SAMPLE_COMMANDS:
        return SAMPLE_COMMANDS[level]
    if level == "OWNER":
        return DC_NOP_OWNER
    if token in Command.__members__:
        return int(Command[token])
    if token.isdigit() and str(int(token)) == token:
        return int(token)
    return -1


@dataclasses.dataclass
class PingResult:
    """One DC_SEC_QUERY: ``ok`` (the daemon answered), ``authorized``, the negotiated
    session policy values (lower-case names), and the error text when not ``ok``."""
    ok: bool
    authorized: bool = False
    policy: dict = dataclasses.field(default_factory=dict)
    error: str = ""
    raw: dict = dataclasses.field(default_factory=dict)   # policy name -> expression text
    valid_commands: list = dataclasses.field(default_factory=list)  # the session's reuse list


def sec_query(address: str, command: int, config=None) -> PingResult:
    """Ask the daemon at ``address`` whether ``command`` would be authorized for us.

    A new session is always negotiated (a resumed one would not carry ``AuthCommand``);
    raw (un-negotiated) mode cannot carry the question, so negotiation is at least
    PREFERRED."""
    policy = client_policy(config)
    if policy.negotiation in (Level.NEVER, Level.OPTIONAL):
        policy = dataclasses.replace(policy, negotiation=Level.PREFERRED)
    host, port = parse_address(address)
    try:
        with tb.start_command(host, port, int(Command.DC_SEC_QUERY), policy, cache=None,
                              auth_command=command) as s:
            authz = s.get_ad()
            s.end_of_message()
            result = s.result
    except Exception as exc:   # connection, protocol and security failures all mean FAILED
        return PingResult(False, error=f"SECMAN:2007:{exc}")
    values, raw = {}, {}
    session = result.session if result else None
    if session is not None:
        raw = {name: str(text) for name, text in session.policy.items()}
        raw["Sid"] = C.quote(session.sid)
        raw["MyRemoteUserName"] = C.quote(session.user or "unauthenticated@unmapped")
        if session.method:
            raw["AuthMethods"] = C.quote(session.method)
        for name, text in raw.items():
            values[name.lower()] = _literal(text)
    ok = authz.get_bool("AuthorizationSucceeded", False)
    return PingResult(True, bool(ok), values, raw=raw,
                      valid_commands=list(session.valid_commands) if session is not None else [])


def _literal(text):
    text = str(text)
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text
