#!/usr/bin/python3
"""Optuna 3.1 counterpart of bench_tpe (same objectives, same output lines).

bench_optuna.py regret [trials] [seeds]   -> "regret <objective> <mean> <stderr>"
bench_optuna.py speed [n ...]             -> "speed <n> <ms-per-suggestion> <suggestions timed>"
Speed is the process CPU time of study.ask() + 5 suggest_float calls after n COMPLETE trials.
"""
import math
import sys
import time
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def xs(trial, d, low, high):
    return [trial.suggest_float(f"x{i}", low, high) for i in range(d)]


def rosenbrock(trial):
    x = xs(trial, 4, -5, 10)
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def ackley(trial):
    x = xs(trial, 4, -32.768, 32.768)
    s1 = sum(v * v for v in x)
    s2 = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(s1 / 4)) - math.exp(s2 / 4) + 20 + math.e


def rastrigin(trial):
    x = xs(trial, 4, -5.12, 5.12)
    return 40 + sum(v * v - 10 * math.cos(2 * math.pi * v) for v in x)


def camel(trial):
    x = trial.suggest_float("x0", -3, 3)
    y = trial.suggest_float("x1", -2, 2)
    return (4 - 2.1 * x * x + x ** 4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y


def training_run(trial):
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    batch = trial.suggest_int("batch", 16, 512, log=True)
    units = trial.suggest_int("units", 32, 512, step=32)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.05)
    opt = ["sgd", "adam", "rmsprop"].index(trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]))
    layers = trial.suggest_int("layers", 1, 5)
    best_lr = [-1.0, -3.0, -3.5][opt]
    penalty = [0.05, 0.0, 0.02][opt]
    l = math.log10(lr) - best_lr
    b = math.log2(batch) - 6.0
    u = (units - 256.0) / 256.0
    d = dropout - 0.2
    return (0.1 * l * l + 0.02 * b * b + 0.3 * u * u + 2.0 * d * d + penalty
            + 0.03 * abs(layers - 3.0) + 0.02 * l * b * (1.0 if opt == 0 else 0.5))


OBJECTIVES = [
    ("rosenbrock-4d", rosenbrock, 0.0),
    ("ackley-4d", ackley, 0.0),
    ("rastrigin-4d", rastrigin, 0.0),
    ("six-hump-camel", camel, -1.0316284534898774),
    ("training-run", training_run, 0.0),
]


def regret(n_trials, n_seeds):
    for name, f, optimum in OBJECTIVES:
        regrets = []
        for seed in range(n_seeds):
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
            study.optimize(f, n_trials=n_trials)
            regrets.append(study.best_value - optimum)
        r = np.asarray(regrets)
        print(f"regret\t{name}\t{r.mean():.6g}\t{r.std() / math.sqrt(n_seeds):.3g}", flush=True)


def speed(sizes):
    dist = optuna.distributions.FloatDistribution(-5, 5)
    rng = np.random.RandomState(123)
    for n in sizes:
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
        trials = []
        for _ in range(n):
            params = {f"x{i}": float(rng.uniform(-5, 5)) for i in range(5)}
            trials.append(optuna.trial.create_trial(
                params=params, distributions={k: dist for k in params},
                value=sum(v * v for v in params.values())))
        study.add_trials(trials)
        repeats = 20 if n <= 1000 else 3
        start = time.process_time()
        for _ in range(repeats):
            trial = study.ask()
            for i in range(5):
                trial.suggest_float(f"x{i}", -5, 5)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        ms = (time.process_time() - start) * 1e3 / repeats
        print(f"speed\t{n}\t{ms:.4f}\t{repeats}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "regret"
    if mode == "regret":
        regret(int(sys.argv[2]) if len(sys.argv) > 2 else 100, int(sys.argv[3]) if len(sys.argv) > 3 else 20)
    elif mode == "speed":
        speed([int(a) for a in sys.argv[2:]] or [100, 1000, 5000])
    else:
        sys.exit("usage: bench_optuna.py regret [trials] [seeds] | speed [n ...]")
