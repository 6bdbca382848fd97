"""Two file-transfer endpoints on loopback: our asyncio CEDAR command server and client."""
from __future__ import annotations

import asyncio
import os

from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import Level, SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer, open_command
from pyhtc.filetransfer import receive_files, send_files


def client_policy(encrypted: bool) -> SecurityPolicy:
    """PREFERRED negotiation gives an AES-GCM session; NEVER a raw clear command."""
    return SecurityPolicy(negotiation=Level.PREFERRED if encrypted else Level.NEVER,
                          authentication=Level.NEVER)


async def pair(client_side, server_side, *, encrypted=False,
               command=Command.FILETRANS_UPLOAD, timeout=60):
    """Run ``client_side(stream)`` against ``server_side(stream)``; returns both results."""
    out = {}
    done = asyncio.Event()

    async def handler(stream):
        try:
            out["server"] = await server_side(stream)
            out["server_crypto"] = stream.conn.crypto_mode
        finally:
            done.set()

    server = CommandServer(SecurityPolicy(), {command: handler}, udp=False)
    await server.start("127.0.0.1", 0)
    try:
        stream = await open_command("127.0.0.1", server.port, command,
                                    client_policy(encrypted))
        try:
            out["client"] = await client_side(stream)
            out["client_crypto"] = stream.conn.crypto_mode
        finally:
            await stream.close()
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        await server.close()
    assert out["client_crypto"] == out["server_crypto"] == encrypted
    return out["client"], out["server"]


async def transfer(plan, dest, policy=None, *, encrypted=False, final_transfer=True):
    """Client sends ``plan``, server receives into ``dest``: (send_result, recv_result)."""
    return await pair(lambda s: send_files(s, plan, final_transfer=final_transfer),
                      lambda s: receive_files(s, dest, policy), encrypted=encrypted)


def run(coro):
    return asyncio.run(coro)


def tree(root: str) -> dict:
    """{relative path: bytes or 'DIR'} of a directory."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "DIR"
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out
