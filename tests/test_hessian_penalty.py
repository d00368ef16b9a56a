"""The CAE+H term: gradient, closed form against explicit Jacobians, the
corruptions, and the fitted ``loss_``."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from reference_activations import REFERENCE_ACTIVATIONS
from scipy.special import expit
from test_objective import _central_differences, _problem

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._activations import ACTIVATIONS

ACTIVATION_NAMES = sorted(ACTIVATIONS)


def _kwargs(activation, tied, chunk_rows=4, seed=1):
    return dict(
        n_components=4,
        activation=activation,
        tied=tied,
        hessian_penalty=0.8,
        n_corruptions=3,
        corruption_std=0.3,
        seed=seed,
        chunk_rows=chunk_rows,
    )


def _explicit_jacobians(X, W, b, activation):
    """``J(x_i) = diag(f'(a_i)) W`` built entry by entry, shape (N, k, n)."""
    df = REFERENCE_ACTIVATIONS[activation][1]
    return np.einsum("ij,jl->ijl", df(X @ W.T + b), W)


def _explicit_hessian_term(X, W, b, activation, hessian_penalty, n_corruptions, std, seed):
    """``hessian_penalty * mean_i mean_c ||J(x_i) - J(x_i + eps_ic)||_F^2``."""
    N, n = X.shape
    jac = _explicit_jacobians(X, W, b, activation)
    total = 0.0
    for c in range(n_corruptions):
        eps = _objective.corruption_noise(seed, c, 0, N, n, std)
        jac_eps = _explicit_jacobians(X + eps, W, b, activation)
        total += np.sum((jac - jac_eps) ** 2)
    return hessian_penalty * total / (N * n_corruptions)


@pytest.mark.parametrize(
    "activation, tied", list(itertools.product(ACTIVATION_NAMES, [True, False]))
)
def test_gradient_matches_central_differences(activation, tied):
    X, theta = _problem(tied)
    kw = _kwargs(activation, tied)
    value, grad = _objective.hessian_penalty_and_grad(theta, X, **kw)
    numeric = _central_differences(
        lambda t: _objective.hessian_penalty_and_grad(t, X, **kw)[0], theta
    )
    if activation == "identity":
        # f' is constant: the Jacobian does not depend on x, the term is 0.
        assert value == 0.0
        assert not np.any(grad) and not np.any(numeric)
        return
    assert value > 0
    rel = np.linalg.norm(grad - numeric) / np.linalg.norm(numeric)
    assert rel < 1e-6
    W, b, D, c = _objective.unpack(grad, 5, 4, tied)
    # The decoder is not involved; with f'' == 0 (relu) only s_j = ||W_j||^2
    # carries gradient, so the biases get none.
    assert not np.any(c) and (tied or not np.any(D))
    assert np.any(b) == (activation != "relu")


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_value_matches_explicit_jacobians(activation):
    X, theta = _problem(tied=True)
    W, b, _, _ = _objective.unpack(theta, 5, 4, True)
    value, _ = _objective.hessian_penalty_and_grad(theta, X, **_kwargs(activation, True))
    expected = _explicit_hessian_term(X, W, b, activation, 0.8, 3, 0.3, seed=1)
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_corruptions_do_not_depend_on_chunking_or_sparsity():
    # 600 rows span three noise blocks of 256 rows; chunk sizes that split
    # them differently (smaller than a block, rounded to one, all rows), and
    # sparse rows, give the same term.
    X, theta = _problem(tied=False, n_samples=600)
    X[X < 0.5] = 0.0
    kw = _kwargs("tanh", False, chunk_rows=600)
    value, grad = _objective.hessian_penalty_and_grad(theta, X, **kw)
    for chunk_rows, data in itertools.product([100, 300, 10_000], [X, sp.csr_matrix(X)]):
        v, g = _objective.hessian_penalty_and_grad(theta, data, **{**kw, "chunk_rows": chunk_rows})
        assert v == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(g, grad, rtol=1e-10, atol=1e-14)
    # Any window of rows is the same slice of the same noise.
    full = _objective.corruption_noise(7, 2, 0, 600, 5, 0.1)
    for start, stop in [(250, 530), (300, 310)]:  # across blocks; inside one
        np.testing.assert_array_equal(
            _objective.corruption_noise(7, 2, start, stop, 5, 0.1), full[start:stop]
        )
    assert not np.allclose(_objective.corruption_noise(7, 1, 0, 600, 5, 0.1), full)
    assert np.std(full) == pytest.approx(0.1, rel=0.05)


def _fit(X, **params):
    # Short fits: what is tested holds at any iterate, converged or not.
    return ContractiveAutoencoder(max_iter=50, random_state=0, **params).fit(X)


@pytest.mark.parametrize("tied", [True, False])
def test_fitted_loss_includes_the_term(tied):
    X = np.random.RandomState(0).uniform(0, 1, (40, 6))
    cae = _fit(
        X,
        n_components=3,
        contraction=0.2,
        tied_weights=tied,
        alpha=0.1,
        hessian_penalty=2.0,
        n_corruptions=3,
        corruption_std=0.2,
        loss="cross_entropy",
    )
    W, b, D, c = cae._params()
    jac = _explicit_jacobians(X, W, b, "logistic")
    Z = expit(X @ W.T + b) @ D + c
    R = expit(Z)
    rec = -np.sum(X * np.log(R) + (1 - X) * np.log(1 - R), axis=1)
    expected = (
        np.mean(rec + 0.2 * np.sum(jac**2, axis=(1, 2)))
        + 0.5 * 0.1 * (np.sum(W**2) + (0 if tied else np.sum(D**2))) / 40
        + _explicit_hessian_term(X, W, b, "logistic", 2.0, 3, 0.2, cae._corruption_seed)
    )
    assert cae.loss_ == pytest.approx(expected, rel=1e-10)
    # The term is a real part of loss_: without it the objective differs.
    plain = {**cae.get_params(), "hessian_penalty": 0.0}
    del plain["max_iter"], plain["random_state"]
    assert not np.isclose(_fit(X, **plain).loss_, cae.loss_)


def test_term_reduces_the_jacobian_variation():
    # What the term is for: the fitted Jacobian changes less under
    # corruptions (fresh ones, not those it was trained on) than without
    # the term, everything else equal. (Measured: ~7x less.)
    X = np.random.RandomState(0).uniform(0, 1, (80, 8))
    with_term = _fit(X, n_components=6, contraction=0.05, hessian_penalty=5.0, corruption_std=0.3)
    without = _fit(X, n_components=6, contraction=0.05)

    def variation(cae):
        W, b, _, _ = cae._params()
        return _explicit_hessian_term(X, W, b, "logistic", 1.0, 4, 0.3, seed=123)

    assert variation(with_term) < 0.5 * variation(without)


def test_sparse_input_gives_the_same_fit():
    X = np.random.RandomState(0).uniform(0, 1, (60, 7))
    X[X < 0.6] = 0.0
    dense = _fit(X, n_components=4, hessian_penalty=1.0)
    sparse = _fit(sp.csr_matrix(X), n_components=4, hessian_penalty=1.0)
    assert sparse.loss_ == pytest.approx(dense.loss_, rel=1e-8)
