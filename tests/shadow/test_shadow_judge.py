"""The shadow's fate decisions with the job ad read through the fast path (a file
write_job_ad wrote: only the attributes the shadow reads are parsed, the whole ad when one it
evaluates is an expression) are those it makes with the whole ad parsed (a plain file):
same exit code, same report, same user log events."""
import re

import pytest

from pyhtc import classad as C
from pyhtc.cedar.security.match import new_claim_id
from pyhtc.config import Config
from pyhtc.daemoncore import exitcodes as X
from pyhtc.daemoncore.adfile import write_ad
from pyhtc.daemoncore.log import DebugLog
from pyhtc.daemoncore.handoff import session_line, write_claim_file, write_job_ad
from pyhtc.daemons.shadow.main import Shadow, parse_args

BASE = {"ClusterId": 4, "ProcId": 0, "JobUniverse": 5, "Cmd": "/bin/true", "Owner": "u",
        "RequestCpus": 1, "RequestDisk": 10, "RequestMemory": 5, "NumJobCompletions": 2,
        "ShouldTransferFiles": "NO"}
CASES = {
    "plain": ({}, 0, X.JOB_EXITED),
    "remove-policy": ({"OnExitRemove": C.ExprTree("ExitCode =?= 0")}, 1, X.JOB_SHOULD_REQUEUE),
    "remove-literal": ({"OnExitRemove": True, "OnExitHold": False}, 1, X.JOB_EXITED),
    "hold": ({"OnExitHold": C.ExprTree("ExitCode > 0"),
              "OnExitHoldReason": C.ExprTree('strcat("code ", ExitCode)'),
              "OnExitHoldSubCode": C.ExprTree("ExitCode * 2")}, 3, X.JOB_SHOULD_HOLD),
    "request-expr": ({"RequestMemory": C.ExprTree("ifthenelse(MemoryUsage =!= undefined, "
                                                  "MemoryUsage, 7)"),
                      "MemoryUsage": C.ExprTree("(ResidentSetSize + 1023) / 1024")}, 0, X.JOB_EXITED),
}


def run_judge(tmp_path, sub: str, ad: C.ClassAd, exit_code: int, fast: bool):
    d = tmp_path / sub
    d.mkdir()
    ad = C.ClassAd(ad)
    ad["Iwd"] = str(d)
    ad["UserLog"] = "job.log"
    (write_job_ad if fast else write_ad)(str(d / "job.ad"), ad)
    cid = new_claim_id("<127.0.0.1:1>", 1700000000, 1).text
    write_claim_file(str(d / "claim"), cid, session_line(cid))
    ns = parse_args(["4.0", "-job-ad", str(d / "job.ad"), "-claim-file", str(d / "claim"),
                     "-startd", "<127.0.0.1:1>", "-report", str(d / "report"), "-slot", "s@h",
                     "-pid-file", str(d / "pid")])
    config = Config.load("SHADOW", None, environ={"CONDOR_CONFIG": "ONLY_ENV",
                                                  "_CONDOR_LOG": str(d)}, read_user_config=False)
    shadow = Shadow(ns, config, DebugLog(str(d / "ShadowLog")))
    try:
        assert (shadow.jobfile.pairs is not None) == fast
        result = C.ClassAd({"Outcome": "Exited", "ExitCode": exit_code, "ExitBySignal": False,
                            "RemoteUserCpu": 0.5, "RemoteSysCpu": 0.25, "ImageSize": 2048,
                            "ResidentSetSize": 3000, "RemoteWallClockTime": 2.0})
        code = shadow.judge(result)
    finally:
        shadow.wakeup.close()
    log = (d / "job.log").read_text()
    log = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", "TIME", log)
    return code, shadow.report, log, shadow


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_and_whole_ad_judge_alike(tmp_path, case):
    extra, exit_code, expect = CASES[case]
    ad = C.ClassAd({**BASE, **extra})
    fast = run_judge(tmp_path, "fast", ad, exit_code, True)
    slow = run_judge(tmp_path, "slow", ad, exit_code, False)
    assert fast[0] == slow[0] == expect
    assert fast[1] == slow[1]
    assert fast[2] == slow[2] and fast[2]
    assert fast[1]["NumJobCompletions"] == 3
    if case == "hold":
        assert fast[1]["HoldReason"] == "code 3" and fast[1]["HoldReasonSubCode"] == 6
    # the whole ad is parsed only when an evaluated attribute is an expression
    whole = "Cmd" in fast[3].job
    assert whole == (case in ("remove-policy", "hold", "request-expr"))
