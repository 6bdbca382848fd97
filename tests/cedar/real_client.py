"""Run by the integration tests in a subprocess with a clean environment: drives the REAL
htcondor2 client against our fake daemon and prints JSON results."""
import json
import sys

import htcondor2

port = int(sys.argv[1])
action = sys.argv[2]
addr = f"127.0.0.1:{port}"
import os
coll_addr = os.environ.get("PYHTC_TEST_ALIAS") and \
    f"<127.0.0.1:{port}?alias={os.environ['PYHTC_TEST_ALIAS']}>" or addr
out = {}
if action == "query":
    coll = htcondor2.Collector(coll_addr)
    ads = coll.query(htcondor2.AdTypes.Startd, constraint="Cpus > 2",
                     projection=["Name", "Cpus", "Quote"])
    out["startd"] = [dict(ad) for ad in ads]
    ads = coll.query(htcondor2.AdTypes.Startd)
    out["all"] = [dict(ad) for ad in ads]
    ads = coll.query(htcondor2.AdTypes.Schedd)
    out["schedd"] = [dict(ad) for ad in ads]
elif action == "advertise":
    coll = htcondor2.Collector(addr)
    import classad2
    ads = [classad2.ClassAd({"MyType": "Generic", "Name": f"g{i}", "Value": i}) for i in range(2)]
    coll.advertise(ads, "UPDATE_AD_GENERIC")
    coll.advertise([classad2.ClassAd({"MyType": "Machine", "Name": "udp-slot", "Cpus": 9})],
                   "UPDATE_STARTD_AD", use_tcp=False)
    out["ok"] = True
elif action == "command":
    import classad2
    ad = classad2.ClassAd({"MyType": "DaemonMaster", "MyAddress": f"<{addr}>",
                           "Name": "master@fake"})
    htcondor2.send_command(ad, htcondor2.DaemonCommand.Reconfig)
    htcondor2.send_command(ad, htcondor2.DaemonCommand.DaemonOff, "SCHEDD")
    out["ok"] = True
elif action == "query_fail":
    try:
        htcondor2.Collector(addr).query(htcondor2.AdTypes.Startd)
        out["error"] = None
    except Exception as exc:  # the bindings raise HTCondorException
        out["error"] = str(exc)
elif action == "udp_only":
    import classad2
    htcondor2.Collector(addr).advertise(
        [classad2.ClassAd({"MyType": "Machine", "Name": "udp-only", "Cpus": 3})],
        "UPDATE_STARTD_AD", use_tcp=False)
    out["ok"] = True
elif action == "ping":
    import classad2
    ad = classad2.ClassAd({"MyType": "DaemonMaster", "MyAddress": f"<{addr}>",
                           "Name": "master@fake"})
    out["ping"] = dict(htcondor2.ping(ad))
elif action == "act":
    import classad2
    ad = classad2.ClassAd({"MyType": "Scheduler", "MyAddress": f"<{addr}>",
                           "Name": "schedd@fake", "CondorVersion":
                           "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"})
    res = htcondor2.Schedd(ad).act(htcondor2.JobAction.Hold, "ClusterId == 1")
    out["act"] = dict(res)
print(json.dumps(out, default=str))
