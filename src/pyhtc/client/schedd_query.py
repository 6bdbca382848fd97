"""QUERY_JOB_ADS read in bulk: the job ads of a large queue, a few C-level passes per
thousand ads instead of a Python loop per attribute.

The schedd sends each job ad as its own message and ends with the ``Owner = 0``
terminator ad (src/condor_schedd.V6/schedd.cpp ``QueryJobAdsContinuation::finish``;
PROTOCOL.md 6.4).  :func:`query_job_ads` sends the same request as
:meth:`pyhtc.client.schedd.ScheddClient.query_iter` (condor_q's, src/condor_q.V6/queue.cpp),
takes the reply messages off the socket as they come and decodes their ads all together with
:func:`pyhtc.cedar.wire_ad.get_ads_bulk`: the ads of a projected query (``condor_q -af``)
come back as columns of expression texts (:class:`~pyhtc.cedar.wire_ad.AdColumns`), which
condor_q renders a column at a time.
"""
from __future__ import annotations

from typing import Iterable, Optional

from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import Level
from pyhtc.cedar.wire_ad import AdColumns, WireAd, get_ad, get_ads_bulk

from .schedd import ScheddClient, ScheddError

__all__ = ["query_job_ads", "JobAdBlocks"]

#: what the terminator ad holds (a job ad rarely does: such messages are decoded to check)
_TERMINATOR_MARK = b"Owner = 0\0"
_RECV_BYTES = 1 << 20
#: messages gathered before they are decoded (while more arrive)
_BATCH = 4096
_WHAT = "job ad message"


class JobAdBlocks(list):
    """The job ads of one query, in the order the schedd sent them, as a list of blocks:
    :class:`~pyhtc.cedar.wire_ad.AdColumns` (ads with the same names, by column) or lists
    of :class:`~pyhtc.cedar.wire_ad.WireAd`.  Iterating :meth:`ads` gives every ad as an
    iterable of ``(name, expression text)`` pairs; :meth:`n_ads` counts them."""

    def ads(self) -> list:
        """Every ad, in order: WireAds, or lists of pairs for ads from columns."""
        out: list = []
        for block in self:
            out.extend(block.ads() if isinstance(block, AdColumns) else block)
        return out

    def n_ads(self) -> int:
        """Number of ads."""
        return sum(len(b) for b in self)


def query_job_ads(client: ScheddClient, constraint: Optional[str] = None,
                  projection: Iterable[str] = (), limit: int = -1, opts: int = 0,
                  server_time: bool = True, me: Optional[str] = None,
                  with_auth: bool = False) -> tuple[JobAdBlocks, WireAd]:
    """QUERY_JOB_ADS (or QUERY_JOB_ADS_WITH_AUTH) to ``client``'s schedd; returns the job
    ads as :class:`JobAdBlocks` and the terminator ad (totals: ``Jobs``, ``Idle``, ...,
    ``Allusers*``, ``My*``).  Arguments as :meth:`ScheddClient.query_iter` (``opts`` is
    QueryFetchOpts: 4 my jobs, 8 summary only, 0x10 cluster ads too).

    Raises :class:`~pyhtc.client.schedd.ScheddError` ("Failed to fetch ads from schedd,
    errmsg=...") when the schedd reports an error, the cedar errors
    (:class:`~pyhtc.cedar.errors.ProtocolError` with the message number and offset for a
    malformed ad, ConnectionClosed if the schedd hangs up before the terminator) and OSError
    for transport failures."""
    req = client.query_request(constraint, projection, limit, opts, server_time, me)
    cmd = Command.QUERY_JOB_ADS
    if with_auth and opts & 4 and opts not in (1, 2) \
            and client.policy.negotiation not in (Level.NEVER, Level.OPTIONAL):
        cmd = Command.QUERY_JOB_ADS_WITH_AUTH  # condor_q.cpp: "my jobs" with authentication
    blocks = JobAdBlocks()
    payloads: list[bytes] = []
    done = 0  # messages decoded so far
    with client.start(cmd) as s:
        s.put_ad(req).end_of_message()
        conn, sock = s.conn, s.sock
        crypto_mode = conn.crypto_mode
        summary = None
        while summary is None:
            msg = conn.next_message()
            if msg is None:
                if len(payloads) >= _BATCH:  # decode while the schedd sends the rest
                    blocks.extend(get_ads_bulk(payloads, crypto_mode, _WHAT, done))
                    done += len(payloads)
                    payloads = []
                conn.receive_data(sock.recv(_RECV_BYTES))  # b"": EOF, next_message raises
                continue
            crypto_mode = msg.crypto_mode
            if _TERMINATOR_MARK in msg.payload:
                summary = _terminator(msg, payloads)
            else:
                payloads.append(msg.payload)
    code = summary.get_int("ErrorCode", 0)
    if code:
        raise ScheddError("Failed to fetch ads from schedd, errmsg=TOOL:"
                          f"{code}:{summary.get_str('ErrorString', '')}")
    blocks.extend(get_ads_bulk(payloads, crypto_mode, _WHAT, done))
    return blocks, summary


def _terminator(msg, payloads: list) -> Optional[WireAd]:
    """The ``Owner = 0`` ad if ``msg`` holds it (after any job ads in the same message,
    whose payload bytes then go to ``payloads``), else None (``msg`` is a job ad that
    merely contains the text; its payload goes to ``payloads``)."""
    dec = msg.decoder()
    starts = []
    while dec.remaining:
        starts.append(dec.pos)
        ad = get_ad(dec)
        if ad.expr("Owner") == "0":
            if len(starts) > 1:
                payloads.append(msg.payload[:starts[-1]])
            return ad
    payloads.append(msg.payload)
    return None

