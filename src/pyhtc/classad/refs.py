"""Reference analysis and flattening (HTCondor: src/classad/classad.cpp
``GetExternalReferences`` / ``GetInternalReferences`` / ``Flatten``).

* :func:`references` — names an expression refers to that the ad does (internal) or does not
  (external) define; references through defined attributes are followed, each attribute
  once. Qualified references keep their prefix (``TARGET.Memory``).
* :func:`flatten` — replace references to attributes the ad defines by their values when
  those evaluate to a literal, keeping the rest of the expression symbolic.
"""
from __future__ import annotations

from .nodes import (AttrRef, Binary, Call, Ctx, Elvis, ListExpr, Literal, Logical, Paren,
                    RecordExpr, Subscript, Ternary, Unary, eval_entry)
from .errors import EvalFailure
from .values import ERROR, UNDEFINED, ListValue

__all__ = ["references", "flatten"]


_SPECIAL_NAMES = {"my", "target", "self", "parent", "root", "toplevel", "currenttime", "other"}


def _ref_text(node) -> str:
    if node.base is None:
        return node.name
    return _ref_text(node.base) + "." + node.name if type(node.base) is AttrRef else node.name


def references(node, ad, external: bool) -> list:
    """Sorted-by-first-appearance list of referenced names (see module docstring)."""
    out: list = []
    seen_attr: set = set()
    seen: set = set()

    def visit(n, scope):
        if type(n) is AttrRef:
            if n.base is None and not n.absolute:
                low = n.low
                ent = scope._attrs.get(low) if scope is not None else None
                if ent is None and scope is not None:
                    p = scope._parent
                    while p is not None and ent is None:
                        ent = p._attrs.get(low)
                        p = p._parent
                if ent is not None:
                    if not external and low not in seen:
                        seen.add(low)
                        out.append(n.name)
                    if id(ent) not in seen_attr:
                        seen_attr.add(id(ent))
                        visit(ent[1], scope)
                elif external and low not in seen and low not in _SPECIAL_NAMES:
                    seen.add(low)
                    out.append(n.name)
                return
            if n.base is not None and type(n.base) is AttrRef and n.base.base is None \
                    and n.base.low in ("parent", "root", "toplevel"):
                return
            if n.base is not None and type(n.base) is AttrRef and n.base.base is None \
                    and n.base.low in ("target", "my", "self"):
                if n.base.low == "target":
                    if external:
                        key = "target." + n.low
                        if key not in seen:
                            seen.add(key)
                            out.append(_ref_text(n))
                    return
                ent = ad._attrs.get(n.low) if ad is not None else None
                if ent is not None:
                    if not external and n.low not in seen:
                        seen.add(n.low)
                        out.append(n.name)
                    if id(ent) not in seen_attr:
                        seen_attr.add(id(ent))
                        visit(ent[1], scope)
                elif external and n.low not in seen:
                    seen.add(n.low)
                    out.append(n.name)
                return
        if type(n) is RecordExpr:
            return
        for c in n.children():
            visit(c, scope)

    visit(node, ad)
    # HTCondor returns a (case-insensitively) sorted set of names
    return sorted(out, key=str.lower)


def flatten(node, ad):
    """A new node: ``node`` with defined attribute references replaced by literal values."""
    ctx = Ctx(ad)

    def value_node(v):
        if v is UNDEFINED or v is ERROR or type(v) is ListValue or hasattr(v, "_attrs"):
            return None
        return Literal(v)

    def fl(n):
        t = type(n)
        if t is Literal:
            return n
        if t is AttrRef:
            if n.base is None and not n.absolute and ad is not None:
                ent = ad._attrs.get(n.low)
                if ent is not None:
                    try:
                        v = eval_entry(ctx, ad, ent)
                    except (RecursionError, EvalFailure):
                        v = ERROR
                    ln = value_node(v)
                    if ln is not None:
                        return ln
                    inner = fl(ent[1])
                    return inner if type(inner) is Literal else n
            return n
        if t is Binary or t is Logical:
            a, b = fl(n.left), fl(n.right)
            new = t(n.op, a, b)
        elif t is Unary:
            new = Unary(n.op, fl(n.operand))
        elif t is Paren:
            inner = fl(n.inner)
            if type(inner) is Literal:
                return inner
            return Paren(inner)
        elif t is Ternary:
            new = Ternary(fl(n.cond), fl(n.then), fl(n.other))
        elif t is Elvis:
            new = Elvis(fl(n.left), fl(n.right))
        elif t is Subscript:
            new = Subscript(fl(n.base), fl(n.index))
        elif t is Call:
            new = Call(n.name, tuple(fl(a) for a in n.args))
        elif t is ListExpr:
            return ListExpr(tuple(fl(a) for a in n.items))
        else:
            return n
        if all(type(c) is Literal for c in new.children()):
            v = new.ev(ctx)
            ln = value_node(v)
            if ln is not None or v is ERROR:
                return ln if ln is not None else Literal(ERROR)
        return new

    return fl(node)
