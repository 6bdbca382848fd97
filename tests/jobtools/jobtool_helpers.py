"""Helpers of the job-tool tests: the schedd's security knobs (FS authentication + AES) and
:class:`ScheddHandle` to run pyhtc code, the CLI tools and the real htcondor2 client against
a running schedd."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from daemon_helpers import run_client

SECURITY = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
}


# runs each "module:function" entry point with its arguments, capturing output and status
_RUNNER = r"""
import contextlib, importlib, io, json, sys
results = []
for entry, *args in json.loads(sys.argv[1]):
    module, func = entry.split(":")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = getattr(importlib.import_module(module), func)(args)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
    results.append([rc, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


class ScheddHandle:
    """The running schedd plus ways to talk to it."""

    def __init__(self, daemon, tmp):
        self.daemon = daemon
        self.tmp = tmp
        self.sinful = daemon.sinful
        self.address_file = str(tmp / ".schedd_address")

    def env(self, **extra) -> dict:
        """Environment of a pyhtc client process: no config file, the schedd's address
        file, FS authentication."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
        env.update({"CONDOR_CONFIG": "ONLY_ENV", "TZ": "UTC",
                    "_CONDOR_SCHEDD_ADDRESS_FILE": self.address_file,
                    "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def tool(self, module: str, *args, **env) -> subprocess.CompletedProcess:
        """Run ``python -m module args`` (a pyhtc CLI tool)."""
        return subprocess.run([sys.executable, "-m", module, *args], env=self.env(**env),
                              capture_output=True, text=True, timeout=60)

    def tools(self, *calls) -> list[subprocess.CompletedProcess]:
        """Run several tool entry points (``("pyhtc.tools.q:main", arg, ...)``) one after
        the other in ONE process (saves an interpreter start per call); returns a
        CompletedProcess-like result (returncode, stdout, stderr) per call."""
        r = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps([list(c) for c in calls])],
                           env=self.env(), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return [subprocess.CompletedProcess(c, rc, out, err)
                for c, (rc, out, err) in zip(calls, json.loads(r.stdout.splitlines()[-1]))]

    def pyhtc(self, code: str) -> subprocess.CompletedProcess:
        """Run ``code`` with ``schedd`` = a pyhtc Schedd for this daemon, ``J`` = JobAction."""
        prelude = ("import json\nfrom pyhtc import classad\nfrom pyhtc.htcondor._schedd import Schedd\n"
                   "from pyhtc.htcondor import JobAction as J, QueryOpt\nfrom pyhtc.submit import Submit\n"
                   f"schedd = Schedd(classad.ClassAd({{'MyAddress': {self.sinful!r}, 'CondorVersion': 'x'}}))\n")
        return subprocess.run([sys.executable, "-c", prelude + code], env=self.env(),
                              capture_output=True, text=True, timeout=60)

    def real(self, code: str) -> subprocess.CompletedProcess:
        """Run ``code`` with ``schedd`` = a real htcondor2.Schedd for this daemon."""
        prelude = ("from htcondor2 import JobAction as J, QueryOpt, Submit\nimport classad2 as classad\n"
                   f"schedd = htcondor2.Schedd(classad2.ClassAd({{'MyAddress': {self.sinful!r}, "
                   "'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}))\n")
        return run_client(prelude + code)

    @staticmethod
    def json_of(r: subprocess.CompletedProcess):
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])
