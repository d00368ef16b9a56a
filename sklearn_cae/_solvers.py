"""The optimization drivers, side by side.

A driver minimises ``fun(theta) -> (J, grad)`` over the flat parameter
vector ``theta`` (see ``_objective.unpack``). It knows neither the
estimator nor where the rows live: after each iteration it reports the
iterate to a :class:`Progress`, which keeps the loss curve, decides early
stopping and prints the verbose lines, the same way for every driver.
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
        Early stopping: stop once ``n_iter_no_change`` consecutive scores
        did not improve on the best by at least ``tol`` (MLP's rule).
    verbose : bool
        Print one line per iteration.
    details : callable or None
        ``(theta, J) -> str``: what a verbose line adds after the
        objective.
    """

    def __init__(
        self, *, validation_score=None, tol=0.0, n_iter_no_change=10, verbose=False, details=None
    ):
        self.validation_score = validation_score
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
        """True once the validation score stopped improving."""
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
            if score < self.best_score + self.tol:
                self._no_improvement += 1
            else:
                self._no_improvement = 0
            if score > self.best_score:
                self.best_score = score
                self.best_theta, self.best_iteration = theta.copy(), self.n_iter
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
