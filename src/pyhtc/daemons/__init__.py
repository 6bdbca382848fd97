"""The HTCondor daemons, one sub-package each. A daemon never imports another daemon's package:
daemons talk only through CEDAR commands."""
