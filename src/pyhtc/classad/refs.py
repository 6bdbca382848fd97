"""Reference analysis and flattening (HTCondor: src/classad/classad.cpp
``GetExternalReferences`` / ``GetInternalReferences`` / ``Flatten``).

* :func:`references` — names an expression refers to that the ad does (internal) or does not
  (external) define; references through defined attributes are followed, each attribute
  once. Qualified references keep their prefix (``TARGET.Memory``).
* :func:`flatten` — replace references to attributes the ad defines by their values when
  those evaluate to a literal, keeping the rest of the expression symbolic.
"""
from __future__ import annotations

from . import ops
from .nodes import (AttrRef, Binary, Call, Ctx, Elvis, ListExpr, Literal, Logical, Paren,
                    RecordExpr, RelTimeLiteral, Subscript, Ternary, Unary)
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


_ASSOC = {"+", "*", "&&", "||", "&", "|", "^"}


def _lit(v):
    return Literal(v)


def _make(op, a, b):
    if op in ("&&", "||"):
        return Logical(op, a, b)
    return Binary(op, a, b)


def _apply(op, a, b):
    """Value of ``a op b`` for already-known operand values."""
    return _make(op, _lit(a), _lit(b)).ev(None)


def flatten(node, ad):
    """Partial evaluation of ``node`` in ``ad`` (classad.cpp Flatten / operators.cpp
    ``_Flatten`` and ``combine``): returns a value (fully known) or a new node.

    References to attributes whose expressions flatten to values are replaced by those
    values; unknown references stay; constants of associative operators (+ * && || & | ^)
    are folded together and put first ("a + b + 2 * 3" with a = 1 gives "7 + b").
    """
    ctx = Ctx(ad)
    val, tree = _fl(ctx, node, False)[:2]
    return val if tree is None else tree


def _fl(ctx, n, want_op):
    """(value, tree, op): tree None when the value is known; op is the associative
    operator still to apply between value and tree (None when none)."""
    t = type(n)
    if t is Literal:
        return n.value, None, None
    if t is RelTimeLiteral:
        return n.ev(ctx), None, None
    if t is AttrRef:
        return _fl_ref(ctx, n)
    if t is ListExpr:
        items = []
        for c in n.items:
            v, tr, _ = _fl(ctx, c, False)
            items.append(_lit(v) if tr is None else tr)
        return UNDEFINED, ListExpr(tuple(items)), None
    if t is RecordExpr:
        # classad.cpp _Flatten: each attribute flattened with the record as current ad
        from .nodes import ClassAdType
        view = ClassAdType._view(n.attrs, ctx.scope)
        saved = ctx.scope
        ctx.scope = view
        attrs = {}
        try:
            for low, (name, node) in n.attrs.items():
                v, tr, _ = _fl(ctx, node, False)
                attrs[low] = (name, _lit(v) if tr is None else tr)
        finally:
            ctx.scope = saved
        return UNDEFINED, RecordExpr(attrs), None
    if t is Call:
        args = []
        fold = True
        for a in n.args:
            v, tr, _ = _fl(ctx, a, False)
            if tr is None:
                args.append(_lit(v))
            else:
                args.append(tr)
                fold = False
        call = Call(n.name, tuple(args))
        if fold:
            return call.ev(ctx), None, None
        return UNDEFINED, call, None
    if t is Paren:
        v, tr, _ = _fl(ctx, n.inner, False)
        return (v, None, None) if tr is None else (UNDEFINED, Paren(tr), None)
    if t is Unary:
        v, tr, _ = _fl(ctx, n.operand, False)
        if tr is None:
            return Unary(n.op, _lit(v)).ev(ctx), None, None
        return UNDEFINED, Unary(n.op, tr), None
    if t is Ternary:
        v, tr, _ = _fl(ctx, n.cond, False)
        if tr is None and v is not UNDEFINED:
            b = ops.to_bool(v)
            if type(b) is not bool:
                return ERROR, None, None
            return _fl(ctx, n.then if b else n.other, False)
        parts = [tr if tr is not None else _lit(v)]
        for c in (n.then, n.other):
            cv, ct, _ = _fl(ctx, c, False)
            parts.append(ct if ct is not None else _lit(cv))
        return UNDEFINED, Ternary(*parts), None
    if t is Elvis or t is Subscript:
        a, b = (n.left, n.right) if t is Elvis else (n.base, n.index)
        v1, t1, _ = _fl(ctx, a, False)
        v2, t2, _ = _fl(ctx, b, False)
        if t1 is None and t2 is None:
            return t(_lit(v1), _lit(v2)).ev(ctx), None, None
        return UNDEFINED, t(t1 or _lit(v1), t2 or _lit(v2)), None
    # binary operators
    op = n.op
    if op not in _ASSOC:
        v1, t1, _ = _fl(ctx, n.left, False)
        v2, t2, _ = _fl(ctx, n.right, False)
        if t1 is None and t2 is None:
            return _apply(op, v1, v2), None, None
        return UNDEFINED, _make(op, t1 or _lit(v1), t2 or _lit(v2)), None
    v1, t1, o1 = _fl(ctx, n.left, True)
    v2, t2, o2 = _fl(ctx, n.right, True)
    new_op, val, tree = _combine(op, v1, t1, o1, v2, t2, o2)
    if not want_op and new_op is not None:
        return UNDEFINED, _make(new_op, _lit(val), tree), None
    return val, tree, new_op


def _combine(op, v1, t1, o1, v2, t2, o2):
    """operators.cpp combine(): (op, value, tree)."""
    if (t1 is None) != (t2 is None) and op in ("&&", "||"):
        r = _apply(op, v1 if t1 is None else UNDEFINED, v2 if t2 is None else UNDEFINED)
        if type(r) is bool:
            return None, r, None
        if op == "&&" and t1 is None and v1 is True:
            return None, UNDEFINED, t2
        if op == "&&" and t2 is None and v2 is True:
            return None, UNDEFINED, t1
    if t1 is None and t2 is None:
        return None, _apply(op, v1, v2), None
    if t1 is None and o2 is None:
        return op, v1, t2
    if t2 is None and o1 is None:
        return op, v2, t1
    if o1 is None and o2 is None:
        return None, UNDEFINED, _make(op, t1, t2)
    if op != o1 and op != o2:
        n1 = _make(o1, _lit(v1), t1) if o1 is not None else (t1 or _lit(v1))
        n2 = _make(o2, _lit(v2), t2) if o2 is not None else (t2 or _lit(v2))
        return None, UNDEFINED, _make(op, n1, n2)
    if op == o1 and op == o2:
        return op, _apply(op, v1, v2), _make(op, t1, t2)
    if op == o1:
        if t2 is None:
            return op, _apply(op, v1, v2), t1
        return op, v1, _make(op, t1, t2)
    if t1 is None:
        return op, _apply(op, v1, v2), t2
    return op, v2, _make(op, t1, t2)


def _fl_ref(ctx, n):
    # attrrefs.cpp _Flatten: a reference whose expression flattens to a value becomes
    # that value; otherwise the reference stays
    found = _find(ctx, n)
    if found is ERROR:
        return ERROR, None, None
    if found is None:
        return UNDEFINED, n, None
    scope, ent = found
    node = ent[1]
    if type(node) is RecordExpr:
        return UNDEFINED, n, None
    key = id(ent)
    if key in ctx.active:
        return UNDEFINED, n, None
    ctx.active.append(key)
    saved = ctx.scope
    ctx.scope = scope
    try:
        v, tr, _ = _fl(ctx, node, False)
    finally:
        ctx.scope = saved
        ctx.active.pop()
    if tr is not None:
        return UNDEFINED, n, None
    return v, None, None


def _find(ctx, n):
    """(ad, entry) an attribute reference names, None if undefined, ERROR on error."""
    if n.base is None:
        start = ctx.get_root() if n.absolute else ctx.scope
        ad = start
        while ad is not None:
            ent = ad._attrs.get(n.low)
            if ent is not None:
                return ad, ent
            ad = ad._parent
        return None
    try:
        base = n.base.ev(ctx)
    except (RecursionError, EvalFailure):
        return ERROR
    if base is UNDEFINED or type(base) is ListValue:
        return None  # a projection over a list flattens to a list: the reference stays
    if not hasattr(base, "_attrs"):
        return ERROR
    ad = base
    while ad is not None:
        ent = ad._attrs.get(n.low)
        if ent is not None:
            return ad, ent
        ad = ad._parent
    return None
