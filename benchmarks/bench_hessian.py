"""Does the CAE+H term help on the digits?

Digits scaled to [0, 1], one stratified train/test split. For each setting a
ContractiveAutoencoder is fitted on the training part with fixed
hyper-parameters (no tuning), its codes feed a LogisticRegression, and the
test accuracy is printed, for three seeds, with what the term targets: the
test Jacobian variation ``mean_i mean_c ||J(x_i) - J(x_i + eps_ic)||_F^2``
on fresh corruptions of std 0.3. The same seeds give the plain CAE and
CAE+H the same initialisation. Fit CPU times (process time; BLAS runs
single-threaded via threadpoolctl, so they are less sensitive than wall
time to the load of a shared machine) are reported as a ratio to the plain
CAE of the same seed, measured in the same run. Single-threaded BLAS also
because on a loaded 2-core machine threaded BLAS made scipy's L-BFGS-B step
itself several times slower.

    PYTHONPATH=$PWD python benchmarks/bench_hessian.py
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_cae import ContractiveAutoencoder, _objective

SEEDS = [0, 1, 2]
COMMON = dict(n_components=100, contraction=0.1, max_iter=200, tol=0.0)  # a fixed budget
SETTINGS = [
    ("CAE", {}),
    ("CAE+H", dict(hessian_penalty=1.0, corruption_std=0.1)),
    ("CAE+H", dict(hessian_penalty=1.0, corruption_std=0.3)),
    ("CAE+H", dict(hessian_penalty=10.0, corruption_std=0.3)),
]


def jacobian_variation(cae, X, std=0.3):
    """mean_i mean_c ||J(x_i) - J(x_i + eps_ic)||_F^2 on fresh corruptions."""
    W, b, D, c = cae._params(np.float64)
    theta = _objective.pack(W, b, D, c, cae.tied_weights)
    value, _ = _objective.hessian_penalty_and_grad(
        theta,
        X,
        n_components=cae.n_components,
        activation=cae.activation,
        tied=cae.tied_weights,
        hessian_penalty=1.0,
        n_corruptions=4,
        corruption_std=std,
        seed=12345,
        chunk_rows=len(X),
    )
    return value


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    print(f"digits: {len(X_train)} train / {len(X_test)} test, {COMMON}, seeds {SEEDS}")
    print(
        "| model | hessian_penalty | corruption_std | test accuracy (mean ± std) | "
        "per seed | test Jacobian variation (mean) | fit CPU time / CAE (median) | "
        "iterations (median) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    base_times = {}
    for name, extra in SETTINGS:
        accs, ratios, iters, variations = [], [], [], []
        for seed in SEEDS:
            cae = ContractiveAutoencoder(random_state=seed, **COMMON, **extra)
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cae.fit(X_train)
            elapsed = time.process_time() - start
            base_times.setdefault(seed, elapsed)
            ratios.append(elapsed / base_times[seed])
            iters.append(cae.n_iter_)
            variations.append(jacobian_variation(cae, X_test))
            clf = LogisticRegression(max_iter=2000).fit(cae.transform(X_train), y_train)
            accs.append(clf.score(cae.transform(X_test), y_test))
        print(
            f"| {name} | {extra.get('hessian_penalty', 0.0):g} | "
            f"{extra.get('corruption_std', '-')} | {np.mean(accs):.4f} ± {np.std(accs):.4f} | "
            f"{' '.join(f'{a:.4f}' for a in accs)} | {np.mean(variations):.4f} | "
            f"{np.median(ratios):.2f} | "
            f"{int(np.median(iters))} |"
        )


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
