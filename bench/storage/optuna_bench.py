"""Optuna 3.1 on the same PostgreSQL server: `procs` processes share one study until
`trials` trials are done in all. Prints the wall time in seconds."""
import multiprocessing
import sys
import time

import optuna


def work(url, n):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name="bench", storage=url,
                              sampler=optuna.samplers.TPESampler(n_startup_trials=10))
    study.optimize(lambda t: t.suggest_float("x", -3, 3) * 0 + 1, n_trials=n)


def main():
    url, procs, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(study_name="bench", storage=url)
    start = time.time()
    ps = [multiprocessing.Process(target=work, args=(url, trials // procs)) for _ in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(f"{time.time() - start:.3f}")


if __name__ == "__main__":
    main()
