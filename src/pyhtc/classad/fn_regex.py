"""ClassAd built-ins: regexp, regexpMember, regexps, replace, replaceAll,
stringList_regexpMember.

HTCondor matches with PCRE2 in 8-bit (byte) mode (``src/classad/fnCall.cpp``:
``matchPattern``, ``matchPatternMember``, ``substPattern``, ``regexp_helper``;
``src/condor_utils/compat_classad.cpp``: ``stringListRegexpMember_func``). pyhtc runs
Python :mod:`re` on bytes after translating the PCRE syntax Python spells differently
(:func:`pcre_to_python`): ``(?i)`` in mid-pattern, ``\\z``/``\\Z``, ``\\h``/``\\v``/``\\R``/
``\\N``/``\\X``, ``\\Q..\\E``, ``\\x{..}``, ``\\ddd`` (octal unless a back reference),
``\\e``, ``\\cX``, POSIX ``[:class:]``, ``\\p{..}`` (Latin-1 code points), ``(?<name>..)``,
``\\k<name>``, ``\\g{n}``, ``\\K`` (an empty marker group giving the reported match start),
``\\G`` (compiled per start offset), ``\\B`` and multiline ``^`` (Python differs at the
end of the subject), back references to unset groups, quantified assertions (an error in
PCRE2) and ``{,n}`` (a literal in this PCRE2 version). Constructs Python cannot express
(recursion, ``(?|..)``, ``\\C``, callouts) evaluate to ERROR. The global-substitution loop
reproduces HTCondor's, including its quirks (a pattern that can match empty at the end of
the target makes ``g`` substitutions ERROR).

Options: ``i`` caseless, ``m`` multiline, ``s`` dotall, ``x`` extended; for the
substitution family ``f`` (result is the whole target with replacements made in place) and
``g`` (all non-overlapping matches). Other letters are ignored. A pattern that does not
compile gives ERROR.
"""
from __future__ import annotations

import re
import warnings
from functools import lru_cache

from .fn_string import string_list_tokens
from .functions import builtin
from .values import ERROR, UNDEFINED, ListValue, from_bytes, to_bytes

__all__ = ["pcre_to_python", "compile_pcre", "regexp_helper"]


class _BadPattern(Exception):
    """A pattern PCRE2 would reject (or that pyhtc cannot translate)."""


# POSIX classes, as byte sets (PCRE2 default "C" locale tables)
def _bset(pred) -> frozenset:
    return frozenset(c for c in range(256) if pred(c))


_POSIX = {
    b"alpha": _bset(lambda c: 65 <= c <= 90 or 97 <= c <= 122),
    b"digit": _bset(lambda c: 48 <= c <= 57),
    b"alnum": _bset(lambda c: 65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57),
    b"upper": _bset(lambda c: 65 <= c <= 90),
    b"lower": _bset(lambda c: 97 <= c <= 122),
    b"space": _bset(lambda c: c in (9, 10, 11, 12, 13, 32)),
    b"blank": _bset(lambda c: c in (9, 32)),
    b"punct": _bset(lambda c: 33 <= c <= 126 and not (65 <= c <= 90 or 97 <= c <= 122
                                                      or 48 <= c <= 57)),
    b"print": _bset(lambda c: 32 <= c <= 126),
    b"graph": _bset(lambda c: 33 <= c <= 126),
    b"cntrl": _bset(lambda c: c < 32 or c == 127),
    b"xdigit": _bset(lambda c: 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102),
    b"word": _bset(lambda c: 65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57 or c == 95),
    b"ascii": _bset(lambda c: c < 128),
}
_HSPACE = frozenset((9, 32, 0xA0))
_VSPACE = frozenset((10, 11, 12, 13, 0x85))


def _class_items(byteset) -> bytes:
    """Byte set -> escaped members for use inside ``[...]``."""
    return b"".join(b"\\x%02x" % c for c in sorted(byteset))


def _lit(c: int) -> bytes:
    """One byte as a Python-regex literal."""
    return b"\\x%02x" % c


_QUANT_RE = re.compile(rb"\{\d+(?:,\d*)?\}")
_FLAGS_RE = re.compile(rb"\(\?([imsxnJU]*)(?:-([imsxnJU]*))?([:)])")


_G_MARK = b"\x00G\x00"  # placeholder for \\G (a NUL never occurs in a ClassAd string)


class _State:
    """Translation bookkeeping: Python group number of each PCRE capture group (``gmap``;
    they differ once ``\\K`` markers, which are empty named groups, were inserted) and the
    names of those markers (``knames``)."""

    def __init__(self, pat: bytes):
        self.gmap: list[int] = []
        self.py_groups = 0
        self.knames: list[str] = []
        self.may_have_k = b"\\K" in pat
        self.kinds: list[int] = []   # per open group: its PCRE capture number (0: none)
        self.open: set[int] = set()  # capture groups not closed yet
        self.max_ref = 0
        self.has_g = False

    def open_capture(self) -> int:
        self.py_groups += 1
        self.gmap.append(self.py_groups)
        self.open.add(len(self.gmap))
        return len(self.gmap)

    def close_group(self) -> None:
        if self.kinds:
            self.open.discard(self.kinds.pop())

    def k_marker(self) -> bytes:
        self.py_groups += 1
        name = "_pyhtcK%d" % len(self.knames)
        self.knames.append(name)
        return b"(?P<" + name.encode() + b">)"

    def backref(self, n: int):
        """Python group number for PCRE back reference ``n``; None when group n is still
        open or comes later (then it is unset here and the reference cannot match)."""
        self.max_ref = max(self.max_ref, n)
        if n <= len(self.gmap) and n not in self.open:
            return self.gmap[n - 1]
        return None


def _no_quantifier(pat: bytes, j: int, extended: bool) -> None:
    """PCRE2 rejects a quantifier after an assertion such as ``^`` or ``\\Z``."""
    n = len(pat)
    while j < n:
        if extended and pat[j] in b" \t\n\v\f\r":
            j += 1
        elif pat.startswith(b"(?#", j) and pat.find(b")", j) > 0:
            j = pat.find(b")", j) + 1
        else:
            break
    if j < n and (pat[j] in b"*+?" or _QUANT_RE.match(pat, j)):
        raise _BadPattern("quantifier does not follow a repeatable item")


def pcre_to_python(pat: bytes, extended: bool = False) -> bytes:
    """Translate a PCRE2 pattern (bytes) to an equivalent Python :mod:`re` bytes pattern.

    Raises :class:`_BadPattern` for constructs PCRE2 rejects, or that pyhtc cannot
    express, where Python would accept them. Option settings ``(?i)`` become scoped groups
    ``(?i:...)`` closed at the end of the enclosing group and re-opened after each ``|``
    (PCRE2 semantics). ``\\K`` becomes an empty named group marking the match start.
    """
    return _translate(pat, extended, _State(pat))


def _translate(pat: bytes, extended: bool, st: _State) -> bytes:
    out = bytearray()
    i, n = 0, len(pat)
    # per open group: list of pending scoped-flag prefixes opened inside it
    stack: list[list[bytes]] = [[]]
    lead = _FLAGS_RE.match(pat)
    if lead and lead.group(3) == b")" and b"x" in lead.group(1):
        extended = True
    while i < n:
        c = pat[i]
        if extended and c == 0x23:  # '#' comment to end of line (extended mode)
            j = pat.find(b"\n", i)
            i = n if j < 0 else j + 1
            continue
        if extended and c in b" \t\n\v\f\r":  # extended mode: unescaped white space
            i += 1
            continue
        if c == 0x5C:  # backslash
            assertion = pat[i + 1:i + 2] in (b"Z", b"K", b"G", b"B")
            piece, i = _escape(pat, i, in_class=False, st=st)
            out += piece
            if assertion:
                _no_quantifier(pat, i, extended)
            continue
        if c == 0x5B:  # [
            piece, i = _char_class(pat, i)
            out += piece
            continue
        if c == 0x28:  # (
            if pat.startswith(b"(?#", i):
                j = pat.find(b")", i)
                if j < 0:
                    raise _BadPattern("unterminated comment")
                i = j + 1
                continue
            m = _FLAGS_RE.match(pat, i)
            if m and (m.group(1) or m.group(2) is not None):
                on, off = m.group(1), m.group(2) or b""
                on = bytes(ch for ch in on if ch in b"imsx")
                off = bytes(ch for ch in off if ch in b"imsx")
                spec = on + (b"-" + off if off else b"")
                if m.group(3) == b":":
                    out += b"(?" + spec + b":" if spec else b"(?:"
                    stack.append([])
                    st.kinds.append(0)
                elif spec:
                    prefix = b"(?" + spec + b":"
                    out += prefix
                    stack[-1].append(prefix)
                i = m.end()
                continue
            cap = 0
            if pat.startswith(b"(?<", i) and i + 3 < n and pat[i + 3] not in b"=!":
                out += b"(?P<"
                i += 3
                cap = st.open_capture()
            elif pat.startswith(b"(?'", i):
                j = pat.find(b"'", i + 3)
                if j < 0:
                    raise _BadPattern("unterminated group name")
                out += b"(?P<" + pat[i + 3:j] + b">"
                i = j + 1
                cap = st.open_capture()
            elif pat.startswith(b"(?P>", i) or pat.startswith(b"(?|", i) or pat.startswith(
                    b"(?R", i) or (i + 2 < n and pat[i + 1] == 0x3F and (
                    48 <= pat[i + 2] <= 57 or pat[i + 2] in b"+-&")):
                raise _BadPattern("unsupported PCRE construct")
            else:
                if i + 1 >= n or pat[i + 1] != 0x3F or pat.startswith(b"(?P<", i):
                    cap = st.open_capture()
                out.append(c)
                i += 1
            stack.append([])
            st.kinds.append(cap)
            continue
        if c == 0x29:  # )
            if len(stack) > 1:
                out += b")" * len(stack.pop())
                st.close_group()
            out.append(c)
            i += 1
            continue
        if c == 0x7C:  # |
            pend = stack[-1]
            out += b")" * len(pend)
            out.append(c)
            for p in pend:
                out += p
            i += 1
            continue
        if c == 0x5E:  # ^ : PCRE2 multiline ^ never matches after a newline ending the subject
            out += rb"(?:^(?!(?<=\n)\Z))"
            i += 1
            _no_quantifier(pat, i, extended)
            continue
        if c == 0x7B:  # {
            m = _QUANT_RE.match(pat, i)
            if m:
                out += m.group(0)
                i = m.end()
            else:
                out += b"\\{"
                i += 1
            continue
        if c == 0x7D:  # }
            out += b"\\}"
            i += 1
            continue
        if c >= 0x80 or (c < 0x20 and c not in b"\t\n\v\f\r"):
            out += _lit(c)
        else:
            out.append(c)
        i += 1
    out += b")" * len(stack[0])
    if st.max_ref > len(st.gmap):
        raise _BadPattern("reference to non-existent subpattern")
    return bytes(out)


def _hexval(s: bytes) -> int:
    return int(s, 16) if s else 0


def _escape(pat: bytes, i: int, in_class: bool, st: "_State | None" = None):
    """Translate the escape at ``pat[i] == '\\'``; returns (python bytes, next index)."""
    n = len(pat)
    if i + 1 >= n:
        raise _BadPattern("\\ at end of pattern")
    e = pat[i + 1]
    ch = bytes((e,))
    j = i + 2
    if ch == b"Q":
        end = pat.find(b"\\E", j)
        lit = pat[j:] if end < 0 else pat[j:end]
        nxt = n if end < 0 else end + 2
        return b"".join(_lit(c) for c in lit), nxt
    if ch == b"E":
        return b"", j
    if ch == b"x":
        if j < n and pat[j] == 0x7B:
            end = pat.find(b"}", j)
            if end < 0:
                raise _BadPattern("bad \\x{")
            v = _hexval(pat[j + 1:end])
            if v > 255:
                raise _BadPattern("character code too large")
            return _lit(v), end + 1
        k = j
        while k < n and k < j + 2 and pat[k] in b"0123456789abcdefABCDEF":
            k += 1
        return _lit(_hexval(pat[j:k])), k
    if ch == b"o" and j < n and pat[j] == 0x7B:
        end = pat.find(b"}", j)
        v = int(pat[j + 1:end] or b"0", 8)
        if v > 255:
            raise _BadPattern("character code too large")
        return _lit(v), end + 1
    if ch == b"0":
        k = j
        while k < n and k < j + 2 and 48 <= pat[k] <= 55:
            k += 1
        return _lit(int(pat[i + 1:k], 8) & 0xFF), k
    if ch == b"e":
        return _lit(27), j
    if ch == b"c":
        if j >= n:
            raise _BadPattern("\\c at end")
        return _lit(bytes(pat[j:j + 1]).upper()[0] ^ 0x40), j + 1
    if ch == b"h":
        return (_class_items(_HSPACE) if in_class else b"[" + _class_items(_HSPACE) + b"]"), j
    if ch == b"H":
        return (_class_items(_bset(lambda c: c not in _HSPACE)) if in_class
                else b"[^" + _class_items(_HSPACE) + b"]"), j
    if ch == b"v":
        return (_class_items(_VSPACE) if in_class else b"[" + _class_items(_VSPACE) + b"]"), j
    if ch == b"V":
        return (_class_items(_bset(lambda c: c not in _VSPACE)) if in_class
                else b"[^" + _class_items(_VSPACE) + b"]"), j
    if ch in b"pP":
        items, nxt = _property(pat, j, ch == b"P")
        if in_class:
            return items, nxt
        return (b"[" + items + b"]" if items else b"(?!)"), nxt
    if in_class:
        if ch in b"dDwWsSbtnrfa\\]^-[":
            return b"\\" + ch, j
        if ch.isalnum():
            raise _BadPattern("unrecognized escape in class")
        return _lit(e), j
    if ch == b"R":
        return b"(?:\\r\\n|[" + _class_items(_VSPACE) + b"])", j
    if ch == b"X":  # extended grapheme cluster: in Latin-1 only CR LF joins
        return b"(?:\\r\\n|[\\s\\S])", j
    if ch == b"K":
        if st is None:
            raise _BadPattern("\\K not supported here")
        return st.k_marker(), j
    if ch == b"G":  # start of the match attempt: filled in per start offset
        if st is None:
            raise _BadPattern("\\G not supported here")
        st.has_g = True
        return _G_MARK, j
    if ch == b"N":
        return b"[^\\n]", j
    if ch == b"z":
        return b"\\Z", j
    if ch == b"Z":
        return b"(?=\\n?\\Z)", j
    if ch == b"k":
        if j < n and pat[j] in b"<{'":
            close = {0x3C: b">", 0x7B: b"}", 0x27: b"'"}[pat[j]]
            end = pat.find(close, j + 1)
            if end < 0:
                raise _BadPattern("bad \\k")
            return b"(?P=" + pat[j + 1:end] + b")", end + 1
        raise _BadPattern("bad \\k")
    if ch == b"g":
        m = re.match(rb"\{(\d+)\}|(\d+)|<(\w+)>|\{(\w+)\}", pat[j:])
        if not m:
            raise _BadPattern("bad \\g")
        name = m.group(1) or m.group(2)
        if name:
            ref = st.backref(int(name)) if st is not None else int(name)
            return (b"(?:\\%d)" % ref if ref else b"(?!)"), j + m.end()
        return b"(?P=" + (m.group(3) or m.group(4)) + b")", j + m.end()
    if 49 <= e <= 57:  # \1..\9 (and more digits): back reference
        k = j
        while k < n and 48 <= pat[k] <= 57:
            k += 1
        digits = pat[i + 1:k]
        num = int(digits)
        known = len(st.gmap) if st is not None else 0
        if num >= 10 and digits[:1] not in (b"8", b"9") and num > known:
            # not a back reference: up to three octal digits give a character
            k = i + 1
            while k < n and k < i + 4 and 48 <= pat[k] <= 55:
                k += 1
            value = int(pat[i + 1:k], 8)
            if value > 255:
                raise _BadPattern("octal value greater than \\377 in 8-bit mode")
            return _lit(value), k
        ref = st.backref(num) if st is not None else num
        return (b"(?:\\%d)" % ref if ref else b"(?!)"), k
    if ch == b"B":  # Python's \B never matches in an empty string; PCRE2's does
        return rb"(?!\b)", j
    if ch in b"dDwWsSbAtnrfa":
        return b"\\" + ch, j
    if ch in b"CuUL":
        raise _BadPattern("unsupported escape")
    if ch.isalnum():
        raise _BadPattern("unrecognized escape")
    return _lit(e), j


def _latin1_set(pred) -> frozenset:
    import unicodedata
    return frozenset(b for b in range(256) if pred(unicodedata.category(chr(b)), b))


_GC = ("C", "Cc", "Cf", "Cn", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me",
       "Mn", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc",
       "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs")


@lru_cache(maxsize=None)
def _property_set(name: str) -> frozenset:
    """Bytes (as Latin-1 code points, PCRE2's non-UTF mode) having Unicode property
    ``name``; raises _BadPattern for an unknown name (names are case-sensitive here)."""
    if name in _GC:
        return _latin1_set(lambda cat, b: cat.startswith(name) if len(name) == 1
                           else cat == name)
    if name == "Any":
        return frozenset(range(256))
    if name == "L&":
        return _latin1_set(lambda cat, b: cat in ("Lu", "Ll", "Lt"))
    if name == "Xan":
        return _latin1_set(lambda cat, b: cat[0] in "LN")
    if name in ("Xsp", "Xps"):
        return _latin1_set(lambda cat, b: cat[0] == "Z" or b in (9, 10, 11, 12, 13))
    if name == "Xwd":
        return _latin1_set(lambda cat, b: cat[0] in "LN" or b == 95)
    if name == "Latin":
        return _latin1_set(lambda cat, b: cat[0] == "L" and b != 0xB5)
    if name == "Common":
        return _latin1_set(lambda cat, b: not (cat[0] == "L" and b != 0xB5))
    if name in ("Greek", "Cyrillic", "Arabic", "Hebrew", "Han", "Hiragana", "Katakana",
                "Inherited", "Armenian", "Thai", "Devanagari", "Hangul"):
        return frozenset()
    raise _BadPattern("unknown property name after \\P or \\p")


def _property(pat: bytes, j: int, negate: bool):
    """``\\p{Name}`` / ``\\pL`` / ``\\P..`` / ``\\p{^Name}`` at ``pat[j:]`` -> (class
    items, next index); empty items when no byte has the property."""
    if j >= len(pat):
        raise _BadPattern("malformed \\P or \\p sequence")
    if pat[j] == 0x7B:
        end = pat.find(b"}", j)
        if end < 0:
            raise _BadPattern("malformed \\P or \\p sequence")
        name = pat[j + 1:end].decode("latin-1")
        nxt = end + 1
    else:
        name = chr(pat[j])
        nxt = j + 1
    if name.startswith("^"):
        negate = not negate
        name = name[1:]
    chars = _property_set(name)
    if negate:
        chars = frozenset(range(256)) - chars
    return _class_items(chars), nxt


def _char_class(pat: bytes, i: int):
    """Translate ``[...]`` starting at ``pat[i]``; returns (python bytes, next index)."""
    n = len(pat)
    j = i + 1
    out = bytearray(b"[")
    if j < n and pat[j] == 0x5E:
        out += b"^"
        j += 1
    first = True
    prev = None  # kind of the previous item: None, "char" or "class"
    while True:
        if j >= n:
            raise _BadPattern("missing terminating ] for character class")
        c = pat[j]
        if c == 0x5D and not first:
            out += b"]"
            return bytes(out), j + 1
        first = False
        if c == 0x5B and j + 1 < n and pat[j + 1] == 0x3A:  # [:name:]
            end = pat.find(b":]", j + 2)
            if end >= 0:
                name = pat[j + 2:end]
                neg = name.startswith(b"^")
                if neg:
                    name = name[1:]
                if name not in _POSIX:
                    raise _BadPattern("unknown POSIX class name")
                s = _POSIX[name]
                if neg:
                    s = _bset(lambda x: x not in s)
                out += _class_items(s)
                j = end + 2
                prev = "class"
                continue
        if c == 0x5C:
            e = pat[j + 1:j + 2]
            piece, j = _escape(pat, j, in_class=True)
            out += piece
            prev = "class" if e and e in b"dDwWsShHvVpP" else "char"
            continue
        if c == 0x2D:  # '-': range operator, or a literal at an edge / after a class
            nxt = pat[j + 1] if j + 1 < n else None
            if prev != "char" or nxt == 0x5D:
                out += b"\\-"
                prev = "char"
            else:
                if nxt == 0x5C and j + 2 < n and pat[j + 2] in b"dDwWsShHvV":
                    raise _BadPattern("invalid range in character class")
                out += b"-"
                prev = "range"
            j += 1
            continue
        if c in b"[]^&~|\\" or c >= 0x80 or c < 0x20:
            out += _lit(c)
        else:
            out.append(c)
        prev = "char" if prev != "range" else "done"
        j += 1


class Compiled:
    """A translated PCRE2 pattern: the Python regex ``rx``, the Python group number of
    each PCRE capture group (``gmap``) and the names of the ``\\K`` marker groups."""

    __slots__ = ("rx", "gmap", "knames", "translated", "flags", "has_g", "_at")

    def __init__(self, rx, gmap, knames, translated, flags, has_g=False):
        self.rx = rx
        self.gmap = gmap
        self.knames = knames
        self.translated = translated
        self.flags = flags
        self.has_g = has_g
        self._at = {}

    def search(self, data: bytes, pos: int = 0):
        """``re`` search from ``pos`` (PCRE2 start offset semantics for ``^``, ``\\b`` and
        ``\\G``, which asserts the position ``pos``)."""
        if not self.has_g or pos == 0:
            return self.rx.search(data, pos)
        rx = self._at.get(pos)
        if rx is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rx = re.compile(self.translated.replace(
                    _G_MARK, b"(?<=\\A[\\s\\S]{%d})" % pos), self.flags)
            if len(self._at) < 64:
                self._at[pos] = rx
        return rx.search(data, pos)


@lru_cache(maxsize=512)
def compile_pcre(pattern: bytes, flags: int):
    """Compile a PCRE2 pattern (bytes) with Python re flags (IGNORECASE, MULTILINE, DOTALL,
    VERBOSE for PCRE2's i, m, s, x): a :class:`Compiled`, or None if PCRE2 would reject it."""
    try:
        st = _State(pattern)
        translated = _translate(pattern, bool(flags & re.VERBOSE), st)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rx = re.compile(translated.replace(_G_MARK, b"\\A"), flags & ~re.VERBOSE)
        return Compiled(rx, st.gmap, st.knames, translated, flags & ~re.VERBOSE, st.has_g)
    except (_BadPattern, re.error, OverflowError, RecursionError, ValueError, IndexError):
        return None


@lru_cache(maxsize=256)
def _nonempty_variant(comp: Compiled):
    """A regex equal to ``comp`` but refusing an empty match at its start position
    (PCRE2_NOTEMPTY_ATSTART when used anchored). Its numbered groups are shifted by one.
    None when the pattern uses numbered back references (they would shift too)."""
    if comp.has_g or re.search(rb"\\[1-9]", comp.translated):
        return None
    wrapped = (b"(?=(?P<_pyhtc_rest>[\\s\\S]*))(?:" + comp.translated +
               b")(?!(?P=_pyhtc_rest)\\Z)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(wrapped, comp.flags)
    except re.error:
        return None


def _flags(options: str | None) -> int:
    f = 0
    if options:
        if "i" in options:
            f |= re.IGNORECASE
        if "m" in options:
            f |= re.MULTILINE
        if "s" in options:
            f |= re.DOTALL
        if "x" in options:
            f |= re.VERBOSE
    return f


def _match_start(m, comp: Compiled) -> int:
    """Start of the match as PCRE2 reports it: moved by the last ``\\K`` passed."""
    start = m.start()
    for name in comp.knames:
        pos = m.start(name)
        if pos != -1 and pos > start:
            start = pos
    return start


def _group_count(m, comp: Compiled, shift: int) -> int:
    """PCRE2's match return code: 1 + the highest-numbered group that matched."""
    top = 0
    for g, py in enumerate(comp.gmap, 1):
        if m.start(py + shift) != -1:
            top = g
    return top + 1


def regexp_helper(pattern: str, target: str, replace: str | None, options: str | None):
    """fnCall.cpp ``regexp_helper``: a match test (replace None -> bool) or a substitution
    (-> str). ERROR for a bad pattern, a ``\\N`` naming a group that did not take part,
    and (as PCRE2 reports a bad offset there) for a global substitution whose pattern
    matches empty at the end of the target."""
    flags = _flags(options)
    comp = compile_pcre(to_bytes(pattern), flags)
    if comp is None:
        return ERROR
    tgt = to_bytes(target)
    if replace is None:
        return comp.search(tgt) is not None
    full = bool(options) and "f" in options
    glob = bool(options) and "g" in options
    rep = to_bytes(replace)
    out = bytearray()
    idx = 0
    empty_match = False
    n = len(tgt)
    while True:
        if idx > n:
            return ERROR  # PCRE2_ERROR_BADOFFSET
        if empty_match:
            alt = _nonempty_variant(comp)
            m = alt.match(tgt, idx) if alt is not None else None
            shift = 1
            if m is None:
                # C++ appends target[idx] (the terminating NUL at the end), then goes on
                out.append(tgt[idx] if idx < n else 0)
                idx += 1
                empty_match = False
                continue
        else:
            m = comp.search(tgt, idx)
            shift = 0
            if m is None:
                break
        start, end = _match_start(m, comp), m.end()
        ngroups = _group_count(m, comp, shift)
        if full:
            out += tgt[idx:start]
        k = 0
        while k < len(rep):
            c = rep[k]
            if c == 0x5C and k + 1 < len(rep) and 48 <= rep[k + 1] <= 57:
                g = rep[k + 1] - 48
                if g >= ngroups:
                    return ERROR
                val = m.group(comp.gmap[g - 1] + shift) if g else tgt[start:end]
                out += val or b""
                k += 2
                continue
            out.append(c)
            k += 1
        idx = end
        if start == end:  # (HTCondor never clears the flag after a non-empty retry)
            empty_match = True
        if not glob:
            break
    if full:
        out += tgt[idx:]
    return from_bytes(bytes(out))


def _check_args(args, opt):
    """Common argument rules: any error -> ERROR, then any undefined -> UNDEFINED, then a
    non-string option -> ERROR. Returns None when the arguments are usable."""
    allv = args + ((opt,) if opt is not None else ())
    if any(v is ERROR for v in allv):
        return ERROR
    if any(v is UNDEFINED for v in allv):
        return UNDEFINED
    if opt is not None and type(opt) is not str:
        return ERROR
    return None


@builtin("regexp", 2, 3)
def _regexp(ctx, pattern, target, options=None):
    """regexp(pattern, target[, options]) -> whether pattern matches somewhere in target."""
    bad = _check_args((pattern, target), options)
    if bad is not None:
        return bad
    if type(pattern) is not str or type(target) is not str:
        return ERROR
    return regexp_helper(pattern, target, None, options)


def _subst(kind: str):
    def impl(ctx, pattern, target, replace, options=None):
        bad = _check_args((pattern, target, replace), options)
        if bad is not None:
            return bad
        opts = options
        if kind == "replace":
            opts = (options or "") + "f"
        elif kind == "replaceall":
            opts = (options or "") + "fg"
        if type(pattern) is not str or type(target) is not str or type(replace) is not str:
            return ERROR
        return regexp_helper(pattern, target, replace, opts)
    impl.__doc__ = (f"{kind}(pattern, target, substitution[, options]): regex substitution "
                    "with \\0..\\9 group references (fnCall.cpp substPattern).")
    return impl


builtin("regexps", 3, 4)(_subst("regexps"))
builtin("replace", 3, 4)(_subst("replace"))
builtin("replaceAll", 3, 4)(_subst("replaceall"))


@builtin("regexpMember", 2, 3)
def _regexp_member(ctx, pattern, lst, options=None):
    """regexpMember(pattern, list[, options]): whether any string element matches.
    Undefined elements make a non-matching result undefined; other non-strings -> error."""
    bad = _check_args((pattern, lst), options)
    if bad is not None:
        return bad
    if type(pattern) is not str or type(lst) is not ListValue:
        return ERROR
    maybe_undef = False
    for item in lst.values():
        if type(item) is not str:
            if item is UNDEFINED:
                maybe_undef = True
                continue
            return ERROR
        if regexp_helper(pattern, item, None, options) is True:
            return True
    return UNDEFINED if maybe_undef else False


@builtin("stringList_regexpMember", 2, 4)
def _stringlist_regexp_member(ctx, pattern, s, delims=None, options=None):
    """stringList_regexpMember(pattern, list_string[, delims[, options]]) (compat_classad.cpp):
    whether any item of the string list matches; an empty list -> undefined; any
    non-string argument (even undefined) -> error; options letters are case-insensitive."""
    for v in (pattern, s, delims, options):
        if v is not None and type(v) is not str:
            return ERROR
    flags = _flags((options or "").lower())
    comp = compile_pcre(to_bytes(pattern), flags)
    if comp is None:
        return ERROR
    items = string_list_tokens(s, delims if delims is not None else ", ")
    if not items:
        return UNDEFINED
    return any(comp.search(item) is not None for item in items)
