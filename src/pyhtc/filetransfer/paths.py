"""Path safety rules for file transfer.

What a peer sends is untrusted.  file_transfer.cpp's DoDownload refuses any name for which
LegalPathInSandbox() fails (absolute, or with ``..`` components) with hold code 12 and subcode
EPERM, consuming the data without writing it.  We apply the same rule and, in addition, refuse
to write through a symbolic link that leads outside the destination, and refuse to *send* a
sandbox file whose real path lies outside the sandbox (a job cannot make the starter ship
``/etc/shadow`` back by leaving a symlink to it).
"""
from __future__ import annotations

import os

from .errors import UnsafePathError


def clean_peer_name(name: str, hold_code: int) -> str:
    """Validate a relative name received from the peer and return it normalised
    (``./a//b`` -> ``a/b``).

    Raises:
        UnsafePathError: empty, NUL bytes, absolute (``/x``, ``\\\\x``, ``C:/x``), a ``..``
            component anywhere (``a/../../b`` is refused even where it would stay inside),
            or nothing left after normalisation.
    """
    if not name:
        raise UnsafePathError(hold_code, "peer sent an empty file name")
    if "\0" in name:
        raise UnsafePathError(hold_code, f"peer sent a file name containing NUL: {name!r}")
    drive = len(name) >= 2 and name[0].isalpha() and name[1] == ":" and \
        (len(name) == 2 or name[2] in "/\\")
    if name.startswith(("/", "\\")) or drive:
        raise UnsafePathError(
            hold_code, f"Attempt to write to illegal sandbox path: {name} (absolute name)")
    # '..' is refused whichever separator a (Windows) peer used; '\\' is otherwise an
    # ordinary character of a Unix file name
    if any(p == ".." for p in name.replace("\\", "/").split("/")):
        raise UnsafePathError(
            hold_code, f"Attempt to write to illegal sandbox path: {name} ('..' component)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(hold_code, f"peer sent an empty file name: {name!r}")
    return "/".join(parts)


def is_within(path: str, root: str) -> bool:
    """True if ``path`` equals ``root`` or lies below it (both compared as given; pass
    real paths to compare resolved locations)."""
    path = os.path.normpath(path)
    root = os.path.normpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_relative_target(rel: str, hold_code: int, what: str = "destination") -> str:
    """A relative destination (possibly from a remap) must not contain ``..`` or be
    absolute; returns it normalised.  Raises UnsafePathError."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if rel.startswith("/") or any(p == ".." for p in parts) or not parts:
        raise UnsafePathError(hold_code, f"{what} {rel!r} would leave the destination directory")
    return "/".join(parts)


def check_parent_inside(full: str, root: str, hold_code: int) -> None:
    """The real (symlink-resolved) parent directory of ``full`` must be inside the real
    ``root``; refuses writing through a symlinked directory that points out.
    Raises UnsafePathError."""
    parent = os.path.dirname(full) or "."
    real_parent = os.path.realpath(parent)
    real_root = os.path.realpath(root)
    if not is_within(real_parent, real_root):
        raise UnsafePathError(
            hold_code, f"refusing to write {full}: its directory resolves to {real_parent}, "
                       f"outside {real_root} (symlink escape)")


def check_source_inside(path: str, root: str, hold_code: int) -> str:
    """For files sent from a sandbox: the real path of ``path`` (symlinks followed) must lie
    inside the real ``root``.  Returns the real path; raises UnsafePathError."""
    real = os.path.realpath(path)
    real_root = os.path.realpath(root)
    if not is_within(real, real_root):
        raise UnsafePathError(
            hold_code, f"refusing to send {path}: it resolves to {real}, outside the sandbox "
                       f"{real_root} (symlink escape)")
    return real
