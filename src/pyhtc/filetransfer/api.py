"""The calls the shadow and the starter make.

Asyncio (daemons)::

    result = await send_files(stream, input_plan(job_ad))             # shadow: input
    result = await receive_files(stream, sandbox, ReceivePolicy.for_job_input(job_ad))
    result = await send_files(stream, output_plan(job_ad, sandbox, snap))   # starter
    result = await receive_files(stream, iwd, ReceivePolicy.for_job_output(job_ad))

Blocking (tools, threads): :func:`send_files_blocking`, :func:`receive_files_blocking`.

``stream`` is a CEDAR stream already past the command (FILETRANS_UPLOAD = 61000 when the
client sends, FILETRANS_DOWNLOAD = 61001 when the client receives, src/condor_utils/
file_transfer.cpp HandleCommands; the transfer key that follows the command is the caller's
business).  Every call returns a :class:`~pyhtc.filetransfer.protocol.TransferResult`; a
failure -- a file that cannot be read (13), written or refused (12), a peer's failure report,
or a broken connection (``try_again`` True) -- is in the result, not raised.  The stream is
left open; a broken one should be closed by the caller.
"""
from __future__ import annotations

import errno
import time

from pyhtc.cedar.errors import CedarError

from .drivers import drive_async, drive_blocking
from .errors import DOWNLOAD_FILE_ERROR, UPLOAD_FILE_ERROR, TransferError
from .plan import ReceivePolicy, TransferPlan
from .protocol import TransferResult, download, upload
from .sink import FileSink


def _broken(result: TransferResult, code: int, exc: Exception, start: float) -> TransferResult:
    result.success = False
    if isinstance(exc, TransferError):
        result.fail(exc)
    else:
        text = str(exc) or type(exc).__name__
        result.hold_code, result.hold_subcode = code, errno.ECONNRESET
        result.reason = f"file transfer connection failed: {text}"
        result.try_again = True
    result.seconds = time.monotonic() - start
    return result


async def send_files(stream, plan: TransferPlan, *, final_transfer: bool = True
                     ) -> TransferResult:
    """Send ``plan`` over an asyncio CedarStream (the DoUpload side).

    Returns a TransferResult (files, bytes, seconds, names = destination names; on failure
    hold_code 13 for our read errors, the peer's code for its failures, ``try_again`` for
    connection failures).
    """
    result, start = TransferResult(), time.monotonic()
    try:
        return await drive_async(stream, upload(stream.conn, plan, result,
                                                final_transfer=final_transfer))
    except (CedarError, TransferError) as exc:
        return _broken(result, UPLOAD_FILE_ERROR, exc, start)


async def receive_files(stream, dest_dir: str, policy: ReceivePolicy | None = None
                        ) -> TransferResult:
    """Receive files into ``dest_dir`` over an asyncio CedarStream (the DoDownload side).

    Args:
        dest_dir: existing directory (sandbox or Iwd); peer names are resolved inside it.
        policy: remaps, allowed absolute destinations, byte limit, executable name.
    Returns a TransferResult (names = local paths written; failures: 12 for names refused
    or writes failed, the sender's code when it reported a failure).  Partial files are
    never left under a final name.
    """
    policy = policy or ReceivePolicy()
    result, start = TransferResult(), time.monotonic()
    try:
        return await drive_async(stream, download(stream.conn, FileSink(dest_dir, policy),
                                                  result, max_bytes=policy.max_bytes))
    except (CedarError, TransferError) as exc:
        return _broken(result, DOWNLOAD_FILE_ERROR, exc, start)


def send_files_blocking(stream, plan: TransferPlan, *, final_transfer: bool = True
                        ) -> TransferResult:
    """:func:`send_files` over a blocking stream (``BlockingStream``)."""
    result, start = TransferResult(), time.monotonic()
    try:
        return drive_blocking(stream, upload(stream.conn, plan, result,
                                             final_transfer=final_transfer))
    except (CedarError, TransferError) as exc:
        return _broken(result, UPLOAD_FILE_ERROR, exc, start)


def receive_files_blocking(stream, dest_dir: str, policy: ReceivePolicy | None = None
                           ) -> TransferResult:
    """:func:`receive_files` over a blocking stream (``BlockingStream``)."""
    policy = policy or ReceivePolicy()
    result, start = TransferResult(), time.monotonic()
    try:
        return drive_blocking(stream, download(stream.conn, FileSink(dest_dir, policy),
                                               result, max_bytes=policy.max_bytes))
    except (CedarError, TransferError) as exc:
        return _broken(result, DOWNLOAD_FILE_ERROR, exc, start)
