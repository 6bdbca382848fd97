"""The condor_q -analyze engine (pyhtc.tools.analyze) on real ads: HTCondor's own test slot
ads (../shared/real/ads) and the shared job/machine ads (../shared/classad/ads).

Clause counts are checked against the real classad2 library (the oracle) evaluating each
printed clause against each slot; the text shapes follow src/condor_utils/expr_analyze.cpp
and src/condor_q.V6/jobmatch.cpp."""
import re

import classad2
import pytest

import pyhtc.classad as C
from pyhtc.tools import analyze as A
from pyhtc.tools.common import UsageError

BETTER = A.DETAIL_BETTER | A.DETAIL_EACH_SUB_EXPR | A.DETAIL_ALWAYS_ANALYZE_REQ


def old_ads(path):
    return list(C.parseAds(path.read_text(), C.ParserType.Old))


@pytest.fixture(scope="module")
def ads(shared_dir):
    d = shared_dir / "classad" / "ads"
    job = C.parseOne((d / "job.old").read_text(), C.ParserType.Old)
    machine = C.parseOne((d / "machine.old").read_text(), C.ParserType.Old)
    real = shared_dir / "real" / "ads"
    return {"job": job, "machine": machine,
            "job_text": (d / "job.old").read_text(),
            "basic": old_ads(real / "htcondor__basic4slot.ads"),
            "pslot": old_ads(real / "htcondor__partionable8core.ads")}


def table_rows(text):
    """{step: (count text, condition)} of a 'Step Matched Condition' table."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\[(\d+)\]\s+(\d+|always|never)  (.*)$", line)
        if m:
            rows[int(m.group(1))] = (m.group(2), m.group(3))
    return rows


def test_clauses_are_numbered_children_first(ads):
    listing = A.numbered_clauses(ads["job"], "Requirements")
    lines = listing.splitlines()
    assert lines[0] == '    [0]    : TARGET.Arch == "X86_64"'
    assert lines[1] == '    [1]    : TARGET.OpSys == "LINUX"'
    assert lines[2] == "    [2]    : [0] && [1]"
    assert "    [11]   : [9] || [10]" in lines
    assert lines[-1] == "    [18]   : [14] && [17]"
    # every && / || of the expression is one step, and so is every comparison
    subs, variable = A.analyze_clauses(ads["job"], ads["job"].lookup("Requirements")._node)
    assert len(subs) == 19 and not variable
    assert sum(1 for s in subs if s.logic_op in (2, 3)) == 9


def test_table_counts_agree_with_classad2(ads):
    job, slots = ads["job"], ads["basic"] + ads["pslot"] + [ads["machine"]]
    table = A.requirements_table(job, "Requirements", slots)
    head = table.splitlines()[:3]
    assert head == ["        Slots", "Step   Matched  Condition", "----- --------- ---------"]
    rows = table_rows(table)
    assert rows, table
    ojob = classad2.parseOne(ads["job_text"], classad2.ParserType.Old)
    oslots = [classad2.ClassAd(repr(s)) for s in slots]
    for step, (count, cond) in rows.items():
        expr = classad2.ExprTree(cond)
        want = sum(1 for s in oslots if expr.eval(ojob, s) is True)
        assert int(count) == want, (step, cond)
    # the memory clause is the one that rejects the small slots
    assert rows[5][1] == "TARGET.Memory >= RequestMemory" and int(rows[5][0]) < len(slots)


def test_constants_fold_and_prune():
    job = C.ClassAd({"x": 1, "RequestMemory": 100,
                     "Requirements": C.ExprTree("MY.x == 2 && TARGET.Memory >= RequestMemory")})
    slots = [C.ClassAd({"Memory": 50}), C.ClassAd({"Memory": 500})]
    rows = table_rows(A.requirements_table(job, "Requirements", slots))
    assert rows == {0: ("never", "MY.x == 2")}
    job["x"] = 2
    rows = table_rows(A.requirements_table(job, "Requirements", slots))
    assert rows == {1: ("1", "TARGET.Memory >= RequestMemory")}
    # noprune shows the pruned steps too, unstarred
    full = A.requirements_table(job, "Requirements", slots, details=A.DETAIL_SHOW_ALL_SUBEXPRS)
    assert "   [0]      always  MY.x == 2\n * [1]           1  TARGET.Memory" in full


def test_or_prunes_the_side_that_matches_nothing():
    job = C.ClassAd({"Requirements": C.ExprTree('(TARGET.Arch == "ARM" || TARGET.Memory > 10) && TARGET.Cpus > 0')})
    slots = [C.ClassAd({"Arch": "X86_64", "Memory": 20, "Cpus": 1}), C.ClassAd({"Arch": "X86_64", "Memory": 5, "Cpus": 1})]
    rows = table_rows(A.requirements_table(job, "Requirements", slots))
    # [0] matches nothing, so [2] = [0] || [1] reduces to [1]; [3] matches more slots than
    # [4] = [2] && [3], whose count equals [1]'s, so [3] is pruned as well (HTCondor's rule)
    assert rows == {1: ("1", "TARGET.Memory > 10")}
    slots[1]["Cpus"] = 0
    slots.append(C.ClassAd({"Arch": "X86_64", "Memory": 50, "Cpus": 0}))
    rows = table_rows(A.requirements_table(job, "Requirements", slots))
    assert rows == {1: ("2", "TARGET.Memory > 10"), 3: ("1", "TARGET.Cpus > 0")}


def test_pretty_print_wraps_at_logic_operators(ads):
    text = repr(ads["job"].lookup("Requirements"))
    out = A.pretty_print(text, 4, 80)
    lines = out.split("\n")
    assert len(lines) > 1
    assert all(len(lines[0]) + 4 <= 80 for _ in [0]) and all(len(ln) <= 80 for ln in lines[1:])
    assert all(ln.rstrip().endswith(("&&", "||")) for ln in lines[:-1])
    assert re.sub(r"\n *", " ", out) == text
    assert A.pretty_print("a && b", 4, 80) == "a && b"


def test_better_analyze_of_a_job_no_slot_can_hold(ads):
    job = C.ClassAd(ads["job"])
    job["RequestMemory"] = 10 ** 9
    text = A.job_analysis(job, A.SlotSet(ads["basic"]), BETTER)
    assert text.startswith("The Requirements expression for job 4817.003 is\n\n    (TARGET.Arch")
    assert "Job 4817.003 defines the following attributes:\n\n" in text
    assert "    RequestMemory = 1000000000 (mb)\n" in text
    assert "The Requirements expression for job 4817.003 reduces to these conditions:" in text
    rows = table_rows(text)
    assert rows[5] == ("0", "TARGET.Memory >= RequestMemory")
    assert "\n004.003:" not in text
    assert "\n4817.003:  Run analysis summary ignoring user priority.  Of 4 slots on 1 machines,\n" in text
    assert "      4 slots are rejected by your job's requirements\n" in text
    assert "WARNING:  Be advised:\n   No machines matched the job's constraints\n" in text


def test_analyze_without_better_skips_the_clauses_when_nothing_rejects(ads):
    job, slots = ads["job"], A.SlotSet([ads["machine"]])
    short = A.job_analysis(job, slots, 0)
    assert "Requirements expression" not in short
    assert "      1 slots match and are willing to run your job\n" in short
    held = C.ClassAd(job)
    held.update({"JobStatus": 5, "HoldReason": "via condor_hold"})
    text = A.job_analysis(held, slots, 0)
    assert "\n4817.003:  Job is held.\n\nHold reason: via condor_hold\n\n" in text
    # a single slot: its values of the referenced attributes are listed too
    better = A.job_analysis(job, slots, BETTER)
    assert "\nslot1_3@wn-a17.example.org has the following attributes:\n\n" in better
    assert "    TARGET.Memory = 191872 (mb)\n" in better


def test_slot_side_analysis_expands_start(ads):
    job, machine = ads["job"], ads["machine"]
    text = A.slot_analysis(machine, A.autoclusters([job]), BETTER, tabular=False)
    assert text.startswith("\n-- Slot: slot1_3@wn-a17.example.org : Analyzing matches for 1 Jobs in 1 autoclusters\n")
    assert "\n\n  START is\n    " in text
    assert "    [0]    : KeyboardIdle > 15 * 60\n" in text
    assert "       Clusters\n" in text
    assert "    TARGET.RequestMemory = 2048\n" in text
    assert "slot1_3@wn-a17.example.org: Run analysis summary of 1 jobs.\n" \
           "    1 (100.00 %) match both slot and job requirements.\n" in text
    small = C.ClassAd(machine)
    small["Memory"] = 512
    rows = table_rows(A.slot_analysis(small, A.autoclusters([job]), BETTER, tabular=False))
    assert ("0", "TARGET.RequestMemory <= Memory") in rows.values()
    row = A.slot_analysis(small, A.autoclusters([job]), 0, tabular=True, name_width=30)
    assert row.split() == ["slot1_3@wn-a17.example.org", "Part", "0", "0", "0.00"]


def test_drained_partitionable_slot(ads):
    pslot = [a for a in ads["pslot"] if a.get("PartitionableSlot") is True]
    assert len(pslot) == 1
    job = C.ClassAd({"Owner": "me", "ClusterId": 7, "ProcId": 0, "JobUniverse": 5, "JobStatus": 1,
                     "RequestCpus": 6, "RequestMemory": 1024, "RequestDisk": 1000,
                     "Requirements": C.ExprTree("TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory")})
    text = A.job_analysis(job, A.SlotSet(pslot, "slot1@ingwe.cs.wisc.edu"), BETTER)
    assert "         Slots      If    \nStep   Matched   Drained  Condition\n" in text
    assert re.search(r"\[0\]\s+0\s+1  TARGET.Cpus >= RequestCpus", text), text
    assert "      1 slots would match if drained\n" in text
    assert "has the following attributes when drained:\n\n    TARGET.Cpus = 8\n" in text
    rev = A.slot_analysis(pslot[0], A.autoclusters([job]), BETTER, tabular=False)
    assert "When drained, this slot has the following attributes:\n\n" in rev
    assert "    1 would match both slot and job requirments if the slot was drained.\n" in rev


def test_reports_and_summaries(ads):
    jobs = [ads["job"], C.ClassAd(ads["job"])]
    jobs[1]["ProcId"] = 4
    slots = A.SlotSet(ads["basic"] + [ads["machine"]])
    rev = A.jobs_report(jobs, slots, "Schedd: s : <127.0.0.1:1>", reverse=True, width=80)
    lines = rev.split("\n")
    assert lines[:4] == ["", "", "-- Schedd: s : <127.0.0.1:1>", "Analyzing matches for 2 jobs"]
    assert lines[5].split() == ["Name", "Type", "Matches", "Job", "Matches", "Slot", "Match", "%"]
    by_name = {ln.split()[0]: ln.split()[1:] for ln in lines[7:] if ln.strip()}
    assert by_name["slot1_3@wn-a17.example.org"] == ["Part", "2", "2", "100.00"]
    summ = A.jobs_report(jobs, slots, "x", summary=True)
    assert "Analyzing matches for 5 slots\n" in summ
    assert [ln.split()[0] for ln in summ.splitlines()[-2:]] == ["4817.3", "4817.4"]
    # jobs come out in job-id order, each with its own summary
    better = A.jobs_report(list(reversed(jobs)), slots, "x", details=A.DETAIL_BETTER)
    assert better.index("for job 4817.003 is") < better.index("for job 4817.004 is")


def test_slot_constraints():
    assert A.slot_constraint(None, None) == (None, None, True)
    assert A.slot_constraint(None, "slot1@host") == ('(Name=="slot1@host" || Machine=="slot1@host")', "slot1@host", False)
    assert A.slot_constraint("Memory > 5", None) == ("Memory > 5", None, True)
    assert A.slot_constraint("PartitionableSlot", None) == ("PartitionableSlot", None, False)
    # a -mconstraint that looks like a host name is a -machine
    assert A.slot_constraint("node1.example.org", None)[1] == "node1.example.org"
    assert not A.is_slot_name("Memory > 5") and not A.is_slot_name("node1")


def test_option_parsing():
    o = A.AnalysisOptions()
    assert o.take(["-better-analyze:summary,reverse"], 0) == 0
    assert o.enabled and o.summary and o.reverse and o.details & A.DETAIL_BETTER
    o = A.AnalysisOptions()
    argv = ["-an", "-machine", "m1", "-mconstraint", "Cpus > 1", "-rev", "-slotads", "f", "-verb", "-nobatch"]
    used = [o.take(argv, i) for i in (0, 1, 3, 5, 6, 8, 9)]
    assert used == [0, 1, 1, 0, 1, 0, -1]
    assert (o.enabled, o.details, o.machine, o.constraint, o.reverse, o.slotads, o.verbose) == \
           (True, 0, "m1", "Cpus > 1", True, "f", True)
    o = A.AnalysisOptions()
    assert o.take(["-analyze:pr"], 0) == 0 and o.with_userprio
    assert o.take(["-rev"], 0) == 0 and not o.with_userprio      # -reverse-analyze turns it off
    assert o.take(["-userprios", "p"], 0) == 1 and o.with_userprio and o.userprios_file == "p"
    assert o.take(["-nouserprio"], 0) == 0 and not o.with_userprio
    for bad in (["-analyze:bogus"], ["-machine"], ["-mconstraint", "a >"], ["-userprios"]):
        with pytest.raises(UsageError) as exc:
            A.AnalysisOptions().take(bad, 0)
        assert bad[0].split(":")[0] in str(exc.value)
    assert A.parse_detail("1,4", 0x100) == 0x105


def test_slotads_file_with_machine(shared_dir, tmp_path):
    o = A.AnalysisOptions()
    o.slotads = str(shared_dir / "real" / "ads" / "htcondor__basic4slot.ads")
    o.machine = "slot2@ingwe.cs.wisc.edu"
    o.load_slots(None, None)
    assert [s.name for s in o.slots.slots] == ["slot2@ingwe.cs.wisc.edu"]
    assert o.slots.single_machine == "slot2@ingwe.cs.wisc.edu"
    bad = tmp_path / "bad.ads"
    bad.write_text("[ this is not = ")
    o.slotads = str(bad)
    assert A.setup_slots(o, None, None).startswith(f"Error: cannot read slot ads from {bad}")


def test_scheduler_universe_uses_the_schedd_ad(ads):
    job = C.ClassAd(ads["job"])
    job["JobUniverse"] = 7
    slots = A.SlotSet(ads["basic"])
    text = A.job_analysis(job, slots, BETTER)
    assert "\nWARNING: Analysis is not complete for Scheduler or Local universe jobs.\n" in text
    assert "WARNING: A schedd ClassAd is needed to do analysis for scheduler or Local universe jobs.\n" in text
    schedd = C.ClassAd({"Name": "ap", "StartSchedulerUniverse": C.ExprTree("TARGET.Owner == \"alice\"")})
    text = A.job_analysis(job, slots, BETTER, schedd_ad=schedd)
    assert "This schedd's StartSchedulerUniverse evalutes to true for this job.\n" in text
    assert "Of 1 slots on 0 machines" in text
    job["Owner"] = "bob"
    text = A.job_analysis(job, slots, BETTER, schedd_ad=schedd)
    assert "evalutes to false for this job." in text
    assert "      1 slots reject your job because of their own requirements\n" in text


def test_verbose_lists_slot_names(ads):
    job = C.ClassAd(ads["job"])
    text = A.job_analysis(job, A.SlotSet(ads["basic"] + [ads["machine"]]), 0, verbose=True)
    line = [ln for ln in text.splitlines() if "rejected by your job's requirements" in ln][0]
    assert line.endswith(": slot1@ingwe.cs.wisc.edu, slot2@ingwe.cs.wisc.edu, slot3@ingwe.cs.wisc.edu, "
                         "slot4@ingwe.cs.wisc.edu")
    assert "slots match and are willing to run your job: slot1_3@wn-a17.example.org" in text


def test_ifthenelse_qualifier_splits_within_resource_limits(ads):
    pslot = [a for a in ads["pslot"] if a.get("PartitionableSlot") is True][0]
    job = C.ClassAd({"Owner": "me", "ClusterId": 7, "ProcId": 0, "JobUniverse": 5, "RequestCpus": 6,
                     "RequestMemory": 1024, "RequestDisk": 1000, "Requirements": C.ExprTree("TARGET.Cpus >= RequestCpus")})
    o = A.AnalysisOptions()
    o.take(["-better-analyze:ifthenelse,reverse"], 0)
    text = A.slot_analysis(pslot, A.autoclusters([job]), o.details, tabular=False)
    assert "    [12]   : ifThenElse([7],[10],[11])\n" in text
    rows = table_rows(text)
    assert rows[9] == ("0", "TARGET.RequestCpus <= MY.Cpus")   # 6 cpus wanted, 4 free
    assert rows[11] == ("always", "1 <= MY.Cpus")
    assert "    1 would match both slot and job requirments if the slot was drained.\n" in text
    plain = A.slot_analysis(pslot, A.autoclusters([job]), A.DETAIL_EACH_SUB_EXPR, tabular=False)
    assert "ifThenElse([" not in plain


def test_job_state_and_match_history(ads):
    job = C.ClassAd(ads["job"])
    job.update({"LastRejMatchTime": 1_800_000_000, "LastRejMatchReason": "no match found",
                "LastRejMatchNegotiator": "cm.example.org", "JobCoolDownExpiration": 2_000_000_000,
                "ServerTime": 1_800_000_100})
    text = A.basic_status(job, A.run_analysis(job, A.SlotSet([]))[1])
    assert text == ("\n4817.003:  Job is in cool down.\n\n"
                    "No successful match recorded.\n"
                    "Last failed match: Fri Jan 15 08:00:00 2027 from cm.example.org\n"
                    "Reason for last match failure: no match found\n")
    job.update({"LastMatchTime": 1_800_000_500, "JobStatus": 2})
    assert A.basic_status(job, A.run_analysis(job, A.SlotSet([]))[1]) == \
        "\n4817.003:  Job is running.\n\nLast successful match: Fri Jan 15 08:08:20 2027\n"


def test_userprio_file_and_submitter_names(tmp_path):
    from pyhtc.tools.analyze_prio import UserPrios, read_userprio_file, submitter_name
    f = tmp_path / "prios"
    # condor_userprio -l style: numbered records, other lines skipped, gaps kept empty
    f.write_text('LastUpdate = 17\nName1 = "a@d"\nPriority1 = 0.5\n  Priority3=12.25xyz\n'
                 'Name3 = "b@d"\nNameX1 = "skip"\nPriority 2 = 9\n')
    assert read_userprio_file(str(f)) == [("a@d", 0.5), ("", 0.0), ("b@d", 12.25)]
    assert submitter_name("u@d", False, "x") == "u@d"
    assert submitter_name("u", True, "dom") == "nice-user.u@dom"
    recs = [{"Name": "a@d", "Priority": 2}, {"Name": "b@d"}, {"Name": "c@d", "Priority": 1.0}]
    assert UserPrios.from_records(recs).table == [("a@d", 2.0)]   # stops at the first gap


def test_priority_classification_of_running_slots(ads):
    """A claimed slot of the real ads (bt@cs.wisc.edu) against a job of u@d: user priority,
    then MY.Rank >= MY.CurrentRank, then PREEMPTION_REQUIREMENTS (jobmatch.cpp steps 4-7)."""
    from pyhtc.tools.analyze_prio import UserPrios
    slot = C.ClassAd(ads["basic"][0])
    job = C.ClassAd({"User": "u@d"})
    never = UserPrios([("u@d", 10.0), ("bt@cs.wisc.edu", 10.4)])
    never.annotate_slots([slot])
    assert slot["RemoteUserPrio"] == 10.4
    assert never.submitter_of(job) == (0, False) and job["SubmittorPrio"] == 10.0
    assert never.classify(slot, job) == "prio"          # 10.4 is not worse than 10.0 + 0.5
    slot["RemoteUserPrio"] = 11.0
    assert never.classify(slot, job) == "preemptreq"    # PREEMPTION_REQUIREMENTS = false
    yes = UserPrios(never.table, preemption_requirements=C.ExprTree("TARGET.SubmittorPrio < 10.5"))
    assert yes.classify(slot, job) == "willing"
    slot["CurrentRank"] = 5.0                           # current work outranks: no preemption test
    assert never.classify(slot, job) == "willing"
    del slot["RemoteUserPrio"]
    assert never.classify(slot, job) == "prio"          # a user without a priority is never preempted
