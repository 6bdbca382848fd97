"""``condor_startd``: the execute point's slots, claims and policy.

Modules: :mod:`.protocol` (command numbers and reply codes of the claim protocols),
:mod:`.machine` (machine attribute detection), :mod:`.slots` (slot types, slot state,
slot ads), :mod:`.daemon` (the daemon: commands, timers, starters).
Semantics follow src/condor_startd.V6 and the manual's ep-policy-configuration.rst.
"""
