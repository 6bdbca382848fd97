"""Exceptions raised by :mod:`pyhtc.classad`.

classad2 raises ``classad2.ClassAdException`` (a plain ``Exception``) for text it cannot
parse and for most API misuse; pyhtc raises :class:`ClassAdException` the same way, and for
parse failures the subclass :class:`ClassAdParseError`, which is *also* a ``SyntaxError`` and
says where the text went wrong.
"""
from __future__ import annotations

__all__ = ["ClassAdException", "ClassAdParseError", "EvalFailure"]


class EvalFailure(Exception):
    """Internal: the evaluation cannot proceed at all (HTCondor's Evaluate() returning
    false, e.g. an absolute reference ``.x`` with no root ad). The API turns it into
    ClassAdException("failed to evaluate expression"), as classad2 does."""


class ClassAdException(Exception):
    """Failure of a ClassAd operation (mirrors ``classad2.ClassAdException``)."""


class ClassAdParseError(ClassAdException, SyntaxError):
    """ClassAd text that does not parse.

    Attributes: ``text`` (the input), ``offset`` (0-based character offset of the problem in
    ``text``), ``line`` (1-based line number), ``column`` (1-based column), ``reason``.
    ``str()`` gives ``"<reason> at line L, column C"``.
    """

    def __init__(self, reason: str, text: str = "", offset: int = 0, line: int | None = None,
                 column: int | None = None):
        self.reason = reason
        self.source_text = text
        self.pos = offset
        if line is None:
            line = text.count("\n", 0, offset) + 1
        if column is None:
            column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        self.line = line
        self.column = column
        msg = f"{reason} at line {line}, column {column}"
        SyntaxError.__init__(self, msg)
        # SyntaxError's own fields, so tracebacks point at the spot.
        self.lineno = line
        self.offset = offset
        self.text = text
        self.msg = msg

    def __str__(self) -> str:
        return self.msg
