"""Drivers that run the sans-IO transfer generators (:mod:`pyhtc.filetransfer.protocol`)
over a real CEDAR stream: asyncio (:class:`pyhtc.cedar.stream.CedarStream`) and blocking
(:class:`pyhtc.cedar.transport_blocking.BlockingStream`).

Unencrypted file data travels outside CEDAR framing (reli_sock.cpp put_bytes_nobuffer), so
the drivers also move raw bytes: they first hand out bytes the stream's ReliConnection had
already read past the last message, then read the socket directly.  pyhtc.cedar has no public
call for that yet, so this module reads the connection's receive buffer (``_inbuf``) and the
stream's transport objects; it is the one place that knows those internals.

The generators read and write local files synchronously, one chunk (64 or 256 KiB) per step;
under asyncio that is a short blocking call per chunk, which keeps memory bounded and the
code simple (a daemon that must never block can run the blocking driver in a thread).
"""
from __future__ import annotations

import asyncio
import socket

from pyhtc.cedar.errors import ConnectionClosed, ProtocolError
from pyhtc.cedar.ops import Send

from .protocol import RecvRaw, SendRaw

#: largest raw read asked of the socket at once
RAW_READ = 262144


def _take_buffered(conn, n: int) -> bytes:
    """Pop up to ``n`` bytes the ReliConnection received but did not frame yet."""
    buf = conn._inbuf
    if not buf:
        return b""
    data = bytes(buf[:n])
    del buf[:n]
    conn._in_offset += len(data)
    return data


def _prepare(stream) -> None:
    """The stream must be at a message boundary: flushing pending output is the caller's
    job; an unread incoming remainder is an error."""
    dec = getattr(stream, "_in", None)
    if dec is not None:
        if not dec.at_end():
            raise ProtocolError("file transfer started with unread bytes in the current "
                                "message", dec.offset)
        stream._in = None


async def drive_async(stream, gen):
    """Run a transfer generator over an asyncio CedarStream; returns its value.

    Transport failures (EOF, timeouts, socket errors) are thrown into the generator as
    :class:`ConnectionClosed` (so it can remove partial files) and then propagate.
    """
    if getattr(stream, "_out", None) is not None and len(stream._out):
        await stream.end_of_message()
    _prepare(stream)
    conn, io = stream.conn, stream._io
    try:
        return await _run_async(conn, io, gen)
    finally:
        gen.close()  # cancelled or failed: the generator removes its partial file


async def _run_async(conn, io, gen):
    value = exc = None
    while True:
        try:
            op = gen.throw(exc) if exc is not None else gen.send(value)
        except StopIteration as stop:
            return stop.value
        value = exc = None
        try:
            if isinstance(op, Send):
                await io.send_bytes(conn.send_message(op.payload))
            elif isinstance(op, SendRaw):
                await io.send_bytes(op.data)
            elif isinstance(op, RecvRaw):
                data = _take_buffered(conn, op.n)
                if not data:
                    data = await asyncio.wait_for(io.reader.read(min(op.n, RAW_READ)),
                                                  io.timeout)
                    if not data:
                        raise ConnectionClosed("connection closed in the middle of file data")
                value = data
            else:
                value = await io.recv_message()
        except (ConnectionClosed, ProtocolError) as e:
            exc = e
        except (OSError, asyncio.TimeoutError) as e:
            exc = ConnectionClosed(f"file transfer connection failed: {e!r}")


def drive_blocking(stream, gen):
    """Run a transfer generator over a blocking CEDAR stream (``.sock``, ``.conn``);
    returns its value.  Failures are thrown into the generator as in :func:`drive_async`."""
    if getattr(stream, "_out", None) is not None and len(stream._out):
        stream.end_of_message()
    _prepare(stream)
    try:
        return _run_blocking(stream, gen)
    finally:
        gen.close()


def _run_blocking(stream, gen):
    conn, sock = stream.conn, stream.sock
    value = exc = None
    while True:
        try:
            op = gen.throw(exc) if exc is not None else gen.send(value)
        except StopIteration as stop:
            return stop.value
        value = exc = None
        try:
            if isinstance(op, Send):
                sock.sendall(conn.send_message(op.payload))
            elif isinstance(op, SendRaw):
                sock.sendall(op.data)
            elif isinstance(op, RecvRaw):
                data = _take_buffered(conn, op.n)
                if not data:
                    data = sock.recv(min(op.n, RAW_READ))
                    if not data:
                        raise ConnectionClosed("connection closed in the middle of file data")
                value = data
            else:
                value = stream._recv_message()
        except (ConnectionClosed, ProtocolError) as e:
            exc = e
        except (OSError, socket.timeout) as e:
            exc = ConnectionClosed(f"file transfer connection failed: {e!r}")
