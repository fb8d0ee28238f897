"""Optuna 3.1's side of bench/constraints: TPESampler and NSGAIISampler with constraints_func
on the problems of problems.hpp. Usage: bench_optuna.py [trials] [seeds]; JOBS=k runs k
processes; BENCH_ONLY=tpe or nsga2. Prints the same tab-separated lines as bench_constraints."""
import math
import multiprocessing
import os
import sys
import warnings

import numpy as np
import optuna
from optuna._hypervolume import WFG

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")  # constraints_func is "experimental" in Optuna 3.1.


def rosenbrock(x, y):
    return [(1 - x) ** 2 + 100 * (y - x * x) ** 2], [(x - 1) ** 3 - y + 1, x + y - 2]


def simionescu(x, y):
    r = 1 + 0.2 * math.cos(8 * math.atan2(x, y))
    return [0.1 * x * y], [x * x + y * y - r * r]


def gardner(x, y):
    return [math.sin(x) + y], [math.sin(x) * math.sin(y) + 0.95]


def binh_korn(x, y):
    return ([4 * x * x + 4 * y * y, (x - 5) ** 2 + (y - 5) ** 2],
            [(x - 5) ** 2 + y * y - 25, 7.7 - (x - 8) ** 2 - (y + 3) ** 2])


PROBLEMS = [("Rosenbrock, cubic + line", (-1.5, 1.5, -0.5, 2.5), None, rosenbrock),
            ("Simionescu", (-1.25, 1.25, -1.25, 1.25), None, simionescu),
            ("Gardner", (0, 6, 0, 6), None, gardner),
            ("Binh and Korn (2 obj)", (0, 5, 0, 3), [140, 50], binh_korn)]


def run(args):
    problem, sampler_name, trials, seed = args
    name, (xl, xh, yl, yh), reference, f = PROBLEMS[problem]
    constraints = lambda t: t.user_attrs["c"]  # noqa: E731
    sampler = (optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)
               if sampler_name == "tpe"
               else optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints))
    n_obj = len(reference) if reference else 1
    study = optuna.create_study(directions=["minimize"] * n_obj, sampler=sampler)

    def objective(t):
        values, c = f(t.suggest_float("x", xl, xh), t.suggest_float("y", yl, yh))
        t.set_user_attr("c", c)
        return values[0] if n_obj == 1 else values

    study.optimize(objective, n_trials=trials)
    feasible = [t for t in study.trials if all(c <= 0 for c in t.user_attrs["c"])]
    fraction = len(feasible) / trials
    if n_obj == 1:
        return (min(t.value for t in feasible) if feasible else float("nan")), fraction
    points = np.array([t.values for t in feasible]).reshape(-1, n_obj)
    inside = points[(points < np.array(reference)).all(axis=1)]
    hv = WFG().compute(inside, np.array(reference, dtype=float)) if len(inside) else 0.0
    return hv, fraction


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    only = os.environ.get("BENCH_ONLY", "")
    with multiprocessing.Pool(int(os.environ.get("JOBS", "1"))) as pool:
        for p, problem in enumerate(PROBLEMS):
            for s in ("tpe", "nsga2"):
                if (only and s not in only.split(",")) or (s == "nsga2" and not problem[2]):
                    continue
                results = pool.map(run, [(p, s, trials, seed) for seed in range(seeds)])
                scores = [r[0] for r in results if not math.isnan(r[0])]
                mean = float(np.mean(scores)) if scores else float("nan")
                se = float(np.std(scores, ddof=1) / math.sqrt(len(scores))) if len(scores) > 1 else 0.0
                fraction = float(np.mean([r[1] for r in results]))
                print(f"{problem[0]}\t{s}\t{mean:.4f}\t{se:.4f}\t{fraction:.2f}\t{seeds - len(scores)}",
                      flush=True)


if __name__ == "__main__":
    main()
