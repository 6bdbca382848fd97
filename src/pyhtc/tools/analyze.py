"""Explaining a match: which clauses of a Requirements expression hold, and why.

The seed of ``condor_q -better-analyze`` (manual: man-pages/condor_q.rst, "-better-analyze";
HTCondor's src/condor_tools/analysis.cpp). A Requirements expression is split into its
top-level ``&&`` clauses (through parentheses); a clause that is just a reference to another
attribute of the same ad (a machine's ``Requirements = START``) is expanded into that
attribute's clauses. Each clause is evaluated with MY = the ad and TARGET = the other ad, and
reported with the values of the attributes it references on both sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from pyhtc import classad as C
from pyhtc.classad.nodes import AttrRef, Logical, Paren

__all__ = ["Clause", "conjuncts", "explain", "format_explanation"]


@dataclass
class Clause:
    """One top-level clause: its text, its value, and the attribute values it used.

    ``refs`` is a list of ``(side, name, value text)`` with side ``"MY"`` or ``"TARGET"``;
    ``via`` names the attribute the clause was expanded from (e.g. ``START``), if any.
    """

    text: str
    value: object
    refs: list = field(default_factory=list)
    via: Optional[str] = None

    @property
    def holds(self) -> bool:
        """True when the clause is true or a non-zero number (what a match needs)."""
        v = self.value
        return v is True or (type(v) in (int, float) and v != 0)


def conjuncts(expr: C.ExprTree) -> list[C.ExprTree]:
    """The top-level ``&&`` clauses of ``expr`` (parentheses around an ``&&`` are opened)."""
    out: list = []

    def walk(node):
        inner = node
        while isinstance(inner, Paren):
            inner = inner.inner
        if isinstance(inner, Logical) and inner.op == "&&":
            walk(inner.left)
            walk(inner.right)
        else:
            out.append(C.ExprTree._wrap(node, None))

    walk(expr._node)
    return out


def _local_ref(expr: C.ExprTree, ad: C.ClassAd) -> Optional[str]:
    node = expr._node
    while isinstance(node, Paren):
        node = node.inner
    if isinstance(node, AttrRef) and getattr(node, "base", None) is None:
        name = repr(expr).strip("() ")
        if name.lower().startswith("my."):
            name = name[3:]
        if name in ad and "." not in name:
            return name
    return None


def _value_text(ad: C.ClassAd, name: str, other: C.ClassAd) -> str:
    if name not in ad:
        return "undefined (not in ad)"
    expr = ad.lookup(name)
    value = repr(C.ExprTree(name).simplify(ad, other))
    text = repr(expr)
    return value if value == text else f"{value}  (= {text})"


def explain(my: C.ClassAd, target: C.ClassAd, attr: str = "Requirements") -> list[Clause]:
    """Evaluate each clause of ``my[attr]`` with MY=my, TARGET=target.

    Returns an empty list when ``my`` has no ``attr``."""
    if attr not in my:
        return []
    clauses: list[Clause] = []

    def add(expr: C.ExprTree, via: Optional[str], depth: int):
        for clause in conjuncts(expr):
            name = _local_ref(clause, my)
            if name is not None and depth < 4:
                add(my.lookup(name), name, depth + 1)
                continue
            refs = []
            for r in my.internalRefs(clause):
                refs.append(("MY", r, _value_text(my, r, target)))
            for r in my.externalRefs(clause):
                bare = r.split(".", 1)[1] if r.lower().startswith("target.") else r
                refs.append(("TARGET", bare, _value_text(target, bare, my)))
            clauses.append(Clause(repr(clause), clause.eval(my, target), refs, via))

    add(my.lookup(attr), None, 0)
    return clauses


def _show(v) -> str:
    if isinstance(v, C.Value):
        return v.name.lower()
    if v is True or v is False:
        return str(v).lower()
    return repr(v)


def format_explanation(title: str, clauses: list[Clause]) -> str:
    """A readable table: one line per clause (``ok``/``NO``), then the values it used."""
    lines = [title]
    if not clauses:
        lines.append("  (no Requirements: matches anything)")
    for i, c in enumerate(clauses, 1):
        mark = "ok" if c.holds else "NO"
        via = f"  [from {c.via}]" if c.via else ""
        lines.append(f"  [{i:2}] {mark:2}  {c.text}  ->  {_show(c.value)}{via}")
        for side, name, val in c.refs:
            lines.append(f"           {side}.{name} = {val}")
    return "\n".join(lines)
