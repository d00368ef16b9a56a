"""The L-BFGS written against the Array API namespace (``_lbfgs``) against
scipy's L-BFGS-B, in one run: an iteration's cost on a device's vectors,
and the time to the same objective on numpy.

    PYTHONPATH=$PWD python benchmarks/bench_lbfgs.py [--device cpu]
        [--sizes 5000 20000 50000] [--iterations 100]

Needs PyTorch (the test extra) for the first table.

1. One iteration on PyTorch float32 tensors on ``--device``, at 786,000
   parameters (64 rows of 28x28 images, ``k=1000``, tied softplus +
   cross-entropy): one evaluation alone, one Adam step (an evaluation and
   the update), one iteration of ours (line-search evaluations included),
   and one iteration of scipy's L-BFGS-B on the host in float64 with the
   objective on the device (scikit-learn's LogisticRegression's way,
   moves included); medians over 20 iterations.
2. On numpy (``bench_solvers.py``'s workload and sizes: 28x28 images,
   float32, ``ContractiveAutoencoder(200, activation="softplus",
   loss="cross_entropy", contraction=0.1)``): scipy's L-BFGS-B runs
   ``--iterations`` iterations on the objective as ``fit`` builds it
   (threads and buffers); ours runs from the same start until its
   objective is at most scipy's final one (at most 3x the iterations).
"""

import argparse
import os
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from _common import device_seconds, environment  # noqa: E402
from bench_solvers import MODEL, image_digits  # noqa: E402

from sklearn_cae import ContractiveAutoencoder, _lbfgs, _objective, _solvers  # noqa: E402
from sklearn_cae._backends import array_api, inprocess  # noqa: E402


def per_iteration(torch, X, repeats=20):
    """Seconds of an evaluation, an Adam step, an iteration of ours and of scipy's."""
    sync = torch.cuda.synchronize if X.device.type == "cuda" else lambda: None
    settings = ContractiveAutoencoder(**dict(MODEL, n_components=1000))._settings()
    theta0 = _objective.initial_theta(X.shape[1], 1000, "softplus", True, np.random.RandomState(0))
    fun = array_api.full_objective(X, settings)[0]
    theta = array_api.vector(theta0, X)

    evaluation = device_seconds(lambda: fun(theta), sync, repeats)
    adam = _solvers.Adam(array_api.vector(theta0, X), learning_rate_init=3e-3)
    adam_theta = array_api.vector(theta0, X)
    adam_step = device_seconds(lambda: adam.update(adam_theta, fun(adam_theta)[1]), sync, repeats)

    def ours():
        start = time.perf_counter()
        ending = _lbfgs.minimize(fun, theta, max_iter=repeats, max_fun=20 * repeats)
        sync()
        return (time.perf_counter() - start) / ending.n_iter

    def on_host(theta):
        J, grad = fun(theta)
        return J, np.asarray(array_api.to_numpy(grad), dtype=np.float64)

    def scipy():
        progress = _solvers.Progress(tol=0.0)
        start = time.perf_counter()
        result = _solvers.lbfgs(on_host, theta0, progress, max_iter=repeats, max_fun=20 * repeats)
        return (time.perf_counter() - start) / result.n_iter

    ours()  # warm-up
    return evaluation, adam_step, ours(), scipy()


def time_to_objective(X, iterations):
    """``(scipy's objective, its seconds, our iterations to it, our seconds)``."""
    settings = ContractiveAutoencoder(**MODEL)._settings()
    theta0 = _objective.initial_theta(X.shape[1], 200, "softplus", True, np.random.RandomState(0))
    with inprocess.workspace(X) as workspace:
        fun = inprocess.full_objective(X, settings, workspace)[0]
        fun(theta0)  # the buffers made
        start = time.perf_counter()
        result = _solvers.lbfgs(
            fun, theta0, _solvers.Progress(tol=0.0), max_iter=iterations, max_fun=15000
        )
        scipy_seconds = time.perf_counter() - start
        target = result.loss
        start = time.perf_counter()
        ending = _lbfgs.minimize(
            fun, theta0, max_iter=3 * iterations, max_fun=15000, callback=lambda x, f: f <= target
        )
        ours_seconds = time.perf_counter() - start
    reached = ending.f <= target
    return target, scipy_seconds, ending.n_iter if reached else None, ours_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 20000, 50000])
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    print(environment())
    try:
        import torch  # only here: the package imports it only when given a tensor
    except ImportError:
        torch = None
    if torch is not None:
        print(f"torch {torch.__version__}, device {args.device}\n")
        X = torch.asarray(image_digits(64)[0], device=args.device)
        with sklearn.config_context(array_api_dispatch=True):
            evaluation, adam, ours, scipy = per_iteration(torch, X)
        print("| 64 x 784, k=1000, float32 | evaluation | Adam step | ours: iteration | scipy's |")
        print("|---|---|---|---|---|")
        print(
            f"| seconds (/ Adam step) | {evaluation:.4f} | {adam:.4f} | {ours:.4f} "
            f"({ours / adam:.2f}x) | {scipy:.4f} ({scipy / adam:.2f}x) |\n"
        )
    if args.sizes:
        print(f"| rows | scipy-{args.iterations} objective | scipy s | ours: iterations | ours s |")
        print("|---|---|---|---|---|")
    for N in args.sizes:
        target, scipy_seconds, n_iter, ours_seconds = time_to_objective(
            image_digits(N)[0], args.iterations
        )
        reached = f"{n_iter}" if n_iter is not None else "not reached"
        print(
            f"| {N} | {target:.4f} | {scipy_seconds:.1f} | {reached} | {ours_seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
