"""The math of ``_objective``, each quantity computed a second, independent way."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from reference_activations import REFERENCE_ACTIVATIONS
from scipy.special import expit

from sklearn_cae import _objective
from sklearn_cae._activations import ACTIVATIONS
from sklearn_cae._backends import inprocess

ACTIVATION_NAMES = sorted(ACTIVATIONS)
LOSSES = ["squared_error", "cross_entropy"]


def _problem(tied, n_samples=9, n_features=5, n_components=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(0, 1, (n_samples, n_features))
    theta = rng.normal(0, 0.7, _objective.n_params(n_features, n_components, tied))
    return X, theta


def _kwargs(activation, loss, tied, contraction, alpha, chunk_rows=4, n_components=4):
    return dict(
        n_components=n_components,
        activation=activation,
        loss=loss,
        tied=tied,
        contraction=contraction,
        alpha=alpha,
        chunk_rows=chunk_rows,
    )


def _central_differences(fun, theta, eps=1e-6):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (fun(theta + step) - fun(theta - step)) / (2 * eps)
    return grad


def _plain_forward(theta, X, activation, tied, k):
    """``W, b, D, c, A, H, Z`` of the forward pass of docs/user_guide/objective.rst, whole batch."""
    W, b, D, c = _objective.unpack(theta, X.shape[1], k, tied)
    A = X @ W.T + b
    H = REFERENCE_ACTIVATIONS[activation][0](A)
    return W, b, D, c, A, H, H @ D + c


def _explicit_objective(theta, X, activation, loss, tied, contraction, alpha, k=4):
    """The objective written as docs/user_guide/objective.rst reads, with the per-sample
    Jacobian tensor built entry by entry (only ever for tests)."""
    N = X.shape[0]
    W, b, D, c, A, H, Z = _plain_forward(theta, X, activation, tied, k)
    df = REFERENCE_ACTIVATIONS[activation][1]
    if loss == "squared_error":
        rec = 0.5 * np.sum((X - Z) ** 2, axis=1)
    else:
        R = expit(Z)
        rec = -np.sum(X * np.log(R) + (1 - X) * np.log(1 - R), axis=1)
    jac = np.einsum("ij,jl->ijl", df(A), W)  # (N, k, n)
    pen = np.sum(jac**2, axis=(1, 2))  # square each entry, then sum
    reg = 0.5 * alpha * (np.sum(W**2) + (0 if tied else np.sum(D**2))) / N
    return np.mean(rec + contraction * pen) + reg


@pytest.mark.parametrize(
    "activation, loss, tied, contraction, alpha",
    list(itertools.product(ACTIVATION_NAMES, LOSSES, [True, False], [0.0, 0.7], [0.0, 0.3])),
)
def test_gradient_matches_central_differences(activation, loss, tied, contraction, alpha):
    X, theta = _problem(tied)
    kw = _kwargs(activation, loss, tied, contraction, alpha)
    _, grad = _objective.loss_and_grad(theta, X, **kw)
    numeric = _central_differences(lambda t: _objective.loss_and_grad(t, X, **kw)[0], theta)
    rel = np.linalg.norm(grad - numeric) / np.linalg.norm(numeric)
    assert rel < 1e-6


@pytest.mark.parametrize(
    "activation, loss, tied, contraction, alpha",
    list(itertools.product(ACTIVATION_NAMES, LOSSES, [True, False], [0.0, 0.7], [0.0, 0.3])),
)
def test_objective_matches_explicit_jacobian_tensor(activation, loss, tied, contraction, alpha):
    X, theta = _problem(tied)
    J, _ = _objective.loss_and_grad(theta, X, **_kwargs(activation, loss, tied, contraction, alpha))
    expected = _explicit_objective(theta, X, activation, loss, tied, contraction, alpha)
    assert J == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_penalty_is_square_then_sum_not_sum_then_square(activation):
    # The penalty training minimises, read off J: with alpha = 0,
    # J(contraction) - J(0) = contraction * mean_i ||dh_i/dx_i||_F^2.
    X, theta = _problem(tied=True)
    W, b, _, _ = _objective.unpack(theta, 5, 4, True)  # views of theta
    b[:] = 1.0  # relu's units active too
    kw = _kwargs(activation, "squared_error", True, 0.7, 0.0)
    J, _ = _objective.loss_and_grad(theta, X, **kw)
    J0, _ = _objective.loss_and_grad(theta, X, **{**kw, "contraction": 0.0})
    F1 = REFERENCE_ACTIVATIONS[activation][1](X @ W.T + b)  # (N, k)
    jac = np.einsum("ij,jl->ijl", F1, W)  # (N, k, n), entry by entry
    square_then_sum = np.sum(jac**2, axis=(1, 2))
    assert (J - J0) / 0.7 == pytest.approx(square_then_sum.mean(), rel=1e-10)
    # The bug this guards against: squaring the sum over units,
    # (sum_j f'(a_ij) ||W_j||)^2 instead of sum_j f'(a_ij)^2 ||W_j||^2. With
    # two or more active units the two differ (measured: by 3x to 3.8x here).
    sum_then_square = (F1 @ np.linalg.norm(W, axis=1)) ** 2
    assert sum_then_square.mean() > 1.5 * square_then_sum.mean()


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 1e-6)])
def test_activation_table_matches_the_reference_activations(activation, dtype, tol):
    # Each row of the table (f, f', f'') against the same functions written
    # independently: a wrong f whose derivatives are right (softplus plus a
    # constant) passes the finite differences below, not this.
    assert set(ACTIVATIONS) == set(REFERENCE_ACTIVATIONS)
    a = np.linspace(-5.0, 5.0, 41, dtype=dtype) + dtype(0.01)  # avoids relu's kink
    f, df, d2f = ACTIVATIONS[activation]
    h = f(a)
    d1 = df(a, h)
    d2 = d2f(a, h, d1)
    for value, reference in zip([h, d1, d2], REFERENCE_ACTIVATIONS[activation], strict=True):
        assert value.dtype == dtype
        np.testing.assert_allclose(value, reference(a.astype(np.float64)), rtol=tol, atol=tol)
    # The hot path writes into buffers: the same values.
    np.testing.assert_array_equal(f(a, out=np.empty_like(a)), h)
    np.testing.assert_array_equal(df(a, h, out=np.empty_like(a)), d1)
    np.testing.assert_array_equal(d2f(a, h, d1, out=np.empty_like(a)), d2)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_activation_derivatives_match_finite_differences(activation):
    f, df, d2f = ACTIVATIONS[activation]
    # Stay away from relu's kink at 0.
    a = np.array([-3.0, -1.2, -0.4, 0.3, 0.9, 2.5])
    eps = 1e-6
    h = f(a)
    d1 = df(a, h)
    np.testing.assert_allclose(d1, (f(a + eps) - f(a - eps)) / (2 * eps), rtol=1e-7, atol=1e-9)
    d2 = d2f(a, h, d1)
    numeric = (df(a + eps, f(a + eps)) - df(a - eps, f(a - eps))) / (2 * eps)
    np.testing.assert_allclose(d2, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_is_exact_to_a_few_ulps_over_the_whole_range(dtype):
    # To relative precision also where it is tiny (h = exp(a) for a << 0,
    # which log(1 + exp(a)) would round to 0) and where 1 + exp(-|a|)
    # rounds to 1; against scipy's softplus (log1p) in float64.
    a = np.concatenate([np.linspace(-80, 80, 2001), [-1e-30, 0.0, 1e-30, -40.0, 40.0]])
    a = a.astype(dtype)
    h = ACTIVATIONS["softplus"][0](a)
    reference = REFERENCE_ACTIVATIONS["softplus"][0](a.astype(np.float64))
    assert h.dtype == dtype and np.all(h > 0)
    np.testing.assert_allclose(h, reference, rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_activations_are_stable_on_huge_inputs(activation):
    f, df, d2f = ACTIVATIONS[activation]
    a = np.array([-1e300, -800.0, 800.0, 1e300])
    # Underflow to 0 is the right answer (e.g. expit(-800)); overflow,
    # invalid values and division by zero are not.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        h = f(a)
        d1 = df(a, h)
        d2f(a, h, d1)
    assert np.all(np.isfinite(d1))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("tied", [True, False])
def test_chunking_and_sparsity_do_not_change_the_objective(loss, tied):
    X, theta = _problem(tied, n_samples=23)
    X[X < 0.4] = 0.0
    kw = _kwargs("tanh", loss, tied, 0.5, 0.1, chunk_rows=23)
    J_full, g_full = _objective.loss_and_grad(theta, X, **kw)
    for chunk_rows in [1, 5, 22]:
        for data in [X, sp.csr_matrix(X)]:
            J, g = _objective.loss_and_grad(theta, data, **{**kw, "chunk_rows": chunk_rows})
            assert J == pytest.approx(J_full, rel=1e-12)
            np.testing.assert_allclose(g, g_full, rtol=1e-10, atol=1e-14)


def test_cross_entropy_is_finite_when_saturated():
    X = np.array([[0.0, 1.0, 0.5]])
    Z = np.array([[800.0, -800.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        rec = _objective.reconstruction_loss(X, Z, "cross_entropy")
    assert np.isfinite(rec).all()
    assert rec[0] == pytest.approx(800 + 800 + 0.5 * 1e4)


def test_pack_unpack_round_trip():
    rng = np.random.RandomState(0)
    W, D = rng.rand(3, 4), rng.rand(3, 4)
    b, c = rng.rand(3), rng.rand(4)
    for tied in [True, False]:
        theta = _objective.pack(W, b, D, c, tied)
        assert theta.size == _objective.n_params(4, 3, tied)
        W2, b2, D2, c2 = _objective.unpack(theta, 4, 3, tied)
        np.testing.assert_array_equal(W2, W)
        np.testing.assert_array_equal(D2, W if tied else D)
        np.testing.assert_array_equal(b2, b)
        np.testing.assert_array_equal(c2, c)


def _full_batch_reference(theta, X, activation, loss, tied, contraction, alpha, k):
    """J and its gradient exactly as docs/user_guide/objective.rst writes them: whole batch,
    allocating numpy, no chunks, threads or buffers."""
    N = X.shape[0]
    W, b, D, c, A, H, Z = _plain_forward(theta, X, activation, tied, k)
    _, df, d2f = REFERENCE_ACTIVATIONS[activation]
    if loss == "squared_error":
        R = Z
        rec = 0.5 * np.sum((X - Z) ** 2)
    else:
        R = expit(Z)
        rec = np.sum(np.logaddexp(0.0, Z) - X * Z)
    F1 = df(A)
    F2 = d2f(A)
    s = np.sum(W**2, axis=1)
    E = R - X
    dA = (E @ D.T) * F1 + contraction * 2 * F1 * F2 * s
    gD = H.T @ E / N + (0 if tied else alpha / N * D)
    gW = (dA.T @ X + contraction * 2 * np.sum(F1**2, axis=0)[:, None] * W) / N + alpha / N * W
    if tied:
        gW = gW + gD
    J = (rec + contraction * np.sum(F1**2 @ s)) / N
    J += 0.5 * alpha * (np.sum(W**2) + (0 if tied else np.sum(D**2))) / N
    grad = _objective.pack(gW, dA.sum(axis=0) / N, gD, E.sum(axis=0) / N, tied)
    return J, grad


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("loss, tied", [("squared_error", True), ("cross_entropy", False)])
def test_optimised_objective_matches_full_batch_reference(activation, loss, tied):
    # The hot path (chunks, threads, reused buffers, BLAS accumulation,
    # in-place activations) against the formulas evaluated plainly.
    rng = np.random.RandomState(1)
    N, n, k = 203, 11, 7
    X = rng.uniform(0, 1, (N, n))
    X[X < 0.3] = 0.0
    theta = rng.normal(0, 0.5, _objective.n_params(n, k, tied))
    J_ref, g_ref = _full_batch_reference(theta, X, activation, loss, tied, 0.7, 0.3, k)
    kw = _kwargs(activation, loss, tied, 0.7, 0.3, n_components=k)
    for n_threads, chunk_rows, data in [(1, N, X), (2, 16, X), (3, 50, sp.csr_matrix(X))]:
        with inprocess.Workspace(n_threads) as ws:
            for _ in range(2):  # the second call reuses the buffers
                J, g = _objective.loss_and_grad(
                    theta, data, workspace=ws, **{**kw, "chunk_rows": chunk_rows}
                )
                assert J == pytest.approx(J_ref, rel=1e-10)
                assert np.linalg.norm(g - g_ref) <= 1e-10 * np.linalg.norm(g_ref)


@pytest.mark.parametrize("tied", [True, False])
def test_block_sums_of_any_row_partition_finish_to_the_objective(tied):
    # What the dask path relies on: sums over blocks of rows, added, then
    # from_row_sums (alpha and /N), give loss_and_grad on all the rows.
    X, theta = _problem(tied, n_samples=11)
    kwargs = _kwargs("tanh", "cross_entropy", tied, contraction=0.3, alpha=0.7)
    alpha = kwargs.pop("alpha")
    J, grad = _objective.loss_and_grad(theta, X, alpha=alpha, **kwargs)
    # Blocks of 2, 0 (a filtered dask partition), 1, 6 and 2 rows.
    parts = [
        _objective.loss_and_grad_sums(theta, X[rows], **kwargs)
        for rows in np.split(np.arange(11), [2, 2, 3, 9])
    ]
    assert parts[1][0] == 0.0 and not parts[1][1].any()
    sums = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    J_blocks, grad_blocks = _objective.from_row_sums(sums, theta, 11, 5, 4, tied, alpha)
    np.testing.assert_allclose(J_blocks, J, rtol=1e-13)
    np.testing.assert_allclose(grad_blocks, grad, rtol=1e-12, atol=1e-15)
    # and to the explicit objective of its alpha term
    without_alpha = _objective.from_row_sums(sums, theta, 11, 5, 4, tied, 0.0)[0]
    n_weights = 5 * 4 * (1 if tied else 2)
    assert J - without_alpha == pytest.approx(
        0.5 * alpha * theta[:n_weights] @ theta[:n_weights] / 11
    )


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("loss", LOSSES)
def test_float32_data_is_computed_in_float32(activation, loss):
    # The same values as float32 and float64: every difference between the
    # two evaluations is the arithmetic's. float32 arithmetic leaves a
    # difference at its rounding level (measured: J 1e-9 to 4e-8 relative,
    # gradient 3e-8 to 8e-8); computed in float64 both would agree to ~1e-16.
    rng = np.random.RandomState(1)
    N, n, k = 203, 11, 7
    X32 = rng.uniform(0, 1, (N, n)).astype(np.float32)
    theta = rng.normal(0, 0.5, _objective.n_params(n, k, False))
    kw = _kwargs(activation, loss, False, 0.7, 0.3, chunk_rows=50, n_components=k)
    J32, g32 = _objective.loss_and_grad(theta, X32, **kw)
    J64, g64 = _objective.loss_and_grad(theta, X32.astype(np.float64), **kw)
    assert 1e-10 < abs(J32 - J64) / abs(J64) < 1e-5
    assert 1e-9 < np.linalg.norm(g32 - g64) / np.linalg.norm(g64) < 1e-5


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_a_float32_gradient_adds_the_threads_sums_in_float32(tied, n_threads):
    # What an Adam minibatch of float32 rows asks for: the same value, and the
    # gradient as the float64 one but for the rounding of the last additions
    # (the threads' sums, the penalty's term) to float32: measured up to
    # 7.7e-8 times max|grad|; a thread's sum left out would move it by a third.
    rng = np.random.RandomState(2)
    N, n, k = 301, 11, 7
    X = rng.uniform(0, 1, (N, n)).astype(np.float32)
    theta = rng.normal(0, 0.5, _objective.n_params(n, k, tied)).astype(np.float32)
    kwargs = _kwargs("softplus", "cross_entropy", tied, 0.7, 0.0, chunk_rows=50, n_components=k)
    kwargs.pop("alpha")
    with inprocess.Workspace(n_threads) as ws:
        J64, g64 = _objective.loss_and_grad_sums(theta, X, workspace=ws, **kwargs)
        J32, g32 = _objective.loss_and_grad_sums(
            theta, X, workspace=ws, grad_dtype=np.float32, **kwargs
        )
    assert J32 == J64 and g64.dtype == np.float64 and g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=0, atol=5e-7 * np.abs(g64).max())


@pytest.mark.parametrize("tied", [True, False])
def test_the_weights_gradient_shared_between_threads_is_the_same(tied, monkeypatch):
    # 75,000 weights: two shares of the threads' sums and the penalty's
    # term, element by element, so bitwise the gradient of one share.
    rng = np.random.RandomState(3)
    N, n, k = 600, 300, 250
    X = rng.uniform(0, 1, (N, n))
    theta = rng.normal(0, 0.1, _objective.n_params(n, k, tied))
    kwargs = _kwargs("softplus", "cross_entropy", tied, 0.7, 0.0, chunk_rows=300, n_components=k)
    kwargs.pop("alpha")
    shares = []

    class Workspace(inprocess.Workspace):
        def run(self, fun, n_tasks):
            shares.append(n_tasks)
            return super().run(fun, n_tasks)

    with Workspace(2) as workspace:
        _, shared = _objective.loss_and_grad_sums(theta, X, workspace=workspace, **kwargs)
        monkeypatch.setattr(inprocess, "MIN_ELEMENTS_PER_THREAD", k * n + 1)
        _, alone = _objective.loss_and_grad_sums(theta, X, workspace=workspace, **kwargs)
    assert shares == [2, 2, 2, 1]  # per evaluation: its rows' tasks, then the shares
    np.testing.assert_array_equal(shared, alone)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_block_of_no_rows_adds_nothing(n_threads):
    X, theta = _problem(True)
    kwargs = _kwargs("logistic", "squared_error", True, contraction=0.3, alpha=0.0)
    kwargs.pop("alpha")
    with inprocess.Workspace(n_threads) as workspace:
        J, grad = _objective.loss_and_grad_sums(theta, X[:0], workspace=workspace, **kwargs)
    assert J == 0.0 and grad.shape == theta.shape and not grad.any()
    W, b, D, c = _objective.unpack(theta, 5, 4, True)
    args = (W, b, D, c, "logistic", "squared_error", 4)
    assert _objective.reconstruction_loss_sum(X[:0], *args) == 0.0
    assert _objective.reconstruction_losses(X[:0], *args).shape == (0,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_training_loops_cross_entropy_is_softplus_minus_xz_and_its_residual(dtype):
    # Against the plain forms in float64: softplus(z) - x z summed, and
    # sigmoid(z) - x elementwise, over the whole range (saturated, tiny, 0).
    rng = np.random.RandomState(0)
    z = np.concatenate([[-30, -1e-30, 0, -800, -100, 1e-30, 30, 100, 800], rng.normal(0, 5, 300)])
    z = z.astype(dtype).reshape(3, -1)
    x = rng.uniform(0, 1, z.shape).astype(dtype)
    x.flat[:5] = [0, 1, 0, 1, 0.5]
    buffers = [np.empty_like(z) for _ in range(3)] + [np.empty(z.shape, bool)]
    E = z.copy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # exp may underflow to 0
        total = _objective.cross_entropy_residual(x, E, *buffers)
    z64, x64 = z.astype(np.float64), x.astype(np.float64)
    expected = _objective.reconstruction_loss(x64, z64, "cross_entropy").sum()
    eps = np.finfo(dtype).eps
    # Each element within a few ulps of 1 of its loss (which is >= 0).
    assert abs(total - expected) <= 4 * eps * z.size
    np.testing.assert_allclose(E, expit(z64) - x64, rtol=4 * eps, atol=4 * eps)
    # Where x = 0 the residual is sigmoid(z) itself: to relative precision
    # also where it is tiny (z down to -80, exp(-80) a normal float32).
    small = (x == 0) & (z > -80)
    assert small.sum() >= 2
    np.testing.assert_allclose(E[small], expit(z64[small]), rtol=4 * eps)


@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("sparse, n_threads", [(False, 1), (False, 2), (True, 2)])
def test_the_value_alone_is_the_same_value(loss, tied, sparse, n_threads):
    # What Adam's fit reports as loss_: the forward pass only, bitwise the
    # J of the full evaluation.
    X, theta = _problem(tied, n_samples=23)
    X = sp.csr_matrix(X) if sparse else X
    kwargs = _kwargs("softplus", loss, tied, contraction=0.4, alpha=0.6, chunk_rows=5)
    with inprocess.Workspace(n_threads) as workspace:
        J, grad = _objective.loss_and_grad(theta, X, workspace=workspace, **kwargs)
        value, none = _objective.loss_and_grad(
            theta, X, workspace=workspace, gradient=False, **kwargs
        )
    assert value == J and none is None and np.abs(grad).max() > 0
