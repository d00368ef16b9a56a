"""The optimization drivers, side by side: full-batch L-BFGS and minibatch Adam.

A driver minimises an objective over the flat parameter vector ``theta``
(see ``_objective.unpack``): :func:`lbfgs` calls ``fun(theta) -> (J, grad)``
on all rows, :func:`adam` calls ``fun(theta, rows) -> (J, grad)`` on one
minibatch of rows at a time. Neither knows the estimator nor where the rows
live: after each iteration (an epoch for Adam) it reports the iterate to a
:class:`Progress`, which keeps the loss curve, decides when training has
stalled, prints the verbose lines and refuses non-finite values, the same
way for every driver.

How a fit ends is the same for every driver too: :func:`run_interruptible` turns a
KeyboardInterrupt into an ending at the last iterate, :func:`kept_parameters`
gives the parameters to keep and their objective (recomputed, never the
driver's word for it), and :func:`warn_unless_converged` warns on every
ending other than convergence, early stopping or an interrupt.
"""

import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import scipy.optimize
import sklearn
from sklearn.exceptions import ConvergenceWarning

from . import _lbfgs

#: ``Result.status`` values every driver shares (scipy's codes for L-BFGS-B);
#: any other status is an abnormal ending.
CONVERGED, BUDGET, ABNORMAL, STOPPED, INTERRUPTED = 0, 1, 2, 99, -1


# Where the frames of the libraries a fit runs through live: warn() skips them.
_LIBRARIES = tuple(
    str(Path(path).parent) + os.sep for path in (sklearn.__file__, joblib.__file__, __file__)
)


def warn(message, category=UserWarning):
    """``warnings.warn`` pointed at the user's line: the first caller outside
    this package, scikit-learn and joblib (so a fit through a Pipeline or
    GridSearchCV names the line that started it)."""
    frame, stacklevel = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)


# The parameters are numpy arrays, or (for Array API rows) arrays of the rows'
# namespace on their device: these helpers work on both, numpy's as before.
def copy_of(theta):
    """A copy of the parameters ``theta``."""
    if isinstance(theta, np.ndarray):
        return theta.copy()
    return _lbfgs.namespace_of(theta).asarray(theta, copy=True)


def all_finite(theta):
    """Whether every parameter is finite."""
    if isinstance(theta, np.ndarray):
        return bool(np.all(np.isfinite(theta)))
    xp = _lbfgs.namespace_of(theta)
    return bool(xp.all(xp.isfinite(theta)))


def max_abs(a):
    """``max |a|``, a float."""
    if isinstance(a, np.ndarray):
        return float(np.max(np.abs(a)))
    xp = _lbfgs.namespace_of(a)
    return float(xp.max(xp.abs(a)))


def same_values(a, b):
    """Whether the parameters ``a`` and ``b`` are equal (of one namespace)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    xp = _lbfgs.namespace_of(a)
    return bool(xp.all(a == b))


def check_finite(theta, J, when, diagnose=None):
    """Raise a ValueError if the objective ``J`` or the parameters are not finite.

    ``when`` says where (e.g. "at iteration 3"); ``diagnose(theta, J)``
    returns what overflowed and what to do. Every driver's iterates pass
    here (through :meth:`Progress.update`), and every point it evaluates
    through :class:`LastEvaluation`.
    """
    if not all_finite(theta):
        what = "The solver produced non-finite parameter weights (a step overflowed)"
    elif not np.isfinite(J):
        what = f"The objective is {J}"
    else:
        return
    advice = "" if diagnose is None else " " + diagnose(theta, J)
    raise ValueError(f"{what} {when}.{advice}")


class Progress:
    """Per-iteration bookkeeping shared by the solvers.

    Parameters
    ----------
    validation_score : callable or None
        ``theta -> score`` on held-out data (higher is better); None
        without early stopping.
    tol, n_iter_no_change : float, int
        Stop once ``n_iter_no_change`` consecutive scores did not improve
        on the best by at least ``tol * scale`` (MLP's rule for its
        stochastic solvers, here for every driver, in the data's units).
        The score is the validation score with early stopping, else minus
        the objective.
    scale : float
        The data's scale, in the objective's units (the estimator passes
        its baseline loss: see ``_backends.inprocess.baseline_loss``).
    verbose : bool
        Print one line per iteration.
    details : callable or None
        ``(theta, J) -> str``: what a verbose line adds after the
        objective.
    diagnose : callable or None
        ``(theta, J) -> str``: what overflowed and what to do, for the
        error :func:`check_finite` raises.
    """

    def __init__(
        self,
        *,
        validation_score=None,
        tol=0.0,
        scale=1.0,
        n_iter_no_change=10,
        verbose=False,
        details=None,
        diagnose=None,
    ):
        self.validation_score = validation_score
        self.tol = tol
        self.scale = scale
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.details = details
        self.diagnose = diagnose
        self.last_theta = None
        self.loss_curve = []
        self.validation_scores = []
        self.best_score = -np.inf
        self.best_theta = None
        self.best_iteration = 0
        self._no_improvement = 0
        self._start = time.perf_counter()

    @property
    def n_iter(self):
        return len(self.loss_curve)

    @property
    def elapsed(self):
        return time.perf_counter() - self._start

    @property
    def stalled(self):
        """True once the score stopped improving."""
        return self._no_improvement >= self.n_iter_no_change

    def update(self, theta, J):
        """Record the iterate ``theta`` with objective ``J``; returns whether to stop."""
        check_finite(theta, J, f"at iteration {self.n_iter + 1}", self.diagnose)
        self.last_theta = copy_of(theta)
        self.loss_curve.append(float(J))
        line = f"Iteration {self.n_iter}: objective {J:.8f}"
        if self.verbose and self.details is not None:
            line += self.details(theta, J)
        if self.validation_score is not None:
            score = self.validation_score(theta)
            self.validation_scores.append(score)
            line += f", validation score {score:.8f}"
            if score > self.best_score:
                self.best_theta, self.best_iteration = copy_of(theta), self.n_iter
        else:
            score = -float(J)
        if score < self.best_score + self.tol * self.scale:
            self._no_improvement += 1
        else:
            self._no_improvement = 0
        self.best_score = max(self.best_score, score)
        if self.verbose:
            print(f"{line}, {self.elapsed:.2f} s")
        return self.stalled

    def stall(self, unit):
        """``(status, message)`` of an ending because the score stalled:
        CONVERGED on the objective, STOPPED (early stopping) on the
        validation score. ``unit`` names an iteration ("epoch")."""
        score = "objective" if self.validation_score is None else "validation score"
        message = (
            f"the {score} did not improve by at least {self._threshold} "
            f"for {self.n_iter_no_change} consecutive {unit}s"
        )
        return (CONVERGED if self.validation_score is None else STOPPED), message

    def budget_advice(self, parameter, budget, unit):
        """What a fit that used up ``parameter``'s ``budget`` ("max_iter",
        "200 iterations") reached and what to raise: how fast the objective
        still fell per ``unit`` ("iteration", "epoch") over the last ones."""
        curve, n = self.loss_curve, min(self.n_iter_no_change, self.n_iter - 1)
        still = ""
        if n > 0:
            rate = (curve[-n - 1] - curve[-1]) / n
            still = (
                f" while the objective still fell by {rate:.2g} per {unit} over the last {n} "
                f"(training stops once {self.n_iter_no_change} in a row improve it by less "
                f"than {self._threshold})"
            )
        return f"It reached {parameter}={budget}{still}; increase {parameter} to train longer."

    @property
    def _threshold(self):
        """The least improvement that counts, in words."""
        return f"tol={self.tol:g} times the data's baseline loss {self.scale:.3g}"

    def summary(self, solver, result, loss, reconstruction):
        """The verbose line after a fit that ended with ``result``, returning
        parameters of objective ``loss`` and mean ``reconstruction`` loss."""
        line = f"{solver} stopped after {result.n_iter} iterations ({result.message}) "
        line += f"in {self.elapsed:.2f} s; returned parameters: "
        if self.best_theta is not None:
            line += f"iteration {self.best_iteration}, validation score {self.best_score:.8f}, "
        return line + f"objective {loss:.8f}, reconstruction {reconstruction:.8f}"


class LastEvaluation:
    """Wraps the objective ``theta -> (J, grad)`` and remembers its last
    evaluation: L-BFGS's callback gets the iterate but not its gradient, and
    the objective at the returned parameters is often the last one computed.
    Refuses to evaluate non-finite parameters (see :func:`check_finite`,
    with the ``diagnose`` the caller sets); ``finite`` is the last
    ``(theta, J)`` evaluated, for ``diagnose``."""

    def __init__(self, fun):
        self.fun = fun
        self.diagnose = None
        self.theta = None
        self.finite = None

    def __call__(self, theta):
        if self.theta is None or not same_values(theta, self.theta):
            check_finite(theta, 0.0, "while searching for the next iterate", self.diagnose)
            self.theta, self.value = None, self.fun(theta)
            self.theta = copy_of(theta)
            self.finite = (self.theta, self.value[0])
        return self.value

    def grad_at(self, theta):
        return self(theta)[1]


@dataclass
class Result:
    """What a driver returns: the parameters, their objective, how it ended."""

    theta: np.ndarray
    loss: float  # the driver's own value: fits use kept_parameters() instead
    n_iter: int
    status: int
    message: str
    advice: str = ""  # for a non-converged ending: what was reached, what to raise


def lbfgs(fun, theta0, progress, *, max_iter, max_fun):
    """Full-batch L-BFGS-B (scipy) on ``fun``, one :meth:`Progress.update` per iteration.

    Stops when ``progress`` says the objective (or the validation score)
    stalled, after ``max_iter`` iterations or ``max_fun`` evaluations, when
    an iteration leaves the objective exactly as it was (scipy's relative
    reduction test, at 0: converged), or when the line search finds no
    lower objective (an abnormal ending). scipy's tests in the objective's
    own units (on the projected gradient, on a relative reduction above 0)
    are off: ``progress``'s rule, in the data's units, decides instead.
    """

    def callback(intermediate_result):
        if progress.update(intermediate_result.x, float(intermediate_result.fun)):
            raise StopIteration

    result = scipy.optimize.minimize(
        fun,
        theta0,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": 0.0, "ftol": 0.0},
    )
    # result.fun may be a rejected line-search trial's: see kept_parameters().
    status, message, advice = int(result.status), result.message, ""
    if status == STOPPED:  # the callback's StopIteration: progress stalled
        status, message = progress.stall("iteration")
    elif status == BUDGET:
        if result.nit >= max_iter:
            budget = "max_iter", f"{max_iter} iterations"
        else:
            budget = "max_fun", f"{max_fun} evaluations"
        advice = progress.budget_advice(*budget, "iteration")
    elif status != CONVERGED:
        advice = (
            "The line search found no step that lowers the objective; the returned "
            "parameters are the last accepted iterate and loss_ is their objective."
        )
    return Result(result.x, float(result.fun), int(result.nit), status, message, advice)


def lbfgs_in_namespace(fun, theta0, progress, *, max_iter, max_fun):
    """L-BFGS written against the parameters' Array API namespace
    (``_lbfgs.minimize``): for parameters that live on a device, stepped
    there, in their dtype. The contract of :func:`lbfgs` (scipy's): the
    same budgets, endings and statuses; converged when an iteration leaves
    the objective exactly as it was or the gradient is zero; an abnormal
    ending when the line search finds no step that lowers the objective."""
    ending = _lbfgs.minimize(
        fun, theta0, max_iter=max_iter, max_fun=max_fun, callback=progress.update
    )
    advice = ""
    if ending.why == _lbfgs.CALLBACK:  # progress stalled
        status, message = progress.stall("iteration")
    elif ending.why == _lbfgs.UNCHANGED:
        status, message = CONVERGED, "an iteration left the objective unchanged"
    elif ending.why == _lbfgs.ZERO_GRADIENT:
        status, message = CONVERGED, "the gradient is zero"
    elif ending.why == _lbfgs.MAX_ITER:
        status, message = BUDGET, f"maximum number of iterations (max_iter={max_iter}) reached"
        advice = progress.budget_advice("max_iter", f"{max_iter} iterations", "iteration")
    elif ending.why == _lbfgs.MAX_FUN:
        status = BUDGET
        message = f"maximum number of objective evaluations (max_fun={max_fun}) reached"
        advice = progress.budget_advice("max_fun", f"{max_fun} evaluations", "iteration")
    else:
        status, message = ABNORMAL, "the line search found no step that lowers the objective"
        advice = (
            "The returned parameters are the last accepted iterate and loss_ is their objective."
        )
    return Result(ending.x, ending.f, ending.n_iter, status, message, advice)


class Adam:
    """Adam's state (Kingma and Ba, 2015) for one flat parameter vector.

    scikit-learn MLP's ``AdamOptimizer`` on a single array, updated in
    place, its moments of the parameters' dtype, namespace and device
    (numpy's, or an Array API namespace's: the same arithmetic, without
    ``out=``): with ``g`` the gradient at step ``t``::

        m = beta_1 m + (1 - beta_1) g
        v = beta_2 v + (1 - beta_2) g^2
        theta -= learning_rate_init sqrt(1 - beta_2^t) / (1 - beta_1^t)
                 * m / (sqrt(v) + epsilon)

    ``state`` is the dict ``{"t", "m", "v"}`` (builtins and arrays only, so
    an estimator can keep it and still persist with skops); pass a
    previous one to continue from it. ``theta`` are the parameters it will
    step (only their size, dtype, namespace and device are read). A
    ``workspace`` (``_backends.inprocess.Workspace``) shares a numpy step
    between its threads (its ``shares``): each element's arithmetic is the
    same, so is the step, bitwise.
    """

    def __init__(
        self,
        theta,
        learning_rate_init=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        state=None,
        workspace=None,
    ):
        self.learning_rate_init = learning_rate_init
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._workspace = workspace
        self._xp = None if isinstance(theta, np.ndarray) else _lbfgs.namespace_of(theta)
        zeros = np.zeros_like if self._xp is None else self._xp.zeros_like
        if state is None:
            state = {"t": 0, "m": zeros(theta), "v": zeros(theta)}
        self.state = state
        # numpy's one temporary, reused
        self._step = np.empty_like(theta) if self._xp is None else None

    def snapshot(self):
        """A copy of the state, for :meth:`restore`."""
        return {"t": self.state["t"], "m": copy_of(self.state["m"]), "v": copy_of(self.state["v"])}

    def restore(self, snapshot):
        """Put the state back to ``snapshot`` (in place: ``state`` stays the same dict)."""
        self.state["t"] = snapshot["t"]
        self.state["m"][...] = snapshot["m"]
        self.state["v"][...] = snapshot["v"]

    def update(self, theta, grad):
        """One step: move ``theta`` (in place) along the gradient ``grad``."""
        self.state["t"] = t = self.state["t"] + 1
        # A Python float: a numpy float64 would scale float32 steps in float64.
        rate = self.learning_rate_init * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        if self._xp is not None:
            self._update_in_namespace(theta, grad, rate)
            return
        if self._workspace is None:
            self._update_part(theta, grad, rate, slice(None))
            return
        bounds = self._workspace.shares(theta.shape[0])
        self._workspace.run(
            lambda i: self._update_part(theta, grad, rate, slice(*bounds[i : i + 2])),
            len(bounds) - 1,
        )

    def _update_part(self, theta, grad, rate, part):
        """:meth:`update` of the numpy parameters ``theta[part]``."""
        m, v, step = self.state["m"][part], self.state["v"][part], self._step[part]
        grad, theta = grad[part], theta[part]
        m *= self.beta_1
        m += np.multiply(grad, 1.0 - self.beta_1, out=step)
        v *= self.beta_2
        np.square(grad, out=step)
        step *= 1.0 - self.beta_2
        v += step
        np.sqrt(v, out=step)
        step += self.epsilon
        np.divide(m, step, out=step)
        step *= rate
        theta -= step

    def _update_in_namespace(self, theta, grad, rate):
        """:meth:`update` on the parameters of an Array API namespace."""
        m, v = self.state["m"], self.state["v"]
        m *= self.beta_1
        m += grad * (1.0 - self.beta_1)
        v *= self.beta_2
        v += (grad * grad) * (1.0 - self.beta_2)
        theta -= (m / (self._xp.sqrt(v) + self.epsilon)) * rate


def adam(fun, theta0, progress, *, optimizer, epoch, random_state, max_iter):
    """Minibatch Adam on ``fun(theta, rows) -> (J, grad)``: ``max_iter`` epochs.

    An epoch visits the rows once, in the minibatches ``epoch()`` yields
    as ``(rows, n_rows)`` pairs (see ``_backends.inprocess.minibatches``; ``rows`` is only
    passed on to ``fun``), with one ``optimizer.update`` per batch.
    ``theta0`` is updated in place, so it always holds the last iterate.
    After each epoch :meth:`Progress.update` gets the mean of the batches'
    objectives weighted by their rows (MLP's epoch loss); training stops
    when it says so (CONVERGED when the objective stalled, STOPPED when the
    validation score did) or after ``max_iter`` epochs (BUDGET). The
    Result's ``loss`` is the last epoch loss.

    ``random_state`` is the one ``epoch`` and ``fun`` draw from. A
    KeyboardInterrupt during an epoch puts the parameters (in place), the
    optimizer's state and ``random_state`` back as they were when the
    epoch began, before it propagates: everything is then of the last
    complete epoch, as ``progress`` is.

    A non-finite minibatch objective is an error before its step. If Adam
    has stepped and the same minibatch's objective is finite at the
    parameters it started from, its steps diverged and the error names
    ``learning_rate_init``; else it says what overflowed
    (``progress.diagnose``).
    """
    theta = theta0
    theta_first = copy_of(theta0)
    epoch_loss = np.nan
    for _ in range(max_iter):
        theta_start, optimizer_start = copy_of(theta), optimizer.snapshot()
        random_start = random_state.get_state()
        try:
            epoch_loss = _epoch(fun, theta, optimizer, epoch(), theta_first, progress)
        except KeyboardInterrupt:
            theta[...] = theta_start
            optimizer.restore(optimizer_start)
            random_state.set_state(random_start)
            raise
        if progress.update(theta, epoch_loss):
            return Result(theta, epoch_loss, progress.n_iter, *progress.stall("epoch"))
    message = f"maximum number of epochs (max_iter={max_iter}) reached"
    advice = progress.budget_advice("max_iter", f"{max_iter} epochs", "epoch")
    return Result(theta, epoch_loss, max_iter, BUDGET, message, advice)


def _epoch(fun, theta, optimizer, batches, theta_first, progress):
    """One epoch of :func:`adam`: its loss (the batches' objectives,
    weighted by their rows). ``theta_first``: where Adam started."""
    epoch_loss, n_samples = 0.0, 0
    for rows, n_rows in batches:
        J, grad = fun(theta, rows)
        if not np.isfinite(J):  # stop before the step spreads it to theta
            when = f"in epoch {progress.n_iter + 1}"
            stepped = n_samples or progress.n_iter
            if stepped and np.isfinite(fun(theta_first, rows)[0]):
                raise ValueError(
                    f"The objective of a minibatch is {J} {when}, and finite at the "
                    "parameters Adam started from: its steps diverged. Lower "
                    f"learning_rate_init (now {optimizer.learning_rate_init:g})."
                )
            check_finite(theta_first, J, when, progress.diagnose)
        optimizer.update(theta, grad)
        epoch_loss += J * n_rows
        n_samples += n_rows
    return epoch_loss / n_samples


def run_interruptible(driver, fun, theta0, progress, **options):
    """``driver(fun, theta0, progress, **options)``; a KeyboardInterrupt ends it
    at the last iterate, as MLP's stochastic solvers do: a warning "Training
    interrupted by user." and a Result with status INTERRUPTED."""
    try:
        return driver(fun, theta0, progress, **options)
    except KeyboardInterrupt:
        warn("Training interrupted by user.")
        theta = theta0 if progress.last_theta is None else progress.last_theta
        message = "Training interrupted by user."
        return Result(theta, np.nan, progress.n_iter, INTERRUPTED, message)


def kept_parameters(result, progress, fun):
    """The parameters a fit keeps and their objective ``(theta, J)``.

    The best validation iterate with early stopping, else the driver's last
    one. ``J`` is ``fun`` evaluated there (free when it was the last
    evaluation): a driver's own value may belong to other parameters
    (scipy's L-BFGS-B returns the last rejected trial's objective after
    an abnormal ending). Raises if either is not finite.
    """
    theta = result.theta if progress.best_theta is None else progress.best_theta
    J = float(fun(theta)[0])
    check_finite(theta, J, "at the returned parameters", progress.diagnose)
    return theta, J


def warn_unless_converged(result, solver):
    """A ConvergenceWarning naming the status and the driver's message on an
    ending other than convergence, early stopping or an interrupt (as
    scikit-learn's ``_check_optimize_result`` does for MLP)."""
    if result.status in (CONVERGED, STOPPED, INTERRUPTED):
        return
    warn(
        f"{solver} stopped before converging after {result.n_iter} iterations "
        f"(status={result.status}: {result.message.rstrip(': ')}). {result.advice}",
        ConvergenceWarning,
    )
