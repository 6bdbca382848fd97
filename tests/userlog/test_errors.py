"""Malformed logs: clear errors naming file and line, and reading goes on like HTCondor's."""
import pickle

import htcondor2
import pytest

from pyhtc.userlog import JobEventLog, UserLogParseError, read_events

from .helpers import assert_same_event, oracle_events

BAD = """\
000 (1.000.000) 2024-03-01 12:00:00 Job submitted from host: <1.2.3.4:5>
...
005 (1.000.000) 2024-03-01 12:00:01 Job terminated.
\t(1) Normal termination (return value 0)
\tgarbage here
...
099 (1.000.000) 2024-03-01 12:00:02 Some future event
\tfoo = 1
\tbar = "x"
...
009 (1.000.000) 2024-03-01 12:00:03 Job was aborted.
...
"""


def test_malformed_event_is_reported_and_skipped_like_htcondor(tmp_path):
    path = tmp_path / "bad.log"
    path.write_text(BAD)
    ours = JobEventLog(path).events(0)
    theirs = htcondor2.JobEventLog(str(path)).events(0)
    assert_same_event(next(theirs), next(ours))
    with pytest.raises(UserLogParseError) as info:
        next(ours)
    err = info.value
    assert err.path == str(path) and err.line == 5 and err.offset == 77
    assert f"{path}:5:" in str(err) and "garbage here" in str(err)
    with pytest.raises(htcondor2.HTCondorException, match="ULOG_RD_ERROR"):
        next(theirs)                              # HTCondor gives up on the same event
    for _ in range(2):                            # ... and both go on with the next ones
        assert_same_event(next(theirs), next(ours))
    with pytest.raises(StopIteration):
        next(ours)
    assert [e["EventTypeNumber"] for e in read_events(path, skip_errors=True)] == [0, 99, 9]
    with pytest.raises(UserLogParseError):
        read_events(path)


def test_unknown_event_number_reads_as_future_event(tmp_path):
    path = tmp_path / "f.log"
    path.write_text(BAD.split("...\n", 2)[2])
    ev = next(JobEventLog(path).events(0))
    assert ev.type == 99 and ev["MyType"] == "FutureEvent" and ev["EventHead"] == "Some future event"
    assert ev["foo"] == 1 and ev["bar"] == "x"


@pytest.mark.parametrize("header,what", [
    ("abc (1.0.0) 2024-03-01 12:00:00 Job was aborted.", "three-digit"),
    ("009 1.0.0 2024-03-01 12:00:00 Job was aborted.", "cluster.proc.subproc"),
    ("009 (1.0.0) 2024-13-01 12:00:00 Job was aborted.", "bad date"),
    ("009 (1.0.0) 99/01 12:00:00 Job was aborted.", "bad date"),
    ("009 (1.0.0) 2024-03-01", "no date and time"),
    ("009 (1.0.0) 2024-03-01 xx:00:00 Job was aborted.", "bad time"),
])
def test_bad_headers(tmp_path, header, what):
    path = tmp_path / "h.log"
    path.write_text("\n" + header + "\n...\n013 (1.000.000) 2024-03-01 12:00:00 Job was released.\n...\n")
    it = JobEventLog(path).events(0)
    with pytest.raises(UserLogParseError, match=what) as info:
        next(it)
    assert info.value.line == 2
    assert next(it).type == 13


def test_missing_body_line(tmp_path):
    path = tmp_path / "b.log"
    path.write_text("010 (1.000.000) 2024-03-01 12:00:00 Job was suspended.\n...\n")
    with pytest.raises(UserLogParseError, match="Number of processes"):
        next(JobEventLog(path).events(0))


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        JobEventLog(tmp_path / "nope.log")
    with pytest.raises(ValueError):
        JobEventLog("")
    with pytest.raises(TypeError):
        JobEventLog(12)
    path = tmp_path / "e.log"
    path.write_text("")
    with pytest.raises(TypeError):
        JobEventLog(path).events(1.5)


def test_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "crlf.log"
    text = ("000 (7.000.000) 2024-03-01 12:00:00 Job submitted from host: <h>\n"
            "    DAG Node: X\n...\n\n"
            "012 (7.000.000) 2024-03-01 12:00:05 Job was held.\n\tbecause\n\tCode 1 Subcode 2\n...\n")
    path.write_bytes(text.replace("\n", "\r\n").encode())
    ours = list(JobEventLog(path).events(0))
    assert [e.type for e in ours] == [0, 12]
    assert dict(ours[0]["StructuredNotes"]) == {"DAGNodeName": "X"}
    assert ours[1]["HoldReason"] == "because" and ours[1]["HoldReasonSubCode"] == 2
    crlf_free = tmp_path / "lf.log"
    crlf_free.write_text(text.replace("...\n\n", "...\n"))
    for a, b in zip(oracle_events(crlf_free), ours):
        assert_same_event(a, b)


def test_pickle_resumes(tmp_path):
    path = tmp_path / "p.log"
    path.write_text(BAD.split("...\n", 2)[2] * 3)
    log = JobEventLog(path).events(0)
    next(log), next(log)
    clone = pickle.loads(pickle.dumps(log))
    assert clone.offset == log.offset
    rest = list(clone)
    assert [e.type for e in rest] == [99, 9, 99, 9]
    assert [e.type for e in log] == [99, 9, 99, 9]


def test_close_and_context_manager(tmp_path):
    path = tmp_path / "c.log"
    path.write_text(BAD.split("...\n", 2)[2])
    with JobEventLog(path) as log:
        log.events(0)
        assert next(log).type == 99
    with pytest.raises(StopIteration):
        next(log)
