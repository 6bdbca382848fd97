"""A tiny collector/master built only from pyhtc.cedar, for the real-client integration tests.

It answers QUERY_STARTD_ADS and QUERY_SCHEDD_ADS from fixed ads (constraints evaluated with
pyhtc.classad), serves ACT_ON_JOBS with forced authentication, and records UPDATE_AD_GENERIC /
UPDATE_STARTD_AD ads (TCP and UDP) and DaemonCore commands (DC_RECONFIG, DAEMON_OFF...).
"""
from __future__ import annotations

from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.cedar.wire_ad import WireAd, to_classad

STARTD_ADS = [
    WireAd.from_values({"MyType": "Machine", "Name": f"slot{i}@fake.example.org",
                        "Machine": "fake.example.org", "Cpus": i * 2, "Memory": 1024 * i,
                        "State": "Unclaimed", "Quote": 'say "hi"\\there',
                        "ClaimId": f"secret-{i}"})
    for i in (1, 2, 3)
]
for _ad in STARTD_ADS:
    _ad.set_expr("Requirements", "TARGET.RequestCpus <= MY.Cpus")
SCHEDD_ADS = [WireAd.from_values({"MyType": "Scheduler", "Name": "schedd@fake.example.org",
                                  "MyAddress": "<127.0.0.1:1234>", "TotalRunningJobs": 7,
                                  "CondorVersion": "$CondorVersion: 25.14.1 $"})]


def _matches(ad: WireAd, constraint: str | None) -> bool:
    """Evaluate the query's Requirements against an ad with pyhtc.classad (lower layer)."""
    if constraint is None:
        return True
    import pyhtc.classad as C
    from pyhtc.classad.oldsyntax import convert_escaping
    return C.ExprTree(convert_escaping(constraint)).eval(to_classad(ad)) is True


class FakeDaemon:
    """Holds what was received; ``server`` is the CommandServer."""

    def __init__(self, policy: SecurityPolicy):
        self.updates: list[tuple[int, str, WireAd, str | None]] = []  # (cmd, proto, ad, user)
        self.commands: list[tuple[int, str | None, bool]] = []  # (cmd, user, encrypted)
        self.queries: list[WireAd] = []
        h = {
            Command.QUERY_STARTD_ADS: self.query(STARTD_ADS),
            Command.QUERY_SCHEDD_ADS: self.query(SCHEDD_ADS),
            Command.UPDATE_AD_GENERIC: self.update,
            Command.UPDATE_STARTD_AD: self.update,
        }
        h[Command.ACT_ON_JOBS] = self.act_on_jobs
        for c in (Command.DC_RECONFIG, Command.DC_RECONFIG_FULL, Command.DC_OFF_FAST,
                  Command.DAEMON_OFF):
            h[c] = self.dc_command
        self.server = CommandServer(policy, {int(k): v for k, v in h.items()})

    def query(self, ads):
        async def handler(stream):
            q = await stream.get_ad()
            await stream.end_of_message()
            self.queries.append(q)
            projection = (q.get_str("Projection") or "").split()
            limit = q.get_int("LimitResults", -1)
            sent = 0
            for ad in ads:
                if limit is not None and 0 <= limit <= sent:
                    break
                if not _matches(ad, q.expr("Requirements")):
                    continue
                stream.put_int(1)
                stream.put_ad(ad, include_private=False, whitelist=projection or None)
                sent += 1
            stream.put_int(0)
            await stream.end_of_message()
        return handler

    async def update(self, stream):
        """UPDATE_*: ad, then (TCP) further `int cmd` + ad messages until DC_NOP / close."""
        proto = stream.transport
        ad = await stream.get_ad()
        await stream.end_of_message()
        self.updates.append((stream.command, proto, ad, stream.peer.user))
        if proto == "udp":
            return
        while True:
            try:
                cmd = await stream.get_int()
            except Exception:
                return
            if cmd == Command.DC_NOP:
                await stream.end_of_message()
                return
            ad = await stream.get_ad()
            await stream.end_of_message()
            self.updates.append((cmd, proto, ad, stream.peer.user))

    async def act_on_jobs(self, stream):
        """ACT_ON_JOBS (PROTOCOL.md 6.5): forced authentication if the session has no
        identity, then the action ad, the result ad and the commit handshake."""
        if not stream.peer.authenticated:
            await stream.authenticate()
        action = await stream.get_ad()
        await stream.end_of_message()
        self.commands.append((stream.command, stream.peer.user, stream.encrypted))
        self.queries.append(action)
        result = WireAd.from_values({"ActionResultType": 2, "ActionResult": 1,
                                     "TotalJobAds": 1, "result_total_0": 0,
                                     "result_total_1": 1, "result_total_2": 0,
                                     "result_total_3": 0, "result_total_4": 0,
                                     "result_total_5": 0, "result_total_6": 0})
        stream.put_ad(result)
        await stream.end_of_message()
        assert await stream.get_int() == 1
        await stream.end_of_message()
        stream.put_int(1)
        await stream.end_of_message()

    async def dc_command(self, stream):
        self.commands.append((stream.command, stream.peer.user, stream.encrypted))
        if stream.command in (Command.DAEMON_OFF,):
            target = await stream.get_string()
            await stream.end_of_message()
            self.commands.append((stream.command, target, stream.encrypted))
