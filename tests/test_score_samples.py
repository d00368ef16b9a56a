"""score_samples: per-sample reconstruction scores, their mean is score."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_cae import ContractiveAutoencoder


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(0, 1, (70, 5))


def _fit(X, **params):
    params = {"n_components": 6, "max_iter": 40, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ContractiveAutoencoder(**params).fit(X)


def _reconstruction_losses(model, X):
    """rec_i of docs/user_guide/objective.rst from the fitted attributes, in numpy."""
    A = X @ model.components_.T + model.intercept_hidden_
    H = {"logistic": expit, "tanh": np.tanh}[model.activation](A)
    Z = H @ model.decoder_components_ + model.intercept_visible_
    if model.loss == "squared_error":
        return 0.5 * np.sum((X - Z) ** 2, axis=1)
    R = expit(Z)
    return -np.sum(X * np.log(R) + (1 - X) * np.log(1 - R), axis=1)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"activation": "tanh", "tied_weights": False},
        {"loss": "cross_entropy"},
    ],
)
def test_score_samples_is_minus_each_reconstruction_loss(X, params):
    model = _fit(X, **params)
    scores = model.score_samples(X)
    assert scores.shape == (70,)
    np.testing.assert_allclose(scores, -_reconstruction_losses(model, X), rtol=1e-10)
    assert model.score(X) == pytest.approx(scores.mean(), rel=1e-12)


def test_score_samples_chunks_and_sparse_input_agree(X):
    model = _fit(X)
    expected = model.score_samples(X)
    # 7 rows per chunk: the 70 rows in 10 chunks.
    model.set_params(working_memory=7 * 8 * (5 * 6 + 4 * 5) / 2**20)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(sp.csr_matrix(X)), expected, rtol=1e-12)
    assert model.score(X) == pytest.approx(expected.mean(), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_score_samples_dtype_follows_the_input(X, dtype):
    model = _fit(X.astype(dtype))
    scores = model.score_samples(X.astype(dtype))
    assert scores.dtype == dtype
    assert model.score(X.astype(dtype)) == pytest.approx(scores.mean(), rel=1e-6)


def test_outliers_score_lower():
    # Training data on a line in 3-D: points off the line reconstruct worse.
    rng = np.random.RandomState(0)
    t = rng.uniform(-1, 1, (300, 1))
    X = t * np.array([1.0, 0.5, -0.5]) + 0.01 * rng.normal(size=(300, 3))
    model = _fit(X, n_components=4, activation="tanh", max_iter=200)
    on_line = np.array([[0.4, 0.2, -0.2], [-0.6, -0.3, 0.3]])
    off_line = on_line + np.array([0.0, 0.5, 0.5])
    assert model.score_samples(off_line).max() < model.score_samples(on_line).min()


def test_score_samples_validates_like_score(X):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ContractiveAutoencoder().score_samples(X)
    model = _fit(X, loss="cross_entropy")
    with pytest.raises(ValueError, match="expecting 5 features"):
        model.score_samples(X[:, :4])
    X_bad = X.copy()
    X_bad[0, 0] = 1.5
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 1\]"):
        model.score_samples(X_bad)
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.score_samples(X_bad)
