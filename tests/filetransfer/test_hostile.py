"""A hostile or broken peer: names escaping the destination, symlink escapes, remaps out of
Iwd, a connection cut in the middle of a file, protocol garbage."""
from __future__ import annotations

import errno
import os

import pytest

from pyhtc.cedar.ops import Send
from pyhtc.filetransfer import (DOWNLOAD_FILE_ERROR, ReceivePolicy, TransferPlan,
                                receive_files)
from pyhtc.filetransfer.drivers import drive_async
from pyhtc.filetransfer.plan import FileItem
from pyhtc.filetransfer.protocol import SendRaw, TransferResult, upload

from .harness import pair, run, transfer, tree


def _file(path, data=b"evil"):
    with open(path, "wb") as fh:
        fh.write(data)
    return str(path)


@pytest.fixture
def layout(tmp_path):
    dest = tmp_path / "box" / "sandbox"
    dest.mkdir(parents=True)
    src = _file(tmp_path / "payload", b"evil")
    good = _file(tmp_path / "good", b"good")
    return tmp_path, dest, src, good


def _snapshot(root):
    """Every file under ``root`` (to prove nothing was written anywhere)."""
    out = set()
    for d, _, files in os.walk(root):
        out.update(os.path.join(d, f) for f in files)
    return out


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "..", "./../x",
                                  "sub/../../../x", "\\abs", "C:\\evil", "a\\..\\..\\b", ""])
@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
def test_hostile_names_refused_with_hold_12(layout, name, encrypted):
    root, dest, src, good = layout
    before = _snapshot(root)
    plan = TransferPlan([FileItem(src, name, size=4), FileItem(good, "good.txt", size=4)])
    sent, got = run(transfer(plan, str(dest), encrypted=encrypted))
    for r in (sent, got):
        assert not r.success and not r.try_again
        assert (r.hold_code, r.hold_subcode) == (DOWNLOAD_FILE_ERROR, errno.EPERM), r
    assert got.reason and sent.peer_report["HoldReasonCode"] == "12"
    # the data was consumed, the protocol stayed in step: the next file still arrived
    assert tree(str(dest)) == {"good.txt": b"good"}
    assert _snapshot(root) - before == {str(dest / "good.txt")}


def test_hostile_mkdir_refused(layout):
    root, dest, src, good = layout
    plan = TransferPlan([FileItem(str(root), "../escaped_dir", is_dir=True, mode=0o40755)])
    sent, got = run(transfer(plan, str(dest)))
    assert got.hold_subcode == errno.EPERM and not (root / "box" / "escaped_dir").exists()


def test_symlink_escape_in_destination_refused(layout):
    root, dest, src, good = layout
    outside = root / "outside"
    outside.mkdir()
    os.symlink(str(outside), str(dest / "link"))
    os.symlink("../..", str(dest / "uplink"))
    plan = TransferPlan([FileItem(src, "link/x", size=4), FileItem(src, "uplink/y", size=4),
                         FileItem(good, "good.txt", size=4)])
    sent, got = run(transfer(plan, str(dest)))
    assert (got.hold_code, got.hold_subcode) == (DOWNLOAD_FILE_ERROR, errno.EPERM)
    assert "symlink escape" in got.reason
    assert os.listdir(outside) == [] and not (root / "y").exists()
    assert (dest / "good.txt").read_bytes() == b"good"


def test_existing_symlink_at_final_name_is_replaced_not_followed(layout):
    root, dest, src, good = layout
    victim = root / "victim"
    victim.write_bytes(b"precious")
    os.symlink(str(victim), str(dest / "out.txt"))
    plan = TransferPlan([FileItem(good, "out.txt", size=4)])
    sent, got = run(transfer(plan, str(dest)))
    assert got.success
    assert victim.read_bytes() == b"precious"
    assert not os.path.islink(dest / "out.txt") and (dest / "out.txt").read_bytes() == b"good"


def test_sender_refuses_sandbox_symlink_pointing_out(layout):
    root, dest, src, good = layout
    sandbox = root / "sandbox2"
    sandbox.mkdir()
    os.symlink(src, str(sandbox / "leak.txt"))
    from pyhtc.filetransfer import output_plan
    sent, got = run(transfer(output_plan({}, str(sandbox), {}), str(dest)))
    for r in (sent, got):
        assert (r.hold_code, r.hold_subcode) == (13, errno.EPERM)
    assert os.listdir(dest) == []  # the placeholder was not written


@pytest.mark.parametrize("remaps,allowed", [
    ("a.txt = ../../escape.txt", ()),
    ("a.txt = sub/../../escape.txt", ()),
    ("a.txt = /tmp/not_allowed_target.txt", ()),
    ("a.txt = b.txt; b.txt = a.txt", ()),
    ("a.txt = https://example.org/x", ()),
])
def test_remaps_cannot_escape(layout, remaps, allowed):
    root, dest, src, good = layout
    policy = ReceivePolicy.for_job_output({"TransferOutputRemaps": remaps})
    policy.allowed_roots = allowed
    plan = TransferPlan([FileItem(good, "a.txt", size=4)])
    sent, got = run(transfer(plan, str(dest), policy))
    assert (got.hold_code, got.hold_subcode) == (DOWNLOAD_FILE_ERROR, errno.EPERM), got
    assert os.listdir(dest) == [] and not (root / "escape.txt").exists()
    assert not os.path.exists("/tmp/not_allowed_target.txt")


def _cut_after(gen, limit):
    """Forward a sender generator's effects until ``limit`` file bytes went out, then stop
    (the driver returns and the connection is closed mid-file)."""
    sent = 0
    value = None
    while True:
        op = gen.send(value)
        value = yield op
        if isinstance(op, SendRaw):
            sent += len(op.data)
        elif isinstance(op, Send) and len(op.payload) > 1000:
            sent += len(op.payload)
        if sent >= limit:
            gen.close()
            return "cut"


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
def test_connection_cut_leaves_no_file(tmp_path, encrypted):
    dest = tmp_path / "dest"
    dest.mkdir()
    big = _file(tmp_path / "big", os.urandom(3 * 1024 * 1024))
    small = _file(tmp_path / "small", b"small")
    plan = TransferPlan([FileItem(small, "small.txt", size=5),
                         FileItem(big, "big.bin", size=3 << 20)])

    async def cutting_sender(stream):
        return await drive_async(stream, _cut_after(
            upload(stream.conn, plan, TransferResult()), 1 << 20))

    sent, got = run(pair(cutting_sender, lambda s: receive_files(s, str(dest)),
                         encrypted=encrypted))
    assert sent == "cut"
    assert not got.success and got.try_again and got.hold_code == DOWNLOAD_FILE_ERROR
    assert "connection" in got.reason
    # the complete file is there, the cut one is neither at its name nor as a temporary
    assert os.listdir(dest) == ["small.txt"]


def _raw_sender(messages):
    async def side(stream):
        await stream.end_of_message()  # the raw command int
        for payload in messages:
            await stream._io.send_bytes(stream.conn.send_message(payload))
        return "sent"
    return side


def _first():
    """final_transfer = 1 and an empty ad (count 0, two empty type strings)."""
    from pyhtc.cedar.codec import Encoder
    return Encoder().put_int(1).put_int(0).put_string("").put_string("").data


def _ints(*values):
    from pyhtc.cedar.codec import Encoder
    enc = Encoder()
    for v in values:
        enc.put_int(v)
    return enc.data


@pytest.mark.parametrize("messages,match", [
    ([_first(), _ints(4)], "unsupported file transfer command 4"),
    ([b"\x00" * 3], "truncated"),
    ([_first() + b"junk"], "untouched bytes"),
])
def test_protocol_garbage_is_a_clear_error(tmp_path, messages, match):
    sent, got = run(pair(_raw_sender(messages), lambda s: receive_files(s, str(tmp_path))))
    assert not got.success and got.try_again
    assert match in got.reason
    assert os.listdir(tmp_path) == []


def test_negative_size_refused(tmp_path):
    from pyhtc.cedar.codec import Encoder
    first = Encoder().put_int(1).put_int(0).put_string("").put_string("").data
    name = Encoder().put_string("f.txt").data
    go = Encoder()
    go.put_int(1)
    go.put_string("Result = 2")
    go.put_string("").put_string("")

    async def hostile(stream):
        await stream.end_of_message()  # the raw command int
        io, conn = stream._io, stream.conn
        for payload in (first, _ints(1), name, _ints(300)):
            await io.send_bytes(conn.send_message(payload))
        await io.recv_message()        # receiver's go-ahead
        await io.recv_message()        # receiver's alive interval
        for payload in (go.data, _ints(0o100644), _ints(-5)):
            await io.send_bytes(conn.send_message(payload))
        return "sent"

    sent, got = run(pair(hostile, lambda s: receive_files(s, str(tmp_path))))
    assert "negative file size" in got.reason and os.listdir(tmp_path) == []


def _stall_after(gen, limit):
    """Like _cut_after but the connection stays open: the sender goes silent mid-file."""
    sent = 0
    value = None
    while sent < limit:
        op = gen.send(value)
        value = yield op
        if isinstance(op, SendRaw):
            sent += len(op.data)
    gen.close()


def test_cancelled_receiver_removes_partial_file(tmp_path):
    import asyncio
    dest = tmp_path / "dest"
    dest.mkdir()
    big = _file(tmp_path / "big", os.urandom(2 * 1024 * 1024))
    plan = TransferPlan([FileItem(big, "big.bin", size=2 << 20)])

    async def stalling_sender(stream):
        await drive_async(stream, _stall_after(upload(stream.conn, plan, TransferResult()),
                                               1 << 19))
        await asyncio.sleep(1.0)
        return "stalled"

    async def impatient_receiver(stream):
        try:
            await asyncio.wait_for(receive_files(stream, str(dest)), 0.3)
        except asyncio.TimeoutError:
            return sorted(os.listdir(dest))
        return "finished?"

    sent, listing = run(pair(stalling_sender, impatient_receiver))
    assert sent == "stalled" and listing == []
