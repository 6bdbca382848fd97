"""``condor_negotiator``: the matchmaker (:mod:`.matchmaker`, pure), the accountant of user
priorities (:mod:`.accountant`, SQLite), the NEGOTIATE protocol driver and the daemon
(:mod:`.daemon`); command numbers in :mod:`.protocol`."""
