"""``Collector``: query, locate and advertise through a pool's collector (htcondor2.Collector)."""
from __future__ import annotations

from typing import List, Optional, Union

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient, DaemonNotFound

from ._enums import AdType, DaemonType
from ._errors import HTCondorException
from ._param import get_config

__all__ = ["Collector"]

#: AdType -> (pyhtc.client ad-type name, TargetType sent when it differs from the default)
_QUERY = {
    AdType.Startd: ("Startd", None), AdType.Slot: ("Startd", None),
    AdType.StartDaemon: ("Startd", "StartD"), AdType.StartdPrivate: ("StartdPrivate", None),
    AdType.Schedd: ("Schedd", None), AdType.Master: ("Master", None),
    AdType.Submitter: ("Submitter", None), AdType.Collector: ("Collector", None),
    AdType.Negotiator: ("Negotiator", None), AdType.Accounting: ("Accounting", None),
    AdType.Any: ("Any", None),
}
_LOCATE = {
    DaemonType.Master: "master", DaemonType.Schedd: "schedd", DaemonType.Startd: "startd",
    DaemonType.Collector: "collector", DaemonType.Negotiator: "negotiator",
}
_LOCATE_TYPES = {
    DaemonType.Master: AdType.Master, DaemonType.Schedd: AdType.Schedd,
    DaemonType.Startd: AdType.Startd, DaemonType.Collector: AdType.Collector,
    DaemonType.Negotiator: AdType.Negotiator,
}


class Collector:
    """A pool's collector.

    ``pool``: ``"host[:port]"``, a list of them, a location ClassAd (its ``MyAddress``), or
    None for COLLECTOR_HOST. Errors talking to it raise :class:`HTCondorException` with
    htcondor2's message ("Failed communication with collector.").
    """

    def __init__(self, pool: Union[str, C.ClassAd, List[str], tuple, None] = None, security=None):
        if isinstance(pool, C.ClassAd):
            pool = pool.get("MyAddress")
        elif isinstance(pool, (list, tuple)):
            pool = ",".join(pool)
        self.default = pool is None
        try:
            self._client = CollectorClient(pool, get_config())
        except DaemonNotFound as exc:
            raise HTCondorException(str(exc)) from None

    def query(self, ad_type: AdType = AdType.Any, constraint=None, projection: Optional[List[str]] = None,
              statistics: Optional[str] = None) -> List[C.ClassAd]:
        """Ads of ``ad_type`` matching ``constraint`` (a string or ExprTree), projected."""
        ad_type = AdType(ad_type)
        if ad_type in _QUERY:
            name, target = _QUERY[ad_type]
        else:  # Generic, Credd, Defrag, Grid, ...: QUERY_GENERIC_ADS with TargetType = the type
            name, target = "Generic", ad_type.name
        cons = None if constraint is None else str(constraint) if not isinstance(constraint, C.ExprTree) else repr(constraint)
        try:
            return self._client.query(name, cons, projection or None, target_type=target)
        except (OSError, ValueError, EOFError) as exc:
            raise HTCondorException("Failed communication with collector.") from exc
        except Exception as exc:  # protocol and security failures
            if type(exc).__module__.startswith("pyhtc.cedar"):
                raise HTCondorException("Failed communication with collector.") from exc
            raise

    #: the attributes a locate asks for (htcondor2's Collector._for_location)
    _for_location = ["MyAddress", "AddressV1", "CondorVersion", "CondorPlatform", "Name", "Machine"]

    def locate(self, daemon_type: DaemonType, name: Optional[str] = None) -> Optional[C.ClassAd]:
        """Enough of a daemon's ad to contact it: by ``name`` (None when no such daemon), else
        the first of its type in a given pool, else the local daemon of that type (its
        address file, then the collector), as htcondor2 does."""
        daemon_type = DaemonType(daemon_type)
        if daemon_type not in _LOCATE_TYPES:
            raise HTCondorException(f"cannot locate daemons of type {daemon_type.name}")
        ad_type = _LOCATE_TYPES[daemon_type]
        if name is not None or not self.default:
            cons = None if name is None else f'Name == "{name}"'
            ads = self.query(ad_type, cons, self._for_location)
            return ads[0] if ads else None
        from pyhtc.client import locate_daemon
        try:
            sinful = locate_daemon(_LOCATE[daemon_type], config=get_config())
        except DaemonNotFound:
            raise HTCondorException("Unable to locate local daemon.") from None
        ads = self.query(ad_type, f'MyAddress == "{sinful}"', self._for_location)
        return ads[0] if ads else C.ClassAd({"MyAddress": sinful, "MyType": ad_type.name})

    def locateAll(self, daemon_type: DaemonType) -> List[C.ClassAd]:
        """The ads of every daemon of ``daemon_type``."""
        return self.query(_LOCATE_TYPES[DaemonType(daemon_type)])

    def advertise(self, ad_list: List[C.ClassAd], command: str = "UPDATE_AD_GENERIC",
                  use_tcp: bool = True) -> None:
        """Send the ads with the update command named ``command`` (e.g. UPDATE_STARTD_AD)."""
        try:
            cmd = Command[command]
        except KeyError:
            raise ValueError(f"invalid command {command!r}") from None
        try:
            self._client.advertise(ad_list, cmd, use_tcp=use_tcp)
        except OSError as exc:
            raise HTCondorException("Failed to advertise to collector.") from exc
