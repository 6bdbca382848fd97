"""Real-world submit files run to completion on a personal pool (issue 6).

Every case of ``../shared/real/submit/`` (README.md there) that needs no network, no special
universe, no GPU, no credentials and no container is copied to its own directory, given what
it needs the way its user would (an executable, input files, a directory), and submitted with
pyhtc's ``condor_submit`` -- file unchanged, from that directory -- to ONE pool of real
processes (collector, negotiator, startd with four static slots, schedd) shared by the whole
module.  Each test then checks that every job of its case Completed with the exit code the
executable gives, that the files the case should produce exist with the right content, and
that the real ``htcondor2.JobEventLog`` reads the whole event sequence of every job from the
case's user log (``SUBMIT``, ``EXECUTE``, ``IMAGE_SIZE``..., ``JOB_TERMINATED``).

None of the cases ships its executable (they are extracts of HTCondor's manual, test suite
and tutorials), so each test writes a small stand-in script under the name the file uses;
its comment says so and what the original does.  Jobs run as ``nobody`` when the tests run
as root (the starter never runs root's jobs as root), hence the world-writable directories.

Cases NOT run, and why:

==========================================================  ==========================================
case                                                        reason
==========================================================  ==========================================
chtcgpu__checkpointing-tensorflow-checkpoint                GPU (request_gpus), http:// input (network)
chtcgpu__conda-pytorch-1.9-pytorch_cnn                      GPU; inputs outside the case (../../shared)
chtcgpu__ml_workflow-train                                  container universe (docker), GPU, file:// URL
chtcgpu__multi_gpu-submit                                   GPU, http:// input (network)
chtcrecipes__alphafold                                      container universe, GPU
htcdocs__annex-example-job-L10                              container universe
htcdocs__convert-multi-q-statements-L142                    the real client rejects it (expected_error)
htcdocs__env-of-job-L1584                                   java universe
htcdocs__env-of-job-L303                                    container universe
htcdocs__env-of-job-L989                                    parallel universe (machine_count = 8)
htcdocs__ep-policy-configuration-L341                       expected_error (no executable)
htcdocs__file-and-cred-transfer-L763                        OAuth credentials, osdf:// input (network)
htcdocs__grid-universe-L110                                 grid universe (remote HTCondor-C)
htcdocs__job-router-L152                                    x509 proxy (expected_error)
htcdocs__quick-start-guide-L631                             expected_error (rst text, not a file)
htcdocs__submitting-a-job-L122                              150 jobs of 4 GiB each: far over this
                                                            module's time budget (about one job a
                                                            second on two cores); the same shape
                                                            (per-$(Process) inputs/outputs) runs
                                                            below in quick-start-guide-L442
htcdocs__submitting-a-job-L1382                             15,000 jobs (late materialization)
htcdocs__submitting-a-job-L203                              expected_error (nothing matches *.dat)
htcdocs__submitting-a-job-L791                              expected_error (nothing matches)
htcex__dagman-A                                             standard universe (expected_error)
htcex__gpu_simple                                           GPU
htcex__interactive                                          sleeps 180 s waiting for condor_ssh_to_job
htcex__many_tokens                                          OAuth credentials (use_oauth_services)
htctest__job_core_macros_sched                              scheduler universe: pyhtc's schedd has no
                                                            scheduler/local universe yet (nothing
                                                            runs such jobs on the submit side)
htctest__job_core_matchlist_van                             on_exit_remove = (time() - QDate) > 10000:
                                                            re-runs for ~3 hours by design
htctest__job_core_perhold-true_java                         java universe
htctest__job_core_periodicremove_van                        runs 60 s, then ends Removed by design
htctest__job_core_queue_sched                               scheduler universe (see above)
htctest__job_core_time-deferral-tests                       a skeleton without a queue statement that
                                                            the deferral tests complete
htctest__job_dagman_jobstate_log-nodeA                      local universe (see scheduler universe)
htctest__job_filexfer_md5-remote_java                       java universe
htctest__job_ligo_x86-64-chkpttst                           standard universe (expected_error)
osgschool__part1-ex2-file-transfer-L48                      expected_error (a fill-in-the-blanks form)
osgschool__part1-ex8-queue-L149                             request_memory = 8TB: never matches (the
                                                            exercise shows a job that cannot run)
pegasus__hierarchical_wf_failure__stage_in_local_local_1_0  local universe; absolute paths of another
                                                            user's machine (/home/mzalam/...)
pegasus__hierarchical_wf_success__analyze_ID0000004         expected_error (No such directory)
pegasus__..._hierarchical-workflow-0.dag.condor             scheduler universe running condor_dagman
                                                            from /home/mzalam/... (absolute paths)
==========================================================  ==========================================
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from daemon_helpers import run_client, start_daemon

UID_DOMAIN = "pyhtc.test"
BIN = pathlib.Path(sys.executable).parent
# jobs run as nobody when the tests run as root, so their python must be one anyone can run
JOB_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p)),
                  sys.executable)
#: a variable condor_submit's environment has; getenv = true must carry it into the job
MARKER = ("PYHTC_SUBMITTER_MARKER", "from-the-submit-side")
#: how long the module waits for every job to leave the queue (seconds)
RUN_TIMEOUT = 240


# -- the pool -----------------------------------------------------------------------------------

def start_pool(tmp: pathlib.Path, execute: pathlib.Path, startd_knobs: dict) -> dict:
    """Collector, negotiator, startd and schedd as real processes on loopback (as in
    tests/pool/test_run_jobs.py), plus the environment pyhtc's command-line tools need to
    find this pool's schedd.  ``stop_pool`` ends them."""
    started = []
    try:
        coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp, "CollectorLog")
        started.append(coll)
        common = {"_CONDOR_COLLECTOR_HOST": coll.host_port, "_CONDOR_UID_DOMAIN": UID_DOMAIN,
                  "_CONDOR_FILESYSTEM_DOMAIN": UID_DOMAIN}
        started.append(start_daemon(
            "pyhtc.daemons.negotiator.daemon", "NEGOTIATOR", tmp, "NegotiatorLog",
            # the schedd sends RESCHEDULE after a submit and when a slot frees up
            _CONDOR_NEGOTIATOR_INTERVAL=20, _CONDOR_NEGOTIATOR_CYCLE_DELAY=0,
            _CONDOR_NEGOTIATOR_MIN_INTERVAL=0, _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0, **common))
        knobs = {"_CONDOR_UPDATE_INTERVAL": 2, "_CONDOR_POLLING_INTERVAL": 1,
                 "_CONDOR_STARTER_UPDATE_INTERVAL": 1, "_CONDOR_EXECUTE": execute}
        knobs.update({f"_CONDOR_{k}": v for k, v in startd_knobs.items()})
        started.append(start_daemon("pyhtc.daemons.startd.daemon", "STARTD", tmp, "StartdLog",
                                    **knobs, **common))
        schedd = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp, "SchedLog",
                              _CONDOR_SCHEDD_INTERVAL=1, _CONDOR_SCHEDD_NAME="pyhtc-schedd",
                              _CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS="FS", **common)
        started.append(schedd)
    except BaseException:
        for d in reversed(started):
            d.stop()
        raise
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": coll.host_port,
                "_CONDOR_SCHEDD_ADDRESS_FILE": str(tmp / ".schedd_address"),
                "_CONDOR_UID_DOMAIN": UID_DOMAIN, "_CONDOR_FILESYSTEM_DOMAIN": UID_DOMAIN,
                "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
    return {"daemons": started, "collector": coll, "schedd": schedd, "tmp": tmp, "env": env}


def stop_pool(pool: dict) -> None:
    for d in reversed(pool["daemons"]):
        d.stop()


def tool(pool: dict, name: str, *args, cwd=None, env_extra=None, timeout=60):
    """Run one of pyhtc's condor_* console scripts against ``pool``."""
    env = dict(pool["env"])
    env.update(env_extra or {})
    return subprocess.run([str(BIN / name), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def daemon_logs(pool: dict) -> str:
    out = []
    for name in ("SchedLog", "ShadowLog", "StartdLog", "StarterLog"):
        for p in sorted(pool["tmp"].glob(name + "*")):
            out.append(f"--- {p.name} ---\n" + p.read_text(errors="replace")[-2500:])
    return "\n".join(out)


def read_events(paths) -> dict:
    """``{user log path: {"C.P": [event type names]}}`` read by the real
    ``htcondor2.JobEventLog`` (in its own interpreter: the bindings keep global state)."""
    code = """
import sys
out = {}
for path in json.loads(sys.argv[1]):
    per = out.setdefault(path, {})
    for e in htcondor2.JobEventLog(path).events(0):
        per.setdefault('%d.%d' % (e.cluster, e.proc), []).append(htcondor2.JobEventType(int(e.type)).name)
print(json.dumps(out))
"""
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    r = subprocess.run([sys.executable, "-c", "import htcondor2, json\n" + code, json.dumps(sorted(paths))],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


#: a job's whole sequence in its user log: submitted, executed, image sizes, terminated
#: (FILE_TRANSFER events, which HTCondor 25's shadow writes around transfers, are allowed)
WHOLE_RUN = re.compile(r"SUBMIT( FILE_TRANSFER)* EXECUTE( (IMAGE_SIZE|FILE_TRANSFER))* JOB_TERMINATED"
                       r"( FILE_TRANSFER)*")


# -- the cases ----------------------------------------------------------------------------------

CASES: dict = {}


def case(name: str, submit_file: str, jobs: int):
    """Register ``prepare(dir)`` for the shared case ``name`` (its submit file, job count)."""
    def register(prepare):
        CASES[name] = (submit_file, jobs, prepare)
        return prepare
    return register


def script(path: pathlib.Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def data(path: pathlib.Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o644)


def world_dir(path: pathlib.Path) -> pathlib.Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


@case("htcdocs__submitting-a-job-L59", "submitting-a-job_L59.sub", 1)
def _prep_l59(d):
    # stand-in for the manual's "myexe": reports its argument
    script(d / "myexe", '#!/bin/sh\necho "myexe ran with: $*"\necho "to stderr" >&2\n')


@case("htcdocs__automatic-job-management-L23", "automatic-job-management_L23.sub", 1)
def _prep_l23(d):
    # stand-in for "myexe" that fails on its first attempt (max_retries = 5 retries it): it
    # leaves a mark beside the submit file (the job runs in a transferred sandbox)
    script(d / "myexe", f'#!/bin/sh\nif [ ! -e "{d}/attempted" ]; then\n'
                        f'  echo first > "{d}/attempted"; echo "failing once"; exit 3\nfi\n'
                        'echo "myexe ran with: $*"\n')


@case("htcdocs__convert-multi-q-statements-L26", "convert-multi-q-statements_L26.sub", 2)
def _prep_l26(d):
    # /bin/cat exists; the two inputs the two queue statements name are the user's
    data(d / "example1.in", "first input\n")
    data(d / "example2.in", "second input\n")


@case("htcdocs__file-transfer-L390", "file-transfer_L390.sub", 1)
def _prep_l390(d):
    # stand-in for "my_program in1 in2 out1": writes the two inputs' lines, numbered, to out1
    script(d / "my_program", '#!/bin/sh\ncat "$1" "$2" | nl -ba > "$3"\necho "wrote $3"\n')
    files = world_dir(d / "files")           # initialdir (the oracle created it too)
    world_dir(files / "logs2")               # where output, error and log go
    data(files / "in1", "alpha\nbeta\n")
    data(files / "in2", "gamma\n")


@case("htcdocs__quick-start-guide-L442", "quick-start-guide_L442.sub", 40)
def _prep_l442(d):
    # stand-in for "science.exe A B OUT": OUT gets A's and B's lines, upper-cased
    script(d / "science.exe", '#!/bin/sh\ncat "$1" "$2" | tr a-z A-Z > "$3"\n')
    for p in range(40):
        data(d / f"infile-{p}A.txt", f"a{p}\n")
        data(d / f"infile-{p}B.txt", f"b{p}\n")


@case("htctest__job_core_args_van", "job_core_args_van.cmd", 1)
def _prep_args(d):
    # stand-in for HTCondor's job_core_args.pl: one line per argument, bracketed
    script(d / "job_core_args.pl", '#!/bin/sh\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n')


@case("htctest__job_core_bigenv_van", "job_core_bigenv_van.cmd", 1)
def _prep_bigenv(d):
    # stand-in for job_core_bigenv.c: prints V1..V11 and a variable of the submitter's
    names = " ".join(f"V{i}" for i in range(1, 12))
    script(d / "job_core_bigenv.exe", f"#!/bin/sh\nprintenv {names} {MARKER[0]}\n")


@case("htctest__job_core_getenv_van", "job_core_getenv_van.cmd", 2)
def _prep_getenv(d):
    # stand-in for job_core_getenv.pl: "failok" (getenv = false) must NOT see the
    # submitter's UNIVERSE and CONDOR_CONFIG, "failnotok" (getenv = true) must
    script(d / "job_core_getenv.pl", """#!/bin/sh
echo "Mode is $1 UNIVERSE=$UNIVERSE CONDOR_CONFIG=$CONDOR_CONFIG"
case "$1" in
  failok) [ -z "$UNIVERSE" ] && [ -z "$CONDOR_CONFIG" ] || exit 1 ;;
  failnotok) [ "$UNIVERSE" = vanilla ] && [ "$CONDOR_CONFIG" = ONLY_ENV ] || exit 1 ;;
  *) exit 2 ;;
esac
""")


@case("htctest__job_core_initialdir_van", "job_core_initialdir_van.cmd", 1)
def _prep_initialdir(d):
    # stand-in for x_echo1234.pl: echoes its argument and where it runs
    script(d / "x_echo1234.pl", '#!/bin/sh\necho "1234 $1"\npwd\n')
    world_dir(d / "initd_van")               # the initialdir (the oracle created it too)


@case("htctest__job_core_priority_van", "job_core_priority_van.cmd", 6)
def _prep_priority(d):
    # stand-in for job_core_priority2.pl: prints its argument
    script(d / "job_core_priority2.pl", '#!/bin/sh\necho "$1"\n')


@case("htctest__job_dagman_submit_glob-A-nodeA", "job_dagman_submit_glob-A-nodeA.cmd", 3)
def _prep_glob_a(d):
    # stand-in for x_cat.pl: copies its file arguments, or stdin, to stdout; the three
    # .dat files (the loop variable is `input`, i.e. each job's stdin) come with the DAG
    script(d / "x_cat.pl", '#!/bin/sh\ncat "$@"\n')
    for n in (1, 2, 3):
        data(d / f"job_dagman_submit_glob-A-{n}.dat", f"glob A file {n}\n")


@case("htctest__job_dagman_submit_glob-B-nodeB", "job_dagman_submit_glob-B-nodeB.cmd", 3)
def _prep_glob_b(d):
    # stand-in for x_cat.pl (the .dat files are in the case)
    script(d / "x_cat.pl", '#!/bin/sh\ncat "$@"\n')


@case("osgschool__part1-ex3-complex-dag-L22", "part1-ex3-complex-dag_L22.sub", 1)
def _prep_goatbrot(d):
    # stand-in for goatbrot (a Mandelbrot renderer): writes a PPM of the -s size to -o,
    # every pixel black (the real program computes the -i iterations)
    script(d / "goatbrot", f"""#!{JOB_PYTHON}
import sys
a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
w, h = (int(v) for v in a["-s"].split(","))
with open(a["-o"], "wb") as f:
    f.write(b"P6\\n%d %d\\n255\\n" % (w, h) + bytes(3 * w * h))
print("rendered", a["-c"], "width", a["-w"], "into", a["-o"])
""")


@case("osgschool__part2-ex3-queue-from-L35", "part2-ex3-queue-from_L35.sub", 1)
def _prep_freq(d):
    # stand-in for the school's freq.py: word frequencies of its input, most frequent first;
    # AAiW.txt (Alice's Adventures in Wonderland) is downloaded by the student -- a few
    # lines of our own stand in for it
    script(d / "freq.py", f"""#!{JOB_PYTHON}
import collections, re, sys
words = re.findall(r"[a-z']+", open(sys.argv[1]).read().lower())
for word, n in sorted(collections.Counter(words).items(), key=lambda kv: (-kv[1], kv[0])):
    print(word, n)
""")
    data(d / "AAiW.txt", "Down the rabbit hole went the rabbit,\nand the hole went down.\n")


@case("htctest__job_starter_script-A", "job_starter_script-A.cmd", 1)
def _prep_starter_script(d):
    # stand-ins for the three scripts of HTCondor's test: each appends its name and its
    # arguments, bracketed, to job_starter_script-A.out2 in the sandbox
    for name, label in (("job", "Job"), ("pre", "Pre"), ("post", "Post")):
        script(d / f"job_starter_script-A-{name}.pl",
               f'#!/bin/sh\n{{ printf "{label}: "; for a in "$@"; do printf "<%s> " "$a"; done; echo; }}'
               ' >> job_starter_script-A.out2\n')


@case("htcdocs__self-checkpointing-applications-L111", "self-checkpointing-applications_L111.sub", 1)
def _prep_checkpoint(d):
    # the manual's example.py (same page), without its 10 s naps: counts 0..9, writes the
    # next count to example.checkpoint each step and exits 85 (checkpoint_exit_code) at
    # counts 3, 6 and 9 so that HTCondor transfers the checkpoint and restarts it
    script(d / "example.py", f"""#!{JOB_PYTHON}
import sys
value = 0
try:
    with open("example.checkpoint") as f:
        value = int(f.read())
except IOError:
    pass
print("Starting from", value)
for i in range(value, 10):
    value += 1
    with open("example.checkpoint", "w") as f:
        f.write(str(value))
    if value % 3 == 0:
        sys.exit(85)
print("Computation complete")
""")


# -- running them -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_dir):
    """Submit every case to one pool, wait until no job is Idle or Running, and return
    ``{case: {"dir", "submit", "cluster", "jobs": {proc: ad}, "events": {"C.P": [...]}}}``
    with the jobs' ads from the history (or the queue, for jobs still there)."""
    tmp = tmp_path_factory.mktemp("realpool")
    execute = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-execute-"))
    os.chmod(execute, 0o755)
    work = pathlib.Path(tempfile.mkdtemp(prefix="pyhtc-realsub-"))
    os.chmod(work, 0o755)
    # four static slots of 4 GiB (the cases ask for up to 1 GiB); pre/post commands allowed
    # as HTCondor's job_starter_script-A test configures it
    pool = start_pool(tmp, execute, {"NUM_CPUS": 4, "MEMORY": 16384,
                                     "STARTER_ALLOW_JOB_PRE_AND_POST_CMD": "True"})
    try:
        out = {}
        for name, (submit_file, njobs, prepare) in CASES.items():
            d = work / name
            shutil.copytree(shared_dir / "real" / "submit" / name, d)
            for p in [d, *d.rglob("*")]:
                p.chmod(0o777 if p.is_dir() else 0o644)
            prepare(d)
            r = tool(pool, "condor_submit", submit_file, cwd=d,
                     env_extra={MARKER[0]: MARKER[1], "UNIVERSE": "vanilla"})
            m = re.search(r"(\d+) job\(s\) submitted to cluster (\d+)\.", r.stdout)
            assert r.returncode == 0 and m, f"{name}: {r.stdout}{r.stderr}"
            assert int(m.group(1)) == njobs, f"{name}: {r.stdout}"
            out[name] = {"dir": d, "submit": r.stdout, "cluster": int(m.group(2))}
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            r = tool(pool, "condor_q", "-allusers", "-af", "ClusterId", "ProcId", "JobStatus")
            assert r.returncode == 0, r.stderr
            active = [ln for ln in r.stdout.splitlines() if ln.split()[2:] in (["1"], ["2"])]
            if not active:
                break
            assert time.monotonic() < deadline, f"still active: {active}\n{daemon_logs(pool)}"
            time.sleep(1)
        ads = []
        for args in (("condor_history", "-json"), ("condor_q", "-allusers", "-json")):
            r = tool(pool, *args)
            assert r.returncode == 0, r.stderr
            ads += json.loads(r.stdout) if r.stdout.strip() else []
        logs = {ad["UserLog"] for ad in ads if ad.get("UserLog")}
        events = {}
        for per_log in read_events(logs).values():
            events.update(per_log)
        for res in out.values():
            c = res["cluster"]
            res["jobs"] = {ad["ProcId"]: ad for ad in ads if ad["ClusterId"] == c}
            res["events"] = {k: v for k, v in events.items() if k.startswith(f"{c}.")}
        out["_logs"] = daemon_logs(pool)
        yield out
    finally:
        stop_pool(pool)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(execute, ignore_errors=True)


def completed(runs, name: str, exit_code: int = 0, log: bool = True) -> dict:
    """Assert every job of ``name`` Completed with ``exit_code`` and, when the case writes a
    user log, that its whole sequence is in it (a case without a ``log`` command has none to
    read: then no job has a UserLog); return the case's result."""
    res = runs[name]
    _, njobs, _ = CASES[name]
    jobs = res["jobs"]
    assert sorted(jobs) == list(range(njobs)), (sorted(jobs), runs["_logs"])
    for proc, ad in jobs.items():
        assert ad["JobStatus"] == 4, (proc, ad.get("HoldReason"), ad.get("JobStatus"), runs["_logs"])
        assert ad["ExitBySignal"] is False and ad["ExitCode"] == exit_code, (proc, ad)
        if log:
            evs = res["events"].get(f"{res['cluster']}.{proc}", [])
            assert WHOLE_RUN.fullmatch(" ".join(evs)), (proc, evs)
    if not log:
        assert not any("UserLog" in ad for ad in jobs.values())
    return res


# -- the checks ---------------------------------------------------------------------------------

def test_submitting_a_job_example_1(runs):
    res = completed(runs, "htcdocs__submitting-a-job-L59")
    d = res["dir"]
    assert (d / "outputfile").read_text() == "myexe ran with: SomeArgument\n"
    assert (d / "errorfile").read_text() == "to stderr\n"
    assert (d / "myexe.log").exists()
    assert res["submit"] == f"Submitting job(s).\n1 job(s) submitted to cluster {res['cluster']}.\n"
    (ad,) = res["jobs"].values()
    assert ad["RequestMemory"] == 1024 and ad["RequestDisk"] == 10240 and ad["NumJobStarts"] == 1


def test_max_retries_reruns_a_failing_executable(runs):
    res = runs["htcdocs__automatic-job-management-L23"]
    (ad,) = res["jobs"].values()
    assert ad["JobStatus"] == 4 and ad["ExitCode"] == 0, (ad, runs["_logs"])
    assert ad["NumJobStarts"] == 2 and ad["NumJobCompletions"] == 2 and ad["JobMaxRetries"] == 5, ad
    d = res["dir"]
    assert (d / "attempted").read_text() == "first\n"
    assert (d / "outputfile").read_text() == "myexe ran with: SomeArgument\n"
    # the failed run is requeued (JOB_EVICTED), the second one terminates
    evs = [e for e in res["events"][f"{res['cluster']}.0"] if e not in ("IMAGE_SIZE", "FILE_TRANSFER")]
    assert evs == ["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_TERMINATED"], evs


def test_two_queue_statements_cat_their_inputs(runs):
    # no log, output or error: /bin/cat's exit code (1 for a missing file) is the check
    res = completed(runs, "htcdocs__convert-multi-q-statements-L26", log=False)
    assert {p: ad["Args"] for p, ad in res["jobs"].items()} == {0: "example1.in", 1: "example2.in"}


def test_file_transfer_with_initialdir(runs):
    res = completed(runs, "htcdocs__file-transfer-L390")
    files, c = res["dir"] / "files", res["cluster"]
    assert (files / "out1").read_text() == "     1\talpha\n     2\tbeta\n     3\tgamma\n"
    assert (files / "logs2" / f"out.{c}").read_text() == "wrote out1\n"
    assert (files / "logs2" / f"err.{c}").read_text() == ""
    assert (files / "logs2" / f"log.{c}").exists()


def test_forty_science_jobs(runs):
    res = completed(runs, "htcdocs__quick-start-guide-L442")
    for p in range(40):
        assert (res["dir"] / f"outfile{p}.txt").read_text() == f"A{p}\nB{p}\n"
    assert {ad["NumJobStarts"] for ad in res["jobs"].values()} == {1}


def test_arguments_with_shell_metacharacters(runs):
    res = completed(runs, "htctest__job_core_args_van")
    # V1 arguments split on white space only; a backslash stays, \" is a quote (condor_arglist.cpp)
    expected = ["a", "\\'|", "\\?-", "\\\\+", '"&', ">/dev/null", "|echo", "-a", "-----", "`foo`",
                "\\n", "!@#$%^&*()><-_+=|"]
    assert (res["dir"] / "job_core_args_van.out").read_text() == "".join(f"<{a}>\n" for a in expected)


def test_big_environment_and_getenv(runs):
    res = completed(runs, "htctest__job_core_bigenv_van")
    d = res["dir"]
    line = next(ln for ln in (d / "job_core_bigenv_van.cmd").read_text().splitlines()
                if ln.lower().startswith("environment"))
    values = [kv.split("=", 1)[1] for kv in line.split("=", 1)[1].strip().split(";")]
    assert len(values) == 11 and all(len(v) == 1000 for v in values)
    assert (d / "job_core_bigenv_van.out").read_text() == "".join(v + "\n" for v in values + [MARKER[1]])


def test_getenv_false_and_true(runs):
    res = completed(runs, "htctest__job_core_getenv_van")
    assert [res["jobs"][p]["Args"] for p in (0, 1)] == ["failok", "failnotok"]
    # both procs write the same output file, in place when they run at once (each opens it
    # with O_TRUNC and writes at offset 0, as HTCondor's starter does): the file holds one
    # line, or one line written over the start of the other
    out = (res["dir"] / "job_core_getenv_van.out").read_text()
    lines = ("Mode is failok UNIVERSE= CONDOR_CONFIG=\n",
             "Mode is failnotok UNIVERSE=vanilla CONDOR_CONFIG=ONLY_ENV\n")
    overlaps = {a + b[len(a):] for a in lines for b in lines}
    assert out in overlaps, out


def test_initialdir_holds_output_and_log(runs):
    res = completed(runs, "htctest__job_core_initialdir_van")
    idir = res["dir"] / "initd_van"
    # no file transfer (same FileSystemDomain): the job runs in its initialdir
    assert (idir / "job_core_initialdir_van.out").read_text() == f"1234 5\n{idir}\n"
    assert (idir / "job_core_initialdir_van.log").exists()
    assert not (res["dir"] / "job_core_initialdir_van.out").exists()


def test_six_queue_statements_with_priorities(runs):
    res = completed(runs, "htctest__job_core_priority_van")
    args = {p: int(ad["Args"]) for p, ad in res["jobs"].items()}
    assert args == {0: 1, 1: 8, 2: 3, 3: 10, 4: 5, 5: 2}
    assert all(ad["JobPrio"] == -args[p] for p, ad in res["jobs"].items())
    # the six jobs share one output file: it holds one of their arguments
    assert int((res["dir"] / "job_core_priority_van.out").read_text().split()[0]) in args.values()


def test_queue_in_list_sets_each_jobs_input(runs):
    res = completed(runs, "htctest__job_dagman_submit_glob-A-nodeA", log=False)
    for proc, n in ((0, 3), (1, 2), (2, 1)):
        assert res["jobs"][proc]["In"] == f"job_dagman_submit_glob-A-{n}.dat"
        assert (res["dir"] / f"job_dagman_submit_glob-A-nodeA.{proc}.out").read_text() == f"glob A file {n}\n"


def test_queue_matching_files(runs):
    res = completed(runs, "htctest__job_dagman_submit_glob-B-nodeB", log=False)
    d = res["dir"]
    for proc in range(3):
        name = f"job_dagman_submit_glob-B-{proc + 1}.dat"
        assert res["jobs"][proc]["Args"] == name
        assert (d / f"job_dagman_submit_glob-B-nodeB.{proc}.out").read_text() == (d / name).read_text()


def test_goatbrot_tile(runs):
    res = completed(runs, "osgschool__part1-ex3-complex-dag-L22")
    d = res["dir"]
    tile = (d / "tile_0_0.ppm").read_bytes()
    assert tile.startswith(b"P6\n500 500\n255\n") and len(tile) == 15 + 3 * 500 * 500
    assert (d / "goatbrot.out.0.0").read_text() == "rendered -0.75,0.75 width 1.5 into tile_0_0.ppm\n"
    assert (d / "goatbrot.err.0.0").read_text() == ""


def test_word_frequencies_with_transfer(runs):
    res = completed(runs, "osgschool__part2-ex3-queue-from-L35")
    assert (res["dir"] / "AAiW.out").read_text() == (
        "the 3\ndown 2\nhole 2\nrabbit 2\nwent 2\nand 1\n")


def test_pre_and_post_commands(runs):
    res = completed(runs, "htctest__job_starter_script-A")
    assert (res["dir"] / "job_starter_script-A.out2").read_text() == (
        "Pre: <pre\"a1> <pre'a2> \nJob: <job\"a1> <job a2> <jo'ba3> \nPost: <post\"a1> <post'a 2> \n")


def test_self_checkpointing_job(runs):
    res = completed(runs, "htcdocs__self-checkpointing-applications-L111")
    assert (res["dir"] / "example.checkpoint").read_text() == "10"
    assert (res["dir"] / "example.out").read_text().endswith("Computation complete\n")
