"""Documented defaults HTCondor keeps in its daemons' code rather than in its defaults table.

HTCondor's ``param()`` (and ``condor_config_val``) report these knobs as not defined; the
daemons call e.g. ``param_integer("SCHEDD_INTERVAL", 300)``.  pyhtc keeps the values here so
``Config.param_integer``/``param_boolean``/``param_double``/``code_default`` give the same
answer without every caller repeating the number, while ``param()`` stays identical to
HTCondor.  Each entry: knob -> (value, where the manual documents it).  Extend as daemons need.
"""

CODE_DEFAULTS: dict[str, tuple[str, str]] = {
    "CLASSAD_LIFETIME": ("900", "admin-manual/configuration/collector.rst"),
    "SCHEDD_INTERVAL": ("300", "admin-manual/configuration/schedd.rst"),
    "SHUTDOWN_GRACEFUL_TIMEOUT": ("1800", "admin-manual/configuration/global.rst"),
    "NEGOTIATOR_CYCLE_DELAY": ("20", "admin-manual/configuration/negotiator.rst"),
    "STARTER_UPDATE_INTERVAL": ("300", "admin-manual/configuration/starter.rst"),
    "SHADOW_QUEUE_UPDATE_INTERVAL": ("900", "admin-manual/configuration/shadow.rst"),
    "WANT_HOLD": ("False", "admin-manual/configuration/startd.rst"),
    "MAX_NUM_DEFAULT_LOG": ("1", "admin-manual/configuration/global.rst (MAX_NUM_<SUBSYS>_LOG)"),
    # condor_secman.cpp sec_req_param defaults; manual admin-manual/security.rst
    "SEC_DEFAULT_AUTHENTICATION": ("OPTIONAL", "src/condor_io/condor_secman.cpp"),
    "SEC_DEFAULT_ENCRYPTION": ("OPTIONAL", "src/condor_io/condor_secman.cpp"),
    "SEC_DEFAULT_INTEGRITY": ("OPTIONAL", "src/condor_io/condor_secman.cpp"),
    "SEC_DEFAULT_NEGOTIATION": ("PREFERRED", "src/condor_io/condor_secman.cpp"),
}
