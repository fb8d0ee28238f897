#!/usr/bin/python3
"""Prints Optuna 3.1's pruning decisions on the synthetic learning curves of
test_successive_halving_pruner.cpp / test_hyperband_pruner.cpp, as C++ initialisers.

Run once with Debian's python3-optuna (/usr/bin/python3 tests/tuner/optuna_pruner_decisions.py)
and paste the output into the tests; each line is {trial number, step it was pruned at or -1}.
"""
import binascii
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def curve(i, s):
    """The test curves: trial i's value at step s (integer arithmetic, same in C++)."""
    a = (i * 7919) % 101 / 101.0
    b = (i * 104729) % 97 / 97.0
    return a + 2.0 * b / (s + 1)


def bumpy(i, s):
    """Curves that stall and rise (threshold and patient pruners), NaN at step 6 of every
    ninth trial from trial 4: learning_curve plus integer-arithmetic noise (same in C++)."""
    if i % 9 == 4 and s == 6:
        return float("nan")
    return curve(i, s) + ((i * 31 + s * 17) % 11) / 110.0


def run(pruner, n_trials, n_steps, direction, study_name, steps=None, values=curve):
    steps = steps or list(range(n_steps))
    sign = 1.0 if direction == "minimize" else -1.0
    study = optuna.create_study(study_name=study_name, direction=direction, pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    pruned_at = {}

    def objective(trial):
        v = 0.0
        for s in steps:
            v = sign * values(trial.number, s)
            trial.report(v, s)
            if trial.should_prune():
                pruned_at[trial.number] = s
                raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=n_trials)
    return [pruned_at.get(i, -1) for i in range(n_trials)], study


def show(name, decisions):
    print(f"// {name}")
    print("{" + ", ".join(str(d) for d in decisions) + "}")


if __name__ == "__main__":
    sh = optuna.pruners.SuccessiveHalvingPruner
    show("SH min_resource=1 reduction_factor=3, minimize, 30 trials x 30 steps",
         run(sh(min_resource=1, reduction_factor=3), 30, 30, "minimize", "sh")[0])
    show("SH defaults (auto, 4, 0), maximize, 30 trials x 300 steps",
         run(sh(), 30, 300, "maximize", "sh")[0])
    show("SH min_resource=2 reduction_factor=2 min_early_stopping_rate=1, minimize, 25 x 40",
         run(sh(min_resource=2, reduction_factor=2, min_early_stopping_rate=1), 25, 40,
             "minimize", "sh")[0])
    show("SH min_resource=1 reduction_factor=3 bootstrap_count=2, minimize, 20 x 30",
         run(sh(min_resource=1, reduction_factor=3, bootstrap_count=2), 20, 30, "minimize",
             "sh")[0])
    show("SH min_resource=1 reduction_factor=2, steps 0,5,10,..,95 (sparse), minimize, 20 trials",
         run(sh(min_resource=1, reduction_factor=2), 20, 0, "minimize", "sh",
             list(range(0, 100, 5)))[0])
    hb = optuna.pruners.HyperbandPruner
    decisions, study = run(hb(min_resource=1, max_resource=27, reduction_factor=3), 40, 27,
                           "minimize", "hb-test")
    show("HB min_resource=1 max_resource=27 reduction_factor=3, minimize, 40 x 27, 'hb-test'",
         decisions)
    p = study.pruner
    show("   its brackets of trials 0..39", [p._get_bracket_id(study, t) for t in study.trials])
    show("   its budgets", p._trial_allocation_budgets)
    decisions, study = run(hb(), 40, 30, "maximize", "hb-auto")
    show("HB defaults (1, auto, 3), maximize, 40 x 30, 'hb-auto'", decisions)
    p = study.pruner
    show("   its brackets of trials 0..39", [p._get_bracket_id(study, t) for t in study.trials])
    show("   its budgets", p._trial_allocation_budgets)
    print("// crc32('hb-test_7') =", binascii.crc32(b"hb-test_7"))
    th = optuna.pruners.ThresholdPruner
    show("threshold upper=0.9 n_warmup_steps=2 interval_steps=3, bumpy, minimize, 30 x 30",
         run(th(upper=0.9, n_warmup_steps=2, interval_steps=3), 30, 30, "minimize", "th",
             values=bumpy)[0])
    show("threshold lower=-0.6, bumpy, maximize, 30 x 30",
         run(th(lower=-0.6), 30, 30, "maximize", "th", values=bumpy)[0])
    show("threshold lower=0.2 upper=1.2 interval_steps=4, steps 0,5,..,95, bumpy, minimize, 30",
         run(th(lower=0.2, upper=1.2, interval_steps=4), 30, 0, "minimize", "th",
             list(range(0, 100, 5)), values=bumpy)[0])
    pp = optuna.pruners.PatientPruner
    show("patient None patience=2, bumpy, minimize, 30 x 30",
         run(pp(None, patience=2), 30, 30, "minimize", "pp", values=bumpy)[0])
    show("patient None patience=3 min_delta=0.01, bumpy, maximize, 30 x 30",
         run(pp(None, patience=3, min_delta=0.01), 30, 30, "maximize", "pp", values=bumpy)[0])
    show("patient None patience=0, bumpy, minimize, 20 x 30",
         run(pp(None, patience=0), 20, 30, "minimize", "pp", values=bumpy)[0])
    show("patient median(n_startup_trials=2) patience=1, bumpy, minimize, 30 x 30",
         run(pp(optuna.pruners.MedianPruner(n_startup_trials=2), patience=1), 30, 30, "minimize",
             "pp", values=bumpy)[0])
    show("patient SH(min_resource=1, reduction_factor=3) patience=2, bumpy, minimize, 30 x 30",
         run(pp(sh(min_resource=1, reduction_factor=3), patience=2), 30, 30, "minimize", "pp",
             values=bumpy)[0])
