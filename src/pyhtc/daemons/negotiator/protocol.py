"""Command numbers and message constants of the negotiator (src/condor_includes/condor_commands.h).

Kept here until :mod:`pyhtc.cedar.commands` carries them (values verified against
condor_commands.h: ``SCHED_VERS = 400``).

The NEGOTIATE protocol (matchmaker.cpp ``startNegotiateProtocol`` / ``negotiate`` /
``matchmakingProtocol``, matchmaker_negotiate.cpp ``ResourceRequestList``; the schedd's side
is schedd_negotiate.cpp ``ScheddNegotiate::readMsg``/``messageReceived``), every line below one
CEDAR message (``/`` separates the items, ``eom`` ends the message):

1. negotiator -> schedd: ``NEGOTIATE`` command (416) with security negotiated, then
   ``ad{Owner=<submitter>, SubmitterTag, AutoClusterAttrs, MatchClaimedPSlots=true,
   MatchCaps="MatchDiag3", NegotiatorName}`` / eom;
2. negotiator: ``int SEND_RESOURCE_REQUEST_LIST (518) / int N`` / eom;
3. schedd: up to N replies, each ``int JOB_INFO (419) / ad request`` / eom, where the request
   ad carries ``ClusterId``, ``ProcId``, ``AutoClusterId``, ``ResourceRequestCount`` (how
   many matches the schedd wants for this autocluster); or ``int NO_MORE_JOBS (418)`` / eom
   (which ends the list early);
4. for each request, up to ResourceRequestCount times, the negotiator sends either
   ``int PERMISSION_AND_AD (472) / secret claim-id / ad slot`` / eom (the slot ad without
   private attributes, with ``ResourceRequestCluster``/``ResourceRequestProc`` set to the
   request's job id), or -- when no slot is left for it --
   ``int REJECTED_WITH_REASON (476) / string "<reason> |<autocluster>|<cluster>.<proc>|"``
   / eom (``int REJECTED (426)`` / eom when the request did not ask for diagnostics), after
   which the rest of that autocluster is skipped;
5. when the list is used up and no NO_MORE_JOBS was seen, back to step 2;
6. the negotiation of this submitter ends with the schedd's lone ``NO_MORE_JOBS`` answer to
   a request list (the negotiator then sends nothing more), or, when the negotiator stops
   early (submitter limit or ceiling reached, or requests left after a NO_MORE_JOBS that
   followed some JOB_INFOs), with ``int END_NEGOTIATE (425)`` / eom from the negotiator.
"""
from __future__ import annotations

from pyhtc.cedar.commands import Command

#: the negotiation command numbers (condor_commands.h), from pyhtc.cedar.commands
NegCommand = Command


#: NEGOTIATOR_RESOURCE_REQUEST_LIST_SIZE default (param_info.in)
DEFAULT_RRL_SIZE = 200
