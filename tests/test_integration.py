"""ContractiveAutoencoder inside scikit-learn: pipelines, grid search, persistence, pandas."""

import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from sklearn_cae import ContractiveAutoencoder


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def test_pipeline_grid_search_over_contraction_in_parallel(digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("cae", ContractiveAutoencoder(n_components=24, max_iter=40, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    grid = GridSearchCV(pipe, {"cae__contraction": [0.0, 0.1, 10.0]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(scores[:2] > 0.85)
    # An enormous contraction flattens the codes: accuracy collapses.
    assert scores[2] < 0.5
    assert grid.best_params_["cae__contraction"] in (0.0, 0.1)


def test_grid_search_without_downstream_model_uses_score(digits):
    X, _ = digits
    grid = GridSearchCV(
        ContractiveAutoencoder(n_components=16, max_iter=30, random_state=0),
        {"contraction": [0.0, 5.0]},
        cv=2,
    )
    grid.fit(X)
    # score is the reconstruction alone, which the penalty can only hurt.
    assert grid.best_params_ == {"contraction": 0.0}
    # The search scored each fold by score: minus the mean reconstruction
    # loss (half the squared error) of the held-out rows.
    fold_scores = []
    for train, test in KFold(2).split(X):
        model = clone(grid.estimator).set_params(contraction=0.0).fit(X[train])
        R = model.inverse_transform(model.transform(X[test]))
        fold_scores.append(-np.mean(0.5 * np.sum((X[test] - R) ** 2, axis=1)))
    assert grid.best_score_ == pytest.approx(np.mean(fold_scores), rel=1e-10)


def _fitted(digits):
    X, _ = digits
    return ContractiveAutoencoder(n_components=12, max_iter=20, random_state=0).fit(X), X


def test_pickle_round_trip(digits):
    model, X = _fitted(digits)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


def test_joblib_round_trip(digits):
    model, X = _fitted(digits)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


def test_set_output_pandas(digits):
    import pandas as pd

    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    model = ContractiveAutoencoder(n_components=5, max_iter=10, random_state=0)
    out = model.set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"contractiveautoencoder{i}" for i in range(5)]
    assert list(model.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(
        out.to_numpy(), model.set_output(transform="default").transform(frame)
    )
