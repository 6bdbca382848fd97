"""condor_config_val run as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CONFIG = """\
A = 1
B = $(A) two
SCHEDD.B = schedd $(A)
ROUTE @=end
  [ x = 1; ]
  [ y = 2; ]
@end
use ROLE : Personal
warning : just so you know
"""


@pytest.fixture
def pool(tmp_path):
    root = tmp_path / "condor_config"
    local = tmp_path / "local.conf"
    local.write_text("LOCAL_ONLY = yes\n")
    root.write_text(CONFIG + f"LOCAL_CONFIG_FILE = {local}\n")
    return root, local


def run(root, *args, **env_extra):
    env = {"CONDOR_CONFIG": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": os.environ.get("HOME", "/")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.config_val", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_values_and_not_defined(pool):
    root, _ = pool
    proc = run(root, "B", "a", "DAEMON_LIST")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1 two\n1\nMASTER COLLECTOR NEGOTIATOR STARTD SCHEDD\n"
    assert 'Warning "' in proc.stderr and "just so you know" in proc.stderr
    proc = run(root, "A", "NO_SUCH_KNOB")
    assert proc.returncode == 1
    assert proc.stdout == "1\n"
    assert "Not defined: NO_SUCH_KNOB" in proc.stderr


def test_verbose_shows_location_and_raw(pool):
    root, local = pool
    proc = run(root, "-verbose", "B", "LOCAL_ONLY", "DAEMON_LIST", "COLLECTOR_HOST", "LOG", "ENVK",
               _CONDOR_ENVK="from env")
    assert proc.returncode == 0, proc.stderr
    blocks = proc.stdout.split("\n\n")
    assert blocks[0] == f"B = 1 two\n # at: {root}, line 2\n # raw: B = $(A) two"
    assert blocks[1] == f"LOCAL_ONLY = yes\n # at: {local}, line 1\n # raw: LOCAL_ONLY = yes"
    assert blocks[2].startswith(f"DAEMON_LIST = MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD\n # at: {root}, line 8, use ROLE:Personal+2")
    assert blocks[3] == f"COLLECTOR_HOST = 127.0.0.1:0\n # at: {root}, line 8, use ROLE:Personal+1\n # raw: COLLECTOR_HOST = $(CONDOR_HOST):0"
    assert blocks[4].startswith("LOG = /log\n # at: <Default>\n # raw: LOG = $(LOCAL_DIR)/log")
    assert blocks[5].startswith("ENVK = from env\n # at: <Environment>")


def test_verbose_multiline(pool):
    root, _ = pool
    proc = run(root, "-v", "ROUTE")
    assert proc.stdout.startswith("ROUTE @=end\n   [ x = 1; ]\n   [ y = 2; ]\n@end\n # at: ")


def test_subsystem_and_local_name(pool, tmp_path):
    root, _ = pool
    assert run(root, "-subsystem", "schedd", "B").stdout == "schedd 1\n"
    root.write_text(root.read_text() + "XYZZY.B = local $(A)\n")
    assert run(root, "-subsystem", "schedd", "-local-name", "xyzzy", "B").stdout == "local 1\n"


def test_raw_default_and_macro(pool):
    root, _ = pool
    assert run(root, "-raw", "B").stdout == "$(A) two\n"
    assert run(root, "-default", "LOG", "DAEMON_LIST").stdout == "$(LOCAL_DIR)/log\nMASTER\n"
    assert run(root, "-macro", "x$(A)y $Fn(B)").stdout == "x1y 1 two\n"


def test_dump(pool):
    root, _ = pool
    proc = run(root, "-dump", "^B$|^LOCAL_ONLY")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# Configuration from machine: ")
    assert "# Parameters with names that match ^B$|^LOCAL_ONLY:" in lines
    assert "B = $(A) two" in lines and "LOCAL_ONLY = yes" in lines
    assert lines[-2:] == ["#\t" + str(root), "#\t" + str(pool[1])]
    proc = run(root, "-dump", "-expand", "^B$")
    assert "B = 1 two" in proc.stdout.splitlines()
    proc = run(root, "-dump", "-v", "^ROUTE$")
    assert "ROUTE @=end\n   [ x = 1; ]\n   [ y = 2; ]\n@end\n # at: " in proc.stdout


def test_config_lists_sources(pool):
    root, local = pool
    proc = run(root, "-config")
    assert proc.stdout == f"\t{root}\n\t{local}\n"
    assert "Configuration source:" in proc.stderr and "Local configuration source:" in proc.stderr


def test_json(pool):
    root, _ = pool
    proc = run(root, "-json", "A", "B", "NOPE")
    assert json.loads(proc.stdout) == {"A": "1", "B": "1 two", "NOPE": None}
    assert proc.returncode == 1
    data = json.loads(run(root, "-json", "-v", "B").stdout)
    assert data["B"] == {"name": "B", "value": "1 two", "raw": "$(A) two", "at": f"{root}, line 2"}
    dumped = json.loads(run(root, "-json", "-dump", "^A$|^LOCAL_ONLY$").stdout)
    assert dumped == {"A": "1", "LOCAL_ONLY": "yes"}


def test_use_listing(pool):
    root, _ = pool
    proc = run(root, "use", "role")
    assert proc.stdout.startswith("use ROLE accepts\n")
    assert "  Personal\n" in proc.stdout
    proc = run(root, "use", "role:personal")
    assert proc.stdout.splitlines()[:3] == ["use ROLE:Personal is", "    CONDOR_HOST=127.0.0.1",
                                            "    COLLECTOR_HOST=$(CONDOR_HOST):0"]
    proc = run(root, "use", "role:nope")
    assert proc.returncode == 1 and "Not defined: use ROLE:nope" in proc.stderr


def test_only_env_and_errors(tmp_path):
    proc = run("ONLY_ENV", "COLLECTOR_HOST", _CONDOR_COLLECTOR_HOST="cm.example:9618")
    assert proc.stdout == "cm.example:9618\n" and proc.returncode == 0
    bad = tmp_path / "bad.conf"
    bad.write_text("A = 1\nif true\nB = 2\n")
    proc = run(bad, "A")
    assert proc.returncode == 1
    assert f"{bad}, line 3: endif(s) not found before end-of-file" in proc.stderr
    proc = run(tmp_path / "missing.conf", "A")
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    proc = run("ONLY_ENV", "-bogus")
    assert proc.returncode == 2 and "unknown option" in proc.stderr


def test_console_script_installed(pool):
    root, _ = pool
    script = os.path.join(os.path.dirname(sys.executable), "condor_config_val")
    if not os.path.exists(script):
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run([script, "A"], env={"CONDOR_CONFIG": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout == "1\n"


def test_summary(pool):
    root, local = pool
    proc = run(root, "-summary", _CONDOR_FROM_ENV="e")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("# condor_config_val $CondorVersion: ")
    assert f"\n#\n# from {root}\n#\nA = 1\nB = $(A) two\n" in text
    assert f"\n#\n# from {local}\n#\nLOCAL_ONLY = yes\n" in text
    assert text.endswith("\n#\n# from <Environment>\n#\nFROM_ENV = e\n")
    assert "<Detected>" not in text and "ARCH =" not in text
    assert "# from <Detected>" in run(root, "-summary:detected").stdout


def test_check_reports_likely_misspellings(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("NEGOTIATOR_INTERVALL = 20\nA = 1\n")
    proc = run(root, "-check")
    assert proc.returncode == 1
    assert proc.stdout == (f"NEGOTIATOR_INTERVALL: not a knob HTCondor knows; did you mean NEGOTIATOR_INTERVAL? "
                           f"(at {root}, line 1)\n")
    root.write_text("NEGOTIATOR_INTERVAL = 20\n")
    proc = run(root, "-check")
    assert proc.returncode == 0 and proc.stdout == ""
