"""Exceptions of the htcondor API (htcondor2.HTCondorException)."""


class HTCondorException(Exception):
    """Raised when HTCondor (a daemon, the network, the configuration) fails a request."""
