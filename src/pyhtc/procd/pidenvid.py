"""Ancestor environment cookies (HTCondor's "PidEnvID").

HTCondor marks every process it spawns with an environment variable
``_CONDOR_ANCESTOR_<forker_pid>=<forked_pid>:<time>:<random>`` (see
``src/condor_utils/condor_pidenvid.cpp`` and ``condor_includes/condor_pidenvid.h``).
Environment variables survive ``fork`` + ``setsid`` + re-parenting to init,
so the procd can claim a double-forked daemon for the family whose cookie it
carries (``src/condor_procd/environment_tracker.h``).  A family's cookie set
matches a process when *every* entry of the set appears in the process's
environment (``pidenvid_match``: an empty set never matches).
"""

from __future__ import annotations

import os
import secrets
import time

PIDENVID_PREFIX = "_CONDOR_ANCESTOR_"
PIDENVID_SEP = ":"


def format_envid(forker_pid: int, forked_pid: int, t: int | None = None,
                 mii: int | None = None) -> tuple[str, str]:
    """Return (name, value) of a cookie: ``_CONDOR_ANCESTOR_<forker>``,
    ``<forked>:<time>:<mii>``.  ``t`` defaults to now, ``mii`` to a random
    32-bit number (HTCondor's "more identifying information")."""
    if t is None:
        t = int(time.time())
    if mii is None:
        mii = secrets.randbits(32)
    return f"{PIDENVID_PREFIX}{int(forker_pid)}", f"{int(forked_pid)}{PIDENVID_SEP}{int(t)}{PIDENVID_SEP}{int(mii)}"


def parse_envid(entry: str) -> tuple[int, int, int, int]:
    """Parse ``_CONDOR_ANCESTOR_<a>=<b>:<t>:<m>`` into (a, b, t, m).

    Raises ValueError naming the part that is wrong."""
    if not entry.startswith(PIDENVID_PREFIX):
        raise ValueError(f"environment cookie {entry!r} does not start with {PIDENVID_PREFIX}")
    name, sep, value = entry[len(PIDENVID_PREFIX):].partition("=")
    if not sep:
        raise ValueError(f"environment cookie {entry!r} has no '='")
    parts = value.split(PIDENVID_SEP)
    if len(parts) != 3:
        raise ValueError(f"environment cookie {entry!r}: value must be <pid>:<time>:<mii>")
    try:
        return int(name), int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"environment cookie {entry!r}: non-numeric field") from None


def cookies_from_environ(environ: dict[str, str]) -> list[str]:
    """All ``NAME=VALUE`` ancestor cookies present in an environment mapping."""
    return sorted(f"{k}={v}" for k, v in environ.items() if k.startswith(PIDENVID_PREFIX))


def new_child_environment(base: dict[str, str] | None = None,
                          forked_pid_hint: int = 0) -> tuple[dict[str, str], str]:
    """Copy ``base`` (default ``os.environ``) adding a fresh cookie for a child
    about to be spawned by this process.  Returns (environment, cookie) where
    cookie is the ``NAME=VALUE`` string to pass to TRACK_FAMILY_VIA_ENVIRONMENT.

    HTCondor writes the child's pid into the cookie (known after fork); a
    Python spawner does not know it before exec, so ``forked_pid_hint`` (0 by
    default) is used; the random part keeps the cookie unique."""
    env = dict(os.environ if base is None else base)
    name, value = format_envid(os.getpid(), forked_pid_hint)
    env[name] = value
    return env, f"{name}={value}"


def matches(cookies: list[str] | tuple[str, ...], environ: dict[str, str]) -> bool:
    """True when every ``NAME=VALUE`` in ``cookies`` is in ``environ``
    (``pidenvid_match`` semantics: an empty cookie list never matches)."""
    if not cookies:
        return False
    for c in cookies:
        name, _, value = c.partition("=")
        if environ.get(name) != value:
            return False
    return True
