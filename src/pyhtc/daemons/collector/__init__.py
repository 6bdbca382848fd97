"""The collector: the pool's directory of ClassAds (src/condor_collector.V6)."""
