"""HTCondor's user job event log ("user log"): write and read it, byte-compatible.

* :class:`JobEventLog` reads a log (and follows it as it grows), like ``htcondor2.JobEventLog``.
* :class:`UserLog` / :func:`write_event` append events safely from many processes.
* :func:`make_event` builds an event from its type, job id and fields, named as
  ``htcondor2.JobEvent`` shows them; :func:`format_event` gives its text.
* :class:`JobEventType` / :class:`FileTransferEventType` are the event numbers.
* :class:`JobStateTracker` / :func:`job_ads_from_log` reduce a log to one job ad per job
  (``condor_q -userlog``, ``condor_wait``).

Fields of the events most often written (all optional unless marked *; text fields are kept
on one line, newlines becoming ``|`` as in HTCondor)::

    SUBMIT            SubmitHost, LogNotes, UserNotes, Warnings, StructuredNotes (dict)
    EXECUTE           ExecuteHost, SlotName, ExecuteProps (dict)
    EXECUTABLE_ERROR  ExecuteErrorType (0 not executable, 1 bad link)
    JOB_EVICTED       Checkpointed, TerminatedAndRequeued, TerminatedNormally, ReturnValue,
                      TerminatedBySignal, CoreFile, Reason, ReasonCode, ReasonSubCode,
                      RunLocalUsage, RunRemoteUsage, SentBytes, ReceivedBytes
    JOB_TERMINATED    TerminatedNormally, ReturnValue | TerminatedBySignal, CoreFile,
                      Run/Total Local/Remote Usage ("Usr D HH:MM:SS, Sys D HH:MM:SS" or
                      (usr_secs, sys_secs)), SentBytes, ReceivedBytes, TotalSentBytes,
                      TotalReceivedBytes, and the resource table: R, RequestR, RUsage,
                      AssignedR for each resource R (e.g. Cpus, RequestCpus, CpusUsage)
    IMAGE_SIZE        Size, MemoryUsage, ResidentSetSize, ProportionalSetSize
    SHADOW_EXCEPTION  Message, SentBytes, ReceivedBytes
    JOB_ABORTED, JOB_RELEASED, FACTORY_RESUMED   Reason
    JOB_HELD          HoldReason, HoldReasonCode, HoldReasonSubCode
    JOB_SUSPENDED     NumberOfPIDs
    JOB_DISCONNECTED  DisconnectReason*, StartdName*, StartdAddr*
    JOB_RECONNECTED   StartdName*, StartdAddr*, StarterAddr*
    JOB_RECONNECT_FAILED  Reason*, StartdName*
    JOB_AD_INFORMATION    any attributes (TriggerEventTypeNumber adds TriggerEventTypeName)
    CLUSTER_SUBMIT    SubmitHost, StructuredNotes
    CLUSTER_REMOVE    NextProcId, NextRow, Completion (-1 error, 0, 1 complete, 2 paused), Notes
    FACTORY_PAUSED    Reason, PauseCode, HoldCode
    FILE_TRANSFER     Type* (FileTransferEventType), QueueingDelay, Host

Format reference: the HTCondor manual, "Job Event Log Codes"
(docs/codes-other-values/job-event-log-codes.rst) and src/condor_utils/condor_event.cpp.
Not supported: the XML format, and events 041-045 (RESERVE_SPACE .. FILE_REMOVED).
"""
from .adtext import Expression
from .events import JobEvent, format_event, make_event
from .eventtypes import FileTransferEventType, JobEventType
from .header import (ISO_DATE, JSON, SUB_SECOND, UTC, XML, DEFAULT_FORMAT_OPTIONS,
                     parse_format_options)
from .jsonlog import format_event_json
from .reader import JobEventLog, UserLogParseError, read_events
from .state import JobStateTracker, job_ads_from_log
from .writer import UserLog, write_event

__all__ = [
    "JobEventLog", "JobEvent", "JobEventType", "FileTransferEventType", "UserLog",
    "UserLogParseError", "write_event", "make_event", "format_event", "format_event_json",
    "read_events", "Expression", "parse_format_options", "DEFAULT_FORMAT_OPTIONS", "ISO_DATE",
    "UTC", "SUB_SECOND", "XML", "JSON", "JobStateTracker", "job_ads_from_log",
]
