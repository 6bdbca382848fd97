"""HTCondor's configuration language and ``param()``.

Usage::

    from pyhtc.config import get_config, param
    cfg = get_config(subsystem="SCHEDD")           # loads CONDOR_CONFIG etc. once per process
    interval = cfg.param_integer("SCHEDD_INTERVAL", 300, min_value=1)
    cfg.location("SCHEDD_INTERVAL")                 # "/etc/condor/condor_config.local, line 7"

Modules: ``config`` (Config, loading, lookups), ``parser`` (statements, if/include/use),
``macros`` (``$(X)`` and ``$FUNC()`` expansion), ``detect`` (built-in detected values),
``exprs`` (constant ClassAd expressions for typed values), ``_param_defaults`` and
``_templates`` (HTCondor 25's defaults table and ``use`` templates, as data).

Semantics: manual admin-manual/introduction-to-configuration.rst and
src/condor_utils/config.cpp, condor_config.cpp.
"""
from __future__ import annotations

import threading

from .config import (SOURCE_DEFAULT, SOURCE_DETECTED, SOURCE_ENVIRONMENT, SOURCE_INTERNAL, Config,
                     MacroEntry, code_default, default_type, default_value, parse_boolean, split_list)
from .errors import ConfigError

__all__ = ["Config", "ConfigError", "MacroEntry", "get_config", "param", "reload_config",
           "set_config", "split_list", "default_value", "default_type", "code_default", "parse_boolean",
           "SOURCE_DEFAULT", "SOURCE_DETECTED", "SOURCE_ENVIRONMENT", "SOURCE_INTERNAL"]

_lock = threading.Lock()
_current: Config | None = None


def get_config(subsystem: str | None = None, local_name: str | None = None,
               reload: bool = False) -> Config:
    """The process-wide configuration, loaded on first use with ``Config.load()``.

    A later call naming a different subsystem or local name loads a new configuration for it
    and makes it the process default (a process has one subsystem, as in HTCondor).  With
    ``reload=True`` the sources are re-read.  Raises ConfigError if loading fails.
    """
    global _current
    with _lock:
        cfg = _current
        wanted_sub = (subsystem or (cfg.subsystem if cfg else "TOOL")).upper()
        wanted_local = local_name if local_name is not None else (cfg.local_name if cfg else None)
        if cfg is None or cfg.subsystem != wanted_sub or cfg.local_name != (wanted_local or None):
            cfg = Config.load(subsystem=wanted_sub, local_name=wanted_local)
            _current = cfg
        elif reload:
            cfg.reload()
        return cfg


def set_config(config: Config | None) -> None:
    """Install ``config`` as the process default (tests, embedding); None forgets it."""
    global _current
    with _lock:
        _current = config


def reload_config() -> Config:
    """Re-read the process configuration (condor_reconfig)."""
    return get_config(reload=True)


def param(name: str, default: str | None = None) -> str | None:
    """``get_config().param(name, default)``."""
    return get_config().param(name, default)
