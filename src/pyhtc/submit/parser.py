"""Split a submit description into statements.

The submit description language (HTCondor manual, condor_submit, "Submit
Description File Commands"; parser in src/condor_utils/submit_utils.cpp
parse_up_to_q_line and config.cpp Parse_macros) is line oriented:

* ``# ...`` lines are comments, blank lines are ignored;
* a line ending in ``\\`` continues on the next line;
* ``name = value`` defines a submit command or a macro (names ignore case);
* ``+Attr = expr`` and ``My.Attr = expr`` put a raw ClassAd attribute in the job;
* ``name @=tag`` starts a multi-line value that ends at a line ``@tag``;
* ``queue ...`` makes jobs; a ``queue ... (`` item list runs to a line ``)``;
* ``if <cond>`` / ``elif`` / ``else`` / ``endif``, ``include : file``,
  ``error : text`` and ``warning : text`` are directives.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SubmitSyntaxError", "Assign", "Queue", "Directive", "parse"]


class SubmitSyntaxError(ValueError):
    """Bad submit text; the message starts with ``file:line:`` (or ``line N:``)."""


@dataclass
class Assign:
    """``key = value`` (``+Attr`` is stored as ``MY.Attr``)."""
    key: str
    value: str
    line: int


@dataclass
class Queue:
    """A ``queue`` statement; ``items`` holds an inline ``(...)`` list's lines."""
    args: str
    line: int
    items: list[str] | None = None
    raw: str = ""           # the text after ``queue`` on its line, as written
    error: str | None = None  # a deferred error (unterminated item list)


@dataclass
class Directive:
    """``if``/``elif``/``else``/``endif``/``include``/``error``/``warning``."""
    kind: str
    arg: str
    line: int


_DIRECTIVES = ("if", "elif", "else", "endif", "include", "error", "warning")


def where(source: str | None, line: int) -> str:
    """``file:line`` or ``line N`` used at the front of error messages."""
    return f"{source}:{line}" if source else f"line {line}"


@dataclass
class _Lines:
    lines: list[str]
    pos: int = 0
    source: str | None = None

    def next(self):
        """Next logical line (continuations joined) and its first physical line number."""
        while self.pos < len(self.lines):
            start = self.pos + 1
            text = self.lines[self.pos]
            self.pos += 1
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                continue
            while text.rstrip().endswith("\\") and self.pos < len(self.lines):
                nxt = self.lines[self.pos]
                self.pos += 1
                if nxt.strip().startswith("#"):
                    continue
                # the continued line's leading whitespace is dropped (config.cpp)
                text = text.rstrip()[:-1] + nxt.lstrip()
            if text.rstrip().endswith("\\"):
                text = text.rstrip()[:-1]
            return text.strip(), start
        return None, len(self.lines)


def parse(text: str, source: str | None = None, first_queue_only: bool = False,
          defer_queue_errors: bool = False) -> list:
    """Parse submit text into a list of Assign / Queue / Directive statements.

    ``source`` names the file in error messages.  Raises SubmitSyntaxError;
    with ``defer_queue_errors`` an unterminated queue item list is recorded in
    ``Queue.error`` instead (the Python bindings report it only at submit time).
    """
    # lines end at "\n" only (str.splitlines would also split at \v, \f, \x1c...)
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    rd = _Lines(lines, source=source)
    out: list = []
    while True:
        line, lineno = rd.next()
        if line is None:
            break
        m = re.match(r"(?i)queue(?:\s+(.*))?$", line)
        if m:
            args = (m.group(1) or "").strip()
            q = Queue(args, lineno, raw=args)
            # an item list in ( ... ) spanning lines
            if re.search(r"\(\s*$", args) or (("(" in args) and (")" not in args.split("(", 1)[1])):
                head, _, rest = args.partition("(")
                items = [rest] if rest.strip() else []
                closed = False
                while rd.pos < len(lines):
                    raw = lines[rd.pos]
                    rd.pos += 1
                    st = raw.strip()
                    if st.startswith(")"):
                        closed = True
                        break
                    if st.startswith("#"):
                        continue
                    items.append(raw)
                if not closed:
                    msg = (f"{where(source, lineno)}: Reached end of file without finding closing brace ')' "
                           f"for Queue command on line {lineno}")
                    if not defer_queue_errors:
                        raise SubmitSyntaxError(msg)
                    q.error = msg
                q.args = head.strip()
                q.items = [i for i in items if i.strip()]
            elif "(" in args and args.rstrip().endswith(")"):
                head, _, rest = args.partition("(")
                q.args = head.strip()
                q.items = [x for x in rest.rstrip()[:-1].splitlines() if x.strip()]
            out.append(q)
            if first_queue_only:
                break
            continue
        word = re.match(r"([A-Za-z]+)\b(.*)$", line)
        if word and word.group(1).lower() in _DIRECTIVES and not re.match(r"\s*=", word.group(2)):
            kind = word.group(1).lower()
            arg = word.group(2).strip()
            if kind in ("include", "error", "warning"):
                if not arg.startswith(":"):
                    raise SubmitSyntaxError(f"{where(source, lineno)}: {kind} must be followed by ':'")
                arg = arg[1:].strip()
            out.append(Directive(kind, arg, lineno))
            continue
        m = re.match(r"([^=\s]+(?:\s+[^=\s]+)*?)\s*@=\s*(\S+)\s*$", line)
        if m:
            key, tag = m.group(1), m.group(2)
            body = []
            closed = False
            while rd.pos < len(lines):
                raw = lines[rd.pos]
                rd.pos += 1
                if raw.strip() == "@" + tag:
                    closed = True
                    break
                body.append(raw)
            if not closed:
                raise SubmitSyntaxError(f"{where(source, lineno)}: no closing @{tag} for {key} @={tag}")
            out.append(Assign(_key(key, source, lineno), "\n".join(b.strip() for b in body), lineno))
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or not key or re.search(r"\s", key):
            raise SubmitSyntaxError(f"{where(source, lineno)}: syntax error, expected 'name = value' or 'queue', got: {line}")
        out.append(Assign(_key(key, source, lineno), value.strip(), lineno))
    return out


def _key(key: str, source, lineno) -> str:
    if key.startswith("+"):
        key = "MY." + key[1:]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", key):
        raise SubmitSyntaxError(f"{where(source, lineno)}: invalid command or macro name {key!r}")
    return key
