"""Limited-memory BFGS written against the Array API namespace of the
parameters, so that its vectors stay where the objective runs (on a GPU,
in float32 when the data is).

Nocedal and Wright's algorithm 7.4 (the two-loop recursion, memory 10 as
scipy's L-BFGS-B) with a line search for the strong Wolfe conditions
(algorithms 3.5 and 3.6, cubic interpolation; the shape of PyTorch's
``torch/optim/lbfgs.py``, itself after minFunc), with scipy's L-BFGS-B
constants: sufficient decrease 1e-3, curvature 0.9, at most 20 evaluations
per line search, a first step of ``1 / ||g||``. The scalars (objective
values, directional derivatives) are Python floats on the host; the
two-loop recursion keeps its scalars on the device, so an iteration waits
for the device only for the line search's tests.

:func:`minimize` knows nothing of the estimator: ``fun(x) -> (f, g)``,
``callback(x, f) -> stop?`` after each iteration, and it returns why it
ended. ``_solvers.lbfgs_in_namespace`` turns that into a fit's ending.
"""

import math
from dataclasses import dataclass

MEMORY = 10
SUFFICIENT_DECREASE, CURVATURE = 1e-3, 0.9
MAX_LINE_SEARCH = 20

# How minimize ended.
CALLBACK, UNCHANGED, ZERO_GRADIENT, MAX_ITER, MAX_FUN, LINE_SEARCH = (
    "callback",
    "unchanged",
    "zero gradient",
    "max_iter",
    "max_fun",
    "line search",
)


def namespace_of(a):
    """The Array API namespace of the array ``a``: array_api_compat's, as
    scikit-learn vendors it, imported only here (for arrays of another
    namespace than numpy's, which need scikit-learn 1.9 or newer)."""
    from sklearn.externals.array_api_compat import array_namespace

    return array_namespace(a)


@dataclass
class Ending:
    """Where :func:`minimize` stopped: the last accepted iterate ``x`` and
    its objective ``f``, the iterations and evaluations done, and ``why``
    (one of the names above)."""

    x: object
    f: float
    n_iter: int
    n_fun: int
    why: str


def minimize(fun, x0, *, max_iter, max_fun, callback=None):
    """Minimise ``fun(x) -> (f, g)`` from ``x0`` (``f`` a float, ``g`` an
    array of ``x0``'s namespace, device and dtype) by L-BFGS.

    Ends after ``max_iter`` iterations, once ``max_fun`` evaluations are
    spent (a line search stops there and keeps its best point), when
    ``callback(x, f)`` after an iteration returns True, when an iteration
    leaves ``f`` exactly as it was or the gradient is exactly zero
    (converged), or when the line search finds no point that lowers ``f``
    enough (``x`` is then the last accepted iterate).
    """
    xp = namespace_of(x0)
    eps = float(xp.finfo(x0.dtype).eps)
    x = x0
    f, g = fun(x)
    n_fun = 1
    steps, changes, rhos = [], [], []  # s_i = x_{i+1} - x_i, y_i = g_{i+1} - g_i, 1 / y_i s_i
    scale = None  # y s / y y of the last pair: the initial inverse Hessian
    for n_iter in range(max_iter):
        if not float(xp.max(xp.abs(g))):
            return Ending(x, f, n_iter, n_fun, ZERO_GRADIENT)
        if n_fun >= max_fun:
            return Ending(x, f, n_iter, n_fun, MAX_FUN)
        d = _direction(g, steps, changes, rhos, scale, xp)
        gtd = _dot(g, d, xp)
        if not gtd < 0:  # rounding made it no descent direction: start the memory afresh
            steps, changes, rhos, scale = [], [], [], None
            d = -g
            gtd = _dot(g, d, xp)
        t = min(1.0, 1.0 / math.sqrt(-gtd)) if not steps else 1.0  # 1/||g|| at first
        search = _line_search(fun, x, f, g, d, gtd, t, max_fun - n_fun)
        n_fun += search.n_fun
        if search.t is None:  # no point lowered f enough
            return Ending(x, f, n_iter, n_fun, MAX_FUN if n_fun >= max_fun else LINE_SEARCH)
        x_new, f_new, g_new = x + search.t * d, search.f, search.g
        s, y = x_new - x, g_new - g
        ys, yy = _dot(y, s, xp), _dot(y, y, xp)
        if ys > eps * yy:  # the curvature pair keeps the approximation positive definite
            if len(steps) == MEMORY:
                del steps[0], changes[0], rhos[0]
            steps.append(s)
            changes.append(y)
            rhos.append(1.0 / ys)
            scale = ys / yy
        unchanged = f_new == f
        x, f, g = x_new, f_new, g_new
        if callback is not None and callback(x, f):
            return Ending(x, f, n_iter + 1, n_fun, CALLBACK)
        if unchanged:
            return Ending(x, f, n_iter + 1, n_fun, UNCHANGED)
    return Ending(x, f, max_iter, n_fun, MAX_ITER)


def _inner(a, b, xp):
    """``a . b`` on the device: ``matmul`` of two vectors, one BLAS dot
    (the standard's ``vecdot`` is a batched product in array_api_compat's
    PyTorch, and ``sum(a * b)`` two passes)."""
    return a @ b


def _dot(a, b, xp):
    return float(_inner(a, b, xp))


def _direction(g, steps, changes, rhos, scale, xp):
    """``-H g`` by the two-loop recursion (its scalars stay on the device)."""
    q = -g
    alphas = []
    for s, y, rho in zip(reversed(steps), reversed(changes), reversed(rhos), strict=True):
        alpha = _inner(s, q, xp) * rho
        q = q - alpha * y
        alphas.append(alpha)
    if scale is not None:
        q = q * scale
    for s, y, rho, alpha in zip(steps, changes, rhos, reversed(alphas), strict=True):
        beta = _inner(y, q, xp) * rho
        q = q + (alpha - beta) * s
    return q


@dataclass
class _Search:
    t: float | None  # the accepted step, None if none lowered f enough
    f: float
    g: object
    n_fun: int


def _line_search(fun, x, f, g, d, gtd, t, budget):
    """A step along ``d`` meeting the strong Wolfe conditions, from the trial
    step ``t``, within ``budget`` evaluations (fewer than
    :data:`MAX_LINE_SEARCH`): bracketing, then zooming by cubic
    interpolation (bisection where a value is not finite). Without such a
    step, the lowest point that decreases ``f`` enough, if any."""
    xp = namespace_of(x)
    budget = min(budget, MAX_LINE_SEARCH)
    n_fun = 0
    best = _Search(None, f, g, 0)  # the lowest sufficiently decreasing point so far

    def trial(step):
        nonlocal n_fun
        f_t, g_t = fun(x + step * d)
        n_fun += 1
        gtd_t = _dot(g_t, d, xp) if math.isfinite(f_t) else math.nan
        decreases = math.isfinite(f_t) and f_t <= f + SUFFICIENT_DECREASE * step * gtd
        if decreases and f_t < best.f:
            best.t, best.f, best.g = step, f_t, g_t
        return f_t, g_t, gtd_t, decreases

    def accept(step, f_t, g_t):
        return _Search(step, f_t, g_t, n_fun)

    def fallback():
        return _Search(best.t, best.f, best.g, n_fun)

    def curvature_met(gtd_t):
        return abs(gtd_t) <= -CURVATURE * gtd

    # bracketing: low is (0, f, gtd), the last trial decreasing and lower
    low = (0.0, f, gtd)
    high = None
    while n_fun < budget:
        f_t, g_t, gtd_t, decreases = trial(t)
        if not decreases or (n_fun > 1 and f_t >= low[1]):
            high = (t, f_t, gtd_t)
            break
        if curvature_met(gtd_t):
            return accept(t, f_t, g_t)
        if gtd_t >= 0:
            high, low = low, (t, f_t, gtd_t)
            break
        extrapolation = (t + 0.01 * (t - low[0]), 10 * t)
        low, t = (t, f_t, gtd_t), _cubic_minimum(low, (t, f_t, gtd_t), extrapolation)
    if high is None:
        return fallback()
    # zoom between low (decreasing, lowest) and high
    while n_fun < budget:
        lo, hi = sorted((low[0], high[0]))
        if (hi - lo) * float(xp.max(xp.abs(d))) < 1e-9 * max(1.0, float(xp.max(xp.abs(x)))):
            break  # the interval is below rounding
        t = _cubic_minimum(low, high, (lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)))
        f_t, g_t, gtd_t, decreases = trial(t)
        if not decreases or f_t >= low[1]:
            high = (t, f_t, gtd_t)
            continue
        if curvature_met(gtd_t):
            return accept(t, f_t, g_t)
        if gtd_t * (high[0] - low[0]) >= 0:
            high = low
        low = (t, f_t, gtd_t)
    return fallback()


def _cubic_minimum(a, b, bounds):
    """The minimiser of the cubic through ``a = (t, f, f')`` and ``b``, within
    ``bounds``; their middle where the cubic has none or a value is not
    finite."""
    (t1, f1, g1), (t2, f2, g2) = a, b
    lo, hi = bounds
    if all(math.isfinite(v) for v in (f1, g1, f2, g2)) and t1 != t2:
        d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
        square = d1 * d1 - g1 * g2
        if square >= 0:
            d2 = math.copysign(math.sqrt(square), t2 - t1)
            denominator = g2 - g1 + 2 * d2
            if denominator:
                t = t2 - (t2 - t1) * (g2 + d2 - d1) / denominator
                if math.isfinite(t):
                    return min(max(t, lo), hi)
    return (lo + hi) / 2
