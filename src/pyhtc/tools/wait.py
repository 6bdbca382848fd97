"""``condor_wait``: wait for jobs recorded in a job event log to finish
(src/condor_tools/wait.cpp; manual docs/man-pages/condor_wait.rst).

    condor_wait [-status] [-echo] [-wait SECONDS] [-num N] LOG-FILE [cluster[.proc[.subproc]]]

Reads the log from the start, tracking each job's submit (005-style ``000`` event),
termination (``005``) and abort (``009``).  Prints ``All jobs done.`` and exits 0 once every
submitted job (of the given id, if any) has terminated or been aborted, ``Specifed number of
jobs (N) done.`` with ``-num``; ``Time expired.`` and exit 1 when ``-wait`` runs out.
``-status`` prints ``c.p.s submitted|completed|aborted|executing on host H`` as events come.
"""
from __future__ import annotations

import sys
import time
from typing import Optional

from pyhtc.userlog import JobEventLog, JobEventType, UserLogParseError

POLL = 0.2


def usage(prog: str = "condor_wait") -> None:
    """wait.cpp's usage text (abbreviated)."""
    sys.stderr.write(f"\nUse: {prog} [options] <log-file> [job-number]\nWhere options are:\n"
                     "    -help             Display options\n"
                     "    -status           Show job start and terminate info\n"
                     "    -echo             Echo log events relevant to [job-number]\n"
                     "    -wait <seconds>   Wait no more than this time\n"
                     "    -num <number>     Wait for this many jobs to end\n"
                     "                       (default is all jobs)\n\n")


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point; returns the exit status (0 done, 1 timeout/error)."""
    argv = sys.argv[1:] if argv is None else argv
    print_status = echo = False
    stoptime = 0.0
    minjobs = 0
    log_name = job_name = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-help", "-h"):
            usage()
            return 0
        if a.startswith("-status"):
            print_status = True
        elif a.startswith("-echo"):
            echo = True
        elif a.startswith("-wait"):
            if i + 1 >= len(argv):
                sys.stderr.write("-wait requires an argument\n")
                usage()
                return 1
            i += 1
            secs = _atoi(argv[i])
            stoptime = time.time() + secs if secs > 0 else 0.0
            if secs <= 0:
                stoptime = -1.0  # -wait 0: do not wait at all (exit at EOF)
        elif a.startswith("-num"):
            if i + 1 >= len(argv):
                sys.stderr.write("-num requires an argument\n")
                usage()
                return 1
            i += 1
            minjobs = _atoi(argv[i])
            if minjobs < 1:
                sys.stderr.write("-num must be greater than zero\n")
                usage()
                return 1
        elif a.startswith("-") and len(a) > 1:
            usage()
            return 1
        elif log_name is None:
            log_name = a
        elif job_name is None:
            job_name = a
        else:
            sys.stderr.write(f"Extra argument: {a}\n\n")
            usage()
            return 1
        i += 1
    if log_name is None:
        usage()
        return 1
    want = [-1, -1, -1]
    if job_name is not None:
        parts = job_name.split(".")
        try:
            if not 1 <= len(parts) <= 3:
                raise ValueError
            for k, p in enumerate(parts):
                want[k] = int(p)
        except ValueError:
            sys.stderr.write(f"Couldn't understand job number: {job_name}\n")
            return 1
    try:
        log = JobEventLog(log_name)
    except OSError as exc:
        sys.stderr.write(f"Couldn't open {log_name}: {exc.strerror or exc}\n")
        return 1
    dont_wait = stoptime < 0
    table: set[str] = set()
    submitted = completed = aborted = 0
    initial_scan = True
    out = sys.stdout
    while True:
        if not dont_wait and stoptime and time.time() > stoptime:
            out.write("Time expired.\n")
            return 1
        got = False
        try:
            for ev in log.events(stop_after=0):
                got = True
                key = f"{ev.cluster}.{ev.proc}.{ev.subproc}"
                if _matches(ev, want):
                    if echo:
                        out.write(str(ev) + "...\n")  # formatEvent + "..."
                    t = ev.type
                    if t == JobEventType.SUBMIT:
                        if print_status:
                            out.write(f"{key} submitted\n")
                        table.add(key)
                        submitted += 1
                    elif t == JobEventType.JOB_TERMINATED:
                        if print_status:
                            out.write(f"{key} completed\n")
                        table.discard(key)
                        completed += 1
                    elif t == JobEventType.JOB_ABORTED:
                        if print_status:
                            out.write(f"{key} aborted\n")
                        table.discard(key)
                        aborted += 1
                    elif t == JobEventType.EXECUTE and print_status:
                        out.write(f"{key} executing on host {ev.get('ExecuteHost', '')}\n")
                if minjobs and completed + aborted >= minjobs:
                    out.write(f"Specifed number of jobs ({minjobs}) done.\n")
                    return 0
                if not table and submitted and not minjobs and not initial_scan:
                    out.write("All jobs done.\n")
                    return 0
        except UserLogParseError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        out.flush()
        # no event right now (wait.cpp ULOG_NO_EVENT)
        if initial_scan:
            initial_scan = False
            if not table and not minjobs:
                out.write("All jobs done.\n")
                return 0
        elif not table and not submitted:
            sys.stderr.write("This log does not mention any jobs!\n" if want[0] == -1
                             else "This log does not mention that job!\n")
            if not dont_wait:
                return 1
        if dont_wait:
            return 0
        if not got:
            delay = POLL
            if stoptime:
                delay = max(0.0, min(POLL, stoptime - time.time()))
            time.sleep(delay)


def _matches(ev, want: list[int]) -> bool:
    """wait.cpp ``jobnum_matches``: -1 matches anything."""
    return all(w == -1 or w == v for w, v in zip(want, (ev.cluster, ev.proc, ev.subproc)))


def _atoi(text: str) -> int:
    import re
    m = re.match(r"\s*([+-]?\d+)", text or "")
    return int(m.group(1)) if m else 0


if __name__ == "__main__":
    sys.exit(main())
