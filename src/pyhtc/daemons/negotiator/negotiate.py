"""The negotiator's side of the NEGOTIATE protocol with a schedd (message sequence in
:mod:`.protocol`; matchmaker.cpp ``startNegotiateProtocol``/``matchmakingProtocol`` and
matchmaker_negotiate.cpp ``ResourceRequestList``).

:class:`ScheddSession` implements :class:`.matchmaker.SubmitterSession` over a CEDAR stream;
:class:`GuardedSession` turns transport failures into "no more requests" so one broken schedd
cannot stop a cycle.
"""
from __future__ import annotations

import asyncio
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.transport_asyncio import open_command
from pyhtc.cedar.wire_ad import WireAd, from_classad, to_classad

from .protocol import NegCommand as N

__all__ = ["GuardedSession", "ProtocolViolation", "ScheddSession", "ad_dict_to_wire"]


def ad_dict_to_wire(d: dict) -> WireAd:
    """A dict of attribute values as a wire ClassAd."""
    return from_classad(C.ClassAd(d))


class ProtocolViolation(CedarError):
    """The schedd answered the NEGOTIATE protocol with something unexpected."""


class ScheddSession:
    """One NEGOTIATE conversation with a schedd (negotiator side), implementing
    :class:`.matchmaker.SubmitterSession`; see :mod:`.protocol` for the message sequence."""

    def __init__(self, stream, rrl_size: int, log):
        self.stream = stream
        self.rrl_size = max(1, rrl_size)
        self.log = log
        self.buffer: list[C.ClassAd] = []
        self.finished = False    # the schedd answered a request list with a lone NO_MORE_JOBS
        self.closed = False

    @classmethod
    async def open(cls, address: str, policy, submitter: str, neg_ad: dict, rrl_size: int,
                   timeout: float, log) -> "ScheddSession":
        """Connect, send NEGOTIATE and the negotiation header ad."""
        host, _, port = address.strip("<>").split("?")[0].rpartition(":")
        stream = await open_command(host.strip("[]"), int(port), int(N.NEGOTIATE), policy,
                                    timeout=timeout)
        stream.put_ad(ad_dict_to_wire(neg_ad))
        await stream.end_of_message()
        return cls(stream, rrl_size, log)

    async def _fetch(self) -> None:
        s = self.stream
        s.put_int(int(N.SEND_RESOURCE_REQUEST_LIST)).put_int(self.rrl_size)
        await s.end_of_message()
        got = 0
        for _ in range(self.rrl_size):
            reply = await s.get_int()
            if reply == N.NO_MORE_JOBS:
                await s.end_of_message()
                if got == 0:
                    self.finished = True
                return
            if reply != N.JOB_INFO:
                raise ProtocolViolation(f"schedd sent command {reply} where JOB_INFO ({int(N.JOB_INFO)}) "
                                        f"or NO_MORE_JOBS ({int(N.NO_MORE_JOBS)}) was expected")
            ad = await s.get_ad()
            await s.end_of_message()
            self.buffer.append(to_classad(ad))
            got += 1

    async def next_request(self) -> Optional[C.ClassAd]:
        if not self.buffer and not self.finished:
            await self._fetch()
        return self.buffer.pop(0) if self.buffer else None

    async def send_match(self, request: C.ClassAd, slot_ad: C.ClassAd, claim_id: str) -> bool:
        s = self.stream
        s.put_int(int(N.PERMISSION_AND_AD)).put_string(claim_id)
        s.put_ad(from_classad(slot_ad), include_private=False)
        await s.end_of_message()
        return True

    async def send_reject(self, request: C.ClassAd, reason: str) -> bool:
        s = self.stream
        diag = request.get("WantMatchDiagnostics", 0)
        if isinstance(diag, int) and diag > 0:
            text = reason
            if diag & 2:
                text += f" |{request.get('AutoClusterId', -1)}|{request.get('ClusterId', -1)}." \
                        f"{request.get('ProcId', -1)}|"
            s.put_int(int(N.REJECTED_WITH_REASON)).put_string(text)
        else:
            s.put_int(int(N.REJECTED))
        await s.end_of_message()
        return True

    async def end(self, early: bool) -> None:
        try:
            if early or not self.finished:
                self.stream.put_int(int(N.END_NEGOTIATE))
                await self.stream.end_of_message()
        finally:
            await self.close()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                await self.stream.close()
            except (OSError, CedarError):
                pass


class GuardedSession:
    """Turns transport failures of a :class:`ScheddSession` into False/None results (the
    core then drops the submitter for this cycle), logging them."""

    def __init__(self, inner: ScheddSession, who: str, log):
        self.inner, self.who, self.log = inner, who, log

    async def _call(self, coro, failed):
        try:
            return await coro
        except (CedarError, OSError, EOFError, asyncio.TimeoutError, ValueError, SyntaxError) as exc:
            self.log(f"    Negotiation with {self.who} failed: {type(exc).__name__}: {exc}")
            await self.inner.close()
            return failed

    async def next_request(self):
        return await self._call(self.inner.next_request(), None)

    async def send_match(self, request, slot_ad, claim_id):
        return await self._call(self.inner.send_match(request, slot_ad, claim_id), False)

    async def send_reject(self, request, reason):
        return await self._call(self.inner.send_reject(request, reason), False)

    async def end(self, early):
        await self._call(self.inner.end(early), None)
