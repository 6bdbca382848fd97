"""ClassAd files that daemons and their children hand each other (job ad, machine ad,
starter result and update ads, shadow reports): old ClassAd syntax, one ``Name = expr`` a
line, as HTCondor's ``.job.ad`` / ``.machine.ad`` files in the execute directory
(src/condor_starter.V6.1/jic_shadow.cpp writes them with ``fPrintAd``)."""
from __future__ import annotations

import os

from pyhtc import classad as C

__all__ = ["read_ad", "write_ad"]


def read_ad(path: str) -> C.ClassAd:
    """The ad in the old-syntax file ``path``.  Raises OSError (FileNotFoundError when
    absent) or SyntaxError (a ClassAdParseError) whose message starts with the path."""
    with open(path) as f:
        text = f.read()
    try:
        return C.parseOne(text, C.ParserType.Old)
    except SyntaxError as exc:
        raise SyntaxError(f"{path}: {exc}") from None


def write_ad(path: str, ad: C.ClassAd) -> None:
    """Write ``ad`` to ``path`` in the old syntax, atomically (a temporary file renamed
    over it, so a reader never sees half an ad)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(ad.printOld())
    os.replace(tmp, path)
