"""pyhtc's Python API, mirroring the real ``htcondor2`` module (PyPI ``htcondor``).

``import pyhtc.htcondor as htcondor2`` runs code written for the real bindings against a pyhtc
pool; the top-level ``htcondor`` module is an alias for code written against the v1 names.
What is here so far: the enumerations, :class:`Collector`, :class:`Schedd`, :class:`Submit`,
:class:`SubmitResult`, :class:`Negotiator`, :data:`param`, :func:`ping`,
:func:`set_ready_state`, :func:`send_alive`, :func:`set_subsystem`,
:func:`send_command`, :class:`JobEventLog` / :class:`JobEvent`, :func:`version`,
:func:`platform`, :class:`HTCondorException`.
"""
from __future__ import annotations

from typing import Optional

from pyhtc import classad
from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING
from pyhtc.userlog import JobEvent, JobEventLog

from ._collector import Collector
from ._enums import *  # noqa: F401,F403 - the htcondor2 enumerations
from ._enums import DaemonCommand
from ._enums import __all__ as _enum_names
from ._errors import HTCondorException
from ._param import param, reload_config
from ._schedd import Schedd, SubmitResult
from ._negotiator import Negotiator
from ._loose import ping, send_alive, set_ready_state, set_subsystem
from pyhtc.submit import Submit

__all__ = ["Collector", "Schedd", "Submit", "SubmitResult", "HTCondorException", "JobEvent",
           "JobEventLog", "param", "Negotiator", "ping", "send_alive", "set_ready_state", "set_subsystem",
           "reload_config", "send_command", "version", "platform", "classad", *_enum_names]


def version() -> str:
    """The ``$CondorVersion ...$`` string of this pyhtc."""
    return VERSION_STRING


def platform() -> str:
    """The ``$CondorPlatform ...$`` string."""
    return PLATFORM_STRING


def send_command(ad: classad.ClassAd, dc: DaemonCommand, target: Optional[str] = None) -> None:
    """Send a DaemonCore or master command to the daemon whose ad (``MyAddress``) is given;
    ``target`` names the daemon for DaemonOn/DaemonOff/DaemonOffFast (e.g. ``"SCHEDD"``)."""
    from pyhtc.client import send_command as _send
    addr = ad.get("MyAddress") if ad is not None else None
    if not addr:
        raise HTCondorException("Address not available in location ClassAd.")
    try:
        _send(addr, int(dc), target)
    except OSError as exc:
        raise HTCondorException(f"Failed to send command {DaemonCommand(dc).name} to {addr}: {exc}") from exc
