"""pyhtc.proxy: daemonproxy's model and protocol in Python.

A small reliable parent process (:class:`Supervisor`, command ``pyhtc-proxy``) holds services,
their file handles and pipes, and turns child exits and signals into a TAB-separated event
stream; an external controller sends commands and can die and come back without the services
noticing.  condor_master is meant to be built as such a controller.

* :class:`Supervisor` -- the model and event loop, usable in-process (``attach``);
* :class:`ProxyClient` -- a controller-side client for the socket or pipe transport;
* :class:`ProxyState` -- a controller's view of the proxy rebuilt from events;
* docs/pyhtc-proxy.md -- the command and event reference.

This package imports nothing else from pyhtc (it sits below the daemons).
"""
__all__ = ["Supervisor", "ProxyClient", "ProxyState", "CommandError"]

_WHERE = {"Supervisor": ".supervisor", "ProxyClient": ".client", "ProxyState": ".client",
          "CommandError": ".protocol"}


def __getattr__(name):
    # Lazy imports keep the pyhtc-proxy process small (the client pulls in subprocess).
    if name in _WHERE:
        import importlib
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(name)
