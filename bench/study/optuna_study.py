"""Optuna 3.1 side of the whole-study benchmark: a TRIALS-trial TPE study of a trivial
objective with SQLite storage (the way the seed report runs Optuna)."""
import os
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
trials = int(sys.argv[1])
db = sys.argv[2]
if os.path.exists(db):
    os.remove(db)
start = time.perf_counter()
study = optuna.create_study(study_name="trivial", storage=f"sqlite:///{db}",
                            sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2 + t.suggest_float("y", -10, 10) ** 2,
               n_trials=trials)
print(f"{time.perf_counter() - start:.2f}")
