"""Unit tests of the submit language pieces (expression printing, arguments and
environment syntaxes, units, queue forms, job-ad rules from submit_utils.cpp)."""
from __future__ import annotations

import os

import pytest

from pyhtc.submit import QueueError, SubmitError, SubmitSyntaxError, run_description
from pyhtc.submit import argsenv
from pyhtc.submit.exprfmt import ExprSyntaxError, normalize, references
from pyhtc.submit.jobad import parse_int64_bytes


# --- ClassAd expression printing (sink.cpp, old-syntax unparser) --------------------
@pytest.mark.parametrize("text,want", [
    ("(OpSysMajorVer==7 || OpSysMajorVer==8)", "(OpSysMajorVer == 7 || OpSysMajorVer == 8)"),
    ("x =?= TRUE && y =!= UNDEFINED", "x =?= true && y =!= undefined"),
    ("ExitCode >=0", "ExitCode >= 0"),
    ("versionGE(split(TARGET.CondorVersion)[1], \"25.12.0\")", 'versionGE(split(TARGET.CondorVersion)[1],"25.12.0")'),
    ("MAX({1024, (X + 1) * 1.25})", "MAX({ 1024,(X + 1) * 1.25 })"),
    ("a&&TARGET.HasSIF", "a && TARGET.HasSIF"),
    ("1.0e+20", "1E+20"), ("2.50", "2.5"), ("0.0", "0.0"), ("1500.0", "1500.0"), ("7", "7"), ("-1", "-1"),
    # unary operators print with a leading space (sink.cpp opString " -", " !")
    ("x ? -y : !z", "x ?  -y :  !z"), ("!x", " !x"), ("(a ?: b) < 10", "(a ?: b) < 10"),
    ("a is b", "a =?= b"), ("a isnt b", "a =!= b"),
    ('"pre\\"a1 pre\'a2"', '"pre\\"a1 pre\'a2"'),
    ('"a\\nb"', '"a\\nb"'),  # old syntax: backslash is literal unless before a quote
])
def test_normalize(text, want):
    assert normalize(text) == want


@pytest.mark.parametrize("bad", ["a +", "(a", "a b", "", "a )", '"open', "1500.", "f(,)"])
def test_normalize_rejects(bad):
    with pytest.raises(ExprSyntaxError):
        normalize(bad)


def test_references():
    my, target = references("TARGET.Arch == \"X\" && MY.Foo > Memory && stringListMember(\"a\", Bar)")
    assert my == {"foo"}
    assert target == {"arch", "memory", "bar"}


# --- arguments / environment (condor_arglist.cpp, env.cpp) -------------------------------
def test_v2_arguments_round_trip():
    items = argsenv.split_v2_raw(argsenv.v2_quoted_to_raw('"job""a1 \'job a2\' \'jo\'\'ba3\'"'))
    assert items == ['job"a1', "job a2", "jo'ba3"]
    assert argsenv.v2_join(items) == "job\"a1 job' 'a2 jo''''ba3"
    assert argsenv.v2_join(["", "a b"]) == "'' a' 'b"


def test_v2_quote_errors():
    with pytest.raises(argsenv.ArgsError, match="Unexpected characters following double-quote"):
        argsenv.v2_quoted_to_raw('"100 "soft""')
    with pytest.raises(argsenv.ArgsError, match="Unterminated double-quote"):
        argsenv.v2_quoted_to_raw('"abc')
    with pytest.raises(argsenv.ArgsError, match="Unbalanced single-quote"):
        argsenv.split_v2_raw("a 'b")


def test_v1_arguments():
    assert argsenv.v1_wacked_to_args('a  \\"b\\" c') == ["a", '"b"', "c"]
    with pytest.raises(argsenv.ArgsError, match="illegal unescaped double-quote"):
        argsenv.v1_wacked_to_args('a "b"')


def test_environment_syntaxes():
    assert argsenv.parse_env('"A=1 B=\'x y\'"') == {"A": "1", "B": "x y"}
    assert argsenv.parse_env("A=1;B=2 3") == {"A": "1", "B": "2 3"}
    assert argsenv.env_v2_raw({"Z": "1", "A": "x y"}) == "A=x' 'y Z=1"
    with pytest.raises(argsenv.ArgsError):
        argsenv.parse_env("NOEQUALS")


# --- units (metric_units.cpp parse_int64_bytes) -----------------------------------------------
@pytest.mark.parametrize("text,base,want", [
    ("1024M", 1 << 20, 1024), ("4GB", 1 << 20, 4096), ("512m", 1 << 20, 512), ("8TB", 1 << 20, 8388608),
    ("100", 1 << 20, 100), ("2 GB", 1 << 20, 2048), ("1.5G", 1 << 20, 1536), ("10240K", 1024, 10240),
    ("4000MB", 1024, 4096000), ("1G", 1024, 1048576), ("1", 1024, 1), ("1500", 1024, 1500),
    ("100B", 1024, None), ("x", 1024, None), ("1 Meg", 1024, None),
])
def test_units(text, base, want):
    assert parse_int64_bytes(text, base) == want


# --- job ads ------------------------------------------------------------------------------
def ads(text, tmp_path, **kw):
    return run_description(text, cwd=str(tmp_path), submit_time=1000, **kw).clusters[0].full_ads


def test_requirements_default_clauses(tmp_path):
    ad = ads("executable = /bin/true\nrequest_cpus = 2\nrequest_gpus = 1\nrequest_Cogs = 3\n"
             "should_transfer_files = NO\nqueue\n", tmp_path)[0]
    assert ad["Requirements"] == (
        '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (versionGE(split(TARGET.CondorVersion)[1],'
        '"25.12.0") || (TARGET.Disk >= RequestDisk)) && (TARGET.Memory >= RequestMemory) && '
        "(TARGET.Cpus >= RequestCpus) && (TARGET.Cogs >= RequestCogs) && (TARGET.GPUs >= RequestGPUs) && "
        "(TARGET.FileSystemDomain == MY.FileSystemDomain)")
    assert ad["RequestCogs"] == "3" and "WhenToTransferOutput" not in ad


def test_user_requirements_suppress_clauses(tmp_path):
    ad = ads("executable = /bin/true\nrequirements = Arch == \"ARM\" && Memory > 5\nqueue\n", tmp_path)[0]
    assert ad["Requirements"].startswith('(Arch == "ARM" && Memory > 5) && (TARGET.OpSys == "LINUX")')
    with pytest.raises(SubmitError, match="Is Circular"):
        ads("executable = /bin/true\nrequirements = Requirements\nqueue\n", tmp_path)


def test_gpu_requirements(tmp_path):
    ad = ads("executable = /bin/true\nrequest_gpus = 2\nrequire_gpus = Capability > 7 || DeviceName == \"x\"\n"
             "gpus_minimum_memory = 4G\ngpus_minimum_capability = 8.0\nqueue\n", tmp_path)[0]
    assert ad["RequireGPUs"] == '(Capability > 7 || DeviceName == "x") && GlobalMemoryMb >= GPUsMinMemory'
    assert ad["GPUsMinMemory"] == "4096" and ad["GPUsMinCapability"] == "8.0"
    assert "(countMatches(MY.RequireGPUs,TARGET.AvailableGPUs) >= RequestGPUs)" in ad["Requirements"]


def test_retries(tmp_path):
    ad = ads("executable = /bin/true\nmax_retries = 3\nsuccess_exit_code = 4\nretry_until = 7\n"
             "on_exit_remove = ExitSignal == 9\nqueue\n", tmp_path)[0]
    assert ad["JobMaxRetries"] == "3" and ad["JobSuccessExitCode"] == "4" and ad["OnExitHold"] == "false"
    assert ad["OnExitRemove"] == ("NumJobCompletions > JobMaxRetries || ExitCode =?= JobSuccessExitCode || "
                                  "ExitCode =?= 7 || ExitSignal == 9")
    ad = ads("executable = /bin/true\nretry_until = ExitCode == 2\nqueue\n", tmp_path)[0]
    assert ad["JobMaxRetries"] == "2"
    assert ad["OnExitRemove"] == "NumJobCompletions > JobMaxRetries || ExitCode =?= 0 || ExitCode == 2"


def test_policy_and_simple_commands(tmp_path):
    ad = ads("executable = /bin/true\nperiodic_hold = NumJobStarts > 2\nperiodic_hold_reason = \"too many\"\n"
             "periodic_hold_subcode = 42\non_exit_hold = ExitCode != 0\npriority = 5\nnotification = Complete\n"
             "notify_user = me@example.com\naccounting_group = grp\naccounting_group_user = bob\n"
             "concurrency_limits = B, a:2\nkill_sig = 9\nleave_in_queue = true\nbatch_name = \"nightly\"\n"
             "job_max_vacate_time = 60\nmax_idle = \nqueue\n", tmp_path)[0]
    assert ad["PeriodicHold"] == "NumJobStarts > 2" and ad["PeriodicHoldReason"] == '"too many"'
    assert ad["PeriodicHoldSubCode"] == "42" and ad["OnExitHold"] == "ExitCode != 0"
    assert ad["JobPrio"] == "5" and ad["JobNotification"] == "2" and ad["NotifyUser"] == '"me@example.com"'
    assert (ad["AcctGroup"], ad["AcctGroupUser"], ad["AccountingGroup"]) == ('"grp"', '"bob"', '"grp.bob"')
    assert ad["ConcurrencyLimits"] == '"a:2,b"' and ad["KillSig"] == '"SIGKILL"'
    assert ad["LeaveJobInQueue"] == "true" and ad["JobBatchName"] == '"nightly"'
    assert ad["JobMaxVacateTime"] == "60"


def test_universes(tmp_path):
    ad = ads("universe = docker\ndocker_image = debian:12\nexecutable = /bin/true\nqueue\n", tmp_path)[0]
    assert ad["WantDocker"] == "true" and ad["DockerImage"] == '"debian:12"'
    assert ad["Requirements"].startswith('(TARGET.Arch == "X86_64") && TARGET.HasDocker && ')
    ad = ads("container_image = docker://alpine\nexecutable = /bin/true\nqueue\n", tmp_path)[0]
    assert ad["WantContainer"] == "true" and ad["WantDockerImage"] == "true"
    assert ad["ContainerImage"] == '"docker://alpine"' and ad["ContainerImageSource"] == '"docker"'
    assert "TARGET.HasContainer && TARGET.HasDockerURL" in ad["Requirements"]
    ad = ads("universe = parallel\nmachine_count = 4\nexecutable = /bin/true\nqueue\n", tmp_path)[0]
    assert (ad["MinHosts"], ad["MaxHosts"], ad["JobUniverse"], ad["KillSig"]) == ("4", "4", "11", '"SIGTERM"')
    for bad, msg in (("standard", "'Standard' is not a supported universe."),
                     ("nope", "I don't know about the 'nope' universe.")):
        with pytest.raises(SubmitError, match=msg):
            ads(f"universe = {bad}\nexecutable = /bin/true\nqueue\n", tmp_path)
    with pytest.raises(SubmitError, match="In Java universe, you must specify the class name"):
        ads("universe = java\nexecutable = A.class\nqueue\n", tmp_path)


def test_transfer_rules(tmp_path):
    (tmp_path / "in.dat").write_bytes(b"x" * 3000)
    ad = ads("executable = /bin/true\ntransfer_input_files = in.dat, https://h/x, osdf:///y\n"
             "transfer_output_files = a, b\ntransfer_output_remaps = \"a = s3://b/a\"\nqueue\n", tmp_path)[0]
    assert ad["TransferInput"] == '"in.dat,https://h/x,osdf:///y"'
    assert ad["TransferOutput"] == '"a,b"'
    assert ad["WantTransferPluginMethods"] == '"https,osdf,s3"'
    assert ad["DiskUsage"] == str(int(ad["ExecutableSize"]) + 3)
    with pytest.raises(SubmitError, match="but you disabled should_transfer_files"):
        ads("executable = /bin/true\nshould_transfer_files = NO\ntransfer_input_files = a\nqueue\n", tmp_path)
    with pytest.raises(SubmitError, match="are incompatible"):
        ads("executable = /bin/true\nshould_transfer_files = IF_NEEDED\n"
            "when_to_transfer_output = ON_EXIT_OR_EVICT\nqueue\n", tmp_path)
    ad = ads("executable = /bin/true\nwhen_to_transfer_output = ON_EXIT_OR_EVICT\nqueue\n", tmp_path)[0]
    assert ad["ShouldTransferFiles"] == '"YES"'


def test_stdio_and_paths(tmp_path):
    (tmp_path / "run1").mkdir()
    ad = ads("executable = prog\ninitialdir = run1\ninput = in\noutput = out\nerror = /dev/null\n"
             "transfer_output = false\nstream_error = true\nlog = ../l.log\nqueue\n", tmp_path)[0]
    assert ad["Cmd"] == f'"{tmp_path}/prog"' and ad["Iwd"] == f'"{tmp_path}/run1"'
    assert ad["UserLog"] == f'"{tmp_path}/run1/../l.log"'
    assert ad["In"] == '"in"' and ad["StreamIn"] == "false" and "TransferIn" not in ad
    assert ad["Out"] == '"out"' and ad["TransferOut"] == "false" and "StreamOut" not in ad
    assert ad["Err"] == '"/dev/null"' and ad["TransferErr"] == "false"


def test_queue_forms_make_procs(tmp_path):
    for name in ("b.txt", "a.txt", "c.dat"):
        (tmp_path / name).write_text("")
    (tmp_path / "rows.lst").write_text("1 x\n# comment\n2 y z\n")
    got = ads("executable = /bin/true\narguments = $(f) $(Step) $(ItemIndex)\nqueue 2 f matching *.txt\n", tmp_path)
    assert [a["Args"] for a in got] == ['"a.txt 0 0"', '"a.txt 1 0"', '"b.txt 0 1"', '"b.txt 1 1"']
    got = ads("executable = /bin/true\narguments = $(n) $(v)\nqueue n,v from rows.lst\n", tmp_path)
    assert [a["Args"] for a in got] == ['"1 x"', '"2 y z"']
    got = ads("executable = /bin/true\narguments = $(Item)\nqueue in [1::2] (a b c d e)\n", tmp_path)
    assert [a["Args"] for a in got] == ['"b"', '"d"']
    got = ads("executable = /bin/true\nN = 3\nqueue $(N)*2\n", tmp_path)
    assert len(got) == 6
    with pytest.raises(QueueError, match="invalid Queue statement"):
        ads("executable = /bin/true\nqueue f matching *.none\n", tmp_path)


def test_per_proc_initialdir_must_exist(tmp_path):
    (tmp_path / "d0").mkdir()
    with pytest.raises(SubmitError, match=f"No such directory: {tmp_path}/d1"):
        ads("executable = /bin/true\ninitialdir = d$(Process)\nqueue 2\n", tmp_path)


def test_conditionals_and_include(tmp_path):
    (tmp_path / "inc.sub").write_text("arguments = included\n")
    text = ("executable = /bin/true\nX = 1\nif defined X\n  A = yes\nelse\n  A = no\nendif\n"
            "if $(X)\n  include : inc.sub\nendif\nif version >= 9.0\n  B = new\nendif\n"
            "environment = \"A=$(A) B=$(B)\"\nqueue\n")
    ad = ads(text, tmp_path)[0]
    assert ad["Args"] == '"included"' and ad["Environment"] == '"A=yes B=new"'
    with pytest.raises(SubmitSyntaxError, match="line 2: boom"):
        ads("executable = /bin/true\nerror : boom\nqueue\n", tmp_path)


def test_user_attributes(tmp_path):
    ad = ads("executable = /bin/true\n+Foo = \"bar\"\nMY.Num = 1+2\n+Empty = $(nothing)\n"
             "+Requirements = TARGET.X\n+JobPrio = 7\nqueue\n", tmp_path)[0]
    assert ad["Foo"] == '"bar"' and ad["Num"] == "1 + 2" and ad["Empty"] == "undefined"
    assert ad["Requirements"] == "TARGET.X" and ad["JobPrio"] == "7"
    with pytest.raises(SubmitError, match="Parse error in expression"):
        ads("executable = /bin/true\n+Bad = (1 +\nqueue\n", tmp_path)


def test_getenv_patterns(tmp_path, monkeypatch):
    monkeypatch.setenv("PYHTC_T_ONE", "1")
    monkeypatch.setenv("PYHTC_T_TWO", "2")
    ad = ads("executable = /bin/true\ngetenv = PYHTC_T_*, !PYHTC_T_TWO\nqueue\n", tmp_path)[0]
    assert ad["Environment"] == '"PYHTC_T_ONE=1"'
    assert os.environ["PYHTC_T_TWO"] == "2"


def test_deferral_and_cron(tmp_path):
    ad = ads("executable = /bin/true\ndeferral_time = 1800000000\nqueue\n", tmp_path)[0]
    assert (ad["DeferralTime"], ad["DeferralWindow"], ad["DeferralPrepTime"], ad["ScheddInterval"]) == \
        ("1800000000", "0", "300", "300")
    assert ad["Requirements"].endswith(
        "TARGET.HasJobDeferral && (((time() + ScheddInterval) >= (DeferralTime - DeferralPrepTime)) && "
        "(time() < (DeferralTime + DeferralWindow)))")
    ad = ads("universe = local\nexecutable = /bin/true\ncron_minute = */5\ncron_window = 60\nqueue\n", tmp_path)[0]
    assert ad["CronMinute"] == '"*/5"' and ad["DeferralWindow"] == "60"
    assert "HasJobDeferral" not in ad["Requirements"]
    with pytest.raises(SubmitError, match="does not work for scheduler universe"):
        ads("universe = scheduler\nexecutable = /bin/true\ndeferral_time = 5\nqueue\n", tmp_path)
    assert ads("executable = /bin/true\njob_lease_duration = 5\nqueue\n", tmp_path)[0]["JobLeaseDuration"] == "20"


def test_include_command_output_and_queue_from_command(tmp_path):
    script = tmp_path / "gen.sh"
    script.write_text("#!/bin/sh\necho 'arguments = from_script'\n")
    script.chmod(0o755)
    ad = ads("executable = /bin/true\ninclude : ./gen.sh |\nqueue\n", tmp_path)[0]
    assert ad["Args"] == '"from_script"'
    got = ads("executable = /bin/true\narguments = $(Item)\nqueue from seq 2 4 |\n", tmp_path)
    assert [a["Args"] for a in got] == ['"2"', '"3"', '"4"']


def test_late_materialization_allows_one_queue_statement(tmp_path):
    with pytest.raises(SubmitSyntaxError, match="Extra data found after queue statement"):
        ads("executable = /bin/true\nmax_idle = 5\nqueue 3\narguments = x\nqueue\n", tmp_path)
