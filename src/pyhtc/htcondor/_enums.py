"""The enumerations of the htcondor2 module, with HTCondor's names and numbers.

Values are the command numbers, ad-type and daemon-type codes HTCondor itself uses
(src/condor_includes/condor_commands.h, condor_adtypes.h, daemon_types.h, proc.h); the plural
names (``AdTypes``, ``DaemonTypes`` ...) are aliases, as in htcondor2.
"""
import enum

from pyhtc.userlog import FileTransferEventType, JobEventType

__all__ = ["AdType", "AdTypes", "DaemonType", "DaemonTypes", "DaemonCommand", "DaemonCommands",
           "JobAction", "JobStatus", "SubsystemType", "TransactionFlag", "TransactionFlags",
           "QueryOpt", "QueryOpts", "VacateType", "DrainType", "DrainTypes", "SubmitMethod",
           "CompletionType", "LogLevel", "HistorySrc", "CommonFilesEventType", "CredType",
           "CredTypes", "JobEventType", "FileTransferEventType"]


class AdType(enum.IntEnum):
    """Collector ad types (condor_adtypes.h AdTypes)."""
    Startd = 0
    Schedd = 1
    Master = 2
    StartdPrivate = 5
    Submitter = 6
    Collector = 7
    License = 8
    Any = 10
    Negotiator = 13
    HAD = 14
    Generic = 15
    Credd = 16
    Grid = 19
    Placementd = 20
    Defrag = 22
    Accounting = 23
    Slot = 24
    StartDaemon = 25


AdTypes = AdType


class DaemonType(enum.IntEnum):
    """Daemon types (daemon_types.h daemon_t)."""
    none = 0
    Any = 1
    Master = 2
    Schedd = 3
    Startd = 4
    Collector = 5
    Negotiator = 6
    Credd = 13
    Placementd = 15
    HAD = 17
    Generic = 18


DaemonTypes = DaemonType


class DaemonCommand(enum.IntEnum):
    """Commands for :func:`send_command` (condor_commands.h)."""
    DaemonOn = 469
    DaemonOff = 467
    DaemonOffFast = 468
    DaemonsOn = 483
    DaemonsOff = 454
    DaemonsOffFast = 461
    DaemonsOffPeaceful = 484
    OffFast = 60006
    OffForce = 60042
    OffGraceful = 60005
    OffPeaceful = 60015
    Reconfig = 60004
    Restart = 453
    RestartPeaceful = 485
    SetForceShutdown = 60041
    SetPeacefulShutdown = 60016


DaemonCommands = DaemonCommand


class JobAction(enum.IntEnum):
    """ACT_ON_JOBS actions (proc.h JobAction)."""
    Hold = 1
    Release = 2
    Remove = 3
    RemoveX = 4
    Vacate = 5
    VacateFast = 6
    Suspend = 8
    Continue = 9


class JobStatus(enum.IntEnum):
    """The JobStatus attribute's values."""
    IDLE = 1
    RUNNING = 2
    REMOVED = 3
    COMPLETED = 4
    HELD = 5
    TRANSFERRING_OUTPUT = 6
    SUSPENDED = 7


class SubsystemType(enum.IntEnum):
    """Subsystem types (for set_subsystem)."""
    Master = 1
    Collector = 2
    Negotiator = 3
    Schedd = 4
    Shadow = 5
    Startd = 6
    Starter = 7
    GAHP = 8
    Dagman = 9
    SharedPort = 10
    Daemon = 11
    Tool = 12
    Submit = 13
    Job = 14
    Auto = 15


class TransactionFlag(enum.IntFlag):
    """Flags of a queue transaction (qmgmt SetAttributeFlags)."""
    Default = 0
    NonDurable = 1
    SetDirty = 4
    ShouldLog = 8


TransactionFlags = TransactionFlag


class QueryOpt(enum.IntFlag):
    """Options of Schedd.query (QueryFetchOpts)."""
    Default = 0
    AutoCluster = 1
    GroupBy = 2
    DefaultMyJobsOnly = 4
    SummaryOnly = 8
    IncludeClusterAd = 16
    IncludeJobsetAds = 32


QueryOpts = QueryOpt


class VacateType(enum.IntEnum):
    Graceful = 0
    Fast = 1


class DrainType(enum.IntEnum):
    Graceful = 0
    Quick = 10
    Fast = 20


DrainTypes = DrainType


class SubmitMethod(enum.IntEnum):
    """Values of the JobSubmitMethod attribute."""
    CondorSubmit = 0
    DAGMan = 1
    PythonBindings = 2
    HTCondorJobSubmit = 3
    HTCondorDagSubmit = 4
    HTCondorJobSetSubmit = 5
    UserSet = 100


class CompletionType(enum.IntEnum):
    Nothing = 0
    Resume = 1
    Exit = 2
    Restart = 3
    Reconfig = 4


class LogLevel(enum.IntFlag):
    """dprintf categories and header flags."""
    Always = 0
    Error = 1
    Status = 2
    Job = 4
    Machine = 5
    Config = 6
    Protocol = 7
    Priv = 8
    DaemonCore = 9
    Verbose = 10
    Security = 11
    Network = 14
    Hostname = 22
    Audit = 24
    FullDebug = 1024
    SubSecond = 67108864
    Timestamp = 134217728
    PID = 268435456
    NoHeader = 2147483648


class HistorySrc(enum.IntEnum):
    ScheddJob = 0
    StartdJob = 1
    JobEpoch = 2
    Daemon = 3


class CommonFilesEventType(enum.IntEnum):
    TransferQueued = 1
    TransferStarted = 2
    TransferFinished = 3
    WaitStarted = 4
    WaitFinished = 5


class CredType(enum.IntEnum):
    Password = 36
    Kerberos = 32
    OAuth = 40


CredTypes = CredType
