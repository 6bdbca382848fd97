"""The receiving side's file system work: resolving peer names into safe local paths and
writing files through temporaries that are renamed into place only when complete.

A file being received lives as ``.<name>.xfer-<random>`` in its destination directory
(created O_EXCL | O_NOFOLLOW, mode 0600).  It is renamed to its final name only after exactly
the announced number of bytes arrived; on any failure (peer cut the connection, disk error,
short data) the temporary is unlinked, so a partial file never appears under the final name.
"""
from __future__ import annotations

import errno
import os
import secrets
import stat

from .errors import RemapError, TransferError, UnsafePathError
from .paths import check_parent_inside, check_relative_target, clean_peer_name, is_within
from .plan import ReceivePolicy
from .remaps import remap_find

#: condor_mode_t values with special meaning (src/condor_includes/stream.h)
NULL_FILE_PERMISSIONS = 0
MISSING_FILE_PERMISSIONS = 1 << 24


def _os_error(code: int, what: str, path: str, exc: OSError) -> TransferError:
    num = exc.errno or errno.EIO
    return TransferError(code, num, f"{what} {path}: (errno {num}) {os.strerror(num)}")


class PartialFile:
    """A file being received into a temporary beside ``final``.

    Raises TransferError (the policy's hold code, subcode errno) when the temporary cannot
    be created.
    """

    def __init__(self, final: str, hold_code: int):
        self.final = final
        self.hold_code = hold_code
        directory, base = os.path.split(final)
        self.tmp = os.path.join(directory, f".{base}.xfer-{secrets.token_hex(6)}")
        self.written = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.tmp, flags, 0o600)
        except OSError as exc:
            raise _os_error(hold_code, "writing to", final, exc) from None

    def write(self, data) -> None:
        """Append bytes (raises TransferError on a write failure)."""
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
                self.written += n
        except OSError as exc:
            raise _os_error(self.hold_code, "writing to", self.final, exc) from None

    def commit(self, expected: int, mode: int | None, force_mode: int | None = None) -> None:
        """Verify the size, apply permissions and rename into place.  On failure the
        temporary is removed and TransferError raised."""
        try:
            os.close(self.fd)
            self.fd = -1
            if self.written != expected:
                raise TransferError(self.hold_code, errno.EIO,
                                    f"received {self.written} bytes for {self.final}, "
                                    f"expected {expected}")
            if force_mode is not None:
                os.chmod(self.tmp, force_mode)
            elif mode not in (None, NULL_FILE_PERMISSIONS, MISSING_FILE_PERMISSIONS):
                # permission bits only: never setuid/setgid from a peer
                os.chmod(self.tmp, mode & 0o777)
            try:
                st = os.lstat(self.final)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISDIR(st.st_mode):
                raise TransferError(self.hold_code, errno.EISDIR,
                                    f"writing to {self.final}: (errno {errno.EISDIR}) "
                                    f"{os.strerror(errno.EISDIR)}")
            os.replace(self.tmp, self.final)
        except OSError as exc:
            self.abort()
            raise _os_error(self.hold_code, "writing to", self.final, exc) from None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Close and unlink the temporary (idempotent)."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


class FileSink:
    """Maps peer names to local paths under ``dest_dir`` following a :class:`ReceivePolicy`.

    Args:
        dest_dir: the sandbox (execute side) or the job's Iwd (submit side); must exist.
        policy: remaps, allowed absolute destinations, executable name.
    """

    def __init__(self, dest_dir: str, policy: ReceivePolicy | None = None):
        self.dest_dir = os.path.abspath(dest_dir)
        self.policy = policy or ReceivePolicy()
        self.code = self.policy.hold_code

    def resolve(self, peer_name: str) -> str:
        """The local path for a name sent by the peer.

        Raises:
            UnsafePathError: the name (or its remap) leaves the destination, is absolute
                without being an allowed remap target, or passes through a symlink out.
            TransferError: remap cycle or remap to a URL (12 / EPERM).
        """
        clean = clean_peer_name(peer_name, self.code)
        target = clean
        if self.policy.remaps:
            try:
                mapped = remap_find(self.policy.remaps, clean)
            except RemapError as exc:
                raise TransferError(self.code, errno.EPERM, str(exc)) from None
            if mapped is not None:
                target = mapped
        if "://" in target:
            raise TransferError(self.code, errno.EPERM,
                                f"Remap of output file resulted in a URL: {target}")
        if os.path.isabs(target):
            if ".." in target.split("/"):
                raise UnsafePathError(self.code, f"remapped destination {target!r} contains '..'")
            full = os.path.normpath(target)
            for root in self.policy.allowed_roots:
                if is_within(full, root):
                    base = os.path.dirname(root) if full == os.path.normpath(root) else root
                    check_parent_inside(full, base, self.code)
                    return full
            if is_within(full, self.dest_dir):
                check_parent_inside(full, self.dest_dir, self.code)
                return full
            raise UnsafePathError(self.code, f"absolute destination {full} for {clean!r} is "
                                             f"not an allowed location")
        rel = check_relative_target(target, self.code, f"destination for {clean!r}")
        full = os.path.join(self.dest_dir, rel)
        check_parent_inside(full, self.dest_dir, self.code)
        return full

    def mkdir(self, full: str, mode: int) -> None:
        """Create a directory (mode 0700 when the peer sent none); an existing directory is
        kept, anything else in the way (a file, a symlink) is replaced (DoDownload Mkdir).
        Raises TransferError (hold code, errno)."""
        perms = (mode & 0o777) if mode not in (NULL_FILE_PERMISSIONS,
                                               MISSING_FILE_PERMISSIONS) else 0o700
        try:
            os.mkdir(full, perms)
        except FileExistsError:
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                return
            try:
                os.unlink(full)
                os.mkdir(full, perms)
            except OSError as exc:
                raise _os_error(self.code, "failed to create directory", full, exc) from None
        except OSError as exc:
            raise _os_error(self.code, "failed to create directory", full, exc) from None
        try:
            os.chmod(full, perms)  # umask-independent, as DoDownload's umask(0)
        except OSError:
            pass

    def open(self, full: str) -> PartialFile:
        """Start receiving into ``full`` (raises TransferError)."""
        return PartialFile(full, self.code)

    def force_mode_for(self, clean_name: str) -> int | None:
        """0755 for the job's executable (DoDownload chmods ExecFile), else None."""
        if self.policy.executable and clean_name == self.policy.executable:
            return 0o755
        return None
