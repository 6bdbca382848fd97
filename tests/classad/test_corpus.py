"""The shared differential corpus (generated from HTCondor 25's classad2), run through the
reference adapter with only its import switched to pyhtc.classad."""
import os
import re
import subprocess
import sys

import pytest


def _make_adapter(shared_dir, tmp_path):
    src = (shared_dir / "classad" / "adapters" / "classad2_adapter.py").read_text()
    src = re.sub(r"^import htcondor2.*\n", "", src, flags=re.M)
    src = re.sub(r"^import classad2 as C", "import pyhtc.classad as C", src, flags=re.M)
    assert "pyhtc.classad" in src and "htcondor2" not in src.split('"""', 2)[-1]
    path = tmp_path / "pyhtc_adapter.py"
    path.write_text(src)
    return path


def _run(shared_dir, adapter, *args):
    env = dict(os.environ, TZ="UTC")
    return subprocess.run(
        [sys.executable, str(shared_dir / "classad" / "run_corpus.py"), str(adapter), *args,
         "--show", "40"],
        capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("only", [
    "literal,arith,compare,strict,logical,bitwise,ternary,precedence,attrref,scoping,parse,unicode",
    "fn_",
    "match",
    "rt",
])
def test_corpus_category(shared_dir, tmp_path, only):
    adapter = _make_adapter(shared_dir, tmp_path)
    res = _run(shared_dir, adapter, "--corpus", "public", "--only", only)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    total = [ln for ln in res.stdout.splitlines() if ln.startswith("TOTAL")]
    assert total and total[0].endswith("100.0%"), res.stdout
