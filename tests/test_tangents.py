"""``tangents``: the leading right-singular vectors of the encoder's Jacobian."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_cae import ContractiveAutoencoder


def _fitted(X, **params):
    return ContractiveAutoencoder(random_state=0, **params).fit(X)


@pytest.mark.parametrize("activation", ["logistic", "softplus"])
@pytest.mark.parametrize("n_components", [3, 9])  # fewer / more units than features
def test_tangents_match_numpy_svd_of_the_jacobian(activation, n_components):
    X = np.random.RandomState(0).uniform(0, 1, (30, 6))
    cae = _fitted(X, n_components=n_components, activation=activation, max_iter=20)
    d = min(n_components, 6) - 1
    T, S = cae.tangents(X, d)
    assert T.shape == (30, d, 6) and S.shape == (30, d)
    _, s_ref, Vt_ref = np.linalg.svd(cae.jacobian(X))
    np.testing.assert_allclose(S, s_ref[:, :d], rtol=1e-10)
    # Singular vectors are defined up to sign; the documented convention
    # makes each one's largest-magnitude entry positive. numpy's own signs
    # do not all follow it, so the convention is what makes T determined.
    V = Vt_ref[:, :d]
    peak_sign = np.sign([[v[np.argmax(np.abs(v))] for v in Vi] for Vi in V])  # (30, d)
    assert np.any(peak_sign < 0)
    np.testing.assert_allclose(T, peak_sign[:, :, None] * V, atol=1e-8)
    np.testing.assert_allclose(
        np.einsum("idn,ien->ide", T, T), np.tile(np.eye(d), (30, 1, 1)), atol=1e-12
    )
    # Row chunks (a tiny working memory) and sparse input change nothing.
    small = cae.set_params(working_memory=1e-4)
    for data in [X, sp.csr_matrix(X)]:
        T2, S2 = small.tangents(data, d)
        np.testing.assert_allclose(T2, T, atol=1e-12)
        np.testing.assert_allclose(S2, S, rtol=1e-12)


def test_tangents_of_data_on_a_line_follow_the_line():
    rng = np.random.RandomState(0)
    direction = rng.normal(size=6)
    direction /= np.linalg.norm(direction)
    X = 0.5 + 0.4 * rng.uniform(-1, 1, (200, 1)) * direction
    # The converged model's tangents: the default tol stops after 73
    # iterations, where the second direction is still 0.22 of the first.
    cae = _fitted(X, n_components=3, contraction=0.1, tol=1e-7, max_iter=200)
    T, S = cae.tangents(X, 2)
    # The leading direction is the line (|cos| > 0.999, measured 0.99992)...
    assert np.abs(T[:, 0] @ direction).min() > 0.999
    # ...and the codes hardly follow anything else (measured ratio < 0.06).
    assert np.all(S[:, 1] < 0.1 * S[:, 0])
    # An untrained model has no reason to follow the line.
    untrained = _fitted(X, n_components=3, max_iter=1)
    assert np.abs(untrained.tangents(X, 1)[0][:, 0] @ direction).min() < 0.9


@pytest.mark.parametrize("n_directions", [0, 5, 2.0])
def test_n_directions_is_validated(n_directions):
    X = np.random.RandomState(0).uniform(0, 1, (10, 6))
    cae = _fitted(X, n_components=4, max_iter=2)
    with pytest.raises(ValueError, match=r"n_directions must be an int in \[1, .*\] = \[1, 4\]"):
        cae.tangents(X, n_directions)


@pytest.mark.parametrize("n_directions", [True, False])
def test_a_bool_is_not_a_number_of_directions(n_directions):
    X = np.random.RandomState(0).uniform(0, 1, (10, 6))
    cae = _fitted(X, n_components=4, max_iter=2)
    with pytest.raises(ValueError, match=r"n_directions must be an int .* got (True|False)\."):
        cae.tangents(X, n_directions)
