"""sklearn_cae.diagnostics: exact values on small models, and the paper's
Table 1 pattern (CAE vs plain autoencoder) on the digits."""

import copy

import numpy as np
import pytest
from scipy.special import logit
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.diagnostics import (
    contraction_ratio,
    directional_sensitivity,
    jacobian_spectrum,
    mean_jacobian_norm,
    saturation_fraction,
)


@pytest.fixture(scope="module")
def data():
    # 300 rows: more than one chunk (256 rows) of the diagnostics.
    return np.random.RandomState(0).rand(300, 5)


@pytest.fixture(scope="module")
def cae(data):
    return ContractiveAutoencoder(4, max_iter=20, random_state=0).fit(data)


def test_norm_spectrum_and_sensitivity_match_the_explicit_jacobian(cae, data):
    J = cae.jacobian(data)  # (300, 4, 5)
    assert mean_jacobian_norm(cae, data) == pytest.approx(
        np.linalg.norm(J, axis=(1, 2)).mean(), rel=1e-12
    )
    spectrum = jacobian_spectrum(cae, data)
    assert spectrum == pytest.approx(np.linalg.svd(J, compute_uv=False).mean(axis=0), rel=1e-12)
    _, singular_values = cae.tangents(data, n_directions=4)
    assert spectrum == pytest.approx(singular_values.mean(axis=0), rel=1e-10)
    u = np.array([3.0, 0.0, 4.0, 0.0, 0.0])  # normalised inside: u / 5
    assert directional_sensitivity(cae, data, u) == pytest.approx(
        np.linalg.norm(J @ (u / 5.0), axis=1).mean(), rel=1e-12
    )


def test_linear_model_contraction_ratio_is_the_same_at_every_distance(data):
    linear = ContractiveAutoencoder(3, activation="identity", max_iter=20, random_state=0)
    linear.fit(data)
    near, far = contraction_ratio(linear, data, [1e-3, 10.0], random_state=0)
    W = linear.components_
    # Same directions at both distances only if drawn alike: redraw per distance.
    rng = np.random.RandomState(0)
    expected = []
    for _ in range(2):
        U = rng.standard_normal(data.shape)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        expected.append(np.linalg.norm(U @ W.T, axis=1).mean())
    assert [near, far] == pytest.approx(expected, rel=1e-9)


def _with_codes(model, H, inverse_activation):
    """A copy of ``model`` and inputs ``X`` on which its codes are ``H``
    (encoder weights set to the identity on the first features)."""
    model = copy.deepcopy(model)
    n_samples, k = H.shape
    model.components_ = np.eye(k, model.n_features_in_)
    model.intercept_hidden_ = np.zeros(k)
    X = np.zeros((n_samples, model.n_features_in_))
    X[:, :k] = inverse_activation(H)
    np.testing.assert_allclose(model.transform(X), H, rtol=1e-12)
    return model, X


def test_saturation_fraction_counts_codes_near_the_bounds(cae, data):
    # Codes chosen by hand, none on a boundary; the fractions are counted
    # by hand.
    H = np.array(
        [
            [0.01, 0.04, 0.06, 0.50],
            [0.94, 0.96, 0.99, 0.20],
            [0.12, 0.86, 0.88, 0.30],
        ]
    )
    logistic, X = _with_codes(cae, H, logit)
    assert saturation_fraction(logistic, X) == 4 / 12  # below 0.05, above 0.95
    assert saturation_fraction(logistic, X, threshold=0.1) == 6 / 12
    assert saturation_fraction(logistic, X, threshold=0.15) == 9 / 12
    # tanh codes span [-1, 1]: a threshold of 0.05 is within 0.1 of a bound.
    tanh = ContractiveAutoencoder(4, activation="tanh", max_iter=2, random_state=0).fit(data)
    H = np.array([[-0.95, 0.92, 0.50, -0.20], [0.00, 0.85, -0.88, 0.99]])
    tanh, X = _with_codes(tanh, H, np.arctanh)
    assert saturation_fraction(tanh, X) == 3 / 8
    assert saturation_fraction(tanh, X, threshold=0.1) == 5 / 8
    # A model without ``activation`` is taken to have logistic codes.
    rbm = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(data)
    H = rbm.transform(data)
    assert saturation_fraction(rbm, data) == np.mean((H <= 0.05) | (H >= 0.95))
    relu = ContractiveAutoencoder(4, activation="relu", max_iter=5, random_state=0).fit(data)
    with pytest.raises(ValueError, match="bounded codes"):
        saturation_fraction(relu, data)


def test_unfitted_model_is_rejected(data):
    with pytest.raises(NotFittedError):
        mean_jacobian_norm(ContractiveAutoencoder(), data)


def test_paper_table_1_pattern_on_digits():
    # Rifai et al. 2011, Table 1: the CAE has a smaller Jacobian norm, more
    # saturated units and fewer large singular values than a plain AE.
    X = load_digits().data[:400] / 16.0
    X_train, X_test = X[:300], X[300:]
    params = dict(n_components=50, loss="cross_entropy", max_iter=100, random_state=0)
    # One BLAS thread: with these small matrices, two threads on a busy
    # 2-core machine made the fits 10-20x slower (0.2 s vs 3 s each).
    with threadpool_limits(limits=1, user_api="blas"):
        cae = ContractiveAutoencoder(contraction=0.1, **params).fit(X_train)
        ae = ContractiveAutoencoder(contraction=0.0, **params).fit(X_train)

    def n_large(model):
        s = jacobian_spectrum(model, X_test)
        return int(np.sum(s > 0.1 * s[0]))

    # Measured: norms 3.80 vs 6.74, SAT 54 % vs 27 %, 23 vs 30 singular
    # values above 10 % of the largest.
    assert mean_jacobian_norm(cae, X_test) < 0.7 * mean_jacobian_norm(ae, X_test)
    assert saturation_fraction(cae, X_test) > saturation_fraction(ae, X_test) + 0.15
    assert n_large(cae) < n_large(ae)


def test_saturation_needs_a_model_with_bounded_codes(data):
    from sklearn.decomposition import PCA

    for model in [PCA(2).fit(data), ContractiveAutoencoder(2, activation="softplus", max_iter=2)]:
        model.fit(data)
        with pytest.raises(ValueError, match="model must have bounded codes"):
            saturation_fraction(model, data)
    with pytest.raises(ValueError, match="'threshold' parameter"):
        saturation_fraction(ContractiveAutoencoder(2, max_iter=2).fit(data), data, threshold=0.7)


@pytest.mark.parametrize("distances", [[0.1, 0.0], [-1.0], [[0.1, 0.2]]])
def test_contraction_ratio_needs_positive_distances(cae, data, distances):
    with pytest.raises(ValueError, match="distances must be a 1-D array of positive radii"):
        contraction_ratio(cae, data, distances)


@pytest.mark.parametrize(
    "direction, match",
    [
        (np.zeros(5), "direction must be a non-zero vector"),
        (np.ones(4), r"direction must have shape \(n_features,\) = \(5,\); got shape \(4,\)"),
        (np.ones((5, 1)), r"direction must have shape .* got shape \(5, 1\)"),
        ([1, np.nan, 0, 0, 0], "direction"),
    ],
)
def test_directional_sensitivity_needs_a_nonzero_direction_of_the_right_length(
    cae, data, direction, match
):
    with pytest.raises(ValueError, match=match):
        directional_sensitivity(cae, data, direction)


def test_jacobian_diagnostics_name_a_model_without_jacobian(data):
    from sklearn.decomposition import PCA

    with pytest.raises(ValueError, match="'model' parameter .* implementing 'jacobian'"):
        mean_jacobian_norm(PCA(2).fit(data), data)
