#!/usr/bin/python3
"""Optuna 3.1 counterpart of bench_tpe (same objectives, same output lines).

bench_optuna.py regret [trials] [seeds]   -> "regret <objective> <mean> <stderr>"
bench_optuna.py seeds [trials] [seeds]    -> "seed <objective> <seed> <regret>", one line per study as
                                             it ends (so a long run's partial output is usable)
SEED_START=k shifts the seeds to k..k+seeds-1 (a set disjoint from a saved run's).
SAMPLER=cmaes|qmc|random runs Optuna 3.1's CmaEsSampler / QMCSampler / RandomSampler(seed=seed)
instead of TPESampler(seed=seed).
bench_optuna.py speed [n ...]             -> "speed <n> <ms-per-suggestion> <suggestions timed>"
bench_optuna.py run [n ...]               -> "run <n> <ms-per-trial>": CPU time of a whole n-trial
                                             study on the 5-d sphere, per trial
Speed is the process CPU time of study.ask() + 5 suggest_float calls after n COMPLETE trials.
"""
import math
import multiprocessing
import os
import sys
import time
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def xs(trial, d, low, high):
    return [trial.suggest_float(f"x{i}", low, high) for i in range(d)]


def on_box(d, low, high, f):
    return lambda trial: f(xs(trial, d, low, high))


A3 = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
P3 = [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
A6 = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
      [17, 8, 0.05, 10, 0.1, 14]]
P6 = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann(x, a, p):
    alpha = [1.0, 1.2, 3.0, 3.2]
    return -sum(alpha[i] * math.exp(-sum(a[i][j] * (x[j] - 1e-4 * p[i][j]) ** 2
                                          for j in range(len(x)))) for i in range(4))


def rastrigin(x):
    return 10.0 * len(x) + sum(v * v - 10 * math.cos(2 * math.pi * v) for v in x)


def ackley(x):
    d = len(x)
    s1 = sum(v * v for v in x)
    s2 = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(s1 / d)) - math.exp(s2 / d) + 20 + math.e


def styblinski_tang(x):
    return sum(0.5 * (v ** 4 - 16 * v * v + 5 * v) for v in x)


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    s = math.sin(math.pi * w[0]) ** 2
    s += sum((w[i] - 1) ** 2 * (1 + 10 * math.sin(math.pi * w[i] + 1) ** 2)
             for i in range(len(x) - 1))
    return s + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def branin(trial):
    x = trial.suggest_float("x0", -5, 10)
    y = trial.suggest_float("x1", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


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


# Same order and names as objectives.hpp.
OBJECTIVES = [
    ("branin-2d", branin, 0.39788735772973816),
    ("six-hump-camel-2d", camel, -1.0316284534898774),
    ("hartmann-3d", on_box(3, 0, 1, lambda x: hartmann(x, A3, P3)), -3.8627821478207558),
    ("hartmann-6d", on_box(6, 0, 1, lambda x: hartmann(x, A6, P6)), -3.3223680114155156),
    ("rosenbrock-4d", on_box(4, -5, 10, rosenbrock), 0.0),
    ("styblinski-tang-5d", on_box(5, -5, 5, styblinski_tang), -39.166165703771416 * 5),
    ("rastrigin-5d", on_box(5, -5.12, 5.12, rastrigin), 0.0),
    ("levy-7d", on_box(7, -10, 10, levy), 0.0),
    ("ackley-10d", on_box(10, -32.768, 32.768, ackley), 0.0),
    ("styblinski-tang-10d", on_box(10, -5, 5, styblinski_tang), -39.166165703771416 * 10),
    ("training-run", training_run, 0.0),
]


def categorical(k, f, low=-1, high=1):
    """A 2-parameter objective of a k-choice categorical c (choices 0..k-1) and x in [low, high]
    (k = 8: an int n in [1, 100])."""
    def objective(trial):
        c = trial.suggest_categorical("c", list(range(k)))
        if k == 8:
            return f(c, trial.suggest_int("n", 1, 100))
        return f(c, trial.suggest_float("x", low, high))
    return objective


# Same order and names as objectives.hpp's categorical_objectives() (BENCH_SET=categorical).
CATEGORICAL = [
    ("cat2-float", categorical(2, lambda c, x: (x - 0.7) ** 2 if c == 0 else 0.02 + (x + 0.2) ** 2), 0.0),
    ("cat3-float", categorical(3, lambda c, x: (x - 0.3) ** 2 if c == 0 else
                               (x + 0.5) ** 2 - 0.05 if c == 1 else 0.1 + x * x), -0.05),
    ("cat50-float", categorical(50, lambda c, x: ((c * 17 + 5) % 50) / 50.0 + (x - 0.3) ** 2), 0.0),
    ("cat4-separable", categorical(4, lambda c, x: x * x + (0 if c == 2 else 10), -5, 5), 0.0),
    ("cat8-int", categorical(8, lambda c, n: ((c * 5 + 3) % 8) / 8.0 + (n - 37) ** 2 / 10000.0), 0.0),
]
if os.environ.get("BENCH_SET") == "categorical":
    OBJECTIVES = CATEGORICAL


def make_sampler(seed):
    return {"cmaes": optuna.samplers.CmaEsSampler, "qmc": optuna.samplers.QMCSampler,
            "random": optuna.samplers.RandomSampler,
            "tpe": optuna.samplers.TPESampler}[os.environ.get("SAMPLER", "tpe")](seed=seed)


def one_regret(job):
    name, n_trials, seed = job
    f, optimum = {n: (f, o) for n, f, o in OBJECTIVES}[name]
    study = optuna.create_study(sampler=make_sampler(seed))
    study.optimize(f, n_trials=n_trials)
    return study.best_value - optimum


def regret(n_trials, n_seeds, per_seed=False):
    """One line per objective, or per study with per_seed (BENCH_ONLY=a,b limits the objectives,
    in that order); JOBS=k runs k processes; SEED_START=k first seed."""
    only = [o for o in os.environ.get("BENCH_ONLY", "").split(",") if o]
    names = only or [n for n, _, _ in OBJECTIVES]
    known = {n for n, _, _ in OBJECTIVES}
    for n in names:
        if n not in known:
            sys.exit(f"BENCH_ONLY: unknown objective '{n}'")
    start = int(os.environ.get("SEED_START", "0"))
    seeds = range(start, start + n_seeds)
    with multiprocessing.Pool(int(os.environ.get("JOBS", "1"))) as pool:
        for name in names:
            jobs = [(name, n_trials, s) for s in seeds]
            if per_seed:
                for s, v in zip(seeds, pool.imap(one_regret, jobs)):
                    print(f"seed\t{name}\t{s}\t{v:.9g}", flush=True)
                continue
            r = np.asarray(pool.map(one_regret, jobs))
            print(f"regret\t{name}\t{r.mean():.6g}\t{r.std() / math.sqrt(n_seeds):.3g}",
                  flush=True)


def speed(sizes):
    dist = optuna.distributions.FloatDistribution(-5, 5)
    rng = np.random.RandomState(123)
    for n in sizes:
        study = optuna.create_study(sampler=make_sampler(1))
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


def run(sizes):
    for n in sizes:
        study = optuna.create_study(sampler=make_sampler(1))
        start = time.process_time()
        study.optimize(lambda t: sum(t.suggest_float(f"x{i}", -5, 5) ** 2 for i in range(5)),
                       n_trials=n)
        print(f"run\t{n}\t{(time.process_time() - start) * 1e3 / n:.4f}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "regret"
    if mode in ("regret", "seeds"):
        regret(int(sys.argv[2]) if len(sys.argv) > 2 else 100,
               int(sys.argv[3]) if len(sys.argv) > 3 else 20, per_seed=mode == "seeds")
    elif mode == "speed":
        speed([int(a) for a in sys.argv[2:]] or [100, 1000, 5000])
    elif mode == "run":
        run([int(a) for a in sys.argv[2:]] or [100, 1000])
    else:
        sys.exit("usage: bench_optuna.py regret|seeds [trials] [seeds] | speed|run [n ...]")
