"""A two-objective command objective: reports one intermediate value (single-objective, as
the protocol says) and then {"values": [f1, f2]} for a study with directions
[minimize, maximize]."""
import json
import os

params = json.loads(os.environ["HPT_PARAMS"])
x = float(params["x"])
y = float(params["y"])
penalty = 0.0 if params.get("kind", "a") == "a" else 0.3
f1 = (x - 1.0) ** 2 + penalty
f2 = -((x + 1.0) ** 2) + y
print(json.dumps({"step": 0, "value": f1 + 1.0}), flush=True)
print(json.dumps({"values": [f1, f2]}), flush=True)
