"""Bad input gets a clear error that says what is wrong."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from sklearn_cae import ContractiveAutoencoder


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(0, 1, (20, 4))


@pytest.fixture
def fitted(X):
    return ContractiveAutoencoder(n_components=3, max_iter=5, random_state=0).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "'n_components' parameter"),
        ({"n_components": 2.5}, "'n_components' parameter"),
        ({"contraction": -1.0}, "'contraction' parameter"),
        ({"activation": "sigmoid"}, "'activation' parameter"),
        ({"loss": "mse"}, "'loss' parameter"),
        ({"tied_weights": "yes"}, "'tied_weights' parameter"),
        ({"alpha": -0.1}, "'alpha' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
        ({"max_fun": 0}, "'max_fun' parameter"),
        ({"working_memory": 0}, "'working_memory' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_invalid_parameters(X, params, match):
    with pytest.raises(ValueError, match=match):
        ContractiveAutoencoder(**params).fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_fit_and_transform(X, fitted, bad):
    X_bad = X.copy()
    X_bad[3, 1] = bad
    match = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=match):
        ContractiveAutoencoder(n_components=2).fit(X_bad)
    with pytest.raises(ValueError, match=match):
        fitted.transform(X_bad)


def test_wrong_number_of_features(X, fitted):
    with pytest.raises(
        ValueError, match="X has 5 features, but ContractiveAutoencoder is expecting 4"
    ):
        fitted.transform(np.ones((2, 5)))
    with pytest.raises(ValueError, match="expecting 4 features"):
        fitted.score(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expecting 4 features"):
        fitted.jacobian(np.ones((2, 3)))


def test_wrong_number_of_components_in_inverse_transform(fitted):
    with pytest.raises(ValueError, match="X has 4 columns, but .* n_components=3"):
        fitted.inverse_transform(np.ones((2, 4)))


@pytest.mark.parametrize("value", [-0.5, 1.5])
def test_cross_entropy_needs_unit_interval(X, value):
    X_bad = X.copy()
    X_bad[0, 0] = value
    model = ContractiveAutoencoder(n_components=2, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 1\]"):
        model.fit(X_bad)
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 1\]"):
        model.fit(sp.csr_matrix(X_bad))
    model.set_params(max_iter=3).fit(X)
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 1\]"):
        model.score(X_bad)


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample"):
        ContractiveAutoencoder().fit(np.empty((0, 3)))
    with pytest.raises(ValueError, match="0 feature"):
        ContractiveAutoencoder().fit(np.empty((3, 0)))


def test_one_dimensional_input(X, fitted):
    with pytest.raises(ValueError, match="Expected 2D array"):
        ContractiveAutoencoder().fit(X[:, 0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        fitted.transform(X[0])


def test_non_numeric_input():
    with pytest.raises(ValueError, match="could not convert string to float"):
        ContractiveAutoencoder().fit([["a", "b"], ["c", "d"]])


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score", "jacobian"])
def test_methods_need_a_fitted_model(X, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(ContractiveAutoencoder(), method)(X)
