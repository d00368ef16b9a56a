"""Adam against L-BFGS: objective versus time, side by side in one run.

    PYTHONPATH=$PWD python benchmarks/bench_solvers.py [--sizes 5000 20000 50000]
        [--figure benchmarks/figures/solvers.png]
    PYTHONPATH=$PWD python benchmarks/bench_solvers.py --sweep   # batch size x learning rate
    PYTHONPATH=$PWD python benchmarks/bench_solvers.py --epoch-ratio --sizes 20000
    PYTHONPATH=$PWD python benchmarks/bench_solvers.py --batch-threads --sizes 20000

Data: 28x28 digit images in [0, 1] (:func:`image_digits`), float32; the model
is ``ContractiveAutoencoder(200, activation="softplus", loss="cross_entropy",
contraction=0.1)`` (tied). For each size, L-BFGS runs 100 iterations; its
final objective is the target. Adam (defaults, same ``random_state``) then
runs until its objective on all training rows, evaluated after each epoch,
reaches the target. Times exclude those evaluations (the clock is paused
while the benchmark evaluates); each solver's time includes its whole fit.
Downstream: the codes of held-out images (made from other digits) feed
``StandardScaler() -> LogisticRegression``, trained on the training codes.

``--epoch-ratio``: one Adam epoch (``partial_fit`` on all rows) over one
full-batch evaluation in a workspace as ``fit`` makes it, alternated,
median of 5, in wall and process CPU time, for several batch sizes.
``--batch-threads``: the objective and gradient of one epoch's minibatches
(float32, the evaluations alone, no step) with the rows split over two
threads of one BLAS thread each, on one thread with one BLAS thread, and
on one thread with BLAS's own threads, alternated, median of 5, for
several batch sizes (a fit splits from ``2 * MIN_BATCH_ROWS_PER_THREAD``
rows on, and runs smaller minibatches on one thread with BLAS's threads).
``--sweep``: time to L-BFGS-100's objective for a grid of batch sizes and
learning rates (at the second size).
"""

import argparse
import time
import warnings

import numpy as np
from _common import environment, median, settle
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cae import ContractiveAutoencoder, _objective, _solvers
from sklearn_cae._backends import inprocess

MODEL = dict(n_components=200, activation="softplus", loss="cross_entropy", contraction=0.1)


def image_digits(n_samples, test=False, seed=0):
    """28x28 images in [0, 1]: scikit-learn's digits upscaled 3x to 24x24
    (bilinear), placed at a random offset of 0-4 pixels in each direction
    of a 28x28 canvas, with a random contrast in [0.7, 1]. The training
    images come from the first 1,400 digits, the test images
    (``test=True``) from the other 397. Returns ``(X float32, y)``."""
    digits, labels = load_digits(return_X_y=True)
    part = slice(1400, None) if test else slice(0, 1400)
    images = zoom(digits[part].reshape(-1, 8, 8) / 16.0, (1, 3, 3), order=1).clip(0, 1)
    rng = np.random.RandomState(seed + (1 if test else 0))
    pick = rng.randint(len(images), size=n_samples)
    rows, cols = rng.randint(5, size=n_samples), rng.randint(5, size=n_samples)
    contrast = rng.uniform(0.7, 1.0, n_samples).astype(np.float32)
    X = np.zeros((n_samples, 28, 28), np.float32)
    for r in range(5):
        for c in range(5):
            at = (rows == r) & (cols == c)
            X[at, r : r + 24, c : c + 24] = images[pick[at]] * contrast[at, None, None]
    return X.reshape(n_samples, 784), labels[part][pick]


class Recorder:
    """Records (seconds, objective on all rows) after every iteration of a fit,
    by wrapping :meth:`_solvers.Progress.update`; the clock is paused while the
    objective is evaluated. Stops the fit (as a stalled run) once the
    objective reaches ``target``."""

    def __init__(self, X, target=-np.inf):
        self.X, self.target = X, target
        self.times, self.objectives = [], []

    def fit(self, cae):
        original = _solvers.Progress.update
        paused = 0.0
        objective = inprocess.full_objective(self.X, cae._settings())[0]

        def update(progress, theta, J):
            nonlocal paused
            now = time.perf_counter()
            if cae.solver == "adam":  # J is the epoch's mean over batches
                J = objective(theta)[0]
            self.times.append(now - start - paused)
            self.objectives.append(J)
            paused += time.perf_counter() - now
            return original(progress, theta, J) or J <= self.target

        _solvers.Progress.update = update
        settle()
        start = time.perf_counter()
        try:
            cae.fit(self.X)
        finally:
            _solvers.Progress.update = original
        return cae

    def time_to(self, target):
        reached = [t for t, J in zip(self.times, self.objectives, strict=True) if J <= target]
        return reached[0] if reached else np.nan


def accuracy(cae, X, y, X_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    return clf.fit(cae.transform(X), y).score(cae.transform(X_test), y_test)


def compare(sizes, figure, max_epochs):
    X_test, y_test = image_digits(5000, test=True)
    rows, curves = [], {}
    for N in sizes:
        X, y = image_digits(N)
        lbfgs = Recorder(X)
        cae_lbfgs = ContractiveAutoencoder(**MODEL, max_iter=100, tol=0.0, random_state=0)
        lbfgs.fit(cae_lbfgs)
        target = lbfgs.objectives[-1]
        adam = Recorder(X, target)
        cae_adam = ContractiveAutoencoder(
            **MODEL, solver="adam", max_iter=max_epochs, tol=0.0, random_state=0
        )
        adam.fit(cae_adam)
        t_lbfgs, t_adam = lbfgs.times[-1], adam.time_to(target)
        acc_lbfgs = accuracy(cae_lbfgs, X, y, X_test, y_test)
        acc_adam = accuracy(cae_adam, X, y, X_test, y_test)
        rows.append(
            (N, target, t_lbfgs, len(adam.times), t_adam, t_lbfgs / t_adam, acc_lbfgs, acc_adam)
        )
        curves[N] = (lbfgs, adam)
        print(
            f"N={N}: L-BFGS-100 objective {target:.4f} in {t_lbfgs:.1f} s; Adam reached it "
            f"after {len(adam.times)} epochs, {t_adam:.1f} s",
            flush=True,
        )
    print(
        "\n| rows | L-BFGS-100 objective | L-BFGS-100 time (s) | Adam epochs to it "
        "| Adam time to it (s) | speed-up | test accuracy L-BFGS | test accuracy Adam |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for N, target, tl, epochs, ta, ratio, al, aa in rows:
        print(
            f"| {N:,} | {target:.4f} | {tl:.1f} | {epochs} | {ta:.1f} | {ratio:.1f}x "
            f"| {al:.4f} | {aa:.4f} |"
        )
    if figure:
        plot(curves, figure)


def plot(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.6), squeeze=False)
    for ax, (N, (lbfgs, adam)) in zip(axes[0], curves.items(), strict=True):
        ax.plot(lbfgs.times, lbfgs.objectives, label="L-BFGS (per iteration)")
        ax.plot(adam.times, adam.objectives, "o-", ms=3, label="Adam (per epoch)")
        ax.axhline(lbfgs.objectives[-1], color="gray", ls=":", lw=1, label="L-BFGS-100")
        ax.set_title(f"{N:,} rows")
        ax.set_xlabel("seconds")
        top = max(lbfgs.objectives[min(3, len(lbfgs.objectives) - 1)], adam.objectives[0])
        ax.set_ylim(lbfgs.objectives[-1] * 0.97, top)
    axes[0, 0].set_ylabel("objective on all training rows")
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")


def sweep(N, max_epochs):
    """Time to L-BFGS-100's objective for a grid of batch sizes and learning rates."""
    X, _ = image_digits(N)
    lbfgs = Recorder(X)
    lbfgs.fit(ContractiveAutoencoder(**MODEL, max_iter=100, tol=0.0, random_state=0))
    target = lbfgs.objectives[-1]
    print(f"N={N}: L-BFGS-100 objective {target:.4f} in {lbfgs.times[-1]:.1f} s\n")
    print("| batch_size | learning_rate_init | epochs to it | time to it (s) | speed-up |")
    print("|---|---|---|---|---|")
    for batch_size in (64, 128, 256, 512):
        for rate in (1e-3, 3e-3):
            adam = Recorder(X, target)
            adam.fit(
                ContractiveAutoencoder(
                    **MODEL,
                    solver="adam",
                    batch_size=batch_size,
                    learning_rate_init=rate,
                    max_iter=max_epochs,
                    tol=0.0,
                    random_state=0,
                )
            )
            t = adam.time_to(target)
            epochs = len(adam.times) if np.isfinite(t) else f"> {max_epochs}"
            print(
                f"| {batch_size} | {rate:g} | {epochs} | {t:.1f} | {lbfgs.times[-1] / t:.1f}x |",
                flush=True,
            )


def epoch_ratio(N, batch_sizes=(64, 128, 200, 256, 512), repeats=5):
    """One epoch over one full-batch evaluation, per batch size (alternated)."""
    X, _ = image_digits(N)
    print(f"N={N}\n")
    print(
        "| batch_size | evaluation (s) | epoch (s) | epoch / evaluation | CPU epoch / evaluation |"
    )
    print("|---|---|---|---|---|")
    for batch_size in batch_sizes:
        cae = ContractiveAutoencoder(**MODEL, solver="adam", batch_size=batch_size, random_state=0)
        theta = _objective.initial_theta(
            784, cae.n_components, cae.activation, cae.tied_weights, np.random.RandomState(0)
        )
        walls, cpus, evals, epochs = [], [], [], []
        for _ in range(repeats):
            with inprocess.Workspace(inprocess.n_threads(X.shape[0])) as ws:
                fun = inprocess.full_objective(X, cae._settings(), ws)[0]
                fun(theta)
                settle()
                t0, c0 = time.perf_counter(), time.process_time()
                fun(theta)
                e_wall, e_cpu = time.perf_counter() - t0, time.process_time() - c0
            settle()
            t0, c0 = time.perf_counter(), time.process_time()
            cae.partial_fit(X)
            p_wall, p_cpu = time.perf_counter() - t0, time.process_time() - c0
            walls.append(p_wall / e_wall)
            cpus.append(p_cpu / e_cpu)
            evals.append(e_wall)
            epochs.append(p_wall)
        print(
            f"| {batch_size} | {median(evals):.2f} | {median(epochs):.2f} | {median(walls):.2f} "
            f"| {median(cpus):.2f} |",
            flush=True,
        )


def batch_threads(N, batch_sizes=(32, 64, 128, 256, 512), repeats=5):
    """The objective and gradient of an epoch's minibatches, three ways."""
    X, _ = image_digits(N)
    k, n = MODEL["n_components"], X.shape[1]
    theta = _objective.initial_theta(n, k, MODEL["activation"], True, np.random.RandomState(0))
    theta = theta.astype(X.dtype)
    blas = inprocess.BLAS.outside_threads()
    ways = {
        "2 threads x half the rows, 1 BLAS thread each": (2, False),
        "1 thread, 1 BLAS thread": (1, False),
        f"1 thread, BLAS's {blas} threads": (1, True),
    }
    print(f"N={N}, BLAS threads allowed: {blas}\n")
    print("| batch_size | " + " | ".join(f"{way} (s)" for way in ways) + " |")
    print("|---|" + "---|" * len(ways))
    for batch_size in batch_sizes:
        times = {way: [] for way in ways}
        for _ in range(repeats):
            for way, (threads, minibatch) in ways.items():
                kwargs = dict(
                    n_components=k,
                    activation=MODEL["activation"],
                    loss=MODEL["loss"],
                    tied=True,
                    contraction=MODEL["contraction"],
                    chunk_rows=-(-batch_size // threads),
                    grad_dtype=X.dtype,
                )
                with inprocess.Workspace(threads, minibatch) as workspace:
                    settle()
                    t0 = time.perf_counter()
                    for start in range(0, N, batch_size):
                        rows = X[start : start + batch_size]
                        _objective.loss_and_grad_sums(theta, rows, workspace=workspace, **kwargs)
                    times[way].append(time.perf_counter() - t0)
        cells = " | ".join(f"{median(times[way]):.2f}" for way in ways)
        print(f"| {batch_size} | {cells} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--figure", default="benchmarks/figures/solvers.png")
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--epoch-ratio", action="store_true")
    parser.add_argument("--batch-threads", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # budgets are the point here
    print(environment())
    print(f"model: {MODEL}, float32, 28x28 image digits\n")
    if args.sweep:
        sweep(args.sizes[1] if len(args.sizes) > 1 else args.sizes[0], args.max_epochs)
    elif args.epoch_ratio:
        epoch_ratio(args.sizes[0])
    elif args.batch_threads:
        batch_threads(args.sizes[0])
    else:
        compare(args.sizes, args.figure, args.max_epochs)


if __name__ == "__main__":
    main()
