"""The shadow's side of the job's file transfer (src/condor_shadow.V6.1 with
src/condor_utils/file_transfer.cpp, the "upload/download" server the shadow's FileTransfer
object registers): a CEDAR command server on its own port, run in a thread, that serves

- FILETRANS_DOWNLOAD (61001) -- the starter receives: the job's input (Cmd when
  TransferExecutable, In, TransferInput), read from the job's Iwd;
- FILETRANS_UPLOAD (61000) -- the starter sends: the job's output, written into Iwd
  (TransferOutputRemaps honoured by the receive policy).

Each connection first sends the transfer key (``TransferKey`` in the job ad, random per
run), checked in constant time; a wrong key ends the connection.  The shadow advertises the
server as ``TransferSocket`` in the job ad it activates the claim with.
"""
from __future__ import annotations

import asyncio
import secrets
import threading
from typing import Optional

from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.filetransfer import api as ft
from pyhtc.filetransfer.plan import ReceivePolicy, input_plan

FILETRANS_UPLOAD = 61000
FILETRANS_DOWNLOAD = 61001


class TransferServer:
    """Serves one job's input and receives its output; ``results`` keeps
    ``(direction, TransferResult)`` per transfer, ``address`` is its sinful string."""

    def __init__(self, job, host: str = "127.0.0.1", policy: Optional[SecurityPolicy] = None, log=None):
        self.job, self.log = job, log
        self.key = secrets.token_hex(16)
        self.results: list = []
        self.loop = asyncio.new_event_loop()
        self.server = CommandServer(policy or SecurityPolicy(),
                                    {FILETRANS_DOWNLOAD: self._download, FILETRANS_UPLOAD: self._upload},
                                    udp=False)
        self.server.host = host
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start(host, 0))
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="file transfer", daemon=True)
        self.thread.start()
        if not started.wait(10):
            raise OSError("the file transfer server did not start")
        self.address = f"<{host}:{self.server.port}>"

    async def _key_ok(self, stream) -> bool:
        key = await stream.get_string()
        await stream.end_of_message()
        ok = secrets.compare_digest(key, self.key)
        if not ok and self.log is not None:
            self.log(f"File transfer from {stream.peer.address} with a wrong transfer key: refused")
        return ok

    async def _download(self, stream) -> None:
        if not await self._key_ok(stream):
            return
        try:
            plan = input_plan(self.job)
        except ValueError as exc:
            if self.log is not None:
                self.log(f"Cannot plan the input transfer: {exc}")
            return
        res = await ft.send_files(stream, plan)
        self.results.append(("input", res))

    async def _upload(self, stream) -> None:
        if not await self._key_ok(stream):
            return
        iwd = str(self.job.get("Iwd") or "")
        res = await ft.receive_files(stream, iwd, ReceivePolicy.for_job_output(self.job))
        self.results.append(("output", res))

    def stop(self) -> None:
        """Close the server and end its thread."""
        try:
            fut = asyncio.run_coroutine_threadsafe(self.server.close(), self.loop)
            fut.result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
