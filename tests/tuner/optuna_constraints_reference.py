"""Prints the Optuna 3.1 values test_constraints.cpp compares with: TPE's constrained split
(one and two objectives, with MOTPE's weights) and NSGA-II's constrained elite.
Run: /usr/bin/python3 tests/tuner/optuna_constraints_reference.py"""
import numpy as np
import optuna
from optuna.samplers import NSGAIISampler
from optuna.samplers._tpe.sampler import (_calculate_weights_below_for_multi_objective,
                                          _split_observation_pairs)
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.ERROR)


def violation(c):
    return float("inf") if c is None else sum(v for v in c if v > 0)


def gamma(n):
    return min(int(np.ceil(0.1 * n)), 25)


# One objective (minimised), 20 COMPLETE trials, each with two constraint values.
rng = np.random.RandomState(17)
values = [round(float(v), 3) for v in rng.rand(20)]
constraints = [[round(float(a), 2), round(float(b), 2)] for a, b in rng.rand(20, 2) - 0.6]
print("one objective: values", values)
print("  constraints", constraints)
lv = [(-float("inf"), [v]) for v in values]
below, above = _split_observation_pairs(lv, gamma(20), [violation(c) for c in constraints])
print("  below", list(below))

# Fewer feasible trials than gamma: 30 trials, gamma 3, one feasible.
rng = np.random.RandomState(4)
values30 = [round(float(v), 3) for v in rng.rand(30)]
constraints30 = [[round(float(v), 2)] for v in rng.rand(30) + 0.05]
constraints30[12] = [-0.5]
constraints30[20] = None  # No constraint values: violation +inf.
print("few feasible: values", values30)
print("  constraints", constraints30)
lv = [(-float("inf"), [v]) for v in values30]
below, above = _split_observation_pairs(lv, gamma(30), [violation(c) for c in constraints30])
print("  below", list(below))

# Two objectives (minimised), 30 trials, one constraint each.
rng = np.random.RandomState(9)
points = [[round(float(a), 3), round(float(b), 3)] for a, b in rng.rand(30, 2)]
cons2 = [[round(float(v), 2)] for v in rng.rand(30) - 0.7]
print("two objectives: points", points)
print("  constraints", cons2)
lv = [(-float("inf"), p) for p in points]
viol = [violation(c) for c in cons2]
below, above = _split_observation_pairs(lv, gamma(30), viol)
print("  below", list(below))
print("  weights", list(_calculate_weights_below_for_multi_objective(lv, below, viol)))

# The same points with only two feasible (gamma 3): one below is infeasible, weight EPS.
cons2b = [[0.3] for _ in points]
cons2b[5], cons2b[19], cons2b[21] = [-0.1], [-0.2], [0.05]
print("  mostly infeasible: constraints", cons2b)
viol = [violation(c) for c in cons2b]
below, above = _split_observation_pairs(lv, gamma(30), viol)
print("  below", list(below))
print("  weights", list(_calculate_weights_below_for_multi_objective(lv, below, viol)))

# NSGA-II's constrained elite: 20 trials (minimise, maximise), one constraint each.
rng = np.random.RandomState(5)
vals = [[float(round(a, 2)), float(round(b, 2))] for a, b in rng.rand(20, 2)]
cons = [[round(float(v), 2)] for v in rng.rand(20) - 0.5]
study = optuna.create_study(directions=["minimize", "maximize"])
population = []
for i, (v, c) in enumerate(zip(vals, cons)):
    t = create_trial(values=v, params={}, distributions={}, system_attrs={"constraints": c})
    t.number = i
    population.append(t)
print("NSGA-II population", vals)
print("  constraints", cons)
sampler = NSGAIISampler(population_size=8, constraints_func=lambda t: [0.0])
print("  elite of 8:", [t.number for t in sampler._select_elite_population(study, population)])
