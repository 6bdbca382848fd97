"""A small evaluator for the constant expressions configuration values may hold.

HTCondor evaluates numeric and boolean knobs, and the ``$INT()``, ``$REAL()``, ``$STRING()`` and
``$EVAL()`` macro functions, as ClassAd expressions over constants (manual: "Introduction to
Configuration": "configuration values that are expected to be numeric or boolean constants can
be any valid ClassAd expression of operators on constants"; source: string_is_long_param and
friends in src/condor_utils/condor_config.cpp).  The config layer must not depend on the ClassAd
package (it sits below it only by convention of what it needs), so this module implements the
constant subset: integer, real, string and boolean literals, ``undefined``, parentheses, unary
``- + !``, ``* / %``, ``+ -``, comparisons (``< <= > >= == != =?= =!= is isnt``), ``&& ||`` and
``?:``, list literals ``{a, b}`` and a few functions of constants (min, max, ifThenElse, int,
real, string, floor, ceiling, round, toLower, toUpper, strcat, size, substr, join, split).
Attribute references are not constants and raise ExprError.
"""
from __future__ import annotations

import math
import re

__all__ = ["ExprError", "UNDEFINED", "evaluate", "unparse_value"]


class ExprError(ValueError):
    """The text is not a constant expression this evaluator understands (or evaluates to error)."""


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<real>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)
    | (?P<int>0[xX][0-9a-fA-F]+|\d+)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
    | (?P<op>=\?=|=!=|==|!=|<=|>=|&&|\|\||[-+*/%<>!()?:{},])
    )""", re.VERBOSE)


def _tokenize(text: str, attrs_undefined: bool = False) -> list[tuple[str, object]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected character {text[pos:].strip()[:1]!r} at offset {pos}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "real":
            out.append(("num", float(val)))
        elif kind == "int":
            out.append(("num", int(val, 0)))
        elif kind == "str":
            out.append(("str", re.sub(r"\\(.)", lambda mm: {"n": "\n", "t": "\t"}.get(mm.group(1), mm.group(1)), val[1:-1])))
        elif kind == "name":
            low = val.lower()
            if low == "true":
                out.append(("lit", True))
            elif low == "false":
                out.append(("lit", False))
            elif low == "undefined":
                out.append(("lit", UNDEFINED))
            elif low in ("is", "isnt"):
                out.append(("op", "=?=" if low == "is" else "=!="))
            elif (low in _FUNCTIONS or low == "ifthenelse") and text[pos:].lstrip().startswith("("):
                out.append(("func", low))
            elif attrs_undefined and not text[pos:].lstrip().startswith("("):
                out.append(("lit", UNDEFINED))      # an attribute reference, with no ad to look in
            else:
                raise ExprError(f"{val!r} is not a constant")
        else:
            out.append(("op", val))
    return out


# binding power of binary operators (ClassAd precedence, lowest first)
_BINARY = {"||": 1, "&&": 2, "==": 4, "!=": 4, "=?=": 4, "=!=": 4,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expr(self, min_bp: int = 0):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                break
            if op == "?" and min_bp == 0:
                self.take()
                yes = self.expr(0)
                if self.take() != ("op", ":"):
                    raise ExprError("expected ':' in ?: expression")
                no = self.expr(0)
                left = ("?", left, yes, no)
                continue
            bp = _BINARY.get(op)
            if bp is None or bp <= min_bp:
                break
            self.take()
            left = (op, left, self.expr(bp))
        return left

    def unary(self):
        kind, val = self.take()
        if kind in ("num", "str", "lit"):
            return ("const", val)
        if kind == "op" and val in ("-", "+", "!"):
            return ("u" + val, self.unary())
        if kind == "op" and val == "(":
            inner = self.expr(0)
            if self.take() != ("op", ")"):
                raise ExprError("missing ')'")
            return inner
        if kind == "op" and val == "{":
            return ("list", self.items("}"))
        if kind == "func":
            self.take()                      # the '('
            return ("call", val, self.items(")"))
        raise ExprError(f"unexpected {val if val is not None else 'end of expression'!r}")


    def items(self, close: str) -> list:
        out = []
        if self.peek() == ("op", close):
            self.take()
            return out
        while True:
            out.append(self.expr(0))
            kind, val = self.take()
            if (kind, val) == ("op", close):
                return out
            if (kind, val) != ("op", ","):
                raise ExprError(f"expected ',' or '{close}'")


def _flatten(args: list) -> list:
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return args


def _to_str(v) -> str:
    if isinstance(v, str):
        return v
    return unparse_value(v)


def _round(v, how):
    v = _num(v)
    return int(how(v)) if isinstance(v, float) else v


_FUNCTIONS = {
    "min": lambda *a: min(_num(x) for x in _flatten(list(a))),
    "max": lambda *a: max(_num(x) for x in _flatten(list(a))),
    "int": lambda v: int(_num(v)) if not isinstance(v, bool) else int(v),
    "real": lambda v: float(_num(v)) if not isinstance(v, bool) else float(v),
    "string": _to_str,
    "floor": lambda v: _round(v, math.floor),
    "ceiling": lambda v: _round(v, math.ceil),
    "round": lambda v: _round(v, lambda x: math.floor(x + 0.5)),
    "tolower": lambda v: _to_str(v).lower(),
    "toupper": lambda v: _to_str(v).upper(),
    "strcat": lambda *a: "".join(_to_str(x) for x in a),
    "size": lambda v: len(v),
    "substr": lambda s, off, n=None: (_to_str(s)[off:] if n is None else
                                      _to_str(s)[off:][:n] if n >= 0 else _to_str(s)[off:][:n]),
    "join": lambda sep, *a: _to_str(sep).join(_to_str(x) for x in _flatten(list(a))),
    "split": lambda s, seps=" ,": [t for t in re.split("[" + re.escape(seps) + "]+", _to_str(s)) if t],
}


def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExprError(f"{unparse_value(v)} is not a number")
    return v


def _eval(node):
    op = node[0]
    if op == "const":
        return node[1]
    if op == "list":
        return [_eval(item) for item in node[1]]
    if op == "call":
        name = node[1]
        if name == "ifthenelse":
            if len(node[2]) != 3:
                raise ExprError("ifThenElse needs 3 arguments")
            return _eval(("?", node[2][0], node[2][1], node[2][2]))
        args = [_eval(arg) for arg in node[2]]
        try:
            return _FUNCTIONS[name](*args)
        except (TypeError, ValueError, IndexError) as exc:
            raise ExprError(f"{name}(): {exc}") from None
    if op == "u-":
        return -_num(_eval(node[1]))
    if op == "u+":
        return _num(_eval(node[1]))
    if op == "u!":
        v = _eval(node[1])
        if v is UNDEFINED:
            return UNDEFINED
        if not isinstance(v, bool):
            raise ExprError("! needs a boolean")
        return not v
    if op == "?":
        c = _eval(node[1])
        if c is UNDEFINED:
            return UNDEFINED
        if isinstance(c, (int, float)) and not isinstance(c, bool):
            c = c != 0
        if not isinstance(c, bool):
            raise ExprError("?: condition is not a boolean")
        return _eval(node[2]) if c else _eval(node[3])
    a = _eval(node[1])
    if op in ("&&", "||"):
        short = op == "||"
        if isinstance(a, bool) and a == short:
            return short
        b = _eval(node[2])
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        if not isinstance(a, bool) or not isinstance(b, bool):
            raise ExprError(f"{op} needs booleans")
        return (a or b) if short else (a and b)
    b = _eval(node[2])
    if op in ("=?=", "=!="):
        same = type(a) is type(b) and a == b
        return same if op == "=?=" else not same
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    if op in ("==", "!=", "<", "<=", ">", ">="):
        if isinstance(a, str) and isinstance(b, str):
            a, b = a.lower(), b.lower()
        elif isinstance(a, bool) and isinstance(b, bool) and op in ("==", "!="):
            pass
        else:
            a, b = _num(a), _num(b)
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    a, b = _num(a), _num(b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise ExprError("division by zero")
        if isinstance(a, int) and isinstance(b, int):
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)   # C truncation
            return q if op == "/" else a - q * b
        return a / b if op == "/" else math.fmod(a, b)
    raise ExprError(f"unknown operator {op}")


def evaluate(text: str, attrs_undefined: bool = False):
    """Evaluate a constant ClassAd expression.

    Returns int, float, bool, str, list or UNDEFINED.  Raises ExprError when the text is not a
    constant expression (syntax errors, unknown functions, attribute references unless
    ``attrs_undefined``, which evaluates them to UNDEFINED as an empty ClassAd would) or
    evaluates to error.
    """
    tokens = _tokenize(text, attrs_undefined)
    if not tokens:
        raise ExprError("empty expression")
    parser = _Parser(tokens)
    tree = parser.expr(0)
    if parser.i != len(tokens):
        raise ExprError(f"unexpected {parser.peek()[1]!r} after expression")
    return _eval(tree)


def unparse_value(value) -> str:
    """Print a value the way a ClassAd unparser prints a literal (strings quoted)."""
    if isinstance(value, list):
        return "{" + ", ".join(unparse_value(v) for v in value) + "}"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
