"""What a warm-started contraction path and the CAE+H term cost.

Digits scaled to [0, 1] (1797 x 64), ``n_components=100``, default settings
otherwise (logistic units, squared error, default threads), measured side by
side in one run, ``--repeats`` times, medians printed (wall and process CPU
time: the machine may be shared).

1. **Warm starts.** A path of ``contraction`` values fitted cold (a fresh
   fit per value) and warm (one estimator with ``warm_start=True``, each
   fit starting where the previous value's ended), each with a fixed budget
   (``max_iter=200``, ``tol=0``). Printed: total time, total L-BFGS iterations and the
   final objective at each value (warm / cold).
2. **CAE+H.** ``hessian_penalty=1`` (``n_corruptions=4``) against the plain
   CAE, both with ``max_iter=50, tol=0`` (both use all 50): fit time and time per
   objective evaluation (scipy's ``nfev``), as ratios to the plain CAE.

Run from the repository root (about 2 minutes on 2 cores)::

    PYTHONPATH=$PWD python benchmarks/bench_paths.py --repeats 3
"""

import argparse
import time
import warnings

import numpy as np
from _common import counting_evaluations, environment, settle
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.__main__ import print_table

PATH = [0.01, 0.03, 0.1, 0.3, 1.0]


def timed_fit(model, X):
    """Fit quietly; wall and CPU seconds and scipy's nfev."""
    settle()
    with warnings.catch_warnings(), counting_evaluations() as nfev:
        warnings.simplefilter("ignore", ConvergenceWarning)
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(X)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, nfev[-1]


def path(X, max_iter, warm):
    """Fit the PATH; total wall and CPU seconds, total iterations, final losses."""
    totals, losses = np.zeros(3), []
    model = ContractiveAutoencoder(100, max_iter=max_iter, tol=0.0, warm_start=warm, random_state=0)
    for contraction in PATH:
        if not warm:
            model = ContractiveAutoencoder(100, max_iter=max_iter, tol=0.0, random_state=0)
        model.set_params(contraction=contraction)
        wall, cpu, _ = timed_fit(model, X)
        totals += (wall, cpu, model.n_iter_)
        losses.append(model.loss_)
    return totals, losses


def warm_starts(X, repeats):
    rows = []
    for max_iter in (200,):
        runs = {True: [], False: []}
        for _ in range(repeats):
            for warm in (False, True):
                runs[warm].append(path(X, max_iter, warm))
        (cold, cold_losses), (warm, warm_losses) = (
            (np.median([t for t, _ in runs[w]], axis=0), runs[w][0][1]) for w in (False, True)
        )
        rows.append(
            (
                str(max_iter),
                f"{cold[0]:.1f} / {cold[1]:.1f}",
                f"{warm[0]:.1f} / {warm[1]:.1f}",
                f"{warm[0] / cold[0]:.2f}x",
                f"{cold[2]:.0f} / {warm[2]:.0f}",
                " ".join(f"{w / c:.3f}" for w, c in zip(warm_losses, cold_losses, strict=True)),
            )
        )
    header = (
        "max_iter",
        f"cold path {PATH}: wall / CPU (s)",
        "warm path: wall / CPU (s)",
        "warm / cold (wall)",
        "iterations cold / warm",
        "final objective warm / cold, per contraction",
    )
    print_table(header, rows)


def hessian_cost(X, repeats):
    settings = {"CAE": {}, "CAE+H (hessian_penalty=1, n_corruptions=4)": {"hessian_penalty": 1.0}}
    runs = {name: [] for name in settings}
    for _ in range(repeats):
        for name, params in settings.items():
            model = ContractiveAutoencoder(100, max_iter=50, tol=0.0, random_state=0, **params)
            wall, cpu, nfev = timed_fit(model, X)
            runs[name].append((wall, cpu, wall / nfev, cpu / nfev))
    base = np.median(runs["CAE"], axis=0)
    rows = []
    for name, values in runs.items():
        wall, cpu, wall_eval, cpu_eval = np.median(values, axis=0)
        rows.append(
            (
                name,
                f"{wall:.2f} / {cpu:.2f}",
                f"{1000 * wall_eval:.1f} / {1000 * cpu_eval:.1f}",
                f"{wall / base[0]:.2f}x / {cpu / base[1]:.2f}x",
                f"{wall_eval / base[2]:.2f}x / {cpu_eval / base[3]:.2f}x",
            )
        )
    header = (
        "model (max_iter=50)",
        "fit wall / CPU (s)",
        "per evaluation wall / CPU (ms)",
        "fit / CAE (wall / CPU)",
        "per evaluation / CAE (wall / CPU)",
    )
    print_table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(environment() + "\n")
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    warm_starts(X, args.repeats)
    hessian_cost(X, args.repeats)


if __name__ == "__main__":
    main()
