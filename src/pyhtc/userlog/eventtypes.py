"""Job event numbers and names of the user job event log.

The numbers are the on-disk contract: they are the three-digit code that starts every event
header (``005 (123.000.000) ...``).  They follow ``ULogEventNumber`` in HTCondor's
src/condor_utils/condor_event.h and the table in the manual
(docs/codes-other-values/job-event-log-codes.rst); the member names mirror
``htcondor2.JobEventType``.
"""
from __future__ import annotations

import enum

__all__ = ["JobEventType", "FileTransferEventType", "MY_TYPE_NAMES", "ULOG_NAMES", "my_type_name",
           "ulog_name"]


class JobEventType(enum.IntEnum):
    """Type of a job event; the value is the event number written in the log."""

    SUBMIT = 0
    EXECUTE = 1
    EXECUTABLE_ERROR = 2
    CHECKPOINTED = 3
    JOB_EVICTED = 4
    JOB_TERMINATED = 5
    IMAGE_SIZE = 6
    SHADOW_EXCEPTION = 7
    GENERIC = 8
    JOB_ABORTED = 9
    JOB_SUSPENDED = 10
    JOB_UNSUSPENDED = 11
    JOB_HELD = 12
    JOB_RELEASED = 13
    NODE_EXECUTE = 14
    NODE_TERMINATED = 15
    POST_SCRIPT_TERMINATED = 16
    GLOBUS_SUBMIT = 17
    GLOBUS_SUBMIT_FAILED = 18
    GLOBUS_RESOURCE_UP = 19
    GLOBUS_RESOURCE_DOWN = 20
    REMOTE_ERROR = 21
    JOB_DISCONNECTED = 22
    JOB_RECONNECTED = 23
    JOB_RECONNECT_FAILED = 24
    GRID_RESOURCE_UP = 25
    GRID_RESOURCE_DOWN = 26
    GRID_SUBMIT = 27
    JOB_AD_INFORMATION = 28
    JOB_STATUS_UNKNOWN = 29
    JOB_STATUS_KNOWN = 30
    JOB_STAGE_IN = 31
    JOB_STAGE_OUT = 32
    ATTRIBUTE_UPDATE = 33
    PRESKIP = 34
    CLUSTER_SUBMIT = 35
    CLUSTER_REMOVE = 36
    FACTORY_PAUSED = 37
    FACTORY_RESUMED = 38
    NONE = 39
    FILE_TRANSFER = 40
    RESERVE_SPACE = 41
    RELEASE_SPACE = 42
    FILE_COMPLETE = 43
    FILE_USED = 44
    FILE_REMOVED = 45
    DATAFLOW_JOB_SKIPPED = 46
    COMMON_FILES = 47

    # Events of the execution point (startd) event log.
    EP_STARTUP = 100
    EP_READY = 101
    EP_RECONFIG = 102
    EP_SHUTDOWN = 103
    EP_REQUEST_CLAIM = 104
    EP_RELEASE_CLAIM = 105
    EP_ACTIVATE_CLAIM = 106
    EP_DEACTIVATE_CLAIM = 107
    EP_VACATE_CLAIM = 108
    EP_DRAIN = 109
    EP_RESOURCE_BREAK = 110
    EP_RESOURCE_MEND = 111


class FileTransferEventType(enum.IntEnum):
    """The ``Type`` of a FILE_TRANSFER (040) event (``FileTransferEventType`` in condor_event.h)."""

    IN_QUEUED = 1
    IN_STARTED = 2
    IN_FINISHED = 3
    OUT_QUEUED = 4
    OUT_STARTED = 5
    OUT_FINISHED = 6


# ``MyType`` of the ClassAd form of each event (ULogEvent::toClassAd in condor_event.cpp).
# Numbers HTCondor reads as a "FutureEvent" (17-20, 31, 32, 34 has its own, 39 and unknown
# numbers) are handled by my_type_name().
MY_TYPE_NAMES: dict[int, str] = {
    0: "SubmitEvent", 1: "ExecuteEvent", 2: "ExecutableErrorEvent", 3: "CheckpointedEvent",
    4: "JobEvictedEvent", 5: "JobTerminatedEvent", 6: "JobImageSizeEvent",
    7: "ShadowExceptionEvent", 8: "GenericEvent", 9: "JobAbortedEvent",
    10: "JobSuspendedEvent", 11: "JobUnsuspendedEvent", 12: "JobHeldEvent",
    13: "JobReleaseEvent", 14: "NodeExecuteEvent", 15: "NodeTerminatedEvent",
    16: "PostScriptTerminatedEvent", 21: "RemoteErrorEvent", 22: "JobDisconnectedEvent",
    23: "JobReconnectedEvent", 24: "JobReconnectFailedEvent", 25: "GridResourceUpEvent",
    26: "GridResourceDownEvent", 27: "GridSubmitEvent", 28: "JobAdInformationEvent",
    33: "AttributeUpdateEvent", 35: "ClusterSubmitEvent", 36: "ClusterRemoveEvent",
    37: "FactoryPausedEvent", 38: "FactoryResumedEvent", 40: "FileTransferEvent",
    41: "ReserveSpaceEvent", 42: "ReleaseSpaceEvent", 43: "FileCompleteEvent",
    44: "FileUsedEvent", 45: "FileRemovedEvent", 46: "DataflowJobSkippedEvent",
    47: "CommonFilesEvent",
    100: "EPStartupEvent", 101: "EPReadyEvent", 102: "EPReconfigEvent", 103: "EPShutdownEvent",
    104: "RequestClaimEvent", 105: "ReleaseClaimEvent", 106: "ActivateClaimEvent",
    107: "DeactivateClaimEvent", 108: "VacateClaimEvent", 109: "DrainEvent",
    110: "ResourceBreakEvent", 111: "ResourceMendEvent",
}

# ULOG_* names (ULogEventNumberNames in condor_event.cpp); used by JOB_AD_INFORMATION's
# TriggerEventTypeName.
ULOG_NAMES: dict[int, str] = {int(t): "ULOG_" + t.name for t in JobEventType}


def my_type_name(number: int) -> str:
    """``MyType`` HTCondor gives the ClassAd of event ``number`` ("FutureEvent" when unknown)."""
    return MY_TYPE_NAMES.get(number, "FutureEvent")


def ulog_name(number: int) -> str:
    """``ULOG_<NAME>`` of an event number, "ULOG_FUTURE_EVENT" for an unknown one."""
    return ULOG_NAMES.get(number, "ULOG_FUTURE_EVENT")
