"""``param``: the configuration as a mutable mapping (htcondor2.param)."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Iterator, Optional

import threading

from pyhtc.config import Config, get_config as _get_config, set_config

__all__ = ["param", "reload_config", "get_config"]

_lock = threading.Lock()
_loaded = False


def get_config() -> Config:
    """The process configuration as the bindings see it: like a tool's, but with no
    configuration source at all it is the built-in defaults (htcondor2 runs without
    CONDOR_CONFIG, unlike the command-line tools)."""
    global _loaded
    with _lock:
        if not _loaded:
            set_config(Config.load("TOOL", require_root=False))
            _loaded = True
    return _get_config()


class _Param(MutableMapping):
    """``param["NAME"]`` is the expanded value (KeyError when undefined); assignments set
    an in-process value, as htcondor2 does; ``del`` removes it."""

    def __getitem__(self, name: str) -> str:
        v = get_config().param(name)
        if v is None:
            raise KeyError(name)
        return v

    def __setitem__(self, name: str, value: str) -> None:
        get_config().set(name, str(value))

    def __delitem__(self, name: str) -> None:
        if not get_config().unset(name):
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(get_config().names())

    def __len__(self) -> int:
        return len(get_config().names())

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        v = get_config().param(name)
        return default if v is None else v


param = _Param()


def reload_config(root_config_file: Optional[str] = None) -> None:
    """Re-read the configuration (htcondor2.reload_config); ``root_config_file`` replaces
    CONDOR_CONFIG for this load."""
    global _loaded
    with _lock:
        set_config(Config.load("TOOL", require_root=False, root_config=root_config_file))
        _loaded = True
