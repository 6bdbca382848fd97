"""End-to-end transfers between two endpoints over loopback CEDAR streams (our asyncio
command server and client; AES-GCM and clear), and the blocking driver."""
from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
import tracemalloc

import pytest

from pyhtc.cedar.commands import Command
from pyhtc.cedar.transport_blocking import start_command
from pyhtc.filetransfer import (DOWNLOAD_FILE_ERROR, UPLOAD_FILE_ERROR, ReceivePolicy,
                                TransferPlan, expand_entry, input_plan, output_plan,
                                receive_files, receive_files_blocking, send_files,
                                send_files_blocking, snapshot_sandbox)
from pyhtc.filetransfer.plan import FileItem

from .harness import client_policy, pair, run, transfer, tree

ALL_BYTES = bytes(range(256)) * 513


def _write(path, data=b"x", mode=0o644):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


@pytest.fixture
def iwd(tmp_path):
    root = tmp_path / "iwd"
    _write(root / "job.sh", b"#!/bin/sh\necho hi\n", 0o700)
    _write(root / "binary.bin", ALL_BYTES, 0o640)
    _write(root / "empty.txt", b"", 0o600)
    _write(root / "ro.txt", b"read only", 0o444)
    _write(root / "tree" / "one.txt", b"1")
    _write(root / "tree" / "inner" / "two.txt", b"22", 0o600)
    _write(root / "tree" / "inner" / "deeper" / "empty", b"")
    os.chmod(root / "tree" / "inner", 0o750)
    _write(root / "flat" / "f1.txt", b"f1")
    _write(root / "flat" / "sub" / "f2.txt", b"f2")
    return root


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
def test_input_sandbox_roundtrip(iwd, tmp_path, encrypted):
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    ad = {"Iwd": str(iwd), "Cmd": "job.sh",
          "TransferInput": "binary.bin,empty.txt,ro.txt,tree,flat/"}
    sent, got = run(transfer(input_plan(ad), str(sandbox), ReceivePolicy.for_job_input(ad),
                             encrypted=encrypted))
    assert sent.success and got.success, (sent, got)
    expect = {
        "job.sh": b"#!/bin/sh\necho hi\n", "binary.bin": ALL_BYTES, "empty.txt": b"",
        "ro.txt": b"read only", "tree": "DIR", "tree/one.txt": b"1", "tree/inner": "DIR",
        "tree/inner/two.txt": b"22", "tree/inner/deeper": "DIR",
        "tree/inner/deeper/empty": b"", "f1.txt": b"f1", "sub": "DIR", "sub/f2.txt": b"f2",
    }
    assert tree(str(sandbox)) == expect  # no temporaries left behind either
    mode = lambda p: stat.S_IMODE(os.stat(sandbox / p).st_mode)  # noqa: E731
    assert mode("job.sh") == 0o755          # the executable is made runnable
    assert mode("binary.bin") == 0o640 and mode("empty.txt") == 0o600
    assert mode("ro.txt") == 0o444 and mode("tree/inner") == 0o750
    assert mode("tree/inner/two.txt") == 0o600
    assert sent.files == got.files == len(expect)
    assert sent.bytes == got.bytes == sum(len(v) for v in expect.values() if v != "DIR")
    assert got.sandbox_size == sent.sandbox_size == got.bytes
    assert got.peer_report["Result"] == "0" and sent.peer_report["Result"] == "0"
    assert got.seconds >= 0 and sent.seconds >= 0


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
def test_large_file_streams_in_bounded_memory(tmp_path, encrypted):
    size = 50 * 1024 * 1024
    src = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(src, "wb") as fh:
        for _ in range(size >> 20):
            fh.write(block)
    dest = tmp_path / "dest"
    dest.mkdir()
    plan = TransferPlan()
    plan.add(expand_entry(str(src), str(tmp_path)))
    tracemalloc.start()
    try:
        t0 = time.monotonic()
        sent, got = run(transfer(plan, str(dest), encrypted=encrypted))
        elapsed = time.monotonic() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent.success and got.success and got.bytes == size
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak} bytes for a {size}-byte file"
    assert os.path.getsize(dest / "big.bin") == size
    with open(dest / "big.bin", "rb") as fh:
        assert fh.read(1 << 20) == block
        fh.seek(size - (1 << 20))
        assert fh.read() == block
    print(f"50 MB {'aes' if encrypted else 'clear'}: {elapsed:.2f}s, peak {peak >> 10} KiB")


def test_output_default_set_and_remaps(tmp_path):
    sandbox, iwd, logs = tmp_path / "sandbox", tmp_path / "iwd", tmp_path / "logs"
    for d in (sandbox, iwd, logs):
        d.mkdir()
    _write(sandbox / "job.sh", b"#!/bin/sh\n", 0o755)
    _write(sandbox / "input.dat", b"input")
    snap = snapshot_sandbox(str(sandbox))
    _write(sandbox / "result.txt", b"result", 0o640)
    _write(sandbox / "renamed.txt", b"to be renamed")
    _write(sandbox / "_condor_stdout", b"stdout text")
    _write(sandbox / "_condor_stderr", b"stderr text")
    _write(sandbox / "scratch" / "tmp.txt", b"not output")
    (iwd / "results").mkdir()
    ad = {"Iwd": str(iwd), "Cmd": "job.sh", "Out": "_condor_stdout", "Err": "_condor_stderr",
          "TransferOutputRemaps": f"_condor_stdout={logs}/job.out; _condor_stderr = job.err;"
                                  f" renamed.txt = results/final.txt"}
    plan = output_plan(ad, str(sandbox), snap)
    assert sorted(plan.names) == ["_condor_stderr", "_condor_stdout", "renamed.txt",
                                  "result.txt"]
    sent, got = run(transfer(plan, str(iwd), ReceivePolicy.for_job_output(ad)))
    assert sent.success and got.success, (sent, got)
    assert tree(str(iwd)) == {"result.txt": b"result", "job.err": b"stderr text",
                              "results": "DIR", "results/final.txt": b"to be renamed"}
    assert (logs / "job.out").read_bytes() == b"stdout text"
    assert stat.S_IMODE(os.stat(iwd / "result.txt").st_mode) == 0o640


def test_output_explicit_list_with_directory(tmp_path):
    sandbox, iwd = tmp_path / "sandbox", tmp_path / "iwd"
    iwd.mkdir()
    _write(sandbox / "keep.txt", b"k")
    _write(sandbox / "ignored.txt", b"i")
    _write(sandbox / "outdir" / "a" / "x.txt", b"x")
    ad = {"TransferOutput": "keep.txt,outdir", "TransferOutputRemaps": "outdir = renamed_dir"}
    sent, got = run(transfer(output_plan(ad, str(sandbox), {}), str(iwd),
                             ReceivePolicy.for_job_output(ad), encrypted=True))
    assert sent.success and got.success, (sent, got)
    assert tree(str(iwd)) == {"keep.txt": b"k", "renamed_dir": "DIR", "renamed_dir/a": "DIR",
                              "renamed_dir/a/x.txt": b"x"}


def test_missing_output_file_reports_13_with_errno(tmp_path):
    sandbox, iwd = tmp_path / "sandbox", tmp_path / "iwd"
    iwd.mkdir()
    _write(sandbox / "present.txt", b"p")
    ad = {"TransferOutput": "missing.txt,present.txt"}
    sent, got = run(transfer(output_plan(ad, str(sandbox), {}), str(iwd)))
    for r in (sent, got):
        assert not r.success and not r.try_again
        assert (r.hold_code, r.hold_subcode) == (UPLOAD_FILE_ERROR, errno.ENOENT)
        assert "missing.txt" in r.reason
    assert r.hold_reason_name == "TransferInputError"
    # the other file still arrived; the placeholder was discarded
    assert tree(str(iwd)) == {"present.txt": b"p"}
    assert got.peer_report["HoldReasonCode"] == "13"


def test_receiver_write_failure_reports_12(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    _write(src / "a.txt", b"a")
    _write(src / "b.txt", b"b")
    dest.mkdir()
    os.mkdir(dest / "a.txt")  # a directory where a file must go
    plan = TransferPlan()
    for n in ("a.txt", "b.txt"):
        plan.add(expand_entry(n, str(src)))
    sent, got = run(transfer(plan, str(dest)))
    for r in (sent, got):
        assert not r.success
        assert (r.hold_code, r.hold_subcode) == (DOWNLOAD_FILE_ERROR, errno.EISDIR)
    assert (dest / "b.txt").read_bytes() == b"b"
    assert sorted(os.listdir(dest)) == ["a.txt", "b.txt"]  # temporary removed


def test_receiver_byte_limit(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    _write(src / "big.txt", b"x" * 5000)
    dest.mkdir()
    plan = TransferPlan()
    plan.add(expand_entry("big.txt", str(src)))
    sent, got = run(transfer(plan, str(dest), ReceivePolicy(max_bytes=1000)))
    assert not sent.success and not got.success
    assert "max total download bytes" in got.reason
    assert os.listdir(dest) == []


def test_server_sends_client_receives(iwd, tmp_path):
    """FILETRANS_DOWNLOAD direction: the command's server side uploads."""
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    ad = {"Iwd": str(iwd), "Cmd": "job.sh", "TransferInput": "tree"}
    got, sent = run(pair(lambda s: receive_files(s, str(sandbox),
                                                 ReceivePolicy.for_job_input(ad)),
                         lambda s: send_files(s, input_plan(ad)), encrypted=True,
                         command=Command.FILETRANS_DOWNLOAD))
    assert sent.success and got.success
    assert tree(str(sandbox))["tree/inner/two.txt"] == b"22"


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
@pytest.mark.parametrize("blocking_sends", [True, False], ids=["blocking-sends",
                                                               "blocking-receives"])
def test_blocking_driver(iwd, tmp_path, encrypted, blocking_sends):
    dest = tmp_path / "dest"
    dest.mkdir()
    ad = {"Iwd": str(iwd), "Cmd": "job.sh", "TransferInput": "binary.bin,empty.txt,tree"}
    plan = input_plan(ad)

    async def main():
        from pyhtc.cedar.security.policy import SecurityPolicy
        from pyhtc.cedar.transport_asyncio import CommandServer
        out = {}

        async def handler(stream):
            if blocking_sends:
                out["async"] = await receive_files(stream, str(dest))
            else:
                out["async"] = await send_files(stream, plan)

        server = CommandServer(SecurityPolicy(), {Command.FILETRANS_UPLOAD: handler},
                               udp=False)
        await server.start("127.0.0.1", 0)

        def client():
            with start_command("127.0.0.1", server.port, Command.FILETRANS_UPLOAD,
                               client_policy(encrypted)) as s:
                if blocking_sends:
                    return send_files_blocking(s, plan)
                return receive_files_blocking(s, str(dest))
        try:
            out["blocking"] = await asyncio.to_thread(client)
            for _ in range(200):
                if "async" in out:
                    break
                await asyncio.sleep(0.01)
        finally:
            await server.close()
        return out

    out = run(main())
    assert out["blocking"].success and out["async"].success, out
    t = tree(str(dest))
    assert t["binary.bin"] == ALL_BYTES and t["empty.txt"] == b"" and t["tree/one.txt"] == b"1"


def test_placeholder_for_unsendable_item(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    _write(tmp_path / "ok.txt", b"ok")
    plan = TransferPlan([FileItem(str(tmp_path / "gone"), "gone.txt"),
                         FileItem(str(tmp_path / "ok.txt"), "ok.txt", size=2)])
    sent, got = run(transfer(plan, str(dest), encrypted=True))
    assert got.hold_subcode == errno.ENOENT and not got.success
    assert os.listdir(dest) == ["ok.txt"]


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "aes"])
def test_empty_plan(tmp_path, encrypted):
    sent, got = run(transfer(TransferPlan(), str(tmp_path), encrypted=encrypted,
                             final_transfer=False))
    assert sent.success and got.success and got.files == sent.files == 0
    assert not got.final_transfer and os.listdir(tmp_path) == []
