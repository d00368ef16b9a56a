"""The fitted estimator: attributes, loss_, jacobian, dtypes, sparse input, determinism."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from reference_activations import REFERENCE_ACTIVATIONS
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae._activations import ACTIVATIONS
from sklearn_cae._backends import inprocess


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(0, 1, (60, 6))


def _fit(X, **params):
    params = {"n_components": 8, "max_iter": 60, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ContractiveAutoencoder(**params).fit(X)


def _objective_from_attributes(model, X):
    """docs/user_guide/objective.rst evaluated from the fitted attributes, with the explicit
    per-sample Jacobian tensor (finite differences are not needed: the
    Jacobian of f(Wx + b) is built entry by entry)."""
    W, b = model.components_, model.intercept_hidden_
    D, c = model.decoder_components_, model.intercept_visible_
    f, df, _ = REFERENCE_ACTIVATIONS[model.activation]
    A = X @ W.T + b
    Z = f(A) @ D + c
    if model.loss == "squared_error":
        rec = 0.5 * np.sum((X - Z) ** 2, axis=1)
    else:
        R = expit(Z)
        rec = -np.sum(X * np.log(R) + (1 - X) * np.log(1 - R), axis=1)
    jac = np.stack([np.diag(df(a)) @ W for a in A])  # (N, k, n)
    pen = np.sum(jac**2, axis=(1, 2))
    weights = np.sum(W**2) + (0.0 if model.tied_weights else np.sum(D**2))
    return np.mean(rec + model.contraction * pen) + 0.5 * model.alpha * weights / X.shape[0]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"activation": "tanh", "tied_weights": False, "alpha": 0.5},
        {"activation": "softplus", "loss": "cross_entropy", "contraction": 1.0},
        {"activation": "relu", "contraction": 0.3, "alpha": 0.1},
    ],
)
def test_loss_is_the_objective_at_the_fitted_parameters(X, params):
    model = _fit(X, **params)
    assert model.loss_ == pytest.approx(_objective_from_attributes(model, X), rel=1e-10)
    assert model.loss_curve_[-1] == pytest.approx(model.loss_, rel=1e-12)
    assert len(model.loss_curve_) == model.n_iter_
    # L-BFGS with a line search never increases the objective.
    assert np.all(np.diff(model.loss_curve_) <= 1e-12)


@pytest.mark.parametrize("activation", ["logistic", "tanh", "softplus", "identity"])
def test_jacobian_matches_finite_differences_of_transform(X, activation):
    model = _fit(X, activation=activation)
    x = X[:3]
    eps = 1e-6
    numeric = np.stack(
        [
            (model.transform(x + eps * e) - model.transform(x - eps * e)) / (2 * eps)
            for e in np.eye(X.shape[1])
        ],
        axis=2,
    )  # (N, k, n)
    jac = model.jacobian(x)
    assert jac.shape == (3, 8, 6)
    np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-9)


def test_fitted_attributes_shapes_and_tying(X):
    tied = _fit(X)
    assert tied.components_.shape == (8, 6)
    assert tied.intercept_hidden_.shape == (8,)
    assert tied.intercept_visible_.shape == (6,)
    np.testing.assert_array_equal(tied.decoder_components_, tied.components_)
    untied = _fit(X, tied_weights=False)
    assert untied.decoder_components_.shape == (8, 6)
    assert not np.allclose(untied.decoder_components_, untied.components_)


def test_transform_inverse_transform_and_score_agree(X):
    model = _fit(X, loss="cross_entropy")
    H = model.transform(X)
    assert H.shape == (60, 8)
    np.testing.assert_allclose(model.fit_transform(X), H)
    R = model.inverse_transform(H)
    assert R.shape == X.shape and np.all((R > 0) & (R < 1))
    rec = -np.sum(X * np.log(R) + (1 - X) * np.log(1 - R), axis=1)
    assert model.score(X) == pytest.approx(-rec.mean(), rel=1e-10)


def test_overcomplete_model_with_contraction_does_not_learn_identity(X):
    # Reconstruction alone can approach the identity with 8 > 6 units; the
    # penalty pulls away from it, so the reconstruction gets worse.
    plain = _fit(X, contraction=0.0, max_iter=300)
    contractive = _fit(X, contraction=1.0, max_iter=300)
    assert contractive.score(X) < plain.score(X)
    jac_norm = lambda m: np.mean(np.sum(m.jacobian(X) ** 2, axis=(1, 2)))  # noqa: E731
    assert jac_norm(contractive) < 0.5 * jac_norm(plain)


def test_same_random_state_is_bitwise_identical(X):
    a, b = _fit(X, random_state=3), _fit(X, random_state=3)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.loss_ == b.loss_
    c = _fit(X, random_state=4)
    assert not np.array_equal(a.components_, c.components_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(X, dtype):
    model = _fit(X.astype(dtype))
    for name in ["components_", "intercept_hidden_", "decoder_components_", "intercept_visible_"]:
        assert getattr(model, name).dtype == dtype
    Xd = X.astype(dtype)
    assert model.transform(Xd).dtype == dtype
    assert model.inverse_transform(model.transform(Xd)).dtype == dtype
    assert model.jacobian(Xd).dtype == dtype


def test_float32_training_is_computed_in_float32(X):
    # The same values as float32 and float64: every difference between the
    # two fits is the arithmetic's. Trained in float32, the objective
    # differs at float32's rounding level (measured: 5e-9 to 7e-7 over 10
    # iterations); trained in float64 (with the attributes cast at the
    # end) the two loss curves would be identical.
    X32 = X.astype(np.float32)
    curve32 = _fit(X32, max_iter=10).loss_curve_
    curve64 = _fit(X32.astype(np.float64), max_iter=10).loss_curve_
    assert len(curve32) == len(curve64) == 10
    rel = np.abs(np.divide(curve32, curve64) - 1.0)
    assert 1e-9 < rel.max() < 1e-4


def test_float32_training_matches_float64(X):
    m32 = _fit(X.astype(np.float32), max_iter=30)
    m64 = _fit(X, max_iter=30)
    # float32 rounding changes the L-BFGS path slightly; 30 iterations keep
    # the two close.
    assert m32.loss_ == pytest.approx(m64.loss_, rel=1e-3)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_gives_the_dense_model(X, fmt):
    X = X.copy()
    X[X < 0.5] = 0.0
    dense = _fit(X)
    sparse = _fit(sp.csr_matrix(X).asformat(fmt))
    np.testing.assert_allclose(sparse.components_, dense.components_, rtol=1e-10, atol=1e-12)
    assert sparse.loss_ == pytest.approx(dense.loss_, rel=1e-10)
    np.testing.assert_allclose(
        sparse.transform(sp.csr_matrix(X).asformat(fmt)), dense.transform(X), rtol=1e-10
    )
    assert sparse.score(sp.csr_matrix(X)) == pytest.approx(dense.score(X), rel=1e-10)


def test_sparse_fit_never_densifies_the_whole_matrix(X, monkeypatch):
    X = sp.csr_matrix(np.where(X < 0.5, 0.0, X))
    model = ContractiveAutoencoder(n_components=4, max_iter=5, working_memory=1e-3)
    # The objective's chunks, and those of the baseline loss (the stopping
    # rule's unit), each bounded by working_memory.
    rows = max(
        inprocess.chunk_rows(X, model._settings()), inprocess.moments_rows(X, model._settings())
    )
    assert rows < X.shape[0]
    seen = []
    original = sp.csr_matrix.toarray

    def toarray(self, *args, **kwargs):
        seen.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", toarray)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert seen and max(seen) <= rows


def test_convergence_warning_when_budget_ends_fit(X):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        ContractiveAutoencoder(n_components=4, max_iter=2, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match="max_fun=3"):
        ContractiveAutoencoder(n_components=4, max_fun=3, random_state=0).fit(X)


def test_converged_fit_does_not_warn(X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ContractiveAutoencoder(n_components=2, tol=1e-2, random_state=0).fit(X)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
def test_huge_scale_constant_columns_and_saturation_stay_finite(activation, loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, (40, 5))
    X[:, 2] = 1.0  # constant column
    if loss == "squared_error":
        X = X * 1e6  # huge scale: logistic/tanh units saturate
    model = ContractiveAutoencoder(
        n_components=6, activation=activation, loss=loss, max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)  # overflow, invalid, ...
        model.fit(X)
        H = model.transform(X)
        outputs = [H, model.inverse_transform(H), model.jacobian(X), model.score(X), model.loss_]
    for out in outputs:
        assert np.all(np.isfinite(out))


def test_feature_names_out(X):
    model = _fit(X, n_components=3)
    names = model.get_feature_names_out()
    assert list(names) == [
        "contractiveautoencoder0",
        "contractiveautoencoder1",
        "contractiveautoencoder2",
    ]
