"""Implementation of :mod:`pyhtc.client` (see the package docstring)."""
from __future__ import annotations

import os
import socket
from typing import Iterable, Optional

from pyhtc import classad as C
from pyhtc.cedar import transport_blocking as tb
from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import SecurityError
from pyhtc.cedar.security.negotiation import ClientSessionCache
from pyhtc.cedar.security.policy import Level, SecurityPolicy, split_methods
from pyhtc.cedar.sinful import Sinful, read_address_file
from pyhtc.cedar.wire_ad import WireAd, from_classad, put_ad, to_classad
from pyhtc.config import Config, get_config

__all__ = ["AD_TYPES", "CollectorClient", "DaemonNotFound", "client_policy", "locate_daemon",
           "parse_address", "send_command", "start_command"]

#: ad type name -> (query command, update command, MyType, default TargetType of a query)
AD_TYPES = {
    "Startd": (Command.QUERY_STARTD_ADS, Command.UPDATE_STARTD_AD, "Machine"),
    "StartdPrivate": (Command.QUERY_STARTD_PVT_ADS, None, "Machine"),
    "Schedd": (Command.QUERY_SCHEDD_ADS, Command.UPDATE_SCHEDD_AD, "Scheduler"),
    "Master": (Command.QUERY_MASTER_ADS, Command.UPDATE_MASTER_AD, "DaemonMaster"),
    "Submitter": (Command.QUERY_SUBMITTOR_ADS, Command.UPDATE_SUBMITTOR_AD, "Submitter"),
    "Collector": (Command.QUERY_COLLECTOR_ADS, Command.UPDATE_COLLECTOR_AD, "Collector"),
    "Negotiator": (Command.QUERY_NEGOTIATOR_ADS, Command.UPDATE_NEGOTIATOR_AD, "Negotiator"),
    "Accounting": (Command.QUERY_ACCOUNTING_ADS, Command.UPDATE_ACCOUNTING_AD, "Accounting"),
    "Generic": (Command.QUERY_GENERIC_ADS, Command.UPDATE_AD_GENERIC, "Generic"),
    "Any": (Command.QUERY_ANY_ADS, None, "Any"),
}
#: daemon type -> the address-file knob and collector ad type
_DAEMONS = {
    "collector": ("COLLECTOR", "Collector"), "schedd": ("SCHEDD", "Schedd"),
    "master": ("MASTER", "Master"), "startd": ("STARTD", "Startd"),
    "negotiator": ("NEGOTIATOR", "Negotiator"),
}

DEFAULT_COLLECTOR_PORT = 9618


class DaemonNotFound(LookupError):
    """No address could be found for the daemon asked for (message says where we looked)."""


def client_policy(config: Optional[Config] = None) -> SecurityPolicy:
    """The client security policy: SEC_CLIENT_<FEATURE>, else SEC_DEFAULT_<FEATURE>
    (manual: admin-manual/security.rst "Security Negotiation")."""
    cfg = config or get_config()

    def knob(feature):
        for ctx in ("CLIENT", "DEFAULT"):
            v = cfg.param(f"SEC_{ctx}_{feature}")
            if v:
                return v
        return None

    kw = {}
    for attr, feature in (("authentication", "AUTHENTICATION"), ("encryption", "ENCRYPTION"),
                          ("integrity", "INTEGRITY"), ("negotiation", "NEGOTIATION")):
        v = knob(feature)
        if v:
            kw[attr] = Level.parse(v)
    methods = knob("AUTHENTICATION_METHODS")
    if methods:
        kw["auth_methods"] = [m for m in split_methods(methods) if m in ("FS", "CLAIMTOBE", "TOKEN", "SSL")] or ["FS"]
    return SecurityPolicy(**kw)


def parse_address(text: str, default_port: int = DEFAULT_COLLECTOR_PORT) -> tuple[str, int]:
    """``(host, port)`` of ``<ip:port?...>``, ``host:port`` or a bare host name.

    Raises ValueError naming the text when it is not an address."""
    text = text.strip()
    if text.startswith("<"):
        s = Sinful.parse(text)
        return s.host, int(s.port)
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host:
        return host.strip("[]"), int(port)
    if not text or " " in text:
        raise ValueError(f"not a daemon address: {text!r}")
    return text, default_port


def _resolve_port_zero(address: str, config: Config) -> str:
    """A collector address ``host:0`` means "whatever port it got": read it from
    COLLECTOR_ADDRESS_FILE (HTCondor's personal-pool setup, ``use ROLE: Personal``)."""
    try:
        _, port = parse_address(address)
    except ValueError:
        return address
    if port != 0:
        return address
    path = config.param("COLLECTOR_ADDRESS_FILE")
    if path and os.path.exists(path):
        return read_address_file(path).sinful
    raise DaemonNotFound(f"collector address {address} has port 0 and COLLECTOR_ADDRESS_FILE "
                         f"({path or 'not set'}) does not exist yet")


_SESSIONS = ClientSessionCache()


#: largest reply message a client accepts (a whole-pool collector query is one message)
MAX_REPLY_MESSAGE = 2 * 1024 ** 3


def start_command(address: str, command: int, policy: Optional[SecurityPolicy] = None,
                  timeout: float = 20.0, max_message: Optional[int] = None,
                  claim_id: Optional[str] = None) -> tb.BlockingStream:
    """Connect to ``address`` and start ``command`` with security negotiated (sessions are
    cached per process and resumed).

    ``claim_id``: a claim id whose match session (:mod:`pyhtc.cedar.security.match`) the
    command should resume instead of negotiating (the shadow's ACTIVATE_CLAIM and
    DEACTIVATE_CLAIM, remoteresource.cpp); when the claim carries no session, or the
    startd no longer knows it (SID_NOT_FOUND), a session is negotiated as usual."""
    host, port = parse_address(address)
    policy = policy or client_policy()
    if claim_id:
        from pyhtc.cedar.security.match import claim_policy, claim_session_cache
        cache = claim_session_cache(claim_id, f"{host}:{port}", int(command))
        if cache is not None:
            try:
                return tb.start_command(host, port, int(command), claim_policy(policy),
                                        cache=cache, timeout=timeout, max_message=max_message)
            except SecurityError as exc:
                if "resume" not in str(exc):
                    raise
    try:
        return tb.start_command(host, port, int(command), policy, cache=_SESSIONS,
                                timeout=timeout, max_message=max_message)
    except SecurityError as exc:
        # A daemon that restarted no longer knows our cached session: forget it and
        # negotiate a new one, as HTCondor's SecMan does after a failed resume.
        stale = _SESSIONS.lookup(f"{host}:{port}", int(command))
        if stale is None or "resume" not in str(exc):
            raise
        _SESSIONS.drop(stale)
        return tb.start_command(host, port, int(command), policy, cache=_SESSIONS,
                                timeout=timeout, max_message=max_message)


def send_command(address: str, command: int, payload: Optional[str] = None,
                 policy: Optional[SecurityPolicy] = None) -> None:
    """Send a command with no reply (DC_RECONFIG_FULL, DC_OFF_*, DAEMON_OFF + a daemon
    name ...); ``payload`` is an optional string sent as its own message."""
    with start_command(address, command, policy) as s:
        if payload is not None:
            s.put_string(payload)
        s.end_of_message()


class CollectorClient:
    """A pool's collector(s): ``pool`` is ``host[:port]`` or a sinful string, or None for
    COLLECTOR_HOST (a comma list: the first that answers is used)."""

    def __init__(self, pool: Optional[str] = None, config: Optional[Config] = None):
        self.config = config or get_config()
        hosts = pool or self.config.param("COLLECTOR_HOST")
        if not hosts:
            raise DaemonNotFound("no collector: COLLECTOR_HOST is not configured and no -pool was given")
        self.addresses = [_resolve_port_zero(h.strip(), self.config)
                          for h in hosts.replace(" ", ",").split(",") if h.strip()]
        self.policy = client_policy(self.config)

    def query(self, ad_type: str = "Any", constraint: Optional[str] = None,
              projection: Optional[Iterable[str]] = None, limit: Optional[int] = None,
              target_type: Optional[str] = None) -> list[C.ClassAd]:
        """Ads of ``ad_type`` (a key of :data:`AD_TYPES`) selected by ``constraint``."""
        cmd, _, mytype = AD_TYPES[ad_type]
        q = WireAd()
        q.set("MyType", "Query")
        q.set("TargetType", target_type or mytype)
        q.set_expr("Requirements", f"({constraint})" if constraint else "true")
        if projection:
            q.set("Projection", " ".join(projection))
        if limit is not None:
            q.set_expr("LimitResults", str(int(limit)))
        addr = self.addresses[0]
        out = []
        with start_command(addr, cmd, self.policy, max_message=MAX_REPLY_MESSAGE) as s:
            s.put_ad(q).end_of_message()
            while s.get_int():
                out.append(to_classad(s.get_ad()))
            s.end_of_message()
        return out

    def advertise(self, ads: Iterable[C.ClassAd], command: int, use_tcp: bool = True) -> None:
        """Send each ad as an update ``command`` (one connection over TCP, ending with
        DC_NOP; or one datagram message per ad over UDP)."""
        ads = list(ads)
        addr = self.addresses[0]
        if not use_tcp:
            host, port = parse_address(addr)
            for ad in ads:
                wire = from_classad(ad)
                tb.send_udp_command(host, port, int(command), lambda enc, w=wire: put_ad(enc, w))
            return
        with start_command(addr, command, self.policy) as s:
            for i, ad in enumerate(ads):
                if i:
                    s.put_int(int(command))
                s.put_ad(from_classad(ad)).end_of_message()
            s.put_int(int(Command.DC_NOP)).end_of_message()

    def locate(self, daemon_type: str, name: Optional[str] = None) -> C.ClassAd:
        """The ad of a daemon of ``daemon_type`` (``schedd``, ``master`` ...), by ``name`` or
        the first one. Raises DaemonNotFound."""
        ad_type = _DAEMONS[daemon_type.lower()][1]
        constraint = f'Name == "{name}"' if name else None
        ads = self.query(ad_type, constraint, limit=1)
        if not ads:
            raise DaemonNotFound(f"Can't find address for {daemon_type} {name or ''}".rstrip()
                                 + f" in the collector at {self.addresses[0]}")
        return ads[0]


def locate_daemon(daemon_type: str, name: Optional[str] = None, pool: Optional[str] = None,
                  config: Optional[Config] = None) -> str:
    """The sinful string of a daemon: the local one from its address file
    (``<SUBSYS>_ADDRESS_FILE``) when no name/pool is given, else through the collector.
    Raises DaemonNotFound saying where it looked."""
    cfg = config or get_config()
    subsys, _ = _DAEMONS[daemon_type.lower()]
    if subsys == "COLLECTOR" and not name:
        if pool:
            h, p = parse_address(pool)
            return f"<{h}:{p}>"
        ch = cfg.param("COLLECTOR_HOST")
        if ch:
            addr = _resolve_port_zero(ch.replace(" ", ",").split(",")[0].strip(), cfg)
            h, p = parse_address(addr)
            return f"<{h}:{p}>"
    if not name and not pool:
        path = cfg.param(f"{subsys}_ADDRESS_FILE") or (
            os.path.join(cfg.param("LOG") or "", f".{subsys.lower()}_address"))
        if path and os.path.exists(path):
            return read_address_file(path).sinful
    try:
        ad = CollectorClient(pool, cfg).locate(daemon_type, name)
    except DaemonNotFound:
        raise
    except OSError as exc:
        raise DaemonNotFound(f"Can't find address for {daemon_type}: collector unreachable ({exc})") from None
    return ad.get("MyAddress")
