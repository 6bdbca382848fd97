"""Alias of :mod:`pyhtc.htcondor` under the name of HTCondor's removed v1 ``htcondor``
bindings, so ``import htcondor`` code runs against pyhtc. (pyhtc never installs
``htcondor2``/``classad2``: those belong to the real HTCondor wheel.)
"""
import sys as _sys

import pyhtc.htcondor as _impl

_sys.modules[__name__] = _impl
