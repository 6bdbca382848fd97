"""condor_ping against real condor_collector processes whose ALLOW lists grant some
permission levels and deny others (DC_SEC_QUERY, PROTOCOL.md 6.7; output as
src/condor_tools/ping.cpp prints it)."""
import os
import subprocess
import sys

import pytest

from daemon_helpers import start_daemon
from pyhtc.tools.ping import command_for_token

NOBODY = "nobody@nowhere/10.9.9.9"


@pytest.fixture(scope="module")
def read_only(tmp_path_factory):
    """READ for everyone; WRITE, ADMINISTRATOR and DAEMON for nobody we can be."""
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path_factory.mktemp("ro"),
                     "CollectorLog", _CONDOR_ALLOW_WRITE=NOBODY, _CONDOR_ALLOW_ADMINISTRATOR=NOBODY,
                     _CONDOR_ALLOW_DAEMON=NOBODY)
    yield d
    d.stop()


def ping(collector, *argv, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": collector.host_port})
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.ping", *argv], env=env,
                          capture_output=True, text=True, timeout=60)


def test_tokens():
    assert command_for_token("READ") == 60020
    assert command_for_token("write") == 60021
    assert command_for_token("ADMINISTRATOR") == 60023
    assert command_for_token("OWNER") == 60024
    assert command_for_token("DC_NOP") == 60011
    assert command_for_token("QUERY_STARTD_ADS") == 5
    assert command_for_token("421") == 421
    assert command_for_token("07") == -1
    assert command_for_token("NOPE") == -1


def test_sentence_output_grants_and_denials(read_only):
    r = ping(read_only, "-type", "COLLECTOR", "READ", "WRITE", "ADMINISTRATOR")
    assert r.returncode == 0, r.stderr   # answered (allowed or not) -> 0, as HTCondor
    where = f"collector at <{read_only.host_port}>"
    assert r.stdout.splitlines() == [
        f"READ command using (AES, AES, and no authentication) succeeded as unauthenticated@unmapped to {where}.",
        f"WRITE command using (AES, AES, and no authentication) failed as unauthenticated@unmapped to {where}.",
        f"ADMINISTRATOR command using (AES, AES, and no authentication) failed as unauthenticated@unmapped to {where}.",
    ]
    # the collector logged its decisions
    assert read_only.wait_log("PERMISSION DENIED to unauthenticated@unmapped")


def test_table_verbose_quiet(read_only):
    sinful = f"<{read_only.host_port}?addrs={read_only.host_port.replace(':', '-')}>"
    r = ping(read_only, "-addr", sinful, "-table", "ALLOW", "READ", "WRITE", "DAEMON")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "         Instruction Authentication Encryption Integrity Decision Identity"
    assert lines[1:] == [
        "               ALLOW           none        AES       AES    ALLOW unauthenticated@unmapped",
        "                READ           none        AES       AES    ALLOW unauthenticated@unmapped",
        "               WRITE           none        AES       AES     DENY unauthenticated@unmapped",
        "              DAEMON           none        AES       AES     DENY unauthenticated@unmapped",
    ]
    r = ping(read_only, "-type", "collector", "-verbose", "WRITE")
    got = dict(line.split(":", 1) for line in r.stdout.splitlines() if line)
    got = {k: v.strip() for k, v in got.items()}
    assert got["Destination"] == f"collector at <{read_only.host_port}>"
    assert got["Instruction"] == "WRITE" and got["Command"] == "60021"
    assert got["Encryption"] == "AES" and got["Authentication"] == "none"
    assert got["Remote Mapping"] == "unauthenticated@unmapped"
    assert got["Authorized"] == "FALSE"
    assert got["Session ID"] and "25.14.1" in got["Remote Version"]
    r = ping(read_only, "-type", "collector", "-quiet", "READ", "WRITE")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_authenticated_identity_and_implied_write(tmp_path):
    """FS authentication; ADMINISTRATOR granted to us implies WRITE; DAEMON still denied."""
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog",
                     _CONDOR_ALLOW_WRITE=NOBODY, _CONDOR_ALLOW_ADMINISTRATOR="*/127.0.0.1",
                     _CONDOR_ALLOW_DAEMON=NOBODY, _CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS="FS")
    try:
        r = ping(d, "-type", "collector", "-table", "READ", "WRITE", "ADMINISTRATOR", "DAEMON",
                 _CONDOR_SEC_CLIENT_AUTHENTICATION="REQUIRED",
                 _CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS="FS")
    finally:
        d.stop()
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert [row[:5] for row in rows] == [
        ["READ", "FS", "AES", "AES", "ALLOW"], ["WRITE", "FS", "AES", "AES", "ALLOW"],
        ["ADMINISTRATOR", "FS", "AES", "AES", "ALLOW"], ["DAEMON", "FS", "AES", "AES", "DENY"]]
    identity = rows[0][5]
    assert "@" in identity and identity != "unauthenticated@unmapped"


def test_errors(capsys):
    """Argument errors and an address nobody listens on (in this process: no daemon needed)."""
    from pyhtc.config import Config, set_config
    from pyhtc.tools import ping as tool

    def run(*argv):
        rc = tool.main(list(argv))
        out = capsys.readouterr()
        return rc, out.out, out.err
    set_config(Config.load("TOOL", environ={"CONDOR_CONFIG": "ONLY_ENV"}, read_user_config=False))
    try:
        _check_errors(run)
    finally:
        set_config(None)


def _check_errors(run):
    rc, out, err = run("-type", "collector", "READ", "BOGUS")
    assert (rc, out, err) == (1, "", 'ERROR: Could not understand TOKEN "BOGUS".\n')
    rc, out, err = run("-addr", "<127.0.0.1:9>", "-pool", "x", "READ")
    assert rc == 1
    assert err.startswith("ERROR: -address cannot be used with -pool or -name.\n\nUsage: condor_ping")
    rc, out, err = run("-table", "-verbose")
    assert rc == 1 and err.startswith("ERROR: only one output mode may be specified.")
    rc, out, err = run("-type", "frobnicator", "READ")
    assert rc == 1 and err.startswith("ERROR: unrecognized daemon type: frobnicator")
    rc, out, err = run("-addr", "<127.0.0.1:1>", "READ")       # nothing listens there
    assert (rc, out) == (1, "READ failed!  Use -verbose for more information.\n")
    rc, out, err = run("-addr", "<127.0.0.1:1>", "-table", "READ")
    assert rc == 1
    assert out.splitlines()[1] == ("                READ           FAIL       FAIL      FAIL     "
                                   "FAIL FAIL  (use -verbose for more info)")
    rc, out, err = run("-addr", "<127.0.0.1:1>", "-verbose", "READ")
    assert rc == 1 and out.startswith("READ failed!\n") and out.endswith("\n\n")


def test_long_and_autoformat(read_only):
    where = f"collector at <{read_only.host_port}>"
    r = ping(read_only, "-type", "collector", "READ", "WRITE", "-af:h", "Name", "Result", "From")
    assert r.returncode == 0, r.stderr
    # headings are sized by the first answer, as ping.cpp prints them before the rest
    assert r.stdout.splitlines() == [
        "Name        Result  " + "From".ljust(len(where)),
        f"DC_NOP_READ ALLOWED {where}",
        f"DC_NOP_WRITE DENIED  {where}",
    ]
    r = ping(read_only, "-type", "collector", "ADMINISTRATOR", "-format", "%s\\n", "Result")
    assert r.stdout == "DENIED\n"
    r = ping(read_only, "-type", "collector", "-long", "READ")
    lines = r.stdout.splitlines()
    assert lines[0] == f"# READ command to {where} is ALLOWED"
    assert 'MyRemoteUserName = "unauthenticated@unmapped"' in lines
    assert any(line.startswith("Sid = ") for line in lines) and r.stdout.endswith("\n\n")
