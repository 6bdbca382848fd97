"""Alias of :mod:`pyhtc.classad` under the name of HTCondor's removed v1 ``classad`` bindings.

Code written as ``import classad`` runs against pyhtc's ClassAd library unchanged. (pyhtc
never installs ``classad2``/``htcondor2``: those names belong to the real HTCondor wheel.)
"""
import sys as _sys

import pyhtc.classad as _impl

_sys.modules[__name__] = _impl
