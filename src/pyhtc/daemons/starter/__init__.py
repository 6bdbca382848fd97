"""``condor_starter``: runs one job for the startd (see :mod:`.main`)."""
