"""Transforms on eviction: a job that exceeded its resource request retries with a larger one
instead of going on hold (``retry_request_memory``, ``request_memory = 1G, 4G``...).

HTCondor 25's src/condor_schedd.V6/schedd.cpp (``TransformOnEvict`` and its use in
``jobExitCode``): when a shadow ends a job with JOB_SHOULD_HOLD, the schedd looks at the job's
``TransformOnEvict`` list; for each name it applies the transform in
``TransformBody_<name>`` (statements separated by 0x1e, written by condor_submit:
submit_utils.cpp SetBuiltInOnEvictCheck).  A transform whose REQUIREMENTS hold (they test
``VacateReasonCode`` / ``VacateReasonSubCode``: 34/102 for memory, 34/104 for disk) sets the
job's attributes; when it changed a ``Request*`` attribute the job goes back to Idle (with
the new request, so a larger slot matches) rather than on hold.  Once the request no longer
grows (the last value of ``RetryRequestMemory``, ``MaxRequestMemory`` reached) the transform
changes nothing and the job is held as before.

Statements (src/condor_utils/xform_utils.cpp, the subset a job transform uses):
``REQUIREMENTS expr``, ``SET attr expr``, ``EVALSET attr expr`` (the value of ``expr``
evaluated in the job), ``DEFAULT attr expr`` (SET if the job lacks ``attr``),
``DELETE attr``, ``RENAME old new``, ``COPY old new``.  Anything else makes the transform
fail (logged; the job is held as it would have been).
"""
from __future__ import annotations

from typing import Optional

from pyhtc import classad as C
from pyhtc.classad.unparse import unparse_node

__all__ = ["TransformError", "apply_transform", "evict_transforms"]


class TransformError(ValueError):
    """A transform body that cannot be applied (names the statement)."""


def _truthy(v) -> bool:
    return v is True or (type(v) in (int, float) and v != 0)


def _split(stmt: str) -> tuple[str, str]:
    parts = stmt.split(None, 1)
    return parts[0].upper(), (parts[1].strip() if len(parts) > 1 else "")


def apply_transform(ad: C.ClassAd, body: str) -> Optional[dict]:
    """Apply one transform body to ``ad`` (changed in place).

    Returns None when its REQUIREMENTS do not hold (``ad`` untouched), else
    ``{attr: new expression text or None (deleted)}`` for every attribute whose value
    changed.  Raises TransformError for a statement it cannot apply; ``ad`` is then left
    as it was."""
    before: dict = {}
    stmts = [s.strip() for s in body.replace("\n", "\x1e").split("\x1e") if s.strip()]

    def remember(name: str) -> None:
        key = name.lower()
        if key not in before:
            before[key] = (name, unparse_node(ad.lookup(name)._node) if name in ad else None)

    # the REQUIREMENTS are checked before anything is applied (xform_utils.cpp matches())
    for stmt in stmts:
        verb, rest = _split(stmt)
        if verb == "REQUIREMENTS":
            try:
                ok = _truthy(C.ExprTree(rest).eval(ad))
            except Exception as exc:
                raise TransformError(f"bad REQUIREMENTS {rest!r}: {exc}") from None
            if not ok:
                return None
    try:
        for stmt in stmts:
            verb, rest = _split(stmt)
            if stmt.startswith("#") or verb == "REQUIREMENTS":
                continue
            if verb in ("SET", "EVALSET", "DEFAULT"):
                name, _, expr = rest.partition(" ")
                expr = expr.strip()
                if not name or not expr:
                    raise TransformError(f"{verb} needs an attribute and an expression: {stmt!r}")
                try:
                    tree = C.ExprTree(expr)
                except Exception as exc:
                    raise TransformError(f"bad expression in {stmt!r}: {exc}") from None
                if verb == "DEFAULT" and name in ad:
                    continue
                remember(name)
                if verb == "EVALSET":
                    value = tree.eval(ad)
                    if isinstance(value, C.ExprTree):
                        value = value.eval(ad)
                    ad[name] = value
                else:
                    ad[name] = tree
            elif verb == "DELETE":
                name = rest.split()[0] if rest else ""
                if name in ad:
                    remember(name)
                    del ad[name]
            elif verb in ("RENAME", "COPY"):
                names = rest.split()
                if len(names) != 2:
                    raise TransformError(f"{verb} needs two attribute names: {stmt!r}")
                old, new = names
                if old in ad:
                    remember(new)
                    tree = ad.lookup(old)
                    if verb == "RENAME":
                        remember(old)
                        del ad[old]
                    ad[new] = tree
            else:
                raise TransformError(f"unsupported transform statement {stmt!r}")
    except TransformError:
        for name, text in before.values():
            if text is None:
                ad.pop(name, None)
            else:
                ad[name] = C.ExprTree(text)
        raise
    changed = {}
    for name, text in before.values():
        now = unparse_node(ad.lookup(name)._node) if name in ad else None
        if now != text:
            changed[name] = now
    return changed


def evict_transforms(ad: C.ClassAd, log=None) -> tuple[dict, bool]:
    """Apply the job's TransformOnEvict transforms to ``ad``, in order, until one changes a
    ``Request*`` attribute (schedd.cpp: "skipping other transforms").

    Returns ``(changes, requeue)``: every ``{attr: expression text or None (deleted)}`` the
    applied transforms made (the schedd writes them to the queue either way) and whether
    a resource request changed, i.e. the job goes back to Idle instead of on hold.
    ``log(message)`` gets one line per transform that fails."""
    changes: dict = {}
    names = ad.get("TransformOnEvict")
    if not isinstance(names, str):
        return changes, False
    for tag in names.replace(",", " ").split():
        body = ad.get("TransformBody_" + tag)
        if not isinstance(body, str):
            continue
        try:
            changed = apply_transform(ad, body)
        except TransformError as exc:
            if log is not None:
                log(f"TransformOnEvict {tag}: {exc}")
            continue
        if not changed:
            continue
        changes.update(changed)
        if any(k.lower().startswith("request") for k in changed):
            return changes, True
    return changes, False
