"""Are the defaults good choices on the datasets scikit-learn ships?

For each dataset, scaled as a user would (``MinMaxScaler`` to [0, 1], or
``StandardScaler``; the digits' pixels divided by 16), the pipeline
``ContractiveAutoencoder(**candidate) -> StandardScaler -> LogisticRegression``
is scored by 5-fold stratified cross-validation (accuracy), for the default
``activation="logistic", loss="squared_error"`` and the alternatives.
Everything else is the default (``n_components=100``, ``contraction=0.1``,
the stopping rule ``tol=1e-4``, ``max_iter=1000``; ``random_state=0``). Also
printed: the mean number of iterations, the number of fits that stopped at
``max_iter`` (each of them raised a ``ConvergenceWarning``), and, for
context, a logistic regression on the scaled features alone.
BLAS is single-threaded (small matrices).

Run from the repository root (3-8 minutes on the shared 2-core machine)::

    PYTHONPATH=$PWD python benchmarks/bench_defaults.py
"""

import warnings

import numpy as np
from _common import environment
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.__main__ import print_table, single_threaded_blas

DATASETS = {
    "digits": (load_digits, {"/16": FunctionTransformer(lambda X: X / 16.0)}),
    "iris": (load_iris, {"MinMax": MinMaxScaler(), "Standard": StandardScaler()}),
    "wine": (load_wine, {"MinMax": MinMaxScaler(), "Standard": StandardScaler()}),
    "breast cancer": (load_breast_cancer, {"MinMax": MinMaxScaler(), "Standard": StandardScaler()}),
}
#: (activation, loss); cross-entropy needs data in [0, 1].
CANDIDATES = [
    ("logistic", "squared_error"),
    ("softplus", "squared_error"),
    ("logistic", "cross_entropy"),
    ("softplus", "cross_entropy"),
]


def cross_validate(make_model, X, y):
    """Mean accuracy and its std, mean iterations of the autoencoder (nan
    without one), share of fits that hit max_iter."""
    scores, capped, n_iter = [], [], []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        model = make_model()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X[train], y[train])
        capped.append(any(issubclass(w.category, ConvergenceWarning) for w in caught))
        scores.append(model.score(X[test], y[test]))
        n_iter.append(getattr(model[0], "n_iter_", np.nan))
    return np.mean(scores), np.std(scores), np.mean(n_iter), np.mean(capped)


def main():
    print(environment() + "\n")
    rows, n_fits, n_capped = [], 0, 0
    for name, (load, scalings) in DATASETS.items():
        X, y = load(return_X_y=True)
        for scaling, scaler in scalings.items():
            # Scaled once, outside the CV, as a user scales a file: the CV
            # compares the autoencoders, not the scaler.
            Xs = scaler.fit_transform(X)
            if scaling != "Standard":
                Xs = np.clip(Xs, 0.0, 1.0)  # MinMaxScaler can overshoot 1 by rounding
            data = f"{name} ({X.shape[0]}x{X.shape[1]}), {scaling}"
            m, s, _, _ = cross_validate(
                lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)), Xs, y
            )
            cells = [f"{m:.4f} ± {s:.4f}"]
            for activation, loss in CANDIDATES:
                if loss == "cross_entropy" and scaling == "Standard":
                    cells.append("-")
                    continue
                cae = ContractiveAutoencoder(activation=activation, loss=loss, random_state=0)
                m, s, n_iter, capped = cross_validate(
                    lambda cae=cae: make_pipeline(
                        clone(cae), StandardScaler(), LogisticRegression(max_iter=5000)
                    ),
                    Xs,
                    y,
                )
                cells.append(f"{m:.4f} ± {s:.4f} ({n_iter:.0f} it.)")
                n_fits, n_capped = n_fits + 5, n_capped + round(5 * capped)
            rows.append((data, *cells))
            print(f"done: {data}", flush=True)
    candidates = [f"{a}, {loss}" for a, loss in CANDIDATES]
    candidates[0] += " (default)"
    print("\n5-fold CV accuracy (mean iterations of the autoencoder's fits)\n")
    print_table(("data, scaling", "no autoencoder", *candidates), rows)
    print(f"Fits that stopped at max_iter (each with a ConvergenceWarning): {n_capped} of {n_fits}")


if __name__ == "__main__":
    with single_threaded_blas():
        main()
