"""A small command objective speaking hpt's worker protocol.

Reads its parameters from HPT_PARAMS, reports `steps` intermediate values and a final
value. Behaviour switches (for fault tests) come from the environment:
  OBJ_SLEEP   seconds to sleep per step (default 0)
  OBJ_STEPS   number of intermediate steps (default 5)
  OBJ_LOG     log lines (stderr) printed before each step (default 0)
"""
import json
import os
import sys
import time

params = json.loads(os.environ["HPT_PARAMS"])
x = float(params.get("x", 0.0))
y = float(params.get("y", 0.0))
kind = params.get("kind", "a")
steps = int(os.environ.get("OBJ_STEPS", "5"))
pause = float(os.environ.get("OBJ_SLEEP", "0"))
log_lines = int(os.environ.get("OBJ_LOG", "0"))
value = (x - 1.0) ** 2 + (y + 0.5) ** 2 + (0.0 if kind == "a" else 0.3)
for step in range(steps):
    time.sleep(pause)
    for k in range(log_lines):
        print(f"step {step}: log line {k}", file=sys.stderr, flush=True)
    print(json.dumps({"step": step, "value": value + 1.0 / (step + 1)}), flush=True)
print("a log line that is not protocol", flush=True)
print(json.dumps({"value": value, "user_attrs": {"trial": int(os.environ["HPT_TRIAL_NUMBER"])}}), flush=True)
