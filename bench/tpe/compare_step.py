#!/usr/bin/python3
"""Compares one TPE step of hpt and Optuna 3.1 on the same history (Styblinski-Tang by default).

compare_step.py <tpe_probe binary> [n_trials] [seed] [dims] [param]
Builds a history with Optuna's TPESampler, then for parameter `param` prints both samplers'
split, Parzen weights / means / bandwidths, acquisition log l - log g at shared candidates,
the distribution of draws from l(x), and of the chosen value over many seeds.
"""
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import optuna
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.sampler import _get_observation_pairs, _split_observation_pairs

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def styblinski_tang(x):
    return sum(0.5 * (v ** 4 - 16 * v * v + 5 * v) for v in x)


def main():
    probe = sys.argv[1]
    n_trials = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    d = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    low, high = -5.0, 5.0
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(lambda t: styblinski_tang([t.suggest_float(f"x{i}", low, high)
                                              for i in range(d)]), n_trials=n_trials)
    name = f"x{k}"
    dist = optuna.distributions.FloatDistribution(low, high)
    sampler = optuna.samplers.TPESampler(seed=seed)
    values, scores, _ = _get_observation_pairs(study, [name], False, False)
    n = len(scores)
    below_idx, above_idx = _split_observation_pairs(scores, sampler._gamma(n), None)
    x = np.asarray(values[name], dtype=float)
    params = sampler._parzen_estimator_parameters
    l = _ParzenEstimator({name: x[below_idx]}, {name: dist}, params)
    g = _ParzenEstimator({name: x[above_idx]}, {name: dist}, params)
    candidates = np.linspace(low, high, 41)
    o_log_l = l.log_pdf({name: candidates})
    o_log_g = g.log_pdf({name: candidates})
    draws = 2000
    rng = np.random.RandomState(7)
    o_samples = l.sample(rng, draws)[name]
    o_chosen = []
    for s in range(draws):
        smp = optuna.samplers.TPESampler(seed=s)
        trial = optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING)
        o_chosen.append(smp.sample_independent(study, study.trials[-1], name, dist))
    hin = {"low": low, "high": high, "d": d, "param": k, "candidates": candidates.tolist(),
           "draws": draws,
           "trials": [{"number": t.number, "x": [t.params[f"x{i}"] for i in range(d)],
                       "value": t.value} for t in study.trials]}
    h = json.loads(subprocess.run([probe], input=json.dumps(hin), capture_output=True, text=True,
                                  check=True).stdout)
    same = lambda a, b: np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-12)
    print(f"history: {n_trials} Optuna trials, seed {seed}, {d}-D, parameter {name}")
    print("split below identical:", list(below_idx) == h["below"],
          "above identical:", list(above_idx) == h["above"])
    for tag, pe in (("l", l), ("g", g)):
        print(f"{tag}: mus {same(pe._mus[name], h[tag]['mus'])}, sigmas "
              f"{same(pe._sigmas[name], h[tag]['sigmas'])}, weights "
              f"{same(pe._weights, h[tag]['weights'])}")
    acq_o = o_log_l - o_log_g
    acq_h = np.asarray(h["log_l"]) - np.asarray(h["log_g"])
    print(f"acquisition at 41 shared candidates: max |diff| {np.max(np.abs(acq_o - acq_h)):.3g}")
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    print("draws from l(x), quantiles", q)
    print("   optuna", np.round(np.quantile(o_samples, q), 3))
    print("   hpt   ", np.round(np.quantile(h["samples_l"], q), 3))
    print(f"chosen {name} over {draws} sampler seeds, quantiles")
    print("   optuna", np.round(np.quantile(o_chosen, q), 3), "mean", np.mean(o_chosen))
    print("   hpt   ", np.round(np.quantile(h["chosen"], q), 3), "mean", np.mean(h["chosen"]))


if __name__ == "__main__":
    main()
