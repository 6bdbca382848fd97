"""Run in a subprocess with a clean environment: the REAL htcondor2 client retrieves a job's
output sandbox (Schedd.retrieve -> DCSchedd::receiveJobSandbox -> FileTransfer::DoDownload)
from our fake schedd, whose side is pyhtc.filetransfer.send_files."""
import json
import sys

import classad2
import htcondor2

port = int(sys.argv[1])
ad = classad2.ClassAd({"MyType": "Scheduler", "MyAddress": f"<127.0.0.1:{port}>",
                       "Name": "schedd@fake",
                       "CondorVersion": "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"})
out = {}
try:
    htcondor2.Schedd(ad).retrieve("ClusterId == 1")
    out["ok"] = True
except Exception as exc:  # the bindings raise HTCondorException with the error stack
    out["error"] = str(exc)
print(json.dumps(out))
