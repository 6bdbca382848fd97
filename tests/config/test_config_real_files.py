"""Real configuration files (../shared/real/config, see SOURCES.md there): load each one, check
chosen values and file:line provenance, and compare every value with the real HTCondor reader."""
from __future__ import annotations

import os
import pathlib

import pytest

from pyhtc.config import Config, ConfigError, default_type

from .oracle import have_oracle, oracle_params, oracle_rejects, same_value

# knobs compared for every file in addition to the ones the file sets
COMMON = ["DAEMON_LIST", "COLLECTOR_HOST", "CONDOR_HOST", "LOG", "SPOOL", "EXECUTE", "LOCK", "RUN",
          "RELEASE_DIR", "BIN", "SBIN", "LIBEXEC", "START", "SUSPEND", "PREEMPT", "KILL", "UPDATE_INTERVAL",
          "NEGOTIATOR_INTERVAL", "SEC_DEFAULT_AUTHENTICATION", "ALLOW_WRITE", "ALLOW_READ",
          "ALLOW_ADMINISTRATOR", "MAX_JOBS_RUNNING", "SCHEDD_LOG", "MAX_DEFAULT_LOG", "NUM_CPUS",
          "JOB_DEFAULT_REQUESTMEMORY", "CLAIM_WORKLIFE", "USE_SHARED_PORT", "SEC_DEFAULT_ENCRYPTION",
          "ARCH", "OPSYS", "OPSYSANDVER", "OPSYSMAJORVER", "DETECTED_MEMORY", "DETECTED_CPUS", "HOSTNAME",
          "FULL_HOSTNAME", "SUBSYSTEM", "LOCALNAME", "USER_CONFIG_FILE", "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP"]

# HTCondor computes these at run time from what it was built with (pyhtc keeps the table value)
RUNTIME_COMPUTED = {"SEC_DEFAULT_AUTHENTICATION_METHODS", "SEC_CLIENT_AUTHENTICATION_METHODS",
                    "SEC_READ_AUTHENTICATION_METHODS"}

# files the real reader rejects too (with the reason our error must name)
REJECTED = {
    "htcondor-ce__config_condor-ce.conf": "line 1",                       # a tmpfiles.d file
    "htcondor__condor_examples_condor_config.generic": "condor_config.local",
    "htcondor__condor_examples_condor_config.submit.generic": "condor_config.local",
}


def real_files(shared: str) -> list[str]:
    folder = os.path.join(shared, "real", "config")
    return sorted(name for name in os.listdir(folder) if name != "SOURCES.md")


@pytest.fixture(scope="module")
def config_dir(shared_dir):
    return shared_dir / "real" / "config"


def _env(path) -> dict:
    return {"CONDOR_CONFIG": str(path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/")}


def test_every_real_file_is_known(config_dir):
    names = real_files(str(config_dir.parent.parent))
    assert len(names) >= 19
    assert set(REJECTED) <= set(names)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_files_name_the_problem(config_dir, name):
    with pytest.raises(ConfigError) as err:
        Config.load(environ=_env(config_dir / name))
    assert REJECTED[name] in str(err.value)
    if REJECTED[name].startswith("line"):
        assert err.value.source == str(config_dir / name)
    if have_oracle():
        assert REJECTED[name].replace("line", "Line") in oracle_rejects(_env(config_dir / name))


def _load_any(config_dir, name, tmp_path) -> tuple[Config, dict]:
    """Load a real file; the generic examples get a wrapper that lets their missing local file go."""
    path = config_dir / name
    if name in REJECTED and not REJECTED[name].startswith("line"):
        wrapper = tmp_path / "wrapper.conf"
        wrapper.write_text(f"include : {path}\nREQUIRE_LOCAL_CONFIG_FILE = false\n")
        path = wrapper
    env = _env(path)
    return Config.load(environ=env), env


def _shared_for_collection() -> pathlib.Path:
    # the same rule as tests/conftest.py (SHARED), needed before fixtures exist
    repo = pathlib.Path(__file__).resolve().parent.parent.parent
    return pathlib.Path(os.environ.get("PYHTC_SHARED", repo.parent / "shared")).resolve()


_FOLDER = _shared_for_collection() / "real" / "config"


@pytest.mark.parametrize("name", [n for n in (real_files(str(_FOLDER.parent.parent)) if _FOLDER.is_dir() else [])
                                  if n != "htcondor-ce__config_condor-ce.conf"])   # not a config file
def test_real_file_matches_htcondor(config_dir, name, tmp_path):
    if not have_oracle():
        pytest.skip("htcondor2 not installed")
    cfg, env = _load_any(config_dir, name, tmp_path)
    names = [e.name for e in cfg.entries() if e.source != "<Detected>"] + COMMON
    theirs = oracle_params(names, env)
    mismatches = []
    for knob in names:
        if knob.upper() in RUNTIME_COMPUTED:
            continue
        ours = cfg.param(knob)
        if ours is None and default_type(knob) in ("int", "long", "bool", "double"):
            ours = cfg.param_or_default(knob)      # htcondor2 falls back to the table default there
        if not same_value(ours, theirs[knob]):
            mismatches.append((knob, ours, theirs[knob]))
    assert mismatches == []


def test_defrag_values_and_provenance(config_dir):
    path = config_dir / "hep-puppet__defrag.config"
    cfg = Config.load(environ=_env(path), subsystem="DEFRAG")
    assert cfg.param_integer("DEFRAG_INTERVAL") == 600
    assert cfg.location("DEFRAG_INTERVAL") == f"{path}, line 1"
    assert cfg.location("MAX_NUM_DEFRAG_LOG") == f"{path}, line 28"
    assert cfg.param_bytes("MAX_DEFRAG_LOG") == 104857600
    # subsystem-prefixed knob seen by the DEFRAG subsystem only
    assert "DEFRAG_MAX_WHOLE_MACHINES" in cfg.param("SETTABLE_ATTRS_ADMINISTRATOR")
    assert Config.load(environ=_env(path)).param("SETTABLE_ATTRS_ADMINISTRATOR") is None
    assert cfg.param_boolean("ENABLE_RUNTIME_CONFIG") is True


def test_continued_lines_and_provenance(config_dir):
    path = config_dir / "hep-puppet__resourcelimits.config"
    cfg = Config.load(environ=_env(path))
    value = cfg.param("SYSTEM_PERIODIC_REMOVE")
    assert value.startswith("( RemoteWallClockTime > 80 * 60 * 60 ) ||")
    assert value.endswith("( JobRunCount > 10 )")
    assert cfg.location("SYSTEM_PERIODIC_REMOVE") == f"{path}, line 21"   # last physical line


def test_multiline_route(config_dir):
    path = config_dir / "htcondor-ce__config_02-ce-slurm-defaults.conf"
    cfg = Config.load(environ=_env(path))
    route = cfg.param("JOB_ROUTER_ROUTE_Slurm_Cluster")
    assert route.split("\n") == ["TargetUniverse = 9", 'GridResource = "batch slurm"']
    assert cfg.location("JOB_ROUTER_ROUTE_SLURM_CLUSTER") == f"{path}, line 15"


def test_self_append_to_default(config_dir):
    path = config_dir / "htcondor-ce__puppet_03-ce-shared-port.conf"
    cfg = Config.load(environ=_env(path))
    assert cfg.param("DAEMON_LIST") == "MASTER, SHARED_PORT"
    assert cfg.location("DAEMON_LIST") == f"{path}, line 19"
    assert cfg.param_list("DAEMON_LIST") == ["MASTER", "SHARED_PORT"]


def test_role_and_security_templates(config_dir):
    ap = config_dir / "htcondor__condor_examples_00-access-point"
    cfg = Config.load(environ=_env(ap))
    assert cfg.param_list("DAEMON_LIST") == ["MASTER", "SCHEDD"]
    assert cfg.location("DAEMON_LIST").startswith(f"{ap}, line 1, use ROLE:Submit+")
    sec = config_dir / "htcondor__condor_examples_00-security"
    cfg = Config.load(environ=_env(sec))
    assert cfg.param("SEC_DEFAULT_AUTHENTICATION").upper() == "REQUIRED"
    assert cfg.location("SEC_DEFAULT_AUTHENTICATION").startswith(f"{sec}, line 29, use SECURITY:")


def test_personal_condor_entrypoint(config_dir):
    path = config_dir / "htcondor-ce__tests_containers_entrypoint_10-personal-condor.conf"
    cfg = Config.load(environ=_env(path), subsystem="SCHEDD")
    assert cfg.param("CONDOR_HOST") == cfg.param("FULL_HOSTNAME")
    assert cfg.param_integer("SCHEDD_INTERVAL") == 1
    assert cfg.param("SCHEDD_DEBUG") == "D_PID" and cfg.location("SCHEDD_DEBUG") == "<Default>"
    assert cfg.param("ALL_DEBUG") == "D_CAT D_ALWAYS:2"


def test_power_config_expressions(config_dir):
    path = config_dir / "htcondor__condor_examples_condor_config.power"
    cfg = Config.load(environ=_env(path))
    assert cfg.param("TimeToWait") == "(2 * 3600)"          # HOUR comes from the defaults table
    assert cfg.param("HIBERNATE").startswith("ifThenElse(( (KeyboardIdle > ")
    assert cfg.location("HIBERNATE") == f"{path}, line 40"


def test_generic_example_with_wrapper(config_dir, tmp_path):
    cfg, _env_used = _load_any(config_dir, "htcondor__condor_examples_condor_config.generic", tmp_path)
    assert cfg.param("RELEASE_DIR") == "/usr/local/condor"
    assert cfg.param("SBIN") == "/usr/local/condor/sbin"
    assert cfg.location("RELEASE_DIR") == f"{config_dir / 'htcondor__condor_examples_condor_config.generic'}, line 22"
