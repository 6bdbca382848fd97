"""THE integration test: the real htcondor2 client (in a subprocess, clean environment) talks to
a server built from pyhtc.cedar."""
from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys

import pytest

from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import Level, SecurityPolicy

from .fake_daemon import FakeDaemon

pytest.importorskip("htcondor2")
HERE = pathlib.Path(__file__).parent


async def _run_client(port: int, action: str, extra_env: dict[str, str]) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "CONDOR_CONFIG": "/dev/null", **extra_env}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "real_client.py"), str(port), action,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])


def _scenario(action: str, env: dict, policy: SecurityPolicy | None = None, until=None):
    """Run the real client against a fresh FakeDaemon; ``until(daemon)`` is polled (up to 10 s)
    for things that may land after the client exits (UDP datagrams)."""
    async def main():
        daemon = FakeDaemon(policy or SecurityPolicy(valid_commands=[5, 6, 58, 0, 60011]))
        await daemon.server.start("127.0.0.1", 0)
        try:
            result = await _run_client(daemon.server.port, action, env)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while (daemon.server.active or (until is not None and not until(daemon))) \
                    and loop.time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await daemon.server.close()
        return daemon, result
    return asyncio.run(main())


def _udp_updates(daemon):
    return [u for u in daemon.updates if u[1] == "udp"]


NEGOTIATED = {}
RAW = {"_CONDOR_SEC_CLIENT_NEGOTIATION": "NEVER"}


@pytest.mark.parametrize("env", [NEGOTIATED, RAW], ids=["negotiated-aes", "raw-never"])
def test_collector_query(env):
    daemon, result = _scenario("query", env)
    names = sorted(ad["Name"] for ad in result["startd"])
    assert names == ["slot2@fake.example.org", "slot3@fake.example.org"]
    for ad in result["startd"]:
        assert set(ad) == {"Name", "Cpus", "Quote"}
        assert ad["Quote"] == 'say "hi"\\there'
    assert len(result["all"]) == 3
    assert all("ClaimId" not in ad for ad in result["all"])  # private attrs dropped
    assert result["all"][0]["Requirements"] == "TARGET.RequestCpus <= MY.Cpus"
    assert result["schedd"][0]["TotalRunningJobs"] == 7
    starts = [s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS]
    assert starts and all(s.negotiated == (env is NEGOTIATED) for s in starts)
    if env is NEGOTIATED:
        assert all(s.encrypted for s in starts)
        # second query in the same process resumed the cached session
        assert any(s.policy_ad is not None and s.policy_ad.get_str("UseSession") == "YES"
                   for s in starts)
    assert daemon.queries[0].get_str("Projection") is not None


@pytest.mark.parametrize("env", [NEGOTIATED, RAW], ids=["negotiated-aes", "raw-never"])
def test_advertise_tcp_and_udp(env):
    daemon, result = _scenario("advertise", env, until=_udp_updates)
    assert result["ok"]
    tcp = [(c, ad.get("Name")) for c, p, ad, _ in daemon.updates if p == "tcp"]
    assert tcp == [(58, "g0"), (58, "g1")]
    udp = [(c, ad.get("Name"), ad.get("Cpus")) for c, p, ad, _ in daemon.updates if p == "udp"]
    assert udp == [(0, "udp-slot", 9)]


@pytest.mark.parametrize("env", [NEGOTIATED, RAW], ids=["negotiated-aes", "raw-never"])
def test_send_command(env):
    daemon, result = _scenario("command", env)
    assert result["ok"]
    cmds = [c for c, _, _ in daemon.commands]
    assert int(Command.DC_RECONFIG) in cmds or int(Command.DC_RECONFIG_FULL) in cmds
    assert (int(Command.DAEMON_OFF), "SCHEDD", env is NEGOTIATED) in daemon.commands


def _me():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def test_fs_authentication_required_by_server(tmp_path):
    """The server demands authentication; the real client authenticates with FS (same host)
    inside DC_AUTHENTICATE, then AES; the handler sees the identity."""
    pol = SecurityPolicy(authentication=Level.REQUIRED, auth_methods=["FS"],
                         fs_dir=str(tmp_path), uid_domain="pool.test", valid_commands=[5])
    daemon, result = _scenario("query", NEGOTIATED, pol)
    assert len(result["all"]) == 3
    starts = [s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS]
    assert starts[0].peer.user == f"{_me()}@pool.test" and starts[0].peer.method == "FS"
    assert starts[0].encrypted


def test_server_refuses_client_that_will_never_encrypt():
    """The real client does not enforce policy; our server does: client ENCRYPTION=NEVER
    against server REQUIRED is a policy mismatch and the connection is closed."""
    env = {"_CONDOR_SEC_CLIENT_ENCRYPTION": "NEVER", "_CONDOR_SEC_CLIENT_INTEGRITY": "NEVER"}
    daemon, result = _scenario("query_fail", env, SecurityPolicy(encryption=Level.REQUIRED))
    assert "Failed communication with collector" in result["error"]
    assert not [s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS]


def test_server_refuses_raw_client_when_encryption_required():
    pol = SecurityPolicy(encryption=Level.REQUIRED)
    daemon, result = _scenario("query_fail", RAW, pol)
    assert "Failed communication with collector" in result["error"]
    assert not [s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS]
    # the same server serves a negotiating client (which gets AES)
    daemon, result = _scenario("query", NEGOTIATED, pol)
    assert len(result["all"]) == 3


def test_udp_session_only_handshake():
    """ValidCommands of the first session do not list UPDATE_STARTD_AD (0): the client runs a
    TCP session-only DC_AUTHENTICATE (AuthCommand = 0), then sends the BLOWFISH datagram."""
    daemon, result = _scenario("udp_only", NEGOTIATED, SecurityPolicy(valid_commands=[5]),
                               until=_udp_updates)
    assert result["ok"]
    assert any(s.session_only and s.policy_ad.get_int("AuthCommand") == 0
               for s in daemon.server.served)
    assert [(c, p, ad.get("Name")) for c, p, ad, _ in daemon.updates] == \
        [(0, "udp", "udp-only")]


def test_ping_dc_sec_query():
    daemon, result = _scenario("ping", NEGOTIATED)
    ping = result["ping"]
    assert ping["AuthorizationSucceeded"] is True
    assert ping.get("Sid") and ping.get("ValidCommands")


@pytest.mark.parametrize("env", [NEGOTIATED, RAW], ids=["negotiated-aes", "raw-never"])
def test_act_forced_fs_authentication(tmp_path, env):
    """Schedd.act(): unauthenticated session -> the client forces FS authentication on the
    command stream (raw: the bitmask rides in the command message, e22); our handler calls
    stream.authenticate()."""
    pol = SecurityPolicy(auth_methods=["FS"], fs_dir=str(tmp_path), uid_domain="pool.test",
                         valid_commands=[478])
    daemon, result = _scenario("act", env, pol)
    assert result["act"]["TotalJobAds"] == 1
    assert (478, f"{_me()}@pool.test", env is NEGOTIATED) in daemon.commands
    assert daemon.queries[-1].get("JobAction") == 1


def test_idtokens_real_client(tmp_path):
    """The real client authenticates with a token minted by pyhtc (random POOL key), found
    in SEC_TOKEN_DIRECTORY; the server verifies it with the same key."""
    from pyhtc.cedar.security.auth_token import SigningKeys, mint_token
    key = os.urandom(64)
    tokdir = tmp_path / "tokens.d"
    tokdir.mkdir(mode=0o700)
    tok = tokdir / "alice"
    tok.write_text(mint_token(key, kid="POOL", subject="alice@test.pool", issuer="test.pool",
                              lifetime=3600, scopes=["READ"]) + "\n")
    tok.chmod(0o600)
    pol = SecurityPolicy(authentication=Level.REQUIRED, auth_methods=["TOKEN"],
                         signing_keys=SigningKeys(clear_keys={"POOL": key}),
                         trust_domain="test.pool", valid_commands=[5])
    env = {"_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "IDTOKENS",
           "_CONDOR_SEC_TOKEN_DIRECTORY": str(tokdir)}
    daemon, result = _scenario("query", env, pol)
    assert len(result["all"]) == 3
    start = next(s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS)
    assert start.peer.user == "alice@test.pool" and start.peer.method == "TOKEN"
    assert start.session.policy["LimitAuthorization"] == '"READ"'
    # a token signed with another key is refused: the query fails
    pol.signing_keys = SigningKeys(clear_keys={"POOL": os.urandom(64)})
    daemon, result = _scenario("query_fail", env, pol)
    assert "Failed communication" in result["error"]


@pytest.mark.parametrize("mutual", [False, True], ids=["server-cert", "mutual"])
def test_ssl_real_client(shared_dir, mutual):
    """SSL authentication: TLS tunnelled in CEDAR messages with the real client, server
    certificate checked by the client against the alias it dialled; with a client
    certificate the DN is mapped to a user."""
    from pyhtc.cedar.security.auth_ssl import SslConfig
    d = shared_dir / "cedar" / "auth" / "vectors" / "keys" / "ssl"
    pol = SecurityPolicy(authentication=Level.REQUIRED, auth_methods=["SSL"],
                         ssl=SslConfig(certfile=str(d / "server.pem"),
                                       keyfile=str(d / "server.key"), cafile=str(d / "ca.pem"),
                                       require_client_cert=mutual,
                                       dn_map={"/C=US/O=Fake Pool/CN=alice": "alice@pool"}.get),
                         valid_commands=[5])
    env = {"_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "SSL",
           "_CONDOR_AUTH_SSL_CLIENT_CAFILE": str(d / "ca.pem"),
           "PYHTC_TEST_ALIAS": "fake.example.org"}
    if mutual:
        env["_CONDOR_AUTH_SSL_CLIENT_CERTFILE"] = str(d / "client.pem")
        env["_CONDOR_AUTH_SSL_CLIENT_KEYFILE"] = str(d / "client.key")
    daemon, result = _scenario("query", env, pol)
    assert len(result["all"]) == 3
    start = next(s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS)
    assert start.peer.method == "SSL"
    assert start.peer.user == ("alice@pool" if mutual else "unauthenticated@unmapped")


def test_client_without_aes():
    """A client restricted to BLOWFISH (legacy stream cipher, not implemented here) still gets
    its answer over a cleartext session; a server requiring encryption refuses it."""
    env = {"_CONDOR_SEC_CLIENT_CRYPTO_METHODS": "BLOWFISH"}
    daemon, result = _scenario("query", env)
    assert len(result["all"]) == 3
    start = next(s for s in daemon.server.served if s.command == Command.QUERY_STARTD_ADS)
    assert start.negotiated and not start.encrypted
    daemon, result = _scenario("query_fail", env, SecurityPolicy(encryption=Level.REQUIRED))
    assert "Failed communication" in result["error"]
