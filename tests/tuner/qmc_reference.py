#!/usr/bin/python3
"""Prints SciPy's unscrambled Sobol' and Halton points (scipy.stats.qmc, what Optuna's QMCSampler
draws) for tests/tuner/test_qmc_sequence.cpp, as C++ initialisers.

Run once with Debian's python3-scipy: /usr/bin/python3 tests/tuner/qmc_reference.py"""
import warnings

from scipy.stats import qmc

warnings.filterwarnings("ignore")


def rows(points):
    return ",\n".join("    {" + ", ".join(repr(float(v)) for v in p) + "}" for p in points)


sobol = qmc.Sobol(d=128, scramble=False).random(40)
print("// Sobol', 128 dimensions: points 0-39, coordinates 0, 1, 2, 9, 63, 127")
print(rows([[p[i] for i in (0, 1, 2, 9, 63, 127)] for p in sobol]))
engine = qmc.Sobol(d=128, scramble=False)
engine.fast_forward(1000003)
print("// Sobol' point 1000003, coordinates 0, 1, 2, 9, 63, 127")
far = engine.random(1)[0]
print(rows([[far[i] for i in (0, 1, 2, 9, 63, 127)]]))
halton = qmc.Halton(d=12, scramble=False).random(30)
print("// Halton, 12 dimensions: points 0-29, coordinates 0, 1, 5, 11")
print(rows([[p[i] for i in (0, 1, 5, 11)] for p in halton]))
