"""Macro storage and ``$(...)`` expansion for the submit language.

Follows the configuration macro language of the HTCondor manual
("Introduction to Configuration", "Macros") as used by condor_submit
(src/condor_utils/submit_utils.cpp, config.cpp expand_macro):

* names are case-insensitive; ``$(NAME)`` expands to the value, recursively;
  an undefined name expands to the empty string; ``$(NAME:default)`` uses
  ``default`` when NAME is undefined or empty;
* ``$$(...)`` is kept verbatim for match-time substitution by the shadow;
  ``$(DOLLAR)`` is a literal ``$``;
* functions: ``$ENV(NAME)``, ``$RANDOM_CHOICE(a,b,...)``,
  ``$RANDOM_INTEGER(min,max[,step])``, ``$F[fpduwnxbqa](name)``,
  ``$INT(name[,fmt])``, ``$REAL(name[,fmt])``, ``$CHOICE(index,a,b,...)``,
  ``$SUBSTR(name,start[,length])``.
"""
from __future__ import annotations

import os
import random
import re

__all__ = ["MacroError", "MacroSet", "expand"]

_MAX_DEPTH = 64


class MacroError(ValueError):
    """A macro could not be expanded (unterminated ``$(``, recursion, bad function)."""


def _norm(name: str) -> str:
    """Lookup key of a macro name (case-insensitive; ``+A`` and ``MY.A`` stay distinct keys,
    as in htcondor2.Submit -- the job ad builder treats both as attribute ``A``)."""
    return name.lower()


class MacroSet:
    """Case-insensitive name -> raw value table with definition order.

    ``set(name, value)`` expands self-references (``x = $(x) more``) at
    definition time, as the config language does.
    """

    def __init__(self) -> None:
        self._d: dict[str, tuple[str, str]] = {}

    def set(self, name: str, value: str, fallback=None) -> None:
        """Define ``name``; a ``$(name)`` inside ``value`` means the previous value.

        With no previous definition the self-reference takes ``fallback(name)``
        (the submit defaults table, e.g. ``process = $(Process)`` -> ``0``).
        """
        low = _norm(name)
        pat = re.compile(r"(?<!\$)\$\(\s*" + re.escape(name) + r"\s*(?::([^)]*))?\)", re.IGNORECASE)
        if pat.search(value):
            if low in self._d:
                prev = self._d[low][1]
            else:
                prev = (fallback(name) if fallback else None) or ""
            value = pat.sub(lambda m: prev if prev else (m.group(1) or ""), value)
        # a redefinition keeps the name as first written (as the real bindings report keys)
        self._d[low] = (self._d[low][0] if low in self._d else name, value)

    def get(self, name: str) -> str | None:
        """Raw (unexpanded) value of ``name`` or None."""
        v = self._d.get(_norm(name))
        return None if v is None else v[1]

    def delete(self, name: str) -> None:
        self._d.pop(_norm(name), None)

    def lower_names(self) -> set[str]:
        """The lookup keys (lower-cased names) of every defined macro."""
        return set(self._d)

    def __contains__(self, name: str) -> bool:
        return _norm(name) in self._d

    def items(self):
        """(name as first written, raw value) pairs in definition order."""
        return list(self._d.values())

    def copy(self) -> "MacroSet":
        m = MacroSet()
        m._d = dict(self._d)
        return m


def _find_close(text: str, start: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``start``, or -1."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


_FUNC = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\(")


def expand(text: str, lookup, depth: int = 0, keep=None) -> str:
    """Expand macros in ``text``.

    ``lookup(name) -> str | None`` returns a macro's raw value (None when
    undefined).  ``keep(name) -> bool`` names macros to leave unexpanded
    (used to write the late-materialization digest).  Raises MacroError.
    """
    if depth > _MAX_DEPTH:
        raise MacroError(f"macro expansion is too deeply nested (recursive definition?) in: {text[:200]}")
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        # $$(...) : match-time substitution, kept verbatim
        if text.startswith("$$(", i):
            end = _find_close(text, i + 2)
            if end < 0:
                out.append(text[i:])
                break
            out.append(text[i:end + 1])
            i = end + 1
            continue
        if text.startswith("$(", i):
            end = _find_close(text, i + 1)
            if end < 0:
                raise MacroError(f"unterminated macro reference: {text[i:i + 60]}")
            body = text[i + 2:end]
            inner = expand(body, lookup, depth + 1, keep) if "$" in body else body
            name, sep, default = inner.partition(":")
            name = name.strip()
            if keep is not None and keep(name):
                out.append("$(" + inner + ")")
                i = end + 1
                continue
            if name.upper() == "DOLLAR":
                out.append("$")
                i = end + 1
                continue
            val = lookup(name)
            if val is None or (sep and val == ""):
                out.append(expand(default, lookup, depth + 1, keep) if sep else "")
            else:
                out.append(expand(val, lookup, depth + 1, keep))
            i = end + 1
            continue
        m = _FUNC.match(text, i)
        if m:
            end = _find_close(text, m.end() - 1)
            if end < 0:
                raise MacroError(f"unterminated ${m.group(1)}( in: {text[i:i + 60]}")
            arg = text[m.end():end]
            arg = expand(arg, lookup, depth + 1, keep)
            res = _function(m.group(1), arg, lookup, depth, keep)
            if res is None:
                out.append(text[i:end + 1])
            else:
                out.append(res)
            i = end + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _macro_value(name: str, lookup, depth, keep) -> str:
    v = lookup(name.strip())
    return "" if v is None else expand(v, lookup, depth + 1, keep)


def _function(fname: str, arg: str, lookup, depth, keep) -> str | None:
    up = fname.upper()
    if up == "ENV":
        name, sep, default = arg.partition(":")
        v = os.environ.get(name.strip())
        return v if v is not None else (default if sep else "")
    if up == "RANDOM_CHOICE":
        choices = [a.strip() for a in arg.split(",")]
        return random.choice(choices) if choices else ""
    if up == "RANDOM_INTEGER":
        parts = [p.strip() for p in arg.split(",")]
        try:
            lo, hi = int(parts[0]), int(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 1
        except (ValueError, IndexError):
            raise MacroError(f"$RANDOM_INTEGER needs (min,max[,step]) integers, got ({arg})") from None
        return str(random.randrange(lo, hi + 1, max(step, 1)))
    if up == "CHOICE":
        parts = [p.strip() for p in arg.split(",")]
        if len(parts) < 2:
            raise MacroError(f"$CHOICE needs (index,choice,...), got ({arg})")
        idx_text = parts[0]
        if not re.fullmatch(r"-?\d+", idx_text):
            idx_text = _macro_value(idx_text, lookup, depth, keep).strip()
        try:
            idx = int(idx_text)
            return parts[1 + idx]
        except (ValueError, IndexError):
            raise MacroError(f"$CHOICE index {idx_text!r} is out of range for ({arg})") from None
    if up in ("INT", "REAL"):
        name, _, fmt = arg.partition(",")
        raw = name.strip()
        val = lookup(raw)
        txt = expand(val, lookup, depth + 1, keep) if val is not None else raw
        try:
            num = _eval_number(txt)
        except (ValueError, ZeroDivisionError, SyntaxError):
            raise MacroError(f"${up}() could not evaluate {txt!r} as a number") from None
        fmt = fmt.strip()
        if up == "INT":
            num = int(num)
            return (fmt % num) if fmt else str(num)
        num = float(num)
        if fmt:
            return fmt % num
        return "%.16G" % num
    if up == "SUBSTR":
        parts = [p.strip() for p in arg.split(",")]
        val = _macro_value(parts[0], lookup, depth, keep)
        try:
            start = int(parts[1])
            length = int(parts[2]) if len(parts) > 2 else None
        except (ValueError, IndexError):
            raise MacroError(f"$SUBSTR needs (name,start[,length]), got ({arg})") from None
        if start < 0:
            start = max(len(val) + start, 0)
        s = val[start:]
        if length is not None:
            s = s[:length] if length >= 0 else s[:max(len(s) + length, 0)]
        return s
    if up == "DIRNAME":
        return _file_parts("p", arg, lookup, depth, keep)
    if up == "BASENAME":
        return _file_parts("nx", arg, lookup, depth, keep)
    if up.startswith("F") and re.fullmatch(r"F[fpduwnxbqa]*", fname):
        return _file_parts(fname[1:], arg, lookup, depth, keep)
    return None


def _eval_number(text: str):
    """Evaluate a small arithmetic expression (numbers, + - * / % and parens)."""
    if not re.fullmatch(r"[\d\s.eE+\-*/%()]+", text):
        raise ValueError(text)
    import ast
    node = ast.parse(text.strip(), mode="eval")
    for sub in ast.walk(node):
        if not isinstance(sub, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)):
            raise ValueError(text)
    return eval(compile(node, "<macro>", "eval"), {"__builtins__": {}}, {})  # arithmetic only (checked above)


def _file_parts(flags: str, arg: str, lookup, depth, keep) -> str:
    """``$F...(name)`` path pieces (manual: Macros, ``$F[fpduwnxbqa]``)."""
    name = arg.strip()
    v = lookup(name)
    path = expand(v, lookup, depth + 1, keep) if v is not None else name
    path = path.strip()
    if "f" in flags and not os.path.isabs(path):
        path = os.path.join(os.getcwd(), path)
    if "u" in flags:
        path = path.replace("\\", "/")
    if "w" in flags:
        path = path.replace("/", "\\")
    sep_idx = max(path.rfind("/"), path.rfind("\\"))
    dirpart, base = (path[:sep_idx + 1], path[sep_idx + 1:]) if sep_idx >= 0 else ("", path)
    dot = base.rfind(".")
    stem, ext = (base[:dot], base[dot:]) if dot > 0 else (base, "")
    want = set(flags) & set("pdnx")
    if not want:
        result = path
    else:
        result = ""
        if "p" in want:
            result += dirpart
        elif "d" in want:
            d = dirpart.rstrip("/\\")
            k = max(d.rfind("/"), d.rfind("\\"))
            result += d[k + 1:] + (dirpart[-1:] if dirpart else "")
        if "n" in want:
            result += stem
        if "x" in want:
            result += ext
    if "b" in flags:
        if "x" in want and "n" not in want and result.startswith("."):
            result = result[1:]
        elif "d" in want and "n" not in want and "x" not in want and result and result[-1] in "/\\":
            result = result[:-1]
    if "q" in flags:
        result = ("'" + result + "'") if "a" in flags else ('"' + result + '"')
    return result
