"""When do more L-BFGS iterations stop helping, and where does the default stop?

For each dataset, scaled into [0, 1] as a user would, the pipeline
``ContractiveAutoencoder(max_iter=m, tol=0) -> StandardScaler -> LogisticRegression``
is scored by 5-fold stratified cross-validation (accuracy) at several
iteration budgets ``m`` (``tol=0``: every budget is used up), next to what
the objective does there: its value on the training folds and its decrease
per iteration over the last ten iterations, ``(J[m-10] - J[m]) / 10``, the
quantity the stopping rule compares with ``tol`` times the data's baseline
loss. The row "default" is the default fit, which stops by the rule
(``tol=1e-4``, ``n_iter_no_change=10``):
its ``n_iter_`` (mean over the folds) and score. The autoencoder is the
default (``n_components=100``, ``contraction=0.1``, logistic units, squared
error, ``random_state=0``) except where the row says otherwise. BLAS is
single-threaded (small matrices).

Run from the repository root (2-6 minutes on the shared 2-core machine)::

    PYTHONPATH=$PWD python benchmarks/bench_stopping.py
"""

import warnings

import numpy as np
from _common import environment
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.__main__ import print_table, single_threaded_blas
from sklearn_cae.datasets import load_nudged_digits

BUDGETS = [10, 25, 50, 100, 200, 400, 1000]
WINDOW = 10


def nudged_digits():
    X, y = load_nudged_digits()
    rows = np.random.RandomState(0).permutation(len(X))[:2000]
    return X[rows], y[rows]


DATASETS = {
    "digits /16": (lambda: load_digits(return_X_y=True), {}),
    "iris": (lambda: load_iris(return_X_y=True), {}),
    "wine": (lambda: load_wine(return_X_y=True), {}),
    "breast cancer": (lambda: load_breast_cancer(return_X_y=True), {}),
    "nudged digits (2000)": (nudged_digits, {}),
    "nudged digits (2000), softplus + cross-entropy": (
        nudged_digits,
        {"activation": "softplus", "loss": "cross_entropy"},
    ),
}


def decrease(curve, m):
    """Mean decrease per iteration over the ``WINDOW`` iterations up to ``m``."""
    before, now = curve[max(m - WINDOW, 1) - 1], curve[m - 1]
    return (before - now) / min(WINDOW, m - 1)


def main():
    print(environment() + "\n")
    rows, ends = [], []
    for name, (load, params) in DATASETS.items():
        X, y = load()
        X = X / 16.0 if name.startswith("digits") else MinMaxScaler(clip=True).fit_transform(X)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
        runs = BUDGETS + ["default"]
        scores, objective, fell, n_iter = ({m: [] for m in runs} for _ in range(4))
        for train, test in folds:
            for m in runs:
                budget = {} if m == "default" else {"max_iter": m, "tol": 0.0}
                cae = ContractiveAutoencoder(random_state=0, **budget, **params)
                pipe = make_pipeline(cae, StandardScaler(), LogisticRegression(max_iter=5000))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    pipe.fit(X[train], y[train])
                scores[m].append(pipe.score(X[test], y[test]))
                objective[m].append(cae.loss_)
                n_iter[m].append(cae.n_iter_)
                curve = cae.loss_curve_
                fell[m].append(decrease(curve, len(curve)))
        cells = [f"{np.mean(scores[m]):.4f} ± {np.std(scores[m]):.4f}" for m in runs]
        cells[-1] += f" ({np.mean(n_iter['default']):.0f} it.)"
        rows.append((name, *cells))
        ends.append((name, *(f"{np.mean(objective[m]):.4g}" for m in runs)))
        ends.append(("", *(f"{np.mean(fell[m]):.1e}" for m in runs)))
        print(f"done: {name}", flush=True)
    budgets = [f"max_iter={m}" for m in BUDGETS] + ["default (stopped at)"]
    print("\n5-fold CV accuracy by iteration budget (tol=0), and with the defaults\n")
    print_table(("data", *budgets), rows)
    print("Objective at the end, and its mean decrease per iteration over the last 10\n")
    print_table(("data", *budgets), ends)


if __name__ == "__main__":
    with single_threaded_blas():
        main()
