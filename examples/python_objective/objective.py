"""A user objective for hpt: any program that reads its parameters and prints JSON lines.

hpt passes the trial's parameters in HPT_PARAMS (and as {name} placeholders in the command);
print {"step": k, "value": v} after each epoch so the median pruner can stop bad trials early,
then {"value": v} at the end. Everything else you print goes to the trial's log.
"""
import json
import math
import os
import time

params = json.loads(os.environ["HPT_PARAMS"])
lr = params["learning_rate"]
layers = params["layers"]
activation = params["activation"]

loss = 1.0
for epoch in range(params.get("epochs", 10)):
    # A stand-in for training: converges fastest near lr = 3e-3 with 3 layers and gelu.
    speed = math.exp(-(math.log10(lr) + 2.5) ** 2) * (1.0 - 0.1 * abs(layers - 3))
    speed *= 1.1 if activation == "gelu" else 1.0
    loss = loss * (1.0 - 0.3 * max(speed, 0.01))
    time.sleep(0.05)
    print(json.dumps({"step": epoch, "value": loss}), flush=True)
print(f"finished with loss {loss:.4f}")
print(json.dumps({"value": loss}))
