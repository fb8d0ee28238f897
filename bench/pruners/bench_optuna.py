#!/usr/bin/python3
"""Optuna 3.1 counterpart of bench_pruners (same curves, same study names, same output lines).

bench_optuna.py <trials> <seeds>   (BENCH_ONLY=family limits; JOBS=k runs k processes)
"""
import math
import multiprocessing
import os
import sys
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")

K_STEPS = 81


def decay(p, s):
    lr, reg = math.log10(p["lr"]), math.log10(p["reg"])
    final = 0.1 * (lr + 2.5) ** 2 + (p["width"] - 0.3) ** 2 + 0.02 * (reg + 3) ** 2
    rate = 0.02 + 0.3 * p["lr"]
    return final + (1.0 - final / 4) * math.exp(-rate * s) + 0.005 * math.sin(1.7 * s + 10 * p["width"])


def crossing(p, s):
    lr, reg = math.log10(p["lr"]), math.log10(p["reg"])
    final = 0.05 * (lr + 3.2) ** 2 + 0.5 * (p["width"] - 0.6) ** 2 + 0.02 * (reg + 2) ** 2
    rate = 0.5 * p["lr"] ** 0.6
    return final + 2.0 / (1.0 + rate * s) + 0.005 * math.sin(1.3 * s + 7 * p["width"])


FAMILIES = [("decay", decay), ("crossing", crossing)]
PRUNERS = {
    "none": optuna.pruners.NopPruner,
    "median": optuna.pruners.MedianPruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "patient": lambda: optuna.pruners.PatientPruner(None, patience=5),
}


def one_study(job):
    family, pruner, n_trials, seed = job
    loss = dict(FAMILIES)[family]
    steps = [0]
    study = optuna.create_study(study_name=f"bench-{seed}", pruner=PRUNERS[pruner](),
                                sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial):
        p = {"lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
             "width": trial.suggest_float("width", 0.0, 1.0),
             "reg": trial.suggest_float("reg", 1e-5, 1e-1, log=True)}
        v = 0.0
        for s in range(K_STEPS):
            v = loss(p, s)
            steps[0] += 1
            trial.report(v, s)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=n_trials)
    complete = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return steps[0], min(complete) if complete else math.inf


def main():
    n_trials = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    n_seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    only = [o for o in os.environ.get("BENCH_ONLY", "").split(",") if o]
    pruners_only = [o for o in os.environ.get("BENCH_PRUNERS", "").split(",") if o]
    with multiprocessing.Pool(int(os.environ.get("JOBS", "1"))) as pool:
        for family, _ in FAMILIES:
            if only and family not in only:
                continue
            for pruner in PRUNERS:
                if pruners_only and pruner not in pruners_only:
                    continue
                r = np.asarray(pool.map(one_study, [(family, pruner, n_trials, s)
                                                    for s in range(n_seeds)]))
                s, b = r[:, 0], r[:, 1]
                print(f"pruners\t{family}\t{pruner}\t{s.mean():.1f}\t{s.std() / math.sqrt(n_seeds):.3g}"
                      f"\t{b.mean():.5g}\t{b.std() / math.sqrt(n_seeds):.3g}", flush=True)


if __name__ == "__main__":
    main()
