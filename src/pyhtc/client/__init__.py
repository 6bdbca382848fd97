"""Client side of the daemons: find a daemon and start commands on it (HTCondor's
``Daemon``/``DCCollector`` objects, src/condor_daemon_client/).

- :func:`client_policy` -- the SEC_CLIENT_* security policy from the configuration;
- :func:`parse_address` -- ``host:port``, ``<sinful>`` or a host name (default port 9618);
- :class:`CollectorClient` -- query, advertise and locate through a collector;
- :func:`locate_daemon` -- a daemon's address from its address file or the collector;
- :func:`start_command` -- a blocking CEDAR stream with security negotiated.
"""
from .core import (AD_TYPES, CollectorClient, DaemonNotFound, client_policy, locate_daemon,
                   parse_address, send_command, start_command)

__all__ = ["AD_TYPES", "CollectorClient", "DaemonNotFound", "client_policy", "locate_daemon",
           "parse_address", "send_command", "start_command"]
