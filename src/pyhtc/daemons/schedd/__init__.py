"""The schedd: the job queue (SQLite), QMGMT, job actions, shadows and the user log.

Modules: :mod:`.queue_db` (SQLite WAL file), :mod:`.queue` (in-memory queue and client
transactions), :mod:`.jobads` (ClassAd views of jobs, constraint evaluation),
:mod:`.jobactions` (hold / release / remove), :mod:`.qmgmt` (QMGMT_WRITE/READ_CMD),
:mod:`.commands` (QUERY_JOB_ADS, ACT_ON_JOBS, QUERY_SCHEDD_HISTORY), :mod:`.policy`
(periodic_hold/release/remove), :mod:`.advertise` (Scheduler and Submitter ads) and
:mod:`.daemon` (``condor_schedd``: ``python -m pyhtc.daemons.schedd.daemon``).
"""
