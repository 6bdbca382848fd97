"""The ``ClassAd`` record and ``ExprTree`` expression objects (API of ``classad2``).

A ClassAd maps case-insensitive attribute names to expressions. Internally ``_attrs`` maps
the lower-case name to a ``(name, node)`` tuple (the first spelling is kept, as in
HTCondor); ``_parent`` is the enclosing record (None for a top-level ad). Iteration and
printing order is by name length, then case-insensitively (HTCondor 25 ``ClassAd``).
"""
from __future__ import annotations

from collections.abc import MutableMapping

from . import nodes
from .errors import ClassAdException, EvalFailure
from .nodes import Ctx, Literal, eval_entry
from .parser import parse_expr, parse_record
from .printing import json_ad, pretty_ad
from .unparse import quote_name, unparse_node
from .values import ERROR, UNDEFINED
from .pyvalue import to_python, from_python, node_to_python

__all__ = ["ClassAd", "ExprTree", "evaluate_node"]


def evaluate_node(node, scope=None, target=None):
    """Evaluate ``node`` with MY=``scope`` and TARGET=``target`` (a runaway recursion
    evaluates to ERROR). Raises ClassAdException when the evaluation fails outright, as
    classad2 does (e.g. ``.x`` with no scope ad)."""
    ctx = Ctx(scope, target)
    try:
        return node.ev(ctx)
    except RecursionError:
        return ERROR
    except EvalFailure:
        raise ClassAdException("failed to evaluate expression") from None


class ClassAd(MutableMapping):
    """A ClassAd (HTCondor manual "ClassAds"; classad2.ClassAd).

    ``ClassAd()`` empty; ``ClassAd("[a = 1; b = a + 1]")`` parses new syntax (raises
    ClassAdParseError); ``ClassAd({"a": 1})`` converts Python values. Reading an item gives
    the Python value for literals (int, float, str, bool, list, ClassAd, datetime,
    Value.Undefined/Error) and an :class:`ExprTree` otherwise; missing keys raise KeyError.
    """

    __slots__ = ("_attrs", "_parent", "_order", "__weakref__")

    def __init__(self, input=None):
        self._attrs = {}
        self._parent = None
        self._order = None
        if input is None:
            return
        if isinstance(input, str):
            attrs, _end = parse_record(input, single=True)
            self._attrs = attrs
        elif isinstance(input, ClassAd):
            self._attrs = dict(input._attrs)
        elif isinstance(input, dict) or hasattr(input, "items"):
            for k, v in input.items():
                self[k] = v
        else:
            raise TypeError("ClassAd() input must be a string, a dict or None")

    # -- construction helpers used by the evaluator
    @classmethod
    def _view(cls, attrs: dict, parent):
        ad = cls.__new__(cls)
        ad._attrs = attrs
        ad._parent = parent
        ad._order = None
        return ad

    @classmethod
    def _from_values(cls, d: dict):
        ad = cls()
        for k, v in d.items():
            ad._attrs[k.lower()] = (k, Literal(v))
        return ad

    def _items(self):
        """(name, node) pairs in HTCondor's order."""
        order = self._order
        if order is None or len(order) != len(self._attrs):
            order = self._order = sorted(self._attrs, key=lambda k: (len(k), k))
        a = self._attrs
        return [a[k] for k in order]

    def _set_node(self, name: str, node) -> None:
        low = name.lower()
        prev = self._attrs.get(low)
        if prev is None:
            self._order = None
            self._attrs[low] = (name, node)
        else:
            self._attrs[low] = (prev[0], node)

    # -- MutableMapping
    def __getitem__(self, key):
        ent = self._attrs.get(_key(key))
        if ent is None:
            raise KeyError(key)
        return node_to_python(ent[1], self)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError("ClassAd keys must be strings")
        self._set_node(key, from_python(value))

    def __delitem__(self, key):
        low = key.lower() if isinstance(key, str) else None
        if low not in self._attrs:
            raise KeyError(key)
        del self._attrs[low]
        self._order = None

    def __iter__(self):
        return iter([name for name, _ in self._items()])

    def __len__(self):
        return len(self._attrs)

    def __contains__(self, key):
        return _key(key) in self._attrs

    def keys(self):
        return [name for name, _ in self._items()]

    def clear(self):
        self._attrs.clear()
        self._order = None

    # -- ClassAd methods
    def lookup(self, attr: str) -> "ExprTree":
        """The expression of ``attr`` as an ExprTree (KeyError if absent)."""
        ent = self._attrs.get(_key(attr))
        if ent is None:
            raise KeyError(attr)
        return ExprTree._wrap(ent[1], self)

    def eval(self, attr: str):
        """Evaluate attribute ``attr`` in this ad; the Python value (KeyError if absent)."""
        ent = self._attrs.get(_key(attr))
        if ent is None:
            raise KeyError(attr)
        ctx = Ctx(self)
        try:
            v = eval_entry(ctx, self, ent)
        except RecursionError:
            v = ERROR
        except EvalFailure:
            raise ClassAdException("failed to evaluate expression") from None
        return to_python(v)

    def _eval_attr_value(self, attr: str, target=None):
        """The ClassAd value of ``attr`` (UNDEFINED if absent), MY=self, TARGET=target."""
        ent = self._attrs.get(attr.lower())
        if ent is None:
            return UNDEFINED
        ctx = Ctx(self, target)
        try:
            return eval_entry(ctx, self, ent)
        except (RecursionError, EvalFailure):
            return ERROR

    def matches(self, ad: "ClassAd") -> bool:
        """True if ``ad``'s Requirements hold with MY=ad, TARGET=self (classad2 semantics)."""
        _need_ad(ad)
        return _req_ok(ad._eval_attr_value("Requirements", self))

    def symmetricMatch(self, ad: "ClassAd") -> bool:
        """Both ads' Requirements evaluate to true / a non-zero number against each other."""
        _need_ad(ad)
        return (_req_ok(self._eval_attr_value("Requirements", ad))
                and _req_ok(ad._eval_attr_value("Requirements", self)))

    def externalRefs(self, expr) -> list:
        """Attribute references in ``expr`` that this ad does not define."""
        from .refs import references
        return references(_node_of(expr), self, external=True)

    def internalRefs(self, expr) -> list:
        """Attribute references in ``expr`` that this ad defines."""
        from .refs import references
        return references(_node_of(expr), self, external=False)

    def flatten(self, expr):
        """Partially evaluate ``expr`` in this ad (classad2 ClassAd.flatten): references to
        attributes whose values are known are replaced by them, constants are folded.
        Returns an ExprTree, or the Python value when everything is known."""
        from .nodes import Node
        from .refs import flatten
        try:
            r = flatten(_node_of(expr), self)
        except EvalFailure:
            raise ClassAdException("failed to flatten expression") from None
        if isinstance(r, Node):
            return ExprTree._wrap(r, None)
        return to_python(r)

    def printOld(self) -> str:
        """Old-syntax text: one ``Name = expr`` line per attribute."""
        out = []
        for name, node in self._items():
            out.append(quote_name(name) + " = " + unparse_node(node, True) + "\n")
        return "".join(out) if out else "\n"  # sink.cpp: an empty ad prints one newline

    formatOld = printOld

    def printJson(self) -> str:
        """JSON text (src/classad/jsonSink.cpp)."""
        return json_ad(self)

    formatJson = printJson

    def _unparse_to(self, out: list, old=False) -> None:
        if old is not False and old is not True:
            old.record(out, self._items())
            return
        items = self._items()
        if not items:
            out.append("[  ]")
            return
        out.append("[ ")
        first = True
        for name, node in items:
            if not first:
                out.append("; ")
            first = False
            out.append(quote_name(name) + " = ")
            node.unparse(out, old)
        out.append(" ]")

    def __repr__(self) -> str:
        out: list = []
        try:
            self._unparse_to(out)
        except RecursionError:
            raise ClassAdException("expression nested too deeply to print") from None
        return "".join(out)

    def __str__(self) -> str:
        return pretty_ad(self)

    def __eq__(self, other):
        if not isinstance(other, ClassAd):
            return NotImplemented
        if len(self._attrs) != len(other._attrs):
            return False
        for k, (_, node) in self._attrs.items():
            o = other._attrs.get(k)
            if o is None or not _same_tree(node, o[1]):
                return False
        return True

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    __hash__ = None

    def __reduce__(self):
        return (ClassAd, (repr(self),))


def _same_tree(a, b) -> bool:
    return a is b or unparse_node(a) == unparse_node(b)


def _req_ok(v) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    return False


def _node_of(expr):
    if isinstance(expr, ExprTree):
        return expr._node
    raise TypeError("expr must be an ExprTree")


def _key(key) -> str:
    if not isinstance(key, str):
        raise TypeError("ClassAd keys are strings")
    return key.lower()


def _need_ad(ad) -> None:
    if not isinstance(ad, ClassAd):
        raise TypeError("ad must be a ClassAd")


class ExprTree:
    """An expression (classad2.ExprTree).

    ``ExprTree("a + 1")`` parses new syntax (ClassAdParseError on bad text);
    ``ExprTree(other)`` copies; ``ExprTree()`` is ``undefined``. ``eval(scope, target)``
    gives the Python value; ``simplify(scope, target)`` the value as an ExprTree.
    ``repr``/``str`` print new syntax.
    """

    __slots__ = ("_node", "_scope")

    def __init__(self, expr=None):
        self._scope = None
        if expr is None:
            self._node = Literal(UNDEFINED)
        elif isinstance(expr, ExprTree):
            self._node = expr._node
            self._scope = expr._scope
        elif isinstance(expr, str):
            self._node = parse_expr(expr)
        elif isinstance(expr, (bool, int, float)):
            self._node = from_python(expr)
        else:
            raise ClassAdException(
                f"Unable to convert {type(expr).__name__} to a ClassAd expression")

    @classmethod
    def _wrap(cls, node, scope):
        e = cls.__new__(cls)
        e._node = node
        e._scope = scope
        return e

    def _value(self, scope, target):
        # classad2: an ExprTree taken from an ad does not keep the ad as its scope.
        if scope is None and target is not None:
            scope = ClassAd()
        return evaluate_node(self._node, scope, target)

    def eval(self, scope=None, target=None):
        """Evaluate (MY=scope, TARGET=target) and return the Python value."""
        return to_python(self._value(scope, target))

    def simplify(self, scope=None, target=None) -> "ExprTree":
        """Evaluate and return the resulting value as an ExprTree."""
        v = self._value(scope, target)
        return ExprTree._wrap(Literal(v), None)

    def __repr__(self) -> str:
        try:
            return unparse_node(self._node)
        except RecursionError:
            raise ClassAdException("expression nested too deeply to print") from None

    def __str__(self) -> str:
        from .printing import Pretty
        out: list = []
        self._node.unparse(out, Pretty())
        return "".join(out)

    def __eq__(self, other):
        if isinstance(other, ExprTree):
            return _same_tree(self._node, other._node)
        return NotImplemented

    def __hash__(self):
        return hash(repr(self))

    def __reduce__(self):
        return (ExprTree, (repr(self),))



nodes.ClassAdType = ClassAd
