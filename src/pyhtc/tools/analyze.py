"""Explaining a match: which clauses of a Requirements expression hold, and why.

The seed of ``condor_q -better-analyze`` (manual: man-pages/condor_q.rst, "-better-analyze";
HTCondor's src/condor_tools/analysis.cpp). A Requirements expression is split into its
top-level ``&&`` clauses (through parentheses); a clause that is just a reference to another
attribute of the same ad (a machine's ``Requirements = START``) is expanded into that
attribute's clauses. Each clause is evaluated with MY = the ad and TARGET = the other ad, and
reported with the values of the attributes it references on both sides.

The rest of the module is condor_q's match analysis (``-analyze``, ``-better-analyze``,
``-reverse``, ``-machine``, ``-mconstraint``, ``-analyze:summary``), following HTCondor 25's
src/condor_utils/expr_analyze.cpp and src/condor_q.V6/jobmatch.cpp: :func:`jobs_report`
renders one schedd's jobs against a :class:`SlotSet`; :class:`AnalysisOptions` is the
command-line side used by :mod:`pyhtc.tools.q`.
"""
from __future__ import annotations

import os
import sys
import time as _time
from dataclasses import dataclass, field
from typing import Optional

from pyhtc import classad as C
from pyhtc.classad.classad import evaluate_node
from pyhtc.classad.errors import ClassAdException
from pyhtc.classad.nodes import (AttrRef, Binary, Call, Elvis, Literal, Logical, Paren,
                                 RelTimeLiteral, Subscript, Ternary, Unary)
from pyhtc.classad.refs import references
from pyhtc.classad.unparse import unparse_node
from pyhtc.classad.values import UNDEFINED
from pyhtc.tools.analyze_prio import UserPrios

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


# =========================================================================== condor_q -analyze
#
# Everything below follows HTCondor 25's condor_q analysis: the clause splitting, constant
# propagation, pruning and per-target counting of src/condor_utils/expr_analyze.cpp
# (AnalyzeThisSubExpr, AnalyzePropagateConstants, AnalyzeRequirementsForEachTarget,
# PrettyPrintExprTree, PrintNumberedExprTreeClauses), and the job/slot run analysis and report
# text of src/condor_q.V6/jobmatch.cpp (doJobRunAnalysis, appendJobMatchTotalsToBuffer,
# appendBasicJobRunAnalysisToBuffer, doJobMatchAnalysisToBuffer, doSlotRunAnalysisToBuffer).
# Manual: docs/man-pages/condor_q.rst "-analyze", "-better-analyze", "-reverse-analyze",
# "-machine", "-mconstraint"; docs/users-manual/troubleshooting.rst.

__all__ += ["DETAIL_BETTER", "DETAIL_EACH_SUB_EXPR", "DETAIL_ALWAYS_ANALYZE_REQ",
            "DETAIL_SHOW_ALL_SUBEXPRS", "SubExpr", "analyze_clauses", "numbered_clauses",
            "pretty_print", "requirements_table", "Slot", "SlotSet", "RunCounters",
            "run_analysis", "job_analysis", "slot_analysis", "jobs_report", "slot_constraint",
            "is_slot_name", "parse_detail"]

# detail bits (expr_analyze.h)
DETAIL_SHOW_ALL_SUBEXPRS = 0x04
DETAIL_SHOW_IFTHENELSE = 0x08
DETAIL_EACH_SUB_EXPR = 0x100
DETAIL_ALWAYS_ANALYZE_REQ = 0x200
DETAIL_DONT_SHOW_JOB_ATTRS = 0x400
DETAIL_INLINE_STD_SLOT_EXPRS = 0x800
DETAIL_BETTER = 0x10000

#: match modes (condor_q.h anaMatchMode*)
MATCH_ALWAYS, MATCH_PSLOT = 1, 2

_COMPARISON = {"<", "<=", "!=", "==", ">=", ">", "=?=", "=!=", "is", "isnt"}

#: JobUniverse numbers (condor_universe.h)
_VANILLA, _SCHEDULER, _MPI, _GRID, _JAVA, _PARALLEL, _LOCAL, _VM = 5, 7, 8, 9, 10, 11, 12, 13


def _truthy(v) -> bool:
    """IsBooleanValueEquiv && true: a true boolean or a non-zero number."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    return False


def _eval_bool(node, my, target) -> bool:
    try:
        return _truthy(evaluate_node(node, my, target))
    except ClassAdException:
        return False


def constraint_match(request: C.ClassAd, offer: C.ClassAd) -> bool:
    """IsAConstraintMatch: ``request``'s Requirements with MY=request, TARGET=offer."""
    return offer.matches(request)


# --------------------------------------------------------------------------- clause tree

@dataclass
class SubExpr:
    """One analysed step of an expression (expr_analyze.cpp AnalSubExpr).

    ``logic_op`` is 0 (not a logic operator), 1 (``!``), 2 (``||``), 3 (``&&``) or 5
    (``ifThenElse``, with the ``ifthenelse`` qualifier); the
    ``ix_*`` fields index other steps (-1: none); ``ix_effective`` >= 0 when the step reduces
    to another one; ``count`` holds the per-column match counts (column 1 counts drained-slot
    simulations); ``constant``/``hard_value`` describe steps that reference nothing in the
    target ad."""

    node: object
    label: str
    depth: int
    logic_op: int = 0
    ix_left: int = -1
    ix_right: int = -1
    ix_grip: int = -1
    ix_effective: int = -1
    hard_value: int = -1
    pruned_by: int = -1
    constant: bool = False
    variable: bool = False
    dont_care: bool = False
    unparsed: str = ""
    count: list = field(default_factory=lambda: [0, 0])

    def make_label(self) -> Optional[str]:
        """``[l] && [r]``-style label of a logic step, or None (MakeLabel)."""
        if not self.logic_op:
            return None
        if self.logic_op < 2:
            return None if self.ix_left < 0 else f" ! [{self.ix_left}]"
        if self.logic_op > 3:
            return f"ifThenElse([{self.ix_left}],[{self.ix_right}],[{self.ix_grip}])"
        return f"[{self.ix_left}] {'||' if self.logic_op == 2 else '&&'} [{self.ix_right}]"

    def text(self) -> str:
        """The step's label as printed (Label)."""
        if not self.label:
            made = self.make_label()
            if made is not None:
                self.label = made
            elif self.unparsed:
                return self.unparsed
            else:
                return "empty"
        return self.label


def _step(index: int, width: int) -> str:
    """``[N]`` padded/truncated to width+2 characters (StepLabel)."""
    return (f"[{index}]" + " " * 6)[:width + 2]


def analyze_clauses(ad: C.ClassAd, node, inline: frozenset = frozenset(),
                    details: int = 0) -> tuple[list, bool]:
    """Split ``node`` (an expression of ``ad``) into analysis steps, children before parents
    (AnalyzeThisSubExpr).  Comparisons and logic operators become steps; parentheses are
    transparent; a bare reference to an attribute of ``ad`` named in ``inline`` (lower case)
    is replaced by that attribute's expression (one level); with DETAIL_SHOW_IFTHENELSE an
    ``ifThenElse(c, a, b)`` call is a logic step too.  Returns ``(steps, variable)``
    where ``variable`` is True when the value depends on the time."""
    subs: list[SubExpr] = []

    def walk(n, inline, must_store, depth) -> tuple[int, bool]:
        left = right = grip = None
        push = must_store
        logic = 0
        evaluate_logical = False
        child_depth = depth
        label = ""
        varres = False
        t = type(n)
        if t is Literal or t is RelTimeLiteral:
            label = unparse_node(n)
        elif t is AttrRef:
            if n.base is None and n.low == "currenttime":
                varres = True
            if n.absolute:
                left = None
            elif n.base is None and inline and n.low in inline:
                ent = ad._attrs.get(n.low)
                left = ent[1] if ent is not None else None
                inline = frozenset()
            else:
                left = n.base
        elif t is Binary:
            left, right = n.left, n.right
            if n.op in _COMPARISON:
                push = True
        elif t is Logical:
            left, right = n.left, n.right
            logic = 2 if n.op == "||" else 3
            evaluate_logical = push = True
        elif t is Unary:
            left = n.operand
            if n.op == "!":
                logic = 1
                evaluate_logical = push = True
        elif t is Paren:
            left = n.inner
            push = False
            evaluate_logical = True
            child_depth += 1
        elif t is Ternary:
            left, right, grip = n.cond, n.then, n.other
        elif t is Elvis or t is Subscript:
            left, right = (n.left, n.right) if t is Elvis else (n.base, n.index)
        elif t is Call:
            if not n.args and n.name.lower() == "time":
                varres = True
            elif details & DETAIL_SHOW_IFTHENELSE and len(n.args) == 3 and n.name.lower() == "ifthenelse":
                push = evaluate_logical = True
                logic = 5
                left, right, grip = n.args
            label = n.name + "()"
            if must_store:
                label = unparse_node(n) or label
        # ListExpr, RecordExpr: leaves
        ix_l = ix_r = ix_g = -1
        vl = vr = vg = False
        if left is not None:
            ix_l, vl = walk(left, inline, evaluate_logical, child_depth)
        if right is not None:
            ix_r, vr = walk(right, inline, evaluate_logical, child_depth)
        if grip is not None:
            ix_g, vg = walk(grip, inline, evaluate_logical, child_depth)
        varres = varres or vl or vr or vg
        ix_me = -1
        if push:
            if left is not None and right is None and grip is None and ix_l >= 0:
                ix_me = ix_l
                # a unary ! re-targets the step just made (AnalyzeThisSubExpr)
                if ix_me == len(subs) - 1 and logic == 1:
                    sub = subs[-1]
                    sub.node, sub.logic_op, sub.depth = n, 1, depth
                    if sub.label:
                        sub.label = "! " + sub.label
            else:
                ix_me = len(subs)
                subs.append(SubExpr(n, label, depth, logic, ix_l, ix_r, ix_g, variable=varres))
        elif left is not None and right is None and grip is None:
            ix_me = ix_l
        return ix_me, varres

    _, variable = walk(node, inline, True, 0)
    return subs, variable


def numbered_clauses(ad: C.ClassAd, attr: str, inline: frozenset = frozenset(), details: int = 0) -> str:
    """The ``    [N]    : clause`` listing of ``ad[attr]`` (PrintNumberedExprTreeClauses)."""
    ent = ad._attrs.get(attr.lower())
    if ent is None:
        return ""
    subs, _ = analyze_clauses(ad, ent[1], inline - {attr.lower()}, details)
    out = []
    for ix, s in enumerate(subs):
        clause = s.make_label()
        if clause is None:
            clause = unparse_node(s.node) if s.ix_left < 0 else f"[{s.ix_left}] " + unparse_node(s.node)
        out.append("    " + _step(ix, 4) + " : " + clause + "\n")
    return "".join(out)


def _check_constant(s: SubExpr, ad: C.ClassAd) -> None:
    s.unparsed = unparse_node(s.node)
    try:
        ext = references(s.node, ad, external=True)
    except RecursionError:
        ext = ["?"]
    s.constant = not ext
    if s.constant:
        s.hard_value = 1 if _eval_bool(s.node, ad, None) else 0


_TRUTHY = ["?", "F", "T", "", "u", "e", "?", "f", "t", "s"]


def _mark_irrelevant(subs, index, at):
    if index >= 0:
        subs[index].dont_care = True
        subs[index].pruned_by = at
        for child in (subs[index].ix_left, subs[index].ix_right, subs[index].ix_grip):
            if child >= 0:
                _mark_irrelevant(subs, child, at)


def _propagate_constants(subs: list) -> None:
    """Fold constant steps through ``!``, ``||`` and ``&&`` (AnalyzePropagateConstants)."""
    for ix, s in enumerate(subs):
        ix_effective = ix_irrelevant = -1
        soft_irrelevant = False
        if s.logic_op:
            hard = {}
            soft = {}
            for side, j in (("l", s.ix_left), ("r", s.ix_right), ("g", s.ix_grip)):
                hard[side], soft[side] = 2, False
                if j >= 0 and subs[j].constant:
                    hard[side], soft[side] = subs[j].hard_value, subs[j].variable
            hl, hr, sl, sr = hard["l"], hard["r"], soft["l"], soft["r"]

            def tr(h, sft):
                return _TRUTHY[h + 1 + sft * 6]

            if s.logic_op == 1:
                if not s.label and s.ix_left >= 0:
                    s.label = f" ! [{s.ix_left}]{tr(hl, sl)}"
            elif s.logic_op == 2:
                if hl == 1 or hr == 1:
                    s.constant, s.hard_value, s.variable = True, 1, sl and sr
                    if hl == 1:
                        s.ix_effective = ix_effective = s.ix_left
                        ix_irrelevant = s.ix_right
                        soft_irrelevant = sl and bool(hr or sr)
                    else:
                        s.ix_effective = ix_effective = s.ix_right
                        ix_irrelevant = s.ix_left
                        soft_irrelevant = sr and bool(hl or sl)
                elif hl == 0 and hr == 0:
                    s.constant, s.variable, s.hard_value = True, sl or sr, 0
                elif hl == 0:
                    s.ix_effective = ix_effective = s.ix_right
                    ix_irrelevant, soft_irrelevant = s.ix_left, sl
                elif hr == 0:
                    s.ix_effective = ix_effective = s.ix_left
                    ix_irrelevant, soft_irrelevant = s.ix_right, sr
                s.label = f"[{s.ix_left}]{tr(hl, sl)} || [{s.ix_right}]{tr(hr, sr)}"
            elif s.logic_op == 3:
                if hl == 0 or hr == 0:
                    s.constant, s.variable, s.hard_value = True, sl or sr, 0
                    if hl == 0:
                        s.ix_effective = ix_effective = s.ix_left
                        ix_irrelevant, soft_irrelevant = s.ix_right, sl
                    else:
                        s.ix_effective = ix_effective = s.ix_right
                        ix_irrelevant, soft_irrelevant = s.ix_left, sr
                elif hl == 1 and hr == 1:
                    s.constant, s.variable, s.hard_value = True, sl or sr, 1
                elif hl == 1:
                    s.ix_effective = ix_effective = s.ix_right
                elif hr == 1:
                    s.ix_effective = ix_effective = s.ix_left
                s.label = f"[{s.ix_left}]{tr(hl, sl)} && [{s.ix_right}]{tr(hr, sr)}"
            elif s.logic_op == 5:
                if hl in (0, 1):
                    ix_effective = s.ix_right if hl else s.ix_grip
                    s.ix_effective = ix_effective
                    if ix_effective >= 0 and subs[ix_effective].constant:
                        s.constant, s.variable = True, sl
                        s.hard_value = subs[ix_effective].hard_value
                    ix_irrelevant = s.ix_grip if hl else s.ix_right
                    soft_irrelevant = sl
                hg, sg = hard["g"], soft["g"]
                s.label = (f"ifThenElse([{s.ix_left}]{tr(hl, sl)}, [{s.ix_right}]{tr(hr, sr)}, "
                           f"[{s.ix_grip}]{tr(hg, sg)})")
        if ix_effective >= 0:
            if ix_irrelevant < 0:
                if ix_effective == s.ix_left:
                    ix_irrelevant = s.ix_right
                if ix_effective == s.ix_right:
                    ix_irrelevant = s.ix_left
                if s.variable:
                    soft_irrelevant = True
            while subs[ix_effective].ix_effective >= 0:
                ix_effective = subs[ix_effective].ix_effective
                s.ix_effective = ix_effective
        if ix_irrelevant >= 0 and not soft_irrelevant:
            _mark_irrelevant(subs, ix_irrelevant, ix)


class _Columns:
    """Match-count columns: one ("Slots Matched"), or two when drained-slot simulations are
    analysed too ("Slots Matched" / "If Drained"), as DefaultAnalysisMatchDescriminator and
    DrainedAnalysisMatchDescriminator in expr_analyze.h / jobmatch.cpp."""

    def __init__(self, drained: bool):
        self.drained = drained

    def header1(self, target_name: str) -> str:
        return "  Slots      If    " if self.drained else "%5ss" % target_name

    def header2(self) -> str:
        return " Matched   Drained " if self.drained else " Matched "

    def bar(self) -> str:
        return "--------- ---------" if self.drained else "---------"

    def add(self, count: list, is_overlay: bool) -> None:
        count[1 if (self.drained and is_overlay) else 0] += 1

    def total(self, count: list) -> int:
        return count[0] + count[1] if self.drained else count[0]

    def show(self, count: list) -> str:
        return "%9d %9d" % (count[0], count[1]) if self.drained else "%9d" % count[0]


def requirements_table(request: C.ClassAd, attr: str, targets: list, target_name: str = "Slot",
                       inline: frozenset = frozenset(), details: int = 0,
                       overlays: Optional[set] = None) -> str:
    """The ``Step  Matched  Condition`` table: each step of ``request[attr]`` with the number
    of ``targets`` (ClassAds) for which it is true (AnalyzeRequirementsForEachTarget).

    Steps that reference nothing in the targets print ``always``/``never``; steps whose
    outcome is decided by another step are pruned.  ``overlays`` is the set of ``id()``s of
    targets that are drained-slot simulations: when given and non-empty a second count column
    ("If Drained") is shown.  Returns "" when ``request`` has no ``attr``."""
    ent = request._attrs.get(attr.lower())
    if ent is None:
        return ""
    cols = _Columns(bool(overlays))
    overlays = overlays or set()
    subs, _ = analyze_clauses(request, ent[1], inline - {attr.lower()}, details)
    for s in subs:
        _check_constant(s, request)
    _propagate_constants(subs)

    # propagate effectives back up the chain
    for s in subs:
        changed = False
        for name in ("ix_left", "ix_right", "ix_grip"):
            j = getattr(s, name)
            if j >= 0 and subs[j].ix_effective >= 0:
                setattr(s, name, subs[j].ix_effective)
                changed = True
        if changed:
            s.label = ""

    n_targets = len(targets)
    for ix, s in enumerate(subs):
        if s.ix_effective >= 0 or s.dont_care or s.constant:
            continue
        s.count = [0, 0]
        il, ir = s.ix_left, s.ix_right
        if il >= 0 and ir >= 0 and s.logic_op:
            ix_eff = ix_prune = -1
            cl, cr = cols.total(subs[il].count), cols.total(subs[ir].count)
            if s.logic_op == 3:
                if cl == 0:
                    ix_eff = il
                elif cr == 0:
                    ix_eff = ir
            elif s.logic_op == 2:
                if cl == n_targets:
                    ix_eff, ix_prune = il, ir
                elif cr == n_targets:
                    ix_eff, ix_prune = ir, il
                elif cl == 0 and cr != 0:
                    ix_eff, ix_prune = ir, il
                elif cl != 0 and cr == 0:
                    ix_eff, ix_prune = il, ir
            if ix_prune >= 0:
                _mark_irrelevant(subs, ix_prune, ix)
            if ix_eff >= 0:
                while subs[ix_eff].ix_effective >= 0:
                    ix_eff = subs[ix_eff].ix_effective
                s.ix_effective = ix_eff
            else:
                if subs[il].ix_effective >= 0:
                    s.ix_left, s.label = subs[il].ix_effective, ""
                if subs[ir].ix_effective >= 0:
                    s.ix_right, s.label = subs[ir].ix_effective, ""
        for t in targets:
            if _eval_bool(s.node, request, t):
                cols.add(s.count, id(t) in overlays)
        if il >= 0 and ir >= 0 and s.logic_op:
            ix_eff = -1
            if s.logic_op == 3:
                mine = cols.total(s.count)
                if cols.total(subs[il].count) == mine:
                    ix_eff = il
                    if cols.total(subs[ir].count) > mine:
                        subs[ir].dont_care, subs[ir].pruned_by = True, il
                elif cols.total(subs[ir].count) == mine:
                    ix_eff = ir
                    if cols.total(subs[il].count) > mine:
                        subs[il].dont_care, subs[il].pruned_by = True, ir
            if ix_eff >= 0:
                while subs[ix_eff].ix_effective >= 0:
                    ix_eff = subs[ix_eff].ix_effective
                s.ix_effective = ix_eff
                s.label = ""
            else:
                if subs[il].ix_effective >= 0:
                    s.ix_left, s.label = subs[il].ix_effective, ""
                if subs[ir].ix_effective >= 0:
                    s.ix_right, s.label = subs[ir].ix_effective, ""

    show_all = bool(details & DETAIL_SHOW_ALL_SUBEXPRS)
    lead = "   " if show_all else ""
    out = [lead + " " * 7 + cols.header1(target_name) + "\n",
           lead + "Step  " + cols.header2() + " Condition\n",
           lead + "----- " + cols.bar() + " ---------\n"]
    for ix, s in enumerate(subs):
        skip = s.ix_effective >= 0 or s.dont_care
        prefix = ""
        if show_all:
            prefix = "   " if skip else " * "
        elif skip:
            continue
        if s.constant:
            word = ("now" if s.hard_value else "not now") if s.variable else ("always" if s.hard_value else "never")
            out.append(prefix + "%s %9s  %s\n" % (_step(ix, 3), word, s.text()))
            continue
        out.append(prefix + "%s %s  %s\n" % (_step(ix, 3), cols.show(s.count), s.text()))
    return "".join(out)


def pretty_print(text: str, indent: int, width: int) -> str:
    """Wrap expression text at ``&&``/``||`` so lines fit ``width`` columns; continuation
    lines are indented by the parenthesis depth (PrettyPrintExprTree).  The caller has
    already printed ``indent`` columns before the first line."""
    buf = list(text)
    if indent > width:
        indent = width * 2 // 3
    i = last_and = line_start = 0
    indent_at_last_and = indent
    pos = indent
    was_and = False
    prev = ""
    while i < len(buf):
        ch = buf[i]
        is_and = False
        if ch in "&|" and prev == ch:
            is_and = True
        elif ch == "(":
            indent += 2
        elif ch == ")":
            indent -= 2
        if pos >= width and last_and != line_start:
            buf[last_and] = "\n"
            line_start = last_and + 1
            last_and = line_start
            pos = 0
            if indent_at_last_and > 0:
                buf[line_start:line_start] = [" "] * indent_at_last_and
                i += indent_at_last_and
                pos = i - line_start
            indent_at_last_and = indent
        if was_and:
            last_and = i
            indent_at_last_and = indent
        prev = buf[i]
        i += 1
        pos += 1
        was_and = is_and
    return "".join(buf)


# --------------------------------------------------------------------------- slots

def _lookup_bool(ad: C.ClassAd, name: str) -> Optional[bool]:
    """LookupBool: the attribute's value as a bool (numbers count), None when it is absent or
    not boolean."""
    if name not in ad:
        return None
    v = ad._eval_attr_value(name)
    if type(v) is bool:
        return v
    if type(v) in (int, float):
        return v != 0
    return None


def _lookup_int(ad: C.ClassAd, name: str) -> Optional[int]:
    v = ad._eval_attr_value(name) if name in ad else None
    if type(v) is int or (type(v) is float and v == int(v)):
        return int(v)
    return None


def _lookup_str(ad: C.ClassAd, name: str) -> Optional[str]:
    v = ad._eval_attr_value(name) if name in ad else None
    return v if isinstance(v, str) else None


@dataclass
class Slot:
    """A slot ad prepared for analysis: its sort key ``<Machine>/<SlotID %03d>[.<DSlotId
    %03d>]/<Name>/<sequence>`` and its machine group (AddSlotToClassAdCollection)."""

    ad: C.ClassAd
    name: str
    machine: str
    key: str
    group: int
    is_dslot_id: bool


class SlotSet:
    """The slot ads of an analysis in HTCondor's order (sorted by :class:`Slot` key), with the
    counts that choose the match mode (jobmatch.cpp ``RelatedClassads``)."""

    def __init__(self, ads, single_machine: Optional[str] = None):
        self.single_machine = single_machine
        self.num_dynamic = self.num_pslots = self.num_static = 0
        groups: dict = {}
        slots = []
        for seq, ad in enumerate(ads, 1):
            machine = _lookup_str(ad, "Machine") or ""
            key = machine + "/%03d" % (_lookup_int(ad, "SlotID") or 0)
            dslot = _lookup_int(ad, "DSlotId")
            if dslot is not None:
                key += ".%03d" % dslot
                self.num_dynamic += 1
            else:
                p = _lookup_bool(ad, "PartitionableSlot")
                if p is True:
                    self.num_pslots += 1
                elif p is False:
                    self.num_static += 1
            name = _lookup_str(ad, "Name")
            if name is not None:
                key += "/" + name
            key += "/%010d" % seq
            group = groups.setdefault(machine, len(groups))
            slots.append(Slot(ad, name or "", machine, key, group, dslot is not None and dslot > 0))
        self.slots = sorted(slots, key=lambda s: s.key)
        self.num_groups = len(groups)
        self.longest_machine = max([0] + [len(s.machine) for s in slots])
        self.longest_name = max([0] + [len(s.name) for s in slots])

    def __len__(self):
        return len(self.slots)

    def match_mode(self) -> int:
        """MATCH_PSLOT, or MATCH_ALWAYS when only static and dynamic slots came back
        (queue.cpp after setupAnalysis)."""
        if self.num_dynamic > 1 and self.num_pslots == 0:
            return MATCH_ALWAYS
        return MATCH_PSLOT


def is_slot_name(text: str) -> bool:
    """Whether a ``-mconstraint`` argument is really a slot name: only name characters and
    more than one ``.`` (jobmatch.cpp is_slot_name)."""
    if not all(ch.isalnum() or ch in "-.@_" for ch in text):
        return False
    return text.count(".") > 1


def slot_constraint(constraint: Optional[str], machine: Optional[str]) -> tuple[Optional[str], Optional[str], bool]:
    """The slot-ad constraint of an analysis from ``-mconstraint`` and ``-machine``
    (jobmatch.cpp setupAnalysis).  Returns ``(constraint or None, single-machine label or
    None, exclude_dynamic)``: a ``-mconstraint`` that looks like a slot name is taken as
    ``-machine``; a machine/slot name selects ``Name`` or ``Machine``; unless the name has an
    ``@`` or the constraint already mentions the slot type, a collector query should also
    leave dynamic slots out (``!(DynamicSlot?:false)``)."""
    if constraint and not machine and is_slot_name(constraint):
        machine, constraint = constraint, None
    parts = []
    if constraint:
        parts.append(constraint)
    single = None
    likely_single_slot = False
    if machine:
        if not constraint:
            single = machine
        likely_single_slot = "@" in machine
        parts.append(f'(Name=="{machine}" || Machine=="{machine}")')
    exclude_dynamic = False
    if not likely_single_slot:
        mentioned = set()
        for p in parts:
            mentioned |= {r.split(".")[-1].lower() for r in C.ClassAd().externalRefs(C.ExprTree(p))}
        exclude_dynamic = not mentioned & {"partitionableslot", "dynamicslot", "slottype", "dslotid"}
    if not parts:
        return None, single, exclude_dynamic
    return (parts[0] if len(parts) == 1 else " && ".join(f"({p})" for p in parts)), single, exclude_dynamic


def drained_overlay(slot: C.ClassAd) -> Optional[C.ClassAd]:
    """The slot as it would be when drained: each resource tag of ``MachineResources``
    (default ``Cpus Memory Disk``) set to ``TotalSlot<tag>`` (jobmatch.cpp
    make_pslot_overlay_ad; the AvailableGPUs refinement is not simulated)."""
    tags = _lookup_str(slot, "MachineResources")
    if tags is None:
        tags = "Cpus Memory Disk"
    names = sorted({t for t in tags.replace(",", " ").split() if t}, key=str.lower)
    if not names:
        return None
    over = C.ClassAd(slot)
    for tag in names:
        over[tag] = C.ExprTree("TotalSlot" + tag)
    return over


# --------------------------------------------------------------------------- job run analysis

@dataclass
class RunCounters:
    """The slot counts of one job's run analysis (jobmatch.cpp anaCounters) and, for
    ``-verbose``, the slot names in each category."""

    total_slots: int = 0
    total_machines: int = 0
    req_constraint: int = 0       # slots rejected by the job's Requirements
    off_constraint: int = 0       # slots whose own Requirements reject the job
    job_matches_slot: int = 0
    both_match: int = 0
    offline: int = 0
    running_jobs: int = 0
    running_your_jobs: int = 0
    available_now: int = 0
    available_if_drained: int = 0
    dslots_skipped: int = 0
    preempt_prio_cond: int = 0    # with user priorities: serving users with a better priority
    preempt_req_test: int = 0     # with user priorities: PREEMPTION_REQUIREMENTS says no
    #: with user priorities: the job's submitter ``(name, priority)`` and whether it is a
    #: nice user; None when the analysis ignores user priority
    submitter: Optional[tuple] = None
    nice_user: bool = False
    names: dict = field(default_factory=dict)

    def note(self, category: str, name: str) -> None:
        self.names.setdefault(category, []).append(name)


def _int_attr(ad, name, default=0):
    v = _lookup_int(ad, name)
    return default if v is None else v


def run_analysis(job: C.ClassAd, slots: SlotSet, mode: int = MATCH_PSLOT,
                 schedd_ad: Optional[C.ClassAd] = None, prios: Optional[UserPrios] = None):
    """Match ``job`` against every slot both ways (jobmatch.cpp doJobRunAnalysis).

    With ``prios`` (:class:`~pyhtc.tools.analyze_prio.UserPrios`, ``-analyze:priority``)
    and a submitter found in it, slots running another user's job are sorted by user
    priority and PREEMPTION_REQUIREMENTS; a submitter the negotiator does not know yet is
    analysed as without priorities (HTCondor would index its table out of range there).

    Returns ``(counters, job_status, analysis_needed, targets, overlays)``: the
    :class:`RunCounters`, the status text for jobs that are not idle (or ""), whether some
    slot rejected the job's Requirements, the slot ads to count clauses against (in key
    order, drained simulations after the slot they simulate) and the ``id()`` set of the
    drained simulations among them."""
    ac = RunCounters()
    status = ""
    if _lookup_str(job, "Owner") is None:
        return ac, "Nothing here.", False, [], set()
    user = _lookup_str(job, "User") or ""
    state = _int_attr(job, "JobStatus")
    cool_down = _int_attr(job, "JobCoolDownExpiration")
    server_time = _int_attr(job, "ServerTime", int(_time.time()))
    if state in (2, 6, 7):
        status = "Job is running."
    if state == 5:
        status = "Job is held."
        reason = _lookup_str(job, "HoldReason")
        if reason:
            status += "\n\nHold reason: " + reason
    if state == 3:
        status = "Job is removed."
    if state == 4:
        status = "Job is completed."
    if state == 1 and cool_down > server_time:
        status = "Job is in cool down."

    universe = _int_attr(job, "JobUniverse", 1)
    if universe in (_LOCAL, _SCHEDULER):
        if schedd_ad is None:
            result = "WARNING: A schedd ClassAd is needed to do analysis for scheduler or Local universe jobs.\n"
        else:
            ac.total_slots += 1
            ac.job_matches_slot += 1
            attr = "StartLocalUniverse" if universe == _LOCAL else "StartSchedulerUniverse"
            v = schedd_ad._eval_attr_value(attr, job) if attr in schedd_ad else UNDEFINED
            if type(v) is not bool and type(v) not in (int, float):
                result = f"This schedd's {attr} policy failed to evalute for this job.\n"
            else:
                can = _truthy(v)
                if can:
                    ac.both_match += 1
                else:
                    ac.off_constraint += 1
                result = f"This schedd's {attr} evalutes to {'true' if can else 'false'} for this job.\n"
        status = (status + "\n\n" if status else "") + result
        return ac, status, False, [], set()

    ix = None
    if prios is not None:
        ix, ac.nice_user = prios.submitter_of(job)
        if ix is not None:
            ac.submitter = prios.table[ix]
    needed = 0
    seen_groups: set = set()
    targets: list = []
    overlays: set = set()
    skip_dslots = len(slots) > 1 and mode == MATCH_PSLOT
    for slot in slots.slots:
        offer = slot.ad
        is_pslot = _lookup_bool(offer, "PartitionableSlot")
        is_dslot = False
        if is_pslot is None:
            is_pslot = False
            is_dslot = bool(_lookup_bool(offer, "DynamicSlot"))
        if slot.group not in seen_groups:
            seen_groups.add(slot.group)
            ac.total_machines += 1
        if not (skip_dslots and slot.is_dslot_id):
            targets.append(offer)
        if is_dslot and mode == MATCH_PSLOT:
            ac.dslots_skipped += 1
            continue
        within = True
        if is_pslot and mode >= MATCH_PSLOT and "WithinResourceLimits" in offer:
            v = offer._eval_attr_value("WithinResourceLimits", job)
            if (type(v) is bool or type(v) in (int, float)) and not _truthy(v):
                within = False
                over = drained_overlay(offer)
                if over is not None:
                    v2 = over._eval_attr_value("WithinResourceLimits", job)
                    if not ((type(v2) is bool or type(v2) in (int, float)) and not _truthy(v2)):
                        targets.append(over)
                        overlays.add(id(over))
                        offer = over
        ac.total_slots += 1
        if not constraint_match(job, offer):
            ac.req_constraint += 1
            ac.note("req", slot.name)
            needed += 1
            continue
        ac.job_matches_slot += 1
        if not constraint_match(offer, job):
            ac.off_constraint += 1
            ac.note("off", slot.name)
            continue
        ac.both_match += 1
        if _lookup_bool(offer, "Offline"):
            ac.offline += 1
            ac.note("offline", slot.name)
        remote = _lookup_str(offer, "RemoteUser")
        if remote is None:
            if within:
                ac.available_now += 1
                ac.note("willing", slot.name)
            else:
                ac.available_if_drained += 1
                ac.note("drained", slot.name)
            continue
        ac.running_jobs += 1
        if user == remote:
            ac.running_your_jobs += 1
        elif ix is None:
            ac.note("other", slot.name)
        else:
            kind = prios.classify(offer, job)
            if kind == "prio":
                ac.preempt_prio_cond += 1
                ac.note("other", slot.name)
            elif kind == "preemptreq":
                ac.preempt_req_test += 1
                ac.note("preemptreq", slot.name)
            elif within:
                ac.available_now += 1
                ac.note("willing", slot.name)
            else:
                ac.available_if_drained += 1
                ac.note("drained", slot.name)
    return ac, status, needed > 0, targets, overlays




def _names(ac: RunCounters, category: str, limit: int = 10) -> str:
    """``: a, b, ...`` (anaMachines::print_list, first 10 names)."""
    names = ac.names.get(category)
    if not names:
        return ""
    shown = names[:limit]
    return ": " + ", ".join(shown) + (", ..." if len(names) > limit else "")


def _jid(job) -> tuple[int, int]:
    return _int_attr(job, "ClusterId"), _int_attr(job, "ProcId")


def match_totals(job: C.ClassAd, ac: RunCounters, verbose: bool = False) -> str:
    """The ``Run analysis summary ignoring|considering user priority`` block
    (appendJobMatchTotalsToBuffer); considering it when ``ac.submitter`` is set."""
    c, p = _jid(job)
    v = (lambda cat: _names(ac, cat)) if verbose else (lambda cat: "")
    out = []
    if ac.submitter is not None:
        out.append("Submittor %s has a priority of %.3f\n" % ac.submitter)
    tag = "considering" if ac.submitter is not None else "ignoring"
    out += [f"\n{c:03d}.{p:03d}:  Run analysis summary {tag} user priority.  Of {ac.total_slots} slots "
            f"on {ac.total_machines} machines,\n",
            "  %5d slots are rejected by your job's requirements%s\n" % (ac.req_constraint, v("req")),
            "  %5d slots reject your job because of their own requirements%s\n" % (ac.off_constraint, v("off"))]
    if ac.submitter is not None:
        out += ["  %5d slots match and are already running one of your jobs\n" % ac.running_your_jobs,
                "  %5d slots match but are serving users with a better priority in the pool%s%s\n"
                % (ac.preempt_prio_cond, "(*)" if ac.nice_user else "", v("other")),
                "  %5d slots match but will not currently preempt their existing job%s\n"
                % (ac.preempt_req_test, v("preemptreq")),
                # HTCondor prints the offline list after this line's newline, then one more
                "  %5d slots match but are currently offline\n%s\n" % (ac.offline, v("offline")),
                "  %5d slots match and are willing to run your job%s\n" % (ac.available_now, v("willing"))]
        if ac.available_if_drained:
            out.append("  %5d slots would match if drained%s\n" % (ac.available_if_drained, v("drained")))
        if ac.nice_user:
            out.append('\n\t(*)  Since this is a "nice-user" job, it has a\n'
                       "\t     very low priority and is unlikely to preempt other jobs.\n")
        return "".join(out) + _match_warning(ac)
    if ac.running_your_jobs:
        out.append("  %5d slots match and are already running your jobs\n" % ac.running_your_jobs)
    if ac.running_jobs:
        out.append("  %5d slots match but are serving other users%s\n"
                   % (ac.running_jobs - ac.running_your_jobs, v("other")))
    if ac.offline > 0:
        out.append("  %5d slots match but are currently offline%s\n" % (ac.offline, v("offline")))
    out.append("  %5d slots match and are willing to run your job%s\n" % (ac.available_now, v("willing")))
    if ac.available_if_drained:
        out.append("  %5d slots would match if drained%s\n" % (ac.available_if_drained, v("drained")))
    return "".join(out) + _match_warning(ac)


def _match_warning(ac: RunCounters) -> str:
    """The ``WARNING:  Be advised:`` tail of the totals when nothing matched."""
    if ac.job_matches_slot and ac.both_match:
        return ""
    if not ac.job_matches_slot:
        return "\nWARNING:  Be advised:\n   No machines matched the job's constraints\n"
    return ("\nWARNING:  Be advised:\n   Job did not match any machines' constraints\n"
            "   To see why, pick a machine that you think should match and add\n"
            "     -reverse -machine <name>\n"
            "   to your query.\n")


def basic_status(job: C.ClassAd, status: str) -> str:
    """The job's state and last match times (appendBasicJobRunAnalysisToBuffer)."""
    out = []
    if status:
        c, p = _jid(job)
        out.append(f"\n{c:03d}.{p:03d}:  {status}\n\n")
    last_match = _int_attr(job, "LastMatchTime")
    last_rej = _int_attr(job, "LastRejMatchTime")
    if last_match:
        out.append("Last successful match: " + _time.ctime(last_match) + "\n")
    elif last_rej:
        out.append("No successful match recorded.\n")
    if last_rej > last_match:
        line = "Last failed match: " + _time.ctime(last_rej)
        neg = _lookup_str(job, "LastRejMatchNegotiator")
        if neg:
            line += " from " + neg
        out.append(line + "\n")
        reason = _lookup_str(job, "LastRejMatchReason")
        if reason is not None:
            out.append("Reason for last match failure: " + reason + "\n")
    return "".join(out)


def _ref_names(refs, external: bool) -> list[str]:
    """Reference names trimmed as TrimReferenceNames does (``TARGET.`` dropped, cut at the
    first ``.``/``[``), unique and sorted without regard to case (classad::References)."""
    seen = {}
    for r in refs:
        name = r
        if external:
            low = name.lower()
            for pre in ("target.", "other."):
                if low.startswith(pre):
                    name = name[len(pre):]
                    break
            else:
                if name.startswith("."):
                    name = name[1:]
        cut = min([i for i in (name.find("."), name.find("[")) if i >= 0], default=len(name))
        name = name[:cut]
        seen.setdefault(name.lower(), name)
    return [seen[k] for k in sorted(seen)]


def _attr_refs(ad: C.ClassAd, attr: str) -> tuple[list[str], list[str]]:
    expr = C.ExprTree(attr)
    return _ref_names(ad.internalRefs(expr), False), _ref_names(ad.externalRefs(expr), True)


def referenced_attrs(ad: C.ClassAd, attr: str, hidden: set, indent: str = "    ",
                     raw: bool = True) -> tuple[str, list]:
    """``NAME = <expression>`` lines (``raw``; else the evaluated values) for the attributes
    of ``ad`` that ``ad[attr]`` uses (AddReferencedAttribsToBuffer), and the names it looks
    up in the target."""
    internal, external = _attr_refs(ad, attr)
    if any(r.lower() == "availablegpus" for r in external):
        external = _ref_names(external + ["GPUs"], True)
    out = []
    for name in internal:
        if name.lower() in hidden:
            continue
        unit = " (kb)" if name == "RequestDisk" else " (mb)" if name == "RequestMemory" else ""
        value = repr(ad.lookup(name)) if raw else repr(C.ExprTree(name).simplify(ad))
        out.append(f"{indent}{name} = {value}{unit}\n")
    return "".join(out), external


def target_attrs(trefs: list, request: C.ClassAd, target: C.ClassAd, indent: str = "    ") -> str:
    """``TARGET.NAME = <value>`` lines for the referenced attributes ``target`` defines
    (AddTargetAttribsToBuffer, evaluated values)."""
    out = []
    for name in trefs:
        if name not in target:
            continue
        unit = " (kb)" if name == "Disk" else " (mb)" if name == "Memory" else ""
        value = repr(C.ExprTree(name).simplify(target, request))
        out.append(f"{indent}TARGET.{name} = {value}{unit}\n")
    return "".join(out)


def _target_name(target: C.ClassAd) -> str:
    name = _lookup_str(target, "Name")
    if name is not None:
        return name
    c = _lookup_int(target, "ClusterId")
    if c is not None:
        return f"Job {c}.{_int_attr(target, 'ProcId')}"
    return "Target"


def _console_width() -> int:
    """getDisplayWidth: the terminal's width, 80 when stdout is not a terminal."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


def job_match_analysis(job: C.ClassAd, slots: SlotSet, targets: list, overlays: set, details: int,
                       mode: int, width: int = 80) -> str:
    """The Requirements part of one job's analysis (doJobMatchAnalysisToBuffer): the
    expression, its numbered steps, the job's (and, for a single machine, the slot's)
    referenced attributes, the per-step slot counts and the universe warnings."""
    c, p = _jid(job)
    rid = f"{c}.{p:03d}"
    each = bool(details & DETAIL_EACH_SUB_EXPR)
    show_attrs = each and not (details & DETAIL_DONT_SHOW_JOB_ATTRS)
    out = []
    if "Requirements" in job:
        out.append(f"The Requirements expression for job {rid} is\n\n    ")
        out.append(pretty_print(repr(job.lookup("Requirements")), 4, width) + "\n\n")
        out.append(numbered_clauses(job, "Requirements", details=details) + "\n")
    if show_attrs:
        attrs, trefs = referenced_attrs(job, "Requirements", {"requirements"})
        out.append(f"Job {rid} defines the following attributes:\n\n" + attrs)
        # HTCondor counts the drained simulations it made among the slots here
        if slots.single_machine or len(slots) + len(overlays) == 1:
            for t in targets:
                text = target_attrs(trefs, job, t)
                if text:
                    when = " when drained" if id(t) in overlays else ""
                    out.append(f"\n{_target_name(t)} has the following attributes{when}:\n\n" + text)
        out.append("\n")
    if each:
        table = requirements_table(job, "Requirements", targets, "Slot", details=details, overlays=overlays)
        out.append(f"The Requirements expression for job {rid} reduces to these conditions:\n\n" + table)
    universe = _int_attr(job, "JobUniverse", 1)
    if universe in (_JAVA, _VANILLA, _PARALLEL, _VM):
        pass
    elif universe == _GRID:
        if "$$" not in (_lookup_str(job, "GridResource") or ""):
            out.append("\nWARNING: Analysis is only meaningful for Grid universe jobs using matchmaking.\n")
    elif universe == _MPI:
        out.append("\nWARNING: Analysis is meaningless for MPI universe jobs.\n")
    elif universe in (_SCHEDULER, _LOCAL):
        out.append("\nWARNING: Analysis is not complete for Scheduler or Local universe jobs.\n")
    else:
        out.append("\nWARNING: Job universe unknown.  Analysis may not be meaningful.\n")
    return "".join(out)


def job_analysis(job: C.ClassAd, slots: SlotSet, details: int = 0, verbose: bool = False,
                 schedd_ad: Optional[C.ClassAd] = None, width: int = 80,
                 prios: Optional[UserPrios] = None) -> str:
    """One job's ``-analyze`` / ``-better-analyze`` report (jobmatch.cpp printJobRunAnalysis).

    With ``DETAIL_ALWAYS_ANALYZE_REQ`` (``-better-analyze``) the Requirements analysis is
    always shown; otherwise (``-analyze``) only when some slot rejects the job's
    Requirements.  Then the run analysis summary (considering user priority with
    ``prios``) and the job's state."""
    always = bool(details & DETAIL_ALWAYS_ANALYZE_REQ)
    mode = slots.match_mode()
    ac, status, needed, targets, overlays = run_analysis(job, slots, mode, schedd_ad, prios)
    out = []
    if needed or always:
        if needed and not always:
            details |= DETAIL_EACH_SUB_EXPR
        out.append(job_match_analysis(job, slots, targets, overlays, details, mode, width) + "\n")
    if ac.total_slots > 0:
        out.append(match_totals(job, ac, verbose))
    out.append("\n" + basic_status(job, status))
    return "".join(out)


# --------------------------------------------------------------------------- slot-side analysis

def autoclusters(jobs: list) -> list[tuple[int, list]]:
    """Jobs grouped by ``AutoClusterId`` (-1: none), in id order (buildJobClusterMap)."""
    groups: dict = {}
    for job in jobs:
        acid = _lookup_int(job, "AutoClusterId")
        groups.setdefault(-1 if acid is None else acid, []).append(job)
    return sorted(groups.items())


def _slot_name_width(slots: SlotSet) -> int:
    return max(slots.longest_machine + 7, slots.longest_name, 16)


def slot_analysis(slot: C.ClassAd, clusters: list, details: int, tabular: bool,
                  width: int = 80, name_width: int = 16) -> str:
    """One slot's reverse analysis: its Requirements (with START and WithinResourceLimits
    expanded) against the jobs (jobmatch.cpp doSlotRunAnalysisToBuffer).  ``clusters`` is
    :func:`autoclusters` output; with ``tabular`` one summary row is returned."""
    name = _lookup_str(slot, "Name") or ""
    if _lookup_bool(slot, "Offline"):
        return "%-24.24s  is offline\n" % name
    slot_type = "Stat"
    is_pslot = False
    if _lookup_bool(slot, "DynamicSlot"):
        slot_type = "Dyn"
    elif _lookup_bool(slot, "PartitionableSlot"):
        slot_type, is_pslot = "Part", True
    total = unique = req = off = both = d_req = d_off = d_both = 0
    overlay = None
    jobs = []
    for acid, members in clusters:
        to_eval = members if acid == -1 else members[:1]
        weight = 1 if acid == -1 else len(members)
        total += len(members)
        for job in to_eval:
            jobs.append(job)
            unique += 1
            offer_match = constraint_match(slot, job)
            if offer_match:
                off += weight
            elif is_pslot and overlay is None and "WithinResourceLimits" in slot:
                v = slot._eval_attr_value("WithinResourceLimits", job)
                if (type(v) is bool or type(v) in (int, float)) and not _truthy(v):
                    overlay = drained_overlay(slot)
            if constraint_match(job, slot):
                req += weight
                if offer_match:
                    both += weight
            if overlay is not None:
                o_match = constraint_match(overlay, job)
                if o_match:
                    d_off += weight
                if constraint_match(job, overlay):
                    d_req += weight
                    if o_match:
                        d_both += weight
    pct = (100.0 * both / total) if total else 0.0
    if tabular or details <= 0:
        return ("%-*.*s %-4s %12d %12d %10.2f\n"
                % (name_width, name_width, name, slot_type, off, req, pct))

    out = [f"\n-- Slot: {name} : Analyzing matches for {total} Jobs in {unique} autoclusters\n"]
    if "Requirements" in slot:
        inline = {"requirements"}
        pretty = pretty_print(repr(slot.lookup("Requirements")), 4, width)
        for attr in ("START", "WithinResourceLimits"):
            if attr in slot:
                pretty += f"\n\n  {attr} is\n    " + pretty_print(repr(slot.lookup(attr)), 4, width)
                inline.add(attr.lower())
        out.append("\nThe Requirements expression for this slot is\n\n    " + pretty + "\n\n")
        out.append(numbered_clauses(slot, "Requirements", frozenset(inline), details) + "\n")
        if not details & DETAIL_DONT_SHOW_JOB_ATTRS:
            attrs, trefs = referenced_attrs(slot, "Requirements", inline)
            out.append("This slot defines the following attributes:\n\n" + attrs)
            if overlay is not None:
                drained, _ = referenced_attrs(overlay, "Requirements", inline, raw=False)
                out.append("When drained, this slot has the following attributes:\n\n" + drained)
            if len(jobs) == 1:
                text = target_attrs(trefs, slot, jobs[0])
                if text:
                    out.append(f"\n{_target_name(jobs[0])} has the following attributes:\n\n" + text)
            out.append("\nThe Requirements expression for this slot reduces to these conditions:\n\n")
    out.append(requirements_table(slot, "Requirements", jobs, "Cluster",
                                  frozenset({"start", "withinresourcelimits"}), details))
    out.append(f"\n{name}: Run analysis summary of {total} jobs.\n"
               "%5d (%.2f %%) match both slot and job requirements.\n"
               "%5d match the requirements of this slot.\n"
               "%5d have job requirements that match this slot.\n" % (both, pct, off, req))
    if overlay is not None:
        out.append("%5d would match both slot and job requirments if the slot was drained.\n"
                   "%5d would match the requirements of this slot when drained.\n"
                   "%5d would have job requirements that match this slot when drained\n"
                   % (d_both, d_off, d_req))
    return "".join(out)


# --------------------------------------------------------------------------- whole reports

def parse_detail(text: str, current: int) -> int:
    """Numeric ``-analyze:<N>[,+<M>]`` detail flags (queue.cpp parse_analyze_detail)."""
    details = flg = 0
    for ch in text:
        if ch.isdigit():
            flg = flg * 10 + int(ch)
        elif ch in ",+":
            details |= flg
            flg = 0
    if not (details | flg):
        return 0
    return current | details | flg


def _job_summary_rows(jobs: list, slots: SlotSet) -> str:
    """``-analyze:summary`` rows, one per autocluster (queue.cpp print_jobs_analysis)."""
    out = []
    for acid, members in autoclusters(jobs):
        to_eval = members if acid == -1 else members[:1]
        to_inc = [None] if acid == -1 else members
        for job in to_eval:
            c, p = _jid(job)
            group = [job] if acid == -1 else to_inc
            idle = sum(1 for j in group if _int_attr(j, "JobStatus") == 1)
            running = sum(1 for j in group if _int_attr(j, "JobStatus") in (2, 6, 7))
            members_text = f"{len(group)}/{idle}" if acid >= 0 else ""
            ac, _status, _needed, _t, _o = run_analysis(job, slots, MATCH_ALWAYS)
            run_text = (f"{running}/" if running else "") + str(ac.running_your_jobs)
            out.append("%-13s %-12s %12d %11d %11s %10d %9d %s\n"
                       % (f"{c}.{p}", members_text, ac.total_slots - ac.req_constraint, ac.off_constraint,
                          run_text, ac.running_jobs - ac.running_your_jobs, ac.available_now, ""))
    return "".join(out)


def jobs_report(jobs: list, slots: SlotSet, label: str, details: int = 0, reverse: bool = False,
                summary: bool = False, verbose: bool = False,
                schedd_ad: Optional[C.ClassAd] = None, width: Optional[int] = None,
                prios: Optional[UserPrios] = None) -> str:
    """The whole analysis text for one schedd's ``jobs`` (queue.cpp print_jobs_analysis):
    the ``-- <label>`` banner, then per job (default), per slot (``reverse``) or one summary
    table (``summary``).  ``details`` holds the DETAIL_* bits the options set
    (``-better-analyze``: DETAIL_BETTER | DETAIL_EACH_SUB_EXPR | DETAIL_ALWAYS_ANALYZE_REQ)."""
    width = _console_width() if width is None else width
    jobs = sorted(jobs, key=_jid)
    out = [f"\n\n-- {label}\n"]
    if reverse:
        if len(slots) == 1 and not details:
            details = DETAIL_EACH_SUB_EXPR
        if not len(slots):
            return "".join(out)
        tabular = summary or details <= 0
        clusters = autoclusters(jobs)
        name_width = _slot_name_width(slots)
        if tabular:
            if len(jobs) <= 1:
                out += ["%d.%d: Analyzing matches for 1 job\n" % _jid(j) for j in jobs]
            else:
                out.append(f"Analyzing matches for {len(jobs)} jobs\n")
            fmt = "%-*.*s %4s %12.12s %12.12s %10.10s\n"
            for row in (("", "Slot", "Slot's Req ", "  Job's Req ", "Both   "),
                        ("Name", "Type", "Matches Job", "Matches Slot", "Match %"),
                        ("------------------------", "----", "------------", "------------", "----------")):
                out.append(fmt % ((name_width, name_width) + row))
        for slot in slots.slots:
            out.append(slot_analysis(slot.ad, clusters, details, tabular, width, name_width))
        return "".join(out)
    if details & DETAIL_BETTER:
        details |= DETAIL_EACH_SUB_EXPR | DETAIL_ALWAYS_ANALYZE_REQ
    if summary:
        if slots.single_machine:
            out.append(f"{slots.single_machine}: Analyzing matches for {len(slots)} slots\n")
        else:
            out.append(f"Analyzing matches for {len(slots)} slots\n")
        fmt = "%-13s %12s %12s %11s %11s %10s %9s %s\n"
        out.append(fmt % ("", " Autocluster", "   Matches  ", "  Machine  ", "  Running  ", "  Serving ", "", ""))
        out.append(fmt % (" JobId", "Members/Idle", "Requirements", "Rejects Job", " Users Job ",
                          "Other User", "Available", ""))
        out.append(fmt % ("-------------", "------------", "------------", "-----------", "-----------",
                          "----------", "---------", ""))
        out.append(_job_summary_rows(jobs, slots))
        return "".join(out)
    for job in jobs:
        out.append(job_analysis(job, slots, details, verbose, schedd_ad, width, prios))
    return "".join(out)


# --------------------------------------------------------------------------- condor_q options

class AnalysisOptions:
    """condor_q's analysis options (queue.cpp processCommandLineArguments):
    ``-analyze[:q,..]``/``-analyse``, ``-better-analyze[:q,..]``/``-better-analyse`` with
    qualifiers ``summary``, ``reverse``, ``noprune`` and numeric detail flags;
    ``-reverse-analyze`` (``-reverse``); ``-machine NAME``; ``-mconstraint EXPR``
    (``-slotconstraint``); ``-slotads FILE``; ``-verbose``; user priorities with the
    ``priority`` qualifier or ``-userprios FILE``, off again with ``-nouserprios`` (and
    with the ``summary`` and ``reverse`` qualifiers and ``-reverse-analyze``).

    :meth:`take` consumes one of them from argv; :meth:`load_slots` fetches the slot ads
    (collector, or ``-slotads``); :meth:`report` renders one schedd's jobs."""

    def __init__(self):
        self.enabled = False
        self.details = 0
        self.reverse = False
        self.summary = False
        self.verbose = False
        self.machine: Optional[str] = None
        self.constraint: Optional[str] = None
        self.slotads: Optional[str] = None
        self.slots: Optional[SlotSet] = None
        self.with_userprio = False
        self.userprios_file: Optional[str] = None
        self.prios: Optional[UserPrios] = None
        self._pool: Optional[str] = None
        self._config = None

    def take(self, argv: list, i: int) -> int:
        """If ``argv[i]`` is an analysis option, apply it and return how many following
        arguments it used (0 or 1); else -1.  Raises UsageError for bad use."""
        from pyhtc.tools.common import UsageError, is_dash_arg_colon_prefix, is_dash_arg_prefix
        a = argv[i]

        def value(what):
            if i + 1 >= len(argv):
                raise UsageError(f"Error: {a} requires {what}")
            return argv[i + 1]

        for word in ("better-analyze", "better-analyse", "analyze", "analyse"):
            hit, quals = is_dash_arg_colon_prefix(a, word, 2)
            if hit:
                self.enabled = True
                if word.startswith("b"):
                    self.details |= DETAIL_BETTER | DETAIL_EACH_SUB_EXPR | DETAIL_ALWAYS_ANALYZE_REQ
                for q in (quals or "").replace(":", ",").split(","):
                    self._qualifier(q, a)
                return 0
        hit, quals = is_dash_arg_colon_prefix(a, "reverse-analyze", 3)
        if hit:
            self.enabled = self.reverse = True
            self.with_userprio = False
            if quals:
                self.details |= parse_detail(quals, self.details)
            return 0
        if is_dash_arg_prefix(a, "slotconstraint", 5) or is_dash_arg_prefix(a, "mconstraint", 2):
            expr = value("another parameter")
            try:
                C.ExprTree(expr)
            except Exception:
                raise UsageError(f"Error: {a} {expr} is not a valid expression") from None
            self.constraint = expr
            return 1
        if is_dash_arg_prefix(a, "machine", 2):
            self.machine = value("another parameter")
            return 1
        if is_dash_arg_colon_prefix(a, "slotads", 1)[0]:
            self.slotads = value("a filename")
            return 1
        if is_dash_arg_prefix(a, "verbose", 4):
            self.verbose = True
            return 0
        if is_dash_arg_colon_prefix(a, "userprios", 5)[0]:
            if i + 1 >= len(argv):
                raise UsageError("Error: -userprios requires a filename argument")
            self.userprios_file = argv[i + 1]
            self.with_userprio = True
            return 1
        if is_dash_arg_colon_prefix(a, "nouserprios", 7)[0]:
            self.with_userprio = False
            return 0
        return -1

    def _qualifier(self, q: str, arg: str) -> None:
        from pyhtc.tools.common import UsageError
        from pyhtc.tools.common import is_dash_arg_prefix as _p

        def prefix(word, n):
            return _p("-" + q, word, n)
        if not q:
            return
        if prefix("summary", 1):
            self.summary = True
            self.with_userprio = False
        elif prefix("reverse", 1):
            self.reverse = True
            self.with_userprio = False
        elif prefix("noprune", 3):
            self.details |= DETAIL_SHOW_ALL_SUBEXPRS
        elif prefix("ifthenelse", 2):
            self.details |= DETAIL_SHOW_IFTHENELSE
        elif prefix("slot-exprs", 4):
            self.details |= DETAIL_INLINE_STD_SLOT_EXPRS
        elif prefix("priority", 2):
            self.with_userprio = True
        elif q[0].isdigit():
            self.details = parse_detail(q, self.details)
        else:
            raise UsageError(f"Error: {arg}: unknown analysis qualifier '{q}' (expected summary, "
                             "reverse, noprune, ifthenelse, slot-exprs or a number)")

    def load_slots(self, pool: Optional[str], config) -> None:
        """Fetch the slot ads: from ``-slotads`` (any ClassAd file format, filtered by the
        constraint) or from the collector (queue.cpp setupAnalysis).  Raises OSError or
        ValueError (file) and the client's errors (collector) with the cause."""
        self._pool, self._config = pool, config
        constraint, single, exclude_dynamic = slot_constraint(self.constraint, self.machine)
        if self.slotads is not None:
            with open(self.slotads, encoding="utf-8", errors="replace") as f:
                text = f.read()
            try:
                ads = list(C.parseAds(text))
            except Exception as exc:
                raise ValueError(f"not a ClassAd file: {exc}") from None
            if not ads and text.strip():
                raise ValueError("no ClassAd could be parsed from it")
            if constraint:
                expr = C.ExprTree(constraint)
                ads = [ad for ad in ads if _truthy(_value_of(expr, ad))]
        else:
            from pyhtc.client import CollectorClient
            if exclude_dynamic:
                constraint = "!(DynamicSlot?:false)" if not constraint else f"({constraint}) && (!(DynamicSlot?:false))"
            ads = CollectorClient(pool, config).query("Startd", constraint)
        self.slots = SlotSet(ads, single)

    def load_userprios(self, pool: Optional[str], config) -> None:
        """With user priorities asked for (``priority`` qualifier or ``-userprios``): read
        them from the file, else ask the negotiator (GET_PRIORITY), and put each running
        slot's ``RemoteUserPrio`` in its ad (setupUserpriosForAnalysis).  Raises OSError
        (file) and the client's errors (negotiator)."""
        if not (self.with_userprio or self.userprios_file):
            return
        uid_domain = (config.param("UID_DOMAIN") if config is not None else None) or ""
        preq = (config.param("PREEMPTION_REQUIREMENTS") if config is not None else None) or "False"
        try:
            preq_expr = C.ExprTree(preq)
        except Exception:
            raise ValueError("Error:  Failed parse of PREEMPTION_REQUIREMENTS expression: \n\t"
                             + preq) from None
        if self.userprios_file is not None:
            from pyhtc.tools.analyze_prio import read_userprio_file
            prios = UserPrios(read_userprio_file(self.userprios_file), uid_domain, preq_expr)
        else:
            from pyhtc.tools.userprio import fetch_records
            prios = UserPrios.from_records(fetch_records(config, pool=pool),
                                           uid_domain=uid_domain, preemption_requirements=preq_expr)
        prios.annotate_slots(s.ad for s in (self.slots.slots if self.slots else []))
        self.prios = prios

    def report(self, jobs: list, label: str, schedd_name: Optional[str] = None) -> str:
        """The analysis text for ``jobs`` (job ClassAds) under the banner ``-- label``.
        Scheduler and local universe jobs are matched against the schedd's own ad (its
        ``StartSchedulerUniverse``/``StartLocalUniverse``), looked up in the collector by
        ``schedd_name`` when such a job is present."""
        schedd_ad = None
        if schedd_name and any(_int_attr(j, "JobUniverse") in (_SCHEDULER, _LOCAL) for j in jobs):
            schedd_ad = self._schedd_ad(schedd_name)
        return jobs_report(jobs, self.slots or SlotSet([]), label, self.details, self.reverse,
                           self.summary, self.verbose, schedd_ad,
                           prios=self.prios if self.with_userprio else None)

    def _schedd_ad(self, name: str) -> Optional[C.ClassAd]:
        """The schedd's ad from the collector, or None when it cannot be had (the analysis
        then says a schedd ad is needed, as HTCondor does)."""
        try:
            from pyhtc.client import CollectorClient
            return CollectorClient(self._pool, self._config).locate("schedd", name)
        except Exception:
            return None


def _value_of(expr: C.ExprTree, ad: C.ClassAd):
    try:
        return evaluate_node(expr._node, ad, None)
    except ClassAdException:
        return None


def setup_slots(analysis: AnalysisOptions, pool: Optional[str], config) -> Optional[str]:
    """Load the slot ads for condor_q; returns None, or the error text to print (exit 1):
    ``Error:  Could not fetch startd ads`` with the cause, as queue.cpp does."""
    try:
        analysis.load_slots(pool, config)
    except (OSError, ValueError) as exc:
        if analysis.slotads is not None:
            return f"Error: cannot read slot ads from {analysis.slotads}: {exc}\n"
        return f"Error:  Could not fetch startd ads\n{exc}\n"
    except Exception as exc:  # collector location, security and protocol failures
        return f"Error:  Could not fetch startd ads\n{exc}\n"
    try:
        analysis.load_userprios(pool, config)
    except ValueError as exc:
        return f"{exc}\n"
    except OSError as exc:
        if analysis.userprios_file is not None:
            return f"Can't open file of user priorities: {analysis.userprios_file} ({exc.strerror or exc})\n"
        return f"Error:  Could not get priorities from the negotiator\n{exc}\n"
    except Exception as exc:  # negotiator location, security and protocol failures
        return f"Error: Could not connect to negotiator\n{exc}\n"
    return None


def schedd_label(name: str, addr: str) -> str:
    """``Schedd: NAME : <addr>`` (queue.cpp source_label; the address shortened as
    summarize_sinful_for_display does, no time stamp)."""
    if "?" in addr:
        addr = addr[:addr.index("?")] + "?..."
    return f"Schedd: {name} : {addr}"
