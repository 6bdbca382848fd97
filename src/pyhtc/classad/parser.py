"""Pratt parser for new-syntax ClassAd expressions (grammar: src/classad/source.cpp).

One binding-power table (SPEC-NOTES 2, lowest first): ``? :`` < ``||`` < ``&&`` < ``|`` <
``^`` < ``&`` < ``== != =?= =!= is isnt`` < ``< <= > >=`` < ``<< >> >>>`` < ``+ -`` <
``* / %`` < unary ``- + ! ~`` < postfix ``.name`` ``[i]`` and Elvis ``?:`` (which
HTCondor parses with the postfix operators, source.cpp). Binary operators are left
associative, ``?:`` right associative.

Entry points: :func:`parse_expr` (interned: each distinct text is parsed once),
:func:`parse_record` (``[ ... ]`` text -> (attrs, end offset)), :func:`parse_old_value`.
All raise :class:`~pyhtc.classad.errors.ClassAdParseError`.

Speed: ``ClassAd(text)`` first cuts the record at every ``; name =`` with one regex split
(``_split_pieces``; ads like earlier ones are instead cut at every ';' and each piece
looked up whole in a table of pieces), then falls back to ``_split_single`` (one regex
split that also takes quoted names and ';' in strings) and ``_split_record``; each distinct
value then goes through :func:`pyhtc.classad.fastparse.simple_node` (plain literals and
names), :func:`pyhtc.classad.fastparse.fast_parse` (other expressions), and only when those
decline through the :class:`Parser` below, which also produces every error with its
position. :func:`clear_caches` forgets the interned values and pieces.
"""
from __future__ import annotations

import re

from .errors import ClassAdParseError
from .fastparse import CONST_NODES, fast_parse, simple_node
from .lexer import tokenize
from .nodes import (AttrRef, Binary, Call, Elvis, ListExpr, Literal, Logical, Paren,
                    RecordExpr, RelTimeLiteral, Subscript, Ternary, Unary)
from .timefmt import parse_abstime, parse_reltime
from .values import ERROR, UNDEFINED

__all__ = ["parse_expr", "parse_record", "Parser", "intern_expr", "clear_caches"]

_INT64_MAX = (1 << 63) - 1

# binding powers of infix operators
_BP = {
    "?": 1,
    "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6,
    "==": 7, "!=": 7, "=?=": 7, "=!=": 7, "is": 7, "isnt": 7,
    "<": 8, "<=": 8, ">": 8, ">=": 8,
    "<<": 9, ">>": 9, ">>>": 9,
    "+": 10, "-": 10, "*": 11, "/": 11, "%": 11,
    ".": 13, "[": 13, "?:": 13,
}
_UNARY_BP = 12
_KW_VALUES = {"true": True, "false": False, "undefined": UNDEFINED, "error": ERROR}


class Parser:
    """Recursive-descent / Pratt parser over the token list of ``text``."""

    __slots__ = ("text", "toks", "i", "concat")

    def __init__(self, text: str, concat: bool = True):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.concat = concat  # adjacent string literals join (new syntax only)

    # -- helpers
    def error(self, reason: str, tok=None):
        if tok is None:
            tok = self.toks[self.i]
        if tok[0] == "err":
            raise ClassAdParseError(tok[1], self.text, tok[2])
        if tok[0] == "eof":
            reason += " (unexpected end of text)"
        raise ClassAdParseError(reason, self.text, tok[2])

    def peek(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        if t[0] == "err":
            raise ClassAdParseError(t[1], self.text, t[2])
        self.i += 1
        return t

    def expect(self, op: str):
        t = self.toks[self.i]
        if t[0] != "op" or t[1] != op:
            self.error(f"expected {op!r}")
        self.i += 1
        return t

    def at_op(self, op: str) -> bool:
        t = self.toks[self.i]
        return t[0] == "op" and t[1] == op

    # -- grammar
    def expression(self, min_bp: int = 0):
        left = self.prefix()
        toks = self.toks
        while True:
            t = toks[self.i]
            kind, val = t[0], t[1]
            if kind == "op" or (kind == "kw" and (val == "is" or val == "isnt")):
                bp = _BP.get(val)
            else:
                bp = None
            if bp is None or bp <= min_bp:
                return left
            self.i += 1
            if val == ".":
                if self.at_op("."):
                    self.i += 1  # HTCondor accepts "a..b" as "a.b"
                nt = self.next()
                if nt[0] in ("name", "qname"):
                    left = AttrRef(nt[1], base=left)
                elif nt[0] == "kw":
                    left = AttrRef(self.text[nt[2]:nt[3]], base=left)
                else:
                    self.error("expected an attribute name after '.'", nt)
            elif val == "[":
                idx = self.expression(0)
                self.expect("]")
                left = Subscript(left, idx)
            elif val == "?:":
                # source.cpp: Elvis is parsed with the postfix operators; its right operand
                # is a postfix expression ("a + b ?: c" is "a + (b ?: c)")
                t2 = self.peek()
                t3 = self.toks[self.i + 1] if t2[0] != "eof" else t2
                negnum = t2[1] == "-" and t3[0] in ("int", "real") and t3[2] == t2[3]
                if t2[0] == "op" and t2[1] in ("-", "+", "!", "~") and not negnum:
                    self.error("a unary operator cannot start the operand of '?:'", t2)
                right = self.expression(_UNARY_BP)
                left = Elvis(left, right)
            elif val == "?":
                if self.at_op(":"):
                    # "a ? : b" (with blanks) is also the Elvis operator
                    self.i += 1
                    left = Elvis(left, self.expression(0))
                    continue
                then = self.expression(0)
                self.expect(":")
                other = self.expression(0)
                left = Ternary(left, then, other)
            elif val == "&&" or val == "||":
                right = self.expression(bp)
                left = Logical(val, left, right)
            else:
                right = self.expression(bp)
                left = Binary(val, left, right)

    def prefix(self):
        t = self.next()
        kind, val = t[0], t[1]
        if kind == "int":
            return Literal(0 if val > _INT64_MAX else val)
        if kind == "real":
            return Literal(val)
        if kind == "str":
            s = val
            while self.concat and self.peek()[0] == "str":
                s += self.next()[1]
            return Literal(s)
        if kind == "kw":
            if val in _KW_VALUES:
                return Literal(_KW_VALUES[val])
            self.error(f"unexpected keyword {val!r}", t)
        if kind == "name":
            if self.at_op("("):
                self.i += 1
                return self.call(val)
            return AttrRef(val)
        if kind == "qname":
            return AttrRef(val)
        if kind == "op":
            if val in ("-", "+", "!", "~"):
                nt = self.peek()
                if val == "-" and nt[0] in ("int", "real") and nt[2] == t[3]:
                    # "-5" written together is a negative literal (lexer.cpp tokenizeNumber)
                    self.i += 1
                    if nt[0] == "int":
                        v = -nt[1]
                        return Literal(0 if v < -_INT64_MAX - 1 else v)
                    return Literal(-nt[1])
                operand = self.expression(_UNARY_BP)
                return Unary(val, operand)
            if val == "(":
                inner = self.expression(0)
                self.expect(")")
                return Paren(inner)
            if val == "{":
                return self.list_body()
            if val == "[":
                attrs = self.record_body()
                return RecordExpr(attrs)
            if val == ".":
                if self.at_op("."):
                    self.i += 1  # HTCondor accepts "a..b" as "a.b"
                nt = self.next()
                if nt[0] in ("name", "qname"):
                    return AttrRef(nt[1], absolute=True)
                self.error("expected an attribute name after '.'", nt)
        self.error("unexpected token", t)

    def call(self, name: str):
        args = []
        if self.at_op(")"):
            self.i += 1
        else:
            while True:
                args.append(self.expression(0))
                if self.at_op(","):
                    self.i += 1
                    continue
                self.expect(")")
                break
        low = name.lower()
        if (low == "abstime" or low == "reltime") and len(args) == 1 \
                and type(args[0]) is Literal and type(args[0].value) is str:
            # literals.cpp: absTime("...")/relTime("...") become time literals at parse time
            s = args[0].value
            tok = self.toks[self.i - 1]
            if low == "abstime":
                v = parse_abstime(s)
                if v is None:
                    raise ClassAdParseError(f"invalid absTime literal {s!r}", self.text, tok[2])
                return Literal(v)
            r = parse_reltime(s)
            if r is None:
                raise ClassAdParseError(f"invalid relTime literal {s!r}", self.text, tok[2])
            return RelTimeLiteral(r)
        return Call(name, tuple(args))

    def list_body(self):
        items = []
        if self.at_op("}"):
            self.i += 1
            return ListExpr(())
        while True:
            items.append(self.expression(0))
            if self.at_op(","):
                self.i += 1
                continue
            self.expect("}")
            return ListExpr(tuple(items))

    def record_body(self) -> dict:
        """After '[': ``name = expr`` separated by ';' (empty entries allowed), then ']'."""
        attrs: dict = {}
        while True:
            t = self.next()
            if t[0] == "op" and t[1] == "]":
                return attrs
            if t[0] == "op" and t[1] == ";":
                if not attrs and self.at_op("]"):
                    self.error("empty attribute definition", t)
                continue
            if t[0] in ("name", "qname"):
                name = t[1]
            elif t[0] == "kw":
                name = self.text[t[2]:t[3]]
                if t[1] in ("true", "false", "undefined", "error", "is", "isnt"):
                    self.error("reserved word used as attribute name", t)
            else:
                self.error("expected an attribute name", t)
            self.expect("=")
            node = self.expression(0)
            low = name.lower()
            prev = attrs.get(low)
            attrs[low] = (prev[0] if prev else name, node)
            t = self.peek()
            if t[0] == "op" and t[1] == ";":
                self.i += 1
                continue
            if t[0] == "op" and t[1] == "]":
                continue
            self.error("expected ';' or ']'")


def parse_whole(text: str):
    """Parse ``text`` as one complete expression (no trailing tokens)."""
    p = Parser(text)
    try:
        node = p.expression(0)
    except RecursionError:
        raise ClassAdParseError("expression nested too deeply", text, p.toks[p.i][2]) from None
    t = p.peek()
    if t[0] != "eof":
        p.error("unexpected text after the expression", t)
    return node


def parse_prefix(text: str, concat: bool = False):
    """The longest expression at the start of ``text``; what follows it is ignored (how
    HTCondor reads an old-syntax value: "A = 1 2" is 1). Raises ClassAdParseError."""
    p = Parser(text, concat)
    try:
        return p.expression(0)
    except RecursionError:
        raise ClassAdParseError("expression nested too deeply", text, p.toks[p.i][2]) from None


_INTERN: dict = {}
_INTERN_MAX = 200_000

def parse_expr(text: str):
    """The node for expression ``text``, parsed once per distinct text (interned)."""
    node = _INTERN.get(text)
    if node is None:
        node = simple_node(text)
        if node is None:
            node = fast_parse(text)
            if node is None:
                node = parse_whole(text)  # the full parser (exact error positions)
        if len(_INTERN) >= _INTERN_MAX:
            _INTERN.clear()
        _INTERN[text] = node
    return node


# Coarse chunks of a new-syntax ad: strings, quoted names, comments, brackets, separators,
# and runs of anything else.
_CHUNK = re.compile(r"""
   "(?:[^"\\]|\\.)*"
  |'(?:[^'\\]|\\.)*'
  |/\*.*?\*/
  |[\[\]{}();=]
  |[^"'\[\]{}();=/]+
  |/
""", re.X | re.S)
_RESERVED_NAMES = {"true", "false", "undefined", "error", "is", "isnt"}


# One attribute definition of a new-syntax ad, values allowed two levels of [ ] / { }
# nesting (deeper nesting or quoted names inside values go through the full parser).
_STR_RE = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_IN_RE = r"""(?:[^"'\[\]{}/]++|%s|/(?!\*))""" % _STR_RE
_L1_RE = r"""(?:\[%s*+\]|\{%s*+\})""" % (_IN_RE, _IN_RE)
_L2_RE = r"""(?:\[(?:%s|%s)*+\]|\{(?:%s|%s)*+\})""" % (_IN_RE, _L1_RE, _IN_RE, _L1_RE)
# (runs of plain characters, then any number of: a string, a '/', a bracketed part, a run)
_VAL_RE = r"""[^"'\[\]{};/]*+(?:(?:%s|/(?!\*)|%s)[^"'\[\]{};/]*+)*+""" % (_STR_RE, _L2_RE)
# (blanks as the lexer takes them: ASCII only, lexer.cpp uses isspace in the C locale)
_OPEN = re.compile(r"\s*\[\s*", re.A)
_CLOSE = re.compile(r"\s*\]", re.A)


_ATTR_ALL = re.compile(r"""(\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'([^'\\]+)')\s*=(?!=)(%s)((?:;\s*)*))"""
                       % _VAL_RE, re.A | re.S)


# The same definitions for re.split: [gap, name, value, gap, name, value, ..., rest]; a name
# is a plain name or a 'quoted' one (quotes kept); each value is followed by ';' (one or
# more) or by the closing ']', else the text there is left in a gap (the callers decline).
_ATTR_SPLIT = re.compile(r"""[ \t\n\r\f\v]*+([A-Za-z_]\w*+|'[^'\\]+')[ \t\n\r\f\v]*+=(?!=)"""
                         r"""[ \t\n\r\f\v]*+(%s)(?:;[; \t\n\r\f\v]*+|(?=\]))""" % _VAL_RE,
                         re.A | re.S)


# The separators of a plain ad for re.split: ``; name =`` (a plain name, not ``==``). The
# pattern starts with a literal ';', so the regex engine jumps from one ';' to the next
# instead of trying a match at every character.
_PLAIN_SEP = re.compile(r";[ \t\n\r\f\v]*+([A-Za-z_][A-Za-z0-9_]*+)[ \t\n\r\f\v]*+=(?!=)"
                        r"[ \t\n\r\f\v]*+", re.A)
_BLANKS = " \t\n\r\f\v"

# Definitions already read: the raw text of one ``name = value`` piece of an ad (as cut at
# ';' by _split_pieces) -> (lower-case name, (name, node)), the very item of the ad's attrs
# dict. Only pieces whose value parsed as one whole expression are entered. The table lives
# inside _INTERN under a key no text can equal, so whatever clears _INTERN clears it too.
_PIECES_KEY = object()


def clear_caches() -> None:
    """Forget every interned expression and definition (the next parse of any text is
    cold). Safe at any time: parsed ads keep their nodes."""
    _INTERN.clear()


def _resolve(values: list, intern: dict) -> int:
    """Put the node of every value text missing from ``intern`` into it; returns how many
    distinct texts were missing, or -1 when a value does not parse (the caller declines:
    the full parser reports it in context). A value may end with blanks (ignored)."""
    missing = set(values).difference(intern)
    if not missing:
        return 0
    if len(intern) + len(missing) >= _INTERN_MAX:
        intern.clear()
        missing = set(values)
    const = CONST_NODES
    for raw in missing:
        value = raw.rstrip(_BLANKS)
        # (inline: the commonest values, a constant, a plain string or a decimal integer)
        node = const.get(value)
        if node is not None:
            intern[raw] = node
            continue
        c = value[:1]
        if c == '"':
            if value.find('"', 1) == len(value) - 1 and "\\" not in value:
                intern[raw] = Literal(value[1:-1])
                continue
        elif c != "0" and value.isdigit() and value.isascii():
            v = int(value)
            intern[raw] = Literal(0 if v > _INT64_MAX else v)
            continue
        node = simple_node(value)
        if node is None:
            node = fast_parse(value)
            if node is None:
                try:
                    node = parse_whole(value)
                except ClassAdParseError:
                    return -1
        intern[raw] = node
    return len(missing)


def _split_pieces(text: str, start: int):
    """The attrs dict of the ad ``text`` whose first definition starts at ``start`` and
    which ends with its ']' (then only blanks), or None when the cut below is not the ad's
    definitions (quoted names, ';' inside strings or nested records, errors, ...).

    The body is cut at every ``; name =`` (``_PLAIN_SEP``; with the table of pieces, at
    every ';'). Why that cut is right when every value is then one whole expression: a ';'
    inside a string, a comment, a quoted name or a nested record cuts the value it belongs
    to inside that construct, leaving it unterminated (a parse error); a ';' not followed
    by ``name =`` leaves ``; ...`` inside a value (a parse error); and the new syntax has no
    line comments (lexer.cpp) that could end without a closing token. So each cut is at a
    top-level ';', the separator of the record grammar (source.cpp ParseClassAd).

    Pieces: once most values of an ad were seen before (a queue of jobs of one cluster
    differs in a few definitions only), its ``name = value`` texts go into the table of
    pieces (inside _INTERN), and the next such ad is one ``str.split`` plus one dict lookup
    per definition. A first-seen ad skips the table (it would cost without paying)."""
    end = len(text.rstrip(_BLANKS)) - 1
    if end < start or text[end] != "]":
        return None
    body = text[start:end].rstrip(_BLANKS)
    if body[-1:] == ";":
        body = body[:-1]  # "[a = 1; b = 2; ]"
    intern = _INTERN
    known = intern.get(_PIECES_KEY)
    if known:
        pieces = body.split(";")
        missing = set(pieces).difference(known)
        if not missing:
            attrs = dict(map(known.__getitem__, pieces))
            if len(attrs) == len(pieces):
                return attrs
            return _first_spelling(map(known.__getitem__, pieces))
        if 4 * len(missing) <= len(pieces) and len(known) + len(missing) < _INTERN_MAX:
            missing = list(missing)
            parts = _PLAIN_SEP.split(";" + ";".join(missing))
            if parts[0] or len(parts) != 2 * len(missing) + 1:
                return None  # a piece is not "name = ..." (the definitions are cut elsewhere)
            values = parts[2::2]
            if _resolve(values, intern) < 0:
                return None
            names = parts[1::2]
            lows = list(map(str.lower, names))
            if not _RESERVED_NAMES.isdisjoint(lows):
                return None  # a reserved word as a name (the full parser reports it)
            known.update(zip(missing, zip(lows, zip(names, map(intern.__getitem__, values)))))
            attrs = dict(map(known.__getitem__, pieces))
            if len(attrs) == len(pieces):
                return attrs
            return _first_spelling(map(known.__getitem__, pieces))
    parts = _PLAIN_SEP.split(";" + body)
    if parts[0]:
        return None  # a quoted name first, an empty ad, text before the first definition
    values = parts[2::2]
    fresh = _resolve(values, intern)
    if fresh < 0:
        return None
    names = parts[1::2]
    lows = list(map(str.lower, names))
    if not _RESERVED_NAMES.isdisjoint(lows):
        return None  # a reserved word as a name (the full parser reports it)
    if 2 * fresh <= len(values) and body.count(";") == len(values) - 1:
        # most values known: an ad like earlier ones; the ';' are exactly the cuts, so the
        # pieces of str.split are the definitions, one for one
        items = list(zip(lows, zip(names, map(intern.__getitem__, values))))
        if known is None or len(known) + len(items) >= _INTERN_MAX:
            known = intern[_PIECES_KEY] = {}
        known.update(zip(body.split(";"), items))
        attrs = dict(items)
    else:
        attrs = dict(zip(lows, zip(names, map(intern.__getitem__, values))))
    if len(attrs) == len(values):
        return attrs
    return _first_spelling(zip(lows, zip(names, map(intern.__getitem__, values))))


def _first_spelling(items) -> dict:
    """attrs from (low, (name, node)) items with a name defined twice: the first spelling
    stays, the last value wins (HTCondor ClassAd::Insert)."""
    attrs: dict = {}
    for low, (name, node) in items:
        prev = attrs.get(low)
        attrs[low] = (prev[0] if prev else name, node)
    return attrs


def _split_single(text: str, pos: int):
    """Fastest path for a text holding one ``[ name = expr; ... ]`` (``ClassAd(text)``):
    :func:`_split_pieces`, else one split by the slower ``_ATTR_SPLIT`` pattern (quoted
    names, ';' inside strings or nested records, empty definitions), each distinct value
    text parsed once (interned). Returns (attrs, end) or None (several records, comments,
    errors, rare forms: the callers fall back to :func:`_split_record` and then the full
    parser)."""
    m = _OPEN.match(text, pos)
    if m is None:
        return None
    start = m.end()
    attrs = _split_pieces(text, start)
    if attrs is not None:
        return attrs, len(text.rstrip(_BLANKS))
    parts = _ATTR_SPLIT.split(text[start:] if start else text)
    last = parts[-1]
    if last[:1] != "]":
        return None
    if any(parts[:-1:3]):
        return None  # text between definitions that is not a definition
    names = parts[1::3]
    values = parts[2::3]
    intern = _INTERN
    if _resolve(values, intern) < 0:
        return None
    lows = list(map(str.lower, names))
    if "'" in "".join(names):  # some 'quoted' names (which may be reserved words)
        if not _RESERVED_NAMES.isdisjoint(low for low in lows if low[0] != "'"):
            return None
        names = [n[1:-1] if n[0] == "'" else n for n in names]
        lows = list(map(str.lower, names))
    elif not _RESERVED_NAMES.isdisjoint(lows):
        return None  # a reserved word as a name (the full parser reports it)
    attrs = dict(zip(lows, zip(names, map(intern.__getitem__, values))))
    if len(attrs) != len(lows):
        # a name defined twice: the first spelling stays, the last value wins
        attrs = {}
        for low, name, value in zip(lows, names, values):
            prev = attrs.get(low)
            attrs[low] = (prev[0] if prev else name, intern[value])
    return attrs, len(text) - len(last) + 1


def _split_record(text: str, pos: int):
    """Fast path for ``[ name = expr; ... ]``: returns (attrs, end) or None when the text
    needs the full parser (which then also produces the exact error)."""
    m = _OPEN.match(text, pos)
    if m is None:
        return None
    p = m.end()
    attrs: dict = {}
    intern = _INTERN
    reserved = _RESERVED_NAMES
    # finditer is lazy: text after this record (a stream of ads) is not scanned
    for m in _ATTR_ALL.finditer(text, p):
        if m.start() != p:
            return None  # unmatched text in between: let the full parser report it
        p = m.end()
        whole, name, qname, value, sep = m.groups()
        if name:
            low = name.lower()
            if low in reserved:
                return None
        else:
            name = qname
            low = name.lower()
        value = value.rstrip(_BLANKS)
        node = intern.get(value)
        if node is None:
            try:
                node = parse_expr(value)
            except ClassAdParseError:
                return None
        if low in attrs:
            attrs[low] = (attrs[low][0], node)
        else:
            attrs[low] = (name, node)
        if not sep:
            break
    m = _CLOSE.match(text, p)
    if m is None:
        return None
    return attrs, m.end()


intern_expr = parse_expr


def _record_end(text: str, pos: int) -> int:
    """Offset just past the ']' closing the record that starts at/after ``pos`` (bracket
    matching over strings and comments), or len(text) when it does not close."""
    depth = 0
    for c in _CHUNK.finditer(text, pos):
        ch = c.group()[0]
        if ch == "[" or ch == "{" or ch == "(":
            depth += 1
        elif ch == "]" or ch == "}" or ch == ")":
            depth -= 1
            if depth <= 0:
                return c.end() if ch == "]" and depth == 0 else len(text)
    return len(text)


def parse_record(text: str, pos: int = 0, single: bool = False):
    """Parse one ``[ ... ]`` record starting at or after character ``pos``.

    Returns ``(attrs, end)``: attrs maps lower-case name -> (name, node); ``end`` is the offset
    just after the closing ``]``. ``single``: the text is expected to hold only this record
    (``ClassAd(text)``; allows the one-split fast path). Raises ClassAdParseError.
    """
    fast = _split_single(text, pos) if single else None
    if fast is None:
        fast = _split_record(text, pos)
    if fast is not None:
        return fast
    sub = text[pos:_record_end(text, pos)]
    p = Parser(sub)
    t = p.next()
    if t[0] != "op" or t[1] != "[":
        try:
            p.error("expected '['", t)
        except ClassAdParseError as e:
            raise ClassAdParseError(e.reason, text, pos + t[2]) from None
    try:
        attrs = p.record_body()
    except ClassAdParseError as e:
        raise ClassAdParseError(e.reason, text, pos + e.pos) from None
    except RecursionError:
        raise ClassAdParseError("expression nested too deeply", text,
                                pos + p.toks[p.i][2]) from None
    end = p.toks[p.i - 1][3]
    return attrs, pos + end
