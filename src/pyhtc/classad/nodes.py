"""Expression tree nodes, each compiled once (on first evaluation) into a Python closure.

A node is immutable after construction and carries ``ev``: a function ``ev(ctx) -> value``
(:class:`Ctx` is the per-evaluation state), built by ``_compile`` the first time ``ev`` is
read, so parsing an ad costs only its node objects. Evaluation therefore never walks the tree; each
closure calls its children's closures directly. Nodes also know how to print themselves
(``unparse(out, old)``, appending text pieces to the list ``out``; rules from
src/classad/sink.cpp).

Attribute lookup follows src/classad/attrrefs.cpp ``FindExpr`` and src/classad/classad.cpp
``LookupInScope``: climb from the current ad through enclosing records up to the root; the
special names ``toplevel``/``root``, ``self``/``my``, ``parent`` and ``CurrentTime``; in a
match an unqualified name not found in MY falls back to TARGET (the "alternate scope"); a
reference to an attribute already being evaluated (a cycle) is UNDEFINED.
"""
from __future__ import annotations

import abc

import time as _time

import operator as _operator

from . import ops
from .errors import EvalFailure
from .functions import REGISTRY
from .unparse import quote_name, value_to
from .values import ERROR, UNDEFINED, ListValue, RelTime

_INT_FAST = {"<": _operator.lt, "<=": _operator.le, ">": _operator.gt, ">=": _operator.ge,
             "==": _operator.eq, "!=": _operator.ne}

__all__ = ["Ctx", "Node", "Literal", "AttrRef", "Binary", "Unary", "Paren", "Logical",
           "Ternary", "Elvis", "Subscript", "Call", "ListExpr", "RecordExpr", "RelTimeLiteral"]

# Set by classad.py (avoids an import cycle): the ClassAd class and a record factory.
ClassAdType = None


def _make_record(attrs, parent):
    return ClassAdType._view(attrs, parent)


_MATCH_TEXT = (
    "[ lCtx = [ ad = .LEFT; my = .LEFT; other = .RIGHT; target = .RIGHT ]; LEFT = undefined; "
    "rCtx = [ ad = .RIGHT; my = .RIGHT; other = .LEFT; target = .LEFT ]; RIGHT = undefined; "
    "leftRankValue = LEFT.rank; rightRankValue = RIGHT.rank; "
    "symmetricMatch = RIGHT.requirements && LEFT.requirements; "
    "leftMatchesRight = RIGHT.requirements; rightMatchesLeft = LEFT.requirements ]")
_match_template = []


class Ctx:
    """State of one evaluation (HTCondor: ``EvalState``).

    - ``scope``: the ad references are currently resolved in (``curAd``);
    - ``my`` / ``target``: the two ads of a match (``target`` None outside a match);
    - ``active``: ids of the attribute slots being evaluated (cycle detection).

    In a match (src/classad/matchClassad.cpp) both ads sit inside a match ad
    ``[ lCtx = [my = .LEFT; target = .RIGHT; ...]; LEFT = my; rCtx = ...; RIGHT = target;
    symmetricMatch = ...]`` whose ``lCtx``/``rCtx`` are the enclosing scopes of MY/TARGET;
    it is built only when a lookup climbs past the top of MY or TARGET.
    """

    __slots__ = ("scope", "my", "target", "active", "_now", "_root", "_lctx", "_rctx")

    def __init__(self, scope, target=None):
        self.scope = scope
        self.my = scope
        self.target = target
        self._root = None
        self._lctx = self._rctx = None
        if scope is not None and target is None:
            root = scope
            while root._parent is not None:
                root = root._parent
            self._root = root
        self.active = []
        self._now = None

    def get_root(self):
        """The root ad (``toplevel``, target of ``.x``): the match ad in a match."""
        if self._root is None and self.target is not None:
            self._build_match()
        return self._root

    def match_parent(self, ad):
        """Enclosing scope of a top-level ad in a match: lCtx for MY, rCtx for TARGET."""
        if self.target is None:
            return None
        if ad is self.my:
            if self._lctx is None:
                self._build_match()
            return self._lctx
        if ad is self.target:
            if self._rctx is None:
                self._build_match()
            return self._rctx
        return None

    def _build_match(self):
        if not _match_template:
            from .parser import parse_record
            _match_template.append(parse_record(_MATCH_TEXT)[0])
        tmpl = _match_template[0]
        attrs = dict(tmpl)
        attrs["left"] = ("LEFT", Literal(self.my))
        attrs["right"] = ("RIGHT", Literal(self.target))
        view = ClassAdType._view
        match = view(attrs, None)
        self._root = match
        self._lctx = view(tmpl["lctx"][1].attrs, match)
        self._rctx = view(tmpl["rctx"][1].attrs, match)

    def evaluate(self, node):
        """Evaluate an argument node in the current scope."""
        return node.ev(self)

    def now(self) -> float:
        """The current time (Unix seconds), fixed for the whole evaluation."""
        if self._now is None:
            self._now = _time.time()
        return self._now

    def eval_in(self, node, scope):
        """Evaluate ``node`` with ``scope`` as the current ad."""
        saved = self.scope
        self.scope = scope
        v = node.ev(self)
        self.scope = saved
        return v


# ---------------------------------------------------------------- attribute lookup

_SPECIAL = {"toplevel", "root", "self", "my", "parent", "currenttime"}


def eval_entry(ctx, ad, ent):
    """Evaluate the attribute slot ``ent`` (a ``(name, node)`` tuple) found in ``ad``.

    A slot already being evaluated further up (a cycle) is UNDEFINED (attrrefs.cpp). No
    try/finally: the only exception that can escape a closure is RecursionError, which
    abandons the whole evaluation (and its Ctx).
    """
    node = ent[1]
    if node.__class__ is Literal:
        return node.value
    key = id(ent)
    active = ctx.active
    if key in active:
        return UNDEFINED
    active.append(key)
    saved = ctx.scope
    ctx.scope = ad
    v = node.ev(ctx)
    ctx.scope = saved
    active.pop()
    return v


def lookup_in_scope(ctx, start, low):
    """Resolve name ``low`` (lower-case) climbing from ad ``start``: a value, or None if
    no enclosing scope defines it (classad.cpp LookupInScope)."""
    ad = start
    target = ctx.target
    while ad is not None:
        ent = ad._attrs.get(low)
        if ent is not None:
            return eval_entry(ctx, ad, ent)
        sup = ad._parent
        if sup is None and target is not None:
            sup = ctx.match_parent(ad)
        if low in _SPECIAL:
            if low == "my" or low == "self":
                return ad
            if low == "parent":
                return UNDEFINED if sup is None else sup
            if low == "currenttime":
                return int(ctx.now())
            root = ctx.get_root()
            return UNDEFINED if root is None else root
        ad = sup
    return None


def resolve_name(ctx, low):
    """Value of the unqualified reference ``low`` in the current scope."""
    cur = ctx.scope
    if cur is None:
        return UNDEFINED
    v = lookup_in_scope(ctx, cur, low)
    if v is not None:
        return v
    target = ctx.target
    if target is not None:
        # alternate scope (attrrefs.cpp, matchClassad.cpp): MY <-> TARGET for unqualified
        # names not found in the ad's own scopes
        if cur is ctx.my:
            v = lookup_in_scope(ctx, target, low)
        elif cur is target:
            v = lookup_in_scope(ctx, ctx.my, low)
        if v is not None:
            return v
    return UNDEFINED


def select(ctx, base, low):
    """``base.name`` where ``base`` is an evaluated value."""
    if hasattr(base, "_attrs"):
        v = lookup_in_scope(ctx, base, low)
        return UNDEFINED if v is None else v
    if type(base) is ListValue:
        # attrrefs.cpp FindExpr: "list.attr" applies ".attr" to each element expression,
        # evaluated in the scope where the projection happens
        out = []
        if base.exprs is None:
            for elem in base.values():
                out.append(select(ctx, elem, low))
        else:
            for node in base.exprs:
                out.append(select(ctx, node.ev(ctx), low))
        return ListValue.of(out)
    if base is UNDEFINED:
        return UNDEFINED
    return ERROR


# ---------------------------------------------------------------- nodes

class Node(abc.ABC):
    """Base class of expression nodes (``ev`` closure + ``unparse``).

    ``ev`` is compiled on first use (``_compile``, which compiles the children first, so
    a closure calls its children's compiled closures directly); building a tree therefore
    costs only the node objects, and trees that are never evaluated are never compiled."""

    __slots__ = ("ev",)

    def __getattr__(self, name):
        # only reached while the ``ev`` slot is still empty
        if name != "ev":
            raise AttributeError(name)
        ev = self.ev = self._compile()
        return ev

    @abc.abstractmethod
    def _compile(self):
        """The closure ``ev(ctx) -> value`` evaluating this node."""

    @abc.abstractmethod
    def unparse(self, out: list, old: bool = False) -> None:
        """Append this node's text pieces to ``out`` (``old``: old-syntax rules)."""

    def children(self):
        """Sub-expressions (for reference analysis)."""
        return ()


class Literal(Node):
    """A constant value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def _compile(self):
        value = self.value
        return lambda ctx: value

    def unparse(self, out, old=False):
        value_to(out, self.value, old)


class RelTimeLiteral(Node):
    """``relTime("...")`` with a string literal: prints as relTime but evaluates to a REAL
    (HTCondor quirk, see SPEC-NOTES 1)."""

    __slots__ = ("secs",)

    def __init__(self, secs: float):
        self.secs = float(secs)

    def _compile(self):
        secs = self.secs
        return lambda ctx: secs

    def unparse(self, out, old=False):
        value_to(out, RelTime(self.secs), old)


class AttrRef(Node):
    """``name``, ``.name`` (absolute) or ``base.name``."""

    __slots__ = ("base", "name", "absolute", "low")

    def __init__(self, name: str, base=None, absolute: bool = False):
        self.name = name
        self.base = base
        self.absolute = absolute
        self.low = name.lower()

    def _compile(self):
        base, absolute, low = self.base, self.absolute, self.low
        if base is not None and type(base) is AttrRef and base.base is None \
                and not base.absolute and base.low in ("target", "my", "self"):
            ev = _scoped_ref(base.low, base.ev, low)
        elif base is not None:
            bev = base.ev

            def ev(ctx):
                return select(ctx, bev(ctx), low)
        elif absolute:
            def ev(ctx):
                root = ctx.get_root()
                if root is None:
                    raise EvalFailure(".%s with no root ad" % low)
                v = lookup_in_scope(ctx, root, low)
                return UNDEFINED if v is None else v
        else:
            def ev(ctx):
                cur = ctx.scope
                if cur is not None:
                    ent = cur._attrs.get(low)
                    if ent is not None:
                        node = ent[1]
                        if node.__class__ is Literal:
                            return node.value
                        return eval_entry(ctx, cur, ent)
                return resolve_name(ctx, low)
        return ev

    def children(self):
        return (self.base,) if self.base is not None else ()

    def unparse(self, out, old=False):
        if self.base is not None:
            self.base.unparse(out, old)
            out.append("." + self.name)
        else:
            if self.absolute:
                out.append(".")
            out.append(quote_name(self.name))


def _scoped_ref(prefix: str, base_ev, low: str):
    """Closure for ``TARGET.x`` / ``MY.x``: resolves the prefix directly when the current
    ad is a top-level ad of the match that does not define the prefix name itself."""
    is_target = prefix == "target"

    def ev(ctx):
        cur = ctx.scope
        if cur is not None and cur._parent is None and prefix not in cur._attrs:
            if is_target:
                if cur is ctx.my:
                    ad = ctx.target
                elif cur is ctx.target:
                    ad = ctx.my
                else:
                    return select(ctx, base_ev(ctx), low)
                if ad is None:
                    return UNDEFINED
            else:
                ad = cur
            ent = ad._attrs.get(low)
            if ent is not None:
                node = ent[1]
                if node.__class__ is Literal:
                    return node.value
                return eval_entry(ctx, ad, ent)
            v = lookup_in_scope(ctx, ad, low)
            return UNDEFINED if v is None else v
        return select(ctx, base_ev(ctx), low)
    return ev


_OP_TEXT = {"=?=": " is ", "is": " is ", "=!=": " isnt ", "isnt": " isnt "}
_OLD_OP_TEXT = {"=?=": " =?= ", "is": " =?= ", "=!=": " =!= ", "isnt": " =!= "}


class Binary(Node):
    """A strict binary operator."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left, right):
        self.op, self.left, self.right = op, left, right

    def _compile(self):
        return _binary_closure(self.op, self.left.ev, self.right.ev)

    def children(self):
        return (self.left, self.right)

    def unparse(self, out, old=False):
        self.left.unparse(out, old)
        op = self.op
        if old:
            out.append(_OLD_OP_TEXT.get(op) or " " + op + " ")
        else:
            out.append(_OP_TEXT.get(op) or " " + op + " ")
        self.right.unparse(out, old)


def _arith_closure(op, lev, rev, fn):
    """+ - * with inline fast paths for int/int (64-bit wrap) and real operands."""
    pyop = {"+": _operator.add, "-": _operator.sub, "*": _operator.mul}[op]
    lo, hi = ops.INT64_MIN, ops.INT64_MAX
    wrap = ops.wrap64
    inf = float("inf")

    def ev(ctx):
        a = lev(ctx)
        b = rev(ctx)
        ta = a.__class__
        tb = b.__class__
        if ta is int and tb is int:
            r = pyop(a, b)
            return r if lo <= r <= hi else wrap(r)
        if (ta is float and (tb is float or tb is int)) or (ta is int and tb is float):
            r = pyop(float(a), float(b))
            return ERROR if r == inf else r
        return fn(a, b)
    return ev


def _div_closure(lev, rev, fn):
    inf = float("inf")

    def ev(ctx):
        a = lev(ctx)
        b = rev(ctx)
        ta = a.__class__
        tb = b.__class__
        if ta is int and tb is int and b > 0 and a >= 0:
            return a // b
        if ((ta is float and (tb is float or tb is int)) or (ta is int and tb is float)) and b:
            r = a / b
            return ERROR if r == inf else r
        return fn(a, b)
    return ev


def _meta_closure(lev, rev, fn, want):
    def ev(ctx):
        a = lev(ctx)
        b = rev(ctx)
        ta = a.__class__
        if ta is b.__class__ and (ta is int or ta is str or ta is bool):
            return (a == b) is want
        return fn(a, b)
    return ev


def _binary_closure(op, lev, rev):
    fn = ops.BINARY[op]
    if op in ("+", "-", "*"):
        return _arith_closure(op, lev, rev, fn)
    if op == "/":
        return _div_closure(lev, rev, fn)
    if op in ("=?=", "is"):
        return _meta_closure(lev, rev, fn, True)
    if op in ("=!=", "isnt"):
        return _meta_closure(lev, rev, fn, False)
    pyop = _INT_FAST.get(op)
    if pyop is None:
        return lambda ctx: fn(lev(ctx), rev(ctx))
    if op in ("==", "!="):
        fold = ops.fold
        want = op == "=="

        def ev(ctx):
            a = lev(ctx)
            b = rev(ctx)
            ta = a.__class__
            if ta is b.__class__:
                if ta is int:
                    return (a == b) is want
                if ta is str:
                    if a.isascii() and b.isascii():
                        return (a.lower() == b.lower()) is want
                    return (fold(a) == fold(b)) is want
            return fn(a, b)
        return ev

    def ev(ctx):
        a = lev(ctx)
        b = rev(ctx)
        if a.__class__ is int and b.__class__ is int:
            return pyop(a, b)
        return fn(a, b)
    return ev


def _logical_chain(op, node):
    """Operand closures of a left-nested chain ``((a && b) && c) ...`` of the same operator."""
    evs = []
    while type(node) is Logical and node.op == op:
        evs.append(node.right.ev)
        node = node.left
    evs.append(node.ev)
    evs.reverse()
    return evs


def _and_chain(evs):
    to_bool = ops.to_bool
    first, rest = evs[0], evs[1:]

    def ev(ctx):
        a = first(ctx)
        for nxt in rest:
            if a is False:
                return False
            if a is not True:
                a0 = a
                a = to_bool(a)
                if a is False:
                    return False
                if a is ERROR:
                    if a0 is not ERROR:
                        nxt(ctx)  # operators.cpp evaluates both operands here
                    return ERROR
            b = nxt(ctx)
            if b.__class__ is not bool:
                b = to_bool(b)
            if a is True:
                a = b
            elif b is False or b is ERROR:
                a = b
            else:
                a = UNDEFINED
        if a.__class__ is not bool:
            a = to_bool(a)
        return a
    return ev


def _or_chain(evs):
    to_bool = ops.to_bool
    first, rest = evs[0], evs[1:]

    def ev(ctx):
        a = first(ctx)
        for nxt in rest:
            if a is True:
                return True
            if a is not False:
                a0 = a
                a = to_bool(a)
                if a is True:
                    return True
                if a is ERROR:
                    if a0 is not ERROR:
                        nxt(ctx)  # operators.cpp evaluates both operands here
                    return ERROR
            b = nxt(ctx)
            if b.__class__ is not bool:
                b = to_bool(b)
            if a is False:
                a = b
            elif b is True or b is ERROR:
                a = b
            else:
                a = UNDEFINED
        if a.__class__ is not bool:
            a = to_bool(a)
        return a
    return ev


class Logical(Node):
    """Non-strict ``&&`` / ``||`` (operators.cpp: the right operand is evaluated only when
    needed). A left-nested chain of the same operator compiles into one loop."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left, right):
        self.op, self.left, self.right = op, left, right

    def _compile(self):
        op, left, right = self.op, self.left, self.right
        if type(left) is Logical and left.op == op:
            evs = _logical_chain(op, self)
            return _and_chain(evs) if op == "&&" else _or_chain(evs)
        lev, rev = left.ev, right.ev
        to_bool = ops.to_bool
        if op == "&&":
            def ev(ctx):
                a = lev(ctx)
                if a is False:
                    return False
                if a is not True:
                    a0 = a
                    a = to_bool(a)
                    if a is False:
                        return a
                    if a is ERROR:
                        if a0 is not ERROR:
                            rev(ctx)  # operators.cpp evaluates both operands here
                        return a
                b = rev(ctx)
                if type(b) is not bool:
                    b = to_bool(b)
                if a is True:
                    return b
                # a is UNDEFINED
                if b is False or b is ERROR:
                    return b
                return UNDEFINED
        else:
            def ev(ctx):
                a = lev(ctx)
                if a is True:
                    return True
                if a is not False:
                    a0 = a
                    a = to_bool(a)
                    if a is True:
                        return a
                    if a is ERROR:
                        if a0 is not ERROR:
                            rev(ctx)  # operators.cpp evaluates both operands here
                        return a
                b = rev(ctx)
                if type(b) is not bool:
                    b = to_bool(b)
                if a is False:
                    return b
                if b is True or b is ERROR:
                    return b
                return UNDEFINED
        return ev

    def children(self):
        return (self.left, self.right)

    def unparse(self, out, old=False):
        self.left.unparse(out, old)
        out.append(" " + self.op + " ")
        self.right.unparse(out, old)


class Unary(Node):
    """Unary ``- + ! ~``."""

    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand):
        self.op, self.operand = op, operand

    def _compile(self):
        fn = ops.UNARY[self.op]
        oev = self.operand.ev
        return lambda ctx: fn(oev(ctx))

    def children(self):
        return (self.operand,)

    def unparse(self, out, old=False):
        out.append(" " + self.op)
        self.operand.unparse(out, old)


class Paren(Node):
    """Parentheses as written (kept for printing)."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def _compile(self):
        return self.inner.ev

    def children(self):
        return (self.inner,)

    def unparse(self, out, old=False):
        out.append("(")
        self.inner.unparse(out, old)
        out.append(")")


class Ternary(Node):
    """``c ? a : b``."""

    __slots__ = ("cond", "then", "other")

    def __init__(self, cond, then, other):
        self.cond, self.then, self.other = cond, then, other

    def _compile(self):
        cev, tev, oev = self.cond.ev, self.then.ev, self.other.ev
        to_bool = ops.to_bool

        def ev(ctx):
            c = cev(ctx)
            if c is True:
                return tev(ctx)
            if c is False:
                return oev(ctx)
            c0 = c
            c = to_bool(c)
            if c is True:
                return tev(ctx)
            if c is False:
                return oev(ctx)
            if c is ERROR and c0 is not ERROR:
                # operators.cpp evaluates both branches of a non-boolean selector
                tev(ctx)
                oev(ctx)
            return c
        return ev

    def children(self):
        return (self.cond, self.then, self.other)

    def unparse(self, out, old=False):
        self.cond.unparse(out, old)
        out.append(" ? ")
        self.then.unparse(out, old)
        out.append(" : ")
        self.other.unparse(out, old)


class Elvis(Node):
    """``x ?: y`` — y when x is undefined, else x."""

    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left, self.right = left, right

    def _compile(self):
        lev, rev = self.left.ev, self.right.ev

        def ev(ctx):
            a = lev(ctx)
            return rev(ctx) if a is UNDEFINED else a
        return ev

    def children(self):
        return (self.left, self.right)

    def unparse(self, out, old=False):
        self.left.unparse(out, old)
        out.append(" ?: ")
        self.right.unparse(out, old)


class Subscript(Node):
    """``base[index]``: list element (0-based int) or record attribute (string)."""

    __slots__ = ("base", "index")

    def __init__(self, base, index):
        self.base, self.index = base, index

    def _compile(self):
        bev, iev = self.base.ev, self.index.ev

        def ev(ctx):
            b = bev(ctx)
            i = iev(ctx)
            if b is ERROR or i is ERROR:
                return ERROR
            if b is UNDEFINED or i is UNDEFINED:
                return UNDEFINED
            if type(b) is ListValue:
                if type(i) is not int:
                    return ERROR
                if not 0 <= i < 2147483648:
                    i = ops.c_int32(i)  # operators.cpp reads the index into a C int
                if i < 0 or i >= len(b):
                    return ERROR
                if b.exprs is not None and b._values is None:
                    return b._eval(b.exprs[i])
                return b.values()[i]
            if hasattr(b, "_attrs"):
                if type(i) is not str:
                    return ERROR
                # operators.cpp: r["name"] looks in r itself only (no enclosing scopes)
                ent = b._attrs.get(i.lower())
                return UNDEFINED if ent is None else eval_entry(ctx, b, ent)
            return ERROR
        return ev

    def children(self):
        return (self.base, self.index)

    def unparse(self, out, old=False):
        self.base.unparse(out, old)
        out.append("[")
        self.index.unparse(out, old)
        out.append("]")


def _to_value(r):
    t = type(r)
    if t is list:
        return ListValue.of([_to_value(x) for x in r])
    if t is dict:
        return ClassAdType._from_values(r)
    return r


def _inline_if_then_else(generic, low, evs):
    """ifThenElse(c, a, b) evaluated without the call overhead while the registered
    built-in is the core one (fn_core.py); a user-registered replacement takes over."""
    cev, aev, bev = evs
    to_bool = ops.to_bool

    def ev(ctx):
        b = REGISTRY.get(low)
        if b is None or not getattr(b.impl, "_core_if_then_else", False):
            return generic(ctx)
        c = cev(ctx)
        if c is True:
            return aev(ctx)
        if c is False:
            return bev(ctx)
        c = to_bool(c)
        if c is True:
            return aev(ctx)
        if c is False:
            return bev(ctx)
        return c
    return ev


class Call(Node):
    """A function call; the built-in is looked up by name at evaluation time (so functions
    registered later are found); an unknown name or wrong argument count is ERROR."""

    __slots__ = ("name", "args")

    def __init__(self, name: str, args: tuple):
        self.name, self.args = name, tuple(args)

    def _compile(self):
        low = self.name.lower()
        args = self.args
        nargs = len(args)
        evs = tuple(a.ev for a in args)
        e0 = evs[0] if evs else None

        cache = [None, False]

        def ev(ctx):
            b = REGISTRY.get(low)
            if b is not cache[0]:
                cache[0] = b
                cache[1] = b is not None and b.accepts(nargs)
            if not cache[1]:
                return ERROR
            try:
                if b.lazy:
                    r = b.impl(ctx, *args)
                elif nargs == 1:
                    r = b.impl(ctx, e0(ctx))
                else:
                    r = b.impl(ctx, *[e(ctx) for e in evs])
            except (RecursionError, EvalFailure):
                raise
            except Exception:
                return ERROR
            t = type(r)
            if t is list or t is dict:
                return _to_value(r)
            if r is None:
                return ERROR
            return r
        if low == "ifthenelse" and nargs == 3:
            ev = _inline_if_then_else(ev, low, evs)
        return ev

    def children(self):
        return self.args

    def unparse(self, out, old=False):
        out.append(self.name + "(")
        first = True
        for a in self.args:
            if not first:
                out.append(",")
            first = False
            a.unparse(out, old)
        out.append(")")


class ListExpr(Node):
    """``{ e1, e2, ... }``: evaluates to a ListValue whose elements are evaluated lazily in
    the scope the list was evaluated in."""

    __slots__ = ("items",)

    def __init__(self, items: tuple):
        self.items = tuple(items)

    def _compile(self):
        items = self.items

        def ev(ctx):
            scope = ctx.scope

            def _elem(node):
                return ctx.eval_in(node, scope)
            return ListValue(items, _elem)
        return ev

    def children(self):
        return self.items

    def unparse(self, out, old=False):
        if old is not False and old is not True:
            old.list(out, self.items)
            return
        out.append("{ ")
        first = True
        for a in self.items:
            if not first:
                out.append(",")
            first = False
            a.unparse(out, old)
        out.append(" }")


class RecordExpr(Node):
    """``[ a = 1; b = a + 1 ]``: evaluates to a ClassAd whose enclosing scope is the ad the
    record was evaluated in. ``attrs`` maps lower-case name -> (name, node)."""

    __slots__ = ("attrs",)

    def __init__(self, attrs: dict):
        self.attrs = attrs

    def _compile(self):
        attrs = self.attrs

        def ev(ctx):
            return _make_record(attrs, ctx.scope)
        return ev

    def children(self):
        return tuple(n for _, n in self.attrs.values())

    def unparse(self, out, old=False):
        ClassAdType._view(self.attrs, None)._unparse_to(out, old)


