"""Ask the real HTCondor configuration reader (the htcondor2 wheel) for values, in a subprocess.

htcondor2 reads CONDOR_CONFIG when it is imported, so every question runs in a fresh interpreter
with the environment given.  Tests skip when the wheel is not installed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_SCRIPT = r"""
import json, sys
import htcondor2
if sys.argv[2]:
    htcondor2.set_subsystem(sys.argv[2])
    htcondor2.reload_config()
out = {}
for name in json.loads(sys.argv[1]):
    try:
        value = htcondor2.param.get(name)
    except Exception as exc:
        value = "EXCEPTION " + str(exc)
    out[name] = value if value is None or isinstance(value, (str, bool, int, float)) else str(value)
print("ORACLE" + json.dumps(out))
"""


def have_oracle() -> bool:
    try:
        import htcondor2  # noqa: F401
    except Exception:
        return False
    return True


def oracle_params(names, env: dict, subsystem: str = "") -> dict:
    """``{name: value}`` from htcondor2.param under ``env``; values typed as htcondor2 returns them."""
    if not have_oracle():
        pytest.skip("htcondor2 (the real HTCondor wheel) is not installed")
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(list(names)), subsystem],
                          env=full_env, capture_output=True, text=True, timeout=60)
    for line in proc.stdout.splitlines():
        if line.startswith("ORACLE"):
            return json.loads(line[6:])
    raise AssertionError(f"oracle failed: {proc.stderr.strip()[-2000:]}")


_BATCH_SCRIPT = r"""
import json, os, sys
jobs = json.load(sys.stdin)
import htcondor2
results = []
for path, names in jobs:
    os.environ["CONDOR_CONFIG"] = path
    htcondor2.reload_config()
    out = {}
    for name in names:
        value = htcondor2.param.get(name)
        out[name] = value if value is None or isinstance(value, (str, bool, int, float)) else str(value)
    results.append(out)
print("ORACLE" + json.dumps(results))
"""


def oracle_batch(jobs: list[tuple[str, list[str]]]) -> list[dict]:
    """Many configurations in one interpreter: ``[(config path, names)] -> [{name: value}]``.

    Every configuration must load (the real reader exits on a configuration error)."""
    if not have_oracle():
        pytest.skip("htcondor2 (the real HTCondor wheel) is not installed")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
           "CONDOR_CONFIG": jobs[0][0] if jobs else "ONLY_ENV"}
    proc = subprocess.run([sys.executable, "-c", _BATCH_SCRIPT], input=json.dumps(jobs), env=env,
                          capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("ORACLE"):
            return json.loads(line[6:])
    raise AssertionError(f"oracle failed: {proc.stderr.strip()[-2000:]}")


def oracle_rejects(env: dict) -> str | None:
    """The real reader's error text if it refuses the configuration under ``env``, else None."""
    if not have_oracle():
        pytest.skip("htcondor2 (the real HTCondor wheel) is not installed")
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, "[]", ""], env=full_env,
                          capture_output=True, text=True, timeout=60)
    if "ORACLE" in proc.stdout:
        return None
    return proc.stderr.strip() or f"exit status {proc.returncode}"


def same_value(ours, theirs) -> bool:
    """Compare our string with htcondor2's (which types int/bool/double knobs)."""
    if theirs is None or ours is None:
        return ours == theirs
    if isinstance(theirs, bool):
        return str(ours).strip().lower() in (("true", "1") if theirs else ("false", "0"))
    if isinstance(theirs, (int, float)):
        from pyhtc.config.exprs import evaluate
        try:
            return float(evaluate(ours)) == float(theirs)
        except Exception:
            return False
    return ours == theirs
