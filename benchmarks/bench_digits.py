"""Features on the nudged digits of scikit-learn's RBM example.

The data of "Restricted Boltzmann Machine features for digit
classification": digits nudged one pixel in four directions (5x the data),
scaled to [0, 1], ``train_test_split(test_size=0.2, random_state=0)``.
The CAE pipeline's hyper-parameters are chosen by 3-fold cross-validation
(macro-F1) on the training part only; then every model is fitted on the
training part, in this same run, and scored once on the test part. Last,
the paper's diagnostics (Rifai et al. 2011, Table 1) of a CAE, a plain
autoencoder and one with weight decay, on the test part.

Run from the repository root (about 2 minutes on 2 cores)::

    PYTHONPATH=$PWD python benchmarks/bench_digits.py
"""

import platform
import time

import sklearn
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_cae.__main__ import (
    Progress,
    baselines,
    cae_classifier,
    diagnostic_models,
    diagnostics_table,
    feature_table,
    fit_quietly,
    print_table,
    single_threaded_blas,
)
from sklearn_cae.datasets import load_nudged_digits

# A first run over contraction [0.03, 0.1, 0.3] x both activations chose
# (softplus, 0.3), on the grid's edge: hence the larger values here.
GRID = [
    {"cae__activation": ["softplus"], "cae__contraction": [0.1, 0.3, 1.0]},
    {"cae__activation": ["logistic"], "cae__contraction": [0.3, 1.0]},
]


def main():
    start = time.perf_counter()
    X, y = load_nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    print(
        f"nudged digits: {len(X_train)} training and {len(X_test)} test images; "
        f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}\n"
    )
    progress = Progress(1 + 5 + 3)

    progress("3-fold CV of the CAE pipeline on the training part")
    grid = GridSearchCV(cae_classifier(max_iter=200), GRID, cv=3, scoring="f1_macro", n_jobs=2)
    seconds = fit_quietly(grid, X_train, y_train)
    rows = [
        (p["cae__activation"], f"{p['cae__contraction']:g}", f"{m:.4f}", f"{s:.4f}")
        for p, m, s in zip(
            grid.cv_results_["params"],
            grid.cv_results_["mean_test_score"],
            grid.cv_results_["std_test_score"],
            strict=True,
        )
    ]
    print_table(("activation", "contraction", "mean CV macro-F1", "std"), rows)
    print(f"chosen: {grid.best_params_} (search took {seconds:.0f} s)\n")

    models = baselines(grid.best_estimator_)
    header, rows, _ = feature_table(models, X_train, y_train, X_test, y_test, progress)
    print_table(header, rows)

    header, rows, _, _ = diagnostics_table(
        diagnostic_models(100, contraction=0.1, alpha=10.0, max_iter=200),
        X_train,
        X_test,
        progress,
    )
    print_table(header, rows)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    with single_threaded_blas():
        main()
