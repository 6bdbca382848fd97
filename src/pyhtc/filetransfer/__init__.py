"""pyhtc.filetransfer -- HTCondor's job file transfer between the shadow (submit side) and the
starter (execute side) over CEDAR (src/condor_utils/file_transfer.cpp; manual
docs/users-manual/file-transfer.rst).

* :mod:`~pyhtc.filetransfer.plan` -- which files go (input/output lists, trailing-slash rule,
  default output set from a sandbox snapshot), :class:`ReceivePolicy`.
* :mod:`~pyhtc.filetransfer.remaps` -- TransferOutputRemaps parsing and lookup.
* :mod:`~pyhtc.filetransfer.paths` -- the safety rules (no ``..``, no absolute peer names,
  no symlink escapes).
* :mod:`~pyhtc.filetransfer.protocol` -- the wire protocol, sans-IO, both sides.
* :mod:`~pyhtc.filetransfer.sink` -- receiving into temporaries renamed into place.
* :mod:`~pyhtc.filetransfer.drivers` / :mod:`~pyhtc.filetransfer.api` -- asyncio and blocking
  entry points: :func:`send_files`, :func:`receive_files` and their ``_blocking`` twins.

Hold codes: 12 when the receiving side fails, 13 when the sending side fails, subcode errno
(see :mod:`~pyhtc.filetransfer.errors`).
"""
from .api import receive_files, receive_files_blocking, send_files, send_files_blocking
from .errors import (DOWNLOAD_FILE_ERROR, UPLOAD_FILE_ERROR, RemapError, TransferError,
                     UnsafePathError)
from .plan import (FileItem, ReceivePolicy, TransferPlan, expand_entry, input_plan,
                   output_plan, should_transfer_files, snapshot_sandbox, transfer_output_now,
                   when_to_transfer_output)
from .protocol import TransferResult
from .remaps import parse_remaps, remap_find

__all__ = [
    "send_files", "receive_files", "send_files_blocking", "receive_files_blocking",
    "TransferError", "UnsafePathError", "RemapError", "DOWNLOAD_FILE_ERROR",
    "UPLOAD_FILE_ERROR", "FileItem", "TransferPlan", "ReceivePolicy", "TransferResult",
    "expand_entry", "input_plan", "output_plan", "snapshot_sandbox", "should_transfer_files",
    "when_to_transfer_output", "transfer_output_now", "parse_remaps", "remap_find",
]
