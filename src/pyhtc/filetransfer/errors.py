"""Transfer failures and HTCondor's hold codes for them.

HTCondor's FileTransfer reports failures as a (hold code, hold subcode, reason) triple
(src/condor_utils/condor_holdcodes.h, FILETRANSFER_HOLD_CODE; manual
docs/codes-other-values/hold-reason-codes.rst):

* 12 ``TransferOutputError`` / ``DownloadFileError``: the side *receiving* files failed to
  receive or write them (subcode = errno);
* 13 ``TransferInputError`` / ``UploadFileError``: the side *sending* files failed to read or
  send them (subcode = errno).

The codes name the failing operation, not the direction of the job's data: a starter that
cannot write an input file reports 12, a shadow that cannot read an input file reports 13.
A name sent by the peer that would escape the destination is refused by the receiver with
12 / EPERM, as DoDownload does for LegalPathInSandbox failures (file_transfer.cpp).
"""
from __future__ import annotations

import errno as _errno

#: receiver-side failure (condor_holdcodes.h FILETRANSFER_HOLD_CODE::DownloadFileError)
DOWNLOAD_FILE_ERROR = 12
#: sender-side failure (FILETRANSFER_HOLD_CODE::UploadFileError)
UPLOAD_FILE_ERROR = 13
#: CONDOR_HOLD_CODE::MaxTransferOutputSizeExceeded / MaxTransferInputSizeExceeded
MAX_TRANSFER_OUTPUT_SIZE_EXCEEDED = 33
MAX_TRANSFER_INPUT_SIZE_EXCEEDED = 32
#: CONDOR_HOLD_CODE::InvalidTransferAck (an ack without Result)
INVALID_TRANSFER_ACK = 24

HOLD_CODE_NAMES = {
    DOWNLOAD_FILE_ERROR: "TransferOutputError",
    UPLOAD_FILE_ERROR: "TransferInputError",
}


class TransferError(Exception):
    """A file transfer failure that becomes a job hold reason.

    Attributes:
        hold_code: HTCondor hold reason code (12 receive/write side, 13 read/send side, ...).
        hold_subcode: the errno (or 0).
        reason: human-readable text naming the file and what was wrong.
        try_again: True for transient failures (network), False when the job should go on
            hold (HTCondor's ``TryAgain`` / ack ``Result`` > 0).
    """

    def __init__(self, hold_code: int, hold_subcode: int, reason: str, try_again: bool = False):
        super().__init__(reason)
        self.hold_code = int(hold_code)
        self.hold_subcode = int(hold_subcode)
        self.reason = reason
        self.try_again = try_again

    def __repr__(self) -> str:
        return (f"TransferError(code={self.hold_code}, subcode={self.hold_subcode}, "
                f"try_again={self.try_again}, reason={self.reason!r})")


class UnsafePathError(TransferError):
    """A path that would leave the sandbox / destination (``..``, absolute peer name, a
    symlink pointing out).  Subcode EPERM, like file_transfer.cpp's LegalPathInSandbox check."""

    def __init__(self, hold_code: int, reason: str):
        super().__init__(hold_code, _errno.EPERM, reason, try_again=False)


class RemapError(ValueError):
    """TransferOutputRemaps cannot be applied (a cycle of rules, MAX_REMAP_RECURSIONS)."""
