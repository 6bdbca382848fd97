"""condor_submit: turn a submit description into jobs.

Usage (options as in the condor_submit manual page):

    condor_submit [-dry-run FILE] [-name SCHEDD] [-pool HOST] [-addr SINFUL]
                  [-append LINE]... [-queue ARGS] [-batch-name NAME]
                  [-terse] [name=value]... [SUBMITFILE | -]

Without ``-dry-run`` the jobs go to the schedd (the local one through its address file,
``-name``/``-pool`` through the collector, ``-addr`` directly) over QMGMT as
condor_submit.V6/submit.cpp does: GetCapabilities, NewCluster, then either NewProc and the
NoAck SetAttribute2 calls of each proc (the cluster ad before proc 0's own attributes), or,
for late materialization (``max_idle`` / ``max_materialize``), SendMaterializeData (item
rows), SetJobFactory(cluster, num, "", digest) and the cluster ad; then CommitTransaction.
Output as HTCondor's: ``Submitting job(s)`` and a dot per job, then ``N job(s) submitted to
cluster C.``; with ``-terse`` only ``C.first - C.last``; a submit file read from stdin (and no
``-terse``) prints every proc's ad (``** Proc C.P:``) instead.  Exit status 0 on success, 1 on
any error (nothing is committed then).

With ``-dry-run FILE`` no schedd is contacted: every proc's full job ad
(its cluster's attributes overlaid with its own, ClusterId 1, ProcId
0..N-1) is written to FILE (``-`` for stdout) in old ClassAd syntax, one
``Name = expr`` line per attribute, ads separated by a blank line.  For late
materialization (``max_idle``/``max_materialize``) the cluster ad is written,
followed by the submit digest as ``#``-comment lines.

The submit description is read from SUBMITFILE, or from stdin when it is
``-`` or missing.  Every ``queue`` statement of the file is run (procs of one
cluster), and ``JobSubmitMethod`` is 0, as HTCondor's condor_submit sends.
Errors go to stderr as ``ERROR: <file>:<line>: <message>``, exit status 1.
"""
from __future__ import annotations

import os
import sys
import time

from pyhtc.submit import QueueError, SubmitError, SubmitSyntaxError, run_description

_SUBMIT_ERRORS = (SubmitSyntaxError, QueueError, SubmitError)

__all__ = ["main"]


def _usage(msg: str) -> int:
    print(f"ERROR: {msg}", file=sys.stderr)
    print("Usage: condor_submit [-dry-run FILE] [-name SCHEDD] [-pool HOST] [-addr SINFUL] [-append LINE] "
          "[-queue ARGS] [-batch-name NAME] [-terse] [name=value]... [SUBMITFILE|-]", file=sys.stderr)
    return 1


def _match(arg: str, name: str, minlen: int) -> bool:
    """HTCondor-style option matching: ``-dry`` / ``--dry-run`` abbreviations."""
    a = arg.lstrip("-").lower()
    return len(a) >= minlen and name.startswith(a)


def format_ad(ad: dict[str, str]) -> str:
    """Old-syntax text of one ad: ``Name = expr`` per line."""
    return "".join(f"{k} = {v}\n" for k, v in ad.items())


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    dry_run = None
    appends: list[str] = []
    queue_override = None
    batch_name = None
    terse = False
    name = pool = addr = None
    overrides: dict[str, str] = {}
    files: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            def value():
                nonlocal i
                if i + 1 >= len(argv):
                    raise IndexError(a)
                i += 1
                return argv[i]
            try:
                if _match(a, "dry-run", 3):
                    dry_run = value()
                elif _match(a, "append", 1):
                    appends.append(value())
                elif _match(a, "queue", 1):
                    # the queue arguments run to the next dash argument (manual: -queue)
                    words = [value()]
                    while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                        i += 1
                        words.append(argv[i])
                    queue_override = " ".join(words)
                elif _match(a, "batch-name", 1):
                    batch_name = value()
                elif _match(a, "terse", 3):
                    terse = True
                elif _match(a, "name", 1):
                    name = value()
                elif _match(a, "pool", 1):
                    pool = value()
                elif _match(a, "addr", 3):
                    addr = value()
                elif _match(a, "remote", 1):
                    value()
                    print("ERROR: -remote (spooling input files to a remote schedd) is not supported; "
                          "use -name to submit to another schedd", file=sys.stderr)
                    return 1
                elif _match(a, "verbose", 1) or _match(a, "disable", 3):
                    pass
                else:
                    return _usage(f"unknown option {a}")
            except IndexError:
                return _usage(f"{a} requires an argument")
        elif "=" in a and not os.path.exists(a):
            k, _, v = a.partition("=")
            overrides[k.strip()] = v.strip()
        else:
            files.append(a)
        i += 1
    if len(files) > 1:
        return _usage("only one submit file may be given")
    path = files[0] if files else "-"
    try:
        if path == "-":
            text = sys.stdin.read()
            source = "<stdin>"
        else:
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                text = fh.read()
            source = path
    except OSError as e:
        print(f"ERROR: Failed to open command file ({path}): {e.strerror}", file=sys.stderr)
        return 1
    # an -append line that is a queue statement becomes -queue (manual: -append)
    for line in list(appends):
        stripped = line.strip()
        if stripped.lower() == "queue" or stripped.lower().startswith(("queue ", "queue\t")):
            appends.remove(line)
            queue_override = stripped[5:].strip()
    if batch_name is not None:
        # -batch-name becomes an -append line MY.JobBatchName = "name" (condor_submit.V6/submit.cpp),
        # so it takes precedence over the file's batch_name
        quoted = batch_name if batch_name.startswith('"') else f'"{batch_name}"'
        appends.append(f"MY.JobBatchName = {quoted}")
    submit_time = int(time.time())
    where = None
    if dry_run is None:
        # condor_submit finds its schedd before it reads the submit file (submit.cpp main)
        from pyhtc.client import DaemonNotFound
        try:
            where = _locate(name, pool, addr)
        except (DaemonNotFound, OSError, ValueError):
            print(f"\nERROR: Can't find address of {'schedd ' + name if name else 'local schedd'}",
                  file=sys.stderr)
            return 1

    def make(cluster_id: int):
        return run_description(text, source=source, cwd=os.getcwd(), submit_time=submit_time,
                               submit_method=0, overrides=overrides, queue_override=queue_override,
                               append=appends, cluster_id=cluster_id)
    try:
        result = make(1)
    except _SUBMIT_ERRORS as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    if dry_run is None:
        return _submit(make, result, source == "<stdin>", terse, name, where)
    chunks = []
    for cl in result.clusters:
        if cl.factory is not None:
            digest = "".join(f"# {ln}\n" for ln in cl.factory["digest"].split("\n")[:-1])
            text = (format_ad(cl.cluster_ad) + "# Submit digest (late materialization of "
                    f"{cl.factory['procs']} jobs, at most {cl.factory['num']} at a time):\n" + digest)
            if cl.factory["items"]:
                text += "# Queue items:\n" + "".join(f"#   {' '.join(r)}\n" for r in cl.factory["items"])
            chunks.append(text)
        else:
            chunks.extend(format_ad(ad) for ad in cl.full_ads)
    out = "\n".join(chunks)
    if dry_run == "-":
        sys.stdout.write(out)
    else:
        with open(dry_run, "w", encoding="utf-8") as fh:
            fh.write(out)
    for cl in result.clusters:
        n = cl.factory["procs"] if cl.factory is not None else len(cl.full_ads)
        if terse:
            if n:
                print(f"{cl.cluster_id}.0 - {cl.cluster_id}.{n - 1}")
        elif dry_run != "-":
            print("Submitting job(s)" + "." * min(n, 1000))
            print(f"{n} job(s) dry-run to cluster {cl.cluster_id}.")
    return 0


def _locate(name, pool, addr) -> str:
    """The schedd's sinful string (raises DaemonNotFound / OSError)."""
    from pyhtc.client import locate_daemon
    if addr:
        return addr if addr.startswith("<") else f"<{addr}>"
    return locate_daemon("schedd", name=name, pool=pool)


def _submit(make, result, from_stdin: bool, terse: bool, name, where: str) -> int:
    """Send the cluster to the schedd and print what condor_submit prints; returns the exit
    status.  ``make(cluster_id)`` re-runs the description for the cluster id the schedd
    gives (``$(Cluster)`` expansions, ClusterId)."""
    from pyhtc.client.schedd import QmgmtError, ScheddClient, ScheddError
    verbose = from_stdin and not terse
    try:
        q = ScheddClient(where).qmgmt(True)
    except Exception as exc:  # connection, authentication or authorization failure
        print(f"\nERROR: Failed to connect to {'queue manager ' + name if name else 'local queue manager'}"
              f"\n{exc}", file=sys.stderr)
        return 1
    dots = not verbose and not terse
    stage = "queue"
    submitted: list[tuple[int, int, int]] = []
    with q:
        try:
            caps = q.get_capabilities(0)
            if dots:
                sys.stdout.write("Submitting job(s)")
                sys.stdout.flush()
            cluster = q.new_cluster()
            res = make(cluster).clusters[0] if cluster != 1 else result.clusters[0]
            if res.factory is not None and not caps.get("LateMaterialize"):
                print("\nERROR: Schedd does not support late materialization", file=sys.stderr)
                return 1
            first, num = q.submit_cluster(cluster, res)
            if res.factory is None:
                if verbose:
                    for ad in res.full_ads:
                        sys.stdout.write(f"\n** Proc {cluster}.{ad.get('ProcId')}:\n" +
                                         format_ad({**ad, "ClusterId": str(cluster)}))
                elif dots:  # one dot a proc, without building every proc's full ad
                    sys.stdout.write("." * num)
            submitted.append((cluster, first, first + num - 1))
            stage = "commit"
            warning = q.commit()
        except _SUBMIT_ERRORS as e:
            print(f"\nERROR: {e}", file=sys.stderr)
            return 1
        except QmgmtError as exc:
            what = "commit job submission into the queue" if stage == "commit" else "queue job"
            print(f"\nERROR: Failed to {what}."
                  + (f"\nERROR: {exc.reason}" if exc.reason else f"\nERROR: {exc}"), file=sys.stderr)
            return 1
        except ValueError as exc:   # a description that makes no procs
            print(f"\nERROR: {exc}", file=sys.stderr)
            return 1
        except (ScheddError, OSError, EOFError, RuntimeError) as exc:
            print(f"\nERROR: Failed to submit to the schedd: {exc}", file=sys.stderr)
            return 1
    if warning:
        print("\nWARNING: Committed job submission into the queue with the following warning(s):\n"
              f"WARNING: {warning}", file=sys.stderr)
    if dots:
        sys.stdout.write("\n")
    if not verbose:
        for c, lo, hi in submitted:
            if terse:
                print(f"{c}.{lo} - {c}.{hi}")
            else:
                print(f"{hi - lo + 1} job(s) submitted to cluster {c}.")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
