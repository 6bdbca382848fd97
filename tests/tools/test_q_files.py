"""condor_q reading job ads from a file (``-jobads FILE``), through the real CLI entry point
``python -m pyhtc.tools.q``: the -dag node tree, -io, -cputime/-currentrun, -long:FORM,
-unmatchable, the ads file formats, and HTCondor's errors for bad options.

Expected layouts follow src/condor_q.V6/queue.cpp (jobDefault/jobDAG/jobIO/jobRuntime
print formats, fixup_std_column_widths, format_name_column_for_dag_nodes, job_time)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import classad2
import pytest

import pyhtc.classad as C
from pyhtc.tools.common import format_json, format_long

SERVER_TIME = 1_700_003_600      # 11/14/23 23:13:20 UTC


def job(cluster, proc=0, **attrs):
    ad = {"ClusterId": cluster, "ProcId": proc, "Owner": "alice", "QDate": 1_700_000_000 + 100 * cluster,
          "ServerTime": SERVER_TIME, "JobStatus": 1, "RemoteWallClockTime": 0.0, "RemoteUserCpu": 0.0,
          "JobPrio": 0, "MemoryUsage": 1, "Cmd": "/bin/sleep", "Args": "60", "JobUniverse": 5}
    ad.update(attrs)
    return C.ClassAd(ad)


# a DAGMan job (10) with two node clusters (11, 12) and a nested DAG (13) with one node (14),
# plus an unrelated job of bob's (20)
JOBS = [
    job(10, Cmd="/usr/bin/condor_dagman", Args="-f -l . -Dag my.dag", JobUniverse=7, JobStatus=2,
        ShadowBday=SERVER_TIME - 600, RemoteWallClockTime=100.0, RemoteUserCpu=42.0, ImageSize=2048,
        MemoryUsage=C.ExprTree("undefined")),
    job(11, DAGManJobId=10, DAGNodeName="A", TransferringInput=True, BytesRecvd=123456.0,
        BytesSent=0.0, NumJobStarts=1, MemoryUsage=12),
    job(12, DAGManJobId=10, DAGNodeName="Bnode", JobStatus=5, RemoteWallClockTime=5.0,
        LastRemoteWallClockTime=5.0, RemoteUserCpu=1.0, JobPrio=5),
    job(13, DAGManJobId=10, DAGNodeName="sub", Cmd="/usr/bin/condor_dagman", JobUniverse=7),
    job(14, DAGManJobId=13, DAGNodeName="deep", Cmd="/bin/echo", Args=C.ExprTree("undefined")),
    job(20, Owner="bob", Cmd="/bin/true", Args=C.ExprTree("undefined")),
]


def write_long(path, ads):
    path.write_text("".join(format_long(a) for a in ads))
    return str(path)


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"TZ": "UTC", "CONDOR_CONFIG": "/nonexistent/condor_config"})
    return env


def q(*argv, stdin=None):
    """``python -m pyhtc.tools.q argv...`` with no configuration."""
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.q", *argv], env=_env(), input=stdin,
                          capture_output=True, text=True, timeout=60)


# runs pyhtc.tools.q:main (the console script's entry point) once per argv in ONE interpreter
_RUNNER = r"""
import contextlib, io, json, sys
from pyhtc.tools import q
out = []
for argv in json.loads(sys.argv[1]):
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        try:
            rc = q.main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
    out.append([rc, buf.getvalue(), err.getvalue()])
print(json.dumps(out))
"""


def q_many(*argvs):
    """:func:`q` of several command lines, run by the entry point in one process."""
    r = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps([list(a) for a in argvs])],
                       env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [subprocess.CompletedProcess(a, rc, out, err)
            for a, (rc, out, err) in zip(argvs, json.loads(r.stdout.splitlines()[-1]))]


@pytest.fixture(scope="module")
def jobads(tmp_path_factory):
    return write_long(tmp_path_factory.mktemp("q") / "jobs.ads", JOBS)


def body(stdout: str) -> list[str]:
    """The lines after the ``-- Jobads:`` title."""
    lines = stdout.split("\n")
    assert lines[0] == lines[1] == "", stdout
    assert re.fullmatch(r"-- Jobads: \S+ @ 11/14/23 23:13:20", lines[2]), lines[2]
    return lines[3:]


def test_dag_node_tree(jobads):
    r, r13 = q_many(["-jobads", jobads, "-dag", "-nobatch"], ["-jobads", jobads, "-dag", "-nobatch", "13"])
    assert r.returncode == 0, r.stderr
    # jobDAG_PrintFormat: OWNER/NODENAME is 17 wide; nodes go under their DAGMan job,
    # indented one blank per level before "|-"; bob's job stays in id order
    assert body(r.stdout) == [
        " ID      OWNER/NODENAME      SUBMITTED     RUN_TIME ST PRI SIZE CMD",
        "  10.0   alice             11/14 22:30   0+00:11:40 R  0    2.0 condor_dagman -f -l . -Dag my.dag",
        "  11.0    |-A              11/14 22:31   0+00:00:00 <  0   12.0 sleep 60",
        "  12.0    |-Bnode          11/14 22:33   0+00:00:05 H  5    1.0 sleep 60",
        "  13.0    |-sub            11/14 22:35   0+00:00:00 I  0    1.0 condor_dagman 60",
        "  14.0     |-deep          11/14 22:36   0+00:00:00 I  0    1.0 echo",
        "  20.0   bob               11/14 22:46   0+00:00:00 I  0    1.0 true",
        "",
        "Total for query: 6 jobs; 0 completed, 0 removed, 4 idle, 1 running, 1 held, 0 suspended ",
        "Total for all users: 6 jobs; 0 completed, 0 removed, 4 idle, 1 running, 1 held, 0 suspended",
        "", ""]
    # a cluster id with -dag selects the DAG's node jobs too (DAGManJobId == id)
    assert [ln.split()[0] for ln in body(r13.stdout)[1:3]] == ["13.0", "14.0"]
    assert "|-deep" in r13.stdout and "10.0" not in r13.stdout


def test_dag_long_node_names_are_cut_to_the_column(tmp_path):
    # a name longer than 11 widens the column to 17 (fixup_std_column_widths) and is cut
    # to fit it: 17 - len(" |-") = 14 characters
    path = write_long(tmp_path / "j.ads", [JOBS[0], job(11, DAGManJobId=10, DAGNodeName="a_very_long_node_name")])
    r, = q_many(["-jobads", path, "-dag", "-nobatch"])
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("  11.0")][0]
    assert row.startswith("  11.0    |-a_very_long_no 11/14 22:31")


def test_nobatch_cputime_currentrun_and_run_view(jobads):
    cpu, cur, run = q_many(["-jobads", jobads, "-nobatch", "-cputime"],
                           ["-jobads", jobads, "-nobatch", "-currentrun"],
                           ["-jobads", jobads, "-run", "-cumulative-time"])
    lines = body(cpu.stdout)
    assert lines[0] == " ID      OWNER            SUBMITTED     CPU_TIME ST PRI SIZE CMD"
    assert lines[1].split()[4] == "0+00:00:42"          # RemoteUserCpu
    lines = body(cur.stdout)
    assert lines[1].split()[4] == "0+00:10:00"          # ServerTime - ShadowBday only
    assert lines[3].split()[4] == "0+00:00:05"          # held: LastRemoteWallClockTime
    # -run: running jobs only, SUMMARY NONE
    assert body(run.stdout) == [" ID      OWNER            SUBMITTED     RUN_TIME HOST(S)",
                              "  10.0   alice          11/14 22:30   0+00:11:40 ??", ""]


def test_io_view(jobads):
    r, = q_many(["-jobads", jobads, "-io"])
    assert r.returncode == 0, r.stderr
    lines = body(r.stdout)
    # jobIO_PrintFormat: only jobs moving files; INPUT/OUTPUT/RATE as metric units
    assert lines[0] == " ID      OWNER          RUNS ST  INPUT  OUTPUT  RATE      MISC"
    assert lines[1] == "  11.0   alice             1 <  120.6 KB 0.0 B     120.6 KB  transfer=in"
    assert lines[3].startswith("Total for query: 1 jobs;")


def test_batch_view_and_totals(jobads):
    r, tot = q_many(["-jobads", jobads], ["-jobads", jobads, "-totals"])
    lines = body(r.stdout)
    assert lines[0].split() == ["OWNER", "BATCH_NAME", "SUBMITTED", "DONE", "RUN", "IDLE", "HOLD",
                                "TOTAL", "JOB_IDS"]
    assert body(tot.stdout)[0].startswith("Total for query: 6 jobs;")


def test_long_forms_and_attributes(jobads):
    jl, new, newl, lng, js, one = q_many(
        ["-jobads", jobads, "-long:jsonl", "-attributes", "ClusterId,DAGNodeName"],
        ["-jobads", jobads, "-long:new", "-attributes", "ClusterId", "10"],
        ["-jobads", jobads, "-long:newl", "-attributes", "ClusterId", "-dag", "10"],
        ["-jobads", jobads, "-long", "-attributes", "ClusterId,Owner", "20"],
        ["-jobads", jobads, "-json", "-attributes", "ProcId", "20"],
        ["-jobads", jobads, "-long:jsonl", "20"])
    assert jl.returncode == 0, jl.stderr
    lines = jl.stdout.splitlines()
    # ClassAdJsonUnParser(oneline): no blanks but after each colon; empty ads are skipped
    assert lines[1] == '{"ClusterId": 11,"DAGNodeName": "A"}'
    assert [json.loads(ln)["ClusterId"] for ln in lines] == [10, 11, 12, 13, 14, 20]
    assert new.stdout == "{\n[ ClusterId = 10 ]\n}\n"
    # with -dag a cluster id also selects the DAG's nodes (not their nodes' nodes)
    assert newl.stdout == "[ ClusterId = 10 ]\n[ ClusterId = 11 ]\n[ ClusterId = 12 ]\n[ ClusterId = 13 ]\n"
    assert lng.stdout == 'ClusterId = 20\nOwner = "bob"\n\n'
    assert json.loads(js.stdout) == [{"ProcId": 0}]
    # the one-line JSON reads back with the real classad2 parser
    assert dict(classad2.parseOne(one.stdout, classad2.ParserType.JSON))["Owner"] == "bob"


def test_every_file_format_reads_the_same(tmp_path, jobads):
    forms = ["json", "jsonl", "xml", "new", "newl"]
    written = q_many(*[["-jobads", jobads, f"-long:{form}"] for form in forms])
    calls = [["-jobads", jobads, "-af", "ClusterId", "DAGNodeName ?: Owner"]]
    for form, w in zip(forms, written):
        (tmp_path / form).write_text(w.stdout)
        for flag in ("-jobads", f"-jobads:{form}"):
            calls.append([flag, str(tmp_path / form), "-af", "ClusterId", "DAGNodeName ?: Owner"])
    want = "10 alice\n11 A\n12 Bnode\n13 sub\n14 deep\n20 bob\n"
    for argv, r in zip(calls, q_many(*calls)):
        assert (r.returncode, r.stdout) == (0, want), (argv, r.stderr)
    # "-" reads standard input (and python -m runs the module)
    r = q("-jobads", "-", "-af", "ClusterId", stdin=(tmp_path / "xml").read_text())
    assert r.stdout.split() == ["10", "11", "12", "13", "14", "20"]


def test_condor_q_long_output_with_banner_reads_back(tmp_path):
    # what `condor_q -long` of a schedd looks like, banner included
    text = ("-- Schedd: ap1.example.org : <127.0.0.1:9618?addrs=x> @ 11/14/23 23:13:20\n"
            + format_long(JOBS[1]) + format_long(JOBS[2]))
    (tmp_path / "q.txt").write_text(text)
    (tmp_path / "slots.ads").write_text(format_long(C.ClassAd({
        "MyType": "Machine", "Name": "slot1@e1", "Machine": "e1", "Memory": 1024, "Cpus": 1,
        "State": "Unclaimed", "Activity": "Idle", "Requirements": True})))
    r, ana = q_many(["-jobads", str(tmp_path / "q.txt"), "-af", "ClusterId"],
                    ["-jobads", str(tmp_path / "q.txt"), "-analyze:summary", "-slotads", str(tmp_path / "slots.ads")])
    assert r.stdout == "11\n12\n"
    # -analyze labels the jobs with the schedd the banner names (queue.cpp show_file_queue)
    assert ana.returncode == 0, ana.stderr
    assert ana.stdout.split("\n")[2] == "-- Schedd: ap1.example.org : <127.0.0.1:9618?addrs=x>"


def test_unmatchable(tmp_path):
    slots = tmp_path / "slots.ads"
    slots.write_text(format_long(C.ClassAd({"MyType": "Machine", "Name": "slot1@e1", "Machine": "e1",
                                            "Memory": 1024, "Cpus": 1, "State": "Unclaimed",
                                            "Activity": "Idle", "Requirements": True})))
    jobs = write_long(tmp_path / "jobs.ads", [
        job(1, Requirements=C.ExprTree("TARGET.Memory > 500")),
        job(2, Requirements=C.ExprTree("TARGET.Memory > 5000"))])
    r, table, batch = q_many(["-jobads", jobs, "-unmatchable", "-slotads", str(slots), "-af", "ClusterId"],
                             ["-jobads", jobs, "-unmatchable", "-slotads", str(slots)],
                             ["-jobads", jobs, "-unmatchable", "-slotads", str(slots), "-batch"])
    assert (r.returncode, r.stdout) == (0, "2\n"), r.stderr
    # the default view is then -nobatch, and the totals count the jobs shown
    lines = body(table.stdout)
    assert lines[0].split()[:2] == ["ID", "OWNER"] and lines[1].split()[0] == "2.0"
    assert lines[3].startswith("Total for query: 1 jobs;")
    assert (batch.returncode, batch.stderr) == (1, "Error: -batch conflicts with -unmatchable\n")


def test_analyze_unmatchable(tmp_path):
    # queue.cpp anaModeUnmatchable: one line per autocluster that no slot matches both ways
    slots = tmp_path / "slots.ads"
    slots.write_text(format_long(C.ClassAd({"MyType": "Machine", "Name": "slot1@e1", "Machine": "e1",
                                            "Memory": 1024, "Cpus": 1, "State": "Unclaimed",
                                            "Activity": "Idle",
                                            "Requirements": C.ExprTree('TARGET.Owner == "bob"')})))
    small, big = C.ExprTree("TARGET.Memory > 500"), C.ExprTree("TARGET.Memory > 5000")
    jobs = write_long(tmp_path / "jobs.ads", [
        job(1, AutoClusterId=3, Requirements=small), job(2, 0, AutoClusterId=4, Requirements=big),
        job(2, 1, AutoClusterId=4, Requirements=big), job(3, Requirements=small),
        job(4, Owner="bob", AutoClusterId=5, Requirements=small)])
    r, = q_many(["-jobads", jobs, "-analyze", "-unmatchable", "-slotads", str(slots)])
    assert r.stdout == (f"\n\n-- Jobads: {jobs}\n"
                        "All slots reject autocluster -1, jobs : 3.0\n"
                        "All slots reject autocluster 3, jobs : 1.0\n"
                        "No slots match autocluster 4, jobs : 2.0 2.1\n"), r.stderr


BAD_ARGUMENTS = [
    (["-jobads"], "Error: -jobads requires a filename\n"),
    (["-userlog"], "Error: -userlog requires a filename\n"),
    (["-limit", "abc"], "Error: Unable to convert (abc) to a number for -limit.\n"),
    (["-limit", "0"], "Error: 0 is not a valid for -limit.\n"),
    (["-limit"], "Error: -limit requires the max number of results as an argument.\n"),
    (["-currentrun", "-cumulative-time"], "Error: -cumulative-time can't be used with -currentrun\n"),
    (["-cumulative-time", "-currentrun"], "Error: -currentrun can't be used with -cumulative-time\n"),
    (["-attributes"], "Error: -attributes requires a list of attributes to show\n"),
    (["-format", "%d"], "Error: -format requires format and attribute parameters\n"),
    (["-af"], "Error: -autoformat requires at least one attribute parameter\n"),
    (["-batch", "-af", "ClusterId"], "Error: -batch conflicts with -format and -af\n"),
    (["-constraint"], "Error: -constraint requires another parameter\n"),
    (["-name"], "Error: -name requires the name of a schedd as an argument.\n"),
    (["-goodput"], "Error: unrecognized argument -goodput\n"),   # gone from HTCondor 25
    (["-jsonl"], "Error: unrecognized argument -jsonl\n"),       # it is -long:jsonl
]


def test_bad_arguments():
    results = q_many(*[argv for argv, _ in BAD_ARGUMENTS])
    for (argv, message), r in zip(BAD_ARGUMENTS, results):
        assert (r.returncode, r.stderr) == (1, message), argv
        # an unrecognized argument also prints the usage (queue.cpp usage())
        assert r.stdout.startswith("Usage: condor_q") == ("unrecognized" in message), argv


def test_bad_files(tmp_path):
    (tmp_path / "bad1.ads").write_text("ClusterId = 1\nProcId = 0\n\nClusterId = 2\nArgs = (\n")
    (tmp_path / "bad2.ads").write_text('[\n{"ClusterId": 1},\n{"ClusterId" 2}\n]\n')
    missing, bad1, bad2 = q_many(["-jobads", str(tmp_path / "missing.ads")],
                                 ["-jobads", str(tmp_path / "bad1.ads")],
                                 ["-jobads", str(tmp_path / "bad2.ads")])
    assert (missing.returncode, missing.stderr) == (1, f"Can't open file of ClassAds: {tmp_path / 'missing.ads'}\n")
    # a parse error names the file and the line
    assert bad1.returncode == 1 and bad1.stderr.startswith(f"Error: {tmp_path / 'bad1.ads'}:5: "), bad1.stderr
    assert bad2.returncode == 1 and bad2.stderr.startswith(f"Error: {tmp_path / 'bad2.ads'}:3: "), bad2.stderr


def test_json_output_matches_pyhtc_writer(jobads):
    # -jobads FILE -json gives the same text as the shared -json writer of the ads
    r, = q_many(["-jobads", jobads, "-json"])
    assert r.stdout == format_json(sorted(JOBS, key=lambda a: a["ClusterId"]))


def test_batch_view_folds_dags_and_batches(tmp_path):
    # queue.cpp reduce_results: a DAG's nodes fold into the DAGMan job's row (DONE/TOTAL from
    # DAG_NodesDone/DAG_NodesTotal); clusters with the same JobBatchName and owner fold into
    # the first one's row (DONE = TotalSubmitProcs - jobs still queued); a node whose DAGMan
    # job is not in the queue is a row of its own; zeros print as "_"
    ads = [
        job(30, JobUniverse=7, JobBatchName="my.dag+30", DAG_NodesTotal=5, DAG_NodesDone=2, JobStatus=2),
        job(31, 0, DAGManJobId=30, DAGNodeName="A", JobBatchName="my.dag+30", JobStatus=2),
        job(31, 1, DAGManJobId=30, DAGNodeName="A", JobBatchName="my.dag+30"),
        job(32, DAGManJobId=30, DAGNodeName="B", JobBatchName="my.dag+30", JobStatus=5),
        job(40, 0, JobBatchName="sweep", TotalSubmitProcs=4),
        job(40, 3, JobBatchName="sweep", TotalSubmitProcs=4),
        job(41, JobBatchName="sweep", TotalSubmitProcs=1, JobStatus=2),
        job(50, Owner="bob", TotalSubmitProcs=2),
        job(60, DAGManJobId=99, DAGNodeName="orphan"),
    ]
    path = write_long(tmp_path / "batch.ads", ads)
    full, part = q_many(["-jobads", path], ["-jobads", path, "-constraint", "true"])
    assert body(full.stdout)[:5] == [
        "OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS",
        "alice my.dag+30     11/14 23:03      2      1      1      1      5 31.0 ... 32.0",
        "alice sweep         11/14 23:20      2      1      2      _      5 40.0 ... 41.0",
        "bob   ID: 50        11/14 23:36      1      _      1      _      2 50.0",
        "alice NODE: orphan  11/14 23:53      _      _      1      _      _ 60.0"]
    # with a constraint the query may miss jobs of a cluster, so DONE is not guessed
    assert [ln[32:38].strip() for ln in body(part.stdout)[1:5]] == ["2", "_", "_", "_"]


def test_idle_view(tmp_path):
    path = write_long(tmp_path / "idle.ads", [
        job(5, RequestCpus=2, RequestMemory=2048, NumShadowStarts=3, LastRemoteHost="slot1@e1"),
        job(6, JobUniverse=12, RequestCpus=1, RequestMemory=128),
        job(7, JobStatus=2)])
    idle, both = q_many(["-jobads", path, "-idle"], ["-jobads", path, "-idle", "-run"])
    # jobIdle_PrintFormat: idle jobs only, no totals (SUMMARY NONE)
    assert body(idle.stdout) == [" ID      OWNER          UNIVERSE  CPUS MEMORY STARTS LAST_HOST",
                                 "   5.0   alice          Vanilla      2   2048      3 slot1@e1",
                                 "   6.0   alice          Local        1    128      0", ""]
    assert (both.returncode, both.stderr) == (1, "-run and -hold/held or -idle are incompatible\n")
    assert both.stdout.startswith("Usage: condor_q")


def test_size_column_evaluates_memory_usage_and_widens(tmp_path):
    # MEMORY_USAGE: MemoryUsage is an expression in real job ads (evaluated as LookupInteger
    # does), else ImageSize KB / 1024; a 5-digit cluster widens the ID column (%5d.) and
    # then SIZE grows to the largest figure (queue.cpp fixup_std_column_widths)
    path = write_long(tmp_path / "mem.ads", [
        job(7, ResidentSetSize=20480, MemoryUsage=C.ExprTree("((ResidentSetSize + 1023) / 1024)")),
        job(12345, MemoryUsage=C.ExprTree("((ResidentSetSize + 1023) / 1024)"), ImageSize=123456789)])
    r, = q_many(["-jobads", path, "-nobatch"])
    lines = r.stdout.split("\n")[3:6]
    assert lines[0] == " ID       OWNER            SUBMITTED     RUN_TIME ST PRI SIZE     CMD"
    assert lines[1].startswith("    7.0   alice ") and lines[1].endswith("I  0       20.0 sleep 60")
    assert lines[2].startswith("12345.0   alice ") and lines[2].endswith("I  0   120563.3 sleep 60")


def test_files_written_by_the_real_classad_library(tmp_path):
    # ads as HTCondor's own ClassAd library (the classad2 wheel) prints them: old syntax,
    # JSON (one array, and one object per line) and new syntax all read back alike
    ads = []
    for c in (5, 6):
        ad = classad2.ClassAd({"ClusterId": c, "ProcId": 0, "Owner": "alice", "Args": 'a "b"',
                               "JobStatus": 1, "L": [1, 2]})
        ad["Requirements"] = classad2.ExprTree("TARGET.Memory > %d" % c)
        ads.append(ad)
    (tmp_path / "old").write_text("\n".join(a.printOld() for a in ads))
    (tmp_path / "json").write_text("[\n" + ",\n".join(a.printJson() for a in ads) + "\n]\n")
    (tmp_path / "jsonl").write_text("".join(json.dumps(json.loads(a.printJson())) + "\n" for a in ads))
    (tmp_path / "new").write_text("\n".join(str(a) for a in ads) + "\n")
    files = [str(tmp_path / f) for f in ("old", "json", "jsonl", "new")]
    results = q_many(*[["-jobads", f, "-af:V", "ClusterId", "Args", "L"] for f in files],
                     *[["-jobads", f, "-af:r", "Requirements"] for f in files])
    for r in results[:4]:
        assert (r.returncode, r.stdout) == (0, '5 "a \\"b\\"" { 1,2 }\n6 "a \\"b\\"" { 1,2 }\n'), (r.args, r.stderr)
    for r in results[4:]:
        assert (r.returncode, r.stdout) == (0, "TARGET.Memory > 5\nTARGET.Memory > 6\n"), (r.args, r.stderr)
    # and the real library reads what -long:newl and -long:jsonl write
    newl, jsonl = q_many(["-jobads", str(tmp_path / "old"), "-long:newl"],
                         ["-jobads", str(tmp_path / "old"), "-long:jsonl"])
    got = list(classad2.parseAds(newl.stdout, classad2.ParserType.New))
    assert [dict(a) == dict(b) for a, b in zip(got, ads)] == [True, True]
    got = [classad2.parseOne(line, classad2.ParserType.JSON) for line in jsonl.stdout.splitlines()]
    assert [(a["ClusterId"], str(a["Requirements"]), a["Args"]) for a in got] == [
        (5, "TARGET.Memory > 5", 'a "b"'), (6, "TARGET.Memory > 6", 'a "b"')]


def test_hold_view_and_dag_order(tmp_path):
    # jobHold_PrintFormat: HELD_SINCE is 'OR ??' 11 wide, CODE 'OR ?', /SUB printf '/%-3d'
    # cut to 4; with -dag the rows follow the DAG and node owners get "|-" (column 2)
    path = write_long(tmp_path / "held.ads", [
        job(10, JobUniverse=7, JobStatus=5, EnteredCurrentStatus=1_700_003_000, HoldReason="dagman",
            HoldReasonCode=1, HoldReasonSubCode=12345),
        job(11, DAGManJobId=10, DAGNodeName="A", JobStatus=5, EnteredCurrentStatus=1_700_003_060,
            HoldReason="Error from slot1@e1: oops", HoldReasonCode=3, HoldReasonSubCode=0),
        job(12, JobStatus=5)])
    hold, dag = q_many(["-jobads", path, "-hold"], ["-jobads", path, "-hold", "-dag"])
    assert body(hold.stdout)[:4] == [
        " ID      OWNER          HELD_SINCE  CODE/SUB HOLD_REASON",
        "  10.0   alice          11/14 23:03    1/123 dagman",
        "  11.0   alice          11/14 23:04    3/0   Error from slot1@e1: oops",
        "  12.0   alice          [?????????] ?"]
    assert [ln[:24] for ln in body(dag.stdout)[1:4]] == ["  10.0   alice          ",
                                                         "  11.0    |-alice       ",
                                                         "  12.0   alice          "]


def test_empty_queue(tmp_path):
    # no jobs: the batch heading as jobProgress_PrintFormat declares it (HOLD not hidden,
    # BATCH_NAME 12 wide) and zero totals; -nobatch shows its heading too
    (tmp_path / "none.ads").write_text("")
    batch, nobatch = q_many(["-jobads", str(tmp_path / "none.ads")],
                            ["-jobads", str(tmp_path / "none.ads"), "-nobatch"])
    lines = batch.stdout.split("\n")
    assert lines[3:6] == ["OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS", "",
                          "Total for query: 0 jobs; 0 completed, 0 removed, 0 idle, 0 running, 0 held, 0 suspended "]
    assert nobatch.stdout.split("\n")[3] == " ID      OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD"


def test_autoformat_job_id(jobads):
    # -af:j puts the job id (JOB_ID: cluster.proc) first; with l it is labelled "ID = "
    j, jl, jh = q_many(["-jobads", jobads, "-af:j", "Owner"], ["-jobads", jobads, "20", "-af:jl", "Owner"],
                       ["-jobads", jobads, "20", "-af:jh", "Owner"])
    assert j.stdout.splitlines()[:2] == ["10.0 alice", "11.0 alice"]
    assert jl.stdout == "ID = 20.0 Owner = bob\n"
    assert jh.stdout == " ID  Owner\n20.0 bob  \n"
