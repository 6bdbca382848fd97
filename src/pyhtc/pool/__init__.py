"""A personal HTCondor pool on this machine (``pyhtc pool up|status|down|run``).

:mod:`pyhtc.pool.config` writes the pool's condor_config, :mod:`pyhtc.pool.control` starts
condor_master detached, waits for its daemons to be ready (DC_QUERY_READY, as
``condor_who -wait`` does), reports status and stops it (``condor_off -daemon master``).
"""
from .config import DEFAULT_DIR, PoolLayout, write_config
from .control import PoolError, pool_status, start_pool, stop_pool

__all__ = ["DEFAULT_DIR", "PoolLayout", "write_config", "PoolError", "start_pool",
           "stop_pool", "pool_status"]
