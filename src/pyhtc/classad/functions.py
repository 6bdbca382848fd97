"""The registry of ClassAd built-in functions (HTCondor: src/classad/fnCall.cpp).

Each built-in declares its signature once, with :func:`builtin`; argument-count checking is
shared (a call with the wrong number of arguments evaluates to ERROR, as in HTCondor, and an
unknown function name evaluates to ERROR). Names are case-insensitive.

Two kinds of built-ins:

* **strict** (the default): ``impl(ctx, *args)`` receives the *evaluated* argument values
  (representation in :mod:`pyhtc.classad.values`) and returns a value. It decides itself what
  UNDEFINED / ERROR arguments yield (most return UNDEFINED for an undefined argument and
  ERROR for a wrong type, but not all: see SPEC-NOTES).
  A returned Python ``list`` is converted to a ClassAd list, a ``dict`` (name -> value) to a
  nested ClassAd record; every other return must already be a value.
* **lazy** (``lazy=True``): ``impl(ctx, *nodes)`` receives the argument *expression nodes*
  unevaluated and calls ``ctx.evaluate(node)`` on those it needs (``ifThenElse``, ``eval``,
  ``unparse``, ...).

``ctx`` is the evaluator's per-evaluation context (see :mod:`pyhtc.classad.evaluate`); what a
built-in may use of it:

* ``ctx.evaluate(node) -> value`` evaluate an argument node in the caller's scope;
* ``ctx.now() -> float`` the current time (Unix seconds), the same for a whole evaluation;
* ``ctx.my`` / ``ctx.target`` the current ad and the match target (a ClassAd or None);
* ``ctx.scope`` the ad the call is being evaluated in (for ``eval``/``unparse``).

Helpers used by many built-ins (``unparse_value(v) -> str``, the new-syntax text of a value
as ``string()``/``strcat()`` print it) live in :mod:`pyhtc.classad.unparse`.

User-registered functions (``classad2.register``) go through the same registry as strict
built-ins whose impl receives Python-converted arguments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["Builtin", "REGISTRY", "builtin", "lookup"]


@dataclass(frozen=True)
class Builtin:
    """One built-in function.

    - ``name``: the canonical spelling (as HTCondor documents it).
    - ``min_args`` / ``max_args``: accepted argument counts (``max_args`` None = no limit).
    - ``lazy``: whether ``impl`` receives unevaluated nodes instead of values.
    - ``impl``: the implementation (see the module docstring for its calling convention).
    """

    name: str
    min_args: int
    max_args: Optional[int]
    lazy: bool
    impl: Callable

    def accepts(self, n: int) -> bool:
        """Whether a call with ``n`` arguments is well-formed (else the call is ERROR)."""
        return n >= self.min_args and (self.max_args is None or n <= self.max_args)


#: lower-cased name -> Builtin
REGISTRY: dict[str, Builtin] = {}


def builtin(name: str, min_args: int, max_args: Optional[int] = -1, *, lazy: bool = False,
            aliases: tuple = ()):
    """Decorator registering ``impl`` as the built-in ``name`` (and any ``aliases``).

    ``max_args=-1`` (the default) means exactly ``min_args``; ``None`` means unbounded.
    Registering a name twice replaces the earlier entry (user functions may shadow).
    """
    if max_args == -1:
        max_args = min_args

    def deco(impl: Callable) -> Callable:
        for n in (name, *aliases):
            REGISTRY[n.lower()] = Builtin(n, min_args, max_args, lazy, impl)
        return impl

    return deco


def lookup(name: str) -> Optional[Builtin]:
    """The built-in called ``name`` (case-insensitive), or None if there is none."""
    return REGISTRY.get(name.lower())
