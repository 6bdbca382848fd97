"""HTCondor's submit description language (``condor_submit``, ``htcondor2.Submit``).

Modules: parser (lines -> statements), macros ($(...) expansion), queue (queue
forms and items), argsenv (arguments/environment syntaxes), jobad (SubmitHash:
commands -> job ClassAd), submit (the Submit object and whole-file runs),
exprfmt (ClassAd expression printing).
"""
from .jobad import SubmitError
from .parser import SubmitSyntaxError
from .queue import QueueError
from .submit import ClusterResult, Submit, SubmitResult, run_description

__all__ = ["Submit", "SubmitResult", "ClusterResult", "run_description", "SubmitError", "SubmitSyntaxError",
           "QueueError"]
