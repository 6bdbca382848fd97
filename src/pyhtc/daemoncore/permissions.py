"""Authorization levels and ALLOW_*/DENY_* policy (HTCondor's IpVerify).

Facts from src/condor_utils/condor_perms.cpp (levels and their hierarchy) and
src/condor_io/condor_ipverify.cpp (how ALLOW/DENY lists are read and matched), manual
section "Authorization" (admin-manual/security.rst):

- levels: ALLOW, READ, WRITE, NEGOTIATOR, ADMINISTRATOR, CONFIG, DAEMON, ADVERTISE_STARTD,
  ADVERTISE_SCHEDD, ADVERTISE_MASTER, CLIENT (and DEFAULT, SOAP, unused here);
- a level is implied by the levels above it: WRITE implies READ; ADMINISTRATOR and DAEMON
  imply WRITE; NEGOTIATOR, CONFIG and the ADVERTISE_* levels imply READ. A command needing
  READ is authorized if the peer is authorized at READ or at any level implying it;
- each level reads ``ALLOW_<LEVEL>_<SUBSYS>`` (else ``ALLOW_<LEVEL>``) and the same for DENY.
  A DENY match always refuses. ``*`` (or ``*/*``) allows everyone. With no ALLOW list a level
  other than READ/WRITE refuses everyone; READ and WRITE can still be implied from above;
- an entry is ``user/host``, or ``host`` alone (user ``*``), or a user alone when it
  contains ``@`` (host ``*``); users are ``name@domain`` patterns with ``*`` wildcards
  (``unauthenticated@unmapped`` for an unauthenticated peer); hosts are IP addresses with
  ``*`` wildcards (``192.168.*``), CIDR blocks (``10.0.0.0/8``) or host names, which are
  resolved to their addresses once when the policy is built.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Callable, Optional

__all__ = ["LEVELS", "IMPLIED_BY", "Authorizer", "PolicyEntry", "Decision", "UNAUTHENTICATED"]

LEVELS = ("ALLOW", "READ", "WRITE", "NEGOTIATOR", "ADMINISTRATOR", "CONFIG", "DAEMON",
          "ADVERTISE_STARTD", "ADVERTISE_SCHEDD", "ADVERTISE_MASTER", "CLIENT")

#: level -> the next lower level it implies (condor_perms.cpp aImpliedNext)
_IMPLIES_NEXT = {
    "WRITE": "READ", "NEGOTIATOR": "READ", "ADMINISTRATOR": "WRITE", "CONFIG": "READ",
    "DAEMON": "WRITE", "ADVERTISE_STARTD": "READ", "ADVERTISE_SCHEDD": "READ",
    "ADVERTISE_MASTER": "READ",
}
#: level -> the levels that directly imply it
IMPLIED_BY: dict[str, tuple[str, ...]] = {}
for _hi, _lo in _IMPLIES_NEXT.items():
    IMPLIED_BY[_lo] = IMPLIED_BY.get(_lo, ()) + (_hi,)

def _config_chain(level: str) -> tuple[str, ...]:
    """The levels whose settings a level's configuration falls back to, in order."""
    if level.startswith("ADVERTISE_"):
        return (level, "DAEMON", "DEFAULT")
    return (level,) if level == "DEFAULT" else (level, "DEFAULT")


#: the identity of a peer that did not authenticate
UNAUTHENTICATED = "unauthenticated@unmapped"


@dataclass
class PolicyEntry:
    """One ALLOW/DENY entry: a user glob and a host matcher (IP networks or globs)."""

    text: str
    user: str
    networks: list = field(default_factory=list)
    ip_globs: list = field(default_factory=list)
    any_host: bool = False

    def matches(self, user: str, ip: str) -> bool:
        """Whether a peer ``user`` (``name@domain``) at address ``ip`` matches."""
        if self.user != "*" and not fnmatch.fnmatchcase(user.lower(), self.user.lower()):
            return False
        if self.any_host:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if addr.version == 6 and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if any(addr in net for net in self.networks):
            return True
        return any(fnmatch.fnmatchcase(str(addr), g) for g in self.ip_globs)


@dataclass
class Decision:
    """The result of :meth:`Authorizer.verify`: ``allowed`` and a human ``reason``."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


_IPISH = re.compile(r"^[0-9.*]+$|^[0-9a-fA-F:*]*:[0-9a-fA-F:*.]*$")


def _parse_host(host: str, entry: PolicyEntry, resolve: Callable[[str], list]) -> None:
    if host in ("*", ""):
        entry.any_host = True
        return
    if "/" in host:  # CIDR or address/netmask
        entry.networks.append(ipaddress.ip_network(host, strict=False))
        return
    if _IPISH.match(host):
        if "*" in host:
            entry.ip_globs.append(host)
        else:
            entry.networks.append(ipaddress.ip_network(host))
        return
    if "*" in host:
        # A wildcard host name needs reverse DNS of every peer; HTCondor does that, pyhtc
        # matches such entries only against "localhost"-style names it can resolve forward.
        if fnmatch.fnmatchcase("localhost", host.lower()):
            entry.networks.append(ipaddress.ip_network("127.0.0.0/8"))
        return
    for ip in resolve(host):
        entry.networks.append(ipaddress.ip_network(ip))


def _resolve(name: str) -> list:
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return []
    return sorted({info[4][0].split("%")[0] for info in infos})


def parse_entries(text: str, resolve: Callable[[str], list] = _resolve) -> list[PolicyEntry]:
    """Parse an ALLOW/DENY list (entries separated by commas or white space).

    Raises ValueError naming the entry when one cannot be understood."""
    out = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        user, host = "*", item
        if "/" in item:
            left, _, right = item.partition("/")
            if "@" in left or left == "*" or not _IPISH.match(left) or "/" in right:
                user, host = left, right
            else:  # an address/netmask such as 10.0.0.0/8 without a user part
                user, host = "*", item
        elif "@" in item:
            user, host = item, "*"
        entry = PolicyEntry(item, user or "*")
        try:
            _parse_host(host, entry, resolve)
        except ValueError as exc:
            raise ValueError(f"bad authorization entry {item!r}: {exc}") from None
        out.append(entry)
    return out


class Authorizer:
    """The ALLOW/DENY policy of one daemon.

    ``param(name) -> str | None`` looks up a config knob (already expanded). ``subsys`` is
    the daemon's subsystem (``ALLOW_READ_COLLECTOR`` is preferred over ``ALLOW_READ``).
    """

    def __init__(self, param: Callable[[str], Optional[str]], subsys: str = "",
                 resolve: Callable[[str], list] = _resolve):
        self.subsys = subsys.upper()
        self.allow: dict[str, Optional[list]] = {}
        self.deny: dict[str, list] = {}
        self.allow_all: set[str] = set()
        for level in LEVELS:
            a = self._setting(param, "ALLOW", level)
            d = self._setting(param, "DENY", level)
            if level == "ALLOW":
                self.allow_all.add(level)
                continue
            self.deny[level] = parse_entries(d, resolve) if d else []
            if a is None:
                self.allow[level] = None
            elif a.strip() in ("*", "*/*"):
                self.allow_all.add(level)
                self.allow[level] = []
            else:
                self.allow[level] = parse_entries(a, resolve)

    def _setting(self, param, kind: str, level: str) -> Optional[str]:
        # SecMan::getSecSetting: <KIND>_<LEVEL>[_<SUBSYS>], then the levels it falls back to
        # for configuration (condor_perms.cpp aConfigNext: ADVERTISE_* -> DAEMON -> DEFAULT)
        for lvl in _config_chain(level):
            for name in ((f"{kind}_{lvl}_{self.subsys}", f"{kind}_{lvl}") if self.subsys
                         else (f"{kind}_{lvl}",)):
                v = param(name)
                if v is not None and v.strip() != "":
                    return v
        return None

    def verify(self, level: str, user: str, ip: str) -> Decision:
        """Whether peer ``user`` at ``ip`` is authorized at ``level`` (or one implying it)."""
        level = level.upper()
        user = user or UNAUTHENTICATED
        d = self._verify(level, user, ip, set())
        return d

    def _verify(self, level: str, user: str, ip: str, seen: set) -> Decision:
        seen.add(level)
        for e in self.deny.get(level, ()):
            if e.matches(user, ip):
                return Decision(False, f"{level} authorization denied for {user}/{ip} by DENY_{level} entry {e.text!r}")
        if level in self.allow_all:
            return Decision(True, f"{level} authorization policy allows access by anyone")
        for e in self.allow.get(level) or ():
            if e.matches(user, ip):
                return Decision(True, f"{level} authorization granted to {user}/{ip} by ALLOW_{level} entry {e.text!r}")
        for higher in IMPLIED_BY.get(level, ()):
            if higher in seen:
                continue
            d = self._verify(higher, user, ip, seen)
            if d.allowed:
                return Decision(True, f"{level} implied: {d.reason}")
        if self.allow.get(level) is None and level not in ("READ", "WRITE"):
            return Decision(False, f"{level} authorization policy denies all access (no ALLOW_{level})")
        return Decision(False, f"{user}/{ip} is not in ALLOW_{level} (nor in a level implying it)")
