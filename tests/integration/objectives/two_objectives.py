"""A two-objective command objective: reports one intermediate value (single-objective, as
the protocol says) and then {"values": [f1, f2]} for a study with directions
[minimize, maximize]. TWO_OBJECTIVES_CONSTRAINED=1 adds the constraint x <= 0 ("constraints":
[x])."""
import json
import os

params = json.loads(os.environ["HPT_PARAMS"])
x = float(params["x"])
y = float(params["y"])
penalty = 0.0 if params.get("kind", "a") == "a" else 0.3
f1 = (x - 1.0) ** 2 + penalty
f2 = -((x + 1.0) ** 2) + y
print(json.dumps({"step": 0, "value": f1 + 1.0}), flush=True)
final = {"values": [f1, f2]}
if os.environ.get("TWO_OBJECTIVES_CONSTRAINED") == "1":
    final["constraints"] = [x]
print(json.dumps(final), flush=True)
