"""The condor_config of a personal pool (``pyhtc pool up``).

What goes in follows the manual's personal-pool recipe (admin-manual/installation
"personal HTCondor", the ``use ROLE: Personal`` template) and what htcondor2's
``PersonalPool`` writes: LOCAL_DIR and its sub-directories, ``use ROLE: Personal``, one
partitionable slot (``use FEATURE: PartitionableSlot``), the loopback interface only,
FS authentication with AES encryption required, every ALLOW_* level granted to this user on
this host, and short timer intervals so that jobs start within seconds.
"""
from __future__ import annotations

import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DIR", "PoolLayout", "write_config", "free_port", "find_bin_dir"]

#: where ``pyhtc pool up`` puts a pool without ``--dir``
DEFAULT_DIR = Path.home() / ".pyhtc"

#: knobs tuned for a pool of one machine (seconds).  The schedd sends RESCHEDULE right
#: after a submit and the negotiator notices pool changes (NEGOTIATOR_CHANGE_POLL_INTERVAL),
#: so periodic cycles are only a safety net: a rare NEGOTIATOR_INTERVAL keeps them from
#: holding a RESCHEDULE back by NEGOTIATOR_MIN_INTERVAL; NEGOTIATOR_CYCLE_DELAY 0 and
#: NEGOTIATOR_MIN_INTERVAL 1 let a new job be matched at once after submit
TUNING = {
    "UPDATE_INTERVAL": "2",
    "MASTER_UPDATE_INTERVAL": "5",
    "NEGOTIATOR_INTERVAL": "20",
    "NEGOTIATOR_CYCLE_DELAY": "0",
    "NEGOTIATOR_MIN_INTERVAL": "1",
    "SCHEDD_INTERVAL": "2",
    "STARTER_UPDATE_INTERVAL": "2",
    "STARTER_INITIAL_UPDATE_INTERVAL": "2",
    "POLLING_INTERVAL": "2",
}


@dataclass
class PoolLayout:
    """Paths of a pool rooted at ``local_dir``: ``config`` (condor_config), ``log``,
    ``spool``, ``execute``, ``lock``, ``run`` and ``master_out`` (the master's stdout/err)."""
    local_dir: Path

    def __post_init__(self):
        self.local_dir = Path(self.local_dir).expanduser().absolute()

    @property
    def config(self) -> Path:
        return self.local_dir / "condor_config"

    @property
    def local_config(self) -> Path:
        return self.local_dir / "condor_config.local"

    @property
    def log(self) -> Path:
        return self.local_dir / "log"

    @property
    def spool(self) -> Path:
        return self.local_dir / "spool"

    @property
    def execute(self) -> Path:
        return self.local_dir / "execute"

    @property
    def lock(self) -> Path:
        return self.local_dir / "lock"

    @property
    def run(self) -> Path:
        return self.local_dir / "run"

    @property
    def master_out(self) -> Path:
        return self.log / "master.out"

    def dirs(self) -> list[Path]:
        return [self.local_dir, self.log, self.spool, self.execute, self.lock, self.run]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_bin_dir() -> Path:
    """The directory holding our condor_master (and the other daemons' console scripts):
    the one beside this interpreter if it has one, else the first on PATH.
    Raises FileNotFoundError when neither exists."""
    here = Path(sys.executable).parent
    if (here / "condor_master").exists():
        return here
    found = shutil.which("condor_master")
    if found:
        return Path(found).parent
    raise FileNotFoundError(f"condor_master is neither in {here} nor on PATH")


def write_config(layout: PoolLayout, collector_port: int | None = None,
                 bin_dir: Path | None = None) -> Path:
    """Create the pool's directories and write ``layout.config``; returns its path.

    ``collector_port`` defaults to a free loopback port (a fixed port, so that every tool
    can reach the collector from COLLECTOR_HOST alone).  Settings of an existing
    ``condor_config.local`` in the pool directory are read last and win.
    """
    for d in layout.dirs():
        d.mkdir(parents=True, exist_ok=True)
    bin_dir = bin_dir or find_bin_dir()
    port = collector_port or free_port()
    user_allow = "$(USERNAME)@$(UID_DOMAIN) $(USERNAME)@$(IPV4_ADDRESS) " \
                 "$(USERNAME)@$(FULL_HOSTNAME) $(USERNAME)@$(HOSTNAME) $(USERNAME)@127.0.0.1"
    lines = [
        "# Personal HTCondor pool written by `pyhtc pool up`; local changes go in",
        "# condor_config.local beside this file (read last).",
        f"LOCAL_DIR = {layout.local_dir}",
        "LOG = $(LOCAL_DIR)/log",
        "SPOOL = $(LOCAL_DIR)/spool",
        "EXECUTE = $(LOCAL_DIR)/execute",
        "LOCK = $(LOCAL_DIR)/lock",
        "RUN = $(LOCAL_DIR)/run",
        f"RELEASE_DIR = {bin_dir.parent}",
        f"BIN = {bin_dir}",
        f"SBIN = {bin_dir}",
        f"LIBEXEC = {bin_dir}",
        "",
        "use ROLE: Personal",
        "use FEATURE: PartitionableSlot",
        "",
        "NETWORK_INTERFACE = 127.0.0.1",
        f"COLLECTOR_HOST = 127.0.0.1:{port}",
        f"COLLECTOR_PORT = {port}",
        "MASTER_ADDRESS_FILE = $(LOG)/.master_address",
        "COLLECTOR_ADDRESS_FILE = $(LOG)/.collector_address",
        "SCHEDD_ADDRESS_FILE = $(LOG)/.schedd_address",
        "",
        "# security: this user on this host only, authenticated by the file system, encrypted",
        "SEC_DEFAULT_AUTHENTICATION = REQUIRED",
        "SEC_DEFAULT_AUTHENTICATION_METHODS = FS",
        "SEC_CLIENT_AUTHENTICATION_METHODS = FS",
        "SEC_DEFAULT_ENCRYPTION = REQUIRED",
        "SEC_DEFAULT_INTEGRITY = REQUIRED",
        "SEC_DEFAULT_CRYPTO_METHODS = AES",
        f"self = {user_allow}",
        "ALLOW_READ = $(self)",
        "ALLOW_WRITE = $(self)",
        "ALLOW_DAEMON = $(self)",
        "ALLOW_ADMINISTRATOR = $(self)",
        "ALLOW_ADVERTISE = $(self)",
        "ALLOW_ADVERTISE_STARTD = $(ALLOW_ADVERTISE)",
        "ALLOW_ADVERTISE_SCHEDD = $(ALLOW_ADVERTISE)",
        "ALLOW_ADVERTISE_MASTER = $(ALLOW_ADVERTISE)",
        "ALLOW_NEGOTIATOR = $(self)",
        "ALLOW_CONFIG = $(self)",
        "",
        "# short intervals for a one-machine pool",
    ]
    lines += [f"{k} = {v}" for k, v in TUNING.items()]
    lines += [
        "",
        "MAIL = /bin/true",
        "LOCAL_CONFIG_FILE = $(LOCAL_DIR)/condor_config.local",
        "REQUIRE_LOCAL_CONFIG_FILE = false",
        "",
    ]
    tmp = layout.config.with_suffix(".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, layout.config)
    return layout.config
