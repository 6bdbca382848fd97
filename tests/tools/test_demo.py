"""The README's main command (today: the matchmaking explanation) and its analysis engine."""
import subprocess
import sys

import pyhtc.classad as C
from pyhtc.tools.analyze import conjuncts, explain


def test_demo_command_on_the_shared_ads(shared_dir):
    ads = shared_dir / "classad" / "ads"
    r = subprocess.run([sys.executable, "-m", "pyhtc.cli", "demo", "--match", "--job", str(ads / "job.old"),
                        "--machine", str(ads / "machine.old")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "(84 attributes)" in r.stdout and "(130 attributes)" in r.stdout
    assert "symmetric match: yes" in r.stdout
    assert "[from START]" in r.stdout
    assert " NO " not in r.stdout


def test_failing_clause_is_named(shared_dir, tmp_path):
    ads = shared_dir / "classad" / "ads"
    small = tmp_path / "small.old"
    text = (ads / "machine.old").read_text()
    small.write_text("\n".join("Memory = 512" if line.startswith("Memory =") else line
                               for line in text.splitlines()) + "\n")
    r = subprocess.run([sys.executable, "-m", "pyhtc.cli", "demo", "--match", "--job", str(ads / "job.old"),
                        "--machine", str(small)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    bad = [line for line in r.stdout.splitlines() if " NO " in line]
    assert any("TARGET.Memory >= RequestMemory" in line for line in bad)
    assert any("TARGET.RequestMemory <= Memory" in line for line in bad)
    assert "symmetric match: no" in r.stdout


def test_conjuncts_open_parentheses_but_not_disjunctions():
    parts = conjuncts(C.ExprTree("((a && b)) && (c || d) && e"))
    assert [repr(p) for p in parts] == ["a", "b", "(c || d)", "e"]


def test_explain_values_match_evaluation():
    job = C.ClassAd({"RequestMemory": 100, "Requirements": C.ExprTree("TARGET.Memory >= RequestMemory && TARGET.Arch == \"X86_64\"")})
    m = C.ClassAd({"Memory": 50, "Arch": "X86_64"})
    cl = explain(job, m)
    assert [c.holds for c in cl] == [False, True]
    assert ("TARGET", "Memory", "50") in cl[0].refs
