"""Interoperability with HTCondor's own FileTransfer: the real htcondor2 client's
Schedd.retrieve() (TRANSFER_DATA_WITH_PERMS; its DoDownload is the C++ receiver) pulls a
sandbox that our side sends with pyhtc.filetransfer.send_files, in clear (raw file bytes,
put_bytes_nobuffer) and AES-GCM (one message per 256 KiB chunk) modes."""
from __future__ import annotations

import asyncio
import json
import os
import pathlib
import stat
import sys

import pytest

from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.cedar.wire_ad import WireAd
from pyhtc.filetransfer import TransferPlan, expand_entry

pytest.importorskip("htcondor2")
HERE = pathlib.Path(__file__).parent

NEGOTIATED = {}
RAW = {"_CONDOR_SEC_CLIENT_NEGOTIATION": "NEVER"}


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


@pytest.mark.parametrize("env", [NEGOTIATED, RAW], ids=["negotiated-aes", "raw-clear"])
def test_real_client_receives_our_upload(tmp_path, env):
    from pyhtc.filetransfer import send_files
    sandbox, iwd = tmp_path / "sandbox", tmp_path / "iwd"
    iwd.mkdir()
    big = os.urandom(700_000)  # several 64 KiB raw chunks / 256 KiB AES messages
    _write(sandbox / "result.bin", big, 0o640)
    _write(sandbox / "empty.txt", b"")
    _write(sandbox / "_condor_stdout", b"hello from the job\n")
    _write(sandbox / "outdir" / "inner" / "x.txt", b"x" * 10, 0o600)
    plan = TransferPlan()
    for name in ("result.bin", "empty.txt", "_condor_stdout", "outdir"):
        plan.add(expand_entry(name, str(sandbox)))
    job = WireAd.from_values({
        "MyType": "Job", "ClusterId": 1, "ProcId": 0, "Iwd": str(iwd), "Owner": "nobody",
        "Cmd": "/bin/true", "Out": "_condor_stdout", "JobUniverse": 5,
        "ShouldTransferFiles": "YES", "WhenToTransferOutput": "ON_EXIT",
        "TransferOutputRemaps": "_condor_stdout=job.out"})
    box = {}

    async def transfer_data(stream):
        if not stream.peer.authenticated:
            await stream.authenticate()
        box["version"] = await stream.get_string()
        box["constraint"] = await stream.get_string()
        await stream.end_of_message()
        stream.put_int(1)
        await stream.end_of_message()
        stream.put_ad(job)
        await stream.end_of_message()
        box["encrypted"] = stream.encrypted
        box["result"] = await send_files(stream, plan, final_transfer=True)
        box["reply"] = await stream.get_int()
        await stream.end_of_message()

    async def main():
        policy = SecurityPolicy(auth_methods=["FS"], fs_dir=str(tmp_path),
                                uid_domain="pool.test",
                                valid_commands=[int(Command.TRANSFER_DATA_WITH_PERMS)])
        server = CommandServer(policy, {int(Command.TRANSFER_DATA_WITH_PERMS): transfer_data},
                               udp=False)
        await server.start("127.0.0.1", 0)
        try:
            penv = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": os.environ.get("HOME", "/tmp"), "CONDOR_CONFIG": "/dev/null",
                    **env}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(HERE / "real_retrieve.py"), str(server.port),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=penv)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()[-3000:]
            for _ in range(200):
                if "reply" in box or server.active == 0:
                    break
                await asyncio.sleep(0.01)
            return json.loads(out.decode().strip().splitlines()[-1])
        finally:
            await server.close()

    client = asyncio.run(main())
    assert client == {"ok": True}, client
    res = box["result"]
    assert res.success, res
    assert res.peer_report["Result"] == "0"   # the C++ receiver's SendTransferAck
    assert box["constraint"] == "ClusterId == 1" and box["reply"] == 1
    assert box["encrypted"] == (env is NEGOTIATED)
    assert res.files == 6 and res.bytes == len(big) + 19 + 10
    assert (iwd / "result.bin").read_bytes() == big
    assert (iwd / "empty.txt").read_bytes() == b""
    assert (iwd / "job.out").read_bytes() == b"hello from the job\n"   # remap applied
    assert (iwd / "outdir" / "inner" / "x.txt").read_bytes() == b"x" * 10
    assert stat.S_IMODE(os.stat(iwd / "result.bin").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(iwd / "outdir" / "inner" / "x.txt").st_mode) == 0o600
