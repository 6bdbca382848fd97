"""A real negotiator process negotiating with a fake schedd (pyhtc.cedar CommandServer)
over the NEGOTIATE protocol, with slot ads (public + private) in a real collector."""
import sys
import time

import pytest

from pyhtc import classad as C
from pyhtc.cedar import transport_blocking as tb
from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.daemons.negotiator.protocol import NegCommand as N

from daemon_helpers import daemon_env, start_daemon

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from fake_schedd import FakeSchedd  # noqa: E402

STARTD = "<127.0.0.1:4444>"


def _hp(sinful):
    host, _, port = sinful.strip("<>").split("?")[0].rpartition(":")
    return host, int(port)


def advertise(collector, command, pairs):
    """UPDATE_* with (public, private-or-None) ad pairs on one TCP connection."""
    host, port = _hp(f"<{collector.host_port}>")
    with tb.start_command(host, port, int(command), SecurityPolicy()) as s:
        for i, (pub, pvt) in enumerate(pairs):
            if i:
                s.put_int(int(command))
            s.put_ad(from_classad(pub))
            if pvt is not None:
                s.put_ad(from_classad(pvt))
            s.end_of_message()
        s.put_int(int(Command.DC_NOP)).end_of_message()


def slot_pair(i, memory=1024, **extra):
    name = f"slot{i}@exec.test"
    pub = C.ClassAd({"MyType": "Machine", "Name": name, "Machine": "exec.test", "Cpus": 1,
                     "Memory": memory, "Disk": 100000, "State": "Unclaimed", "Activity": "Idle",
                     "Rank": 0.0, "SlotID": i, "OpSys": "LINUX", "Arch": "X86_64",
                     "MyAddress": STARTD, "StartdIpAddr": STARTD})
    pub["Requirements"] = C.ExprTree("START")
    pub["START"] = True
    for k, v in extra.items():
        pub[k] = v
    pvt = C.ClassAd({"MyType": "Machine", "Name": name, "MyAddress": STARTD, "StartdIpAddr": STARTD,
                     "ClaimId": f"{STARTD}#100#{i}#[]secret{i}", "Capability": f"{STARTD}#100#{i}#[]secret{i}"})
    return pub, pvt


def submitter(name, schedd, idle):
    return C.ClassAd({"MyType": "Submitter", "Name": name, "ScheddName": "schedd@sub.test",
                      "ScheddIpAddr": schedd.sinful, "MyAddress": schedd.sinful, "IdleJobs": idle,
                      "RunningJobs": 0, "SubmitterTag": "", "CondorVersion": "$CondorVersion: 25.14.1 $"})


def set_factor(neg, user, factor):
    host, port = _hp(neg.sinful)
    with tb.start_command(host, port, int(N.SET_PRIORITYFACTOR), SecurityPolicy()) as s:
        s.put_string(user).put_double(factor).end_of_message()
        reply = to_classad(s.get_ad())
        s.end_of_message()
    assert reply["ErrorCode"] == 0


def cycles(neg):
    """How many negotiation cycles the daemon has finished."""
    return neg.log_text().count("Finished Negotiation Cycle")


def start_negotiator(tmp_path, coll, **knobs):
    """A negotiator whose start-up cycle (on an empty pool) is over."""
    neg = start_daemon("pyhtc.daemons.negotiator.daemon", "NEGOTIATOR", tmp_path, "NegotiatorLog",
                       _CONDOR_COLLECTOR_HOST=coll.host_port, _CONDOR_NEGOTIATOR_CYCLE_DELAY=0,
                       _CONDOR_NEGOTIATOR_INTERVAL=3600, _CONDOR_NEGOTIATOR_MIN_INTERVAL=0,
                       **knobs)
    assert wait_for(lambda: cycles(neg) >= 1), neg.log_text()
    return neg


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def pool(tmp_path):
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    schedd = FakeSchedd({
        "alice@sub.test": [(1, 11, 20, "true")],
        "bob@sub.test": [(2, 21, 20, "true")],
        "carol@sub.test": [(3, 31, 4, 'TARGET.OpSys == "WINDOWS"'), (4, 32, 1, "TARGET.Memory > 3000")],
    })
    neg = start_negotiator(tmp_path, coll, _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0,
                           _CONDOR_NEGOTIATOR_DEBUG="D_COMMAND D_FULLDEBUG")
    yield coll, schedd, neg
    neg.stop()
    schedd.stop()
    coll.stop()


def test_cycle_fair_share_claims_and_rejections(pool):
    coll, schedd, neg = pool
    # 8 one-cpu slots and one big one that only carol's second request wants
    pairs = [slot_pair(i) for i in range(1, 9)] + [slot_pair(9, memory=4096)]
    advertise(coll, Command.UPDATE_STARTD_AD, pairs)
    advertise(coll, Command.UPDATE_SUBMITTOR_AD, [(submitter(n, schedd, i), None) for n, i in
                                                 (("alice@sub.test", 20), ("bob@sub.test", 20),
                                                  ("carol@sub.test", 5))])
    # alice keeps the default factor (1000), bob 3000, carol 1e6
    set_factor(neg, "bob@sub.test", 3000.0)
    set_factor(neg, "carol@sub.test", 1e6)
    tb.send_udp_command(*_hp(neg.sinful), int(N.RESCHEDULE))  # RESCHEDULE over UDP
    assert wait_for(lambda: len(schedd.sessions) >= 3 and all(s["end"] for s in schedd.sessions)), \
        neg.log_text()[-4000:]
    assert wait_for(lambda: cycles(neg) >= 2)
    by_owner = {}
    for m in schedd.matches:
        by_owner.setdefault(m["owner"], []).append(m)
    # carol (worst priority) is served last; her WINDOWS request is rejected with the
    # autocluster and job id, her big-memory request gets the big slot first
    assert [m["slot"]["Name"] for m in by_owner["carol@sub.test"]] == ["slot9@exec.test"]
    assert any(o == "carol@sub.test" and r.startswith("no match found |31|3.0|") for o, r in schedd.rejects)
    # fair share of the 9 slots: 1/1000 : 1/3000 : 1/1e6 -> alice 6.7, bob 2.2 (the crumbs
    # rule lets each take one slot beyond a fractional limit), nothing is handed out twice
    assert len(by_owner["alice@sub.test"]) >= 6
    assert len(by_owner["bob@sub.test"]) >= 2
    assert len(by_owner["alice@sub.test"]) > len(by_owner["bob@sub.test"])
    names = [m["slot"]["Name"] for m in schedd.matches]
    assert len(names) == len(set(names)) == 9
    # the claim id is the one from the slot's private ad; the slot ad carries the job id
    for m in schedd.matches:
        i = int(m["slot"]["Name"][4:].split("@")[0])
        assert m["claim"] == f"{STARTD}#100#{i}#[]secret{i}"
        assert "ClaimId" not in m["slot"] and "Capability" not in m["slot"]
        assert m["cluster"] in (1, 2, 4) and m["proc"] == 0
    # the header: Owner is the submitter, AutoClusterAttrs lists what the slots reference
    hdr = schedd.sessions[0]["header"]
    assert hdr["Owner"] == "alice@sub.test" and hdr["MatchCaps"] == "MatchDiag3"
    assert "RequestCpus" in hdr["AutoClusterAttrs"].split(",")
    # alice and bob stopped at their limits (END_NEGOTIATE); every conversation ended cleanly
    assert {s["end"] for s in schedd.sessions} <= {"END_NEGOTIATE", "NO_MORE_JOBS"}
    # the accountant counts the new matches at once
    host, port = _hp(neg.sinful)
    with tb.start_command(host, port, int(N.GET_PRIORITY), SecurityPolicy()) as s:
        s.end_of_message()
        st = to_classad(s.get_ad(types=False))
        s.end_of_message()
    used = {st[f"Name{i}"]: st[f"ResourcesUsed{i}"] for i in range(1, st["NumSubmittors"] + 1)}
    assert used["alice@sub.test"] == len(by_owner["alice@sub.test"])
    assert used["carol@sub.test"] == 1


def test_reschedule_tcp_and_negotiator_ad(pool):
    coll, schedd, neg = pool
    advertise(coll, Command.UPDATE_STARTD_AD, [slot_pair(1), slot_pair(2)])
    advertise(coll, Command.UPDATE_SUBMITTOR_AD, [(submitter("alice@sub.test", schedd, 20), None)])
    host, port = _hp(neg.sinful)
    with tb.start_command(host, port, int(N.RESCHEDULE), SecurityPolicy()) as s:
        s.end_of_message()
    assert wait_for(lambda: len(schedd.matches) == 2), neg.log_text()[-3000:]
    assert wait_for(lambda: cycles(neg) >= 2)
    # a claimed slot is not offered again: the next cycle finds nothing to match
    claimed = [slot_pair(1, State="Claimed", RemoteUser="alice@sub.test"),
               slot_pair(2, State="Claimed", RemoteUser="alice@sub.test")]
    advertise(coll, Command.UPDATE_STARTD_AD, claimed)
    # a reconfig (DC_RECONFIG_FULL) re-reads the knobs and keeps the daemon serving
    with tb.start_command(host, port, int(Command.DC_RECONFIG_FULL), SecurityPolicy()) as s:
        s.end_of_message()
    assert wait_for(lambda: "re-reading configuration" in neg.log_text())
    n = len(schedd.sessions)
    with tb.start_command(host, port, int(N.RESCHEDULE), SecurityPolicy()) as s:
        s.end_of_message()
    assert wait_for(lambda: cycles(neg) >= 3)
    assert len(schedd.matches) == 2 and len(schedd.sessions) == n
    # the Negotiator ad in the collector carries the last cycle's statistics
    chost, cport = _hp(f"<{coll.host_port}>")

    def neg_ad():
        q = C.ClassAd({"MyType": "Query", "TargetType": "Negotiator"})
        q["Requirements"] = C.ExprTree("true")
        with tb.start_command(chost, cport, int(Command.QUERY_NEGOTIATOR_ADS), SecurityPolicy()) as s:
            s.put_ad(from_classad(q)).end_of_message()
            ads = []
            while s.get_int():
                ads.append(to_classad(s.get_ad()))
            s.end_of_message()
        return ads
    assert wait_for(lambda: any(a.get("LastNegotiationCycleTotalSlots0") == 2 and
                                a.get("NumNegotiationCycles") == 3 for a in neg_ad()))
    ad = neg_ad()[0]
    assert ad["NegotiatorIpAddr"] == neg.sinful and ad["LastNegotiationCycleMatches0"] == 0


def query_collector(coll, command, target):
    chost, cport = _hp(f"<{coll.host_port}>")
    q = C.ClassAd({"MyType": "Query", "TargetType": target})
    q["Requirements"] = C.ExprTree("true")
    with tb.start_command(chost, cport, int(command), SecurityPolicy()) as s:
        s.put_ad(from_classad(q)).end_of_message()
        ads = []
        while s.get_int():
            ads.append(to_classad(s.get_ad()))
        s.end_of_message()
    return ads


def test_pool_change_starts_a_cycle_and_usage_is_accounted(tmp_path):
    """No RESCHEDULE: a new slot plus idle jobs in the collector start a cycle by themselves;
    claimed slots are then charged to their RemoteUser and published as Accounting ads."""
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    schedd = FakeSchedd({"dave@sub.test": [(5, 51, 3, "true")]})
    neg = start_negotiator(tmp_path, coll, _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0.3)
    try:
        advertise(coll, Command.UPDATE_SUBMITTOR_AD, [(submitter("dave@sub.test", schedd, 3), None)])
        advertise(coll, Command.UPDATE_STARTD_AD, [slot_pair(1)])
        assert wait_for(lambda: len(schedd.matches) == 1), neg.log_text()[-3000:]
        assert "Pool changed" in neg.log_text()
        # the startd claims it for dave; the next change (a new slot) is seen too
        advertise(coll, Command.UPDATE_STARTD_AD, [slot_pair(1, State="Claimed", RemoteUser="dave@sub.test"),
                                                   slot_pair(2)])
        assert wait_for(lambda: len(schedd.matches) == 2), neg.log_text()[-3000:]
        assert schedd.matches[1]["slot"]["Name"] == "slot2@exec.test"
        assert wait_for(lambda: any(a.get("Name") == "dave@sub.test" and a.get("ResourcesUsed", 0) >= 1
                                    for a in query_collector(coll, Command.QUERY_ACCOUNTING_ADS, "Accounting")))
        acct = [a for a in query_collector(coll, Command.QUERY_ACCOUNTING_ADS, "Accounting")
                if a.get("Name") == "dave@sub.test"][0]
        assert acct["PriorityFactor"] == 1000 and acct["NegotiatorName"]
        assert acct["Priority"] >= 500
        # GET_RESLIST (condor_userprio -getreslist): the claimed slot, as Name@StartdIpAddr
        host, port = _hp(neg.sinful)
        with tb.start_command(host, port, int(N.GET_RESLIST), SecurityPolicy()) as s:
            s.put_string("dave@sub.test").end_of_message()
            res = to_classad(s.get_ad(types=False))
            s.end_of_message()
        assert res["Name1"] == f"slot1@exec.test@{STARTD}" and "Name2" not in res
        # condor_userprio -collector reads the Accounting ads the negotiator published
        import subprocess
        env = daemon_env(tmp_path, "TOOL", _CONDOR_COLLECTOR_HOST=coll.host_port)
        r = subprocess.run([sys.executable, "-m", "pyhtc.tools.userprio", "-collector", "-allusers"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        row = [ln for ln in r.stdout.splitlines() if ln.startswith("dave@sub.test")][0].split()
        assert row[2] == "1000.00" and int(row[3]) >= 1  # factor, weighted in use
    finally:
        neg.stop()
        schedd.stop()
        coll.stop()


def test_graceful_shutdown_invalidates_the_negotiator_ad(pool):
    import signal
    coll, schedd, neg = pool
    assert wait_for(lambda: len(query_collector(coll, Command.QUERY_NEGOTIATOR_ADS, "Negotiator")) == 1)
    neg.proc.send_signal(signal.SIGTERM)
    assert neg.proc.wait(10) == 0
    assert query_collector(coll, Command.QUERY_NEGOTIATOR_ADS, "Negotiator") == []


def test_a_broken_schedd_does_not_stop_the_cycle(tmp_path):
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    schedd = FakeSchedd({"evil@sub.test": [(7, 71, 2, "true")], "good@sub.test": [(8, 81, 2, "true")]})
    neg = start_negotiator(tmp_path, coll, _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0,
                           _CONDOR_NEGOTIATOR_SLOT_CONSTRAINT='Name =!= "slot3@exec.test"')
    try:
        advertise(coll, Command.UPDATE_STARTD_AD, [slot_pair(1), slot_pair(2), slot_pair(3)])
        # evil has the better priority (it is served first)
        advertise(coll, Command.UPDATE_SUBMITTOR_AD, [(submitter("evil@sub.test", schedd, 2), None),
                                                     (submitter("good@sub.test", schedd, 2), None)])
        set_factor(neg, "good@sub.test", 5000.0)
        tb.send_udp_command(*_hp(neg.sinful), int(N.RESCHEDULE))
        assert wait_for(lambda: cycles(neg) >= 2), neg.log_text()[-3000:]
        log = neg.log_text()
        assert "Negotiation with evil@sub.test" in log and "12345" in log
        # good gets both slots that NEGOTIATOR_SLOT_CONSTRAINT leaves
        assert sorted(m["slot"]["Name"] for m in schedd.matches) == ["slot1@exec.test", "slot2@exec.test"]
        assert {m["owner"] for m in schedd.matches} == {"good@sub.test"}
    finally:
        neg.stop()
        schedd.stop()
        coll.stop()


def test_a_claim_id_is_not_handed_out_twice(pool):
    """The startd has not reported the claim yet (its ad still says Unclaimed with the same
    claim id): the next cycle must not offer that slot again."""
    coll, schedd, neg = pool
    advertise(coll, Command.UPDATE_STARTD_AD, [slot_pair(1)])
    advertise(coll, Command.UPDATE_SUBMITTOR_AD, [(submitter("alice@sub.test", schedd, 5), None)])
    host, port = _hp(neg.sinful)
    for n in (2, 3):
        with tb.start_command(host, port, int(N.RESCHEDULE), SecurityPolicy()) as s:
            s.end_of_message()
        assert wait_for(lambda: cycles(neg) >= n), neg.log_text()[-3000:]
    assert len(schedd.matches) == 1
    # a new claim id for the slot (the startd released and re-advertised it) is offered
    pub, pvt = slot_pair(1)
    pvt["ClaimId"] = pvt["Capability"] = f"{STARTD}#100#1#[]fresh"
    advertise(coll, Command.UPDATE_STARTD_AD, [(pub, pvt)])
    with tb.start_command(host, port, int(N.RESCHEDULE), SecurityPolicy()) as s:
        s.end_of_message()
    assert wait_for(lambda: len(schedd.matches) == 2), neg.log_text()[-3000:]
    assert schedd.matches[1]["claim"].endswith("fresh")
