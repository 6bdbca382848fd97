"""Tricky values survive the round trip through our writer and both readers."""
import string

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyhtc.userlog import JobEventLog, JobEventType as T, make_event, write_event

from .helpers import as_our_dict, assert_same_event, oracle_events

WHEN = 1_650_000_000
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def roundtrip(path, event):
    if path.exists():
        path.unlink()
    write_event(path, event)
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert len(theirs) == 1 and len(ours) == 1, path.read_text()
    assert_same_event(theirs[0], ours[0])
    return ours[0]


def test_long_hold_reason(tmp_path):
    reason = "Error from slot1@execute.example.org: " + "x" * 9000 + " end"
    ev = roundtrip(tmp_path / "h.log", make_event(T.JOB_HELD, 7, 0, when=WHEN, HoldReason=reason,
                                                  HoldReasonCode=12, HoldReasonSubCode=2))
    assert ev["HoldReason"] == reason and ev["HoldReasonSubCode"] == 2


def test_multiline_texts_stay_one_event(tmp_path):
    # HTCondor stores free text on one line: \n -> '|', \r -> ' ' (set_reason_member)
    nasty = "first line\n...\n000 (1.0.0) 2020-01-01 00:00:00 Job submitted from host: x\r"
    ev = roundtrip(tmp_path / "m.log", make_event(T.JOB_HELD, 1, 0, when=WHEN, HoldReason=nasty,
                                                  HoldReasonCode=3, HoldReasonSubCode=0))
    assert ev["HoldReason"] == nasty.replace("\n", "|").replace("\r", " ").strip()
    ev = roundtrip(tmp_path / "s.log", make_event(T.SUBMIT, 1, 0, when=WHEN, SubmitHost="<h>",
                                                  LogNotes="a\nb", UserNotes="c\r\nd"))
    assert ev["LogNotes"] == "a|b" and ev["UserNotes"] == "c |d"


def test_negative_return_value_is_dropped_like_htcondor(tmp_path):
    zero = "Usr 0 00:00:00, Sys 0 00:00:00"
    ev = roundtrip(tmp_path / "n.log", make_event(
        T.JOB_TERMINATED, 3, 1, when=WHEN, TerminatedNormally=True, ReturnValue=-1,
        RunLocalUsage=zero, RunRemoteUsage=zero, TotalLocalUsage=zero, TotalRemoteUsage=zero))
    assert "ReturnValue" not in ev and ev["TerminatedNormally"] is True
    assert "(return value -1)" in str(ev)


@pytest.mark.parametrize("sig", [1, 2, 6, 9, 11, 15, 64])
def test_signals(tmp_path, sig):
    zero = "Usr 0 00:00:00, Sys 0 00:00:00"
    ev = roundtrip(tmp_path / "sig.log", make_event(
        T.JOB_TERMINATED, 3, 1, when=WHEN, TerminatedNormally=False, TerminatedBySignal=sig,
        RunLocalUsage=zero, RunRemoteUsage=zero, TotalLocalUsage=zero, TotalRemoteUsage=zero))
    assert ev["TerminatedBySignal"] == sig and "ReturnValue" not in ev


def test_large_byte_counts_are_single_precision_like_htcondor(tmp_path):
    zero = "Usr 0 00:00:00, Sys 0 00:00:00"
    ev = roundtrip(tmp_path / "b.log", make_event(
        T.JOB_TERMINATED, 3, 1, when=WHEN, TerminatedNormally=True, ReturnValue=0,
        RunLocalUsage=zero, RunRemoteUsage=zero, TotalLocalUsage=zero, TotalRemoteUsage=zero,
        SentBytes=123456789.0, ReceivedBytes=16777217.0, TotalSentBytes=1e12))
    assert ev["SentBytes"] == 123456792.0 and ev["ReceivedBytes"] == 16777216.0


def test_unicode_text(tmp_path):
    ev = roundtrip(tmp_path / "u.log", make_event(T.JOB_ABORTED, 1, 0, when=WHEN,
                                                  Reason="removed by José — ✓"))
    assert ev["Reason"] == "removed by José — ✓"


def test_cpu_usage_days(tmp_path):
    ev = roundtrip(tmp_path / "c.log", make_event(
        T.CHECKPOINTED, 1, 0, when=WHEN, RunRemoteUsage=(3 * 86400 + 3661, 59),
        RunLocalUsage="Usr 0 25:00:00, Sys 0 00:00:61"))
    assert ev["RunRemoteUsage"] == "Usr 3 01:01:01, Sys 0 00:00:59"
    assert ev["RunLocalUsage"] == "Usr 1 01:00:00, Sys 0 00:01:01"


def test_cpu_usage_lines_written_by_others_are_normalized(tmp_path):
    path = tmp_path / "n.log"
    path.write_text("003 (1.000.000) 2024-03-01 12:00:00 Job was checkpointed.\n"
                    "\t\tUsr 00 01:02:03, Sys 0 00:00:07  -  Run Remote Usage\n"
                    "\t\tUsr 0 00:00:99, Sys 1 23:59:59  -  Run Local Usage\n"
                    "\t5  -  Run Bytes Sent By Job For Checkpoint\n...\n")
    theirs, ours = oracle_events(path), list(JobEventLog(path).events(0))
    assert_same_event(theirs[0], ours[0])
    assert ours[0]["RunRemoteUsage"] == "Usr 0 01:02:03, Sys 0 00:00:07"
    assert ours[0]["RunLocalUsage"] == "Usr 0 00:01:39, Sys 1 23:59:59"


text_st = st.text(alphabet=string.ascii_letters + string.digits + " .,:;!?()[]{}<>/@#%&*+=_-'\"\\",
                  min_size=1, max_size=300).map(str.strip).filter(bool)
ids_st = st.integers(min_value=0, max_value=2**31 - 1)


@SETTINGS
@given(reason=text_st, code=st.integers(0, 48), sub=st.integers(-2**31, 2**31 - 1),
       cluster=ids_st, proc=st.integers(0, 10**6))
def test_held_property(tmp_path, reason, code, sub, cluster, proc):
    ev = roundtrip(tmp_path / "p.log", make_event(T.JOB_HELD, cluster, proc, when=WHEN,
                                                  HoldReason=reason, HoldReasonCode=code,
                                                  HoldReasonSubCode=sub))
    exp = {"HoldReasonCode": code, "HoldReasonSubCode": sub}
    if reason != "Reason unspecified":
        exp["HoldReason"] = reason
    assert {k: v for k, v in as_our_dict(ev).items() if k.startswith("Hold")} == exp
    assert (ev.cluster, ev.proc) == (cluster, proc)


@SETTINGS
@given(host=text_st, notes=text_st, user=text_st)
def test_submit_property(tmp_path, host, notes, user):
    ev = roundtrip(tmp_path / "q.log", make_event(T.SUBMIT, 5, 0, when=WHEN, SubmitHost=host,
                                                  LogNotes=notes, UserNotes=user))
    assert ev["SubmitHost"] == host


@SETTINGS
@given(attrs=st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True),
                             st.one_of(st.integers(-2**62, 2**62), st.booleans(),
                                       st.floats(allow_nan=False, allow_infinity=False, width=64),
                                       text_st),
                             min_size=1, max_size=8))
def test_job_ad_property(tmp_path, attrs):
    reserved = {"eventtypenumber", "mytype", "eventtime", "cluster", "proc", "subproc"}
    attrs = {k: v for k, v in attrs.items() if k.lower() not in reserved
             and k.lower() not in {"true", "false", "undefined", "error", "is", "isnt"}}
    lowered = {}
    for k, v in attrs.items():
        lowered.setdefault(k.lower(), (k, v))
    attrs = dict(lowered.values())
    if not attrs:
        return
    ev = roundtrip(tmp_path / "j.log", make_event(T.JOB_AD_INFORMATION, 9, 9, when=WHEN, **attrs))
    for k, v in attrs.items():
        got = ev[k]
        if isinstance(v, float):
            # HTCondor prints reals with %.16G on these lines, so 17-digit values round
            assert got == float("%.16G" % v) and isinstance(got, float)
        elif isinstance(v, str):
            assert got == v.replace("\n", "|")
        else:
            assert got == v and type(got) is type(v)
