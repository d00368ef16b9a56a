"""Demo: ``python -m sklearn_cae``.

Fits a contractive autoencoder as the feature step of a Pipeline with
LogisticRegression on scikit-learn's bundled digits (scaled to [0, 1]),
grid-searches ``contraction`` by cross-validation on the training part,
and prints the cross-validated scores and the test accuracy.
"""

import argparse
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_cae import ContractiveAutoencoder


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_cae",
        description="Contractive autoencoder features for digit classification.",
    )
    parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

    pipe = Pipeline(
        [
            ("cae", ContractiveAutoencoder(n_components=100, max_iter=100, random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    grid = GridSearchCV(pipe, {"cae__contraction": [0.0, 0.01, 0.1, 1.0]}, cv=3, n_jobs=2)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X_train, y_train)
    elapsed = time.perf_counter() - start

    print("contraction  mean CV accuracy  std")
    for params, mean, std in zip(
        grid.cv_results_["params"],
        grid.cv_results_["mean_test_score"],
        grid.cv_results_["std_test_score"],
        strict=True,
    ):
        print(f"{params['cae__contraction']:>11g}  {mean:>16.4f}  {std:.4f}")
    best = grid.best_params_["cae__contraction"]
    print(f"best contraction: {best:g} (grid search took {elapsed:.1f} s)")
    print(f"test accuracy: {grid.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
