"""Job arguments and environment strings (src/condor_utils/condor_arglist.cpp, env.cpp;
manual man-pages/condor_submit.rst "arguments" and "environment").

New syntax (``Arguments``, ``Environment``): words separated by whitespace; a single-quoted
part keeps its whitespace, and ``''`` inside quotes is one literal quote.  Old syntax:
``Args`` splits on whitespace; ``Env`` is ``NAME=VALUE`` pairs separated by ``;``.
"""
from __future__ import annotations

from pyhtc.submit.argsenv import ArgsError, split_v2_raw


def split_new_syntax(text: str) -> list[str]:
    """Words of a new-syntax argument/environment string (the submit side's V2 splitter,
    :func:`pyhtc.submit.argsenv.split_v2_raw`).  Raises ValueError naming the offset of an
    unterminated quote."""
    try:
        return split_v2_raw(text)
    except ArgsError as exc:
        raise ValueError(f"unterminated single quote at offset {exc.offset} in {text!r}") from None


def parse_arguments(text: str, new_syntax: bool = True) -> list[str]:
    """argv words of ``Arguments`` (new syntax) or ``Args`` (old: whitespace split)."""
    return split_new_syntax(text) if new_syntax else text.split()


def parse_environment(text: str, new_syntax: bool = True) -> dict:
    """``{NAME: VALUE}`` of ``Environment`` (new syntax) or ``Env`` (old, ``;``-separated).
    Raises ValueError for an entry without ``=``."""
    items = split_new_syntax(text) if new_syntax else [p for p in text.split(";") if p.strip()]
    env = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"environment entry {item!r} is not NAME=VALUE")
        env[name.strip()] = value
    return env
