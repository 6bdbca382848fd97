"""Macro expansion: ``$(NAME)``, ``$(NAME:default)`` and the ``$FUNC(...)`` macro functions.

Semantics follow HTCondor's expander (src/condor_utils/config.cpp: next_config_macro,
expand_macro, evaluate_macro_func, expand_self_macro, expand_meta_args) and the manual section
"Function Macros in Configuration":

* A macro is ``$`` + optional function name + ``(`` + body + ``)``.  ``$$(...)`` is not a config
  macro and is left alone (it is for the negotiator/starter).  ``$(DOLLAR)`` becomes ``$`` after
  all other expansion.
* For ``$(NAME)`` and ``$ENV(NAME)`` the body must be identifier characters
  (``A-Za-z0-9_./``) with at most one ``:`` introducing a default; the default may hold
  identifier characters, ``$ ,\\:`` and one ``(...)`` group (so ``$(A:$(B))`` works).  A body
  that breaks these rules is not a macro and stays as text (``$(X:-1)``).
* For every other function the body runs to the first ``)``.
* An undefined or empty ``$(NAME)`` expands to its default, or to nothing.  Expanded values are
  expanded again (lazily, with the final values), so ``A = $(B)`` followed later by
  ``B = x`` gives ``x``.  A macro that refers to itself through others raises ConfigError.
"""
from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .errors import ConfigError
from .exprs import ExprError, evaluate, unparse_value

__all__ = ["MacroContext", "find_macro", "expand", "expand_self", "expand_meta_args", "MacroRef"]

_IDCHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./")
_DEFAULT_EXTRA = frozenset("$ ,\\:")     # COLON_DEF_EXTRACHARSET in config.cpp
_FUNCS = {"ENV", "RANDOM_CHOICE", "RANDOM_INTEGER", "CHOICE", "SUBSTR", "INT", "REAL",
          "STRING", "EVAL", "BASENAME", "DIRNAME"}
_FNAME_LETTERS = frozenset("pnxdqabfwu")
_DOLLAR = re.compile(r"\$\(DOLLAR\)", re.IGNORECASE)
_MAX_DEPTH = 150          # nested $(A) -> $(B) -> ... levels before we call it runaway


def is_idchar(ch: str) -> bool:
    """True for the characters HTCondor allows in a knob name (condor_isidchar)."""
    return ch in _IDCHARS


@dataclass
class MacroRef:
    """Where a macro sits in a string: ``text[dollar:right]`` is the whole ``$F(...)``.

    ``func`` is "" for ``$(NAME)``, else the function name (``ENV``, ``Fpn``...); ``name`` is the
    body before the default colon, ``default`` the text after it (None if no colon).
    """
    func: str
    dollar: int
    right: int
    name: str
    default: str | None


def _classify(prefix: str) -> str | None:
    """Function name for a ``$NAME`` prefix (without '('), or None if not a config macro."""
    if prefix == "$":
        return ""
    if prefix.startswith("$$"):
        return None
    word = prefix[1:]
    if word.startswith("F") and all(c.lower() in _FNAME_LETTERS for c in word[1:]):
        return word
    return word if word in _FUNCS else None


def find_macro(text: str, start: int = 0, skip_dollar: bool = True) -> MacroRef | None:
    """Find the first config macro in ``text`` at or after ``start`` (next_config_macro).

    With ``skip_dollar`` the special ``$(DOLLAR)`` is passed over (it is replaced last).
    """
    n = len(text)
    pos = start
    while True:
        dollar = text.find("$", pos)
        if dollar < 0:
            return None
        p = dollar + 1
        if p < n and text[p] == "$":
            p += 1
        while p < n and (text[p].isascii() and (text[p].isalnum() or text[p] == "_")):
            p += 1
        if p >= n or text[p] != "(":
            pos = p if p > dollar + 1 else dollar + 1
            continue
        func = _classify(text[dollar:p])
        if func is None:
            pos = p
            continue
        body = p + 1
        colon = None
        if func in ("", "ENV"):
            i = body
            ok = True
            while i < n and text[i] != ")":
                c = text[i]
                i += 1
                if c == ":" and colon is None:
                    colon = i
                    continue
                if colon is not None:
                    if c == "(":
                        close = text.find(")", i)
                        if close >= 0:
                            i = close + 1
                            continue
                    elif c in _DEFAULT_EXTRA:
                        continue
                if c not in _IDCHARS:
                    ok = False
                    break
            if not ok or i >= n:
                pos = body
                continue
            right = i
        else:
            right = text.find(")", body)
            if right < 0:
                pos = body
                continue
        name = text[body:colon - 1] if colon is not None else text[body:right]
        if skip_dollar and func == "" and name.upper() == "DOLLAR" and colon is None:
            pos = right
            continue
        default = text[colon:right] if colon is not None else None
        return MacroRef(func, dollar, right + 1, name, default)


@dataclass
class MacroContext:
    """What expansion needs from its surroundings.

    lookup:  raw value of a knob name in the current subsystem/local-name context, or None.
    environ: environment for ``$ENV()``.
    rng:     random source for ``$RANDOM_CHOICE`` / ``$RANDOM_INTEGER``.
    cwd:     directory for ``$Ff()`` (full path).
    """
    lookup: Callable[[str], str | None]
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    rng: random.Random = field(default_factory=random.Random)
    cwd: str | None = None


def expand(text: str, ctx: MacroContext, keep_dollar: bool = False, _stack: tuple = ()) -> str:
    """Expand every config macro in ``text`` (expand_macro).

    Returns the expanded string; ``$(DOLLAR)`` is turned into ``$`` unless ``keep_dollar``.
    Raises ConfigError for recursive definitions and for bad macro-function arguments.
    """
    if "$" not in text:
        return text
    if len(_stack) > _MAX_DEPTH:
        raise ConfigError(f"macro expansion nested too deeply: {' -> '.join(_stack[-8:])}")
    out = []
    pos = 0
    while True:
        ref = find_macro(text, pos)
        if ref is None:
            break
        out.append(text[pos:ref.dollar])
        out.append(_evaluate(ref, ctx, _stack))
        pos = ref.right
    out.append(text[pos:])
    result = "".join(out)
    if not keep_dollar and not _stack:
        result = _DOLLAR.sub("$", result)
    return result


def _expand_nested(text: str, ctx: MacroContext, stack: tuple) -> str:
    return expand(text, ctx, keep_dollar=True, _stack=stack)


def _evaluate(ref: MacroRef, ctx: MacroContext, stack: tuple) -> str:
    func = ref.func
    if func == "":
        key = ref.name.upper()
        if key in stack:
            raise ConfigError(f"macro {ref.name} refers to itself ({' -> '.join(stack + (key,))})")
        raw = ctx.lookup(ref.name)
        if not raw:
            return _expand_nested(ref.default, ctx, stack) if ref.default is not None else ""
        return _expand_nested(raw, ctx, stack + (key,))
    if func == "ENV":
        val = ctx.environ.get(ref.name)
        if val is None and ref.default is None:
            val = "UNDEFINED"
        if not val:
            return _expand_nested(ref.default, ctx, stack) if ref.default is not None else ""
        return _expand_nested(val, ctx, stack)
    body = ref.name
    if func in ("INT", "REAL"):
        return _fn_number(func, body, ctx, stack)
    if func == "STRING":
        return _fn_string(body, ctx, stack)
    if func == "EVAL":
        return _fn_eval(body, ctx, stack)
    if func == "CHOICE":
        return _fn_choice(body, ctx, stack)
    if func == "RANDOM_CHOICE":
        return _fn_random_choice(body, ctx, stack)
    if func == "RANDOM_INTEGER":
        return _fn_random_integer(body, ctx)
    if func == "SUBSTR":
        return _fn_substr(body, ctx, stack)
    return _fn_filename(func, body, ctx, stack)


# ---- helpers for the functions -------------------------------------------------------------

def _items(text: str) -> list[str]:
    """Comma-separated items, trimmed (nth_list_item with trimmed=true)."""
    return [item.strip() for item in text.split(",")]


def _lookup_and_expand(arg: str, ctx: MacroContext, stack: tuple) -> str:
    """get_lookup_and_expand_macro_arg: an argument names a macro, or is itself the text."""
    raw = ctx.lookup(arg) if arg and all(c in _IDCHARS for c in arg) else None
    return _expand_nested(raw if raw is not None else arg, ctx, stack)


def _to_number(text: str, want_int: bool):
    """string_is_long_param / string_is_double_param: a literal or a constant expression."""
    text = text.strip()
    try:
        return int(text, 10) if want_int else float(text)
    except ValueError:
        pass
    try:
        val = evaluate(text)
    except ExprError:
        return None
    if isinstance(val, bool):
        return int(val) if want_int else float(val)
    if isinstance(val, (int, float)):
        return int(val) if want_int else float(val)
    return None


_C_LENGTH = re.compile(r"%([-+ #0]*\d*(?:\.\d+)?)(?:hh|h|ll|l|L|q|j|z|t)?([diouxXeEfFgGcs%])")


_CONVERSIONS = {"INT": "diouxXc", "REAL": "eEfFgG", "STRING": "s"}


def _c_format(fmt: str, value, func: str) -> str:
    """Apply a C printf format holding one conversion of the right kind (validatePrintfFormat)."""
    convs = [m.group(2) for m in _C_LENGTH.finditer(fmt) if m.group(2) != "%"]
    if len(convs) != 1 or convs[0] not in _CONVERSIONS[func]:
        raise ConfigError(f"${func}() error: '{fmt}' is not a valid format specifier")
    pyfmt = _C_LENGTH.sub(lambda m: "%" + m.group(1) + m.group(2), fmt)
    try:
        return pyfmt % value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"'{fmt}' is not a valid format specifier ({exc})") from None


def _fn_number(func: str, body: str, ctx: MacroContext, stack: tuple) -> str:
    name, _, fmt = body.partition(",")
    val = _lookup_and_expand(name.strip(), ctx, stack)
    num = _to_number(val, func == "INT")
    if num is None:
        kind = "an integer" if func == "INT" else "a real"
        raise ConfigError(f"${func}() error: {val} does not evaluate to {kind}")
    if func == "INT":
        return _c_format(fmt, num, func) if _ else str(num)
    if not _:
        return _c_format("%.16G", num, func)
    text = _c_format(fmt, num, func)
    return text if "." in text else text + ".0"


def _fn_string(body: str, ctx: MacroContext, stack: tuple) -> str:
    name, has_fmt, fmt = body.partition(",")
    val = _lookup_and_expand(name.strip(), ctx, stack)
    try:
        result = evaluate(val)
        if isinstance(result, str):
            val = result
    except ExprError:
        pass
    return _c_format(fmt, val, "STRING") if has_fmt else val


def _fn_eval(body: str, ctx: MacroContext, stack: tuple) -> str:
    raw = ctx.lookup(body)
    text = _expand_nested(raw if raw is not None else body, ctx, stack)
    try:
        val = evaluate(text, attrs_undefined=True)
    except ExprError:
        return text
    return val if isinstance(val, str) else unparse_value(val)


def _fn_choice(body: str, ctx: MacroContext, stack: tuple) -> str:
    parts = body.split(",", 1)
    if len(parts) < 2:
        raise ConfigError("$CHOICE() error: no list")
    index_text = _lookup_and_expand(parts[0].strip(), ctx, stack)
    index = _to_number(index_text, True)
    if index is None or index < 0:
        raise ConfigError(f"$CHOICE() error: '{index_text}' is invalid index")
    items = _items(parts[1])
    if len(items) == 1:
        if not items[0]:
            raise ConfigError("$CHOICE() error: no list")
        raw = ctx.lookup(items[0])
        if raw is None:
            raise ConfigError(f"$CHOICE() error: no list named {items[0]}")
        items = _items(_expand_nested(raw, ctx, stack))
    if index >= len(items):
        raise ConfigError(f"$CHOICE() error: index {index} is out of range")
    return items[index]


def _fn_random_choice(body: str, ctx: MacroContext, stack: tuple) -> str:
    if "," not in body:
        if not body.strip():
            raise ConfigError("$RANDOM_CHOICE() error: no list")
        body = _lookup_and_expand(body.strip(), ctx, stack)
    items = _items(body)
    if not items or items == [""]:
        raise ConfigError("$RANDOM_CHOICE() error: no list")
    return ctx.rng.choice(items)


def _fn_random_integer(body: str, ctx: MacroContext) -> str:
    args = _items(body)
    values = []
    for idx, what in enumerate(("min", "max", "step")):
        if idx >= len(args):
            values.append(1)
            continue
        try:
            values.append(int(args[idx], 0))
        except ValueError:
            raise ConfigError(f"$RANDOM_INTEGER() error: invalid {what}") from None
    lo, hi, step = values
    if step < 1:
        raise ConfigError("$RANDOM_INTEGER() error: invalid step")
    if lo > hi:
        raise ConfigError("$RANDOM_INTEGER() error: min > max")
    count = (step + hi - lo) // step
    return str(lo + ctx.rng.randrange(count) * step)


def _fn_substr(body: str, ctx: MacroContext, stack: tuple) -> str:
    args = _items(body)
    value = _lookup_and_expand(args[0], ctx, stack)
    if not value:
        return ""
    nums = []
    for what, arg in zip(("start", "length"), args[1:3]):
        text = _lookup_and_expand(arg, ctx, stack)
        num = _to_number(text, True)
        if num is None:
            raise ConfigError(f"$SUBSTR() error: {text} is invalid {what}")
        nums.append(num)
    start = nums[0] if nums else 0
    size = len(value)
    if start < 0:
        start = max(0, size + start)
    start = min(start, size)
    rest = value[start:]
    if len(nums) < 2:
        return rest
    length = nums[1]
    if length < 0:
        length = max(0, len(rest) + length)
    return rest[:length]


def _fn_filename(func: str, body: str, ctx: MacroContext, stack: tuple) -> str:
    """$F[fpdnxbqawu](), $BASENAME(), $DIRNAME() (evaluate_macro_func, SPECIAL_MACRO_ID_FILENAME)."""
    raw = ctx.lookup(body) if body else None
    value = _expand_nested(raw, ctx, stack) if raw is not None else body
    parts, num_dirs = 0, 0
    quoted = arg_quote = bare = full = False
    path_char = None
    if func == "BASENAME":
        parts = 3
    elif func == "DIRNAME":
        parts = 4
    else:
        for ch in func[1:].lower():
            if ch == "x":
                parts |= 1
            elif ch == "n":
                parts |= 2
            elif ch == "p":
                parts |= 4
            elif ch == "d":
                parts |= 8
                num_dirs += 1
            elif ch == "a":
                arg_quote = True
            elif ch == "b":
                bare = True
            elif ch == "f":
                full = True
            elif ch == "w":
                path_char = "\\"
            elif ch == "u":
                path_char = "/"
            elif ch == "q":
                quoted = True
    if not value:
        return ""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    if full and not value.startswith("/"):
        # strdup_full_path_quoted: cwd + '/' + name, with one leading "./" dropped
        cwd = (ctx.cwd or os.getcwd()).rstrip("/")
        if len(value) > 2 and value[0] == "." and (value[1] == "/" or value[1] == path_char):
            value = value[2:]
        value = f"{cwd}/{value}"
    if path_char:
        value = value.replace("\\" if path_char == "/" else "/", path_char)
    # condor_basename: on Unix only '/' separates the file name from its directory
    ixn = value.rfind("/") + 1                         # start of the file name
    dot = value.rfind(".", ixn)
    ixx = dot if dot >= 0 else len(value)              # start of the extension
    end = len(value)
    if ixn == 0 and parts & 3:
        parts &= ~12
    sel = parts & 0xF
    if sel == 1:
        start = ixx + (1 if bare and ixx < end else 0)
    elif sel == 3:
        start = ixn
    elif sel == 2:
        start, end = ixn, ixx
    elif sel in (0, 7, 5):
        start = 0
    elif sel == 4:
        start, end = 0, (ixn - 1 if bare and ixn > 0 else ixn)
    elif sel == 6:
        start, end = 0, ixx
    elif ixn > 0:
        start = _basename_plus_dirs(value, num_dirs)
        if parts & 3 == 2:
            end = ixx
        elif parts & 3 == 0:
            end = ixn - 1 if bare else ixn
    else:
        start = end = 0
    result = value[start:end]
    if quoted:
        q = "'" if arg_quote else '"'
        result = q + result + q
    return result


def _basename_plus_dirs(path: str, num_dirs: int) -> int:
    """Offset of the last ``num_dirs`` directories plus file name (condor_basename_plus_dirs:
    here both '/' and '\\' count, and a UNC ``\\\\server`` prefix is one unit)."""
    pos = 0
    seps = []
    if path.startswith("\\\\"):
        pos = 4 if path[2:4] == ".\\" else 2
        seps.append(pos)
    seps.extend(i + 1 for i in range(pos, len(path)) if path[i] in "/\\")
    keep = len(seps) - num_dirs
    return seps[keep - 1] if keep > 0 else 0


# ---- self reference and template arguments ---------------------------------------------------

def expand_self(text: str, self_names: tuple[str, ...], ctx: MacroContext) -> str:
    """Expand only ``$(NAME)``/``$(NAME:def)`` where NAME is the knob being assigned (expand_self_macro).

    ``self_names`` are upper-case spellings that count as "self" (the name, and the name without
    a subsystem/local-name prefix).  The previous value is looked up with ``ctx.lookup`` (so the
    defaults table counts) and substituted raw: other macros stay for lazy expansion.
    """
    if "$" not in text:
        return text
    pos = 0
    out = []
    while True:
        ref = find_macro(text, pos)
        if ref is None:
            break
        if ref.func != "" or ref.name.upper() not in self_names:
            out.append(text[pos:ref.right])
            pos = ref.right
            continue
        out.append(text[pos:ref.dollar])
        raw = ctx.lookup(ref.name)
        if not raw:
            raw = expand_self(ref.default, self_names, ctx) if ref.default is not None else ""
        out.append(raw)
        pos = ref.right
    out.append(text[pos:])
    return "".join(out)


_META_ARG = re.compile(r"\$\((\d+)([?#+]?)(?::((?:[^()]|\([^)]*\))*))?\)")


def expand_meta_args(text: str, argstr: str) -> str:
    """Substitute template arguments ``$(N)``, ``$(N?)``, ``$(N#)``, ``$(N+)``, ``$(N:default)``.

    ``argstr`` is the text inside ``use CAT : Name(argstr)``.  ``$(0)`` is all of it, ``$(0#)``
    the number of arguments, ``$(N)`` the Nth comma-separated argument (trimmed), ``$(N+)`` the
    arguments from the Nth on, ``$(N?)`` ``1``/``0`` for non-empty/empty (param_info.in banner
    and expand_meta_args in config.cpp).
    """
    args = argstr.split(",") if argstr.strip() else []

    def repl(m: re.Match) -> str:
        index, suffix, default = int(m.group(1)), m.group(2), m.group(3)
        if index == 0:
            val = str(len(args)) if suffix in ("#", "+") else argstr
        elif suffix in ("#", "+"):
            val = ",".join(args[index - 1:]) if index <= len(args) else ""
            if not val.strip() and default is not None:
                val = default
        elif index <= len(args):
            val = args[index - 1]
        else:
            val = default or ""
        val = val.strip()
        if suffix == "?":
            return "1" if val else "0"
        return val

    return _META_ARG.sub(repl, text)
