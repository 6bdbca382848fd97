"""Per-job state reduction (condor_q -userlog / condor_wait semantics)."""
from pyhtc.userlog import (JobEventLog, JobEventType as T, JobStateTracker, UserLog,
                           job_ads_from_log, make_event)
from pyhtc.userlog.state import COMPLETED, HELD, IDLE, REMOVED, RUNNING, SUSPENDED

ZERO = "Usr 0 00:00:00, Sys 0 00:00:00"


def test_real_dagman_log(shared_dir):
    ads = job_ads_from_log(shared_dir / "real" / "userlogs" / "htcondor__job_dagman_gt1957.testlog.log")
    by_id = {(a["ClusterId"], a["ProcId"]): a for a in ads}
    first, second = by_id[(180158, 0)], by_id[(180159, 0)]
    assert first["JobStatus"] == REMOVED and first["LastJobStatus"] == COMPLETED
    assert first["ExitBySignal"] is True and first["ExitSignal"] == 11
    assert second["JobStatus"] == COMPLETED and second["ExitCode"] == 0
    assert second["NumJobStarts"] == 1 and second["DAGNodeName"] == "A"
    assert second["RemoteWallClockTime"] == 48.0


def test_real_job_ad_information_is_merged(shared_dir):
    ads = job_ads_from_log(shared_dir / "real" / "userlogs" / "htcondor__test_log.txt.log")
    assert [a["JOBGLIDEIN_CMSSite"] for a in ads][0].startswith("$$([ifThenElse")
    assert "TriggerEventTypeName" not in ads[0] and ads[0]["JobStatus"] == IDLE


def test_lifecycle_and_wait_condition(tmp_path):
    path = tmp_path / "life.log"
    t = 1_700_000_000
    with UserLog(path) as log:
        log.log(T.SUBMIT, 5, 0, when=t, SubmitHost="<h>")
        log.log(T.SUBMIT, 5, 1, when=t, SubmitHost="<h>")
        log.log(T.EXECUTE, 5, 0, when=t + 10, ExecuteHost="<e>")
        log.log(T.JOB_SUSPENDED, 5, 0, when=t + 11, NumberOfPIDs=1)
    tracker = JobStateTracker(str(path))
    reader = JobEventLog(path).events(0)
    tracker.feed(reader)
    assert tracker.status(5, 0) == SUSPENDED and tracker.status(5, 1) == IDLE
    assert not tracker.all_done
    with UserLog(path) as log:
        log.log(T.JOB_UNSUSPENDED, 5, 0, when=t + 12)
        log.log(T.JOB_HELD, 5, 0, when=t + 13, HoldReason="over memory", HoldReasonCode=34,
                HoldReasonSubCode=0)
        log.log(T.JOB_RELEASED, 5, 0, when=t + 14, Reason="bumped memory")
        # no EXECUTE before this TERMINATED: tolerated
        log.log(T.JOB_TERMINATED, 5, 0, when=t + 20, TerminatedNormally=True, ReturnValue=3,
                RunLocalUsage=ZERO, RunRemoteUsage="Usr 0 00:00:05, Sys 0 00:00:01",
                TotalLocalUsage=ZERO, TotalRemoteUsage="Usr 0 00:00:05, Sys 0 00:00:01")
        log.log(T.JOB_ABORTED, 5, 1, when=t + 21, Reason="via condor_rm")
    tracker.feed(reader)                        # resumes where it stopped
    job0, job1 = tracker.jobs[(5, 0)], tracker.jobs[(5, 1)]
    assert job0["JobStatus"] == COMPLETED and job0["ExitCode"] == 3
    assert job0["NumSystemHolds"] == 1 and job0["HoldReasonCode"] == 34
    assert job0["LastVacateReason"] == "over memory" and job0["ReleaseReason"] == "bumped memory"
    assert job0["RemoteUserCpu"] == 5.0 and job0["RemoteSysCpu"] == 1.0
    assert job0["TotalSuspensions"] == 1 and "RemoteHost" not in job0
    assert job1["JobStatus"] == REMOVED and job1["RemoveReason"] == "via condor_rm"
    assert tracker.all_done and tracker.counts() == {COMPLETED: 1, REMOVED: 1}


def test_duplicates_and_unknown_jobs():
    t = 1_700_000_000
    sub = make_event(T.SUBMIT, 1, 0, when=t, SubmitHost="<h>")
    ex = make_event(T.EXECUTE, 1, 0, when=t + 1, ExecuteHost="<e>")
    orphan = make_event(T.EXECUTE, 2, 0, when=t + 1, ExecuteHost="<e>")
    tracker = JobStateTracker()
    assert tracker.feed([sub, ex, ex, orphan]) == 2
    assert tracker.jobs[(1, 0)]["NumJobStarts"] == 1 and (2, 0) not in tracker.jobs
    adopting = JobStateTracker(adopt_unknown=True)
    adopting.feed([orphan])
    assert adopting.status(2, 0) == RUNNING
    assert not JobStateTracker().all_done
    assert HELD == 5
