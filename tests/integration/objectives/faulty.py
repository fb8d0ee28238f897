"""A worker that misbehaves in the way named by its `mode` parameter."""
import json
import os
import signal
import subprocess
import sys
import time

params = json.loads(os.environ["HPT_PARAMS"])
mode = params["mode"]
print(json.dumps({"step": 0, "value": 1.0}), flush=True)
if mode == "ok":
    print(json.dumps({"value": 1.0}))
elif mode == "crash":
    sys.stderr.write("about to crash\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "oom":  # What the kernel's out-of-memory killer does.
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "exit":
    sys.stderr.write("Traceback: something broke\n")
    sys.exit(3)
elif mode == "hang":
    time.sleep(600)
elif mode == "nan":
    print('{"value": NaN}')
elif mode == "garbage":
    print("{not json")
    print("value: 3")
elif mode == "flood":
    sys.stdout.write("x" * 5_000_000 + "\n")
    print(json.dumps({"value": 2.0}))
elif mode == "children":
    pidfile = os.environ["OBJ_PIDFILE"]
    child = subprocess.Popen(["sleep", "600"])
    with open(pidfile, "a") as f:
        f.write(f"{child.pid}\n")
    sys.exit(1)
elif mode == "noresult":
    pass
