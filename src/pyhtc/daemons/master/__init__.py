"""condor_master: a controller over :mod:`pyhtc.proxy` that runs the daemons of DAEMON_LIST
(src/condor_master.V6).  ``python -m pyhtc.daemons.master.daemon`` runs it."""
