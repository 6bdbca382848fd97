"""ClassAd files that daemons and their children hand each other (job ad, machine ad,
starter result and update ads, shadow reports): old ClassAd syntax, one ``Name = expr`` a
line, as HTCondor's ``.job.ad`` / ``.machine.ad`` files in the execute directory
(src/condor_starter.V6.1/jic_shadow.cpp writes them with ``fPrintAd``).

The files are read and written with plain ``os`` calls rather than text-mode ``open()``:
a shadow or starter forked by a fork server reads and writes a few of them once each, and
the first use of Python's text I/O stack in a fresh process costs several times the
system calls.  The results are those of ``open(path).read()`` / ``open(tmp, "w").write()``:
the locale's preferred encoding (strict), universal newlines when reading, mode
0666 & ~umask for a new file.
"""
from __future__ import annotations

import locale
import os
from typing import Optional

from pyhtc import classad as C

__all__ = ["read_ad", "read_bytes", "read_text", "write_ad", "write_bytes", "write_text"]


def read_bytes(path: str) -> bytes:
    """The bytes of ``path``, read with plain ``os`` calls.  Raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: str, encoding: Optional[str] = None, errors: str = "strict") -> str:
    """The text of ``path`` as ``open(path, encoding=encoding, errors=errors).read()``
    gives it (default: the locale's encoding, strict; ``\\r\\n`` and ``\\r`` read as
    ``\\n``).  Raises OSError, or UnicodeDecodeError (a ValueError) for bytes the
    encoding cannot decode."""
    text = read_bytes(path).decode(encoding or locale.getpreferredencoding(False), errors)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def write_bytes(path: str, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` (created with ``mode`` & ~umask, or truncated), not
    atomically: for a file nobody reads before the writer is done.  Raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file ``path + ".tmp"`` renamed over
    it, so a reader never sees half of it), encoded as ``open(tmp, "w")`` would.  Raises
    OSError, or UnicodeEncodeError (a ValueError) for text the encoding cannot hold."""
    data = text.encode(locale.getpreferredencoding(False))
    tmp = path + ".tmp"
    write_bytes(tmp, data)
    os.replace(tmp, path)


def read_ad(path: str) -> C.ClassAd:
    """The ad in the old-syntax file ``path``.  Raises OSError (FileNotFoundError when
    absent) or SyntaxError (a ClassAdParseError) whose message starts with the path."""
    text = read_text(path)
    try:
        return C.parseOne(text, C.ParserType.Old)
    except SyntaxError as exc:
        raise SyntaxError(f"{path}: {exc}") from None


def write_ad(path: str, ad: C.ClassAd) -> None:
    """Write ``ad`` to ``path`` in the old syntax, atomically (a temporary file renamed
    over it, so a reader never sees half an ad)."""
    write_text(path, ad.printOld())
