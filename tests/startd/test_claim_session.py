"""Claim-id security sessions (match password): the claim id the startd makes carries a
session id and key, the startd registers that session, and the holder of the claim id resumes
it instead of authenticating (condor_claimid_parser.h, claim.cpp, condor_secman.cpp
CreateNonNegotiatedSecuritySession).  Real startd and collector processes on loopback."""
import os
import re
import shutil
import tempfile
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from startd_helpers import Pool

from pyhtc import classad as C
from pyhtc.cedar import claims as P
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.security.match import (EXECUTE_SIDE_MATCHSESSION_FQU, ClaimId, claim_session,
                                        export_session_info, import_session_info, new_claim_id,
                                        session_key_bytes)
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.security.sessions import Session, SessionCache
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.client import start_command

# a claim id as an HTCondor 25 startd writes it (ExportSecSessionInfo + randomHexKey)
REAL = ("<10.0.0.5:9618?addrs=10.0.0.5-9618&alias=ep.example.org&noUDP&sock=startd_1_2>"
        "#1763800000#17#[CryptoMethods=\"AES\";Encryption=\"NO\";Integrity=\"YES\";"
        "ShortVersion=\"25.0.1\";]" + "ab" * 32)


def test_claim_id_parts_follow_claimid_parser():
    c = ClaimId(REAL)
    assert c.session_id == c.public_part == REAL[:REAL.index("#[")]
    assert c.startd_sinful.startswith("<10.0.0.5:9618?") and c.startd_sinful.endswith("startd_1_2>")
    assert c.session_info.startswith("[CryptoMethods=") and c.session_info.endswith("]")
    assert c.session_key == "ab" * 32 and c.has_session
    assert c.public_claim_id == c.public_part + "#..."
    assert import_session_info(c.session_info) == {
        "CryptoMethods": "AES", "Encryption": "NO", "Integrity": "YES", "ShortVersion": "25.0.1"}
    # an old-style claim id (no session info): the key is the whole private part
    old = ClaimId("<127.0.0.1:5>#100#3#deadbeef")
    assert old.session_key == "deadbeef" and old.session_info == "" and not old.has_session


def test_new_claim_id_round_trip_and_key_derivation():
    c = new_claim_id("<127.0.0.1:4000>", 1700000000, 9, version="25.14.1", duration=60)
    assert re.fullmatch(r"<127\.0\.0\.1:4000>#1700000000#9#\[.*\][0-9a-f]{64}", c.text)
    info = import_session_info(c.session_info)
    assert info["CryptoMethods"] == "AES" and info["ShortVersion"] == "25.14.1"
    assert info["SessionExpires"] > 1700000000
    s = claim_session(c, EXECUTE_SIDE_MATCHSESSION_FQU)
    expect = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"htcondor",
                  info=b"keygen").derive(c.session_key.encode())
    assert s.key == expect == session_key_bytes(c.session_key)
    assert s.sid == "<127.0.0.1:4000>#1700000000#9" and s.method == "MATCH" and s.non_negotiated
    assert new_claim_id("<h:1>", 1, 1, with_session=False).session_info == ""
    with pytest.raises(ValueError, match="carries no security session"):
        claim_session(ClaimId("<h:1>#1#1#abcd"), EXECUTE_SIDE_MATCHSESSION_FQU)


def test_bad_session_info_names_the_offset():
    with pytest.raises(ValueError, match="offset 0"):
        import_session_info("Encryption=\"NO\"")
    with pytest.raises(ValueError, match=r"offset 17: value of Integrity"):
        import_session_info("[Encryption=\"NO\";Integrity=YES+1;]")
    with pytest.raises(ValueError, match="may not contain"):
        export_session_info({"X": "a;b"})


def test_claim_sessions_are_never_evicted_by_the_size_bound():
    cache = SessionCache(max_sessions=2)
    pinned = claim_session(new_claim_id("<h:1>", 1, 1), EXECUTE_SIDE_MATCHSESSION_FQU)
    cache.add(pinned)
    for i in range(5):
        cache.add(Session(f"s{i}", None, None, None, [], [], expires=1e18))
    assert cache.get(pinned.sid) is pinned and cache.get("s0") is None and len(cache) == 3
    cache.remove(pinned.sid)
    assert cache.get(pinned.sid) is None


# -- against a real startd ------------------------------------------------------------------

@pytest.fixture
def base_dir():
    """EXECUTE and the jobs' Iwd outside pytest's 0700 tmp (jobs run as nobody under root)."""
    base = tempfile.mkdtemp(prefix="pyhtc-claimsess-", dir="/tmp")
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pool(tmp_path, base_dir):
    p = Pool(tmp_path, NUM_SLOTS=2, EXECUTE=os.path.join(base_dir, "execute"),
             STARTD_DEBUG="D_COMMAND D_SECURITY")
    yield p
    p.stop()


@pytest.fixture
def pool_off(tmp_path, base_dir):
    p = Pool(tmp_path, NUM_SLOTS=2, EXECUTE=os.path.join(base_dir, "execute"),
             SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION="False")
    yield p
    p.stop()


def _claim_ids(pool):
    pool.wait_slots(lambda s: len(s) == 2)
    return {n.split("@")[0]: a["ClaimId"] for n, a in pool.private().items()}


def _job(iwd):
    return C.ClassAd({"Cmd": "/bin/true", "Arguments": "", "Iwd": str(iwd), "JobUniverse": 5,
                      "ShouldTransferFiles": "NO", "ClusterId": 1, "ProcId": 0,
                      "Owner": "alice", "User": "alice@test", "RequestCpus": 1,
                      "RequestMemory": 1, "RequestDisk": 1})


def _request(addr, claim, job, claim_session=True):
    with start_command(addr, P.REQUEST_CLAIM, SecurityPolicy(),
                       claim_id=claim if claim_session else None) as s:
        s.put_string(claim).put_ad(from_classad(job)).put_string("<127.0.0.1:1>")
        s.put_int(300).put_int(0).end_of_message()
        reply = s.get_int()
        s.end_of_message()
    return reply


def _activate(addr, claim, job):
    ad = C.ClassAd(job)
    ad["_condor_send_activation_failure_ad"] = True
    with start_command(addr, P.ACTIVATE_CLAIM, SecurityPolicy(), claim_id=claim) as s:
        s.put_string(claim).put_int(0).put_ad(from_classad(ad)).end_of_message()
        reply = s.get_int()
        extra = to_classad(s.get_ad()) if reply != P.OK else None
        s.end_of_message()
    return reply, extra


def _handled(pool, command_name):
    """Who each handled ``command_name`` was run for (the startd's D_COMMAND lines)."""
    return re.findall(rf"Calling HandleReq <{command_name}> \(\d+\) for (\S+)", pool.startd.log_text())


def test_claim_and_activation_resume_the_claim_session(pool, base_dir):
    ids = _claim_ids(pool)
    claim = ids["slot1"]
    assert ClaimId(claim).has_session, claim.split("#")[:3]
    addr = pool.startd.sinful
    job = _job(base_dir)
    assert _request(addr, claim, job) == P.OK
    before = pool.results()
    reply, extra = _activate(addr, claim, job)
    assert reply == P.OK, extra
    assert pool.wait_result(before)["ExitCode"] == 0
    # both commands ran for the match identity: no authentication took place
    assert _handled(pool, "REQUEST_CLAIM") == ["submit-side@matchsession"]
    assert _handled(pool, "ACTIVATE_CLAIM") == ["submit-side@matchsession"]
    assert "claim session" in pool.startd.log_text()
    # without the claim id a command negotiates and authenticates (FS) as usual
    assert _request(addr, ids["slot2"], job, claim_session=False) == P.OK
    assert _handled(pool, "REQUEST_CLAIM")[1] != "submit-side@matchsession"
    # RELEASE_CLAIM through the session; the released claim's session is forgotten, so
    # the old id no longer resumes (the client falls back to negotiation, then is refused)
    with start_command(addr, P.RELEASE_CLAIM, SecurityPolicy(), claim_id=claim) as s:
        s.put_string(claim).end_of_message()
    # the slot is advertised again with a fresh claim id (and so a new session)
    deadline = time.time() + 15
    while _claim_ids(pool)["slot1"] == claim:
        assert time.time() < deadline, pool.logs()
        time.sleep(0.1)
    assert ClaimId(_claim_ids(pool)["slot1"]).session_id != ClaimId(claim).session_id
    assert _handled(pool, "RELEASE_CLAIM") == ["submit-side@matchsession"]
    assert _request(addr, claim, job) == P.NOT_OK
    assert _handled(pool, "REQUEST_CLAIM")[2] != "submit-side@matchsession"


def test_forged_claim_ids_are_refused(pool, base_dir):
    claim = ClaimId(_claim_ids(pool)["slot1"])
    addr = pool.startd.sinful
    job = _job(base_dir)
    # right session id, wrong key: the startd cannot decrypt what we send and drops us
    forged = claim.public_part + "#" + claim.session_info + "cd" * 32
    with pytest.raises((CedarError, OSError)):
        _request(addr, forged, job)
    # an unknown session id: resumption is refused (SID_NOT_FOUND), the client negotiates
    # instead, and the startd knows no such claim
    unknown = claim.public_part.rsplit("#", 1)[0] + "#999#" + claim.session_info + claim.session_key
    assert _request(addr, unknown, job) == P.NOT_OK
    assert "can't find resource with that ClaimId" in pool.startd.log_text()
    # the real claim still works afterwards (so the forged key claimed nothing)
    assert _request(addr, claim.text, job) == P.OK


def test_match_identity_only_from_a_claim_session():
    """A peer that authenticated (FS, TOKEN ...) under the match identity's name is refused
    before any handler runs; only a MATCH session carries that identity."""
    from pyhtc.daemons.startd.daemon import Startd
    startd = Startd(argv=[], environ={"CONDOR_CONFIG": "ONLY_ENV"})
    assert startd._authorize("submit-side@matchsession", "FS", P.REQUEST_CLAIM, "127.0.0.1") is False
    assert startd._authorize("submit-side@matchsession", "TOKEN", P.ACTIVATE_CLAIM, "127.0.0.1") is False


def test_knob_off_means_plain_claim_ids_and_negotiated_sessions(pool_off, base_dir):
    pool = pool_off
    ids = _claim_ids(pool)
    assert all("[" not in c for c in ids.values())
    addr = pool.startd.sinful
    assert _request(addr, ids["slot1"], _job(base_dir)) == P.OK
    assert _handled(pool, "REQUEST_CLAIM") and "submit-side@matchsession" not in _handled(pool, "REQUEST_CLAIM")



def test_real_shadow_activates_through_the_claim_session(pool, base_dir):
    """condor_shadow (a real process) runs a job on a claimed slot: its ACTIVATE_CLAIM
    resumes the claim's session (no authentication), and the job's exit reaches its report."""
    import subprocess
    import sys
    from pyhtc.daemoncore import exitcodes as X
    from pyhtc.daemoncore.adfile import read_ad, write_ad
    claim = _claim_ids(pool)["slot1"]
    addr = pool.startd.sinful
    job = _job(base_dir)
    assert _request(addr, claim, job) == P.OK
    job["UserLog"] = os.path.join(base_dir, "job.log")
    paths = {n: os.path.join(base_dir, n) for n in ("job.ad", "claim", "report")}
    write_ad(paths["job.ad"], job)
    with open(paths["claim"], "w") as f:
        f.write(claim)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CONDOR_CONFIG": "ONLY_ENV",
           "_CONDOR_LOG": base_dir}
    out = subprocess.run([sys.executable, "-m", "pyhtc.daemons.shadow.main", "1.0",
                          "-job-ad", paths["job.ad"], "-claim-file", paths["claim"],
                          "-startd", addr, "-report", paths["report"], "-slot", "slot1"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == X.JOB_EXITED, out.stderr + open(os.path.join(base_dir, "ShadowLog")).read()
    report = read_ad(paths["report"])
    assert report["ExitCode"] == 0 and report["ClaimReusable"] is True
    assert not os.path.exists(paths["claim"]), "the shadow consumes the claim file"
    assert _handled(pool, "ACTIVATE_CLAIM") == ["submit-side@matchsession"]
    assert "005 (001.000.000)" in open(job["UserLog"]).read()
