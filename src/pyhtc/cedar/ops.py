"""The two effects a sans-IO CEDAR protocol generator can ask its driver for.

Protocol steps (security handshake, authentication methods, client commands) are written as
generators: they ``yield RECV`` and are sent back the next :class:`~pyhtc.cedar.framing.Message`
(or have :class:`~pyhtc.cedar.errors.ConnectionClosed` thrown in), and ``yield Send(payload)``
to put one message on the wire.  They use the :class:`~pyhtc.cedar.framing.ReliConnection`
they are given only for its encoder mode and to install keys, never for I/O.  The blocking and
asyncio transports and the in-memory test pairs are the drivers (:func:`drive_pair`).
"""
from __future__ import annotations

from dataclasses import dataclass


class _Recv:
    __slots__ = ()

    def __repr__(self) -> str:
        return "RECV"


#: yield this to receive the next message
RECV = _Recv()


@dataclass
class Send:
    """Send one message whose payload is ``payload`` (nothing goes out for b"")."""
    payload: bytes


def drive_pair(gen_a, conn_a, gen_b, conn_b):
    """Run two protocol generators against each other in memory (tests, and proof that the
    core needs no sockets).  Returns ``(result_a, result_b)``; an exception raised by either
    generator propagates.  When one side finishes while the other waits for a message, the
    waiting side sees :class:`~pyhtc.cedar.errors.ConnectionClosed` (the peer closed)."""
    from .errors import ConnectionClosed

    sides = [
        {"gen": gen_a, "conn": conn_a, "peer": conn_b, "value": None, "exc": None,
         "done": False, "result": None, "blocked": False},
        {"gen": gen_b, "conn": conn_b, "peer": conn_a, "value": None, "exc": None,
         "done": False, "result": None, "blocked": False},
    ]
    while not all(s["done"] for s in sides):
        progressed = False
        for s in sides:
            if s["done"]:
                continue
            if s["blocked"]:
                msg = s["conn"].next_message()
                if msg is None:
                    other = sides[1] if s is sides[0] else sides[0]
                    if other["done"]:
                        s["exc"] = ConnectionClosed("peer finished")
                    else:
                        continue
                s["blocked"] = False
                s["value"] = msg
            while True:
                try:
                    if s["exc"] is not None:
                        exc, s["exc"] = s["exc"], None
                        op = s["gen"].throw(exc)
                    else:
                        op = s["gen"].send(s["value"])
                except StopIteration as stop:
                    s["done"], s["result"] = True, stop.value
                    progressed = True
                    break
                s["value"] = None
                progressed = True
                if isinstance(op, Send):
                    s["peer"].receive_data(s["conn"].send_message(op.payload))
                    continue
                msg = s["conn"].next_message()
                if msg is None:
                    s["blocked"] = True
                    break
                s["value"] = msg
        if not progressed:
            raise RuntimeError("protocol deadlock: both sides wait for a message")
    return sides[0]["result"], sides[1]["result"]
