"""Our reader agrees with htcondor2.JobEventLog on every event of real HTCondor logs."""
import os
import pathlib

import pytest

from .helpers import assert_logs_agree, our_events

# Same location rule as tests/conftest.py (needed at collection time for parametrize).
SHARED = pathlib.Path(os.environ.get("PYHTC_SHARED",
                                     pathlib.Path(__file__).resolve().parents[3] / "shared"))
REAL_LOGS = sorted((SHARED / "real" / "userlogs").glob("*.log"))


def test_real_logs_present(shared_dir):
    assert SHARED.resolve() == shared_dir.resolve()
    assert len(REAL_LOGS) >= 6


@pytest.mark.parametrize("path", REAL_LOGS, ids=lambda p: p.name)
def test_real_log_matches_oracle(path):
    n = assert_logs_agree(path)
    assert n == path.read_text(errors="replace").count("\n...\n") + \
        path.read_text(errors="replace").startswith("...\n")


@pytest.mark.parametrize("path", REAL_LOGS, ids=lambda p: p.name)
def test_real_events_reformat_like_htcondor(path):
    """str(event) is HTCondor's own formatting of the event it read (ISO dates, local time)."""
    from .helpers import oracle_events
    theirs, ours = oracle_events(path), our_events(path)
    for i, (a, b) in enumerate(zip(theirs, ours)):
        assert str(b) == str(a), f"{path.name} event #{i}"


def test_every_event_number_in_real_logs_is_covered():
    seen = set()
    for path in REAL_LOGS:
        seen.update(int(e["EventTypeNumber"]) for e in our_events(path))
    # test_condor.log alone exercises 0..24 except 21
    assert set(range(0, 21)) | {22, 23, 24, 28, 40} <= seen


def test_real_terminated_usage_table():
    path = SHARED / "real" / "userlogs" / "chtcgpu__hello_gpu.log"
    term = [e for e in our_events(path) if e["EventTypeNumber"] == 5][0]
    assert term["AssignedGpus"] == "CUDA1"
    assert term["CpusUsage"] == 0.01 and term["RequestDisk"] == 512000
    assert "GpusUsage" not in term and term["Ioheavy"] == 0
    assert term["TerminatedNormally"] is True and term["ReturnValue"] == 0
