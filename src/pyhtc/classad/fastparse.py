"""Fast path for parsing a complete new-syntax expression (grammar: src/classad/source.cpp).

:func:`fast_parse` builds exactly the tree :func:`pyhtc.classad.parser.parse_whole` builds,
but tokenizes with one C-level ``re.split`` (token texts only, no positions) and parses
from a reversed token stack with plain functions. It never reports errors: on anything it
does not accept — a lexical or syntax error, a comment, an unknown character, nesting too
deep for Python — it returns ``None`` and the caller runs the full parser, which raises
:class:`~pyhtc.classad.errors.ClassAdParseError` with the exact line, column and offset.

Token rules follow src/classad/lexer.cpp as the full lexer (lexer.py) applies them:

* ``-`` written right before a number is kept in the token (``"-5"``): as an operand it is
  the negative literal (lexer.cpp tokenizeNumber), as an infix operator it is split back
  into ``-`` and the number;
* a number directly followed by a letter, digit, ``_`` or ``.`` (``1.x``, ``0x1F``,
  ``012``) is not accepted here (the full lexer reports it);
* ``//`` and ``/*`` are not accepted here (no line comments; comments take the full path);
* ``a.b.c`` (names joined by dots, no blanks) is one token, the attribute reference chain;
* ``(a op b)`` — two plain operands and one binary operator in parentheses — is one
  compound token (fewer regex matches and parser steps for Requirements-style texts);
* any other text no token matches makes the whole text go to the full parser.
"""
from __future__ import annotations

import re

from .lexer import decode_escapes
from .nodes import (AttrRef, Binary, Call, Elvis, ListExpr, Literal, Logical, Paren,
                    RecordExpr, RelTimeLiteral, Subscript, Ternary, Unary)
from .timefmt import parse_abstime, parse_reltime
from .values import ERROR, UNDEFINED

__all__ = ["fast_parse", "simple_node", "CONST_NODES"]

_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -_INT64_MAX - 1

_NUM = (r"(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
        r"|[0-9]+[eE][+-]?[0-9]+|0|[1-9][0-9]*)(?![\w.])")
# A parenthesized comparison of two plain operands, ``(TARGET.Disk >= RequestDisk)``, the
# commonest piece of a Requirements expression, is cut as one compound token (its three
# parts are read back by _PAREN); operands: a name or name chain, a decimal integer, a
# string without escapes.
_LEAF_RE = (r'(?:[A-Za-z_][A-Za-z0-9_]*+(?:\.[A-Za-z_][A-Za-z0-9_]*+)*+'
            r'|(?:0|[1-9][0-9]*+)(?![\w.])|"[^"\\]*+")')
_OP_RE = r'(?:==|!=|=\?=|=!=|<=|>=|<<|>>>|>>|&&|\|\||[<>+*%|^&/-]|(?i:isnt|is)(?!\w))'
_PAREN_RE = (r'\([ \t\n\r\f\v]*+%s[ \t\n\r\f\v]*+(?!/[/*])%s[ \t\n\r\f\v]*+%s[ \t\n\r\f\v]*+\)'
             % (_LEAF_RE, _OP_RE, _LEAF_RE))
_PAREN = re.compile(r'\([ \t\n\r\f\v]*+(%s)[ \t\n\r\f\v]*+(%s)[ \t\n\r\f\v]*+(%s)'
                    % (_LEAF_RE, _OP_RE, _LEAF_RE), re.A)

# One group around the token: ``split`` gives [gap, token, gap, token, ..., gap]; a gap that
# is not empty is text no token matches (an error, or a form left to the full parser).
# Alternatives are ordered so the commonest tokens fail the fewest branches: single-character
# operators that never start a longer token, then operators of one to three characters
# (``>`` ``>=`` ``>>`` ``>>>``, ``=`` ``==`` ``=?=`` ``=!=``, ...; the lookbehinds pick which
# second character may follow the first).
_TOKEN = re.compile(r"""[ \t\n\r\f\v]*+(
   %s
  |[A-Za-z_][A-Za-z0-9_]*+(?:\.[A-Za-z_][A-Za-z0-9_]*+)*+
  |[()\[\]{},;+*%%^~]
  |[<>=!&|?:](?:(?<=>)>>?|(?<=[<>=!])=|(?<=<)<|(?<==)[?!]=|(?<=&)&|(?<=\|)\||(?<=\?):)?
  |"[^"\\]*+(?:\\.[^"\\]*+)*+"
  |-?%s
  |'[^'\\]*+(?:\\.[^'\\]*+)*+'
  |[-.]
  |/(?![/*]))""" % (_PAREN_RE, _NUM), re.X | re.S | re.A)
_BLANKS = " \t\n\r\f\v"

# binding powers of infix operators (parser.py _BP)
_BP = {
    "?": 1,
    "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6,
    "==": 7, "!=": 7, "=?=": 7, "=!=": 7,
    "<": 8, "<=": 8, ">": 8, ">=": 8,
    "<<": 9, ">>": 9, ">>>": 9,
    "+": 10, "-": 10, "*": 11, "/": 11, "%": 11,
    ".": 13, "[": 13, "?:": 13,
    # tokens that end an operand (binding power 0: never taken as an infix operator)
    ")": 0, "]": 0, "}": 0, ",": 0, ";": 0, ":": 0, "=": 0, "": 0,
}
_SPECIAL_INFIX = frozenset((".", "[", "?:", "?", "&&", "||"))
# infix operators whose operands are plain expressions on both sides
_BINARY_OPS = frozenset(op for op, bp in _BP.items() if bp > 1 and op not in _SPECIAL_INFIX
                        ) | {"&&", "||"}
_UNARY_BP = 12
_KW_VALUES = {"true": True, "false": False, "undefined": UNDEFINED, "error": ERROR}
_RESERVED = {"true", "false", "undefined", "error", "is", "isnt"}


def _case_variants(word: str) -> list:
    out = [""]
    for ch in word:
        out = [p + c for p in out for c in {ch.lower(), ch.upper()}]
    return out


# every spelling of a reserved word (they are case-insensitive) -> its lower-case form: one
# dict lookup of a name token instead of lower() and a set test
_RESERVED_ANY = {v: w for w in _RESERVED for v in _case_variants(w)}
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NUM_START = frozenset("0123456789.")
_UNARY = frozenset(("-", "+", "!", "~"))


_REAL = re.compile(r"-?(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)\Z")
# The keyword literals are immutable, so one node of each serves every parse.
_KW_NODES = {k: Literal(v) for k, v in _KW_VALUES.items()}
# Exact texts of the commonest constant attribute values -> their (immutable, shared) nodes:
# a fixed table, like the keyword nodes above, not a cache of texts seen.
CONST_NODES = dict(_KW_NODES)
CONST_NODES.update({str(i): Literal(i) for i in range(10)})
CONST_NODES.update({"0.0": Literal(0.0), "1.0": Literal(1.0), '""': Literal("")})
# The scope names that start most attribute chains (``TARGET.Memory``, ``MY.Owner``), as
# written: one shared node each (nodes are immutable), a fixed table like the ones above.
_SCOPE_NODES = {n: AttrRef(n) for n in ("TARGET", "MY", "target", "my", "Target", "My")}


def simple_node(text: str):
    """The node for ``text`` when it is one plain literal or attribute name (most attribute
    values: ``5``, ``-1``, ``"str"`` without escapes, ``true``, ``Name``), else None.
    Same results as the full lexer (lexer.py): ASCII digits only, no leading zero, integers
    beyond 64 bits read as 0."""
    c = text[:1]
    if c == '"':
        if text.find('"', 1) == len(text) - 1 and "\\" not in text:
            return Literal(text[1:-1])
        return None
    if not text.isascii():
        return None
    if text.isidentifier():
        low = text.lower()
        if low in _RESERVED:
            return _KW_NODES.get(low)  # None for is/isnt (the full parser reports them)
        return AttrRef(text)
    if text.isdigit():
        if c != "0" or len(text) == 1:
            v = int(text)
            return Literal(0 if v > _INT64_MAX else v)
        return None
    if c == "-":
        n = text[1:]
        if n.isdigit() and (n[0] != "0" or len(n) == 1):
            v = -int(n)
            return Literal(0 if v < _INT64_MIN else v)
    if _REAL.match(text):
        return Literal(float(text))
    return None


class _Reject(Exception):
    """The fast path does not take this text (the full parser decides)."""


def fast_parse(text: str):
    """The expression node for the whole of ``text``, or None when the full parser must
    handle it (errors, comments, rare forms). Never raises for any input."""
    parts = _TOKEN.split(text.rstrip(_BLANKS))
    if any(parts[::2]):
        return None
    toks = parts[-2::-2]  # the tokens, last first (a stack)
    toks.insert(0, "")  # end marker
    try:
        node = _expr(toks, 0)
    except (_Reject, RecursionError, IndexError):
        return None
    if len(toks) != 1:
        return None  # text after the expression
    return node


def _qname(t: str) -> str:
    v = decode_escapes(t[1:-1]) if len(t) > 1 and t[-1] == "'" else None
    if v is None:
        raise _Reject
    return v


def _string(t: str) -> str:
    # a lone '"' is an unterminated string (the token regex matches whole literals)
    v = decode_escapes(t[1:-1]) if len(t) > 1 else None
    if v is None:
        raise _Reject
    return v


def _leaf(t: str):
    """The node of a plain operand token (a name or name chain, a keyword literal, a
    decimal integer, a string without escapes), or None."""
    c = t[:1]
    if c in _NAME_START:
        if "." in t:
            return _chain(t)
        low = _RESERVED_ANY.get(t)
        if low is not None:
            return _KW_NODES.get(low)
        return AttrRef(t)
    if c == '"':
        if len(t) > 1 and "\\" not in t:
            return Literal(t[1:-1])
        return None
    if t.isdigit():
        v = int(t)
        return Literal(0 if v > _INT64_MAX else v)
    return None


def _arg(toks: list):
    """One function argument or list item (an expression ended by ',', ')' or '}')."""
    if _BP.get(toks[-2]) == 0:
        node = _leaf(toks[-1])
        if node is not None:
            toks.pop()
            return node
    return _expr(toks, 0)


def _expr(toks: list, min_bp: int, left=None):
    """An expression whose operators bind tighter than ``min_bp`` (Pratt); ``left``: its
    first operand when already parsed."""
    if left is None:
        left = _prefix(toks)
    bps = _BP
    while True:
        t = toks[-1]
        bp = bps.get(t)
        if bp is None:
            if t[:1] == "-" and len(t) > 1:
                bp = 10  # "a -5": binary minus, the number stays as the next operand
                if bp <= min_bp:
                    return left
                toks[-1] = t[1:]
                left = Binary("-", left, _expr(toks, 10))
                continue
            low = t.lower()
            if low == "is" or low == "isnt":
                if 7 <= min_bp:
                    return left
                toks.pop()
                left = Binary(low, left, _expr(toks, 7))
                continue
            return left
        if bp <= min_bp:
            return left
        toks.pop()
        if t not in _SPECIAL_INFIX:
            # shortcut: the right operand is one plain token followed by a weaker operator
            nbp = bps.get(toks[-2])
            if nbp is not None and nbp <= bp:
                right = _leaf(toks[-1])
                if right is not None:
                    toks.pop()
                    left = Binary(t, left, right)
                    continue
            left = Binary(t, left, _expr(toks, bp))
        elif t == "&&" or t == "||":
            right = _prefix(toks)
            nbp = bps.get(toks[-1])
            if nbp is None or nbp > bp:
                right = _expr(toks, bp, right)
            left = Logical(t, left, right)
        elif t == ".":
            if toks[-1] == ".":
                toks.pop()  # HTCondor accepts "a..b" as "a.b"
            nt = toks.pop()
            c = nt[:1]
            if c in _NAME_START:
                for name in nt.split("."):  # (a chain token "b.c" after the dot)
                    left = AttrRef(name, base=left)  # keywords too, as written
            elif c == "'":
                left = AttrRef(_qname(nt), base=left)
            else:
                raise _Reject
        elif t == "[":
            idx = _expr(toks, 0)
            if toks.pop() != "]":
                raise _Reject
            left = Subscript(left, idx)
        elif t == "?:":
            if toks[-1] in _UNARY:
                raise _Reject  # a unary operator cannot start the operand of '?:'
            left = Elvis(left, _expr(toks, _UNARY_BP))
        elif t == "?":
            if toks[-1] == ":":
                toks.pop()  # "a ? : b" is also the Elvis operator
                left = Elvis(left, _expr(toks, 0))
                continue
            then = _expr(toks, 0)
            if toks.pop() != ":":
                raise _Reject
            left = Ternary(left, then, _expr(toks, 0))


def _prefix(toks: list):
    t = toks.pop()
    if t[:1] == "(" and len(t) > 1:
        return Paren(_compound(toks, t))
    if t == "(":
        # shortcut for the common "(a op b)": two plain operands and one binary operator
        op = toks[-2]
        if op in _BINARY_OPS and len(toks) >= 4 and toks[-4] == ")":
            a = _leaf(toks[-1])
            if a is not None:
                b = _leaf(toks[-3])
                if b is not None:
                    del toks[-4:]
                    if op == "&&" or op == "||":
                        return Paren(Logical(op, a, b))
                    return Paren(Binary(op, a, b))
        inner = _expr(toks, 0)
        if toks.pop() != ")":
            raise _Reject
        return Paren(inner)
    c = t[:1]
    if c in _NAME_START:
        if "." in t:
            return _chain(t)
        low = _RESERVED_ANY.get(t)
        if low is not None:
            if low in _KW_NODES:
                return _KW_NODES[low]
            raise _Reject
        nt = toks[-1]
        if nt[:1] == "(":
            toks.pop()
            if len(nt) > 1:  # f(a op b): a compound token is the whole argument list
                return Call(t, (_compound(toks, nt),))
            return _call(toks, t)
        return AttrRef(t)
    if c in _NUM_START and t != ".":
        if t.isdigit():
            v = int(t)
            return Literal(0 if v > _INT64_MAX else v)
        return Literal(float(t))
    if c == '"':
        s = _string(t)
        while toks[-1][:1] == '"':  # adjacent string literals join
            s += _string(toks.pop())
        return Literal(s)
    if c == "-" and len(t) > 1:
        n = t[1:]
        if n.isdigit():
            v = -int(n)
            return Literal(0 if v < _INT64_MIN else v)
        return Literal(-float(n))
    if t in _UNARY:
        return Unary(t, _expr(toks, _UNARY_BP))
    if t == "{":
        return _list(toks)
    if t == "[":
        return RecordExpr(_record(toks))
    if c == "'":
        return AttrRef(_qname(t))
    if t == ".":
        if toks[-1] == ".":
            toks.pop()
        nt = toks.pop()
        c = nt[:1]
        if c in _NAME_START:
            names = nt.split(".")
            if names[0].lower() in _RESERVED:
                raise _Reject
            node = AttrRef(names[0], absolute=True)
            for name in names[1:]:
                node = AttrRef(name, base=node)
            return node
        if c == "'":
            return AttrRef(_qname(nt), absolute=True)
    raise _Reject


def _compound(toks: list, t: str):
    """The ``a op b`` node of a compound ``(a op b)`` token (popped already); an operand
    that is no plain leaf (the reserved words ``is``, ``isnt``) makes the fast path decline."""
    a, op, b = _PAREN.match(t).groups()
    left = _leaf(a)
    right = _leaf(b)
    if left is None or right is None:
        raise _Reject
    if op == "&&" or op == "||":
        return Logical(op, left, right)
    if op[0] in "iI":
        op = op.lower()  # the keyword operators is / isnt, in any case
    return Binary(op, left, right)


def _chain(t: str):
    """A ``a.b.c`` token: the attribute reference chain (names after a dot may be keywords,
    the first may be a keyword literal, as the full parser reads them)."""
    first, _, rest = t.partition(".")
    low = _RESERVED_ANY.get(first)
    if low is not None:
        if low not in _KW_NODES:
            raise _Reject
        node = _KW_NODES[low]
    else:
        node = _SCOPE_NODES.get(first) or AttrRef(first)
    if "." not in rest:
        return AttrRef(rest, node)
    for name in rest.split("."):
        node = AttrRef(name, base=node)
    return node


def _call(toks: list, name: str):
    args = []
    if toks[-1] == ")":
        toks.pop()
    else:
        while True:
            args.append(_arg(toks))
            t = toks.pop()
            if t == ",":
                continue
            if t != ")":
                raise _Reject
            break
    low = name.lower()
    if (low == "abstime" or low == "reltime") and len(args) == 1 \
            and type(args[0]) is Literal and type(args[0].value) is str:
        # literals.cpp: absTime("...")/relTime("...") become time literals at parse time
        s = args[0].value
        if low == "abstime":
            v = parse_abstime(s)
            if v is None:
                raise _Reject
            return Literal(v)
        r = parse_reltime(s)
        if r is None:
            raise _Reject
        return RelTimeLiteral(r)
    return Call(name, tuple(args))


def _list(toks: list):
    if toks[-1] == "}":
        toks.pop()
        return ListExpr(())
    items = []
    while True:
        items.append(_arg(toks))
        t = toks.pop()
        if t == ",":
            continue
        if t != "}":
            raise _Reject
        return ListExpr(tuple(items))


def _record(toks: list) -> dict:
    """After '[': ``name = expr`` separated by ';' (empty entries allowed), then ']'."""
    attrs: dict = {}
    while True:
        t = toks.pop()
        if t == "]":
            return attrs
        if t == ";":
            if not attrs and toks[-1] == "]":
                raise _Reject  # "empty attribute definition"
            continue
        c = t[:1]
        if c in _NAME_START:
            if t.lower() in _RESERVED:
                raise _Reject
            name = t
        elif c == "'":
            name = _qname(t)
        else:
            raise _Reject
        if toks.pop() != "=":
            raise _Reject
        node = _expr(toks, 0)
        low = name.lower()
        prev = attrs.get(low)
        attrs[low] = (prev[0] if prev else name, node)
        t = toks[-1]
        if t == ";":
            toks.pop()
        elif t != "]":
            raise _Reject
