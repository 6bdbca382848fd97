"""The files a schedd hands each shadow it starts (src/condor_schedd.V6/schedd.cpp
starts ``condor_shadow`` with the job ad and claim on its command line; pyhtc hands them in
files under the schedd's spool, so the claim id never shows in ``ps``).

- the job ad file: :data:`PRINTOLD_MARK`, then ``ClassAd.printOld()`` (:func:`write_job_ad`);
  the mark tells the shadow every value is the unparse of a parsed expression, so its lines
  can go on the wire as they are (pyhtc.daemons.shadow.jobad);
- the claim file (mode 0600): the claim id, then, when the claim carries a match session, that
  session as one JSON line (:func:`session_line`), built once per claim by the schedd so a
  shadow neither parses the session info nor derives the key (:func:`read_claim_file`).
  The claim file stays the hand-off of the run (docs/architecture.md, "crash recovery"): the
  shadow reads and deletes it.

Both daemons import this module; neither imports the other's package.
"""
from __future__ import annotations

import json
import math
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.security.match import EXECUTE_SIDE_MATCHSESSION_FQU, claim_session, parse_claim
from pyhtc.cedar.security.sessions import Session
from pyhtc.daemoncore.adfile import read_bytes, write_bytes

__all__ = ["PRINTOLD_MARK", "read_claim_file", "session_line", "write_claim_file",
           "write_job_ad"]

#: first line of a job ad file written by :func:`write_job_ad` (a comment: old-syntax
#: readers skip it)
PRINTOLD_MARK = "# pyhtc: ClassAd.printOld()\n"


def write_job_ad(path: str, ad: C.ClassAd) -> None:
    """Write ``ad`` to ``path`` for a shadow (mode 0600, UTF-8): :data:`PRINTOLD_MARK`, then
    ``ad.printOld()``.  Not atomic: the file is complete before the shadow that reads it
    is started.  Raises OSError."""
    write_bytes(path, (PRINTOLD_MARK + ad.printOld()).encode("utf-8", "surrogateescape"), 0o600)


def session_line(claim: str) -> str:
    """The shadow's side of ``claim``'s match session (what
    :func:`~pyhtc.cedar.security.match.claim_session` builds with the execute side's
    identity as peer) as one JSON line, or "" when the claim carries no usable session.
    The line holds the session key: it goes only where the claim id goes."""
    parsed = parse_claim(claim)
    if parsed is None:
        return ""
    try:
        s = claim_session(parsed, EXECUTE_SIDE_MATCHSESSION_FQU)
    except ValueError:
        return ""
    return json.dumps({"sid": s.sid, "key": s.key.hex(), "user": s.user, "method": s.method,
                       "methods": s.crypto_methods,
                       "expires": None if math.isinf(s.expires) else s.expires,
                       "policy": s.policy, "version": s.peer_version}, separators=(",", ":"))


def _session_from_line(line: str, claim: str) -> Optional[Session]:
    """The Session of a :func:`session_line` for ``claim``; None when the line is empty,
    unreadable or made for another claim (its session id is the claim's public part)."""
    try:
        d = json.loads(line)
        if d["sid"] != claim.rpartition("#")[0] or not d["sid"]:
            return None
        return Session(sid=d["sid"], key=bytes.fromhex(d["key"]), user=d["user"],
                       method=d["method"], valid_commands=[], crypto_methods=list(d["methods"]),
                       expires=math.inf if d["expires"] is None else float(d["expires"]),
                       policy=dict(d["policy"]), peer_version=d["version"], non_negotiated=True)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def write_claim_file(path: str, claim: str, session: str = "") -> None:
    """Write the claim file a shadow takes (mode 0600): the claim id, then (when the claim
    carries a session) its :func:`session_line`.  Raises OSError."""
    data = (claim + ("\n" + session if session else "") + "\n").encode()
    write_bytes(path, data, 0o600)


def read_claim_file(path: str) -> tuple[str, Optional[Session]]:
    """``(claim id, session or None)`` from a claim file (:func:`write_claim_file`; a file
    holding only the claim id gives no session).  Raises OSError."""
    claim, _, rest = read_bytes(path).decode("utf-8", "surrogateescape").strip().partition("\n")
    claim = claim.strip()
    rest = rest.strip()
    return claim, (_session_from_line(rest, claim) if rest else None)
