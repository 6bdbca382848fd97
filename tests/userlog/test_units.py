"""Unit tests of the pieces: header lines, ClassAd literal text, usage table, event type enum."""
import time

import htcondor2
import pytest

from pyhtc.userlog import FileTransferEventType, JobEventType, make_event
from pyhtc.userlog.adtext import (Expression, old_to_new_escaping, parse_value, unparse_old,
                                  unparse_value)
from pyhtc.userlog.header import (ISO_DATE, SUB_SECOND, UTC, HeaderError, format_header,
                                  parse_format_options, parse_header)
from pyhtc.userlog.usage import (UsageTableParser, format_usage_table, parse_rusage,
                                 rusage_string, usage_ad_from_fields)


def test_event_type_numbers_match_htcondor2():
    assert {m.name: m.value for m in JobEventType} == \
        {m.name: m.value for m in htcondor2.JobEventType}
    assert {m.name: m.value for m in FileTransferEventType} == \
        {m.name: m.value for m in htcondor2.FileTransferEventType}


@pytest.mark.parametrize("text,flags", [
    (None, ISO_DATE), ("", ISO_DATE), ("LEGACY", 0), ("!LEGACY", ISO_DATE),
    ("ISO_DATE, UTC", ISO_DATE | UTC), ("iso_date utc sub_second", ISO_DATE | UTC | SUB_SECOND),
    ("UTC !ISO_DATE", UTC), ("LEGACY UTC", UTC), ("bogus", ISO_DATE),
])
def test_format_options(text, flags):
    assert parse_format_options(text) == flags


def test_header_round_trip_local_and_utc():
    sec = 1_709_294_400  # 2024-03-01 12:00:00 UTC
    h = format_header(5, 12, 3, 0, sec, 123456, ISO_DATE | UTC | SUB_SECOND)
    assert h == "005 (012.003.000) 2024-03-01 12:00:00.123Z "
    assert parse_header(h + "Job terminated.") == (5, 12, 3, 0, sec, 123000, "Job terminated.")
    h = format_header(0, 1, 0, 0, sec, 0, ISO_DATE)
    assert parse_header(h + "x")[4] == sec
    legacy = format_header(0, 1, 0, 0, sec, 0, 0)
    assert legacy == "000 (001.000.000) " + time.strftime("%m/%d %H:%M:%S ", time.localtime(sec))


def test_header_full_iso_with_t_and_legacy_year():
    n, c, p, s, sec, usec, rest = parse_header("001 (7.0.0) 2024-03-01T12:00:00Z Job executing")
    assert (n, c, sec, rest) == (1, 7, 1_709_294_400, "Job executing")
    year = time.localtime().tm_year
    sec = parse_header("001 (7.0.0) 01/02 03:04:05 x")[4]
    assert time.localtime(sec)[:6] == (year, 1, 2, 3, 4, 5)


@pytest.mark.parametrize("line", ["", "1 (1.0.0) 2024-01-01 00:00:00 x", "0001 (1.0.0) x",
                                  "001 (1.0) 2024-01-01 00:00:00 x", "001 (1.0.0)2024-01-01 x",
                                  "001 (1.0.0) 2024-01-01 00:00:00"])
def test_bad_header(line):
    with pytest.raises(HeaderError):
        parse_header(line)


@pytest.mark.parametrize("text,value", [
    ("1", 1), ("-7", -7), ("2.5", 2.5), ("1E+20", 1e20), ("TRUE", True), ("false", False),
    ('"a\\"b\\\\c\\n"', 'a"b\\c\n'), ("[ A = 1; B = \"x;y\" ]", {"A": 1, "B": "x;y"}),
    ("{ 1,\"a\", { 2 } }", [1, "a", [2]]), ("time()", Expression("time()")),
    ('"a" + "b"', Expression('"a" + "b"')), ("{}", []),
])
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_unparse_new_and_old():
    assert unparse_value({"DAGNodeName": "A", "n": 1}) == '[ DAGNodeName = "A"; n = 1 ]'
    assert unparse_value([1, "a"]) == '{ 1,"a" }'
    assert unparse_value(1.5) == "1.500000000000000E+00"
    assert unparse_old(2.0) == "2.0" and unparse_old(1e22) == "1E+22" and unparse_old(0.1) == "0.1"
    assert unparse_old('C:\\x "q"') == '"C:\\x \\"q\\""'
    assert old_to_new_escaping('"C:\\x \\"q\\""') == '"C:\\\\x \\"q\\""'


def test_rusage():
    assert rusage_string(90061, 59) == "Usr 1 01:01:01, Sys 0 00:00:59"
    assert parse_rusage("\t\tUsr 1 01:01:01, Sys 0 00:00:59  -  Run Remote Usage") == (90061, 59)
    assert parse_rusage("Usr x") is None


def test_usage_table_round_trip():
    fields = {"Cpus": 2, "RequestCpus": 2, "CpusUsage": 1.25, "Memory": 2048,
              "RequestMemory": 1000, "MemoryUsage": 700, "Disk": 10, "RequestDisk": 5,
              "Gpus": 1, "RequestGpus": 1, "AssignedGpus": "GPU-1234", "Unrelated": 3}
    usage = usage_ad_from_fields(fields)
    assert "Unrelated" not in usage and usage["AssignedGpus"] == "GPU-1234"
    text = format_usage_table(usage)
    lines = text.splitlines()
    assert lines[0] == "\tPartitionable Resources :    Usage  Request Allocated Assigned"
    assert lines[1].startswith("\t   Cpus                 :     1.25        2         2 ")
    assert lines[3].startswith("\t   Gpus (Average)       :")
    parser = UsageTableParser(lines[0])
    back = {}
    for line in lines[1:]:
        parser.parse_row(line, back)
    assert back == {k: v for k, v in usage.items()}


def test_make_event_time_forms():
    ev = make_event(JobEventType.JOB_RELEASED, 1, 2, when=1_700_000_000.5)
    assert ev.clock == (1_700_000_000, 500_000) and ev.timestamp == 1_700_000_000
    assert ev["eventtime"].endswith(".500") and ev["CLUSTER"] == 1 and "proc" in ev
    ev = make_event(JobEventType.JOB_RELEASED, 1, 2)
    assert abs(ev.timestamp - time.time()) < 5
    assert repr(ev).startswith("JobEvent(type=JobEventType.JOB_RELEASED, cluster=1, proc=2")
    with pytest.raises(ValueError):
        make_event(1000, 1, 0)
