"""The optimization drivers, side by side: full-batch L-BFGS and minibatch Adam.

A driver minimises an objective over the flat parameter vector ``theta``
(see ``_objective.unpack``): :func:`lbfgs` calls ``fun(theta) -> (J, grad)``
on all rows, :func:`adam` calls ``fun(theta, rows) -> (J, grad)`` on one
minibatch of rows at a time. Neither knows the estimator nor where the rows
live: after each iteration (an epoch for Adam) it reports the iterate to a
:class:`Progress`, which keeps the loss curve, decides when training has
stalled and prints the verbose lines, the same way for every driver.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize


class Progress:
    """Per-iteration bookkeeping shared by the solvers.

    Parameters
    ----------
    validation_score : callable or None
        ``theta -> score`` on held-out data (higher is better); None
        without early stopping.
    tol, n_iter_no_change : float, int
        Stop once ``n_iter_no_change`` consecutive scores did not improve
        on the best by at least ``tol`` (MLP's rule). The score is the
        validation score with early stopping, else minus the objective
        if ``stop_on_loss`` (MLP's rule for its stochastic solvers).
    verbose : bool
        Print one line per iteration.
    details : callable or None
        ``(theta, J) -> str``: what a verbose line adds after the
        objective.
    stop_on_loss : bool
        Without ``validation_score``, stall on the objective itself.
    """

    def __init__(
        self,
        *,
        validation_score=None,
        tol=0.0,
        n_iter_no_change=10,
        verbose=False,
        details=None,
        stop_on_loss=False,
    ):
        self.validation_score = validation_score
        self.stop_on_loss = stop_on_loss
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.details = details
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
        self.loss_curve.append(float(J))
        line = f"Iteration {self.n_iter}: objective {J:.8f}"
        if self.verbose and self.details is not None:
            line += self.details(theta, J)
        if self.validation_score is not None:
            score = self.validation_score(theta)
            self.validation_scores.append(score)
            line += f", validation score {score:.8f}"
            if score > self.best_score:
                self.best_theta, self.best_iteration = theta.copy(), self.n_iter
        elif self.stop_on_loss:
            score = -float(J)
        else:
            score = None
        if score is not None:
            if score < self.best_score + self.tol:
                self._no_improvement += 1
            else:
                self._no_improvement = 0
            self.best_score = max(self.best_score, score)
        if self.verbose:
            print(f"{line}, {self.elapsed:.2f} s")
        return self.stalled


class LastEvaluation:
    """Wraps the objective ``theta -> (J, grad)`` and remembers its last
    evaluation: L-BFGS's callback gets the iterate but not its gradient."""

    def __init__(self, fun):
        self.fun = fun
        self.theta = None

    def __call__(self, theta):
        self.theta, self.value = theta.copy(), self.fun(theta)
        return self.value

    def grad_at(self, theta):
        if self.theta is None or not np.array_equal(theta, self.theta):
            self(theta)
        return self.value[1]


@dataclass
class Result:
    """What a driver returns: the parameters, their objective, how it ended."""

    theta: np.ndarray
    loss: float
    n_iter: int
    status: int
    message: str


def lbfgs(fun, theta0, progress, *, max_iter, max_fun, tol):
    """Full-batch L-BFGS-B (scipy) on ``fun``, one :meth:`Progress.update` per iteration.

    Stops when the largest projected gradient component is below ``tol``,
    after ``max_iter`` iterations or ``max_fun`` evaluations, or when
    ``progress`` says so (status 99, scipy's code for a callback's stop).
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
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    return Result(result.x, float(result.fun), int(result.nit), int(result.status), result.message)


class Adam:
    """Adam's state (Kingma and Ba, 2015) for one flat parameter vector.

    scikit-learn MLP's ``AdamOptimizer`` on a single array, updated in
    place, its moments in ``dtype`` (the parameters'): with ``g`` the
    gradient at step ``t``::

        m = beta_1 m + (1 - beta_1) g
        v = beta_2 v + (1 - beta_2) g^2
        theta -= learning_rate_init sqrt(1 - beta_2^t) / (1 - beta_1^t)
                 * m / (sqrt(v) + epsilon)

    ``state`` is the dict ``{"t", "m", "v"}`` (builtins and arrays only, so
    an estimator can keep it and still persist with skops); pass a
    previous one to continue from it.
    """

    def __init__(
        self,
        n_params,
        learning_rate_init=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        dtype=np.float64,
        state=None,
    ):
        self.learning_rate_init = learning_rate_init
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        if state is None:
            state = {"t": 0, "m": np.zeros(n_params, dtype), "v": np.zeros(n_params, dtype)}
        self.state = state
        self._step = np.empty(n_params, dtype)  # the one temporary, reused

    def update(self, theta, grad):
        """One step: move ``theta`` (in place) along the gradient ``grad``."""
        self.state["t"] = t = self.state["t"] + 1
        m, v, step = self.state["m"], self.state["v"], self._step
        m *= self.beta_1
        m += np.multiply(grad, 1.0 - self.beta_1, out=step)
        v *= self.beta_2
        np.square(grad, out=step)
        step *= 1.0 - self.beta_2
        v += step
        rate = self.learning_rate_init * np.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        np.sqrt(v, out=step)
        step += self.epsilon
        np.divide(m, step, out=step)
        step *= rate
        theta -= step


def adam(
    fun, theta, optimizer, progress, *, n_samples, batch_size, shuffle, random_state, max_iter
):
    """Minibatch Adam on ``fun(theta, rows) -> (J, grad)``: ``max_iter`` epochs.

    An epoch visits the ``n_samples`` rows once, ``batch_size`` at a time
    (``rows`` is a slice, or an index array in the order of
    ``random_state.permutation`` when ``shuffle``), with one
    ``optimizer.update`` per batch. ``theta`` is updated in place, so it
    always holds the last iterate. After each epoch :meth:`Progress.update`
    gets the mean of the batches' objectives weighted by their rows (MLP's
    epoch loss); training stops when it says so (status 0) or after
    ``max_iter`` epochs (status 1). Returns a :class:`Result` whose ``loss``
    is the last epoch's loss.
    """
    epoch_loss = np.nan
    for _ in range(max_iter):
        order = random_state.permutation(n_samples) if shuffle else None
        epoch_loss = 0.0
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            rows = slice(start, stop) if order is None else order[start:stop]
            J, grad = fun(theta, rows)
            optimizer.update(theta, grad)
            epoch_loss += J * (stop - start)
        epoch_loss /= n_samples
        if progress.update(theta, epoch_loss):
            message = (
                f"the score did not improve by at least tol for "
                f"{progress.n_iter_no_change} consecutive epochs"
            )
            return Result(theta, epoch_loss, progress.n_iter, 0, message)
    message = f"maximum number of epochs (max_iter={max_iter}) reached"
    return Result(theta, epoch_loss, max_iter, 1, message)
