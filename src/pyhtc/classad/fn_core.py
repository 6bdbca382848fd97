"""Built-ins intertwined with evaluation (HTCondor: src/classad/fnCall.cpp and
src/condor_utils/compat_classad.cpp): type predicates, ifThenElse, eval, unparse,
unresolved, debug, list functions (member, identicalMember, sum, avg, min, max, anyCompare,
allCompare, size), evalInEachContext, countMatches, absTime, relTime."""
from __future__ import annotations

from . import ops
from .ops import c_int32, make_reltime
from .errors import EvalFailure
from .functions import builtin
from .nodes import AttrRef, Ctx, ListExpr, Literal
from .timefmt import abstime_to_string, local_offset, reltime_to_string
from .unparse import unparse_value
from .values import ERROR, UNDEFINED, AbsTime, ListValue, RelTime, to_bytes

INT64_MIN = -(1 << 63)


def _is_ad(v) -> bool:
    return hasattr(v, "_attrs")


# ---------------------------------------------------------------- type predicates

def _pred(name, test):
    builtin(name, 1)(lambda ctx, v: test(v))


_pred("isUndefined", lambda v: v is UNDEFINED)
_pred("isError", lambda v: v is ERROR)
_pred("isString", lambda v: type(v) is str)
_pred("isInteger", lambda v: type(v) is int)
_pred("isReal", lambda v: type(v) is float)
_pred("isList", lambda v: type(v) is ListValue)
_pred("isClassAd", _is_ad)
_pred("isBoolean", lambda v: type(v) is bool)
_pred("isAbsTime", lambda v: type(v) is AbsTime)
_pred("isRelTime", lambda v: type(v) is RelTime)


# ---------------------------------------------------------------- control / meta

@builtin("ifThenElse", 3, lazy=True)
def _if_then_else(ctx, c, a, b):
    v = ops.to_bool(c.ev(ctx))
    if v is True:
        return a.ev(ctx)
    if v is False:
        return b.ev(ctx)
    return v


_if_then_else._core_if_then_else = True  # nodes.Call inlines it while it is registered

@builtin("eval", 1)
def _eval(ctx, s):
    # fnCall.cpp eval(): the argument converted to a string (as string() does) is parsed
    # and evaluated in the current scope; undefined/error are errors
    if s is UNDEFINED or s is ERROR:
        return ERROR
    t = type(s)
    if t is AbsTime:
        s = abstime_to_string(s)
    elif t is RelTime:
        s = reltime_to_string(s.secs)
    elif t is not str:
        s = unparse_value(s)
    from .parser import parse_expr
    from .errors import ClassAdParseError
    try:
        node = parse_expr(s)
    except ClassAdParseError:
        return ERROR
    return node.ev(ctx)


@builtin("debug", 1)
def _debug(ctx, v):
    return v


def _find_expr(ctx, node):
    """(ad, node) of the attribute an attribute-reference node refers to, or None."""
    if node.base is None:
        if node.absolute:
            start = ctx.get_root()
        else:
            start = ctx.scope
        ad = start
        while ad is not None:
            ent = ad._attrs.get(node.low)
            if ent is not None:
                return ad, ent
            ad = ad._parent
        if not node.absolute and ctx.target is not None and start is ctx.my:
            ent = ctx.target._attrs.get(node.low)
            if ent is not None:
                return ctx.target, ent
        return None
    base = node.base.ev(ctx)
    if not _is_ad(base):
        return None
    ad = base
    while ad is not None:
        ent = ad._attrs.get(node.low)
        if ent is not None:
            return ad, ent
        ad = ad._parent
    return None


@builtin("unparse", 1, lazy=True)
def _unparse(ctx, arg):
    # fnCall.cpp unparse(): the argument's own text is looked up as an attribute name in
    # the current ad only ("n.x" is the name "n.x", so it is never found)
    if type(arg) is not AttrRef:
        return ERROR
    from .printing import Pretty
    from .unparse import unparse_node
    scope = ctx.scope
    ent = scope._attrs.get(unparse_node(arg).lower()) if scope is not None else None
    if ent is None:
        return ""
    out: list = []
    ent[1].unparse(out, Pretty())
    return "".join(out)


@builtin("unresolved", 1, lazy=True)
def _unresolved(ctx, arg):
    if type(arg) is not AttrRef:
        return ERROR
    found = _find_expr(ctx, arg)
    if found is None:
        return UNDEFINED
    from .refs import references
    names = references(found[1][1], found[0], external=True)
    return ",".join(names)


# ---------------------------------------------------------------- lists

@builtin("size", 1)
def _size(ctx, v):
    t = type(v)
    if t is str:
        return len(to_bytes(v)) if not v.isascii() else len(v)
    if t is ListValue:
        return len(v)
    if _is_ad(v):
        return len(v._attrs)
    if v is UNDEFINED:
        return UNDEFINED
    return ERROR


def _literal_ok(v) -> bool:
    return type(v) is not ListValue and not _is_ad(v)


@builtin("member", 2)
def _member(ctx, x, lst):
    if lst is UNDEFINED or x is UNDEFINED:
        return UNDEFINED
    if x is ERROR or not _literal_ok(x):
        return ERROR
    if type(lst) is not ListValue:
        return ERROR
    for e in lst.values():
        if ops.eq(x, e) is True:
            return True
    return False


@builtin("identicalMember", 2)
def _identical_member(ctx, x, lst):
    if lst is UNDEFINED:
        return UNDEFINED
    if not _literal_ok(x):
        return ERROR
    if type(lst) is not ListValue:
        return ERROR
    for e in lst.values():
        if ops.identical(x, e) is True:
            return True
    return False


def _numbers(lst):
    """Numeric elements of a list (undefined skipped); None if some element is not numeric."""
    out = []
    for e in lst.values():
        t = type(e)
        if t is int or t is float:
            out.append(e)
        elif t is bool:
            out.append(int(e))
        elif e is UNDEFINED:
            continue
        else:
            return None
    return out


def _list_arg(lst):
    if lst is UNDEFINED:
        return UNDEFINED
    if type(lst) is not ListValue:
        return ERROR
    return None


@builtin("sum", 1)
def _sum(ctx, lst):
    bad = _list_arg(lst)
    if bad is not None:
        return bad
    nums = _numbers(lst)
    if nums is None:
        return ERROR
    total = 0
    for x in nums:
        total = ops.add(total, x)
    return total


@builtin("avg", 1)
def _avg(ctx, lst):
    bad = _list_arg(lst)
    if bad is not None:
        return bad
    nums = _numbers(lst)
    if nums is None:
        return ERROR
    if not nums:
        return 0
    total = 0
    for x in nums:
        total = ops.add(total, x)
    return ops.div(float(total), float(len(nums)))


def _extreme(lst, better):
    bad = _list_arg(lst)
    if bad is not None:
        return bad
    nums = _numbers(lst)
    if nums is None:
        return ERROR
    if not nums:
        return UNDEFINED
    best = nums[0]
    is_real = type(best) is float
    for x in nums[1:]:
        if type(x) is float:
            is_real = True
        if better(x, best):
            best = x
    return float(best) if is_real else best


@builtin("min", 1)
def _min(ctx, lst):
    return _extreme(lst, lambda a, b: a < b)


@builtin("max", 1)
def _max(ctx, lst):
    return _extreme(lst, lambda a, b: a > b)


_CMP_OPS = {"<": ops.lt, "<=": ops.le, "!=": ops.ne, "==": ops.eq, ">": ops.gt,
            ">=": ops.ge, "is": ops.meta_eq, "isnt": ops.meta_ne}


def _list_compare(need_all: bool, opname, lst, v):
    if opname is UNDEFINED:
        return UNDEFINED
    if type(opname) is not str or opname not in _CMP_OPS:
        return ERROR
    fn = _CMP_OPS[opname]
    if lst is UNDEFINED:
        return UNDEFINED
    if type(lst) is not ListValue:
        return ERROR
    for e in lst.values():
        r = fn(e, v)
        if type(r) is not bool:
            if r is UNDEFINED:
                return False
            return ERROR
        if r and not need_all:
            return True
        if not r and need_all:
            return False
    return need_all


@builtin("anyCompare", 3)
def _any_compare(ctx, op, lst, v):
    return _list_compare(False, op, lst, v)


@builtin("allCompare", 3)
def _all_compare(ctx, op, lst, v):
    return _list_compare(True, op, lst, v)


def _each_context(ctx, expr, ads, count: bool):
    # compat_classad.cpp evalInEachContext_func: an attribute reference stands for the
    # expression it names (when found); each element must be a record, in which the
    # expression is evaluated afresh (its own evaluation state).
    if type(expr) is AttrRef:
        found = _find_expr(ctx, expr)
        if found is not None:
            expr = found[1][1]
        elif expr.base is None and not expr.absolute and expr.low in ("my", "self") \
                and ctx.scope is not None:
            expr = Literal(ctx.scope)  # LookupInScope: MY/self name the current ad
    if type(ads) is ListExpr:
        elems = [ctx.eval_in(n, ctx.scope) for n in ads.items]
    else:
        lst = ads.ev(ctx)
        if lst is UNDEFINED:
            return 0 if count else UNDEFINED
        if type(lst) is not ListValue:
            return ERROR
        elems = lst.values()
    out = []
    n = 0
    for ad in elems:
        if _is_ad(ad):
            sub = Ctx(ad)
            try:
                v = expr.ev(sub)
            except RecursionError:
                v = ERROR
        else:
            v = UNDEFINED if ad is UNDEFINED else ERROR
        if count:
            t = type(v)
            if (t is bool and v) or ((t is int or t is float) and v != 0):
                n += 1
        else:
            out.append(v)
    return n if count else ListValue.of(out)


@builtin("evalInEachContext", 2, lazy=True)
def _eval_in_each(ctx, expr, ads):
    return _each_context(ctx, expr, ads, False)


@builtin("countMatches", 2, lazy=True)
def _count_matches(ctx, expr, ads):
    return _each_context(ctx, expr, ads, True)


# ---------------------------------------------------------------- times

@builtin("absTime", 0, 2)
def _abstime(ctx, *args):
    # fnCall.cpp convTime: numbers go through C int conversions; a runtime string argument
    # falls through to the absTime case and comes back unchanged (HTCondor quirk).
    if not args:
        now = int(ctx.now())
        return AbsTime(now, local_offset(now))
    v = args[0]
    off = None
    if len(args) == 2:
        o = args[1]
        to = type(o)
        if to is int or to is float:
            off = c_int32(o)
        elif to is RelTime:
            off = c_int32(o.secs)
        else:
            return ERROR
    if v is UNDEFINED:
        return UNDEFINED
    t = type(v)
    if t is int or t is float or t is RelTime:
        secs = c_int32(v.secs if t is RelTime else v)
        if off is None:
            off = local_offset(secs)
        if t is int and off == -1:
            # convTime: an offset of -1 means "illegal" and the evaluation fails
            raise EvalFailure("absTime(): illegal zone offset -1")
        return AbsTime(secs, off)
    if t is AbsTime or t is str:
        return v
    return ERROR


@builtin("relTime", 1, 2)
def _reltime(ctx, v, *extra):
    if extra:
        return ERROR  # fnCall.cpp convTime: a second argument is not allowed for relTime
    t = type(v)
    if v is UNDEFINED:
        return UNDEFINED
    if t is RelTime:
        return v
    if t is int or t is float:
        return make_reltime(v)
    if t is AbsTime:
        return make_reltime(v.secs)
    if t is str:
        return make_reltime(0)
    return ERROR
