"""Planning a transfer: which local files go, under which names (pure functions over a job
ClassAd and directories; no sockets).

Semantics follow the HTCondor manual (docs/users-manual/file-transfer.rst) and
src/condor_utils/file_transfer.cpp (ExpandFileTransferList, FindChangedFiles, _Init):

* input: the executable (``Cmd``) when ``TransferExecutable`` (default true), the stdin file
  (``In``) when ``TransferIn`` (default true) and not ``/dev/null``, and every entry of
  ``TransferInput`` (comma separated), relative to ``Iwd`` unless absolute.  A file arrives
  under its base name.  A directory ``dir`` arrives as ``dir`` with its whole tree; ``dir/``
  (trailing slash) sends only its contents into the destination's top level.  Symlinks to
  files are followed; a symlink to a directory without a trailing slash is refused (as
  HTCondor does); sockets and FIFOs are skipped.
* output: the ``TransferOutput`` entries when given, otherwise every *new or changed* regular
  file in the sandbox's top level (compared with a snapshot taken before the job ran);
  subdirectories are not part of the default set.  The stdout/stderr files (``Out``/``Err``
  base names, when ``TransferOut``/``TransferErr`` are not false) are always added.
* a file that cannot be sent (missing, unreadable, escaping the sandbox) stays in the plan
  with an ``error``: the sender transmits an empty placeholder the receiver discards, and the
  final report carries hold code 13 with the errno, as put_file's PUT_FILE_OPEN_FAILED path.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field

from .errors import DOWNLOAD_FILE_ERROR, UPLOAD_FILE_ERROR, TransferError, UnsafePathError
from .paths import check_source_inside
from .remaps import parse_remaps

#: files a starter keeps in the sandbox that are never output (jic_shadow / starter names)
DEFAULT_OUTPUT_EXCLUDE = frozenset({
    ".job.ad", ".machine.ad", ".update.ad", ".chirp.config", ".execution_overlay.ad",
    ".docker_sock", ".docker_stdout", ".docker_stderr", "_condor_creds",
})

NULL_FILE = "/dev/null"


@dataclass
class FileItem:
    """One entry of a transfer.

    Attributes:
        src: local path the sender reads (absolute).
        dest: destination name on the wire, relative, ``/`` separated.
        is_dir: a directory (sent as a mkdir command, TransferCommand::Mkdir = 6).
        mode: the ``st_mode`` sent to the peer (permission bits are applied there).
        size: bytes at planning time (files only).
        error: set when the file cannot be sent; it is then replaced on the wire by an empty
            placeholder and the transfer fails with this error's hold code.
    """
    src: str
    dest: str
    is_dir: bool = False
    mode: int = 0
    size: int = 0
    error: TransferError | None = None


@dataclass
class TransferPlan:
    """An ordered list of :class:`FileItem` (directories precede their contents).

    Attributes:
        items: the entries, duplicates (same ``dest``) removed keeping the first.
    """
    items: list[FileItem] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Sum of file sizes (HTCondor's SandboxSize, sent in the transfer info ad)."""
        return sum(i.size for i in self.items if not i.is_dir and i.error is None)

    @property
    def size_mb(self) -> int:
        """Total size rounded up to MiB (the unit of TransferInputSizeMB)."""
        return (self.total_bytes + (1 << 20) - 1) >> 20

    @property
    def names(self) -> list[str]:
        """Destination names in order."""
        return [i.dest for i in self.items]

    @property
    def errors(self) -> list[TransferError]:
        """Errors of the items that cannot be sent."""
        return [i.error for i in self.items if i.error is not None]

    def add(self, items: list[FileItem]) -> None:
        """Append items whose destination name is not already present."""
        seen = {i.dest for i in self.items}
        for item in items:
            if item.dest not in seen:
                seen.add(item.dest)
                self.items.append(item)


# -- job ad access ------------------------------------------------------------------------------
def job_attr(ad, name: str, default=None):
    """Evaluate attribute ``name`` of a job ad and return a Python value (``default`` when
    missing, undefined or error).  Accepts a pyhtc/classad2 ``ClassAd`` (evaluated), a
    :class:`~pyhtc.cedar.wire_ad.WireAd`-like object with ``get``, or a plain dict."""
    if ad is None:
        return default
    if isinstance(ad, dict):
        value = ad.get(name, default)
    elif hasattr(ad, "eval") and hasattr(ad, "__contains__"):
        if name not in ad:
            return default
        try:
            value = ad.eval(name)
        except Exception:  # an expression that cannot be evaluated counts as undefined
            return default
    else:
        value = ad.get(name, default)
    if value is None or type(value).__name__ == "Value":  # classad Undefined / Error
        return default
    return value


def job_bool(ad, name: str, default: bool) -> bool:
    """A boolean job attribute (strings "true"/"false" accepted, as old-syntax ads carry)."""
    value = job_attr(ad, name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def split_file_list(value: str | None) -> list[str]:
    """Split a TransferInput/TransferOutput value: comma separated, blanks trimmed, empty
    entries dropped (HTCondor's StringTokenIterator with ",")."""
    if not value:
        return []
    return [p.strip() for p in str(value).split(",") if p.strip()]


def should_transfer_files(ad) -> str:
    """``ShouldTransferFiles`` normalised to ``YES``, ``NO`` or ``IF_NEEDED`` (default
    ``IF_NEEDED``, manual file-transfer.rst).  Raises ValueError on anything else."""
    value = str(job_attr(ad, "ShouldTransferFiles", "IF_NEEDED")).strip().upper()
    if value not in ("YES", "NO", "IF_NEEDED"):
        raise ValueError(f"ShouldTransferFiles = {value!r}: expected YES, NO or IF_NEEDED")
    return value


def when_to_transfer_output(ad) -> str:
    """``WhenToTransferOutput`` normalised to ``ON_EXIT`` or ``ON_EXIT_OR_EVICT`` (default
    ``ON_EXIT``; ``ON_SUCCESS`` is accepted as HTCondor 23+ does).  Raises ValueError."""
    value = str(job_attr(ad, "WhenToTransferOutput", "ON_EXIT")).strip().upper()
    if value not in ("ON_EXIT", "ON_EXIT_OR_EVICT", "ON_SUCCESS"):
        raise ValueError(f"WhenToTransferOutput = {value!r}: expected ON_EXIT or "
                         f"ON_EXIT_OR_EVICT")
    return value


def transfer_output_now(ad, evicted: bool) -> bool:
    """Should the starter send output now?  On exit always (when files are transferred);
    on eviction only with ``ON_EXIT_OR_EVICT`` (manual, when_to_transfer_output)."""
    if should_transfer_files(ad) == "NO":
        return False
    return (not evicted) or when_to_transfer_output(ad) == "ON_EXIT_OR_EVICT"


# -- expansion ----------------------------------------------------------------------------------
def _missing(path: str, exc: OSError, code: int = UPLOAD_FILE_ERROR) -> TransferError:
    num = exc.errno or errno.EIO
    return TransferError(code, num, f"reading from {path}: (errno {num}) {os.strerror(num)}")


def expand_entry(name: str, base_dir: str, dest_prefix: str = "", *,
                 sandbox: str | None = None) -> list[FileItem]:
    """Expand one transfer list entry into items (ExpandFileTransferList semantics).

    Args:
        name: the entry as written (relative to ``base_dir`` unless absolute); a trailing
            ``/`` on a directory means "its contents only".
        base_dir: the directory relative names are resolved in (Iwd or the sandbox).
        dest_prefix: destination directory prefix (``""`` = top level).
        sandbox: when given, every source must resolve inside it (execute side sending
            output); an escape becomes an item error (13 / EPERM).
    Returns:
        items, a directory before its contents; never raises for file-system problems
        (they become item errors).
    """
    trailing = name.endswith("/") and len(name) > 1
    path = name if os.path.isabs(name) else os.path.join(base_dir, name)
    path = os.path.normpath(path)
    base = os.path.basename(path.rstrip("/")) or path
    dest = f"{dest_prefix}/{base}" if dest_prefix else base
    try:
        if sandbox is not None:
            check_source_inside(path, sandbox, UPLOAD_FILE_ERROR)
        lst = os.lstat(path)
        st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst
    except UnsafePathError as exc:
        return [FileItem(path, dest, error=exc)]
    except OSError as exc:
        return [FileItem(path, dest, error=_missing(path, exc))]
    if stat.S_ISSOCK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return []
    if not stat.S_ISDIR(st.st_mode):
        return [FileItem(path, dest, mode=st.st_mode, size=st.st_size)]
    if stat.S_ISLNK(lst.st_mode) and not trailing:
        return [FileItem(path, dest, is_dir=True, error=TransferError(
            UPLOAD_FILE_ERROR, errno.EISDIR,
            f"reading from {path}: Transfer of symlinks to directories is not supported."))]
    items: list[FileItem] = []
    inner_prefix = dest_prefix
    if not trailing:
        items.append(FileItem(path, dest, is_dir=True, mode=st.st_mode))
        inner_prefix = dest
    try:
        entries = sorted(os.listdir(path))
    except OSError as exc:
        return items + [FileItem(path, dest, error=_missing(path, exc))]
    for entry in entries:
        items.extend(expand_entry(os.path.join(path, entry), base_dir, inner_prefix,
                                  sandbox=sandbox))
    return items


def _iwd(ad, iwd: str | None) -> str:
    iwd = iwd or job_attr(ad, "Iwd")
    if not iwd or not os.path.isabs(str(iwd)):
        raise ValueError(f"job ad has no absolute Iwd (Iwd = {iwd!r})")
    return str(iwd)


def input_plan(ad, iwd: str | None = None) -> TransferPlan:
    """The input files of a job, read on the submit side (the shadow uploads them).

    Args:
        ad: the job ClassAd (Iwd, Cmd, TransferExecutable, In, TransferIn, TransferInput).
        iwd: overrides the ad's ``Iwd``.
    Returns:
        a :class:`TransferPlan`; missing files are items with errors (hold 13, ENOENT).
    Raises:
        ValueError: no absolute Iwd; URL entries (file-transfer plugins are not supported).
    """
    iwd = _iwd(ad, iwd)
    plan = TransferPlan()
    cmd = job_attr(ad, "Cmd")
    if cmd and job_bool(ad, "TransferExecutable", True):
        plan.add(expand_entry(str(cmd), iwd))
    stdin = job_attr(ad, "In")
    if stdin and str(stdin) != NULL_FILE and job_bool(ad, "TransferIn", True):
        plan.add(expand_entry(str(stdin), iwd))
    for entry in split_file_list(job_attr(ad, "TransferInput")):
        if "://" in entry:
            raise ValueError(f"TransferInput entry {entry!r} is a URL: file-transfer plugins "
                             f"are not supported")
        plan.add(expand_entry(entry, iwd))
    return plan


def snapshot_sandbox(sandbox: str) -> dict[str, tuple[int, int]]:
    """Top-level entries of the sandbox -> ``(st_mtime_ns, st_size)``; take it after the
    input arrived and before the job starts (FileTransfer's file catalog)."""
    snap = {}
    with os.scandir(sandbox) as it:
        for entry in it:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            snap[entry.name] = (st.st_mtime_ns, st.st_size)
    return snap


def _std_names(ad) -> list[str]:
    names = []
    for attr, flag in (("Out", "TransferOut"), ("Err", "TransferErr")):
        value = job_attr(ad, attr)
        if value and str(value) != NULL_FILE and job_bool(ad, flag, True) \
                and not job_bool(ad, "Stream" + attr, False):  # StreamOut / StreamErr
            names.append(os.path.basename(str(value)))
    return names


def output_plan(ad, sandbox: str, snapshot: dict | None = None, *,
                exclude=DEFAULT_OUTPUT_EXCLUDE) -> TransferPlan:
    """The output files of a job, read on the execute side (the starter uploads them).

    Args:
        ad: the job ClassAd (TransferOutput, Out/Err, TransferOut/TransferErr, Cmd).
        sandbox: the job's scratch directory.
        snapshot: :func:`snapshot_sandbox` taken before the job ran; None = every top-level
            file counts as new.
        exclude: top-level names never sent by default.
    Returns:
        a :class:`TransferPlan`; sources must resolve inside the sandbox (a symlink pointing
        out becomes an item error, hold 13 / EPERM).
    """
    plan = TransferPlan()
    explicit = job_attr(ad, "TransferOutput")
    std = _std_names(ad)
    if explicit is not None and str(explicit).strip() != "":
        for entry in split_file_list(explicit):
            plan.add(expand_entry(entry, sandbox, sandbox=sandbox))
    else:
        snapshot = snapshot or {}
        with os.scandir(sandbox) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if entry.name in exclude:
                continue
            try:
                lst = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (lst.st_mtime_ns, lst.st_size) == snapshot.get(entry.name):
                continue  # unchanged since the job started
            try:
                st = entry.stat()  # follows symlinks
            except OSError:
                continue  # dangling link: nothing to send
            if not stat.S_ISREG(st.st_mode):
                continue  # the default set holds only top-level files
            plan.add(expand_entry(entry.name, sandbox, sandbox=sandbox))
    for name in std:
        plan.add(expand_entry(name, sandbox, sandbox=sandbox))
    return plan


# -- receiving side policy ----------------------------------------------------------------------
@dataclass
class ReceivePolicy:
    """What the receiving side accepts and where names go.

    Attributes:
        remaps: TransferOutputRemaps rules (see :mod:`~pyhtc.filetransfer.remaps`); applied
            to the (already validated) peer names.
        allowed_roots: absolute directories or files an absolute remap target may name (the
            submit side allows exactly the absolute targets the job's own remaps name).
        max_bytes: total bytes accepted (HTCondor MaxDownloadBytes; -1 = no limit).
        executable: destination name that gets mode 0755 (the job's executable).
        hold_code: code for failures on this side (12, DownloadFileError).
    """
    remaps: list = field(default_factory=list)
    allowed_roots: tuple = ()
    max_bytes: int = -1
    executable: str | None = None
    hold_code: int = DOWNLOAD_FILE_ERROR

    @classmethod
    def for_job_output(cls, ad, *, max_bytes: int = -1) -> "ReceivePolicy":
        """Submit side receiving output: the job's TransferOutputRemaps; absolute targets named
        there are allowed destinations.  An ``Out``/``Err`` with a directory part and no remap
        for its base name gets one (what condor_submit writes, submit_utils.cpp, for ads that
        did not come through condor_submit)."""
        rules = parse_remaps(job_attr(ad, "TransferOutputRemaps"))
        named = {name for name, _ in rules}
        for attr in ("Out", "Err"):
            value = job_attr(ad, attr)
            if not value or str(value) == NULL_FILE:
                continue
            value = str(value)
            base = os.path.basename(value)
            if base != value and base not in named:
                rules.append((base, value))
                named.add(base)
        roots = tuple(os.path.normpath(t) for _, t in rules if os.path.isabs(t))
        return cls(remaps=rules, allowed_roots=roots, max_bytes=max_bytes)

    @classmethod
    def for_job_input(cls, ad, *, max_bytes: int = -1) -> "ReceivePolicy":
        """Execute side receiving input: no remaps, the executable made runnable."""
        cmd = job_attr(ad, "Cmd")
        exe = os.path.basename(str(cmd)) if cmd and job_bool(ad, "TransferExecutable", True) \
            else None
        return cls(executable=exe, max_bytes=max_bytes)
