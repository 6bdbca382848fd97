"""The starter's side of the job's file transfer (src/condor_starter.V6.1/jic_shadow.cpp
with src/condor_utils/file_transfer.cpp): the shadow puts ``TransferSocket`` (its transfer
server's address) and ``TransferKey`` in the job ad; the starter connects with
FILETRANS_DOWNLOAD (61001) + key to receive the input into the sandbox before the job
starts, and with FILETRANS_UPLOAD (61000) + key to send the output (new or changed files,
TransferOutput, Out/Err) back when the job has exited.

Failures come back as ``(hold code, subcode, reason)``: 13 TransferInputError /
12 TransferOutputError (src/condor_utils/condor_holdcodes.h) with the transfer's reason.
"""
from __future__ import annotations

from typing import Optional

from pyhtc.filetransfer import api as ft
from pyhtc.filetransfer.plan import ReceivePolicy, output_plan

FILETRANS_UPLOAD = 61000
FILETRANS_DOWNLOAD = 61001
HOLD_TRANSFER_OUTPUT_ERROR = 12
HOLD_TRANSFER_INPUT_ERROR = 13


def wanted(job) -> bool:
    """Whether the shadow offers a transfer (TransferSocket and TransferKey set)."""
    return isinstance(job.get("TransferSocket"), str) and isinstance(job.get("TransferKey"), str)


def _open(job, command: int, config):
    from pyhtc.client.core import client_policy, start_command
    s = start_command(job["TransferSocket"], command, client_policy(config), timeout=60)
    s.put_string(job["TransferKey"])
    s.end_of_message()
    return s


def receive_input(job, sandbox: str, config) -> Optional[tuple[int, int, str]]:
    """Fetch the job's input into ``sandbox``; None on success, else the hold triple."""
    try:
        with _open(job, FILETRANS_DOWNLOAD, config) as s:
            res = ft.receive_files_blocking(s, sandbox, ReceivePolicy.for_job_input(job))
    except Exception as exc:
        return HOLD_TRANSFER_INPUT_ERROR, 0, f"Transfer input files failure: {exc}"
    if not res.success:
        return (res.hold_code or HOLD_TRANSFER_INPUT_ERROR, res.hold_subcode,
                f"Transfer input files failure: {res.reason}")
    return None


def send_output(job, sandbox: str, snapshot: dict, config) -> Optional[tuple[int, int, str]]:
    """Send the job's output from ``sandbox``; None on success, else the hold triple."""
    try:
        plan = output_plan(job, sandbox, snapshot)
        with _open(job, FILETRANS_UPLOAD, config) as s:
            res = ft.send_files_blocking(s, plan)
    except Exception as exc:
        return HOLD_TRANSFER_OUTPUT_ERROR, 0, f"Transfer output files failure: {exc}"
    if not res.success:
        return (res.hold_code or HOLD_TRANSFER_OUTPUT_ERROR, res.hold_subcode,
                f"Transfer output files failure: {res.reason}")
    return None
