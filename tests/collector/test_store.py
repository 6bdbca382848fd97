"""The collector's ad tables: keys, replacement, private ads, invalidation, expiry, queries."""
import pyhtc.classad as C
from pyhtc.daemons.collector.store import CollectorStore, make_key, table_for_mytype


def slot(name, cpus, addr="<127.0.0.1:9618>", **extra):
    ad = C.ClassAd({"MyType": "Machine", "Name": name, "Cpus": cpus, "MyAddress": addr,
                    "Memory": 1024 * cpus})
    for k, v in extra.items():
        ad[k] = v
    return ad


def query_ad(constraint=None, projection=None, limit=None, target="Machine"):
    q = C.ClassAd({"MyType": "Query", "TargetType": target})
    if constraint is not None:
        q["Requirements"] = C.ExprTree(constraint)
    if projection is not None:
        q["Projection"] = projection
    if limit is not None:
        q["LimitResults"] = limit
    return q


class Clock:
    def __init__(self):
        self.now = 1_700_000_000

    def __call__(self):
        return self.now


def test_keys_follow_hashkey_rules():
    assert make_key("Startd", slot("slot1@h", 1)) == ("slot1@h", "<127.0.0.1:9618>")
    assert make_key("Startd", C.ClassAd({"Machine": "h", "SlotID": 3})) == ("h:3", "")
    assert make_key("Master", C.ClassAd({"Machine": "h"})) == ("h",)
    assert make_key("Generic", C.ClassAd({"MyType": "Foo", "Name": "x"})) == ("foo", "x")
    assert make_key("Startd", C.ClassAd({"Cpus": 1})) is None
    assert table_for_mytype("Scheduler") == "Schedd" and table_for_mytype("Whatever") == "Generic"


def test_update_replaces_and_stamps_last_heard_from():
    clock = Clock()
    s = CollectorStore(clock=clock)
    s.update("Startd", slot("slot1@h", 1), identity="condor@h", method="FS")
    s.update("Startd", slot("slot1@h", 4))
    assert s.count("Startd") == 1
    (ad,) = s.query(["Startd"], query_ad())
    assert ad["Cpus"] == 4 and ad["LastHeardFrom"] == clock.now
    assert "AuthenticatedIdentity" not in ad  # second update was not authenticated


def test_query_constraint_projection_limit():
    s = CollectorStore()
    for i in range(10):
        s.update("Startd", slot(f"slot{i}@h", i))
    got = s.query(["Startd"], query_ad("Cpus > 6", "Name Cpus"))
    assert sorted(a["Name"] for a in got) == ["slot7@h", "slot8@h", "slot9@h"]
    assert set(got[0].keys()) == {"Name", "Cpus", "MyType"}
    assert len(s.query(["Startd"], query_ad("true", limit=4))) == 4
    # undefined or non-boolean Requirements select nothing
    assert s.query(["Startd"], query_ad("NoSuchAttr > 1")) == []


def test_private_ads_only_for_private_query():
    s = CollectorStore()
    s.update("Startd", slot("slot1@h", 1), private=C.ClassAd({"Name": "slot1@h", "Capability": "secret"}))
    assert "Capability" not in s.query(["Startd"], query_ad())[0]
    (pvt,) = s.query(["Startd"], query_ad(), private=True)
    assert pvt["Capability"] == "secret"


def test_invalidate_by_constraint_and_by_key():
    s = CollectorStore()
    for i in range(5):
        s.update("Startd", slot(f"slot{i}@h", i))
    assert s.invalidate("Startd", query_ad("Cpus >= 3")) == 2
    assert s.invalidate("Startd", C.ClassAd({"Name": "slot0@h", "MyAddress": "<127.0.0.1:9618>"})) == 1
    assert sorted(a["Name"] for a in s.query(["Startd"], query_ad())) == ["slot1@h", "slot2@h"]


def test_expiry_uses_ad_lifetime_or_default():
    clock = Clock()
    s = CollectorStore(default_lifetime=900, clock=clock)
    s.update("Startd", slot("short@h", 1, ClassAdLifetime=10))
    s.update("Startd", slot("long@h", 1))
    clock.now += 11
    assert s.expire() == [("Startd", ("short@h", "<127.0.0.1:9618>"))]
    clock.now += 900
    assert [k for _, k in s.expire()] == [("long@h", "<127.0.0.1:9618>")]


def test_generic_table_filtered_by_target_type():
    s = CollectorStore()
    s.update("Generic", C.ClassAd({"MyType": "Foo", "Name": "a"}))
    s.update("Generic", C.ClassAd({"MyType": "Bar", "Name": "b"}))
    assert [a["Name"] for a in s.query(["Generic"], query_ad(target="Foo"))] == ["a"]
    assert len(s.query(["Generic"], query_ad(target="Any"))) == 2
