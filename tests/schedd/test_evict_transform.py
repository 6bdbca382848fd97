"""Retrying a job with a larger resource request after an eviction for exceeding it: the
transforms condor_submit writes (submit_utils.cpp SetBuiltInOnEvictCheck) applied as the
schedd applies them (schedd.cpp TransformOnEvict), end to end from submit text to the
RequestMemory of each retry."""
import pytest

import pyhtc.classad as C
from pyhtc.daemons.schedd.evict_transform import TransformError, apply_transform, evict_transforms
from pyhtc.submit.jobad import SubmitError




def evicted(ad: dict, code=34, subcode=102) -> C.ClassAd:
    out = C.ClassAd()
    for k, v in ad.items():
        out[k] = C.ExprTree(v)
    out["VacateReasonCode"], out["VacateReasonSubCode"] = code, subcode
    return out


def retries(ad: C.ClassAd, n=5) -> list:
    """RequestMemory after each of ``n`` evictions; None once the job would be held."""
    out = []
    for _ in range(n):
        changes, requeue = evict_transforms(ad)
        out.append(ad["RequestMemory"] if requeue else None)
    return out


@pytest.fixture
def build():
    from pyhtc.submit.jobad import JobContext, build_job_ad

    def make(**cmds):
        cmds = {"executable": "/bin/true", **{k: str(v) for k, v in cmds.items()}}
        low = {k.lower(): v for k, v in cmds.items()}
        return build_job_ad(lambda n: low.get(n.lower()), JobContext("/tmp", 1700000000), 1, 0, [], list(cmds))
    return make


def test_retry_sequences_grow_the_request_until_the_last_value(build):
    assert retries(evicted(build(request_memory="1G", retry_request_memory="4G"))) == \
        [4096, None, None, None, None]
    assert retries(evicted(build(request_memory="1G", retry_request_memory="2G, 4 GB"))) == \
        [2048, 4096, None, None, None]
    assert retries(evicted(build(request_memory="1G, 3G"))) == [3072, None, None, None, None]
    assert retries(evicted(build(request_memory="1G", retry_request_memory_increase="RequestMemory * 4",
                                 retry_request_memory_max="16 GB"))) == [4096, 16384, None, None, None]
    assert retries(evicted(build(request_memory="1G", retry_request_memory_increase="512M"))) == \
        [1536, None, None, None, None]
    ad = evicted(build(request_memory="100", retry_request_memory="MAX({RequestMemory, MemoryUsage}) * 2"))
    ad["MemoryUsage"] = 300
    assert retries(ad, 2) == [600, 1200]


def test_only_the_matching_eviction_retries(build):
    ad = build(request_memory="1G", retry_request_memory="4G", request_disk="1G, 2G")
    d = evicted(ad, 34, 104)                                 # out of disk: RequestDisk grows
    assert evict_transforms(d) == ({"RequestDisk": str(2 * 1024 * 1024)}, True)
    assert d["RequestMemory"] == 1024
    assert retries(evicted(ad, 3, 0), 1) == [None]          # a policy hold: no retry
    assert retries(evicted(build(request_memory="1G")), 1) == [None]


def test_submit_errors_name_the_command(build):
    with pytest.raises(SubmitError, match="retry_request_memory must have an increasing sequence"):
        build(request_memory="1G", retry_request_memory="4G, 2G")
    with pytest.raises(SubmitError, match="retry increment must be a positive number or an "
                                          "expression that references RequestMemory"):
        build(request_memory="1G", retry_request_memory_increase="Cpus * 2", retry_request_memory_max="8G")


def test_transform_statements_and_failures():
    ad = C.ClassAd({"A": 1, "B": 2})
    assert apply_transform(ad, "REQUIREMENTS A == 2\x1eSET A 5") is None and ad["A"] == 1
    assert apply_transform(ad, "SET C A + B\x1eEVALSET D A + B\x1eDEFAULT A 9\x1eRENAME B E\x1eCOPY E F") == \
        {"C": "A + B", "D": "3", "B": None, "E": "2", "F": "2"}
    assert str(ad.lookup("C")) == "A + B" and ad["D"] == 3 and "B" not in ad and ad["A"] == 1
    with pytest.raises(TransformError, match="unsupported transform statement"):
        apply_transform(ad, "SET G 1\x1eTRANSFORM bogus")
    assert "G" not in ad                                     # a failed transform leaves no trace
