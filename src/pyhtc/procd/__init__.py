"""pyhtc.procd: HTCondor's ProcD -- process families, their usage and control.

Library (in-process) use::

    from pyhtc.procd import ProcFamilyMonitor
    mon = ProcFamilyMonitor()                  # root family = this process
    mon.register_subfamily(child.pid, os.getpid(), 60)
    mon.kill_family(child.pid)

Out-of-process use: run ``condor_procd -A <socket>`` and talk to it with
:class:`ProcFamilyClient` (or ``procd_ctl -A <socket> CMD ...``).
Semantics follow src/condor_procd in HTCondor; see each module's docstring.
This package imports no other pyhtc layer.
"""

# Imported lazily (PEP 562) so that ``procd_ctl`` does not pay for psutil.
_EXPORTS = {
    "ProcFamilyMonitor": "monitor", "WatcherDied": "monitor",
    "ProcFamilyClient": "client", "ProcDError": "client",
    "Command": "protocol", "ProcFamilyError": "protocol", "ProcFamilyUsage": "protocol",
    "ProcFamilyDump": "protocol", "ProcFamilyProcessDump": "protocol",
    "pid_alive": "procinfo",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'pyhtc.procd' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f".{mod}", __name__), name)
