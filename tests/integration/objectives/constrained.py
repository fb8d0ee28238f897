"""A constrained objective for hpt's tests: minimise (x - 1)^2 + (y + 1)^2 subject to
x >= 2 and y <= -1.5, i.e. constraints [2 - x, y + 1.5] (met when <= 0). Reports three steps,
each with the constraint values (so a pruned trial has them), then the final value.
CONSTRAINED_MODE=nan reports NaN as a constraint value; =none leaves them out; =violated
reports constraints no trial meets; =grow reports one more constraint value in trial 2."""
import json
import os

params = json.loads(os.environ["HPT_PARAMS"])
x, y = params["x"], params["y"]
value = (x - 1) ** 2 + (y + 1) ** 2
mode = os.environ.get("CONSTRAINED_MODE", "")
constraints = [2 - x, y + 1.5]
if mode == "nan":
    constraints = [float("nan"), 0.0]
elif mode == "violated":
    constraints = [1.0, abs(x)]
elif mode == "grow" and int(os.environ["HPT_TRIAL_NUMBER"]) == 2:
    constraints.append(0.0)
extra = {} if mode == "none" else {"constraints": constraints}
for step in range(3):
    print(json.dumps(dict({"step": step, "value": value * (3 - step)}, **extra)), flush=True)
print(json.dumps(dict({"value": value}, **extra)), flush=True)
