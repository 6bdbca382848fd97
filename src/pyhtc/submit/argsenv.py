"""``arguments`` and ``environment`` syntaxes (src/condor_utils/condor_arglist.cpp, env.cpp).

* V2 ("new") syntax: the whole value in double quotes, ``""`` for a literal
  ``"``; inside, whitespace separates items, single quotes group, ``''`` is a
  literal ``'``.
* V1 ("old") arguments: whitespace separated, ``\\"`` for ``"``; a bare ``"``
  is an error.  V1 environment: ``NAME=value`` entries separated by ``;``.

The job ad stores ``Args`` (V1 raw: items joined by spaces) when the input was
V1, otherwise ``Arguments`` (V2 raw, see :func:`v2_join`).  The environment is
stored as ``Environment`` in V2 raw form, sorted by name.
"""
from __future__ import annotations

__all__ = ["ArgsError", "is_v2_quoted", "v2_quoted_to_raw", "split_v2_raw", "v1_wacked_to_args",
           "v2_join", "parse_env", "env_v2_raw"]


class ArgsError(ValueError):
    """Bad arguments/environment text; message worded as HTCondor's.  ``offset``: the
    character offset of the problem in the text, when known (else None)."""

    def __init__(self, message: str, offset=None):
        super().__init__(message)
        self.offset = offset


def is_v2_quoted(text: str) -> bool:
    """True when ``text`` (after leading whitespace) starts with ``"``."""
    return text.lstrip().startswith('"')


def v2_quoted_to_raw(text: str) -> str:
    """Strip the outer double quotes of a V2-quoted value (``""`` -> ``"``)."""
    s = text.lstrip()
    assert s.startswith('"')
    i = 1
    out = []
    while i < len(s):
        c = s[i]
        if c == '"':
            if i + 1 < len(s) and s[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            rest = s[i + 1:]
            if rest.strip():
                raise ArgsError(
                    "Unexpected characters following double-quote.  Did you forget to escape the "
                    "double-quote by repeating it?  Here is the quote and trailing characters: "
                    f"{s[i:]}\n")
            return "".join(out)
        out.append(c)
        i += 1
    raise ArgsError("Unterminated double-quote.")


def split_v2_raw(raw: str) -> list[str]:
    """Split V2 raw text into items (single-quote grouping, ``''`` escapes)."""
    items: list[str] = []
    buf: list[str] = []
    have = False
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c in " \t\n\r":
            if have:
                items.append("".join(buf))
                buf, have = [], False
            i += 1
            continue
        have = True
        if c == "'":
            start = i
            i += 1
            while True:
                if i >= n:
                    raise ArgsError(f"Unbalanced single-quote starting here: {raw[start:]}", start)
                if raw[i] == "'":
                    if i + 1 < n and raw[i + 1] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(raw[i])
                i += 1
            continue
        buf.append(c)
        i += 1
    if have:
        items.append("".join(buf))
    return items


def v1_wacked_to_args(text: str) -> list[str]:
    """V1 arguments: ``\\"`` -> ``"``, then split on whitespace."""
    raw = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            raise ArgsError(f"Found illegal unescaped double-quote: {text[i:]}")
        if c == "\\" and i + 1 < len(text) and text[i + 1] == '"':
            raw.append('"')
            i += 2
            continue
        raw.append(c)
        i += 1
    return "".join(raw).split()


def v2_join(items: list[str]) -> str:
    """Join items into V2 raw text, quoting whitespace and ``'`` as HTCondor does."""
    out = ""
    for arg in items:
        if out:
            out += " "
        if arg == "":
            out += "''"
        for c in arg:
            if c in " \t\n\r'":
                if out.endswith("'"):
                    out = out[:-1]  # merge with the preceding quoted section
                else:
                    out += "'"
                if c == "'":
                    out += "'"
                out += c + "'"
            else:
                out += c
    return out


def parse_env(text: str, v1_delim: str = ";") -> dict[str, str]:
    """Parse an ``environment`` value (V2 if double-quoted, else V1) into a dict."""
    env: dict[str, str] = {}
    if is_v2_quoted(text):
        entries = split_v2_raw(v2_quoted_to_raw(text))
    else:
        entries = [e for e in text.split(v1_delim)]
    for e in entries:
        if e.strip() == "":
            continue
        name, eq, value = e.partition("=")
        if not eq:
            raise ArgsError(f"ERROR: Missing '=' after environment variable '{e}'.")
        if not name:
            raise ArgsError(f"ERROR: missing variable in '{e}'.")
        env[name] = value
    return env


def env_v2_raw(env: dict[str, str]) -> str:
    """V2 raw environment text: ``NAME=value`` items sorted by name."""
    return v2_join([f"{k}={env[k]}" for k in sorted(env)])
