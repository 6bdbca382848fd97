"""Planning: input/output lists, the trailing-slash rule, the default output set, policies."""
from __future__ import annotations

import errno
import os
import time

import pytest

from pyhtc.classad import ClassAd
from pyhtc.filetransfer import (DOWNLOAD_FILE_ERROR, UPLOAD_FILE_ERROR, ReceivePolicy,
                                input_plan, output_plan, should_transfer_files,
                                snapshot_sandbox, transfer_output_now, when_to_transfer_output)
from pyhtc.filetransfer.plan import expand_entry, split_file_list


def _write(path, data=b"x", mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


@pytest.fixture
def iwd(tmp_path):
    root = tmp_path / "iwd"
    _write(str(root / "job.sh"), b"#!/bin/sh\n", 0o755)
    _write(str(root / "in.txt"), b"stdin")
    _write(str(root / "data" / "a.dat"), b"aa")
    _write(str(root / "data" / "nested" / "b.dat"), b"bbb")
    _write(str(root / "single.txt"), b"s")
    _write(str(tmp_path / "elsewhere" / "abs.txt"), b"abs")
    return root


def test_input_plan_from_classad(iwd, tmp_path):
    ad = ClassAd({"Iwd": str(iwd), "Cmd": "job.sh", "In": "in.txt",
                  "TransferInput": f"single.txt, data ,{tmp_path}/elsewhere/abs.txt"})
    plan = input_plan(ad)
    assert plan.names == ["job.sh", "in.txt", "single.txt", "data", "data/a.dat",
                          "data/nested", "data/nested/b.dat", "abs.txt"]
    by = {i.dest: i for i in plan.items}
    assert by["data"].is_dir and by["data/nested"].is_dir
    assert by["job.sh"].mode & 0o777 == 0o755
    assert by["abs.txt"].src == f"{tmp_path}/elsewhere/abs.txt"
    assert plan.total_bytes == len(b"#!/bin/sh\n") + 5 + 1 + 2 + 3 + 3
    assert plan.size_mb == 1
    assert not plan.errors


def test_trailing_slash_sends_contents_only(iwd):
    plan = input_plan({"Iwd": str(iwd), "TransferExecutable": False, "Cmd": "job.sh",
                       "TransferInput": "data/"})
    assert plan.names == ["a.dat", "nested", "nested/b.dat"]


def test_executable_and_stdin_flags(iwd):
    ad = {"Iwd": str(iwd), "Cmd": "job.sh", "TransferExecutable": False, "In": "/dev/null"}
    assert input_plan(ad).names == []
    ad = {"Iwd": str(iwd), "Cmd": "job.sh", "In": "in.txt", "TransferIn": False}
    assert input_plan(ad).names == ["job.sh"]


def test_missing_input_is_an_item_error(iwd):
    plan = input_plan({"Iwd": str(iwd), "TransferInput": "nope.txt,single.txt"})
    assert plan.names == ["nope.txt", "single.txt"]
    err = plan.items[0].error
    assert err.hold_code == UPLOAD_FILE_ERROR and err.hold_subcode == errno.ENOENT
    assert "nope.txt" in err.reason


def test_input_plan_errors(iwd):
    with pytest.raises(ValueError, match="Iwd"):
        input_plan({"Cmd": "x"})
    with pytest.raises(ValueError, match="URL"):
        input_plan({"Iwd": str(iwd), "TransferInput": "https://example.org/x"})


def test_symlinks_in_input(iwd, tmp_path):
    os.symlink(str(iwd / "single.txt"), str(iwd / "link.txt"))
    os.symlink(str(iwd / "data"), str(iwd / "dirlink"))
    plan = input_plan({"Iwd": str(iwd), "TransferInput": "link.txt,dirlink,dirlink/"})
    by = {i.dest: i for i in plan.items}
    assert by["link.txt"].error is None and by["link.txt"].size == 1  # followed
    assert by["dirlink"].error.hold_subcode == errno.EISDIR          # refused, as HTCondor
    assert "a.dat" in by and "nested/b.dat" in by                      # dirlink/ = contents


def test_sockets_and_fifos_skipped(tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    assert expand_entry("fifo", str(tmp_path)) == []


def test_split_file_list():
    assert split_file_list(" a, b ,,c ") == ["a", "b", "c"]
    assert split_file_list(None) == [] and split_file_list("") == []


def test_default_output_set_new_and_changed_top_level(tmp_path):
    sb = tmp_path / "sandbox"
    _write(str(sb / "job.sh"), b"#!/bin/sh\n", 0o755)
    _write(str(sb / "input.dat"), b"in")
    _write(str(sb / "touched.dat"), b"old")
    _write(str(sb / ".job.ad"), b"[]")
    snap = snapshot_sandbox(str(sb))
    time.sleep(0.01)
    _write(str(sb / "touched.dat"), b"new contents")
    _write(str(sb / "result.txt"), b"r")
    _write(str(sb / "subdir" / "deep.txt"), b"d")   # subdirectories are not in the set
    _write(str(sb / "_condor_stdout"), b"out")
    _write(str(sb / ".machine.ad"), b"[]")
    ad = ClassAd({"Cmd": "job.sh", "Out": "_condor_stdout", "Err": "/dev/null"})
    plan = output_plan(ad, str(sb), snap)
    assert sorted(plan.names) == ["_condor_stdout", "result.txt", "touched.dat"]


def test_explicit_output_list(tmp_path):
    sb = tmp_path / "sandbox"
    _write(str(sb / "a.txt"), b"a")
    _write(str(sb / "b.txt"), b"b")
    _write(str(sb / "outdir" / "x.txt"), b"x")
    _write(str(sb / "sub" / "deep.txt"), b"d")
    _write(str(sb / "err.log"), b"e")
    ad = {"TransferOutput": "a.txt, outdir, sub/deep.txt, missing.txt", "Err": "err.log",
          "Out": "/dev/null"}
    plan = output_plan(ad, str(sb), {})
    assert plan.names == ["a.txt", "outdir", "outdir/x.txt", "deep.txt", "missing.txt",
                          "err.log"]
    assert plan.items[4].error.hold_subcode == errno.ENOENT


def test_output_symlink_escape_is_refused(tmp_path):
    sb = tmp_path / "sandbox"
    sb.mkdir()
    _write(str(tmp_path / "secret"), b"secret")
    os.symlink(str(tmp_path / "secret"), str(sb / "leak.txt"))
    os.symlink("../secret", str(sb / "leak2.txt"))
    _write(str(sb / "ok.txt"), b"ok")
    os.symlink("ok.txt", str(sb / "inside_link"))
    plan = output_plan({}, str(sb), {})
    by = {i.dest: i for i in plan.items}
    for name in ("leak.txt", "leak2.txt"):
        assert by[name].error.hold_code == UPLOAD_FILE_ERROR
        assert by[name].error.hold_subcode == errno.EPERM
        assert "symlink escape" in by[name].error.reason
    assert by["inside_link"].error is None and by["ok.txt"].error is None
    plan = output_plan({"TransferOutput": "../secret"}, str(sb), {})
    assert plan.items[0].error.hold_subcode == errno.EPERM


def test_transfer_settings():
    assert should_transfer_files({}) == "IF_NEEDED"
    assert should_transfer_files({"ShouldTransferFiles": "yes"}) == "YES"
    with pytest.raises(ValueError, match="ShouldTransferFiles"):
        should_transfer_files({"ShouldTransferFiles": "sometimes"})
    assert when_to_transfer_output({}) == "ON_EXIT"
    with pytest.raises(ValueError, match="WhenToTransferOutput"):
        when_to_transfer_output({"WhenToTransferOutput": "never"})
    ad = {"ShouldTransferFiles": "YES", "WhenToTransferOutput": "ON_EXIT_OR_EVICT"}
    assert transfer_output_now(ad, evicted=True) and transfer_output_now(ad, evicted=False)
    ad["WhenToTransferOutput"] = "ON_EXIT"
    assert not transfer_output_now(ad, evicted=True) and transfer_output_now(ad, False)
    assert not transfer_output_now({"ShouldTransferFiles": "NO"}, evicted=False)


def test_receive_policies():
    ad = ClassAd({"Cmd": "/home/u/bin/job.sh",
                  "TransferOutputRemaps": "_condor_stdout=/home/u/logs/out.txt; o = res/o"})
    pol = ReceivePolicy.for_job_output(ad)
    assert pol.allowed_roots == ("/home/u/logs/out.txt",)
    assert pol.hold_code == DOWNLOAD_FILE_ERROR
    assert ReceivePolicy.for_job_input(ad).executable == "job.sh"


def test_classad_expressions_are_evaluated(iwd):
    ad = ClassAd('[Iwd = "%s"; Cmd = "job.sh"; TransferExecutable = 1 > 2; '
                 'TransferInput = strcat("single", ".txt", ",in.txt")]' % iwd)
    assert input_plan(ad).names == ["single.txt", "in.txt"]


def test_output_policy_adds_remaps_for_std_files_with_directories():
    ad = {"Out": "logs/job.out", "Err": "/abs/err/job.err",
          "TransferOutputRemaps": "job.err = /elsewhere/e.txt"}
    pol = ReceivePolicy.for_job_output(ad)
    assert pol.remaps == [("job.err", "/elsewhere/e.txt"), ("job.out", "logs/job.out")]
