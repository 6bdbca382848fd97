"""Fixtures for the procd tests: real processes, an in-process monitor, a
running condor_procd.  Every process a test starts is killed in a finalizer,
even when the test fails; cgroups made under the test base are removed."""

import os
import pathlib
import shutil
import tempfile
import time

import pytest

from pyhtc.procd import ProcFamilyMonitor

from procd_helpers import Spawner, _base_dirs


@pytest.fixture
def spawner():
    s = Spawner()
    try:
        yield s
    finally:
        s.cleanup()


def _remove_base(base):
    """Remove the per-test base cgroup in every hierarchy (thawing first)."""
    roots = _base_dirs(base)
    for r in roots:
        if not os.path.isdir(r):
            continue
        for dirpath, dirnames, files in os.walk(r, topdown=False):
            for f in ("freezer.state",):
                if f in files:
                    try:
                        with open(os.path.join(dirpath, f), "w") as fh:
                            fh.write("THAWED")
                    except OSError:
                        pass
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


@pytest.fixture
def base_cgroup():
    base = f"pyhtc_test_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    try:
        yield base
    finally:
        _remove_base(base)


@pytest.fixture
def monitor(base_cgroup):
    mon = ProcFamilyMonitor(max_snapshot_interval=-1, base_cgroup=base_cgroup,
                            min_tracking_gid=47000, max_tracking_gid=47002)
    try:
        yield mon
    finally:
        for fam in list(mon.root.children):
            mon.kill_family(fam.root_pid, timeout=3)
            mon.unregister_family(fam.root_pid)
        mon.shutdown()


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix="procd", dir="/tmp")  # short: AF_UNIX paths max 107 bytes
    try:
        yield pathlib.Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
