"""Optuna 3.1's side of bench/multiobj: hypervolume after TRIALS trials of TPESampler (MOTPE
for several objectives) and NSGAIISampler (defaults) on the problems of problems.hpp.
Usage: bench_optuna.py [trials] [seeds]; JOBS=k runs k processes; BENCH_ONLY=tpe or nsga2.
Prints the same tab-separated lines as bench_multiobj."""
import math
import multiprocessing
import os
import sys

import numpy as np
import optuna
from optuna._hypervolume import WFG

optuna.logging.set_verbosity(optuna.logging.ERROR)


def zdt_g(x):
    return 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)


def zdt1(x):
    g = zdt_g(x)
    return [x[0], g * (1.0 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = zdt_g(x)
    return [x[0], g * (1.0 - (x[0] / g) ** 2)]


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b),
            (1 + g) * math.sin(a)]


PROBLEMS = [("ZDT1 (d=6)", 6, [1.1, 6.0], zdt1), ("ZDT2 (d=6)", 6, [1.1, 6.0], zdt2),
            ("DTLZ2 (3 obj, d=6)", 6, [1.5, 1.5, 1.5], dtlz2)]


def run(args):
    problem, sampler_name, trials, seed = args
    name, d, reference, f = PROBLEMS[problem]
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.NSGAIISampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * len(reference), sampler=sampler)
    study.optimize(lambda t: f([t.suggest_float(f"x{i}", 0, 1) for i in range(d)]),
                   n_trials=trials)
    points = np.array([t.values for t in study.trials])
    inside = points[(points < np.array(reference)).all(axis=1)]
    return WFG().compute(inside, np.array(reference, dtype=float)) if len(inside) else 0.0


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    only = os.environ.get("BENCH_ONLY", "")
    samplers = [s for s in ("tpe", "nsga2") if not only or s in only.split(",")]
    with multiprocessing.Pool(int(os.environ.get("JOBS", "1"))) as pool:
        for p in range(len(PROBLEMS)):
            for s in samplers:
                hv = pool.map(run, [(p, s, trials, seed) for seed in range(seeds)])
                mean = float(np.mean(hv))
                se = float(np.std(hv, ddof=1) / math.sqrt(seeds))
                print(f"{PROBLEMS[p][0]}\t{s}\t{mean:.4f}\t{se:.4f}", flush=True)


if __name__ == "__main__":
    main()
