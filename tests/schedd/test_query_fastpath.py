"""The schedd's text-based query path (jobads.ConstraintMatcher, JobEncoder) gives the same
answers and the same wire bytes as building each job's full ClassAd and WireAd would
(commands.query_jobs; putClassAd semantics of classad_oldnew.cpp)."""
import pytest

from pyhtc.cedar.codec import Encoder
from pyhtc.cedar.wire_ad import put_ad
from pyhtc.daemons.schedd.jobads import AdCache, ConstraintMatcher, JobEncoder, is_true, parse_expr, wire_ad
from pyhtc.daemons.schedd.queue import JobQueue
from pyhtc.daemons.schedd.queue_db import JobQueueDB


@pytest.fixture
def queue(tmp_path):
    q = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    tx = q.begin()
    for k in range(2):
        c = tx.new_cluster()
        for n, e in [("Cmd", '"/bin/sleep"'), ("JobStatus", "1"), ("ClaimId", '"secret"'),
                     ("Args", '"a"'), ("Owner", '"alice"' if k else '"bob"'), ("ServerTime", "5"),
                     ("RequestMemory", "ifThenElse(MemoryUsage =!= undefined, MemoryUsage, 64)"),
                     ("Big", "RequestMemory > 100")]:
            tx.set_attribute(c, -1, n, e)
        for i in range(6):
            p = tx.new_proc(c)
            tx.set_attribute(c, p, "ProcId", str(p))
            if i % 2:
                tx.set_attribute(c, p, "args", f'"b{i}"')
                tx.set_attribute(c, p, "jobstatus", "5")
            if i == 3:
                tx.set_attribute(c, p, "MemoryUsage", "512")
            if i == 4:
                tx.set_attribute(c, p, "_condor_privSecret", "1")
    tx.commit()
    return q


def _ids(q):
    return [(c, -1) for c in q.clusters()] + list(q.jobs())


@pytest.mark.parametrize("constraint", [
    "true", "false", "JobStatus == 5", 'Owner == "alice" && true', "Big", "RequestMemory > 100",
    "ProcId >= 2 && Args =!= \"a\"", "MY.JobStatus == 1", "TARGET.x == 1 || ProcId == 0",
    "NoSuchAttr =?= undefined", "ClusterId == 1"])
def test_constraint_matcher_agrees_with_full_ads(queue, constraint):
    expr = parse_expr(constraint)
    full = AdCache(queue)
    m = ConstraintMatcher(queue, expr)
    for c, p in _ids(queue):
        assert m.matches(c, p) == is_true(expr, full.get(c, p)), (constraint, c, p)


@pytest.mark.parametrize("projection", [None, ["procid", "Args", "ClaimId", "servertime", "Missing"]])
@pytest.mark.parametrize("server_time", [None, 1234])
@pytest.mark.parametrize("crypto", [False, True])
def test_encoder_bytes_match_put_ad(queue, projection, server_time, crypto):
    enc = JobEncoder(queue, projection, server_time)
    for c, p in _ids(queue):
        ref = Encoder(crypto_mode=crypto)
        put_ad(ref, wire_ad(queue.job_attrs(c, p)), include_private=False,
               server_time=server_time, whitelist=projection)
        assert enc.wire(c, p, crypto) == bytes(ref.data), (c, p)
        if p == 4 and projection is None:
            names = [n.lower() for n, _ in enc.items(c, p)]
            assert "claimid" not in names and "_condor_privsecret" not in names


def test_big_commit_keeps_proc_lists_sorted(tmp_path):
    q = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    tx = q.begin()
    c = tx.new_cluster()
    for _ in range(5000):
        tx.set_attribute(c, tx.new_proc(c), "X", "1")
    tx.commit()
    assert q.procs_of[c] == list(range(5000))
    tx = q.begin()
    for p in range(0, 5000, 2):
        tx.destroy_proc(c, p)
    tx.new_proc(c)
    tx.commit()
    assert q.procs_of[c] == list(range(1, 5000, 2)) + [5000]
    assert q.job_count() == 2501


@pytest.mark.parametrize("projection", [["Big"], ["RequestMemory", "ProcId"], ["Cmd"], ["Nope", "Big"]])
def test_projection_expands_internal_references(queue, projection):
    """putClassAd expands a whitelist (classad_oldnew.cpp): each projected attribute of the ad
    that is not a literal brings the attributes of the ad it references, transitively (here:
    Big -> RequestMemory -> MemoryUsage, the latter only in the procs that set it)."""
    full = AdCache(queue)
    enc = JobEncoder(queue, projection)
    for c, p in list(queue.jobs()):
        ad = full.get(c, p)
        want = set()
        for name in projection:
            if name in ad:
                want.add(name.lower())
                want |= {r.lower() for r in ad.internalRefs(ad.lookup(name))}
        got = {n.lower() for n, _ in enc.items(c, p)}
        assert got == want, (c, p, got, want)
        if p == 3 and "Big" in projection:
            assert "memoryusage" in got


def _reference_projection(attrs: dict, projection) -> set:
    """putClassAd's expanded whitelist, computed on the job's whole ad: each projected
    attribute, and what the non-literal ones reference in the ad, transitively."""
    from pyhtc.daemons.schedd.jobads import refs_of
    low = {k.lower(): v for k, v in attrs.items()}
    out, todo = set(), [p.lower() for p in projection]
    while todo:
        n = todo.pop()
        if n in out:
            continue
        out.add(n)
        if n in low:
            todo.extend(refs_of(low[n]))
    return out


@pytest.mark.parametrize("projection", [
    ["Big", "ProcId"], ["RequestMemory"], ["JobStatus", "ClusterId", "ProcId"],
    ["Args", "_condor_privSecret", "claimid", "Weight"]])
@pytest.mark.parametrize("crypto", [False, True])
def test_encoder_expands_projection_per_proc(queue, projection, crypto):
    # procs that override projected attributes with literals, with other expressions, and
    # with expressions where the cluster has a literal
    tx = queue.begin()
    c = queue.clusters()[0]
    tx.set_attribute(c, -1, "Weight", "3")
    tx.set_attribute(c, 1, "Big", "Args =!= undefined && ProcId > 0")
    tx.set_attribute(c, 2, "Weight", "RequestMemory * 2")
    tx.set_attribute(c, 3, "RequestMemory", "128")
    tx.set_attribute(c, 4, "JobStatus", "ifThenElse(ProcId > 3, 2, 1)")
    tx.commit()
    enc = JobEncoder(queue, projection, 99)
    for cl, p in _ids(queue):
        attrs = queue.job_attrs(cl, p)
        ref = Encoder(crypto_mode=crypto)
        put_ad(ref, wire_ad(attrs), include_private=False, server_time=99,
               whitelist=_reference_projection(attrs, projection))
        assert enc.wire(cl, p, crypto) == bytes(ref.data), (cl, p, projection)
