"""HTCondor's FileTransfer wire protocol, sans-IO (src/condor_utils/file_transfer.cpp
DoUpload / DoDownload / SendTransferAck / GetTransferAck / *TransferGoAhead;
src/condor_io/reli_sock.cpp put_file / get_file / *_with_permissions).

Both sides are generators that yield the effects they need from a driver
(:mod:`pyhtc.filetransfer.drivers`): :data:`~pyhtc.cedar.ops.RECV` (next CEDAR message),
:class:`~pyhtc.cedar.ops.Send` (one CEDAR message), and for unencrypted streams
:class:`SendRaw` / :class:`RecvRaw` (file bytes outside CEDAR framing, as put_bytes_nobuffer /
get_bytes_nobuffer write them straight on the socket).  They read and write local files
themselves, a chunk at a time (never a whole file in memory).

Message sequence (each line is one CEDAR message; ``int`` is CEDAR's 8-byte integer)::

    sender                                     receiver
    int final_transfer, ad [SandboxSize=N]  ->
    for each entry:
      int command (1 file, 6 mkdir)         ->
      string name                            ->
      (first entry only: the go-ahead exchange)
      int alive_interval                     ->
                                             <- ad [Result=2; MaxTransferBytes=M]
                                             <- int alive_interval
      ad [Result=2]                          ->
      file:  int mode & 0777                 ->   (1<<24 = missing: placeholder follows)
             int size [, int 262144 if AES]  ->
             data: AES: one message per <=256 KiB chunk; clear: raw bytes, no framing
             int 666                         ->   (only when size == 0)
      mkdir: int st_mode (type bits too)     ->
    int 0 (Finished)                         ->
    ad [Result; TransferStats; HoldReason*]  ->   the sender's report
                                             <- ad [Result; ...]   the receiver's report

``Result`` is 0 success, 1 failed (try again), -1 failed (hold); a failure carries
``HoldReasonCode``, ``HoldReasonSubCode`` and ``HoldReason``.  Encryption switching
(commands 2/3), X.509 delegation (4), URLs (5) and the ClassAd command 999 are not produced;
receiving them is a protocol error.
"""
from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass, field

from pyhtc.cedar.errors import ProtocolError
from pyhtc.cedar.ops import RECV, Send
from pyhtc.cedar.wire_ad import WireAd, get_ad, put_ad, quote_string

from .errors import (HOLD_CODE_NAMES, INVALID_TRANSFER_ACK,
                     MAX_TRANSFER_OUTPUT_SIZE_EXCEEDED, UPLOAD_FILE_ERROR, TransferError)
from .paths import clean_peer_name
from .plan import TransferPlan
from .sink import MISSING_FILE_PERMISSIONS, FileSink, PartialFile

# TransferCommand (file_transfer.cpp)
CMD_FINISHED = 0
CMD_XFER_FILE = 1
CMD_ENABLE_ENCRYPTION = 2
CMD_DISABLE_ENCRYPTION = 3
CMD_XFER_X509 = 4
CMD_DOWNLOAD_URL = 5
CMD_MKDIR = 6
CMD_OTHER = 999

#: reli_sock.cpp PUT_FILE_EOM_NUM: follows a zero-length file
PUT_FILE_EOM_NUM = 666
#: reli_sock.cpp: chunk size without AES (raw) and with AES-GCM (one message per chunk)
OLD_FILE_BUF_SZ = 65536
AES_FILE_BUF_SZ = 262144
#: largest AES chunk we accept from a peer (a peer announcing more is refused)
MAX_PEER_BUF_SZ = 16 * 1024 * 1024
# go-ahead (file_transfer.cpp GO_AHEAD_*)
GO_AHEAD_FAILED = -1
GO_AHEAD_UNDEFINED = 0
GO_AHEAD_ALWAYS = 2
#: ReceiveTransferGoAhead's minimum alive interval (seconds)
MIN_ALIVE_INTERVAL = 300


@dataclass
class SendRaw:
    """Write ``data`` on the socket without CEDAR framing (put_bytes_nobuffer)."""
    data: bytes


@dataclass
class RecvRaw:
    """Read 1..``n`` unframed bytes (get_bytes_nobuffer); the driver returns ``bytes``."""
    n: int


@dataclass
class TransferResult:
    """Outcome of one transfer, on either side.

    Attributes:
        success: both sides reported success.
        files: entries transferred (files and directories).
        bytes: file bytes moved.
        seconds: wall time.
        names: destination names (sender) or local paths written (receiver), in order.
        hold_code, hold_subcode, reason, try_again: the failure (0/0/""/False on success):
            12 receive/write side, 13 read/send side, subcode errno.
        final_transfer: the sender's final_transfer flag (receiver side).
        sandbox_size: the sender's announced SandboxSize (receiver side).
        peer_report: the peer's final report ad as ``{name: expression}``.
    """
    success: bool = False
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    names: list = field(default_factory=list)
    hold_code: int = 0
    hold_subcode: int = 0
    reason: str = ""
    try_again: bool = False
    final_transfer: bool = True
    sandbox_size: int = 0
    peer_report: dict = field(default_factory=dict)

    @property
    def error(self) -> TransferError | None:
        """The failure as a TransferError (None on success)."""
        if self.success:
            return None
        return TransferError(self.hold_code, self.hold_subcode, self.reason, self.try_again)

    @property
    def hold_reason_name(self) -> str:
        """HTCondor's name for the hold code (``TransferOutputError``...)."""
        return HOLD_CODE_NAMES.get(self.hold_code, str(self.hold_code))

    def fail(self, err: TransferError) -> None:
        """Record ``err`` unless a failure is already recorded (only the first counts)."""
        if self.hold_code == 0 and not self.reason:
            self.success = False
            self.hold_code, self.hold_subcode = err.hold_code, err.hold_subcode
            self.reason, self.try_again = err.reason, err.try_again


# -- message helpers ---------------------------------------------------------------------------
def _ints(conn, *values: int) -> Send:
    enc = conn.encoder()
    for v in values:
        enc.put_int(v)
    return Send(enc.data)


def _ad_msg(conn, ad: WireAd) -> Send:
    enc = conn.encoder()
    put_ad(enc, ad)
    return Send(enc.data)


def _recv_int(what: str):
    msg = yield RECV
    dec = msg.decoder()
    dec.what = f"{what} ({dec.what})"
    value = dec.get_int()
    dec.finish()
    return value


def _recv_ad(what: str):
    msg = yield RECV
    dec = msg.decoder()
    dec.what = f"{what} ({dec.what})"
    ad = get_ad(dec)
    dec.finish()
    return ad


def report_ad(result: TransferResult, stats_files: int) -> WireAd:
    """SendTransferAck's ad for ``result``: Result 0 / 1 (try again) / -1 (hold), the
    TransferStats sub-ad, and HoldReasonCode/SubCode/HoldReason on failure (newlines in the
    reason escaped as HTCondor does)."""
    ad = WireAd()
    code = 0 if result.success else (1 if result.try_again else -1)
    ad.set("Result", code)
    ad.set_expr("TransferStats", f"[ CedarFilesCount = {int(stats_files)} ]")
    if not result.success:
        ad.set("HoldReasonCode", result.hold_code)
        ad.set("HoldReasonSubCode", result.hold_subcode)
        if result.reason:
            ad.set_expr("HoldReason", quote_string(result.reason.replace("\n", "\\n")))
    return ad


def parse_report(ad: WireAd) -> tuple[bool, TransferError | None]:
    """GetTransferAck: ``(success, error)`` from a peer's report ad; an ad without
    ``Result`` is a failure with hold code 24 (InvalidTransferAck)."""
    result = ad.get_int("Result")
    if result is None:
        return False, TransferError(INVALID_TRANSFER_ACK, 0,
                                    "Download acknowledgment missing attribute: Result")
    if result == 0:
        return True, None
    return False, TransferError(ad.get_int("HoldReasonCode", 0) or 0,
                                ad.get_int("HoldReasonSubCode", 0) or 0,
                                ad.get_str("HoldReason", "") or "", try_again=result > 0)


def _report_dict(ad: WireAd) -> dict:
    return {name: expr for name, expr in ad}


# -- sender (DoUpload) -------------------------------------------------------------------------
def _send_empty(conn, crypto: bool):
    """put_empty_file(): size 0 (+ buffer size under AES), then 666 in its own message."""
    yield _ints(conn, 0, AES_FILE_BUF_SZ) if crypto else _ints(conn, 0)
    yield _ints(conn, PUT_FILE_EOM_NUM)


def _read_full(fh, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads; shorter only at end of file."""
    parts, got = [], 0
    while got < n:
        chunk = fh.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _send_file(conn, item, crypto: bool, result: TransferResult):
    """put_file_with_permissions() for one plan item; returns bytes sent."""
    err = item.error
    fh = None
    if err is None:
        try:
            fh = open(item.src, "rb", buffering=0)
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        except OSError as exc:
            if fh is not None:
                fh.close()
            fh = None
            num = exc.errno or errno.EIO
            err = TransferError(UPLOAD_FILE_ERROR, num,
                                f"reading from {item.src}: (errno {num}) {os.strerror(num)}")
    if fh is None:
        # PUT_FILE_OPEN_FAILED: tell the peer "missing" and send an empty placeholder
        result.fail(err)
        yield _ints(conn, MISSING_FILE_PERMISSIONS)
        yield from _send_empty(conn, crypto)
        return 0
    with fh:
        size = st.st_size
        # Stream::code(condor_mode_t) puts only the 0777 bits on the wire
        yield _ints(conn, st.st_mode & 0o777)
        yield _ints(conn, size, AES_FILE_BUF_SZ) if crypto else _ints(conn, size)
        sent = 0
        chunk_size = AES_FILE_BUF_SZ if crypto else OLD_FILE_BUF_SZ
        while sent < size:
            # full chunks: HTCondor's AES receiver reads exactly buf_sz bytes per message
            chunk = _read_full(fh, min(chunk_size, size - sent))
            if not chunk:
                # the stream now lacks bytes the peer waits for: only closing can end it
                raise TransferError(UPLOAD_FILE_ERROR, errno.EIO,
                                    f"reading from {item.src}: file shrank to {sent} bytes "
                                    f"while sending {size}", try_again=True)
            sent += len(chunk)
            yield Send(chunk) if crypto else SendRaw(chunk)
        if size == 0:
            yield _ints(conn, PUT_FILE_EOM_NUM)
    return size


def upload(conn, plan: TransferPlan, result: TransferResult, *, final_transfer: bool = True,
           alive_interval: int = MIN_ALIVE_INTERVAL):
    """Sender generator (DoUpload).  Fills ``result`` as it goes and returns it.

    Args:
        conn: the stream's ReliConnection (for the string mode and ``crypto_mode`` only).
        plan: what to send.
        result: a fresh TransferResult updated in place (so a driver can report progress
            when the connection fails).
        final_transfer: HTCondor's final_transfer flag (the receiver writes into Iwd).
    Raises:
        ProtocolError / ConnectionClosed from the peer; TransferError when the stream is left
        unusable (a file shrank while being sent).
    """
    start = time.monotonic()
    crypto = conn.crypto_mode
    info = WireAd()
    result.sandbox_size = plan.total_bytes
    info.set("SandboxSize", plan.total_bytes)
    enc = conn.encoder()
    enc.put_int(1 if final_transfer else 0)
    put_ad(enc, info)
    yield Send(enc.data)
    go_ahead = False
    peer_max = -1
    for item in plan.items:
        command = CMD_MKDIR if item.is_dir and item.error is None else CMD_XFER_FILE
        yield _ints(conn, command)
        enc = conn.encoder()
        enc.put_string(item.dest)
        yield Send(enc.data)
        if not go_ahead:
            # ReceiveTransferGoAhead (we send): our alive interval, then the peer's verdict
            yield _ints(conn, max(alive_interval, MIN_ALIVE_INTERVAL))
            while True:
                ad = yield from _recv_ad("GoAhead message")
                verdict = ad.get_int("Result")
                if verdict is None:
                    raise ProtocolError("GoAhead message missing attribute: Result")
                mtb = ad.get_int("MaxTransferBytes")
                if mtb is not None:
                    peer_max = mtb
                if verdict != GO_AHEAD_UNDEFINED:
                    break
            if verdict < 0:
                ok, err = parse_report(ad)
                result.fail(err or TransferError(UPLOAD_FILE_ERROR, 0, "peer refused GoAhead"))
                result.seconds = time.monotonic() - start
                return result
            # ObtainAndSendTransferGoAhead (we read): the peer's alive interval, our verdict
            yield from _recv_int("GoAhead alive interval")
            ad = WireAd()
            ad.set("Result", GO_AHEAD_ALWAYS)
            yield _ad_msg(conn, ad)
            go_ahead = True
        if command == CMD_MKDIR:
            yield _ints(conn, item.mode)
        else:
            if peer_max >= 0 and item.error is None and result.bytes + item.size > peer_max:
                item.error = TransferError(
                    MAX_TRANSFER_OUTPUT_SIZE_EXCEEDED, 0,
                    f"{item.src}: max total download bytes exceeded (max={peer_max >> 20} MB)")
            result.bytes += yield from _send_file(conn, item, crypto, result)
        result.files += 1
        result.names.append(item.dest)
    yield _ints(conn, CMD_FINISHED)
    if result.hold_code == 0 and not result.reason:
        result.success = True
    yield _ad_msg(conn, report_ad(result, result.files))
    peer = yield from _recv_ad("transfer report")
    result.peer_report = _report_dict(peer)
    ok, err = parse_report(peer)
    if not ok and result.success:
        result.success = False
        result.fail(err)
    result.seconds = time.monotonic() - start
    return result


# -- receiver (DoDownload) ---------------------------------------------------------------------
def _receive_data(conn, size: int, crypto: bool, part: PartialFile | None,
                  result: TransferResult):
    """get_file() body after the size message: the data, then 666 for an empty file.
    Returns ``(bytes received, part)``; a local write error is recorded in ``result``, the
    temporary removed, and the rest of the data consumed (``part`` then None)."""
    got = 0
    while got < size:
        if crypto:
            msg = yield RECV
            data = msg.payload
            if len(data) > size - got:
                raise ProtocolError(f"file chunk of {len(data)} bytes exceeds the "
                                    f"{size - got} announced bytes left", msg.offset)
        else:
            data = yield RecvRaw(min(OLD_FILE_BUF_SZ, size - got))
        got += len(data)
        if part is not None:
            try:
                part.write(data)
            except TransferError as exc:
                result.fail(exc)
                part.abort()
                part = None
    if size == 0:
        eom = yield from _recv_int("zero-length file trailer")
        if eom != PUT_FILE_EOM_NUM:
            raise ProtocolError(f"zero-length file check failed: expected "
                                f"{PUT_FILE_EOM_NUM}, got {eom}")
    return got, part


def download(conn, sink: FileSink, result: TransferResult, *, max_bytes: int = -1):
    """Receiver generator (DoDownload).  Fills ``result`` and returns it.

    Names are validated and resolved by ``sink``; a refused name or a local write error is
    recorded (first error wins) and the file's data is consumed without being written, so the
    protocol stays in step and the error reaches the sender in our report (hold code 12).
    Raises ProtocolError / ConnectionClosed; a file being received is removed first.
    """
    start = time.monotonic()
    crypto = conn.crypto_mode
    code = sink.code
    msg = yield RECV
    dec = msg.decoder()
    result.final_transfer = dec.get_int() != 0
    info = get_ad(dec)
    dec.finish()
    result.sandbox_size = info.get_int("SandboxSize", 0) or 0
    go_ahead = False
    while True:
        command = yield from _recv_int("transfer command")
        if command == CMD_FINISHED:
            break
        if command not in (CMD_XFER_FILE, CMD_MKDIR):
            raise ProtocolError(f"unsupported file transfer command {command}")
        msg = yield RECV
        dec = msg.decoder()
        name = dec.get_string()
        dec.finish()
        full = None
        try:
            full = sink.resolve(name)
            clean = clean_peer_name(name, code)
        except TransferError as exc:
            result.fail(exc)
        if not go_ahead:
            # ObtainAndSendTransferGoAhead (we read): the peer's alive interval, our verdict
            yield from _recv_int("GoAhead alive interval")
            ad = WireAd()
            ad.set("Result", GO_AHEAD_ALWAYS)
            ad.set("MaxTransferBytes", max_bytes)
            yield _ad_msg(conn, ad)
            # ReceiveTransferGoAhead (we send)
            yield _ints(conn, MIN_ALIVE_INTERVAL)
            while True:
                ad = yield from _recv_ad("GoAhead message")
                verdict = ad.get_int("Result")
                if verdict is None:
                    raise ProtocolError("GoAhead message missing attribute: Result")
                if verdict != GO_AHEAD_UNDEFINED:
                    break
            if verdict < 0:
                ok, err = parse_report(ad)
                result.fail(err or TransferError(code, 0, "peer refused GoAhead"))
                result.seconds = time.monotonic() - start
                return result
            go_ahead = True
        mode = yield from _recv_int("file mode")
        if command == CMD_MKDIR:
            if full is not None:
                try:
                    sink.mkdir(full, mode)
                    result.names.append(full)
                except TransferError as exc:
                    result.fail(exc)
            result.files += 1
            continue
        msg = yield RECV
        dec = msg.decoder()
        size = dec.get_int()
        if crypto:
            buf_sz = dec.get_int()
            if not 0 < buf_sz <= MAX_PEER_BUF_SZ:
                raise ProtocolError(f"file buffer size {buf_sz} out of range", msg.offset)
        dec.finish()
        if size < 0:
            raise ProtocolError(f"negative file size {size} for {name!r}", msg.offset)
        if mode == MISSING_FILE_PERMISSIONS:
            full = None  # the sender could not read it; its report says why
        if full is not None and max_bytes >= 0 and result.bytes + size > max_bytes:
            result.fail(TransferError(
                MAX_TRANSFER_OUTPUT_SIZE_EXCEEDED, 0,
                f"{full}: max total download bytes exceeded (max={max_bytes >> 20} MB)"))
            full = None
        part = None
        if full is not None:
            try:
                part = sink.open(full)
            except TransferError as exc:
                result.fail(exc)
        try:
            got, part = yield from _receive_data(conn, size, crypto, part, result)
        except BaseException:
            if part is not None:
                part.abort()  # connection failure in the middle of the data
            raise
        if part is not None:
            try:
                part.commit(size, mode, sink.force_mode_for(clean))
                result.names.append(full)
            except TransferError as exc:
                result.fail(exc)
        result.bytes += got
        result.files += 1
    # the sender's report, then ours
    peer = yield from _recv_ad("transfer report")
    result.peer_report = _report_dict(peer)
    ok, err = parse_report(peer)
    if not ok:
        # the sender's failure is the one reported (DoDownload "exiting with upload errors")
        result.hold_code = result.hold_subcode = 0
        result.reason = ""
        result.fail(err)
        result.success = False
    elif result.hold_code == 0 and not result.reason:
        result.success = True
    yield _ad_msg(conn, report_ad(result, result.files))
    result.seconds = time.monotonic() - start
    return result
