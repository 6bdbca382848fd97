"""condor_starter's command line (parsed by hand, without argparse) and its fork-server
warm-up."""
import os
import subprocess
import sys

import pytest

from pyhtc.daemons.starter import main as starter


def test_flags_values_and_defaults():
    ns = starter.parse_args(["-f", "-a", "slot1_2", "-job-ad", "/x/j", "-machine-ad", "/x/m",
                             "-execute", "/ex"])
    assert (ns.f, ns.t, ns.slot, ns.job_ad, ns.machine_ad, ns.execute) == \
        (True, False, "slot1_2", "/x/j", "/x/m", "/ex")
    ns = starter.parse_args(["-t", "-job-ad=/a", "-machine-ad", "/b"])
    assert (ns.f, ns.t, ns.slot, ns.job_ad, ns.machine_ad, ns.execute) == \
        (False, True, "slot1", "/a", "/b", None)


@pytest.mark.parametrize("argv, message", [
    (["-f"], "the following arguments are required: -job-ad, -machine-ad"),
    (["-job-ad", "/a"], "required: -machine-ad"),
    (["-job-ad", "/a", "-machine-ad"], "argument -machine-ad: expected one argument"),
    (["-job-ad", "/a", "-machine-ad", "/b", "-bogus"], "unrecognized arguments: -bogus"),
])
def test_bad_command_lines_exit_2_with_usage(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        starter.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: condor_starter") and message in err


def test_fork_server_warmup_loads_config_and_remembers_cgroups(tmp_path):
    cfg = tmp_path / "condor_config"
    cfg.write_text("STARTER_DEBUG = D_FULLDEBUG\n")
    code = ("import sys\n"
            "from pyhtc.daemons.starter import main as m\n"
            "from pyhtc.procd import cgroups\n"
            "from pyhtc.config import config as c\n"
            "m.fork_server_warmup()\n"
            "assert cgroups._remembered is not None and 'mode' in cgroups._remembered\n"
            "assert c._LOAD_MEMO._memos, 'nothing memoized'\n"
            "print('ok')\n")
    env = dict(os.environ, CONDOR_CONFIG=str(cfg))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
