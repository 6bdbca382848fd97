"""The accountant: decay math against the formula, factors, usage, durability."""
import math
import sqlite3

import pytest

from pyhtc.daemons.negotiator.accountant import MIN_PRIORITY, Accountant, decay


@pytest.fixture
def acct(tmp_path):
    a = Accountant(str(tmp_path / "spool" / "Accountantnew.db"), half_life=100.0)
    yield a
    a.close()


def test_decay_formula():
    # one half-life halves the distance to the usage
    assert decay(10.0, 0.0, 100, 100) == pytest.approx(5.0)
    assert decay(10.0, 2.0, 100, 100) == pytest.approx(6.0)
    assert decay(10.0, 4.0, 37, 86400) == pytest.approx(10 * 0.5 ** (37 / 86400) + 4 * (1 - 0.5 ** (37 / 86400)))
    assert decay(0.6, 0.0, 10_000, 100) == MIN_PRIORITY  # floor


def test_priority_decays_toward_usage(acct):
    t0 = 1_000_000
    acct.update_priorities(now=t0)  # first update only records the time
    acct.set_usage({"alice@x": (2, 2.0)})
    acct.update_priorities(now=t0 + 100)
    # started at 0.5 with 2 in use for one half-life: 0.5*0.5 + 2*0.5
    assert acct.real_priority("alice@x") == pytest.approx(1.25)
    acct.update_priorities(now=t0 + 300)
    a = 0.5 ** 2
    assert acct.real_priority("alice@x") == pytest.approx(1.25 * a + 2 * (1 - a))
    c = acct.get("alice@x")
    assert c.accumulated_usage == pytest.approx(2 * 300)
    assert c.begin_usage_time == t0 + 100 and c.last_usage_time == t0 + 300
    # usage stops: the priority decays toward 0.5
    acct.set_usage({})
    before = acct.real_priority("alice@x")
    acct.update_priorities(now=t0 + 400)
    assert acct.real_priority("alice@x") == pytest.approx(max(0.5, before * 0.5))
    assert acct.get("alice@x").last_usage_time == t0 + 300


def test_add_match_leaves_the_head_of_the_interval_uncharged(acct):
    t0 = 2_000_000
    acct.update_priorities(now=t0)
    acct.add_match("bob@x", 4.0, now=t0 + 60)  # a 4-cpu match 60 s into a 100 s interval
    acct.update_priorities(now=t0 + 100)
    assert acct.get("bob@x").accumulated_usage == pytest.approx(40)
    assert acct.get("bob@x").weighted_accumulated_usage == pytest.approx(160)
    w = 4 * (1 - 60 / 100)  # 1.6 weighted slots in use on average
    assert acct.real_priority("bob@x") == pytest.approx(0.5 * 0.5 ** 1 + w * (1 - 0.5 ** 1))


def test_factors_and_effective_priority(tmp_path):
    a = Accountant(str(tmp_path / "a.db"), local_domain="here.org")
    assert a.priority_factor("u@here.org") == 1000
    assert a.priority_factor("nice-user.u@here.org") == 1e10
    assert a.priority_factor("v@elsewhere.org") == 1e7
    assert a.effective_priority("u@here.org") == pytest.approx(500)
    assert a.set_priority_factor("u@here.org", 0.2) == 1.0  # floored at 1
    a.set_priority("u@here.org", 3.0)
    assert a.effective_priority("u@here.org") == pytest.approx(3.0)
    a.close()


def test_durable_and_reports(tmp_path):
    path = str(tmp_path / "acct.db")
    a = Accountant(path)
    a.set_priority_factor("carol@x", 2500)
    a.set_accumulated_usage("carol@x", 7200)
    a.close()
    b = Accountant(path)
    assert b.priority_factor("carol@x") == 2500
    st = b.report_state()
    assert st["NumSubmittors"] == 2 and st["Name1"] == "<none>" and st["IsAccountingGroup1"] is True
    assert st["Name2"] == "carol@x" and st["PriorityFactor2"] == 2500
    assert st["Priority2"] == pytest.approx(0.5 * 2500)
    assert st["WeightedAccumulatedUsage2"] == 7200
    b.reset_usage("carol@x", now=5)
    assert b.get("carol@x").accumulated_usage == 0 and b.get("carol@x").begin_usage_time == 5
    b.delete("carol@x")
    assert b.get("carol@x") is None
    b.close()


def test_bad_database_path_names_the_file(tmp_path):
    bad = tmp_path / "dir_as_file"
    bad.mkdir()
    with pytest.raises(sqlite3.Error, match="dir_as_file"):
        Accountant(str(bad))
