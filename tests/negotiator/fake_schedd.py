"""A fake schedd built only from pyhtc.cedar: it answers the NEGOTIATE protocol (schedd
side, as schedd_negotiate.cpp does) from fixed per-owner resource requests and records every
message the negotiator sends.  Runs its own asyncio loop in a thread."""
from __future__ import annotations

import asyncio
import threading

from pyhtc import classad as C
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.daemons.negotiator.protocol import NegCommand as N


class FakeSchedd:
    """``requests``: owner -> list of (cluster, autocluster, idle count, requirements)."""

    def __init__(self, requests: dict[str, list[tuple]]):
        self.idle = {o: [list(r) for r in reqs] for o, reqs in requests.items()}
        self.matches: list[dict] = []       # owner, claim, slot ad, cluster, proc
        self.rejects: list[tuple[str, str]] = []
        self.sessions: list[dict] = []      # one per NEGOTIATE: owner, header, how it ended
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.server = CommandServer(SecurityPolicy(), {int(N.NEGOTIATE): self.negotiate})
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start("127.0.0.1", 0))
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)
        self.sinful = f"<127.0.0.1:{self.server.port}>"

    def stop(self):
        fut = asyncio.run_coroutine_threadsafe(self.server.close(), self.loop)
        fut.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _request_ads(self, owner):
        out = []
        for cluster, ac, count, req in self.idle.get(owner, []):
            if count <= 0:
                continue
            ad = C.ClassAd({"MyType": "Job", "Owner": owner.split("@")[0], "User": owner,
                            "ClusterId": cluster, "ProcId": 0, "AutoClusterId": ac,
                            "ResourceRequestCount": count, "RequestCpus": 1, "RequestMemory": 100,
                            "RequestDisk": 1000, "WantMatchDiagnostics": 3, "JobUniverse": 5})
            ad["Requirements"] = C.ExprTree(req)
            out.append(ad)
        return out

    async def negotiate(self, stream):
        header = to_classad(await stream.get_ad())
        await stream.end_of_message()
        owner = header["Owner"]
        session = {"owner": owner, "header": header, "end": None, "lists": 0}
        with self.lock:
            self.sessions.append(session)
        pending = self._request_ads(owner)
        if owner.startswith("evil"):
            # a broken schedd: answers the request list with a command that is not JOB_INFO
            await stream.get_int()
            await stream.get_int()
            await stream.end_of_message()
            stream.put_int(12345)
            await stream.end_of_message()
            session["end"] = "sent garbage"
            return
        while True:
            op = await stream.get_int()
            if op == N.SEND_RESOURCE_REQUEST_LIST:
                n = await stream.get_int()
                await stream.end_of_message()
                session["lists"] += 1
                sent = 0
                while sent < n and pending:
                    stream.put_int(int(N.JOB_INFO)).put_ad(from_classad(pending.pop(0)))
                    await stream.end_of_message()
                    sent += 1
                if sent < n:
                    stream.put_int(int(N.NO_MORE_JOBS))
                    await stream.end_of_message()
                    if sent == 0:
                        session["end"] = "NO_MORE_JOBS"
                        return
            elif op == N.PERMISSION_AND_AD:
                claim = await stream.get_string()
                ad = to_classad(await stream.get_ad())
                await stream.end_of_message()
                cluster = ad.get("ResourceRequestCluster")
                with self.lock:
                    self.matches.append({"owner": owner, "claim": claim, "slot": ad,
                                         "cluster": cluster, "proc": ad.get("ResourceRequestProc")})
                    for r in self.idle[owner]:
                        if r[0] == cluster:
                            r[2] -= 1
            elif op == N.REJECTED_WITH_REASON:
                reason = await stream.get_string()
                if not await stream.peek_end_of_message():
                    await stream.get_ad()
                await stream.end_of_message()
                with self.lock:
                    self.rejects.append((owner, reason))
            elif op == N.REJECTED:
                await stream.end_of_message()
                with self.lock:
                    self.rejects.append((owner, ""))
            elif op == N.END_NEGOTIATE:
                await stream.end_of_message()
                session["end"] = "END_NEGOTIATE"
                return
            else:
                session["end"] = f"unexpected {op}"
                return
