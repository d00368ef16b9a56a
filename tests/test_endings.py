"""How a fit ends: loss_ at the returned parameters, a warning on every
non-converged ending, an error for non-finite values, and a consistent
estimator after an interrupt or a failure."""

import inspect
import warnings

import numpy as np
import pytest
from recorded_warnings import only_the_interrupt_warning
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from test_fit_options import _first_stop

from sklearn_cae import ContractiveAutoencoder, _objective, _solvers
from sklearn_cae._backends import inprocess

# L-BFGS-B ends this fit with status 2 (ABNORMAL) after 14 iterations.
ABNORMAL = dict(activation="relu", contraction=0.7, n_components=12, max_iter=40, random_state=1)


@pytest.fixture
def X():
    return np.random.RandomState(7).rand(120, 9)


def _objective_at_fitted(model, X):
    theta = _objective.pack(*model._params(), model.tied_weights)
    return inprocess.full_objective(X, model._settings())[0](theta)[0]


def _fit(model, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize(
    "params, status",
    [
        (ABNORMAL, "status=2: ABNORMAL"),
        ({"n_components": 4, "max_iter": 3, "random_state": 0}, "status=1"),
        ({"n_components": 4, "max_fun": 4, "random_state": 0}, "status=1"),
        ({"n_components": 2, "tol": 1e-2, "random_state": 0}, None),
    ],
)
def test_loss_is_the_objective_at_the_returned_parameters_on_every_ending(X, params, status):
    model = ContractiveAutoencoder(**params)
    caught = _fit(model, X)
    assert [status in str(w.message) for w in caught] == ([] if status is None else [True])
    # scipy's result.fun after ABNORMAL is a rejected trial's (0.38794 here).
    assert model.loss_ == pytest.approx(_objective_at_fitted(model, X), rel=1e-12)


def test_early_stopping_loss_is_the_objective_of_the_best_iterate():
    X = np.random.RandomState(0).rand(200, 9)
    model = ContractiveAutoencoder(
        n_components=12, early_stopping=True, n_iter_no_change=2, tol=1e-3, random_state=0
    )
    assert _fit(model, X) == []  # stopping early is not a convergence failure
    assert model.n_iter_ < 200
    # The training part, split as fit does (after drawing the initial weights).
    random_state = np.random.RandomState(0)
    _objective.initial_theta(
        X.shape[1], model.n_components, model.activation, model.tied_weights, random_state
    )
    X_train, _ = train_test_split(X, test_size=0.1, random_state=random_state)
    assert model.loss_ == pytest.approx(_objective_at_fitted(model, X_train), rel=1e-12)


def test_lbfgs_ends_converged_and_silent_when_the_objective_stalls(X, capsys):
    model = ContractiveAutoencoder(4, random_state=0, verbose=1)
    assert _fit(model, X) == []
    # MLP's rule on minus the objective, as early stopping's on the validation score.
    # The least improvement that counts is tol times the data's baseline loss.
    least = model.tol * inprocess.baseline_loss(X, model._settings())
    stop = _first_stop([-J for J in model.loss_curve_], least, model.n_iter_no_change)
    assert model.n_iter_ == stop < model.max_iter
    summary = capsys.readouterr().out.splitlines()[-1]
    said = "did not improve by at least tol=0.0001 times the data's baseline loss 0.3"
    assert said in summary and "for 10 consecutive iterations" in summary


def test_budget_warning_says_what_was_reached_and_what_to_raise(X):
    (w,) = _fit(ContractiveAutoencoder(4, max_iter=3, random_state=0), X)
    message = str(w.message)
    assert "max_iter=3 iterations" in message and "increase max_iter" in message
    fell = ContractiveAutoencoder(4, max_iter=3, random_state=0).fit(X).loss_curve_
    assert f"still fell by {(fell[0] - fell[2]) / 2:.2g} per iteration over the last 2" in message
    assert "TOTAL NO. OF ITERATIONS REACHED LIMIT" in message  # scipy's message
    assert "scale" not in message  # the data is already in [0, 1]
    (w,) = _fit(ContractiveAutoencoder(4, max_fun=4, random_state=0), X)
    assert "max_fun=4 evaluations" in str(w.message)


def test_convergence_warning_points_at_the_users_line(X):
    model = ContractiveAutoencoder(4, max_iter=3, random_state=0)
    for fit in (model.fit, make_pipeline(model).fit, model.fit_transform):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit(X)  # the line a warning must name
        line = inspect.currentframe().f_lineno - 1
        assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


@pytest.mark.parametrize(
    "scale, params, match",
    [
        (1e300, {}, r"objective is inf before L-BFGS starts.*reconstruction.*scale X"),
        (1, {"contraction": 1e300}, r"non-finite parameter weights.*contraction=1e\+300"),
        (1, {"alpha": 1e308}, r"non-finite parameter weights.*alpha=1e\+308.*lower them"),
    ],
)
def test_non_finite_is_an_error_that_says_what_overflowed(X, scale, params, match):
    model = ContractiveAutoencoder(4, random_state=0, **params)
    with pytest.raises(ValueError, match=match):
        model.fit(X * scale)
    with pytest.raises(NotFittedError):  # and the estimator stays unfitted
        model.transform(X)


def test_progress_refuses_a_non_finite_iterate():
    progress = _solvers.Progress()
    with pytest.raises(ValueError, match="objective is nan at iteration 1"):
        progress.update(np.zeros(3), np.nan)
    with pytest.raises(ValueError, match="non-finite parameter weights.*at iteration 1"):
        progress.update(np.array([0.0, np.inf]), 1.0)


def test_interrupted_fit_keeps_the_last_iterate_with_a_warning(X, monkeypatch, interrupt_at):
    reference = ContractiveAutoencoder(4, max_iter=5, random_state=0)
    _fit(reference, X)
    interrupt_at(9)
    model = ContractiveAutoencoder(4, max_iter=200, random_state=0)
    with only_the_interrupt_warning():
        model.fit(X)
    assert 0 < model.n_iter_ == len(model.loss_curve_) < 200
    assert model.loss_ == pytest.approx(_objective_at_fitted(model, X), rel=1e-12)
    assert model.loss_ == model.loss_curve_[-1]
    # The last iterate is the one a fit stopped after as many iterations returns.
    stopped = ContractiveAutoencoder(4, max_iter=model.n_iter_, random_state=0)
    monkeypatch.undo()
    _fit(stopped, X)
    np.testing.assert_array_equal(model.components_, stopped.components_)
    model.transform(X)


def test_interrupt_before_the_first_iteration_leaves_the_previous_model_whole(X, interrupt_at):
    model = ContractiveAutoencoder(4, max_iter=5, random_state=0)
    _fit(model, X[:, :5])
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    interrupt_at(1)  # the initial objective, before L-BFGS
    with pytest.raises(KeyboardInterrupt):
        model.fit(np.random.RandomState(0).rand(30, 60))
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert model.transform(X[:, :5]).shape == (120, 4)

    fresh = ContractiveAutoencoder(4)
    interrupt_at(1)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X)
    with pytest.raises(NotFittedError):
        fresh.transform(X)


def test_failed_refit_leaves_the_previous_model_whole(X):
    model = ContractiveAutoencoder(4, loss="cross_entropy", max_iter=5, random_state=0)
    _fit(model, X[:, :5])
    components = model.components_
    with pytest.raises(ValueError, match="needs X in"):
        model.fit(np.random.RandomState(0).rand(30, 60) * 2)
    assert model.n_features_in_ == 5 and model.components_ is components
    assert model.transform(X[:, :5]).shape == (120, 4)


@pytest.mark.parametrize("solver, when", [("lbfgs", "L-BFGS"), ("adam", "Adam")])
def test_float32_overflow_is_blamed_on_float32_before_training(solver, when):
    X = (np.random.RandomState(0).rand(1000, 5) * 1e18).astype(np.float32)
    model = ContractiveAutoencoder(4, solver=solver, contraction=0.0, random_state=0, max_iter=3)
    match = (
        rf"inf before {when} starts\. The float32 arithmetic overflowed.*X\.astype\(np\.float64\)"
    )
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError, match=match):
        model.fit(X)
    # The same values in float64 fit: float32's range was the cause.
    assert np.isfinite(model.fit(X.astype(np.float64)).loss_)
