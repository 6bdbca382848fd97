"""Security policy levels and their reconciliation (condor_secman.cpp SecMan::ReconcileSecurity*
and the SEC_<CONTEXT>_<FEATURE> knobs; PROTOCOL.md 4.3, manual "Security" section).
"""
from __future__ import annotations

import enum
import os
import socket
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..errors import SecurityError


class Level(enum.Enum):
    """SEC_*_AUTHENTICATION/ENCRYPTION/INTEGRITY/NEGOTIATION values."""
    REQUIRED = "REQUIRED"
    PREFERRED = "PREFERRED"
    OPTIONAL = "OPTIONAL"
    NEVER = "NEVER"

    @classmethod
    def parse(cls, text: str | None, default: "Level" = None) -> "Level":
        """Parse a level name (case-insensitive; HTCondor also accepts YES=REQUIRED, NO=NEVER
        and the first letter).  Missing -> ``default`` (NEVER if not given)."""
        if text is None or text == "":
            return default or cls.NEVER
        t = text.strip().upper()
        aliases = {"YES": "REQUIRED", "NO": "NEVER", "R": "REQUIRED", "P": "PREFERRED",
                   "O": "OPTIONAL", "N": "NEVER", "TRUE": "REQUIRED", "FALSE": "NEVER"}
        t = aliases.get(t, t)
        try:
            return cls(t)
        except ValueError:
            raise SecurityError(f"invalid security level {text!r}") from None


class Decision(enum.Enum):
    """Outcome of reconciling one feature: YES or NO."""
    YES = "YES"
    NO = "NO"


def reconcile(client: Level, server: Level) -> Decision:
    """Table of PROTOCOL.md 4.3 (SecMan::ReconcileSecurityAttribute).  Raises SecurityError on
    the two FAIL cells (REQUIRED vs NEVER)."""
    if (client is Level.REQUIRED and server is Level.NEVER) or (
            client is Level.NEVER and server is Level.REQUIRED):
        raise SecurityError(f"security policy mismatch: client {client.value}, "
                            f"server {server.value}")
    if Level.REQUIRED in (client, server):
        return Decision.YES
    if client is Level.NEVER or server is Level.NEVER:
        return Decision.NO
    if Level.PREFERRED in (client, server):
        return Decision.YES
    return Decision.NO


def split_methods(text: str | Iterable[str] | None) -> list[str]:
    """"FS, TOKEN" -> ["FS", "TOKEN"]; IDTOKENS/IDTOKEN/TOKENS are canonicalised to TOKEN
    (AUTH.md 0)."""
    if text is None:
        return []
    items = text.replace(" ", ",").split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        m = item.strip().upper()
        if m in ("IDTOKENS", "IDTOKEN", "TOKENS"):
            m = "TOKEN"
        if m and m not in out:
            out.append(m)
    return out


#: authorize(user, method, command, peer_host) -> True to allow
Authorizer = Callable[[str | None, str | None, int, str], bool]


@dataclass
class SecurityPolicy:
    """A server's (or client's) security settings for one context (e.g. SEC_DEFAULT_*).

    Attributes:
        authentication / encryption / integrity / negotiation: the four levels.
        auth_methods: SEC_*_AUTHENTICATION_METHODS in preference order (implemented: FS,
            CLAIMTOBE, TOKEN (needs ``signing_keys`` on a server, a token on a client), SSL
            (needs ``ssl``); others are never chosen).  Default FS, TOKEN, SSL.
        crypto_methods: SEC_*_CRYPTO_METHODS; AES is the only stream cipher implemented; the
            list is still advertised as a real daemon does (BLOWFISH/3DES are used for UDP).
        session_duration: SEC_*_SESSION_DURATION in seconds (tools 60, daemons 86400).
        session_lease: SEC_*_SESSION_LEASE seconds.
        always_key: send ECDHPublicKey even when neither encryption nor integrity was agreed
            (a real 25.x daemon does; then the whole channel is AES-encrypted anyway).
        uid_domain, trust_domain: UID_DOMAIN / TRUST_DOMAIN (default: host name).
        fs_dir: FS_LOCAL_DIR, where FS authentication directories are made (default /tmp).
        valid_commands: command numbers to list in ValidCommands (session reuse).
        authorize: authorization callback; default allows everyone.
        signing_keys: token signing keys (server side TOKEN authentication).
        token: the token a client presents for TOKEN authentication (else one is looked up in
            ``token_directory``, filtered by the server's TrustDomain/IssuerKeys).
        ssl: :class:`~pyhtc.cedar.security.auth_ssl.SslConfig` for SSL authentication.
        overrides: per-command policies (e.g. ADMINISTRATOR commands requiring
            authentication while READ ones do not), see :meth:`for_command`.
        version: the $CondorVersion string sent as RemoteVersion.
    """
    authentication: Level = Level.OPTIONAL
    encryption: Level = Level.OPTIONAL
    integrity: Level = Level.OPTIONAL
    negotiation: Level = Level.PREFERRED
    auth_methods: list[str] = field(default_factory=lambda: ["FS", "TOKEN", "SSL"])
    crypto_methods: list[str] = field(default_factory=lambda: ["AES", "BLOWFISH", "3DES"])
    session_duration: int = 86400
    session_lease: int = 3600
    always_key: bool = True
    uid_domain: str = field(default_factory=socket.gethostname)
    trust_domain: str = field(default_factory=socket.gethostname)
    fs_dir: str = "/tmp"
    valid_commands: list[int] = field(default_factory=list)
    authorize: Authorizer | None = None
    version: str = "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"
    signing_keys: object = None  # auth_token.SigningKeys: enables TOKEN on a server
    token: str | None = None  # a client's IDTOKEN (SecurityContext(token=...) equivalent)
    ssl: object = None  # auth_ssl.SslConfig: enables SSL (server cert / client CA)
    token_directory: str | None = None  # SEC_TOKEN_DIRECTORY (client token search)
    overrides: dict = field(default_factory=dict)  # command -> SecurityPolicy

    def for_command(self, command: int) -> "SecurityPolicy":
        """The policy for one command: a server picks SEC_<permission level>_* by the
        command's DaemonCore permission (daemon_command.cpp); ``overrides`` maps command
        numbers to their level's policy, everything else uses this one."""
        return self.overrides.get(command, self)

    def satisfied_by(self, authenticated: bool, encrypted: bool) -> bool:
        """Whether a session with these properties meets this policy's REQUIRED levels."""
        if self.authentication is Level.REQUIRED and not authenticated:
            return False
        if Level.REQUIRED in (self.encryption, self.integrity) and not encrypted:
            return False
        return True

    def allows(self, user: str | None, method: str | None, command: int, peer: str) -> bool:
        """Authorization decision for (user, method, command, peer host); default allow."""
        return True if self.authorize is None else bool(self.authorize(user, method, command,
                                                                           peer))

    @classmethod
    def from_params(cls, param: Callable[[str], str | None], context: str = "CLIENT",
                    **overrides) -> "SecurityPolicy":
        """Build from configuration: ``param(name)`` returns a knob's value or None (e.g. a
        pyhtc.config lookup).  Reads SEC_<context>_<FEATURE> falling back to
        SEC_DEFAULT_<FEATURE> for AUTHENTICATION, ENCRYPTION, INTEGRITY, NEGOTIATION,
        AUTHENTICATION_METHODS, CRYPTO_METHODS and SESSION_DURATION, plus SEC_TOKEN_DIRECTORY,
        TRUST_DOMAIN and UID_DOMAIN (manual: Security / configuration macros)."""

        def knob(name):
            for ctx in (context, "DEFAULT"):
                v = param(f"SEC_{ctx}_{name}")
                if v:
                    return v
            return None

        kw = {}
        for attr, name in (("authentication", "AUTHENTICATION"), ("encryption", "ENCRYPTION"),
                           ("integrity", "INTEGRITY"), ("negotiation", "NEGOTIATION")):
            v = knob(name)
            if v:
                kw[attr] = Level.parse(v)
        if knob("AUTHENTICATION_METHODS"):
            kw["auth_methods"] = split_methods(knob("AUTHENTICATION_METHODS"))
        if knob("CRYPTO_METHODS"):
            kw["crypto_methods"] = split_methods(knob("CRYPTO_METHODS"))
        duration = knob("SESSION_DURATION")
        if duration and duration.strip().isdigit():
            kw["session_duration"] = int(duration)
        for attr, name in (("token_directory", "SEC_TOKEN_DIRECTORY"),
                           ("trust_domain", "TRUST_DOMAIN"), ("uid_domain", "UID_DOMAIN")):
            if param(name):
                kw[attr] = param(name)
        kw.update(overrides)
        return cls(**kw)

    @classmethod
    def from_env(cls, context: str = "CLIENT", environ: dict | None = None,
                 **overrides) -> "SecurityPolicy":
        """:meth:`from_params` over ``_CONDOR_<KNOB>`` environment variables, as a tool with
        ``CONDOR_CONFIG=/dev/null`` reads its configuration (PROTOCOL.md 4.7)."""
        env = os.environ if environ is None else environ
        return cls.from_params(lambda name: env.get(f"_CONDOR_{name}"), context, **overrides)
