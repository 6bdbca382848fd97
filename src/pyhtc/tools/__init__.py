"""The condor_* command-line tools (top layer: may import every package below)."""
