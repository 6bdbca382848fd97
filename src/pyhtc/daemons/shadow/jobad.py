"""The job ad file the schedd hands a shadow, read once.

The schedd writes the job ad with :func:`pyhtc.daemoncore.handoff.write_job_ad` (``ClassAd.printOld()``: one
``Name = expr`` line per attribute; :meth:`pyhtc.daemons.schedd.shadows.JobRunner.start_shadow`).
The shadow needs that ad twice: the whole of it goes to the startd in ACTIVATE_CLAIM
(HTCondor's shadow sends its job ad, src/condor_shadow.V6.1/remoteresource.cpp
activateClaim), and the shadow itself reads a dozen attributes (UserLog, Iwd,
ShouldTransferFiles, the exit policy...).

Parsing all of it and unparsing it again for the wire cost more than anything else the
shadow did locally.  The lines the schedd wrote are already the wire lines putClassAd()
sends (``Name = <old-syntax unparse of the expression>``, what
:func:`pyhtc.cedar.wire_ad.from_classad` produces), so :class:`JobAdFile` sends them as
they are and parses only the attributes asked for.  That fast path is taken only for a file
:func:`~pyhtc.daemoncore.handoff.write_job_ad` wrote (its first line, a comment old-syntax readers skip, says so: every
value in it is the unparsed text of a parsed expression, so it parses back to that
expression) and only when every line is of a form for which the fast path provably gives
what the full parse gives (:func:`wire_pairs`).  Any other text (a string holding a line
break, a backslash, a quoted attribute name, a ``relTime``/``absTime`` literal, a repeated
name, a file written by someone else...) is parsed whole, exactly as
:func:`pyhtc.daemoncore.adfile.read_ad` does, and unparsed for the wire.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from pyhtc import classad as C
from pyhtc.classad.nodes import Literal
from pyhtc.cedar.wire_ad import WireAd, from_classad
from pyhtc.daemoncore.adfile import read_text
from pyhtc.daemoncore.handoff import PRINTOLD_MARK

__all__ = ["JobAdFile", "literals_only", "wire_pairs"]

#: one attribute line as printOld() writes it for an ordinary name and a value that starts
#: and ends with no blank, holds no backslash and whose double quotes pair up on the line
#: (so no string runs into the next line)
_LINE = re.compile(r'(?m)^([A-Za-z_][A-Za-z0-9_]*) = '
                   r'(?=\S)([^"\\\n]*(?:"[^"\\\n]*"[^"\\\n]*)*)(?<=\S)\n')


def wire_pairs(text: str) -> Optional[list[tuple[str, str]]]:
    """The ``(name, expression text)`` pairs of a job ad text written by
    :func:`write_job_ad`, in file order, when they are exactly what parsing the text
    (``parseOne(text, ParserType.Old)``) and converting the ad to wire form
    (:func:`~pyhtc.cedar.wire_ad.from_classad`) gives; None otherwise (the caller then takes
    that slow path).  The text must start with :data:`PRINTOLD_MARK`, end with a newline,
    hold no name twice, no CR, NUL, backslash or time literal; each other line must be
    ``Name = value`` with an unquoted name, one blank either side of ``=``, a value that
    starts and ends with no blank and whose double quotes pair up on the line."""
    if not text.startswith(PRINTOLD_MARK) or text[-1] != "\n":
        return None
    # characters with a special meaning to the old-syntax reader; time literals (the
    # parser converts them)
    if "\\" in text or "\r" in text or "\0" in text:
        return None
    low = text.lower()
    if "abstime" in low or "reltime" in low:
        return None
    pairs = _LINE.findall(text, len(PRINTOLD_MARK))
    if len(pairs) != text.count("\n") - 1:
        return None   # some line is not of that form
    if len({name.lower() for name, _ in pairs}) != len(pairs):
        return None
    return pairs


class JobAdFile:
    """One job ad file, read once (see the module doc).

    ``path``: the file.  Raises OSError when it cannot be read and SyntaxError (naming the
    path) when the slow path's parse fails, as :func:`~pyhtc.daemoncore.adfile.read_ad`.
    """

    def __init__(self, path: str):
        self.path = path
        self.text = read_text(path, "utf-8", "surrogateescape")
        self.pairs = wire_pairs(self.text)
        self._full: Optional[C.ClassAd] = None
        self._lows = frozenset()
        if self.pairs is None:
            self.full()   # parse errors surface now, as they did with read_ad()
        else:
            self._lows = frozenset(name.lower() for name, _ in self.pairs)

    def full(self) -> C.ClassAd:
        """The whole ad, parsed once (a new ClassAd each call: the caller may change it)."""
        if self._full is None:
            try:
                self._full = C.parseOne(self.text, C.ParserType.Old)
            except SyntaxError as exc:
                raise SyntaxError(f"{self.path}: {exc}") from None
        return C.ClassAd(self._full)

    def project(self, names: Iterable[str]) -> C.ClassAd:
        """A ClassAd holding those of ``names`` the job ad has, parsed from their lines alone
        (the whole ad when the text took the slow path).  Looking an attribute of ``names``
        up in it gives what the whole ad gives; *evaluating* one gives the same when its
        expression is a literal (:func:`literals_only`)."""
        if self.pairs is None:
            return self.full()
        wanted = {n.lower() for n in names}
        text = "".join([f"{name} = {expr}\n" for name, expr in self.pairs
                        if name.lower() in wanted])
        return C.parseOne(text, C.ParserType.Old) if text else C.ClassAd()

    def wire(self) -> WireAd:
        """The ad as ACTIVATE_CLAIM sends it: the file's lines (fast path) or
        :func:`~pyhtc.cedar.wire_ad.from_classad` of the parsed ad."""
        if self.pairs is not None:
            return WireAd(self.pairs)
        return from_classad(self.full())

    def wire_with(self, extra: list[tuple[str, str]]):
        """:meth:`wire` with the ``(name, expression text)`` pairs of ``extra`` set in it
        (:meth:`WireAd.set_expr`: replaced in place when the ad has the name, else
        appended), as a list of pairs :func:`~pyhtc.cedar.wire_ad.put_ad` sends, or a
        WireAd."""
        if self.pairs is not None and not any(n.lower() in self._lows for n, _ in extra):
            return self.pairs + list(extra)
        wire = self.wire()
        for name, expr in extra:
            wire.set_expr(name, expr)
        return wire


def literals_only(ad: C.ClassAd, names: Iterable[str]) -> bool:
    """Whether every attribute of ``names`` that ``ad`` defines is a literal constant (its
    value then is the same in any ad: evaluating it reads no other attribute)."""
    attrs = ad._attrs
    for name in names:
        ent = attrs.get(name.lower())
        if ent is not None and type(ent[1]) is not Literal:
            return False
    return True
