"""The L-BFGS written against the Array API namespace (``_lbfgs``), which
fits on Array API rows: against known optima and scipy's L-BFGS-B on
numpy float64, and the same run on PyTorch CPU tensors as on numpy."""

import warnings

import numpy as np
import pytest
import scipy.optimize
import sklearn
import torch
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.externals.array_api_compat import array_namespace

from sklearn_cae import ContractiveAutoencoder, _lbfgs, _objective, _solvers
from sklearn_cae._backends import array_api, inprocess


def quadratic(seed=0, n=20):
    """``0.5 x'Ax - b'x`` with A positive definite (condition number 100)."""
    rng = np.random.RandomState(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.logspace(0, 2, n)) @ Q.T
    return A, rng.normal(size=n)


def logistic_regression(seed=0):
    """The L2-penalised logistic loss of a small problem, and its gradient."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(200, 5))
    y = np.sign(X @ rng.normal(size=5) + 0.5 * rng.normal(size=200))

    def fun(w):
        z = y * (X @ w)
        loss = np.logaddexp(0, -z).sum() + 0.5 * w @ w
        return float(loss), -X.T @ (y * 0.5 * (1 - np.tanh(z / 2))) + w

    return fun


def run(fun, x0, **options):
    options = dict(max_iter=1000, max_fun=15000) | options
    return _lbfgs.minimize(fun, x0, **options)


def scipy_minimum(fun, x0):
    result = scipy.optimize.minimize(
        fun, x0, jac=True, method="L-BFGS-B", options=dict(gtol=0, ftol=0, maxiter=10000)
    )
    return result.x, float(result.fun)


@pytest.mark.parametrize("namespace", ["numpy", "array_api_strict", "torch"])
def test_quadratic_reaches_its_known_optimum(namespace):
    A, b = quadratic()
    module = {"numpy": np, "torch": torch}.get(namespace) or pytest.importorskip(namespace)
    A_, b_ = module.asarray(A), module.asarray(b)
    xp = array_namespace(A_)

    def fun(x):
        Ax = A_ @ x
        return float(0.5 * xp.vecdot(x, Ax) - xp.vecdot(b_, x)), Ax - b_

    ending = run(fun, xp.zeros(20, dtype=xp.float64))
    # at the optimum, rounding leaves no step that lowers the objective (scipy's
    # L-BFGS-B with its tests at 0 ends the same ways)
    assert ending.why in (_lbfgs.UNCHANGED, _lbfgs.ZERO_GRADIENT, _lbfgs.LINE_SEARCH)
    optimum = np.linalg.solve(A, b)
    # the objective to rounding; x to what rounding of the objective resolves (the
    # objective varies as the square of the distance to the optimum)
    assert ending.f == pytest.approx(-0.5 * b @ optimum, rel=1e-13)
    assert_allclose(np.asarray(ending.x), optimum, rtol=1e-6, atol=1e-9)


def test_logistic_regression_reaches_scipys_optimum():
    fun = logistic_regression()
    w_scipy, f_scipy = scipy_minimum(fun, np.zeros(5))
    ending = run(fun, np.zeros(5))
    assert ending.f == pytest.approx(f_scipy, rel=1e-12)
    assert_allclose(ending.x, w_scipy, rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        dict(activation="tanh", contraction=0.2),
        dict(activation="logistic", loss="cross_entropy", tied_weights=False, alpha=0.1),
        dict(activation="softplus", contraction=1.0),
    ],
)
def test_cae_problems_reach_scipys_objective(params):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(60, 5))
    if params.get("loss") == "cross_entropy":
        X = 1 / (1 + np.exp(-X))
    settings = ContractiveAutoencoder(n_components=3, **params)._settings()
    fun = inprocess.full_objective(X, settings)[0]
    theta0 = _objective.initial_theta(5, 3, settings.activation, settings.tied, rng)
    _, f_scipy = scipy_minimum(fun, theta0)
    ending = run(fun, theta0, max_iter=5000)
    assert ending.why in (_lbfgs.UNCHANGED, _lbfgs.ZERO_GRADIENT, _lbfgs.LINE_SEARCH)
    assert ending.f == pytest.approx(f_scipy, rel=1e-6)


def test_a_run_on_torch_equals_the_run_on_numpy():
    X = np.random.RandomState(1).normal(size=(80, 6))
    model = dict(n_components=4, activation="tanh", max_iter=40, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=True):
            on_torch = ContractiveAutoencoder(**model).fit(torch.asarray(X))
    cae = ContractiveAutoencoder(**model)
    settings = cae._settings()
    theta0 = _objective.initial_theta(6, 4, "tanh", True, np.random.RandomState(0))
    fun = inprocess.full_objective(X, settings)[0]
    ending = run(fun, theta0, max_iter=40)
    assert on_torch.n_iter_ == ending.n_iter == 40
    assert on_torch.loss_ == pytest.approx(ending.f, rel=1e-10)
    theta = _objective.pack(*(array_api.to_numpy(p) for p in on_torch._params()), True)
    assert_allclose(theta, ending.x, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32():
    X = torch.asarray(np.random.RandomState(2).normal(size=(50, 5)).astype(np.float32))
    settings = ContractiveAutoencoder(n_components=3)._settings()
    seen = []
    with sklearn.config_context(array_api_dispatch=True):
        fun = array_api.full_objective(X, settings)[0]

        def watched(theta):
            seen.append(theta.dtype)
            return fun(theta)

        theta0 = _objective.initial_theta(5, 3, "logistic", True, np.random.RandomState(0))
        ending = run(watched, array_api.vector(theta0, X), max_iter=10)
    assert set(seen) == {torch.float32} and ending.x.dtype == torch.float32


def test_endings_of_the_contract(xp):
    X = xp.asarray(np.random.RandomState(3).normal(size=(60, 5)))
    with pytest.warns(ConvergenceWarning, match="max_fun=7"):
        model = ContractiveAutoencoder(n_components=3, max_fun=7, random_state=0).fit(X)
    assert model.n_iter_ >= 1
    with warnings.catch_warnings():  # the default stopping rule ends it, converged
        warnings.simplefilter("error", ConvergenceWarning)
        model = ContractiveAutoencoder(n_components=3, max_iter=5000, random_state=0).fit(X)
    assert model.n_iter_ < 5000


def test_a_wrong_gradient_ends_abnormally_at_the_last_iterate():
    A, b = quadratic(n=5)

    def wrong(x):  # the gradient's sign flipped: no descent along -g
        return float(0.5 * x @ A @ x - b @ x), -(A @ x - b)

    x0 = np.ones(5)
    progress = _solvers.Progress(tol=0.0)
    result = _solvers.lbfgs_in_namespace(wrong, x0, progress, max_iter=50, max_fun=100)
    assert result.status == _solvers.ABNORMAL and "line search" in result.message
    assert_allclose(result.theta, x0)
