"""The gradient of the objective a fit actually minimises, by central
differences, for every option that adds a term to it (the CAE+H term,
``alpha``, untied weights) or changes its rows (early stopping's split):
the function each solver is given, captured as the solver receives it."""

import numpy as np
import pytest
from test_objective import _central_differences

from sklearn_cae import ContractiveAutoencoder, _solvers

X = np.random.RandomState(3).rand(60, 6)

OPTIONS = {
    "plain": {},
    "hessian_penalty": {"hessian_penalty": 0.5, "n_corruptions": 2, "corruption_std": 0.2},
    "alpha": {"alpha": 3.0},
    "untied": {"tied_weights": False, "alpha": 1.0},
    "early_stopping": {"early_stopping": True, "validation_fraction": 0.2},
    "all": {"hessian_penalty": 0.5, "alpha": 3.0, "tied_weights": False, "early_stopping": True},
}


def _captured(monkeypatch, driver, **params):
    """``(fun, theta0, options)`` as the fit hands them to ``_solvers.<driver>``
    (then the fit runs on, unchanged)."""
    original, seen = getattr(_solvers, driver), {}

    def capture(fun, theta0, progress, **options):
        seen.setdefault("call", (fun, theta0.copy(), options))
        return original(fun, theta0, progress, **options)

    monkeypatch.setattr(_solvers, driver, capture)
    model = ContractiveAutoencoder(
        n_components=4, activation="tanh", contraction=0.4, max_iter=3, random_state=0, **params
    )
    model.fit(X)
    return seen["call"]


def _assert_gradient(fun, theta):
    _, grad = fun(theta)
    numeric = _central_differences(lambda t: fun(t)[0], theta)
    # Central differences with a 1e-6 step are good to about 1e-9 here.
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8 * np.abs(grad).max())
    assert np.abs(grad).max() > 1e-3  # a gradient with something to check


@pytest.mark.parametrize("option", OPTIONS)
def test_lbfgs_minimises_an_objective_with_its_exact_gradient(monkeypatch, option):
    fun, theta0, _ = _captured(monkeypatch, "lbfgs", **OPTIONS[option])
    point = theta0 + np.random.RandomState(1).normal(0, 0.1, theta0.shape)  # not a special point
    for theta in (theta0, point):
        _assert_gradient(fun, theta)


@pytest.mark.parametrize("option", ["plain", "hessian_penalty", "alpha", "untied", "all"])
def test_each_adam_minibatch_objective_has_its_exact_gradient(monkeypatch, option):
    params = {**OPTIONS[option], "solver": "adam", "batch_size": 25, "early_stopping": False}
    fun, theta0, options = _captured(monkeypatch, "adam", **params)
    random_state = options["random_state"]
    for rows, _ in options["epoch"]():
        # Each call draws its own CAE+H corruptions: the same for every
        # evaluation here, as within one step.
        state = random_state.get_state()

        def batch_objective(theta, rows=rows, state=state):
            random_state.set_state(state)
            return fun(theta, rows)

        _assert_gradient(batch_objective, theta0)
