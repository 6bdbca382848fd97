"""condor_q -dag, -io, -cputime and -long:jsonl against a real schedd daemon, through the
``pyhtc.tools.q:main`` entry point (and ``python -m pyhtc.tools.q`` once)."""
from __future__ import annotations

import getpass
import json
import re

ME = getpass.getuser()
Q = "pyhtc.tools.q:main"


def submit(schedd, **cmds) -> int:
    desc = {"executable": "/bin/sleep", "arguments": "60", **cmds}
    r = schedd.pyhtc(f"r = schedd.submit(Submit({desc!r}), count=1)\nprint(json.dumps(r.cluster()))")
    return schedd.json_of(r)


def test_dag_view_io_and_cputime_live(schedd):
    dag = submit(schedd, arguments="600")
    a = submit(schedd, **{"MY.DAGManJobId": str(dag), "MY.DAGNodeName": '"NodeA"'})
    b = submit(schedd, **{"MY.DAGManJobId": str(dag), "MY.DAGNodeName": '"NodeB"'})
    tree, plain, cpu, io, jl, afj = schedd.tools(
        (Q, "-dag", "-nobatch", str(dag)),
        (Q, "-nobatch", str(dag)),
        (Q, "-nobatch", "-cputime", str(a)),
        (Q, "-io", str(dag)),
        (Q, "-long:jsonl", "-attributes", "ClusterId,DAGNodeName", "-dag", str(dag)),
        (Q, str(dag), "-dag", "-af:j", "DAGNodeName"))
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.split("\n")
    assert re.fullmatch(r"-- Schedd: .*", lines[2])
    assert lines[3] == " ID      OWNER/NODENAME      SUBMITTED     RUN_TIME ST PRI SIZE CMD"
    rows = [ln for ln in lines[4:] if re.match(r"\s+\d+\.\d", ln)]
    # the DAG job first, its nodes under it with "|-NAME" in the 17-wide column
    assert [r.split()[0] for r in rows] == [f"{dag}.0", f"{a}.0", f"{b}.0"]
    assert rows[0][9:27] == f"{ME[:17]:<17} "
    assert rows[1][9:27] == " |-NodeA          " and rows[2][9:27] == " |-NodeB          "
    # without -dag a cluster id of a DAG job is just that cluster
    assert [ln.split()[0] for ln in plain.stdout.splitlines() if re.match(r"\s+\d+\.\d", ln)] == [f"{dag}.0"]
    assert cpu.stdout.split("\n")[3].split()[3] == "CPU_TIME"
    # -io: no job of these moves files, so just the heading and the totals
    assert io.stdout.split("\n")[3] == " ID      OWNER          RUNS ST  INPUT  OUTPUT  RATE      MISC"
    assert "Total for query: 0 jobs;" in io.stdout
    assert [json.loads(ln) for ln in jl.stdout.splitlines()] == [
        {"ClusterId": dag}, {"ClusterId": a, "DAGNodeName": "NodeA"}, {"ClusterId": b, "DAGNodeName": "NodeB"}]
    # -af:j: the job id first (the bulk column-at-a-time rendering handles it too)
    assert afj.stdout == f"{dag}.0 undefined\n{a}.0 NodeA\n{b}.0 NodeB\n", afj.stderr
    # the module entry point
    r = schedd.tool("pyhtc.tools.q", str(dag), "-dag", "-af", "ClusterId")
    assert (r.returncode, r.stdout) == (0, f"{dag}\n{a}\n{b}\n"), r.stderr
