#!/usr/bin/python3
"""Prints the state of the cmaes library's CMA (0.9.1, what Optuna's CmaEsSampler drives) after
each tell of test_cma.cpp's deterministic solutions, as C++ initialisers.

Run once with Debian's python3-cmaes (/usr/bin/python3 tests/tuner/cma_reference.py) and paste
the output into tests/tuner/test_cma.cpp. The solutions come from integer arithmetic (the same in
C++): solution k of generation g is mean + 0.3 * u(g, k, i) per coordinate, u in [-1, 1]."""
import numpy as np
from cmaes import CMA


def u(g, k, i):
    return ((g * 7919 + k * 104729 + i * 1299709) % 2001) / 1000.0 - 1.0


def f(x):
    """A rotated, ill-conditioned quadratic: the values the solutions are told with."""
    return sum((i + 1) ** 2 * (x[i] - 0.3 + 0.1 * x[(i + 1) % len(x)]) ** 2 for i in range(len(x)))


def run(n, generations, popsize=None):
    cma = CMA(mean=np.full(n, 0.5), sigma=1 / 6, bounds=np.array([[0.0, 1.0]] * n),
              population_size=popsize)
    print(f"// n = {n}, popsize = {cma.population_size}")
    for g in range(generations):
        sols = []
        for k in range(cma.population_size):
            x = cma._mean + 0.3 * np.array([u(g, k, i) for i in range(n)])
            sols.append((x, f(x)))
        cma.tell(sols)
        stop = cma.should_stop()
        C = cma._C
        print("{%d, {%s}, %r, {%s}, %s}," % (
            g + 1, ", ".join(repr(float(v)) for v in cma._mean), float(cma._sigma),
            ", ".join(repr(float(v)) for v in C.flatten()), "true" if stop else "false"))


run(2, 6)
run(3, 6, popsize=10)


def first_stop(n, generations, flat):
    """The first generation after which should_stop is true (0: none in generations), with every
    solution told the value 1.0 (flat) or f."""
    cma = CMA(mean=np.full(n, 0.5), sigma=1 / 6, bounds=np.array([[0.0, 1.0]] * n))
    for g in range(generations):
        sols = []
        for k in range(cma.population_size):
            x = cma._mean + 0.3 * np.array([u(g, k, i) for i in range(n)])
            sols.append((x, 1.0 if flat else f(x)))
        cma.tell(sols)
        if cma.should_stop():
            return g + 1
    return 0


print(f"// first stop: flat {first_stop(2, 40, True)}, f {first_stop(2, 40, False)}")
