"""``pyhtc demo``: the README's main job.

Until the personal pool exists, the demo is matchmaking explained: it parses a real job ad
and machine ad (old syntax, as ``condor_q -l`` / ``condor_status -l`` print them), evaluates
the match both ways and shows which clauses of each Requirements hold.
"""
from __future__ import annotations

import os
import pathlib
import sys
from typing import Optional

from pyhtc import classad as C
from pyhtc.tools.analyze import explain, format_explanation


def _default_ads() -> tuple[pathlib.Path, pathlib.Path]:
    here = pathlib.Path(__file__).resolve()
    candidates = [pathlib.Path(os.environ["PYHTC_SHARED"])] if "PYHTC_SHARED" in os.environ else []
    candidates += [p / "shared" for p in here.parents]
    for shared in candidates:
        d = shared / "classad" / "ads"
        if (d / "job.old").is_file() and (d / "machine.old").is_file():
            return d / "job.old", d / "machine.old"
    raise FileNotFoundError("no job/machine ads given and ../shared/classad/ads not found; "
                            "pass --job FILE --machine FILE")


def _load(path: pathlib.Path) -> C.ClassAd:
    return C.parseOne(path.read_text(), C.ParserType.Old)


def main(job_path: Optional[str] = None, machine_path: Optional[str] = None, out=sys.stdout) -> int:
    """Print the two-way match explanation; returns 0 (match) or 1 (no match)."""
    if job_path and machine_path:
        jp, mp = pathlib.Path(job_path), pathlib.Path(machine_path)
    else:
        jp, mp = _default_ads()
    job, machine = _load(jp), _load(mp)
    w = out.write
    w(f"job ad:     {jp} ({len(job)} attributes)\n")
    w(f"machine ad: {mp} ({len(machine)} attributes)\n\n")
    w(format_explanation("Job Requirements (MY = job, TARGET = machine):", explain(job, machine)) + "\n\n")
    w(format_explanation("Machine Requirements (MY = machine, TARGET = job):", explain(machine, job)) + "\n\n")
    fwd, back = job.matches(machine), machine.matches(job)
    sym = job.symmetricMatch(machine)
    w(f"job matches machine: {'yes' if fwd else 'no'}; machine matches job: {'yes' if back else 'no'}; "
      f"symmetric match: {'yes' if sym else 'no'}\n")
    for who, ad, other in (("job", job, machine), ("machine", machine, job)):
        if "Rank" in ad:
            w(f"{who} Rank of the other = {C.ExprTree('Rank').simplify(ad, other)!r}\n")
    return 0 if sym else 1
