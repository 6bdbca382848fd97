"""A real schedd daemon process (FS authentication + AES) shared by the job-tool tests."""
from __future__ import annotations

import pytest

from daemon_helpers import start_daemon
from jobtool_helpers import SECURITY, ScheddHandle


@pytest.fixture(scope="module")
def schedd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schedd")
    d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp, "SchedLog", **SECURITY)
    yield ScheddHandle(d, tmp)
    d.stop()
