"""Claim ids and their security sessions: HTCondor's "match password"
(SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION, default true; manual admin-manual/security.rst).

A claim id is ``<startd sinful>#<startd birthday>#<sequence>#[<session info>]<key>``
(src/condor_utils/condor_claimid_parser.h, src/condor_startd.V6/claim.cpp newIdString):

- the *public part* (everything before the last ``#``) is also the security session id;
- the optional ``[...]`` is the exported session info (condor_secman.cpp
  ExportSecSessionInfo: ``[Attr=value;Attr=value;...]``, no ``,`` and no ``;`` inside);
- what follows is the session key: 64 hex digits (SEC_SESSION_KEY_LENGTH_V9 random bytes).

The startd registers a *non-negotiated* session under that id (CreateNonNegotiatedSecuritySession)
whose peer is ``submit-side@matchsession``, authenticated by method ``MATCH``; whoever holds the
claim id (the schedd for REQUEST_CLAIM / RELEASE_CLAIM / ALIVE, the shadow for ACTIVATE_CLAIM /
DEACTIVATE_CLAIM) builds the same session on its side and simply *resumes* it
(``UseSession = "YES"``): no authentication round trip, no key exchange.  The AES-GCM key of
the session is HKDF-SHA256(key text, salt "htcondor", info "keygen", 32 bytes), as
CreateNonNegotiatedSecuritySession derives it for CONDOR_AESGCM.

A claim id without session info (an older startd, or the knob set false) still works: the
holder then negotiates a session as for any other command.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Optional

from ..crypto import derive_key
from .sessions import Session

#: identities of the two ends of a match session (src/condor_io/authentication.cpp)
EXECUTE_SIDE_MATCHSESSION_FQU = "execute-side@matchsession"
SUBMIT_SIDE_MATCHSESSION_FQU = "submit-side@matchsession"
#: the authentication method name a match session reports (AUTH_METHOD_MATCH)
AUTH_METHOD_MATCH = "MATCH"
#: random bytes in a claim id's key (SEC_SESSION_KEY_LENGTH_V9); written as hex
SESSION_KEY_BYTES = 32

_ATTR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class ClaimId:
    """One claim id string, split as ClaimIdParser splits it.

    Attributes:
        text: the whole claim id (a secret: never log it, log :attr:`public_claim_id`).
    """
    text: str

    @property
    def public_part(self) -> str:
        """Everything before the last ``#`` ("" when there is no ``#``)."""
        head, sep, _ = self.text.rpartition("#")
        return head if sep else ""

    @property
    def private_part(self) -> str:
        """Everything after the last ``#`` (the whole id when there is no ``#``)."""
        return self.text.rpartition("#")[2]

    @property
    def session_id(self) -> str:
        """The security session id: the public part."""
        return self.public_part

    @property
    def session_info(self) -> str:
        """The ``[...]`` exported session info at the front of the private part, or ""."""
        priv = self.private_part
        if not priv.startswith("["):
            return ""
        end = priv.rfind("]")
        return priv[:end + 1] if end >= 0 else ""

    @property
    def session_key(self) -> str:
        """The key text: the private part after the session info."""
        priv = self.private_part
        if priv.startswith("["):
            end = priv.rfind("]")
            if end >= 0:
                return priv[end + 1:]
        return priv

    @property
    def startd_sinful(self) -> str:
        """The startd's address at the front (up to the first ``>``)."""
        pub = self.public_part
        if pub.startswith("<") and ">" in pub:
            return pub[:pub.index(">") + 1]
        return pub

    @property
    def public_claim_id(self) -> str:
        """The public part with ``#...`` appended (what logs show)."""
        pub = self.public_part
        return pub + "#..." if pub else ""

    @property
    def has_session(self) -> bool:
        """Whether the startd made a match session for this claim (session info present and
        a key after it)."""
        return bool(self.session_info) and bool(self.session_key) and bool(self.session_id)


def export_session_info(attrs: dict) -> str:
    """``[Name=value;...]`` from ``{name: str | int | bool}`` (ExportSecSessionInfo).

    Raises ValueError for a name that is not an attribute name or a value holding ``;``,
    ``]`` or ``,`` (those would break the claim id)."""
    from ..wire_ad import literal
    parts = []
    for name, value in attrs.items():
        if not _ATTR_RE.match(name):
            raise ValueError(f"session info: bad attribute name {name!r}")
        text = literal(value)
        if any(c in text for c in ";],#"):
            raise ValueError(f"session info: value of {name} may not contain ';', ']', ',' or '#'")
        parts.append(f"{name}={text};")
    return "[" + "".join(parts) + "]"


def import_session_info(info: str) -> dict:
    """``{name: value}`` from ``[Name=value;...]`` (ImportSecSessionInfo); "" gives {}.

    Values are ClassAd literals (strings, integers, booleans).  Raises ValueError naming
    the character offset of what cannot be read."""
    if not info:
        return {}
    if not (info.startswith("[") and info.endswith("]")):
        raise ValueError(f"session info at offset 0: not enclosed in [] ({info[:40]!r})")
    out = {}
    pos = 1
    for item in info[1:-1].split(";"):
        at = pos
        pos += len(item) + 1
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _ATTR_RE.match(name):
            raise ValueError(f"session info at offset {at}: expected Name=value, got {item!r}")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            out[name] = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif re.fullmatch(r"[+-]?\d+", value):
            out[name] = int(value)
        elif value.lower() in ("true", "false"):
            out[name] = value.lower() == "true"
        else:
            raise ValueError(f"session info at offset {at}: value of {name} is not a literal: "
                             f"{value!r}")
    return out


def new_claim_id(sinful: str, birthday: int, sequence: int, *, with_session: bool = True,
                 version: str = "25.14.1", duration: int = 0) -> ClaimId:
    """A fresh claim id for a startd at ``sinful`` started at ``birthday`` (Unix seconds),
    claim number ``sequence`` (claim.cpp newIdString + ClaimId::ClaimId).

    ``with_session``: add the match session's info (AES-GCM, encrypted; ``ShortVersion``;
    ``SessionExpires`` when ``duration`` > 0 seconds) so the holder can resume the session
    :func:`claim_session` builds from it."""
    key = secrets.token_hex(SESSION_KEY_BYTES)
    info = ""
    if with_session:
        attrs: dict = {"CryptoMethods": "AES", "Encryption": "YES", "Integrity": "YES",
                       "ShortVersion": version}
        if duration > 0:
            attrs["SessionExpires"] = int(time.time()) + int(duration)
        info = export_session_info(attrs)
    return ClaimId(f"{sinful}#{int(birthday)}#{int(sequence)}#{info}{key}")


def session_key_bytes(key_text: str) -> bytes:
    """The AES-GCM key of a match session: HKDF-SHA256 of the key text's bytes (salt
    "htcondor", info "keygen", 32 bytes), as condor_secman.cpp derives it."""
    return derive_key(key_text.encode("utf-8"), 32)


def claim_session(claim: ClaimId, peer_user: str, *, peer_version: str = "") -> Session:
    """The non-negotiated session of ``claim`` as one end keeps it: ``peer_user`` is who the
    other end is (the startd: :data:`SUBMIT_SIDE_MATCHSESSION_FQU`; the schedd or shadow:
    :data:`EXECUTE_SIDE_MATCHSESSION_FQU`).  Valid for every command (its own authorization
    decides); it expires at the info's ``SessionExpires``, else never.

    Raises ValueError when the claim id carries no session (see :attr:`ClaimId.has_session`)
    or its session info cannot be read."""
    if not claim.has_session:
        raise ValueError(f"claim {claim.public_claim_id} carries no security session")
    info = import_session_info(claim.session_info)
    expires = info.get("SessionExpires")
    crypto = str(info.get("CryptoMethodsList") or info.get("CryptoMethods") or "AES")
    methods = [m for m in crypto.replace(".", ",").split(",") if m]
    if "AES" not in methods:
        raise ValueError(f"claim {claim.public_claim_id}: session crypto {crypto!r} lacks AES")
    version = peer_version
    if not version and info.get("ShortVersion"):
        version = f"$CondorVersion: {info['ShortVersion']} $"
    return Session(sid=claim.session_id, key=session_key_bytes(claim.session_key),
                   user=peer_user, method=AUTH_METHOD_MATCH, valid_commands=[],
                   crypto_methods=methods,
                   expires=float(expires) if isinstance(expires, int) and expires > 0 else float("inf"),
                   policy={k: str(v) for k, v in info.items()}, peer_version=version,
                   non_negotiated=True)


def parse_claim(text: Optional[str]) -> Optional[ClaimId]:
    """A :class:`ClaimId` for ``text`` when it carries a match session, else None."""
    if not text:
        return None
    c = ClaimId(text)
    return c if c.has_session else None


def claim_policy(policy):
    """``policy`` with negotiation at least REQUIRED: a claim session is only usable through
    DC_AUTHENTICATE (CreateNonNegotiatedSecuritySession forces SEC_NEGOTIATION = REQUIRED)."""
    import dataclasses
    from .policy import Level
    if policy.negotiation in (Level.NEVER, Level.OPTIONAL):
        return dataclasses.replace(policy, negotiation=Level.REQUIRED)
    return policy


def claim_session_cache(claim_text: Optional[str], server_address: str, command: int):
    """A client session cache holding only ``claim_text``'s match session for
    (``server_address`` "ip:port", ``command``), so that starting the command resumes it; None
    when the claim id carries no session (the caller then negotiates as usual).
    Raises nothing: unreadable session info counts as no session."""
    from .negotiation import ClientSessionCache
    claim = parse_claim(claim_text)
    if claim is None:
        return None
    try:
        session = claim_session(claim, EXECUTE_SIDE_MATCHSESSION_FQU)
    except ValueError:
        return None
    cache = ClientSessionCache()
    cache.by_command[(server_address, int(command))] = session
    return cache
