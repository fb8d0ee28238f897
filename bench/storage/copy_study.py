"""Optuna 3.1's side of bench/storage/copy_study.sh.

  make SOURCE_URL N     a study 'bench' of N finished trials (3 params, 10 steps, a user attr)
  copy FROM_URL TO_URL  optuna.copy_study of 'bench'; prints the seconds it took
"""
import random
import sys
import time

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution


def make(url, n):
    rng = random.Random(0)
    memory = optuna.create_study(study_name="bench")
    dists = {"lr": FloatDistribution(1e-4, 1e-1, log=True), "units": IntDistribution(16, 512),
             "act": CategoricalDistribution(["relu", "tanh", "gelu"])}
    trials = []
    for _ in range(n):
        params = {"lr": 10 ** rng.uniform(-4, -1), "units": rng.randint(16, 512), "act": rng.choice(["relu", "tanh"])}
        steps = {s: rng.random() for s in range(10)}
        state = optuna.trial.TrialState.COMPLETE if rng.random() < 0.8 else optuna.trial.TrialState.PRUNED
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=rng.random(), state=state,
                                                intermediate_values=steps, user_attrs={"seed": rng.randint(0, 99)}))
    memory.add_trials(trials)
    optuna.copy_study(from_study_name="bench", from_storage=memory._storage, to_storage=url)


def copy(source, target):
    start = time.perf_counter()
    optuna.copy_study(from_study_name="bench", from_storage=source, to_storage=target)
    print(f"{time.perf_counter() - start:.2f}")


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        copy(sys.argv[2], sys.argv[3])
