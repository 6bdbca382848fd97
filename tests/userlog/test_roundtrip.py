"""The real htcondor2.JobEventLog reads what our writer writes, with the fields we wrote,
and HTCondor's own formatter turns what it read back into exactly our bytes."""

import time

import pytest

from pyhtc.userlog import (ISO_DATE, SUB_SECOND, UTC, JobEventLog, JobEventType, make_event,
                           write_event, UserLog)
from pyhtc.userlog.header import parse_format_options

from .catalog import CASES, NOT_REFORMATTABLE
from .helpers import as_our_dict, assert_same_event, oracle_events, our_value

WHEN = 1_700_000_000


def expected(event, changes) -> dict:
    exp = as_our_dict(event)
    for k, v in changes.items():
        if v is None:
            exp.pop(k, None)
        else:
            exp[k] = our_value(v)
    return exp


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_oracle_reads_our_event(tmp_path, case):
    name, etype, fields, changes = case
    path = tmp_path / f"{name}.log"
    event = make_event(etype, 4242, 17, when=WHEN, **fields)
    write_event(path, event)
    text = path.read_text()
    theirs = oracle_events(path)
    ours = list(JobEventLog(path).events(0))
    assert len(theirs) == 1 and len(ours) == 1
    assert_same_event(theirs[0], ours[0], name)
    assert as_our_dict(ours[0]) == expected(event, changes)
    assert theirs[0].timestamp == WHEN and theirs[0].cluster == 4242 and theirs[0].proc == 17
    if name not in NOT_REFORMATTABLE:
        assert str(theirs[0]) + "...\n" == text      # byte-compatible with HTCondor
        assert str(ours[0]) == str(theirs[0])


def test_all_written_types_in_one_log(tmp_path):
    path = tmp_path / "all.log"
    with UserLog(path) as log:
        for i, (_name, etype, fields, _changes) in enumerate(CASES):
            log.write(make_event(etype, 100 + i, i, when=WHEN + i, **fields))
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert len(theirs) == len(ours) == len(CASES)
    for a, b in zip(theirs, ours):
        assert_same_event(a, b)
    written = {int(c[1]) for c in CASES}
    assert written >= {0, 1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 28, 35, 36, 40}


@pytest.mark.parametrize("opts", ["ISO_DATE", "LEGACY", "ISO_DATE UTC", "ISO_DATE SUB_SECOND",
                                  "ISO_DATE UTC SUB_SECOND", "LEGACY UTC", "!LEGACY"])
def test_header_formats(tmp_path, opts):
    path = tmp_path / "fmt.log"
    options = parse_format_options(opts)
    # a time within the current year, so the year-less LEGACY form reads back the same
    when = (int(time.time()) - 60, 250_000)
    ev = make_event(JobEventType.JOB_HELD, 1, 0, when=when, HoldReason="x", HoldReasonCode=1,
                    HoldReasonSubCode=0)
    write_event(path, ev, format_options=opts)
    line = path.read_text().splitlines()[0]
    assert ("Z " in line) == bool(options & UTC)
    assert (".250" in line) == bool(options & SUB_SECOND)
    assert ("/" in line.split(")")[1][:4]) == (not options & ISO_DATE)
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert_same_event(theirs[0], ours[0], opts)
    assert ours[0].timestamp == when[0]
    if options & SUB_SECOND:
        assert ours[0]["EventTime"].endswith(".250")


def test_default_header_is_iso_local(tmp_path):
    path = tmp_path / "d.log"
    write_event(path, make_event(JobEventType.JOB_RELEASED, 12, 3, when=WHEN))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(WHEN))   # local time, ISO date
    assert path.read_text() == f"013 (012.003.000) {stamp} Job was released.\n...\n"


def test_negative_and_big_ids(tmp_path):
    path = tmp_path / "ids.log"
    write_event(path, make_event(JobEventType.JOB_ABORTED, 2**31 - 1, 99999, when=WHEN))
    write_event(path, make_event(JobEventType.GENERIC, -1, -1, -1, when=WHEN, Info="x"))
    text = path.read_text()
    assert text.startswith("009 (2147483647.99999.000) ")
    assert "008 (-01.-01.-01) " in text
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    for a, b in zip(theirs, ours):
        assert_same_event(a, b)
    assert ours[0].cluster == 2**31 - 1 and ours[1].cluster == -1 and "Cluster" not in ours[1]


def test_write_requires_fields():
    from pyhtc.userlog import format_event
    with pytest.raises(ValueError, match="StartdName"):
        format_event(make_event(JobEventType.JOB_DISCONNECTED, 1, 0, DisconnectReason="x",
                                StartdAddr="<a>"))
    with pytest.raises(ValueError, match="Type"):
        format_event(make_event(JobEventType.FILE_TRANSFER, 1, 0, Type=9))
    with pytest.raises(ValueError, match="not supported"):
        format_event(make_event(JobEventType.RESERVE_SPACE, 1, 0))


@pytest.mark.parametrize("opts", ["JSON", "JSON UTC"])
def test_json_log_read_by_oracle(tmp_path, opts):
    path = tmp_path / "events.json.log"
    with UserLog(path, format_options=opts) as log:
        for i, (_name, etype, fields, _changes) in enumerate(CASES):
            log.write(make_event(etype, 300 + i, i, when=WHEN + i, **fields))
    text = path.read_text()
    assert text.startswith("{\n  \"EventTypeNumber\": 0,\n")
    assert ("Z\"," in text) == ("UTC" in opts)
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert len(theirs) == len(ours) == len(CASES)
    for (name, etype, fields, changes), a, b in zip(CASES, theirs, ours):
        assert_same_event(a, b, name)
        assert int(b["EventTypeNumber"]) == int(etype) and b.timestamp == a.timestamp


def test_text_and_json_read_the_same(tmp_path):
    # (except where HTCondor's text reader transforms fields, e.g. "DAG Node:" notes)
    cases = [c for c in CASES if not c[3] and c[0] not in NOT_REFORMATTABLE]
    for fmt in ("ISO_DATE", "JSON"):
        with UserLog(tmp_path / f"{fmt}.log", format_options=fmt) as log:
            for i, (_name, etype, fields, _changes) in enumerate(cases):
                log.write(make_event(etype, 1, i, when=WHEN + i, **fields))
    a = list(JobEventLog(tmp_path / "ISO_DATE.log").events(0))
    b = list(JobEventLog(tmp_path / "JSON.log").events(0))
    assert [x.to_dict() for x in a] == [y.to_dict() for y in b]


def test_xml_is_refused(tmp_path):
    with pytest.raises(ValueError, match="XML"):
        UserLog(tmp_path / "x.log", format_options="XML")


def test_terminated_usage_from_job_ad(tmp_path):
    from pyhtc.userlog.usage import usage_fields_from_job_ad
    job = {"ProvisionedResources": "Cpus Disk Memory Gpus", "CpusProvisioned": 2,
           "RequestCpus": 1, "CpusUsage": 1.37, "DiskProvisioned": 1000, "RequestDisk": 500,
           "DiskUsage": 30, "MemoryProvisioned": 2048, "requestmemory": 1024, "MemoryUsage": 700,
           "GpusProvisioned": 1, "RequestGpus": 1, "GpusAverageUsage": 0.5,
           "GpusMemoryUsage": 3000, "AssignedGpus": "GPU-abc",
           "ActivationExecutionDuration": 120, "ActivationDuration": 130, "Owner": "alice"}
    usage = usage_fields_from_job_ad(job)
    assert usage["Memory"] == 2048 and usage["RequestMemory"] == 1024 and "Owner" not in usage
    zero = "Usr 0 00:00:00, Sys 0 00:00:00"
    path = tmp_path / "t.log"
    write_event(path, make_event(JobEventType.JOB_TERMINATED, 1, 0, when=WHEN,
                                 TerminatedNormally=True, ReturnValue=0, RunLocalUsage=zero,
                                 RunRemoteUsage=zero, TotalLocalUsage=zero,
                                 TotalRemoteUsage=zero, **usage))
    text = path.read_text()
    assert "\t   Gpus (Average)       :     0.50        1         1 \"GPU-abc\"\n" in text
    assert "\t   TimeExecute (s)      :   120" in text
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert_same_event(theirs[0], ours[0])
    assert str(theirs[0]) + "...\n" == text
    assert ours[0]["GpusUsage"] == 0.5 and ours[0]["TimeSlotBusyUsage"] == 130
