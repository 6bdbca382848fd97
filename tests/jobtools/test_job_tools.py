"""condor_q, condor_rm/hold/release, condor_qedit, condor_prio, condor_history and
condor_wait against a real schedd daemon (and real log files).

Each test runs its tool calls through the entry points (``pyhtc.tools.q:main`` ...) in one
child process (``schedd.tools``), plus a few ``python -m`` runs to cover the module entry."""
from __future__ import annotations

import getpass
import json
import re
import subprocess
import sys
import time

ME = getpass.getuser()
Q, HIST, WAIT = "pyhtc.tools.q:main", "pyhtc.tools.history:main", "pyhtc.tools.wait:main"
RM, HOLD, RELEASE = "pyhtc.tools.jobctl:rm_main", "pyhtc.tools.jobctl:hold_main", "pyhtc.tools.jobctl:release_main"
QEDIT, PRIO = "pyhtc.tools.jobctl:qedit_main", "pyhtc.tools.jobctl:prio_main"


def submit(schedd, n=1, **cmds) -> int:
    """Submit n jobs with pyhtc's Schedd; returns the cluster id."""
    desc = {"executable": "/bin/sleep", "arguments": "60", **cmds}
    r = schedd.pyhtc(f"r = schedd.submit(Submit({desc!r}), count={n})\nprint(json.dumps(r.cluster()))")
    return schedd.json_of(r)


def rows(r) -> list[list[str]]:
    assert r.returncode == 0, r.stderr
    return [line.split() for line in r.stdout.splitlines()]


def test_condor_q_views(schedd):
    c1 = submit(schedd, 3)
    c2 = submit(schedd, 1, batch_name="mybatch", arguments="10")
    (held, batch, nobatch, hold, run, af, fmt, long_, js, cons, tot, bad) = schedd.tools(
        (HOLD, f"{c1}.1", "-reason", "testing"),
        (Q,),
        (Q, "-nobatch", str(c1)),
        (Q, "-hold", str(c1)),
        (Q, "-run", str(c1)),
        (Q, "-allusers", str(c1), "-af", "ProcId", "JobStatus"),
        (Q, f"{c1}.2", "-format", "%d:", "ProcId", "-format", "%s\\n", "Owner"),
        (Q, f"{c1}.0", "-long", "-attributes", "ClusterId,Args"),
        (Q, str(c1), "-json", "-attributes", "ProcId", "-limit", "2"),
        (Q, "-allusers", "-constraint", 'JobBatchName == "mybatch"', "-af", "ClusterId"),
        (Q, "-totals", str(c1)),
        (Q, "-constraint", "ClusterId =="))
    assert (held.returncode, held.stdout) == (0, f"Job {c1}.1 held\n"), held.stderr

    # default batch view: title, header with HOLD (a job is held), one row per batch, totals
    assert batch.returncode == 0, batch.stderr
    lines = batch.stdout.split("\n")
    assert lines[0] == lines[1] == ""
    addr = schedd.sinful.split("?")[0]
    assert re.fullmatch(rf"-- Schedd: \S+ : {re.escape(addr)}(\?\.\.\.)? @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d", lines[2])
    assert lines[3].split() == ["OWNER", "BATCH_NAME", "SUBMITTED", "DONE", "RUN", "IDLE", "HOLD", "TOTAL", "JOB_IDS"]
    by_batch = {" ".join(ln.split()[1:3]) if ln.split()[1] == "ID:" else ln.split()[1]: ln.split()
                for ln in lines[4:] if ln.startswith(ME + " ")}
    assert by_batch[f"ID: {c1}"][-6:] == ["_", "_", "2", "1", "3", f"{c1}.0-2"]
    assert by_batch["mybatch"][-6:] == ["_", "_", "1", "_", "1", f"{c2}.0"]
    # the columns line up under the header (right-aligned counters)
    head = lines[3]
    row = [ln for ln in lines[4:] if f"ID: {c1}" in ln][0]
    assert row.index(f"{c1}.0-2") == head.index("JOB_IDS")
    assert row[head.index("TOTAL") + len("TOTAL") - 1] == "3"
    assert re.search(r"\nTotal for query: (\d+) jobs; 0 completed, 0 removed, \d+ idle, 0 running, \d+ held, "
                     r"0 suspended \n(Total for \S+: .*\n)?Total for all users: \d+ jobs; .*suspended\n\n$",
                     batch.stdout)

    # -nobatch: one line per job with ST and CMD
    head = [ln for ln in nobatch.stdout.splitlines() if ln.startswith(" ID")][0]
    assert head.split() == ["ID", "OWNER", "SUBMITTED", "RUN_TIME", "ST", "PRI", "SIZE", "CMD"]
    jobs = [ln for ln in nobatch.stdout.splitlines() if re.match(rf"\s*{c1}\.\d", ln)]
    assert [j.split()[0] for j in jobs] == [f"{c1}.{p}" for p in range(3)]
    assert [j.split()[5] for j in jobs] == ["I", "H", "I"]
    assert all(j.endswith(" sleep 60") and " 0+00:00:00 " in j for j in jobs)
    assert "Total for query: 3 jobs; 0 completed, 0 removed, 2 idle, 0 running, 1 held, 0 suspended" in nobatch.stdout

    # -hold: the hold reason; -run: no running jobs, HOST(S) column, no totals
    held_rows = [ln for ln in hold.stdout.splitlines() if ln.strip().startswith(f"{c1}.")]
    assert len(held_rows) == 1 and held_rows[0].split()[0] == f"{c1}.1" and "testing" in held_rows[0]
    assert "CODE/SUB HOLD_REASON" in hold.stdout
    assert run.stdout.splitlines()[3].split() == ["ID", "OWNER", "SUBMITTED", "RUN_TIME", "HOST(S)"]
    assert len(run.stdout.splitlines()) == 4

    # -af, -format, -long, -json, -limit, -constraint, -totals
    assert rows(af) == [["0", "1"], ["1", "5"], ["2", "1"]]
    assert fmt.stdout == f"2:{ME}\n"
    assert long_.stdout == f'Args = "60"\nClusterId = {c1}\n\n'
    assert json.loads(js.stdout) == [{"ProcId": 0}, {"ProcId": 1}]
    # -xml: the same ads, read back by the real classad2 XML parser; none: header and footer
    (xml, none, both) = schedd.tools((Q, str(c1), "-xml", "-attributes", "ProcId,JobStatus"),
                                     (Q, "-xml", "-constraint", "false"), (Q, "-json", "-xml"))
    import classad2
    ads = list(classad2.parseAds(xml.stdout, classad2.ParserType.XML))
    assert [(a["ProcId"], a["JobStatus"]) for a in ads] == [(0, 1), (1, 5), (2, 1)], xml.stdout
    assert none.stdout == ('<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n'
                           '<classads>\n</classads>\n')
    assert both.returncode != 0 and "Cannot print as both XML and JSON" in both.stderr
    assert cons.stdout == f"{c2}\n"
    assert tot.stdout.splitlines()[3].startswith("Total for query: 3 jobs;") and "OWNER" not in tot.stdout
    assert bad.returncode == 1 and "Invalid constraint" in bad.stderr

    # as a real command: python -m, and an unreachable schedd (exit 1 with a message)
    r = subprocess.run([sys.executable, "-m", "pyhtc.tools.q", str(c2), "-af", "ClusterId"],
                       env=schedd.env(), capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, f"{c2}\n"), r.stderr
    r = subprocess.run([sys.executable, "-m", "pyhtc.tools.q"], capture_output=True, text=True, timeout=60,
                       env=schedd.env(_CONDOR_SCHEDD_ADDRESS_FILE=str(schedd.tmp / "missing"),
                                      _CONDOR_COLLECTOR_HOST="127.0.0.1:1"))
    assert r.returncode == 1 and r.stderr


def test_rm_hold_release_messages_and_exit_codes(schedd):
    c = submit(schedd, 3)
    (hold, af, reasons, hold_ids, rel, rel_again, rel_cons, af2, rm_none, rm_empty, rm_mix,
     rm_id, rm_cluster) = schedd.tools(
        (HOLD, str(c), "-reason", "maintenance", "-subcode", "7"),
        (Q, str(c), "-af", "JobStatus", "HoldReasonSubCode"),
        (Q, str(c), "-format", "%s\\n", "HoldReason"),
        (HOLD, f"{c}.0", f"{c}.9"),
        (RELEASE, f"{c}.1"),
        (RELEASE, f"{c}.1"),
        (RELEASE, "-constraint", f"ClusterId == {c} && JobStatus == 5", "-totals"),
        (Q, str(c), "-af", "JobStatus"),
        (RM, "999999"),
        (RM,),
        (RM, "-all", str(c)),
        (RM, f"{c}.2", "-reason", "done with it"),
        (RM, str(c)))
    assert (hold.returncode, hold.stdout) == (0, f"All jobs in cluster {c} have been held\n"), hold.stderr
    assert rows(af) == [["5", "7"]] * 3
    assert [ln.split()[0] for ln in reasons.stdout.splitlines()] == ["maintenance"] * 3
    # per-job results; no job was acted on (ActionResult = 0): exit 1
    assert hold_ids.returncode == 1
    assert hold_ids.stderr.splitlines()[-2:] == [f"Job {c}.0 already held", f"Job {c}.9 not found"]
    assert (rel.returncode, rel.stdout) == (0, f"Job {c}.1 released\n"), rel.stderr
    assert rel_again.stderr.strip().endswith(f"Job {c}.1 not held to be released")
    assert rel_cons.returncode == 0, rel_cons.stderr
    assert rel_cons.stdout.splitlines() == [
        "2 Succeeded, 0 Failed, 0 Not Found, 0 Bad Status, 0 Already Done, 0 Permission Denied",
        f"All jobs matching constraint (ClusterId == {c} && JobStatus == 5) have been released"]
    assert rows(af2) == [["1"]] * 3
    # nothing matches: HTCondor's "Couldn't find" and exit 1; usage errors
    assert rm_none.returncode == 1 and rm_none.stderr.strip().endswith("Couldn't find/remove all jobs in cluster 999999")
    assert rm_empty.returncode == 1 and "You did not specify any jobs" in rm_empty.stderr
    assert rm_mix.returncode == 1 and "can't mix -all with other constraints" in rm_mix.stderr
    assert (rm_id.returncode, rm_id.stdout) == (0, f"Job {c}.2 marked for removal\n")
    assert (rm_cluster.returncode, rm_cluster.stdout) == (0, f"All jobs in cluster {c} have been marked for removal\n")
    # as a real command
    c2 = submit(schedd, 1)
    r = subprocess.run([sys.executable, "-m", "pyhtc.tools.jobctl", "hold", str(c2)],
                       env=schedd.env(), capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, f"All jobs in cluster {c2} have been held\n"), r.stderr


def test_qedit_and_prio(schedd):
    c = submit(schedd, 2)
    (e1, e2, af, prot, badval, p1, p2, p3, prio_af, p_none) = schedd.tools(
        (QEDIT, f"{c}.1", "Foo", "3", 'Bar="x y"'),
        (QEDIT, "-constraint", f"ClusterId == {c}", "Baz", "Foo * 2"),
        (Q, str(c), "-af", "ProcId", "Foo", "Bar", "Baz"),
        (QEDIT, str(c), "ClusterId", "5"),
        (QEDIT, str(c), "Foo", "("),
        (PRIO, "-p", "5", str(c)),
        (PRIO, "+3", f"{c}.1"),
        (PRIO, "-2", f"{c}.0"),
        (Q, str(c), "-af", "JobPrio"),
        (PRIO, str(c)))
    assert (e1.returncode, e1.stdout) == (0, 'Set attribute "Bar" for 1 matching jobs.\n'
                                             'Set attribute "Foo" for 1 matching jobs.\n'), e1.stderr
    assert (e2.returncode, e2.stdout) == (0, 'Set attribute "Baz" for 2 matching jobs.\n'), e2.stderr
    assert rows(af) == [["0", "undefined", "undefined", "undefined"], ["1", "3", "x", "y", "6"]]
    # protected attributes are refused, nothing is set
    assert prot.returncode == 1
    assert prot.stderr == ('Update of immutable attribute "ClusterId" is not allowed.\n'
                           "Transaction failed.  No attributes were set.\n")
    assert badval.returncode == 1 and "illegal value for : Foo" in badval.stderr
    # condor_prio: set, raise, lower
    assert (p1.returncode, p2.returncode, p3.returncode) == (0, 0, 0), p1.stderr + p2.stderr + p3.stderr
    assert rows(prio_af) == [["3"], ["8"]]
    assert p_none.returncode == 1 and "You must specify a new priority or priority adjustment." in p_none.stderr


HISTORY_FILE = """ClusterId = 1
ProcId = 0
Owner = "alice"
JobStatus = 4
QDate = 1700000000
CompletionDate = 1700000100
RemoteWallClockTime = 100.0
Cmd = "/bin/echo"
Args = "hello"
*** Offset = 0 ClusterId = 1 ProcId = 0 Owner = "alice" CompletionDate = 1700000100 CurrentTime = 1700000101
ClusterId = 2
ProcId = 0
Owner = "bob"
JobStatus = 3
QDate = 1700000200
Cmd = "/bin/sleep"
Args = "5"
*** Offset = 200 ClusterId = 2 ProcId = 0 Owner = "bob" CompletionDate = 0 CurrentTime = 1700000300
"""


def test_history(schedd, tmp_path):
    hfile = tmp_path / "history"
    hfile.write_text(HISTORY_FILE)
    (table, owner, fwd, broken) = schedd.tools(
        (HIST, "-file", str(hfile)), (HIST, "-file", str(hfile), "alice", "-af", "ClusterId", "Owner"),
        (HIST, "-file", str(hfile), "-forwards", "-limit", "1", "-af", "ClusterId"),
        (HIST, "-file", str(tmp_path / "nope")))
    assert table.stdout.splitlines() == [
        " ID          OWNER            SUBMITTED   RUN_TIME   ST   COMPLETED CMD",
        "2.0          bob            11/14 22:16   0+00:00:00 X              sleep 5",
        "1.0          alice          11/14 22:13   0+00:01:40 C  11/14 22:15 echo hello"]
    assert owner.stdout == "1 alice\n" and fwd.stdout == "1\n"
    assert broken.returncode == 1 and "unable to open history file" in broken.stderr
    (xml,) = schedd.tools((HIST, "-file", str(hfile), "-xml", "-attributes", "Owner,ClusterId"))
    assert xml.stdout == ('<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n\n'
                          '<c>\n    <a n="ClusterId"><i>2</i></a>\n    <a n="Owner"><s>bob</s></a>\n</c>\n\n'
                          '<c>\n    <a n="ClusterId"><i>1</i></a>\n    <a n="Owner"><s>alice</s></a>\n</c>\n\n'
                          '</classads>\n\n')
    c = submit(schedd, 3)
    assert schedd.tools((RM, str(c)))[0].returncode == 0
    for _ in range(100):
        (r,) = schedd.tools((HIST, str(c), "-af", "ProcId", "JobStatus"))
        if len(r.stdout.splitlines()) == 3:
            break
        time.sleep(0.1)
    assert sorted(r.stdout.splitlines()) == ["0 3", "1 3", "2 3"]
    (table, limit, js, long_, bad, since) = schedd.tools(
        (HIST, "-constraint", f"ClusterId == {c}"),
        (HIST, str(c), "-limit", "2", "-af", "ProcId"),
        (HIST, str(c), "-json", "-attributes", "ClusterId"),
        (HIST, f"{c}.1", "-long", "-attributes", "ProcId,JobStatus"),
        (HIST, "-constraint", "ClusterId =="),
        (HIST, "-since", f"{c}.2", "-af", "ClusterId"))
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "OWNER", "SUBMITTED", "RUN_TIME", "ST", "COMPLETED", "CMD"]
    assert sorted(ln.split()[0] for ln in lines[1:]) == [f"{c}.{p}" for p in range(3)]
    assert all(" X " in ln and ln.endswith(" sleep 60") and ln.split()[1] == ME for ln in lines[1:])
    assert len(limit.stdout.splitlines()) == 2
    assert json.loads(js.stdout) == [{"ClusterId": c}] * 3
    assert long_.stdout == "JobStatus = 3\nProcId = 1\n\n"
    assert bad.returncode == 1 and "could not parse constraint" in bad.stderr
    assert since.returncode == 0 and len(since.stdout.splitlines()) < 3  # stops at job c.2
    r = subprocess.run([sys.executable, "-m", "pyhtc.tools.history", str(c), "-af", "ProcId"],
                       env=schedd.env(), capture_output=True, text=True, timeout=60)
    assert sorted(r.stdout.split()) == ["0", "1", "2"], r.stderr


def _log(path, events):
    code = ("from pyhtc.userlog import UserLog, make_event, JobEventType as T\n"
            f"with UserLog({str(path)!r}) as log:\n")
    for kind, c, p, extra in events:
        code += f"    log.write(make_event(T.{kind}, {c}, {p}, **{extra!r}))\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_condor_wait(schedd, tmp_path):
    log = tmp_path / "job.log"
    _log(log, [("SUBMIT", 7, 0, {}), ("SUBMIT", 7, 1, {}), ("EXECUTE", 7, 0, {"ExecuteHost": "<1.2.3.4:5>"}),
               ("JOB_TERMINATED", 7, 0, {"TerminatedNormally": True, "ReturnValue": 0})])
    (expired, one, num, missing, badid) = schedd.tools(
        (WAIT, "-wait", "1", str(log)),
        (WAIT, "-wait", "5", "-echo", str(log), "7.0"),
        (WAIT, "-num", "1", "-status", str(log)),
        (WAIT, str(tmp_path / "nope.log")),
        (WAIT, str(log), "x.y"))
    assert (expired.returncode, expired.stdout) == (1, "Time expired.\n")
    assert one.returncode == 0 and one.stdout.endswith("...\nAll jobs done.\n")
    echoed = [ln for ln in one.stdout.splitlines() if ln[:4] in ("000 ", "001 ", "005 ")]
    assert [ln[:17] for ln in echoed] == ["000 (007.000.000)", "001 (007.000.000)", "005 (007.000.000)"]
    assert num.returncode == 0
    assert num.stdout == ("7.0.0 submitted\n7.1.0 submitted\n7.0.0 executing on host <1.2.3.4:5>\n"
                          "7.0.0 completed\nSpecifed number of jobs (1) done.\n")
    assert missing.returncode == 1 and missing.stderr.startswith("Couldn't open")
    assert badid.returncode == 1 and "Couldn't understand job number: x.y" in badid.stderr
    # the second job ends while condor_wait (a real process) is waiting
    p = subprocess.Popen([sys.executable, "-m", "pyhtc.tools.wait", "-wait", "20", str(log)], env=schedd.env(),
                         stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    _log(log, [("JOB_ABORTED", 7, 1, {"Reason": "via condor_rm"})])
    out, _ = p.communicate(timeout=30)
    assert (p.returncode, out) == (0, "All jobs done.\n")


def test_condor_q_userlog(schedd, tmp_path):
    log = tmp_path / "q.log"
    _log(log, [("SUBMIT", 12, 0, {}), ("SUBMIT", 12, 1, {}),
               ("JOB_HELD", 12, 1, {"HoldReason": "oops", "HoldReasonCode": 3, "HoldReasonSubCode": 0})])
    af, table = schedd.tools((Q, "-userlog", str(log), "-af", "ClusterId", "ProcId", "JobStatus"),
                             (Q, "-userlog", str(log)))
    assert af.stdout.splitlines() == ["12 0 1", "12 1 5"]
    assert f"-- Userlog: {log}" in table.stdout
    assert "Total for query: 2 jobs; 0 completed, 0 removed, 1 idle, 0 running, 1 held, 0 suspended" in table.stdout


def test_schedd_found_through_the_collector(tmp_path):
    """condor_q -global / -name and condor_rm -name find the schedd in a real collector."""
    from jobtool_helpers import SECURITY, ScheddHandle
    from daemon_helpers import start_daemon
    (tmp_path / "c").mkdir()
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path / "c", "CollectorLog")
    try:
        host = coll.host_port
        (tmp_path / "s").mkdir()
        d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path / "s", "SchedLog",
                         _CONDOR_COLLECTOR_HOST=host, _CONDOR_SCHEDD_NAME="pooled", **SECURITY)
        try:
            s = ScheddHandle(d, tmp_path / "s")
            c = submit(s, 1)
            env = s.env(_CONDOR_COLLECTOR_HOST=host, _CONDOR_SCHEDD_ADDRESS_FILE=str(tmp_path / "none"))
            code = (f"import sys\nfrom pyhtc.htcondor import Collector, DaemonType\nfrom pyhtc.htcondor._schedd import Schedd\n"
                    f"for _ in range(100):\n"
                    f"    try:\n        ad = Collector().locate(DaemonType.Schedd); break\n"
                    f"    except Exception:\n        import time; time.sleep(0.1)\n"
                    f"print(len(Schedd(ad).query('ClusterId == {c}')), len(Schedd().query('ClusterId == {c}')), ad['Name'])\n")
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            n1, n2, name = r.stdout.split()
            assert (n1, n2) == ("1", "1") and name.startswith("pooled@"), r.stderr
            for args in (["-global", "-af", "ClusterId"], ["-name", name, str(c), "-af", "ClusterId"]):
                r = subprocess.run([sys.executable, "-m", "pyhtc.tools.q", *args], env=env,
                                   capture_output=True, text=True, timeout=60)
                assert (r.returncode, r.stdout) == (0, f"{c}\n"), r.stderr
            r = subprocess.run([sys.executable, "-m", "pyhtc.tools.jobctl", "rm", "-name", name, str(c)],
                               env=env, capture_output=True, text=True, timeout=60)
            assert (r.returncode, r.stdout) == (0, f"All jobs in cluster {c} have been marked for removal\n"), r.stderr
        finally:
            d.stop()
    finally:
        coll.stop()
