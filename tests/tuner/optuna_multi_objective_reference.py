"""Prints the Optuna 3.1 values the multi-objective tuner tests compare with
(test_multi_objective_split.cpp, test_hypervolume.cpp, test_nsga2_sampler.cpp,
test_multi_objective.cpp). Run: /usr/bin/python3 tests/tuner/optuna_multi_objective_reference.py"""
import numpy as np
import optuna
from optuna._hypervolume import WFG
from optuna._hypervolume.hssp import _solve_hssp
from optuna.samplers import NSGAIISampler
from optuna.samplers._tpe.sampler import (_calculate_nondomination_rank,
                                          _calculate_weights_below_for_multi_objective,
                                          _split_observation_pairs)
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.ERROR)
np.set_printoptions(precision=17)


def split(points):
    lv = [(-float("inf"), p) for p in points]
    n_below = min(int(np.ceil(0.1 * len(points))), 25)
    below, above = _split_observation_pairs(lv, n_below, None)
    return list(below), list(above), _calculate_weights_below_for_multi_objective(lv, below, None)


rng = np.random.RandomState(7)
pts2 = [[round(float(a), 3), round(float(b), 3)] for a, b in rng.rand(30, 2)]
pts2[5] = list(pts2[3])
print("2 objectives: points", pts2)
print("  split (below, above, weights):", split(pts2))
print("  ranks of the first ten:", list(_calculate_nondomination_rank(np.array(pts2[:10]))))
rng = np.random.RandomState(11)
pts3 = [[round(float(x), 3) for x in r] for r in rng.rand(60, 3)]
print("3 objectives: points", pts3)
print("  split (below, above, weights):", split(pts3))
rng = np.random.RandomState(3)
pts4 = rng.rand(12, 4).round(3)
print("4-D hypervolume", repr(WFG().compute(pts4, np.ones(4))), "of", pts4.tolist())
front = np.array([[0.1, 0.9], [0.4, 0.4], [0.9, 0.1], [0.45, 0.35]])
print("hssp", _solve_hssp(front, np.arange(4), 2, np.array([1.0, 1.0])))

rng = np.random.RandomState(5)
vals = [[float(round(a, 2)), float(round(b, 2))] for a, b in rng.rand(20, 2)]
vals[7] = list(vals[2])
vals[12][0] = vals[4][0]
study = optuna.create_study(directions=["minimize", "maximize"])
population = []
for i, v in enumerate(vals):
    t = create_trial(values=v, params={}, distributions={})
    t.number = i
    population.append(t)
print("NSGA-II population", vals)
for size in (8, 13):
    elite = NSGAIISampler(population_size=size)._select_elite_population(study, list(population))
    print(f"  elite of {size}:", [t.number for t in elite])
