"""solver="adam" and partial_fit: the update, the epochs, streaming, errors."""

import gc
import re
import warnings
import weakref

import numpy as np
import pytest
import scipy.sparse as sp
from recorded_warnings import only_the_interrupt_warning
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_cae import ContractiveAutoencoder, _objective, _solvers
from sklearn_cae._backends import inprocess
from sklearn_cae.datasets import load_nudged_digits


def _data(n_samples=200, n_features=8, seed=0):
    return np.random.RandomState(seed).uniform(0, 1, (n_samples, n_features))


def _adam(**params):
    return ContractiveAutoencoder(
        **{"n_components": 4, "solver": "adam", "random_state": 0, **params}
    )


def _start(cae, n_features):
    """The parameters a first fit of ``cae`` on ``n_features`` columns starts from."""
    return _objective.initial_theta(
        n_features, cae.n_components, cae.activation, cae.tied_weights, np.random.RandomState(0)
    )


def _theta(cae):
    return _objective.pack(*cae._params(), cae.tied_weights)


def _objective_at(cae, X, theta):
    return inprocess.full_objective(X, cae._settings())[0](theta)


def test_one_step_is_the_hand_computed_adam_update():
    X = _data(12, 5)
    params = dict(learning_rate_init=0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-3)
    cae = _adam(n_components=3, batch_size=12, shuffle=False, max_iter=1, **params).fit(X)
    theta0 = _start(_adam(n_components=3), 5)
    _, g = _objective_at(cae, X, theta0)
    m = (1 - 0.8) * g  # first moment after one step, from m = 0
    v = (1 - 0.9) * g**2  # second moment, from v = 0
    rate = 0.01 * np.sqrt(1 - 0.9) / (1 - 0.8)  # bias corrections at t = 1
    expected = theta0 - rate * m / (np.sqrt(v) + 1e-3)
    np.testing.assert_allclose(_theta(cae), expected, rtol=1e-13, atol=1e-15)
    assert not np.allclose(_theta(cae), theta0)
    assert cae._adam_state["t"] == 1


def test_partial_fit_over_the_batches_of_one_epoch_equals_one_epoch_of_fit():
    X = _data(100)
    fitted = _adam(batch_size=30, shuffle=False, max_iter=1).fit(X)
    streamed = _adam(batch_size=30, shuffle=False)
    for start in range(0, 90, 30):
        streamed.partial_fit(X[start : start + 30])
    with pytest.warns(UserWarning, match="batch_size"):  # as MLP's partial_fit
        streamed.partial_fit(X[90:])  # the last batch: 10 rows
    np.testing.assert_array_equal(streamed.components_, fitted.components_)
    np.testing.assert_array_equal(streamed.intercept_visible_, fitted.intercept_visible_)
    assert streamed._adam_state["t"] == fitted._adam_state["t"] == 4
    assert streamed.n_iter_ == len(streamed.loss_curve_) == 4  # one per call


def test_partial_fit_epochs_continue_the_state_of_fit_with_shuffling():
    # Each call continues the parameters, Adam's moments and the shuffling
    # random state: three passes are fit's three epochs, bitwise.
    X = _data(90)
    fitted = _adam(batch_size=16, max_iter=3, tied_weights=False).fit(X)
    streamed = _adam(batch_size=16, tied_weights=False)
    for _ in range(3):
        streamed.partial_fit(X)
    np.testing.assert_array_equal(streamed.components_, fitted.components_)
    np.testing.assert_array_equal(streamed.decoder_components_, fitted.decoder_components_)
    assert streamed.loss_curve_ == fitted.loss_curve_
    # fit starts afresh each time.
    np.testing.assert_array_equal(fitted.fit(X).components_, streamed.components_)


def test_partial_fit_streams_chunks_of_a_memmap(tmp_path):
    X = _data(300).astype(np.float32)
    path = tmp_path / "X.dat"
    X.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    cae = _adam(batch_size=50, shuffle=False)
    for start in range(0, 300, 100):
        cae.partial_fit(mm[start : start + 100])
    in_memory = _adam(batch_size=50, shuffle=False, max_iter=1).fit(X)
    np.testing.assert_array_equal(cae.components_, in_memory.components_)
    assert cae.components_.dtype == np.float32


def test_adam_lowers_the_objective_and_beats_raw_pixels_on_digits():
    # The nudged digits, on which a linear model of the pixels is weak.
    X, y = load_nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=1500, test_size=1000, random_state=0
    )
    cae = _adam(
        n_components=64,
        activation="softplus",
        loss="cross_entropy",
        contraction=0.3,
        learning_rate_init=0.01,
        max_iter=10,
    )
    theta0 = _start(cae, 64)
    cae.fit(X_train)
    assert cae.loss_ < 0.7 * _objective_at(cae, X_train, theta0)[0]
    assert cae.loss_curve_[-1] < cae.loss_curve_[0]

    def accuracy(*steps):
        pipe = make_pipeline(*steps, LogisticRegression(max_iter=500))
        return pipe.fit(X_train, y_train).score(X_test, y_test)

    # Measured: 0.817 against 0.741.
    assert accuracy(cae) > accuracy() + 0.04


def test_loss_is_the_objective_at_the_returned_parameters():
    X = _data(150)
    cae = _adam(alpha=0.3, activation="tanh", max_iter=5).fit(X)
    J, _ = _objective_at(cae, X, _theta(cae))
    assert cae.loss_ == pytest.approx(J, rel=1e-12)
    # loss_curve_ holds the epochs' means over batches: near, not equal.
    assert cae.loss_curve_[-1] != cae.loss_
    assert cae.loss_curve_[-1] == pytest.approx(cae.loss_, rel=0.05)


def test_alpha_of_a_minibatch_does_not_depend_on_how_the_stream_is_cut():
    # As MLP's stochastic solvers: a minibatch's objective is the objective on
    # its rows, alpha divided by its rows, whichever call brought them.
    X = _data(1000)
    params = dict(alpha=50.0, batch_size=50, shuffle=False)
    fitted = _adam(max_iter=1, **params).fit(X)
    for chunk in (50, 100):
        streamed = _adam(**params)
        for start in range(0, 1000, chunk):
            streamed.partial_fit(X[start : start + chunk])
        np.testing.assert_array_equal(streamed.components_, fitted.components_)
        np.testing.assert_array_equal(streamed.intercept_hidden_, fitted.intercept_hidden_)
    # The minibatch objective is the full objective of those rows alone.
    cae = _adam(alpha=2.0, tied_weights=False)
    theta = _start(cae, 8)
    J, g = inprocess.batch_objective(cae._settings())(theta, X[:10])
    J_rows, g_rows = inprocess.full_objective(X[:10], cae._settings())[0](theta)
    assert J == J_rows
    np.testing.assert_array_equal(g, g_rows)


def test_max_iter_counts_epochs_and_warns_when_reached():
    X = _data(100)
    with pytest.warns(
        ConvergenceWarning, match=r"Adam stopped before converging after 3 .*max_iter=3 epochs"
    ):
        cae = _adam(batch_size=25, max_iter=3).fit(X)
    assert cae.n_iter_ == len(cae.loss_curve_) == 3
    assert cae._adam_state["t"] == 3 * 4


def test_stops_when_the_epoch_loss_stops_improving():
    # tol larger than any improvement: every epoch after the first counts
    # as no improvement, so training stops after 1 + n_iter_no_change.
    X = _data(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cae = _adam(tol=10.0, n_iter_no_change=3, max_iter=100).fit(X)
    assert cae.n_iter_ == 4
    # With tol=0 it runs on while the loss keeps decreasing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert _adam(tol=0.0, n_iter_no_change=3, max_iter=20).fit(X).n_iter_ == 20


def test_early_stopping_returns_the_best_epoch():
    X = _data(300)
    cae = _adam(early_stopping=True, n_iter_no_change=2, max_iter=200, learning_rate_init=0.05).fit(
        X
    )
    scores = cae.validation_scores_
    assert len(scores) == cae.n_iter_ < 200
    best = int(np.argmax(scores))
    assert cae.best_validation_score_ == scores[best]
    assert np.all(np.asarray(scores[-2:]) < max(scores[:-2]) + cae.tol)


def test_verbose_prints_one_line_per_epoch_and_a_summary(capsys):
    X = _data(100)
    cae = _adam(max_iter=4, verbose=1).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    for i, line in enumerate(lines[:-1]):
        match = re.fullmatch(r"Iteration (\d+): objective ([0-9.]+), [0-9.]+ s", line)
        assert match, line
        assert int(match[1]) == i + 1
        assert float(match[2]) == pytest.approx(cae.loss_curve_[i], abs=1e-8)
    assert lines[-1].startswith("Adam stopped after 4 iterations")
    assert f"objective {cae.loss_:.8f}" in lines[-1]


def test_float32_is_trained_in_float32():
    X = _data(100)
    m32 = _adam(max_iter=5).fit(X.astype(np.float32))
    m64 = _adam(max_iter=5).fit(X)
    assert m32.components_.dtype == np.float32
    assert m32._adam_state["m"].dtype == m32._adam_state["v"].dtype == np.float32
    assert m32.loss_ == pytest.approx(m64.loss_, rel=1e-4)
    assert m32.loss_ != m64.loss_


def test_sparse_input_gives_the_dense_model():
    X = _data(100)
    X[X < 0.5] = 0.0
    dense = _adam(max_iter=3, batch_size=32).fit(X)
    sparse = _adam(max_iter=3, batch_size=32).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.components_, dense.components_, rtol=1e-12, atol=1e-14)


def test_same_random_state_and_threads_is_bitwise_identical():
    X = _data(1200)  # enough rows for every thread (see inprocess.n_threads)
    params = dict(batch_size=600, max_iter=3, hessian_penalty=0.5, early_stopping=True)
    a, b = _adam(**params).fit(X), _adam(**params).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.loss_ == b.loss_
    assert not np.array_equal(_adam(random_state=1, **params).fit(X).components_, a.components_)


def test_warm_start_switches_from_adam_to_lbfgs():
    # The recipe: a few Adam epochs, then L-BFGS to polish.
    X = _data(200)
    cae = _adam(max_iter=5, warm_start=True).fit(X)
    after_adam = cae.loss_
    cae.set_params(solver="lbfgs", max_iter=20).fit(X)
    assert cae.loss_curve_[0] <= after_adam
    assert cae.loss_ < after_adam
    # And back: a warm adam fit starts from the L-BFGS parameters with
    # fresh moments.
    polished = cae.loss_
    cae.set_params(solver="adam", max_iter=1, learning_rate_init=1e-5).fit(X)
    assert cae.loss_ == pytest.approx(polished, rel=1e-3)
    assert cae._adam_state["t"] == 1


def test_hessian_penalty_is_part_of_each_batch_objective():
    X = _data(100)
    plain = _adam(max_iter=3, batch_size=25).fit(X)
    with_term = _adam(max_iter=3, batch_size=25, hessian_penalty=1.0).fit(X)
    assert with_term.loss_curve_[0] > plain.loss_curve_[0]
    # loss_ is the objective with the term, at the returned parameters.
    term, _ = _objective.hessian_penalty_and_grad(
        _theta(with_term),
        X,
        n_components=4,
        activation="logistic",
        tied=True,
        hessian_penalty=1.0,
        n_corruptions=4,
        corruption_std=0.1,
        seed=with_term._corruption_seed,
        chunk_rows=256,
    )
    plain = ContractiveAutoencoder(**{**with_term.get_params(), "hessian_penalty": 0.0})
    plain_J, _ = _objective_at(plain, X, _theta(with_term))
    assert with_term.loss_ == pytest.approx(plain_J + term, rel=1e-12)


def test_partial_fit_only_for_adam():
    cae = ContractiveAutoencoder(n_components=3)
    assert not hasattr(cae, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        cae.partial_fit(_data(10))
    assert hasattr(cae.set_params(solver="adam"), "partial_fit")


def test_partial_fit_rejects_a_changed_feature_count():
    cae = _adam().partial_fit(_data(20, 8))
    with pytest.raises(
        ValueError, match="X has 7 features, but ContractiveAutoencoder is expecting 8"
    ):
        cae.partial_fit(_data(20, 7))


def test_batch_size_larger_than_the_data_is_clipped_with_a_warning():
    with pytest.warns(UserWarning, match="batch_size"):
        cae = _adam(batch_size=500, max_iter=2).fit(_data(50))
    assert cae._adam_state["t"] == 2  # one batch of all 50 rows per epoch


@pytest.mark.parametrize(
    "params, match",
    [
        ({"solver": "sgd"}, "solver"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"beta_1": 1.0}, "beta_1"),
        ({"beta_2": -0.1}, "beta_2"),
        ({"epsilon": 0.0}, "epsilon"),
    ],
)
def test_invalid_adam_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        _adam(**params).fit(_data(20))


@pytest.mark.parametrize(
    "solver, method", [("adam", "fit"), ("adam", "partial_fit"), ("lbfgs", "fit")]
)
def test_the_data_is_freed_when_the_call_returns(solver, method):
    # Streaming keeps one chunk in memory only if no reference to a chunk
    # outlives its call (a reference cycle would keep it until the garbage
    # collector runs: disabled here so that it cannot hide one).
    X = _data(100)
    ref = weakref.ref(X)
    gc.disable()
    try:
        getattr(_adam(max_iter=2, solver=solver), method)(X)
        del X
        assert ref() is None
    finally:
        gc.enable()


def _state(model):
    """What an Adam model continues from: parameters, moments, step count,
    shuffling state and the records of the iterations."""
    return (
        _theta(model),
        model._adam_state["t"],
        model._adam_state["m"].copy(),
        model._adam_state["v"].copy(),
        model._random_state.get_state()[1].copy(),
        model.n_iter_,
        list(model.loss_curve_),
    )


def _assert_same_state(a, b):
    for x, y in zip(_state(a), _state(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_interrupt_keeps_the_last_epoch_with_a_warning(interrupt_at, monkeypatch):
    X = _data(100)
    interrupt_at(4 * 3 + 2)  # a batch of the 4th epoch (4 batches each)
    with only_the_interrupt_warning():
        model = _adam(batch_size=25, max_iter=50).fit(X)
    assert model.n_iter_ == len(model.loss_curve_) == 3
    J, _ = _objective_at(model, X, _theta(model))
    assert model.loss_ == pytest.approx(J, rel=1e-12)
    # All of it of the 3rd epoch, as a fit of 3 epochs returns it (Adam's
    # moments and step count, the shuffling state): the next pass agrees.
    monkeypatch.undo()
    stopped = _adam(batch_size=25, max_iter=3).fit(X)
    _assert_same_state(model, stopped)
    _assert_same_state(model.partial_fit(X), stopped.partial_fit(X))


def test_interrupt_in_the_first_epoch_keeps_the_starting_point(interrupt_at):
    X = _data(100)
    interrupt_at(3)  # the 3rd batch of epoch 1
    with only_the_interrupt_warning():
        model = _adam(batch_size=25, max_iter=50).fit(X)
    assert model.n_iter_ == 0 and model.loss_curve_ == []
    assert model._adam_state["t"] == 0 and not model._adam_state["m"].any()
    theta0 = _start(_adam(), 8)
    np.testing.assert_array_equal(_theta(model), theta0)
    assert model.loss_ == pytest.approx(_objective_at(model, X, theta0)[0], rel=1e-12)


def test_interrupted_partial_fit_keeps_the_model_before_the_call(interrupt_at, monkeypatch):
    X = _data(100)
    model, clean = _adam(batch_size=25), _adam(batch_size=25)
    for _ in range(2):
        model.partial_fit(X)
        clean.partial_fit(X)
    interrupt_at(3)  # the 3rd of the pass's 4 batches
    with only_the_interrupt_warning():
        model.partial_fit(X)
    _assert_same_state(model, clean)
    # loss_: the objective at the kept parameters, not the driver's NaN.
    J, _ = _objective_at(model, X, _theta(model))
    assert model.loss_ == pytest.approx(J, rel=1e-12)
    monkeypatch.undo()
    _assert_same_state(model.partial_fit(X), clean.partial_fit(X))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_objective_is_an_error_and_the_model_stays_unfitted(method):
    X = _data(100) * 1e300
    model = _adam(loss="squared_error")
    with pytest.raises(ValueError, match=r"objective is inf in epoch 1.*scale X"):
        getattr(model, method)(X)
    assert not hasattr(model, "components_")


def test_two_steps_are_the_hand_computed_adam_updates():
    # Two steps, so that both moments' decay rates show (v starts at 0), in
    # Kingma and Ba's efficient form (the bias corrections in the rate), as
    # scikit-learn's AdamOptimizer.
    X = _data(24, 5)
    b1, b2, lr, eps = 0.8, 0.9, 0.01, 1e-3
    params = dict(learning_rate_init=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    cae = _adam(n_components=3, batch_size=12, shuffle=False, max_iter=1, **params).fit(X)
    theta = _start(_adam(n_components=3), 5)
    m = v = 0.0
    for t, rows in ((1, slice(0, 12)), (2, slice(12, 24))):
        _, g = _objective_at(cae, X[rows], theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(_theta(cae), theta, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cae._adam_state["m"], m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cae._adam_state["v"], v, rtol=1e-12, atol=1e-18)
    assert cae._adam_state["t"] == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_step_shared_between_threads_is_the_same_step(dtype):
    # Parameters enough for two threads: each element's arithmetic is the
    # same, so the parameters and moments are bitwise those of one thread.
    rng = np.random.RandomState(0)
    size = 2 * inprocess.MIN_ELEMENTS_PER_THREAD + 3
    theta0 = rng.standard_normal(size).astype(dtype)
    grads = [rng.standard_normal(size).astype(dtype) for _ in range(3)]
    splits = []

    class Workspace(inprocess.Workspace):
        def run(self, fun, n_tasks):
            splits.append(n_tasks)
            return super().run(fun, n_tasks)

    results = []
    with Workspace(2) as workspace:
        for threads in (None, workspace):
            theta = theta0.copy()
            adam = _solvers.Adam(theta, 0.01, workspace=threads)
            for grad in grads:
                adam.update(theta, grad)
            results.append((theta, adam.state["m"], adam.state["v"]))
    assert splits == [2, 2, 2]
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_the_epoch_loss_weighs_each_batch_by_its_rows():
    X = _data(100)
    cae = _adam(batch_size=30, shuffle=False, max_iter=1, learning_rate_init=0.05).fit(X)
    # The same four steps by hand (batches of 30, 30, 30 and 10 rows).
    replay = _adam(batch_size=30, shuffle=False, learning_rate_init=0.05)
    losses, sizes = [], []
    for start in range(0, 100, 30):
        rows = X[start : start + 30]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the 10-row batch's batch_size
            replay.partial_fit(rows)
        losses.append(replay.loss_)  # that batch's objective before its step
        sizes.append(len(rows))
    assert sizes == [30, 30, 30, 10]
    assert cae.loss_curve_[0] == pytest.approx(np.average(losses, weights=sizes), rel=1e-12)
    assert abs(cae.loss_curve_[0] - np.mean(losses)) > 1e-4  # unweighted would differ


def test_a_failed_partial_fit_leaves_adams_state_as_it_was():
    X = _data(100)
    model, clean = _adam(batch_size=25), _adam(batch_size=25)
    for _ in range(2):
        model.partial_fit(X)
        clean.partial_fit(X)
    bad = X.copy()
    bad[60] = 1e300  # in the 3rd of 4 batches: two steps are taken first
    with pytest.raises(ValueError, match="objective is inf"):
        model.partial_fit(bad)
    _assert_same_state(model, clean)
    _assert_same_state(model.partial_fit(X), clean.partial_fit(X))


@pytest.mark.parametrize("dtype, learning_rate", [(np.float32, 1e38), (np.float64, 1e308)])
def test_a_diverging_step_is_blamed_on_the_learning_rate(dtype, learning_rate):
    X = _data(200).astype(dtype)  # in [0, 1]: nothing to scale
    model = _adam(batch_size=50, learning_rate_init=learning_rate)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match=r"steps diverged\. Lower learning_rate_init"):
            model.fit(X)
    assert not hasattr(model, "components_")


def test_partial_fit_with_other_n_components_says_how_to_start_afresh():
    model = _adam().partial_fit(_data(50))
    model.set_params(n_components=5)
    with pytest.raises(ValueError, match=r"partial_fit continues .* Call fit, or use a new"):
        model.partial_fit(_data(50))


def test_partial_fit_keeps_the_dtype_of_its_first_chunk():
    X = _data(100)
    model = _adam(batch_size=50).partial_fit(X[:50])
    model.partial_fit(X[50:].astype(np.float32))
    by_hand = _adam(batch_size=50).partial_fit(X[:50])
    by_hand.partial_fit(X[50:].astype(np.float32).astype(np.float64))
    for fitted in (model.components_, model._adam_state["m"], model._adam_state["v"]):
        assert fitted.dtype == np.float64
    _assert_same_state(model, by_hand)


def test_verbose_partial_fit_says_it_was_one_pass(capsys):
    _adam(verbose=1).partial_fit(_data(100))
    summary = capsys.readouterr().out.splitlines()[-1]
    assert "(one partial_fit pass)" in summary
    assert "max_iter" not in summary


def test_float32_data_with_no_stored_values_trains():
    # Adam's float32 overflow check reads X's extremes: a sparse X of zeros
    # has none stored, and its largest |x| is 0.
    X = sp.csr_matrix((100, 8), dtype=np.float32)
    cae = _adam(max_iter=2).fit(X)
    assert cae.components_.dtype == np.float32 and np.isfinite(cae.loss_)
