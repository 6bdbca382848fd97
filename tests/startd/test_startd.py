"""condor_startd and condor_starter as real processes with a real collector: slot ads,
the claim protocols driven as a schedd/shadow would, dynamic slots, memory limits, family
cleanup and the START/SUSPEND/PREEMPT/WANT_HOLD policy."""
import json
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import time

import psutil
import pytest

from daemon_helpers import run_client
from startd_helpers import (Pool, activate_claim, deactivate_claim, release_claim,
                            request_claim)

from pyhtc.cedar import claims as P

# jobs run as nobody when the tests run as root, so their python must be one anyone can run
JOB_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p)),
                  sys.executable)
PSLOT = {"NUM_SLOTS_TYPE_1": 1, "SLOT_TYPE_1": "100%", "SLOT_TYPE_1_PARTITIONABLE": "True"}


@pytest.fixture
def base_dir():
    """EXECUTE and the jobs' directory must be reachable by the account jobs run as
    (``nobody`` when the tests run as root), so they live outside pytest's 0700 tmp."""
    base = tempfile.mkdtemp(prefix="pyhtc-startd-", dir="/tmp")
    os.chmod(base, 0o755)
    os.mkdir(os.path.join(base, "execute"), 0o755)
    os.mkdir(os.path.join(base, "job"))
    os.chmod(os.path.join(base, "job"), 0o777)
    yield pathlib.Path(base)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def execute_dir(base_dir):
    return base_dir / "execute"


@pytest.fixture
def jobdir(base_dir):
    return base_dir / "job"


@pytest.fixture
def pool_factory(tmp_path, execute_dir):
    pools = []

    def make(**knobs):
        knobs.setdefault("EXECUTE", str(execute_dir))
        p = Pool(tmp_path, **knobs)
        pools.append(p)
        return p
    yield make
    for p in pools:
        p.stop()


def job_ad(cmd, args, iwd, **extra):
    ad = {"Cmd": cmd, "Arguments": args, "Iwd": str(iwd), "ShouldTransferFiles": "NO",
          "JobUniverse": 5, "ClusterId": 7, "ProcId": 0, "Owner": "alice", "User": "alice@test",
          "RequestCpus": 1, "RequestMemory": 100, "RequestDisk": 1000}
    ad.update(extra)
    return ad


def claim_id_of(pool, name_prefix):
    for name, ad in pool.private().items():
        if name.startswith(name_prefix + "@"):
            return ad["ClaimId"]
    raise AssertionError(f"no private ad for {name_prefix}")


def test_static_slot_ads(pool_factory, execute_dir):
    stale = execute_dir / "dir_999999"
    (stale / "sub").mkdir(parents=True)
    (execute_dir / "dir_999999.result.ad").write_text("ExitCode = 0\n")
    (execute_dir / "keep.txt").write_text("not ours")
    pool = pool_factory(NUM_CPUS=4, NUM_SLOTS_TYPE_1=2, SLOT_TYPE_1="cpus=1, memory=512",
                        NUM_SLOTS_TYPE_2=1, SLOT_TYPE_2="cpus=2, memory=auto, disk=1/2",
                        STARTD_ATTRS="Color", COLOR='"blue"', STARTD_NAME="ep1")
    slots = pool.wait_slots(lambda s: len(s) == 3)
    by_id = {a["SlotID"]: a for a in slots.values()}
    assert sorted(by_id) == [1, 2, 3]
    s1, s3 = by_id[1], by_id[3]
    assert s1["Name"] == f"slot1@ep1@{s1['Machine']}" and by_id[2]["Name"].startswith("slot2@ep1@")
    assert (s1["Cpus"], s1["Memory"], s1["SlotType"], s1["SlotTypeID"]) == (1, 512, "Static", 1)
    assert (s3["Cpus"], s3["Memory"], s3["SlotTypeID"]) == (2, 2048 - 1024, 2)
    assert s3["Disk"] == s3["TotalDisk"] // 2
    for a in slots.values():
        assert a["State"] == "Unclaimed" and a["Activity"] == "Idle"
        assert a["TotalCpus"] == 4.0 and a["TotalMemory"] == 2048 and a["TotalSlots"] == 3
        assert a["MyType"] == "Machine" and a["MyAddress"] == pool.startd.sinful
        assert a["Arch"] and a["OpSys"] == "LINUX" and isinstance(a["OpSysMajorVer"], int)
        assert a["HasFileTransfer"] is True and a["Color"] == "blue"
        assert isinstance(a["KeyboardIdle"], int) and isinstance(a["TotalLoadAvg"], float)
        assert str(a["Requirements"]) == "START" and a["Start"] is True
        assert "ClaimId" not in a
    pvt = pool.private()
    assert len({a["ClaimId"] for a in pvt.values()}) == 3
    # a previous run's sandboxes and starter ads are cleaned at startup
    assert sorted(os.listdir(execute_dir)) == ["keep.txt"]
    # the real htcondor2 client reads the slot ads (as condor_status would)
    r = run_client(f"""
coll = htcondor2.Collector({pool.collector.host_port!r})
ads = coll.query(htcondor2.AdTypes.Startd, constraint='State == "Unclaimed" && Cpus >= 1',
                 projection=['Name', 'Cpus', 'Memory', 'SlotType'])
print(json.dumps(sorted([a['Name'], a['Cpus'], a['Memory'], a['SlotType']] for a in ads)))
""")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [g[1:] for g in got] == [[1, 512, "Static"], [1, 512, "Static"], [2, 1024, "Static"]]


def test_start_false_refuses_claim(pool_factory, jobdir):
    pool = pool_factory(NUM_SLOTS=1, START="TARGET.Owner =?= \"bob\"", IS_OWNER="False")
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    job = job_ad("/bin/true", "", jobdir)
    reply, _, _ = request_claim(pool.startd.sinful, cid, job)
    assert reply == P.NOT_OK
    assert "Requirements (START) not satisfied" in pool.startd.log_text()
    reply, _, _ = request_claim(pool.startd.sinful, "<1.2.3.4:5>#1#1#bogus", dict(job, Owner="bob"))
    assert reply == P.NOT_OK
    reply, _, _ = request_claim(pool.startd.sinful, cid, dict(job, Owner="bob"))
    assert reply == P.OK
    pool.wait_slots(lambda s: next(iter(s.values()))["State"] == "Claimed")


def test_start_false_slot_is_owner(pool_factory, jobdir):
    # HTCondor 25's IS_OWNER defaults to False: a START = False slot stays Unclaimed and
    # refuses claims; with the classic IS_OWNER = (START =?= False) it is in Owner state
    pool = pool_factory(NUM_SLOTS_TYPE_1=1, NUM_SLOTS_TYPE_2=1, START="SlotTypeID == 1",
                        IS_OWNER="(START =?= False)")
    slots = pool.wait_slots(lambda s: len(s) == 2)
    states = {a["SlotID"]: a["State"] for a in slots.values()}
    assert states == {1: "Unclaimed", 2: "Owner"}
    reply, _, _ = request_claim(pool.startd.sinful, claim_id_of(pool, "slot2"),
                                job_ad("/bin/true", "", jobdir))
    assert reply == P.NOT_OK
    reply, _, _ = request_claim(pool.startd.sinful, claim_id_of(pool, "slot1"),
                                job_ad("/bin/true", "", jobdir))
    assert reply == P.OK


def test_partitionable_claim_activate_reuse_release(pool_factory, jobdir):
    pool = pool_factory(**PSLOT)
    slots = pool.wait_slots(lambda s: len(s) == 1)
    pslot = next(iter(slots.values()))
    assert pslot["PartitionableSlot"] is True and pslot["SlotType"] == "Partitionable"
    assert pslot["Memory"] == 2048 and pslot["NumDynamicSlots"] == 0
    sinful = pool.startd.sinful
    iwd = jobdir
    job = job_ad("/bin/sh", "-c 'echo hi > out; env > env.txt; ls -a $_CONDOR_SCRATCH_DIR > ls.txt; sleep 0.2'",
                 iwd, RequestCpus=1, RequestMemory=200)
    reply, claimed, leftovers = request_claim(sinful, claim_id_of(pool, "slot1"), job,
                                              SEND_CLAIMED_AD=True, SEND_LEFTOVERS=True, SECURE_CLAIM_ID=True)
    assert reply == P.REQUEST_CLAIM_LEFTOVERS_2
    dslot_id, dslot_ad = claimed
    assert dslot_ad["Name"].startswith("slot1_1@") and dslot_ad["DynamicSlot"] is True
    # MODIFY_REQUEST_EXPR_REQUESTMEMORY: quantize(RequestMemory, {128})
    assert (dslot_ad["Cpus"], dslot_ad["Memory"], dslot_ad["State"]) == (1, 256, "Claimed")
    assert leftovers[1]["Memory"] == 2048 - 256 and leftovers[0] != dslot_id
    slots = pool.wait_slots(lambda s: len(s) == 2)
    p = [a for a in slots.values() if a["SlotType"] == "Partitionable"][0]
    assert p["ChildCpus"] == [1] and p["ChildMemory"] == [256] and p["NumDynamicSlots"] == 1

    before = pool.results()
    reply, _ = activate_claim(sinful, dslot_id, job)
    assert reply == P.OK
    result = pool.wait_result(before)
    assert result["ExitCode"] == 0 and result["ExitBySignal"] is False and result["Outcome"] == "Exited"
    assert (iwd / "out").read_text() == "hi\n"
    env = dict(line.split("=", 1) for line in (iwd / "env.txt").read_text().splitlines() if "=" in line)
    scratch = env["_CONDOR_SCRATCH_DIR"]
    assert os.path.basename(scratch) == f"dir_{result['StarterPid']}"
    assert env["_CONDOR_SLOT"] == "slot1_1" and env["OMP_NUM_THREADS"] == "1"
    assert env["MKL_NUM_THREADS"] == "1" and env["TMPDIR"] == scratch
    assert env["_CONDOR_JOB_AD"] == scratch + "/.job.ad"
    assert {".job.ad", ".machine.ad"} <= set((iwd / "ls.txt").read_text().split())
    assert not os.path.exists(scratch), "the sandbox is removed at the end"
    slots = pool.wait_slots(lambda s: any(a["Name"].startswith("slot1_1@") and a["Activity"] == "Idle"
                                          and a["State"] == "Claimed" for a in s.values()))
    # claim reuse: a second activation of the same claim
    before = pool.results()
    job2 = job_ad("/bin/sh", "-c 'exit 3'", iwd)
    assert activate_claim(sinful, dslot_id, job2)[0] == P.OK
    assert pool.wait_result(before)["ExitCode"] == 3
    pool.wait_slots(lambda s: any(a["Name"].startswith("slot1_1@") and a["Activity"] == "Idle"
                                  and a["ActivationCount"] == 2 for a in s.values()))
    # a job that transfers files runs in its sandbox; Environment, In/Out/Err are honoured
    (iwd / "in.txt").write_text("from stdin\n")
    before = pool.results()
    job3 = job_ad("/bin/sh", "-c 'pwd; cat; echo \"$FOO\" >&2'", iwd, ShouldTransferFiles="YES",
                  Environment="FOO='bar baz'", In=str(iwd / "in.txt"), Out=str(iwd / "where.txt"),
                  Err=str(iwd / "err.txt"))
    assert activate_claim(sinful, dslot_id, job3)[0] == P.OK
    result = pool.wait_result(before)
    assert (iwd / "where.txt").read_text() == f"{pool.execute}/dir_{result['StarterPid']}\nfrom stdin\n"
    assert (iwd / "err.txt").read_text() == "bar baz\n"
    assert deactivate_claim(sinful, dslot_id)["Start"] is True
    release_claim(sinful, dslot_id)
    slots = pool.wait_slots(lambda s: len(s) == 1 and next(iter(s.values()))["Memory"] == 2048)
    assert next(iter(slots.values()))["NumDynamicSlots"] == 0
    # the released claim id is gone
    reply, extra = activate_claim(sinful, dslot_id, job)
    assert reply == P.NOT_OK and extra["VacateReasonCode"] == P.ACTIVATION_REFUSED_UNCLAIMED


def test_busy_state_and_usage(pool_factory, jobdir):
    # usage reaches the slot ad with the periodic update (UPDATE_INTERVAL)
    pool = pool_factory(NUM_SLOTS=1, UPDATE_INTERVAL=1, STARTD_JOB_ATTRS="ProjectName")
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    job = job_ad(JOB_PYTHON, "-c 'import time; x = bytearray(30 * 1024 * 1024); time.sleep(3)'", jobdir,
                 ProjectName="physics")
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    # the slot goes Claimed/Busy with the job's id; usage arrives from the starter
    busy = pool.wait_slots(lambda s: next(iter(s.values()))["Activity"] == "Busy"
                           and next(iter(s.values())).get("ResidentSetSize", 0) > 20000)
    ad = next(iter(busy.values()))
    assert ad["State"] == "Claimed" and ad["JobId"] == "7.0" and ad["RemoteUser"] == "alice@test"
    assert ad["MemoryUsage"] >= 20
    assert ad["ProjectName"] == "physics" and ad["JobStart"] <= time.time()
    # a second activation while busy is refused
    reply, extra = activate_claim(pool.startd.sinful, cid, job)
    assert reply == P.NOT_OK and extra["VacateReasonCode"] == P.ACTIVATION_REFUSED_NOT_IDLE
    result = pool.wait_result(before)
    assert result["ExitCode"] == 0 and result["ResidentSetSize"] > 20000
    assert result["RemoteUserCpu"] + result["RemoteSysCpu"] > 0
    pool.wait_slots(lambda s: next(iter(s.values()))["Activity"] == "Idle")


def test_memory_limit_holds_with_code_34(pool_factory, jobdir):
    pool = pool_factory(**PSLOT)
    pool.wait_slots(lambda s: len(s) == 1)
    job = job_ad(JOB_PYTHON, "-c 'x = bytearray(200 * 1024 * 1024); import time; time.sleep(2)'",
                 jobdir, RequestMemory=50)
    reply, claimed, _ = request_claim(pool.startd.sinful, claim_id_of(pool, "slot1"), job, SEND_CLAIMED_AD=True)
    assert reply == P.OK
    cid, ad = claimed
    assert ad["Memory"] == 128
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    result = pool.wait_result(before)
    if result.get("HoldReasonCode") is None and "No cgroup" in pool.logs():
        pytest.skip("no usable cgroups on this machine")
    assert result["Outcome"] == "Held"
    assert result["HoldReasonCode"] == 34 and result["HoldReasonSubCode"] == 102
    assert result["HoldReason"].startswith("Job has gone over cgroup memory limit of 128 megabytes.")
    assert result["ExitBySignal"] is True and result["ExitSignal"] == 9


def _marked(marker):
    out = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if " ".join(p.info["cmdline"] or []) == marker:
                out.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return out


def _is_suspended(proc) -> bool:
    """Frozen by its freezer cgroup, or stopped by SIGSTOP when it has no cgroup."""
    for line in open(f"/proc/{proc.pid}/cgroup"):
        _, ctl, path = line.strip().split(":", 2)
        if ctl == "freezer" and "condor_" in path:
            state = open(f"/sys/fs/cgroup/freezer{path}/freezer.state").read().strip()
            return state == "FROZEN"
    return proc.status() == psutil.STATUS_STOPPED


def test_deactivate_forcibly_kills_double_forked_grandchild(pool_factory, jobdir):
    pool = pool_factory(NUM_SLOTS=1)
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    marker = f"{os.getpid() % 1000 + 1000}.{int(time.time()) % 1000}"
    # the grandchild is double-forked: its parent exits, so it is re-parented to init
    job = job_ad("/bin/sh", f"-c '/bin/sh -c \"sleep {marker} &\"; sleep {marker}'", jobdir)
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    deadline = time.time() + 10
    while len(_marked(f"sleep {marker}")) < 2 and time.time() < deadline:
        time.sleep(0.05)
    procs = _marked(f"sleep {marker}")
    assert len(procs) == 2
    assert any(p.ppid() == 1 or p.ppid() not in (q.pid for q in procs) for p in procs)
    reply = deactivate_claim(pool.startd.sinful, cid, forcibly=True)
    assert reply["Start"] is True
    result = pool.wait_result(before)
    assert result["Outcome"] == "Evicted" and result["ExitSignal"] == 9
    gone, alive = psutil.wait_procs(procs, timeout=5)
    assert not alive, f"left behind: {alive}"
    pool.wait_slots(lambda s: next(iter(s.values()))["Activity"] == "Idle"
                    and next(iter(s.values()))["State"] == "Claimed")


def test_suspend_continue_and_preempt_with_hold(pool_factory, jobdir):
    flag = jobdir / "continue"
    # SUSPEND once the job has run a second, so that its shell has started "sleep 30"
    # (a freeze at the very start would stop the shell before it forks)
    pool = pool_factory(NUM_SLOTS=1, WANT_SUSPEND="True",
                        SUSPEND="TARGET.SuspendMe =?= True && time() - EnteredCurrentActivity >= 1",
                        CONTINUE="False", PREEMPT="(Activity == \"Suspended\") && "
                        "(time() - EnteredCurrentActivity >= 2)",
                        WANT_HOLD="True", WANT_HOLD_REASON='"held by the test policy"',
                        WANT_VACATE="True")
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    job = job_ad("/bin/sh", f"-c 'sleep 30; touch {flag}'", jobdir, SuspendMe=True)
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    pool.wait_slots(lambda s: next(iter(s.values()))["Activity"] == "Suspended")
    deadline = time.time() + 5
    stopped = False
    while time.time() < deadline and not stopped:
        procs = _marked("sleep 30")
        stopped = bool(procs) and all(_is_suspended(p) for p in procs)
        time.sleep(0.1)
    assert stopped
    # PREEMPT after 2 s suspended: WANT_HOLD puts the job on hold with code 21
    result = pool.wait_result(before)
    assert result["Outcome"] == "Held" and result["HoldReasonCode"] == P.HOLD_STARTD_HELD_JOB
    assert result["HoldReason"] == "held by the test policy"
    slots = pool.wait_slots(lambda s: next(iter(s.values()))["State"] == "Unclaimed")
    assert not flag.exists()
    assert "PREEMPT is TRUE" in pool.startd.log_text()
    assert claim_id_of(pool, "slot1") != cid


def test_graceful_deactivate_with_worklife_expired(pool_factory, jobdir):
    # CLAIM_WORKLIFE = 0: the claim may not be reused, so DEACTIVATE_CLAIM answers
    # Start = false, the job gets its KillSig and the slot is released after it exits
    pool = pool_factory(NUM_SLOTS=1, CLAIM_WORKLIFE=0)
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    job = job_ad("/bin/sh", "-c 'trap \"echo vacated > term; exit 0\" TERM; echo up > started; "
                 "sleep 30 & wait'", jobdir)
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    deadline = time.time() + 10
    while not (jobdir / "started").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert deactivate_claim(pool.startd.sinful, cid)["Start"] is False
    result = pool.wait_result(before)
    assert result["Outcome"] == "Evicted" and result["ExitCode"] == 0
    assert (jobdir / "term").read_text() == "vacated\n"
    pool.wait_slots(lambda s: next(iter(s.values()))["State"] == "Unclaimed")
    reply, extra = activate_claim(pool.startd.sinful, cid, job)
    assert reply == P.NOT_OK and extra["VacateReason"] == "ClaimId not found"


def test_shutdown_kills_jobs_and_invalidates_ads(pool_factory, jobdir):
    pool = pool_factory(**PSLOT)
    pool.wait_slots(lambda s: len(s) == 1)
    job = job_ad("/bin/sh", "-c 'sleep 77.7'", jobdir)
    reply, claimed, _ = request_claim(pool.startd.sinful, claim_id_of(pool, "slot1"), job, SEND_CLAIMED_AD=True)
    before = pool.results()
    assert activate_claim(pool.startd.sinful, claimed[0], job)[0] == P.OK
    pool.wait_slots(lambda s: any(a["Activity"] == "Busy" for a in s.values()))
    deadline = time.time() + 10
    while not _marked("sleep 77.7") and time.time() < deadline:
        time.sleep(0.05)
    procs = _marked("sleep 77.7")
    assert procs
    # graceful shutdown (SIGTERM): jobs are vacated, the ads invalidated, exit status 0
    pool.startd.proc.send_signal(signal.SIGTERM)
    assert pool.startd.proc.wait(timeout=30) == 0
    assert pool.wait_result(before)["Outcome"] == "Evicted"
    assert not psutil.wait_procs(procs, timeout=5)[1]
    assert pool.slots() == {}


def test_vacate_escalates_to_kill_after_job_max_vacate_time(pool_factory, jobdir):
    pool = pool_factory(NUM_SLOTS=1)
    pool.wait_slots(lambda s: len(s) == 1)
    cid = claim_id_of(pool, "slot1")
    job = job_ad("/bin/sh", "-c 'trap \"\" TERM; echo up > started; sleep 30'", jobdir, JobMaxVacateTime=1)
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    deadline = time.time() + 10
    while not (jobdir / "started").exists() and time.time() < deadline:
        time.sleep(0.05)
    t0 = time.time()
    assert deactivate_claim(pool.startd.sinful, cid)["Start"] is True
    result = pool.wait_result(before)
    assert 0.9 <= time.time() - t0 < 8
    assert result["Outcome"] == "Evicted" and result["ExitSignal"] == 9


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_job_runs_as_owner_or_nobody(pool_factory, jobdir):
    pool = pool_factory(NUM_SLOTS=1)
    slots = pool.wait_slots(lambda s: len(s) == 1)
    uid_domain = next(iter(slots.values()))["UidDomain"]
    cid = claim_id_of(pool, "slot1")
    job = job_ad("/bin/sh", "-c 'id -un > who.txt; stat -c %U $_CONDOR_SCRATCH_DIR >> who.txt'", jobdir)
    assert request_claim(pool.startd.sinful, cid, job)[0] == P.OK
    # alice has no account here: the job runs as nobody, never as root
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, job)[0] == P.OK
    assert pool.wait_result(before)["ExitCode"] == 0
    assert (jobdir / "who.txt").read_text().split() == ["nobody", "nobody"]
    (jobdir / "who.txt").unlink()
    pool.wait_slots(lambda s: next(iter(s.values()))["Activity"] == "Idle")
    # an existing account from the same UID_DOMAIN runs as itself
    before = pool.results()
    assert activate_claim(pool.startd.sinful, cid, dict(job, Owner="daemon", User=f"daemon@{uid_domain}"))[0] == P.OK
    assert pool.wait_result(before)["ExitCode"] == 0
    assert (jobdir / "who.txt").read_text().split() == ["daemon", "daemon"]
    assert (jobdir / "who.txt").stat().st_uid == 1
