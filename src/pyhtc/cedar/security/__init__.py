"""CEDAR security: policy levels, session negotiation (condor_secman.cpp /
daemon_command.cpp), session cache and authentication methods (FS, CLAIMTOBE)."""
