"""Text of each event's body: writing it from fields and reading fields back from it.

An event's *fields* are the event-specific attributes of its ClassAd form, named as
``htcondor2.JobEvent`` shows them (``HoldReason``, ``ReturnValue``, ``RunRemoteUsage``...).
Each event type has a formatter (fields -> body text) and a parser (body lines -> fields),
in :mod:`.body_job` and :mod:`.body_other`.  The formats, the defaults of missing fields and
the parser's tolerance are those of the ``formatBody``, ``readEvent`` and ``toClassAd``
methods of each event class in HTCondor's src/condor_utils/condor_event.cpp.

The body text starts right after the header's date and time (so its first line shares the
header line) and ends with a newline; the ``...`` separator is not part of it.
"""
from __future__ import annotations

from .body_job import (FILE_TRANSFER_TEXT, _fmt_checkpointed, _fmt_evicted, _fmt_execute,
                       _fmt_executable_error, _fmt_file_transfer, _fmt_generic, _fmt_held,
                       _fmt_image_size, _fmt_node_execute, _fmt_node_terminated,
                       _fmt_reason_event, _fmt_shadow_exception, _fmt_submit, _fmt_suspended,
                       _fmt_terminated, _fmt_unsuspended, _parse_aborted, _parse_checkpointed,
                       _parse_evicted, _parse_executable_error, _parse_execute,
                       _parse_file_transfer, _parse_generic, _parse_held, _parse_image_size,
                       _parse_node_execute, _parse_node_terminated, _parse_released,
                       _parse_shadow_exception, _parse_submit, _parse_suspended,
                       _parse_terminated, _parse_unsuspended)
from .body_other import (_banner_only, _fmt_attribute_update, _fmt_cluster_remove,
                         _fmt_cluster_submit, _fmt_common_files, _fmt_disconnected, _fmt_ep,
                         _fmt_factory_paused, _fmt_future, _fmt_grid, _fmt_job_ad,
                         _fmt_post_script, _fmt_preskip, _fmt_reconnect_failed,
                         _fmt_reconnected, _fmt_remote_error, _parse_attribute_update,
                         _parse_cluster_remove, _parse_cluster_submit, _parse_common_files,
                         _parse_dataflow_skipped, _parse_disconnected, _parse_factory_paused,
                         _parse_factory_resumed, _parse_future, _parse_grid, _parse_job_ad,
                         _parse_post_script, _parse_preskip, _parse_reconnect_failed,
                         _parse_reconnected, _parse_remote_error)
from .bodybase import (HINT_PAYLOAD, HINT_USAGE, BodyError, Lines, clean_text,
                       parse_long_form as _parse_long_form)

__all__ = ["BodyError", "Lines", "format_body", "parse_body", "FILE_TRANSFER_TEXT",
           "clean_text"]


# --------------------------------------------------------------------- registry -------------

_FORMATTERS = {
    0: _fmt_submit, 1: _fmt_execute, 2: _fmt_executable_error, 3: _fmt_checkpointed,
    4: _fmt_evicted, 5: _fmt_terminated, 6: _fmt_image_size, 7: _fmt_shadow_exception,
    8: _fmt_generic, 9: _fmt_reason_event("Job was aborted."), 10: _fmt_suspended,
    11: _fmt_unsuspended, 12: _fmt_held, 13: _fmt_reason_event("Job was released."),
    14: _fmt_node_execute, 15: _fmt_node_terminated, 16: _fmt_post_script,
    21: _fmt_remote_error, 22: _fmt_disconnected, 23: _fmt_reconnected,
    24: _fmt_reconnect_failed,
    25: _fmt_grid("Grid Resource Back Up", False), 26: _fmt_grid("Detected Down Grid Resource", False),
    27: _fmt_grid("Job submitted to grid resource", True), 28: _fmt_job_ad,
    33: _fmt_attribute_update, 34: _fmt_preskip, 35: _fmt_cluster_submit,
    36: _fmt_cluster_remove, 37: _fmt_factory_paused,
    38: _fmt_reason_event("Job Materialization Resumed"), 40: _fmt_file_transfer,
    46: _fmt_reason_event("Dataflow job was skipped."), 47: _fmt_common_files,
}
_PARSERS = {
    0: _parse_submit, 1: _parse_execute, 2: _parse_executable_error, 3: _parse_checkpointed,
    4: _parse_evicted, 5: _parse_terminated, 6: _parse_image_size, 7: _parse_shadow_exception,
    8: _parse_generic, 9: _parse_aborted, 10: _parse_suspended, 11: _parse_unsuspended,
    12: _parse_held, 13: _parse_released, 14: _parse_node_execute, 15: _parse_node_terminated,
    16: _parse_post_script, 21: _parse_remote_error, 22: _parse_disconnected,
    23: _parse_reconnected, 24: _parse_reconnect_failed,
    25: _parse_grid("Grid Resource Back Up", False),
    26: _parse_grid("Detected Down Grid Resource", False),
    27: _parse_grid("Job submitted to grid resource", True), 28: _parse_job_ad,
    33: _parse_attribute_update, 34: _parse_preskip, 35: _parse_cluster_submit,
    36: _parse_cluster_remove, 37: _parse_factory_paused, 38: _parse_factory_resumed,
    40: _parse_file_transfer, 46: _parse_dataflow_skipped, 47: _parse_common_files,
}
for _n, _banner in ((29, "The job's remote status is unknown"),
                    (30, "The job's remote status is known again")):
    _FORMATTERS[_n], _PARSERS[_n] = _banner_only(_banner)

# Numbers HTCondor reads as a generic "FutureEvent" (instantiateEvent's default branch).
FUTURE_EVENT_NUMBERS = frozenset({17, 18, 19, 20, 31, 32, 39})
# Events HTCondor 25 defines that this module does not yet write or read field by field.
UNSUPPORTED_NUMBERS = frozenset({41, 42, 43, 44, 45})


def is_ep_event(number: int) -> bool:
    """True for execution-point (startd) event-log events, 100 and up."""
    return 100 <= number <= 112


def format_body(number: int, fields) -> str:
    """Body text of an event of type ``number`` from its fields.

    Raises ValueError for a type this module cannot write or fields the type requires.
    """
    fmt = _FORMATTERS.get(number)
    if fmt is None:
        if is_ep_event(number):
            return _fmt_ep(fields)
        if number in FUTURE_EVENT_NUMBERS or number not in UNSUPPORTED_NUMBERS and number > 47:
            return _fmt_future(fields)
        raise ValueError(f"writing event type {number} is not supported")
    return fmt(fields)


def parse_body(number: int, lines: list[str]) -> dict:
    """Fields of an event of type ``number`` from its body lines (first = rest of header).

    Raises :class:`BodyError` (with the index of the offending line) where HTCondor's reader
    would fail to read the event.
    """
    parser = _PARSERS.get(number)
    cursor = Lines(lines)
    if parser is not None:
        return parser(cursor)
    if is_ep_event(number):
        out = {}
        head = cursor.next()
        while True:
            line = cursor.next()
            if line is None:
                break
            kv = _parse_long_form(line)
            if kv:
                out[kv[0]] = kv[1]
        out["EventHead"] = head or ""
        return out
    if number in UNSUPPORTED_NUMBERS:
        raise BodyError(f"reading event type {number:03d} is not supported yet", 0)
    return _parse_future(cursor)


def merge_job_ad(base: dict, ad: dict) -> dict:
    """JOB_AD_INFORMATION's ClassAd: ``base`` plus attributes of ``ad`` it lacks
    (MergeClassAds without overwriting, names compared case-insensitively)."""
    have = {k.lower() for k in base}
    out = dict(base)
    for k, v in ad.items():
        if k.lower() not in have:
            out[k] = v
            have.add(k.lower())
    return out


__all__ += ["merge_job_ad", "is_ep_event", "FUTURE_EVENT_NUMBERS", "UNSUPPORTED_NUMBERS",
            "HINT_USAGE", "HINT_PAYLOAD", "split_hints"]


def split_hints(fields: dict) -> tuple[dict, dict]:
    """Separate parser hints (keys starting with a space) from real fields."""
    hints = {k: v for k, v in fields.items() if k.startswith(" ")}
    if not hints:
        return fields, {}
    return {k: v for k, v in fields.items() if not k.startswith(" ")}, hints

