"""pyhtc: the HTCondor high-throughput computing system in pure Python.

Layers (lower never import upper), see docs/architecture.md:
classad -> config -> submit/userlog/filetransfer -> cedar -> daemoncore -> client -> daemons -> tools/htcondor.
"""

__version__ = "0.1.0"

# The version string HTCondor components exchange (CondorVersion attribute, CEDAR handshakes).
CONDOR_VERSION = "25.14.1"
