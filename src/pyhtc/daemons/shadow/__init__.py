"""``condor_shadow``: the submit-side agent of one running job (src/condor_shadow.V6.1)."""
