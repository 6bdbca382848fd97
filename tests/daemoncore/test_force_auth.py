"""Commands registered with force_authentication: an unauthenticated (raw) client is
authenticated inside the command and authorized by the identity it proves."""
import getpass
import sys
import textwrap

import pytest

from daemon_helpers import start_daemon

DAEMON = textwrap.dedent("""
    import sys
    from pyhtc.daemoncore.daemon import Daemon

    class AuthD(Daemon):
        subsystem = "AUTHD"

        def main_init(self):
            async def whoami(stream):
                await stream.get_int()
                await stream.end_of_message()
                stream.put_string(stream.peer.user or "nobody")
                await stream.end_of_message()
            self.register_command(12345, "WHOAMI", whoami, "WRITE", force_authentication=True)

    sys.exit(AuthD.main())
""")


def run_daemon(tmp_path, allow_write):
    mod = tmp_path / "authd_mod"
    mod.mkdir()
    (mod / "__init__.py").write_text("")
    (mod / "__main__.py").write_text(DAEMON)
    import os
    env_pp = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return start_daemon("authd_mod", "AUTHD", tmp_path, "AuthdLog",
                        _CONDOR_ALLOW_WRITE=allow_write,
                        # nothing above WRITE may imply it for this test
                        _CONDOR_ALLOW_ADMINISTRATOR="nobody@nowhere", _CONDOR_ALLOW_DAEMON="nobody@nowhere",
                        _CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS="FS", **env_pp)


def whoami(sinful):
    from pyhtc.cedar.security.policy import Level, SecurityPolicy
    from pyhtc.client import start_command
    pol = SecurityPolicy(negotiation=Level.NEVER, auth_methods=["FS"])
    with start_command(sinful, 12345, pol) as s:
        s.authenticate(pol)
        s.put_int(7).end_of_message()
        return s.get_string()


def test_raw_client_authenticated_inside_command_and_allowed(tmp_path):
    me = getpass.getuser()
    d = run_daemon(tmp_path, f"{me}@*")
    try:
        assert whoami(d.sinful).split("@")[0] == me
    finally:
        d.stop()


def test_identity_not_in_allow_list_is_refused(tmp_path):
    d = run_daemon(tmp_path, "someoneelse@*")
    try:
        with pytest.raises(Exception):
            whoami(d.sinful)
        assert d.wait_log("PERMISSION DENIED")
    finally:
        d.stop()
