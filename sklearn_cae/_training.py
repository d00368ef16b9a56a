"""One fit as a function: the objective that the rows' backend builds, a
solver run on it, the ending judged, and an :class:`Outcome` back.

It takes the backend, the validated rows, the frozen ``Settings``, the
starting point and the random state, never the estimator, which sets its
attributes from the outcome.
"""

import copy
import functools
from dataclasses import dataclass

import numpy as np

from . import _objective, _solvers
from ._activations import BOUNDS
from ._backends import finfo

AUTO_BATCH_SIZE = 256  # see the user guide, "Choosing a solver"


@dataclass
class Outcome:
    """What one fit (or one partial_fit pass) leaves, for the estimator to keep."""

    theta: np.ndarray  # the returned parameters, flat
    loss: float  # loss_
    loss_curve: list  # of this call's iterations
    n_iter: int  # of this call
    validation_scores: list | None  # None without early stopping
    best_validation_score: float | None
    adam_state: dict | None  # Adam's moments and step count; None after L-BFGS
    random_state: np.random.RandomState  # where the draws of this call left it
    corruption_seed: int | None  # the CAE+H corruptions of loss_'s objective
    summary: str | None  # the verbose summary line


@dataclass
class Job:
    """What a solver's run works with: the rows' backend, the rows, the
    settings, the objective of all rows and the progress bookkeeping."""

    backend: object
    X: object
    settings: object
    fun: _solvers.LastEvaluation  # the objective of all rows
    progress: _solvers.Progress
    workspace: object
    random_state: np.random.RandomState
    incremental: bool  # one partial_fit pass


def fit(backend, X, settings, theta, random_state, adam_state=None, incremental=False):
    """Minimise the objective of the rows ``X`` from ``theta``.

    ``incremental``: one pass of Adam for ``partial_fit``, continuing from
    ``adam_state`` (a copy is taken), without early stopping or a
    ConvergenceWarning. Random draws, in order: the validation split, the
    CAE+H corruption seed, then Adam's epochs.
    """
    solver = SOLVERS[settings.solver]
    X_val = None
    if settings.early_stopping and not incremental:
        X, X_val = backend.split(X, settings.validation_fraction, random_state)
    with backend.workspace(X, minibatch=solver.minibatch) as workspace:
        # The objective on all rows: what L-BFGS minimises, and for every
        # solver what loss_ reports at the returned parameters (a minibatch
        # solver needs its value alone).
        args = (X, settings, workspace, random_state, not solver.minibatch)
        fun, seed = backend.full_objective(*args)
        fun = _solvers.LastEvaluation(fun)
        fun.diagnose = functools.partial(_overflow_advice, backend, X, fun, settings)
        # The stopping rule's unit; a partial_fit pass runs one epoch, whatever it says.
        scale = 1.0 if incremental else backend.baseline_loss(X, settings)
        progress = _progress(backend, X, X_val, fun, settings, solver, scale)
        job = Job(backend, X, settings, fun, progress, workspace, random_state, incremental)
        result, adam_state = solver.run(job, theta, adam_state if incremental else None)
        if incremental and result.status != _solvers.INTERRUPTED:
            # MLP's epoch loss: no extra pass over the chunk.
            theta, loss = result.theta, result.loss
        else:
            theta, loss = _solvers.kept_parameters(result, progress, fun)
    # fun and its diagnose refer to each other: without this, X would live on
    # until the garbage collector runs (one leaked chunk per partial_fit call
    # when streaming).
    fun.diagnose = None
    if not incremental:
        _solvers.warn_unless_converged(result, solver.name)
        _warn_if_saturated(backend, X, theta, settings)
    summary = None
    if settings.verbose:
        rec = _mean_reconstruction(backend, X, theta, settings)
        if incremental and result.status == _solvers.BUDGET:
            result.message = "one partial_fit pass"
        summary = progress.summary(solver.name, result, loss, rec)
    return Outcome(
        theta=theta,
        loss=loss,
        loss_curve=progress.loss_curve,
        n_iter=result.n_iter,
        validation_scores=None if X_val is None else progress.validation_scores,
        best_validation_score=None if X_val is None else progress.best_score,
        adam_state=adam_state,
        random_state=random_state,
        corruption_seed=seed,
        summary=summary,
    )


def _lbfgs(job, theta, state):
    """L-BFGS from ``theta`` on the objective of all rows; it keeps no state.
    Numpy rows (in process, on dask): scipy's L-BFGS-B on host float64
    vectors. Rows of another Array API namespace: the L-BFGS written against
    it (``_lbfgs``), its vectors on their device in their dtype."""
    driver, where_rows_are = _solvers.lbfgs, job.backend.vector(theta, job.X)
    if not isinstance(where_rows_are, np.ndarray):
        driver, theta = _solvers.lbfgs_in_namespace, where_rows_are
    J0 = job.fun(theta)[0]
    _solvers.check_finite(theta, J0, "before L-BFGS starts", job.progress.diagnose)
    s = job.settings
    options = dict(max_iter=s.max_iter, max_fun=s.max_fun)
    return _solvers.run_interruptible(driver, job.fun, theta, job.progress, **options), None


def _adam(job, theta, state):
    """Adam from ``theta`` (and its ``state``, on a partial_fit pass) over
    minibatches of the rows: ``max_iter`` epochs, one for partial_fit.
    Returns the result and Adam's state."""
    X, settings = job.X, job.settings
    if not job.incremental and _may_overflow_float32(job.backend, X):
        J0 = job.fun(theta)[0]  # fail now, not after max_iter epochs
        _solvers.check_finite(theta, J0, "before Adam starts", job.progress.diagnose)
    theta = job.backend.vector(theta, X)  # Adam steps in the data's dtype, where it lives
    optimizer = _adam_optimizer(theta, settings, state, job.workspace)
    fun_of_rows, epoch = job.backend.minibatch_objective(
        X,
        settings,
        job.workspace,
        job.random_state,
        _batch_size(settings, X.shape[0]),
        settings.shuffle,
    )
    options = dict(
        optimizer=optimizer,
        epoch=epoch,
        random_state=job.random_state,
        max_iter=1 if job.incremental else settings.max_iter,
    )
    result = _solvers.run_interruptible(_solvers.adam, fun_of_rows, theta, job.progress, **options)
    return result, optimizer.state


@dataclass(frozen=True)
class Solver:
    """A row of :data:`SOLVERS`."""

    name: str  # in messages
    minibatch: bool  # steps on minibatches: offers partial_fit; loss_ from a value alone
    run: object  # (Job, theta, state) -> (_solvers.Result, state to continue from)


#: solver parameter -> Solver. Adding a solver is adding a row.
SOLVERS = {
    "lbfgs": Solver("L-BFGS", minibatch=False, run=_lbfgs),
    "adam": Solver("Adam", minibatch=True, run=_adam),
}


def steps_on_minibatches(solver):
    """Whether the solver named ``solver`` steps on minibatches (False for
    a name that is not one)."""
    return solver in SOLVERS and SOLVERS[solver].minibatch


def _batch_size(settings, n_samples):
    """Adam's minibatch rows, clipped to the rows (with MLP's warning)."""
    if settings.batch_size == "auto":
        return min(AUTO_BATCH_SIZE, n_samples)
    if settings.batch_size > n_samples:
        _solvers.warn("Got `batch_size` larger than sample size. It is going to be clipped.")
    return min(settings.batch_size, n_samples)


def _adam_optimizer(theta, settings, state, workspace):
    """Adam for ``theta`` (in its dtype), continuing from a copy of
    ``state`` when it is for parameters of this size, else afresh (as MLP's
    fit), stepping on the threads of ``workspace`` (None: one)."""
    if state is not None and state["m"].shape == theta.shape:
        state = copy.deepcopy(state)  # the estimator changes only once the pass succeeded
    else:
        state = None
    return _solvers.Adam(
        theta,
        settings.learning_rate_init,
        settings.beta_1,
        settings.beta_2,
        settings.epsilon,
        state=state,
        workspace=workspace,
    )


def _mean_reconstruction(backend, X, theta, settings):
    """Beside the objective during a fit: on half of working_memory."""
    return backend.mean_reconstruction(X, backend.parameters(theta, X, settings), settings, 0.5)


def _progress(backend, X, X_val, fun, settings, solver, scale):
    """The per-iteration bookkeeping: loss curve, early stopping, verbose
    lines (for L-BFGS with details of ``fun``'s last evaluation)."""

    def details(theta, J):
        rec = _mean_reconstruction(backend, X, theta, settings)
        max_grad = _solvers.max_abs(fun.grad_at(theta))
        return f", reconstruction {rec:.8f}, penalty {J - rec:.8f}, max|grad| {max_grad:.3e}"

    def validation_score(theta):
        return -_mean_reconstruction(backend, X_val, theta, settings)

    return _solvers.Progress(
        validation_score=None if X_val is None else validation_score,
        tol=settings.tol,
        scale=scale,
        n_iter_no_change=settings.n_iter_no_change,
        verbose=bool(settings.verbose),
        # A minibatch solver's lines add no full pass over the data.
        details=None if solver.minibatch else details,
        diagnose=fun.diagnose,
    )


#: Rows whose codes the saturation check looks at, and the share of their
#: codes within SATURATED of a bound that makes the fit useless.
SATURATION_ROWS, SATURATED, SATURATED_SHARE = 1000, 1e-6, 0.9


def _warn_if_saturated(backend, X, theta, settings):
    """Warn when the fitted units' codes sit at their bounds: on unscaled
    data they saturate from the start and never learn (raw features up to
    thousands left 99 % of the codes within 1e-6 of 0 or 1)."""
    if settings.activation not in BOUNDS:
        return
    low, high = BOUNDS[settings.activation]
    rows = X[: min(SATURATION_ROWS, X.shape[0]), :]
    W, b, _, _ = backend.parameters(theta, X, settings)
    codes = backend.to_numpy(backend.encode(rows, W, b, settings.activation))
    share = np.mean((codes - low < SATURATED) | (high - codes < SATURATED)) if codes.size else 0.0
    if share >= SATURATED_SHARE:
        _solvers.warn(
            f"{share:.1%} of the codes of the first {codes.shape[0]} training rows are within "
            f"{SATURATED:g} of the {settings.activation} units' bounds {low:g} and {high:g}: "
            "the units saturated and learnt almost nothing. X looks unscaled (its largest "
            f"|value| is {largest(backend, X):.3g}): scale it, for example with StandardScaler "
            "or MinMaxScaler."
        )


def largest(backend, X):
    """max |X| over its stored values (0 if none), a float, from its
    extremes, without a copy of ``abs(X)``."""
    if (extremes := backend.extremes(X)) is None:
        return 0.0
    low, high = extremes
    return float(max(-low, high))


def _may_overflow_float32(backend, X):
    """Whether the float32 sums of one chunk's squared errors could overflow
    at the start of training (where the reconstruction is near 0): then the
    objective is checked before training."""
    if finfo(X.dtype).bits != 32:
        return False
    rows = min(X.shape[0], _objective.MAX_CHUNK_ROWS)
    # As Python floats: comparing one beyond float32's range with a float32
    # would cast it, with an overflow warning from inside the package.
    return 0.5 * largest(backend, X) ** 2 * X.shape[1] * rows > float(np.finfo(np.float32).max)


def _overflow_advice(backend, X, fun, settings, theta, J):
    """What overflowed, from the reconstruction at the last finite parameters."""
    if not _solvers.all_finite(theta):
        theta, J = fun.finite
    with np.errstate(over="ignore", invalid="ignore"):
        rec = _mean_reconstruction(backend, X, theta, settings)  # summed in float64
    largest_value = f"the largest |X| is {largest(backend, X):.3g}"
    if not np.isfinite(rec):
        return (
            f"The reconstruction loss overflowed ({largest_value}): scale X, for example "
            "with StandardScaler."
        )
    limit = np.finfo(np.float32).max
    if finfo(X.dtype).bits == 32 and rec * X.shape[0] > limit:
        return (
            f"The float32 arithmetic overflowed: the reconstruction loss sums to "
            f"{rec * X.shape[0]:.3g} over the rows ({largest_value}), beyond float32's largest "
            f"value {limit:.3g}. Scale X, for example with StandardScaler, or fit float64 "
            "data (X.astype(np.float64)), whose range is far wider."
        )
    return (
        f"The reconstruction loss is {rec:.3g} and the penalties add {J - rec:.3g} "
        f"(contraction={settings.contraction:g}, alpha={settings.alpha:g}, "
        f"hessian_penalty={settings.hessian_penalty:g}): lower them."
    )
