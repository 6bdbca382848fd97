"""The exact message sequence on the wire, checked by a scripted peer written from
file_transfer.cpp / reli_sock.cpp independently of our receiver (clear mode over a
socketpair, blocking driver), and the name rules at the unit level."""
from __future__ import annotations

import errno
import os
import socket
import struct
import threading

import pytest

from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.cedar.framing import ReliConnection
from pyhtc.cedar.transport_blocking import BlockingStream
from pyhtc.filetransfer import TransferPlan, UnsafePathError
from pyhtc.filetransfer.drivers import drive_blocking
from pyhtc.filetransfer.paths import clean_peer_name
from pyhtc.filetransfer.plan import FileItem
from pyhtc.filetransfer.protocol import TransferResult, download, upload
from pyhtc.filetransfer.sink import FileSink


class ScriptedPeer:
    """Reads CEDAR packets (end:u8, len:i32 BE) and raw bytes from a socket by hand."""

    def __init__(self, sock):
        self.sock = sock

    def exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            assert chunk, "peer closed early"
            buf += chunk
        return bytes(buf)

    def message(self) -> Decoder:
        payload = bytearray()
        while True:
            end, length = struct.unpack(">Bi", self.exact(5))
            payload += self.exact(length)
            if end:
                return Decoder(bytes(payload))

    def ints(self, *expected):
        dec = self.message()
        got = tuple(dec.get_int() for _ in expected)
        dec.finish()
        assert got == expected
        return got

    def send(self, payload: bytes):
        self.sock.sendall(struct.pack(">Bi", 1, len(payload)) + payload)

    def send_ad(self, *lines):
        enc = Encoder().put_int(len(lines))
        for line in lines:
            enc.put_string(line)
        self.send(enc.put_string("").put_string("").data)

    @staticmethod
    def read_ad(dec):
        n = dec.get_int()
        lines = [dec.get_string() for _ in range(n)]
        assert dec.get_string() == "" and dec.get_string() == ""
        return lines


def test_sender_wire_sequence_clear(tmp_path):
    data = bytes(range(256)) * 274  # 70144 bytes: more than one 64 KiB raw chunk
    (tmp_path / "f").write_bytes(data)
    (tmp_path / "e").write_bytes(b"")
    os.chmod(tmp_path / "f", 0o640)
    plan = TransferPlan([FileItem(str(tmp_path), "d", is_dir=True, mode=0o40750),
                         FileItem(str(tmp_path / "f"), "d/f", size=len(data)),
                         FileItem(str(tmp_path / "e"), "e")])
    a, b = socket.socketpair()
    stream = BlockingStream(a, ReliConnection(), 61000)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault(
        "r", drive_blocking(stream, upload(stream.conn, plan, TransferResult()))))
    t.start()
    peer = ScriptedPeer(b)
    try:
        dec = peer.message()                      # final_transfer + xfer info ad
        assert dec.get_int() == 1
        assert peer.read_ad(dec) == [f"SandboxSize = {len(data)}"]
        dec.finish()
        peer.ints(6)                              # TransferCommand::Mkdir
        dec = peer.message()
        assert dec.get_string() == "d"
        dec.finish()
        peer.ints(300)                            # ReceiveTransferGoAhead: alive interval
        peer.send_ad("Result = 2", "MaxTransferBytes = -1")
        peer.send(Encoder().put_int(300).data)    # our alive interval
        dec = peer.message()
        assert peer.read_ad(dec) == ["Result = 2"]
        peer.ints(0o40750)                        # mkdir mode
        peer.ints(1)                              # TransferCommand::XferFile
        dec = peer.message()
        assert dec.get_string() == "d/f"
        peer.ints(0o640)                          # code(condor_mode_t): 0777 bits only
        peer.ints(len(data))                      # put_file: size (no buffer size: clear)
        assert peer.exact(len(data)) == data      # raw bytes, no CEDAR framing
        peer.ints(1)
        dec = peer.message()
        assert dec.get_string() == "e"
        peer.message()                            # mode
        peer.ints(0)                              # size 0 ...
        peer.ints(666)                            # ... then PUT_FILE_EOM_NUM
        peer.ints(0)                              # TransferCommand::Finished
        dec = peer.message()
        lines = peer.read_ad(dec)
        assert lines[0] == "Result = 0" and lines[1].startswith("TransferStats = [")
        peer.send_ad("Result = 0")
        t.join(10)
    finally:
        a.close()
        b.close()
    assert box["r"].success and box["r"].bytes == len(data) and box["r"].files == 3


def test_receiver_against_scripted_sender(tmp_path):
    """An HTCondor-shaped sender (clear mode) feeding our receiver over a socketpair."""
    a, b = socket.socketpair()
    stream = BlockingStream(a, ReliConnection(), 61000)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", drive_blocking(
        stream, download(stream.conn, FileSink(str(tmp_path)), TransferResult()))))
    t.start()
    peer = ScriptedPeer(b)
    payload = os.urandom(100_000)
    try:
        enc = Encoder().put_int(0).put_int(1).put_string("SandboxSize = 100000")
        peer.send(enc.put_string("").put_string("").data)
        peer.send(Encoder().put_int(1).data)
        peer.send(Encoder().put_string("x.bin").data)
        peer.send(Encoder().put_int(300).data)
        dec = peer.message()
        lines = peer.read_ad(dec)
        assert lines == ["Result = 2", "MaxTransferBytes = -1"]
        peer.ints(300)
        peer.send_ad("Result = 2")
        peer.send(Encoder().put_int(0o600).data)
        peer.send(Encoder().put_int(len(payload)).data)
        b.sendall(payload)
        peer.send(Encoder().put_int(0).data)
        peer.send_ad("Result = 0")
        dec = peer.message()
        assert peer.read_ad(dec)[0] == "Result = 0"
        t.join(10)
    finally:
        a.close()
        b.close()
    r = box["r"]
    assert r.success and not r.final_transfer and r.sandbox_size == 100_000
    assert (tmp_path / "x.bin").read_bytes() == payload


@pytest.mark.parametrize("name,clean", [("a.txt", "a.txt"), ("./a//b/", "a/b"),
                                        ("a:b.txt", "a:b.txt"), ("C:evil", "C:evil"),
                                        ("dir/.hidden", "dir/.hidden"), ("..a", "..a")])
def test_clean_peer_name_accepts(name, clean):
    assert clean_peer_name(name, 12) == clean


@pytest.mark.parametrize("name", ["", "/x", "..", "a/..", "a/../b", "x\0y", "\\x", "C:/x",
                                  "a\\..\\b", ".", "./"])
def test_clean_peer_name_refuses(name):
    with pytest.raises(UnsafePathError) as info:
        clean_peer_name(name, 12)
    assert info.value.hold_code == 12 and info.value.hold_subcode == errno.EPERM
