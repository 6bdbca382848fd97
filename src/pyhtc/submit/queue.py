"""The ``queue`` statement: its arguments and the items it iterates over.

Forms (HTCondor manual, condor_submit "queue"; submit_utils.cpp parse_q_args,
load_inline_q_foreach_items, load_external_q_foreach_items):

    queue [N]
    queue [N] [var[,var...]] in [slice] item, item ...   | in [slice] ( lines )
    queue [N] [var[,var...]] matching [files|dirs] [slice] glob ...
    queue [N] [var[,var...]] from [slice] file | from [slice] ( lines ) | from command args |

N may be an arithmetic expression (``15*1000``).  The default variable is
``Item``.  For ``from`` (and ``in`` with several variables) each row is split
on commas/whitespace, the last variable taking the remainder of the row.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

__all__ = ["QueueError", "QueueArgs", "parse_queue_args", "load_items"]


class QueueError(ValueError):
    """An invalid queue statement (message as HTCondor's: ``invalid Queue statement``)."""


@dataclass
class QueueArgs:
    """Parsed queue arguments.

    ``mode`` is None (plain count), "in", "from" or "matching";
    ``items`` are the inline or in-line item texts (None when read from a file).
    """
    count: int = 1
    vars: list[str] = field(default_factory=list)
    mode: str | None = None
    slice: tuple | None = None
    match_kind: str | None = None  # "files" / "dirs" / None
    source: str | None = None      # file name for `from FILE`
    items: list[str] | None = None
    count_text: str = ""


_KW = re.compile(r"(?i)(?:^|\s|,)(in|from|matching)(?=\s|\(|\[|$)")
_SLICE = re.compile(r"^\[\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?(?::\s*(-?\d*)\s*)?\]")


def _eval_count(text: str) -> int:
    if not re.fullmatch(r"[\d\s+\-*/%()]+", text):
        raise QueueError(f"invalid Queue statement: {text!r} is not a number")
    import ast
    node = ast.parse(text.strip(), mode="eval")
    for sub in ast.walk(node):
        if not isinstance(sub, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)):
            raise QueueError(f"invalid Queue statement: {text!r}")
    val = eval(compile(node, "<queue>", "eval"), {"__builtins__": {}}, {})  # arithmetic only (checked above)
    return int(val)


def parse_queue_args(args: str, items: list[str] | None = None) -> QueueArgs:
    """Parse the text after ``queue`` (macros already expanded).  Raises QueueError."""
    qa = QueueArgs()
    m = _KW.search(args)
    pre, post = (args[:m.start(1)], args[m.end(1):]) if m else (args, None)
    pre = pre.strip().rstrip(",").strip()
    if pre:
        first, _, rest = pre.partition(" ")
        if re.fullmatch(r"[\d+\-*/%()]+", first):
            qa.count_text = first
            qa.count = _eval_count(first)
            pre = rest.strip()
        if pre:
            names = [v for v in re.split(r"[\s,]+", pre) if v]
            for v in names:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", v):
                    raise QueueError(f"invalid Queue statement: bad variable name {v!r}")
            qa.vars = names
    if m is None:
        if items is not None:
            raise QueueError("invalid Queue statement: item list without in/from/matching")
        return qa
    qa.mode = m.group(1).lower()
    post = post.strip()
    if qa.mode == "matching":
        kw = re.match(r"(?i)(files|dirs)\b\s*", post)
        if kw:
            qa.match_kind = kw.group(1).lower()
            post = post[kw.end():]
    sm = _SLICE.match(post)
    if sm:
        conv = lambda s: int(s) if s not in (None, "") else None  # noqa: E731
        qa.slice = (conv(sm.group(1)), conv(sm.group(2)), conv(sm.group(3)))
        post = post[sm.end():].strip()
    if items is not None:
        qa.items = list(items)
    elif qa.mode == "from":
        if not post:
            raise QueueError("invalid Queue statement: 'from' needs a file name or ( items )")
        qa.source = post  # a file name, or "command args |" to run
    else:
        qa.items = [post] if post else []
    return qa


def _split_row(row: str, nvars: int) -> list[str]:
    row = row.strip()
    if nvars <= 1:
        return [row]
    parts = []
    rest = row
    for _ in range(nvars - 1):
        m = re.match(r"\s*([^,\s]*)\s*,?\s*", rest)
        parts.append(m.group(1))
        rest = rest[m.end():]
    parts.append(rest.strip())
    return parts


def _run_item_script(command: str, cwd: str) -> list[str]:
    """``queue ... from command args |``: the command's standard output lines are the items
    (submit_utils.cpp load_external_q_foreach_items runs it with my_popen, no shell)."""
    import shlex
    import subprocess
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise QueueError(f"invalid Queue statement: bad command {command!r}: {e}") from None
    if not argv:
        raise QueueError("invalid Queue statement: 'from |' needs a command")
    try:
        r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise QueueError(f"invalid Queue statement: could not run {command!r}: {e}") from None
    if r.returncode != 0:
        raise QueueError(f"invalid Queue statement: {command!r} exited with status {r.returncode}")
    return r.stdout.decode("utf-8", "surrogateescape").split("\n")


def load_items(qa: QueueArgs, cwd: str) -> list[dict[str, str]] | None:
    """Rows of variable values for ``qa``, or None for a plain ``queue N``.

    ``cwd`` is where ``matching`` globs and ``from FILE`` are resolved.
    Raises QueueError (an empty ``matching`` result is an error, as in HTCondor).
    """
    if qa.mode is None:
        return None
    names = qa.vars or ["Item"]
    rows: list[str]
    if qa.mode == "from":
        if qa.items is None and qa.source.endswith("|"):
            rows = _run_item_script(qa.source[:-1].strip(), cwd)
        elif qa.items is None:
            path = qa.source if os.path.isabs(qa.source) else os.path.join(cwd, qa.source)
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                    rows = [ln.rstrip("\n") for ln in fh]
            except OSError as e:
                raise QueueError(f"invalid Queue statement: cannot read items from {qa.source}: {e.strerror}") from None
        else:
            rows = list(qa.items)
        rows = [r for r in rows if r.strip() and not r.strip().startswith("#")]
    elif qa.mode == "in":
        rows = []
        for line in qa.items or []:
            if len(names) > 1:
                rows.append(line)
            else:
                rows.extend(t for t in re.split(r"[\s,]+", line.strip()) if t)
    else:  # matching
        pats = []
        for line in qa.items or []:
            pats.extend(t for t in re.split(r"[\s,]+", line.strip()) if t)
        rows = []
        for pat in pats:
            full = pat if os.path.isabs(pat) else os.path.join(cwd, pat)
            hits = sorted(glob.glob(full))
            for h in hits:
                if qa.match_kind == "files" and not os.path.isfile(h):
                    continue
                if qa.match_kind == "dirs" and not os.path.isdir(h):
                    continue
                rel = h if os.path.isabs(pat) else os.path.relpath(h, cwd)
                if os.path.isdir(h) and qa.match_kind != "dirs":
                    rel = rel  # directories match too unless 'files' was given
                if rel not in rows:
                    rows.append(rel)
        if not rows:
            raise QueueError("invalid Queue statement")
    if qa.slice is not None:
        rows = rows[slice(*qa.slice)]
    return [dict(zip(names, _split_row(r, len(names)))) for r in rows]
