"""A fit in the main thread, in a worker thread after it, and two at once.

    PYTHONPATH=$PWD python benchmarks/bench_threads.py [--repeats 5]
    PYTHONPATH=$PWD python benchmarks/bench_threads.py --grid [--repeats 3]

The same fit (``N=4000, n=64, k=64`` float64, 30 L-BFGS iterations) run
three ways, taking turns within each repeat so a change in the machine's
load hits them alike: in the main thread; in a new worker thread right
after (which must neither be slower nor differ); two such fits at once in
two threads (each timed, on a machine shared between the two). Each row is
the median over the repeats, with the largest parameter difference from
the main-thread fit.

``--grid``: the grid search of the gallery's pipeline example (CAE +
StandardScaler + LogisticRegression, 4 contractions, 3 folds) on 600
digits (folds of 400 rows: each fit on one thread) and on 3000 (folds of
2000 rows: each fit on every core), with ``GridSearchCV(n_jobs=1)`` and
``n_jobs=<cores>``, taking turns, medians of ``--repeats``.
"""

import argparse
import os
import threading
import time
import warnings

import numpy as np
from _common import data, environment, median
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder


def fit(X):
    start = time.perf_counter()
    cae = ContractiveAutoencoder(64, max_iter=30, tol=0.0, random_state=0).fit(X)
    return time.perf_counter() - start, cae.components_


def in_threads(X, n):
    out = [None] * n
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, fit(X))) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def grid_search(n_samples, n_jobs):
    """Seconds for the gallery example's grid search on ``n_samples``
    digits (the digits repeated, each copy nudged by noise, past 1797)."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(0)
    X = np.vstack([X + rng.uniform(0, 1, X.shape) * (i > 0) for i in range(2)]).clip(0, 16)
    X, y = X[:n_samples] / 16.0, np.tile(y, 2)[:n_samples]
    pipe = make_pipeline(
        ContractiveAutoencoder(
            n_components=32,
            activation="softplus",
            loss="cross_entropy",
            max_iter=100,
            tol=0.0,  # a fixed budget
            random_state=0,
        ),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    grid = GridSearchCV(
        pipe, {"contractiveautoencoder__contraction": [0.0, 0.01, 0.1, 1.0]}, cv=3, n_jobs=n_jobs
    )
    start = time.perf_counter()
    grid.fit(X, y)
    return time.perf_counter() - start


def compare_n_jobs(repeats):
    cores = len(os.sched_getaffinity(0))
    print(f"\n| rows | rows per fit | GridSearchCV n_jobs=1 (s) | n_jobs={cores} (s) | ratio |")
    print("|---|---|---|---|---|")
    for n_samples in (600, 3000):
        times = {1: [], cores: []}
        for _ in range(repeats):
            for n_jobs in times:
                times[n_jobs].append(grid_search(n_samples, n_jobs))
        one, many = median(times[1]), median(times[cores])
        print(f"| {n_samples} | {n_samples * 2 // 3} | {one:.2f} | {many:.2f} | {many / one:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # the budget is the point
    print(environment())
    if args.grid:
        compare_n_jobs(args.repeats)
        return
    X = data(4000, 64, np.float64)
    rows = {"main thread": [], "worker thread after it": [], "two at once (each)": []}
    diff = dict.fromkeys(rows, 0.0)
    for _ in range(args.repeats):
        seconds, reference = fit(X)
        rows["main thread"].append(seconds)
        runs = {"worker thread after it": in_threads(X, 1), "two at once (each)": in_threads(X, 2)}
        for name, results in runs.items():
            for seconds, components in results:
                rows[name].append(seconds)
                diff[name] = max(diff[name], float(np.max(np.abs(components - reference))))
    print(f"\n| fit | seconds (median of {args.repeats}) | max abs parameter difference |")
    print("|---|---|---|")
    for name, times in rows.items():
        print(f"| {name} | {median(times):.3f} | {diff[name]:.1e} |")


if __name__ == "__main__":
    main()
