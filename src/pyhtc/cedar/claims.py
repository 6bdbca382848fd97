"""Command numbers and reply codes of the startd's claim protocols.

Command numbers come from :mod:`pyhtc.cedar.commands`; the reply and refusal codes are
from src/condor_includes/condor_commands.h.
"""
from __future__ import annotations

from pyhtc.cedar.commands import Command, command_name

CONTINUE_CLAIM = int(Command.CONTINUE_CLAIM)
SUSPEND_CLAIM = int(Command.SUSPEND_CLAIM)
DEACTIVATE_CLAIM = int(Command.DEACTIVATE_CLAIM)
DEACTIVATE_CLAIM_FORCIBLY = int(Command.DEACTIVATE_CLAIM_FORCIBLY)
ALIVE = int(Command.ALIVE)
REQUEST_CLAIM = int(Command.REQUEST_CLAIM)
RELEASE_CLAIM = int(Command.RELEASE_CLAIM)
ACTIVATE_CLAIM = int(Command.ACTIVATE_CLAIM)

COMMAND_NAMES = {c: command_name(c) for c in (
    CONTINUE_CLAIM, SUSPEND_CLAIM, DEACTIVATE_CLAIM, DEACTIVATE_CLAIM_FORCIBLY, ALIVE,
    REQUEST_CLAIM, RELEASE_CLAIM, ACTIVATE_CLAIM)}

# reply codes (condor_commands.h)
NOT_OK = 0
OK = 1
CONDOR_TRY_AGAIN = 2
REQUEST_CLAIM_LEFTOVERS = 3
REQUEST_CLAIM_LEFTOVERS_2 = 5
REQUEST_CLAIM_SLOT_AD = 7

# hold / vacate codes (src/condor_utils/condor_holdcodes.h)
HOLD_STARTD_HELD_JOB = 21
HOLD_JOB_OUT_OF_RESOURCES = 34
SUBCODE_OUT_OF_MEMORY = 102
ACTIVATION_REFUSED_BAD_REQUEST = 1026
ACTIVATION_REFUSED_NO_MATCH = 1027
ACTIVATION_REFUSED_STILL_CLEANING = 1028
ACTIVATION_REFUSED_WORKLIFE_EXPIRED = 1029
ACTIVATION_REFUSED_NOT_IDLE = 1032
ACTIVATION_REFUSED_UNCLAIMED = 1033
