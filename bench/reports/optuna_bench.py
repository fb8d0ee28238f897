"""The Optuna side of bench/reports: the same synthetic studies (written by bench_reports) ->
Optuna's plot_* figures to one offline HTML file (plotly.js inlined) and fANOVA time.
Usage: optuna_bench.py DIR N [--no-importance]. Prints one JSON line."""
import datetime
import json
import sys
import time

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

optuna.logging.set_verbosity(optuna.logging.ERROR)

DISTS = {
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "momentum": FloatDistribution(0.0, 0.99),
    "dropout": FloatDistribution(0.0, 0.5, step=0.05),
    "layers": IntDistribution(1, 6),
    "batch": IntDistribution(16, 512, step=16),
    "optimizer": CategoricalDistribution(["adam", "sgd", "rmsprop"]),
    "widths": CategoricalDistribution(["[64, 32]", "[128]", "[256, 128, 64]"]),
    "margin": FloatDistribution(0.05, 2.0, log=True),
    "nesterov": CategoricalDistribution([False, True]),
}
STATES = {"COMPLETE": optuna.trial.TrialState.COMPLETE, "PRUNED": optuna.trial.TrialState.PRUNED,
          "FAIL": optuna.trial.TrialState.FAIL}


def load(path):
    study = optuna.create_study(direction="maximize")
    t0 = datetime.datetime(2024, 1, 1)
    trials = []
    for r in json.load(open(path)):
        params = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in r["params"].items()}
        state = STATES[r["state"]]
        trials.append(optuna.trial.create_trial(
            state=state, value=r["value"] if state != optuna.trial.TrialState.FAIL else None,
            params=params, distributions={k: DISTS[k] for k in params},
            intermediate_values={int(k): v for k, v in r["intermediate"]},
            ))
        trials[-1].datetime_start = t0
        trials[-1].datetime_complete = t0 + datetime.timedelta(seconds=r["duration"])
    study.add_trials(trials)
    return study


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    with_importance = "--no-importance" not in sys.argv
    study = load(f"{d}/study_{n}.json")
    out = {"tool": "optuna", "trials": n}
    if with_importance:
        t = time.perf_counter()
        imp = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
        out["fanova_s"] = time.perf_counter() - t
        out["importance"] = dict(imp)
    import optuna.visualization as vis
    t = time.perf_counter()
    figs = [vis.plot_optimization_history(study), vis.plot_slice(study),
            vis.plot_contour(study, params=["lr", "optimizer", "dropout"]),
            vis.plot_parallel_coordinate(study), vis.plot_intermediate_values(study),
            vis.plot_edf(study)]
    if with_importance:  # Runs fANOVA again, as Optuna's dashboard would.
        figs.append(vis.plot_param_importances(study))
    path = f"{d}/optuna_report_{n}.html"
    with open(path, "w") as f:
        f.write("<html><body>")
        for i, fig in enumerate(figs):
            f.write(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
        f.write("</body></html>")
    out["report_s"] = time.perf_counter() - t
    import os
    out["report_bytes"] = os.path.getsize(path)
    out["report_has_importance"] = with_importance
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
