"""The Array API backend's kernels pinned to the numpy kernels, on real
``array_api_strict`` arrays and PyTorch CPU tensors (float64: 1e-12
relative), and its gradient against central differences."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._activations import ACTIVATIONS
from sklearn_cae._backends import array_api, inprocess


def settings_of(**params):
    return ContractiveAutoencoder(**params)._settings()


def problem(loss, seed=0, shape=(23, 5), k=4, tied=False, activation="tanh"):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=shape)
    if loss == "cross_entropy":  # one value beyond 1, which both backends clip
        X = rng.uniform(0, 1, shape)
        X[0, 0] = 1.5
    theta = rng.normal(scale=0.5, size=_objective.n_params(shape[1], k, tied))
    return X, theta


def numpy_objective(theta, X, settings, gradient=True):
    fun, _ = inprocess.full_objective(X, settings, gradient=gradient)
    return fun(theta)


def on(xp, a):
    return xp.asarray(a)


CASES = list(
    itertools.product(
        sorted(ACTIVATIONS), ["squared_error", "cross_entropy"], [True, False], [(0.3, 0.02)]
    )
) + [("tanh", "squared_error", False, (0.0, 0.0)), ("softplus", "cross_entropy", True, (0, 1))]


@pytest.mark.parametrize("activation, loss, tied, penalties", CASES)
def test_objective_and_gradient_equal_numpy_kernels(xp, activation, loss, tied, penalties):
    contraction, alpha = penalties
    settings = settings_of(
        n_components=4,
        activation=activation,
        loss=loss,
        tied_weights=tied,
        contraction=contraction,
        alpha=alpha,
    )
    X, theta = problem(loss, tied=tied, activation=activation)
    J_np, grad_np = numpy_objective(theta, X, settings)
    fun = array_api.full_objective(on(xp, X), settings)[0]
    J, grad = fun(on(xp, theta))
    assert isinstance(J, float) and grad.dtype == xp.float64
    assert_allclose(J, J_np, rtol=1e-12)
    assert_allclose(array_api.to_numpy(grad), grad_np, rtol=1e-12, atol=1e-15)
    assert fun(theta)[0] == J  # from a start on the host
    assert array_api.full_objective(on(xp, X), settings, gradient=False)[0](theta) == (J, None)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_matches_central_differences(xp, activation):
    settings = settings_of(
        n_components=3, activation=activation, contraction=0.5, alpha=0.1, tied_weights=False
    )
    X, theta = problem("squared_error", seed=1, shape=(11, 4), k=3)
    theta += 0.1  # keep relu's pre-activations off its kink
    fun = array_api.full_objective(on(xp, X), settings)[0]
    grad = array_api.to_numpy(fun(theta)[1])
    step = 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        numeric[i] = (fun(theta + e)[0] - fun(theta - e)[0]) / (2 * step)
    assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_inference_and_sums_equal_numpy_kernels(xp, activation, loss):
    settings = settings_of(n_components=4, activation=activation, loss=loss, tied_weights=False)
    X, theta = problem(loss, seed=2, k=4)
    params_np = _objective.unpack(theta, X.shape[1], 4, False)
    params = array_api.parameters(theta, on(xp, X), settings)
    X_xp = on(xp, X)

    def same(got, expected):
        assert_allclose(array_api.to_numpy(got), expected, rtol=1e-12, atol=1e-15)

    W, b, D, c = params_np
    same(
        array_api.encode(X_xp, params[0], params[1], activation),
        inprocess.encode(X, W, b, activation),
    )
    H = inprocess.encode(X, W, b, activation)
    same(array_api.decode(on(xp, H), params[2], params[3], loss), inprocess.decode(H, D, c, loss))
    same(
        array_api.jacobian(X_xp, params[0], params[1], activation),
        inprocess.jacobian(X, W, b, activation),
    )
    same(
        array_api.reconstruction_losses(X_xp, params, settings),
        inprocess.reconstruction_losses(X, params_np, settings),
    )
    assert_allclose(
        array_api.mean_reconstruction(X_xp, params, settings),
        inprocess.mean_reconstruction(X, params_np, settings),
        rtol=1e-12,
    )
    assert_allclose(
        array_api.baseline_loss(X_xp, settings), inprocess.baseline_loss(X, settings), rtol=1e-12
    )


def test_float32_runs_in_float32_with_float64_sums(xp):
    settings = settings_of(n_components=4, activation="softplus", contraction=0.2)
    X, theta = problem("squared_error", seed=3)
    X32 = on(xp, X.astype(np.float32))
    J, grad = array_api.evaluate(array_api.vector(theta, X32), X32, settings)
    assert grad.dtype == xp.float32
    J64, _ = numpy_objective(theta, X.astype(np.float32), settings)
    assert_allclose(J, J64, rtol=1e-6)


def test_extreme_preactivations_stay_finite(xp):
    settings = settings_of(n_components=2, activation="logistic", loss="cross_entropy")
    X = np.array([[0.0, 1.0], [1.0, 0.5]])
    theta = np.full(_objective.n_params(2, 2, False), 800.0)  # exp(800) overflows
    J, grad = array_api.evaluate(on(xp, theta), on(xp, X), settings)
    assert np.isfinite(J) and np.all(np.isfinite(array_api.to_numpy(grad)))


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_cae_h_term_equals_numpy_kernels(xp, activation, tied):
    settings = settings_of(
        n_components=4,
        activation=activation,
        tied_weights=tied,
        hessian_penalty=0.7,
        n_corruptions=3,
        corruption_std=0.3,
        alpha=0.01,
    )
    X, theta = problem("squared_error", seed=4, tied=tied, shape=(300, 5))  # two noise blocks
    fun_np, seed_np = inprocess.full_objective(X, settings, random_state=np.random.RandomState(5))
    fun, seed = array_api.full_objective(on(xp, X), settings, random_state=np.random.RandomState(5))
    assert seed == seed_np
    (J_np, grad_np), (J, grad) = fun_np(theta), fun(theta)
    assert_allclose(J, J_np, rtol=1e-12)
    assert_allclose(array_api.to_numpy(grad), grad_np, rtol=1e-12, atol=1e-15)
