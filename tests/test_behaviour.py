"""What the model learns: the seed lecture's picture and the PCA limit."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae.__main__ import U1, U2, line_data  # the demo's seed picture
from sklearn_cae.diagnostics import directional_sensitivity


def reconstruction_gain(model, X, direction, step=0.1):
    """Mean component along ``direction`` of the change in reconstruction when
    the input moves ``step`` along it, per unit moved (1 for the identity)."""

    def reconstruct(Z):
        return model.inverse_transform(model.transform(Z))

    moved = reconstruct(X + step * direction) - reconstruct(X)
    return float(np.mean(moved @ direction) / step)


def fit_overcomplete(contraction):
    # 8 hidden units for 2 inputs: without the penalty nothing stops the
    # identity. The picture is that of the converged model, tol as the
    # demo's: the plain autoencoder reaches the identity only converged (the
    # default tol stops it after 42 iterations, still 2.4x more sensitive
    # along the line than across it).
    X = line_data()
    return X, ContractiveAutoencoder(
        n_components=8, contraction=contraction, tol=1e-7, max_iter=2000, random_state=0
    ).fit(X)


@pytest.mark.parametrize("contraction", [0.1, 0.3])
def test_cae_keeps_the_data_direction_and_flattens_the_noise(contraction):
    X, cae = fit_overcomplete(contraction)
    along = directional_sensitivity(cae, X, U1)
    across = directional_sensitivity(cae, X, U2)
    # Measured: ratio 145 (contraction 0.1) and 141 (0.3); codes stay sensitive along U1.
    assert along > 0.1
    assert along > 20 * across
    # Not the identity: a move off the line is not reconstructed, a move
    # along it mostly is (measured 0.73 and 0.61 along, < 0.001 across).
    assert reconstruction_gain(cae, X, U2) < 0.05
    assert reconstruction_gain(cae, X, U1) > 0.5


def test_plain_autoencoder_learns_the_identity():
    X, ae = fit_overcomplete(0.0)
    along = directional_sensitivity(ae, X, U1)
    across = directional_sensitivity(ae, X, U2)
    # Measured: 0.489 and 0.496; reconstruction gains 0.99 and 1.01.
    assert across > 0.5 * along
    assert reconstruction_gain(ae, X, U2) > 0.9
    assert reconstruction_gain(ae, X, U1) > 0.9


def test_tied_identity_cae_spans_the_principal_subspace():
    rng = np.random.RandomState(0)
    basis = np.linalg.qr(rng.randn(6, 6))[0]
    scales = np.array([3.0, 2.0, 0.3, 0.2, 0.1, 0.1])
    X = 1.0 + (rng.randn(400, 6) * scales) @ basis.T
    cae = ContractiveAutoencoder(
        n_components=2, contraction=0.01, activation="identity", max_iter=500, random_state=0
    ).fit(X)
    pca = PCA(n_components=2).fit(X)
    angles = subspace_angles(cae.components_.T, pca.components_.T)
    # Largest principal angle between the two planes (radians); measured 9e-6.
    assert np.max(angles) < 1e-3
    # A random plane is far from it: the check can fail.
    random_plane = rng.randn(6, 2)
    assert np.max(subspace_angles(random_plane, pca.components_.T)) > 0.3
