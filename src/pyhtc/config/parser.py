"""Reading configuration text: lines, statements, includes, conditionals and templates.

Follows Parse_macros, getline_implementation, ConfigIfStack, Test_config_if_expression and
read_meta_config in src/condor_utils/config.cpp, and the manual "Introduction to Configuration"
(sections "Comments and Line Continuations", "Multi-Line Values", "Including Configuration from
Elsewhere", "Reporting Errors and Warnings", "Conditionals in Configuration", "Configuration
Templates").

The statements of one logical line:

    NAME = value          NAME : value (obsolete, warns)      NAME += more   NAME +,= more
    NAME @=tag ... @tag   include [ifexist] [command] [into FILE] : target   include : cmd |
    use CATEGORY : Template[(args)][, Template...]             error [code] : msg   warning : msg
    if COND / elif COND / else / endif                          [ini section]  (ignored)

The parser calls back into its ``Config`` for lookups and inserts; it does not hold state of
its own beyond the current source.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from typing import TYPE_CHECKING, Iterable, Iterator

from .errors import ConfigError
from .macros import expand, expand_meta_args, expand_self, is_idchar

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

__all__ = ["logical_lines", "SourceParser", "MAX_INCLUDE_DEPTH", "test_if_expression"]

MAX_INCLUDE_DEPTH = 20          # CONFIG_MAX_NESTING_DEPTH
_PLUS_SEPARATORS = ",;|&*"      # CONFIG_PLUS_SEP_CHARSET


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Split config text into logical lines: ``(line number of the last physical line, text)``.

    Each physical line is trimmed of surrounding whitespace.  A trailing backslash joins the
    next line.  A line starting with ``#`` is a comment, and a backslash at its end does not
    continue it.  A comment line met *inside* a continuation contributes only its last
    character: so a commented-out line ending in ``\\`` keeps the continuation going, and one
    that does not ends it (HTCondor's getline_implementation with
    CONFIG_GETLINE_OPT_CONTINUE_MAY_BE_COMMENTED_OUT | CONFIG_GETLINE_OPT_COMMENT_DOESNT_CONTINUE).
    """
    buf = ""
    lineno = 0
    continuing = False
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    for raw in physical:
        lineno += 1
        line = raw.strip()
        in_comment = line.startswith("#")
        if in_comment and continuing:
            line = line[-1:]
            in_comment = False
        buf += line
        if buf.endswith("\\"):
            buf = buf[:-1]
            if not in_comment:
                continuing = True
                continue
        yield lineno, buf
        buf = ""
        continuing = False
    if continuing:
        yield lineno, buf


class _IfStack:
    """Nesting state of if/elif/else/endif (ConfigIfStack)."""

    def __init__(self) -> None:
        # one frame per open if: [this branch enabled, some branch taken, else seen]
        self.frames: list[list[bool]] = []

    def enabled(self) -> bool:
        return all(frame[0] for frame in self.frames)

    def outer_enabled(self) -> bool:
        return all(frame[0] for frame in self.frames[:-1])


_IF_KEYWORD = re.compile(r"^(if|elif|else|endif)(?:\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)


def _characterize(expr: str) -> str:
    """Classify an if-condition the way Characterize_config_if_expression does (simplified)."""
    text = expr.strip()
    if not text:
        return "empty"
    if re.fullmatch(r"-?(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)", text):
        return "number"
    low = text.lower()
    if low in ("true", "false"):
        return "bool"
    if low == "version" or re.match(r"version\s*!?\s*[<=>]", low):
        return "version"
    if low == "defined" or re.match(r"defined\s", low):
        return "defined"
    if re.fullmatch(r"[A-Za-z0-9_./]+", text):
        return "identifier"
    return "complex"


def _version_tuple(text: str) -> tuple[int, int, int] | None:
    text = text.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m or int(m.group(1)) < 6:
        return None
    return int(m.group(1)), int(m.group(2)), (int(m.group(3)) if m.group(3) else -1)


def _our_version() -> tuple[int, int, int]:
    from .. import CONDOR_VERSION
    major, minor, sub = (CONDOR_VERSION.split(".") + ["0", "0"])[:3]
    return int(major), int(minor), int(sub)


def test_if_expression(expr: str, config: "Config") -> bool:
    """Evaluate an ``if``/``elif`` condition; raises ValueError with the reason if invalid.

    Accepts ``true/false/yes/no/t/f``, numbers (non-zero is true), ``version <op> x.y[.z]``
    (ops ``== != < <= > >=``; an omitted sub-minor matches ours), ``defined NAME`` (non-empty
    value, defaults table included), ``defined use CAT[:Template]``, ``$(X)`` that expands to one
    of those (empty means false), each optionally preceded by ``!``.
    """
    expanded = False
    if "$" in expr:
        expr = expand(expr, config._macro_context()).rstrip()
        expanded = True
    expr = expr.strip()
    inverted = False
    if expr.startswith("!"):
        inverted = True
        expr = expr[1:].strip()
    if expanded and not expr:
        return inverted
    kind = _characterize(expr)
    low = expr.lower()
    if kind == "number":
        result = float(expr) != 0
    elif kind == "bool":
        result = low == "true"
    elif kind == "identifier" and low in ("yes", "t", "no", "f"):
        result = low in ("yes", "t")
    elif kind == "version":
        m = re.match(r"version\s*(!?)\s*([<=>]?)(=?)\s*(.*)$", expr, re.IGNORECASE | re.DOTALL)
        negated, opch, eq, literal = m.group(1), m.group(2), m.group(3), m.group(4)
        want = _version_tuple(literal)
        if want is None:
            raise ValueError("the version literal is invalid")
        ours = _our_version()
        if want[2] < 0:
            want = (want[0], want[1], ours[2])
        diff = (ours > want) - (ours < want)          # our version compared to the literal
        op = {"<": -1, "=": 0, ">": 1, "": 0}[opch]
        result = diff == op or (bool(eq) and diff == 0)
        if negated:
            result = not result
    elif kind == "defined":
        rest = expr[7:].strip()
        if not rest:
            result = False
        elif rest.lower().startswith("use "):
            spec = rest[4:].strip()
            if any(c.isspace() for c in spec):
                raise ValueError("defined use meta argument with internal spaces will never match")
            category, _, template = spec.partition(":")
            result = config._find_template(category, template or None) is not None
        else:
            sub = _characterize(rest)
            if sub in ("number", "bool"):
                result = True
            elif sub == "identifier":
                raw = config._lookup(rest)
                result = bool(raw) or (raw is None and rest.lower() in ("yes", "t", "no", "f"))
            else:
                raise ValueError("defined argument must be param name, boolean, or number")
    elif kind == "complex":
        raise ValueError("complex conditionals are not supported")
    else:
        raise ValueError("expression is not a conditional")
    return result != inverted


class SourceParser:
    """Parses one source (file, command output, string or template) into a Config.

    source:  name recorded as provenance (file path, command, ``<string>``...).
    depth:   include nesting depth (MAX_INCLUDE_DEPTH is the limit).
    meta:    for template text, ``(use_line, "CATEGORY:Template")``: values then record the
             ``use`` line and their offset in the template ("use ROLE:Personal+2").
    """

    def __init__(self, config: "Config", source: str, depth: int = 0,
                 meta: tuple[int, str] | None = None):
        self.config = config
        self.source = source
        self.depth = depth
        self.meta = meta
        self.here_name: str | None = None
        self.here_tag = ""
        self.here_lines: list[str] = []
        self.here_start = 0

    # -- helpers ---------------------------------------------------------------------------
    def _error(self, message: str, line: int) -> ConfigError:
        if self.meta:
            return ConfigError(f"{message} (in use {self.meta[1]}, line {line - 1} of the template)",
                               self.source, self.meta[0])
        return ConfigError(message, self.source, line)

    def _where(self, line: int) -> tuple[int, str | None]:
        """(line recorded for a value, template note) for a statement at ``line``."""
        if self.meta:
            return self.meta[0], f"{self.meta[1]}+{line - 1}"
        return line, None

    # -- driver ----------------------------------------------------------------------------
    def parse(self, lines: Iterable[tuple[int, str]]) -> None:
        """Parse logical lines; raises ConfigError naming source and line on any error."""
        ifs = _IfStack()
        last = 0
        for lineno, line in lines:
            last = lineno
            if not line or line.startswith("#"):
                continue
            if self.here_name is not None:
                if line[0] == "@" and line[1:] == self.here_tag:
                    self._finish_here(lineno)
                else:
                    self.here_lines.append(line)
                continue
            if line.startswith(":") and (ifs.frames or re.match(r":if(\s|$)", line)):
                line = line[1:]
            if self._handle_if(line, lineno, ifs):
                continue
            if not ifs.enabled():
                continue
            self._statement(line, lineno)
        if self.here_name is not None:
            raise self._error(f"end of file while scanning for '@{self.here_tag}' "
                              f"(multi-line value {self.here_name} began at line {self.here_start})",
                              last)
        if ifs.frames:
            raise self._error("endif(s) not found before end-of-file", last)

    def _finish_here(self, lineno: int) -> None:
        name = self.here_name
        value = "\n".join(self.here_lines)
        value = expand_self(value, self.config._self_names(name), self.config._macro_context())
        line, note = self._where(lineno)
        self.config._insert(name, value, self.source, line, note)
        self.here_name = None
        self.here_lines = []

    def _handle_if(self, line: str, lineno: int, ifs: _IfStack) -> bool:
        m = _IF_KEYWORD.match(line)
        if not m:
            return False
        word, expr = m.group(1).lower(), m.group(2).strip()
        if word == "if":
            value = False
            if ifs.enabled():
                try:
                    value = test_if_expression(expr, self.config)
                except (ValueError, ConfigError) as exc:
                    raise self._error(f"{expr} is not a valid if condition because {exc}", lineno) from None
            ifs.frames.append([value, value, False])
        elif word == "elif":
            if not ifs.frames:
                raise self._error("elif without matching if", lineno)
            frame = ifs.frames[-1]
            if frame[2]:
                raise self._error("elif is not allowed after else", lineno)
            value = False
            if not frame[1] and ifs.outer_enabled():
                try:
                    value = test_if_expression(expr, self.config)
                except (ValueError, ConfigError) as exc:
                    raise self._error(f"{expr} is not a valid elif condition because {exc}", lineno) from None
            frame[0] = value
            frame[1] = frame[1] or value
        elif word == "else":
            if not ifs.frames:
                raise self._error("else without matching if", lineno)
            frame = ifs.frames[-1]
            if frame[2]:
                raise self._error("else is not allowed after else", lineno)
            frame[0] = not frame[1]
            frame[2] = True
        else:
            if not ifs.frames:
                raise self._error("endif without matching if", lineno)
            ifs.frames.pop()
        return True

    # -- statements ------------------------------------------------------------------------
    def _statement(self, line: str, lineno: int) -> None:
        n = len(line)
        i = 0
        while i < n and not (line[i].isspace() or line[i] in "=:"):
            i += 1
        if i >= n:
            if line.startswith("["):
                return          # a Windows .ini style section header is ignored
            raise self._error(f"syntax error, no '=' in: {line}", lineno)
        name = line[:i]
        op = line[i]
        words_before_op = ""
        plus_sep = ""
        double_plus = False
        j = i + 1
        if op not in "=:":
            k = i
            while k < n and line[k].isspace():
                k += 1
            start_words = k
            while k < n and line[k] not in "=:@+":
                k += 1
            words_before_op = line[start_words:k].strip()
            op = line[k] if k < n else ""
            j = k + 1
            if op == "@":
                if j < n and line[j] == "=":
                    j += 1
                else:
                    op = ""
            elif op == "+":
                if j < n and line[j] in _PLUS_SEPARATORS:
                    plus_sep = line[j]
                    j += 1
                    if j < n and line[j] == plus_sep:
                        double_plus = True
                        j += 1
                if j < n and line[j] == "=":
                    j += 1
                else:
                    op = ""
        if not op:
            raise self._error(f"syntax error, missing '=' in: {line}", lineno)
        rhs = line[j:].lstrip()
        keyword = name[1:] if name.startswith("@") else name
        keyword = keyword.lower()
        config = self.config
        if op == ":" and keyword in ("use", "include", "error", "warning"):
            if keyword == "use":
                category = expand(words_before_op, config._macro_context())
                self._use(category, rhs, lineno)
            elif keyword == "include":
                self._include(words_before_op, rhs, lineno)
            else:
                message = expand(rhs, config._macro_context())
                if keyword == "warning":
                    config.warnings.append(f'Warning "{self.source}", Line {lineno}: {message}')
                    return
                raise self._error(f"error: {message}", lineno)
            return
        if op == ":":
            config.warnings.append(f'Warning "{self.source}", Line {lineno}: obsolete use of \':\' '
                                   f'for parameter assignment at {name} : {rhs}')
        name = expand(name, config._macro_context())
        if not name or not all(is_idchar(c) for c in name):
            raise self._error(f"Illegal Identifier: <{name}>", lineno)
        if op == "@":
            self.here_name = name
            self.here_tag = rhs
            self.here_lines = []
            self.here_start = lineno
            return
        if op == "+":
            current = config._lookup(name)
            if current:
                if not plus_sep:
                    joiner = " "
                elif double_plus:
                    joiner = f" {plus_sep}{plus_sep} "
                else:
                    joiner = plus_sep
                rhs = current + joiner + rhs
        value = expand_self(rhs, config._self_names(name), config._macro_context())
        where, note = self._where(lineno)
        config._insert(name, value, self.source, where, note)

    def _use(self, category: str, rhs: str, lineno: int) -> None:
        if not category:
            raise self._error(f"use needs a keyword before : {rhs}", lineno)
        if self.depth + 1 >= MAX_INCLUDE_DEPTH:
            raise self._error("use templates nested too deep", lineno)
        for template, args in _split_templates(rhs):
            found = self.config._find_template(category, template)
            if found is None:
                if self.config._find_template(category, None) is None:
                    raise self._error(f"use {category}: does not recognise category {category}", lineno)
                raise self._error(f"use {category}: does not recognise {template}", lineno)
            cat_key, tpl_key, text = found
            if args or re.search(r"\$\(\d", text):
                text = expand_meta_args(text, args)
            use_line = self.meta[0] if self.meta else lineno
            inner = SourceParser(self.config, self.source, self.depth + 1,
                                 meta=(use_line, f"{cat_key}:{tpl_key}"))
            inner.parse((idx + 1, part.strip()) for idx, part in enumerate(text.split("\n")))

    def _include(self, options: str, target: str, lineno: int) -> None:
        config = self.config
        if self.meta:
            raise self._error("include is not allowed in a template", lineno)
        words = options.lower().split()
        ifexist = command = False
        into = None
        idx = 0
        while idx < len(words):
            word = words[idx]
            if word == "ifexist":
                ifexist = True
            elif word == "command":
                command = True
            elif word == "into" and idx + 1 < len(words):
                into = options.split()[idx + 1]
                idx += 1
            else:
                raise self._error(f"unexpected keyword(s) '{options}' after include", lineno)
            idx += 1
        if into is not None and not command:
            raise self._error("include into requires the command keyword", lineno)
        target = expand(target, config._macro_context()).strip()
        if target.endswith("|"):
            command = True
            target = target[:-1].strip()
        if self.depth + 1 >= MAX_INCLUDE_DEPTH:
            raise self._error("includes nested too deep", lineno)
        if command:
            if into is not None:
                cache = expand(into, config._macro_context())
                if not cache:
                    raise self._error("destination for 'include into' expanded to ''", lineno)
                if not os.path.exists(cache):
                    try:
                        text = run_config_command(target, config.environ)
                    except ConfigError as exc:
                        if ifexist:
                            return
                        raise self._error(exc.message, lineno) from None
                    with open(cache, "w", encoding="utf-8") as fh:
                        fh.write(text)
                config._parse_file(cache, self.depth + 1, required=not ifexist, where=(self.source, lineno))
                return
            try:
                text = run_config_command(target, config.environ)
            except ConfigError as exc:
                if ifexist:
                    return
                raise self._error(exc.message, lineno) from None
            config._record_source(target + " |")
            SourceParser(config, target + " |", self.depth + 1).parse(logical_lines(text))
            return
        config._parse_file(target, self.depth + 1, required=not ifexist, where=(self.source, lineno))


def _split_templates(rhs: str) -> list[tuple[str, str]]:
    """``"A, B(x, (y)), C"`` -> ``[("A", ""), ("B", "x, (y)"), ("C", "")]`` (MetaKnobAndArgs)."""
    out = []
    i, n = 0, len(rhs)
    while i < n:
        while i < n and (rhs[i].isspace() or rhs[i] == ","):
            i += 1
        start = i
        while i < n and not (rhs[i].isspace() or rhs[i] in ",("):
            i += 1
        if i == start:
            break
        name = rhs[start:i]
        while i < n and rhs[i].isspace():
            i += 1
        args = ""
        if i < n and rhs[i] == "(":
            depth = 0
            j = i
            while j < n:
                if rhs[j] in "([":
                    depth += 1
                elif rhs[j] in ")]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            args = rhs[i + 1:j]
            i = j + 1
        out.append((name, args))
    return out


def run_config_command(cmdline: str, environ) -> str:
    """Run a configuration command (``include command : ...`` or a ``cmd |`` source); return stdout.

    The command line is split like a shell would (no shell is run).  Raises ConfigError if it
    cannot be started or exits non-zero.
    """
    try:
        argv = shlex.split(cmdline)
    except ValueError as exc:
        raise ConfigError(f"cannot parse command line {cmdline!r}: {exc}") from None
    if not argv:
        raise ConfigError("empty command line")
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=dict(environ), timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot run {cmdline!r}: {exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise ConfigError(f"command {cmdline!r} exited with status {proc.returncode}"
                          + (f": {detail}" if detail else ""))
    return proc.stdout.decode("utf-8", "replace")
