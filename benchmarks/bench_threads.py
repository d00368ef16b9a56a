"""A fit in the main thread, in a worker thread after it, and two at once.

    PYTHONPATH=$PWD python benchmarks/bench_threads.py [--repeats 5]

The same fit (``N=4000, n=64, k=64`` float64, 30 L-BFGS iterations) run
three ways, taking turns within each repeat so a change in the machine's
load hits them alike: in the main thread; in a new worker thread right
after (which must neither be slower nor differ); two such fits at once in
two threads (each timed, on a machine shared between the two). Each row is
the median over the repeats, with the largest parameter difference from
the main-thread fit.
"""

import argparse
import threading
import time
import warnings

import numpy as np
from _common import data, environment, median
from sklearn.exceptions import ConvergenceWarning

from sklearn_cae import ContractiveAutoencoder


def fit(X):
    start = time.perf_counter()
    cae = ContractiveAutoencoder(64, max_iter=30, random_state=0).fit(X)
    return time.perf_counter() - start, cae.components_


def in_threads(X, n):
    out = [None] * n
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, fit(X))) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # the budget is the point
    print(environment())
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
