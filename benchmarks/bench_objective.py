"""Per-evaluation cost of the objective + gradient against the GEMM floor and
against MLPRegressor used as an autoencoder (issue 3, targets 1-3).

    PYTHONPATH=$PWD python benchmarks/bench_objective.py [--repeats 5]

Columns (each the median over the repeats of the ratio within one repeat;
every timing starts after a pause that lets BLAS's idle threads stop
spinning, see ``_common.settle``):

- ``floor``: the five GEMMs of one evaluation alone (see ``_common.floor_seconds``);
- ``ours/floor``: one ``_objective.loss_and_grad`` call, as ``fit`` runs it
  (default ``working_memory``, threads, chunking), over the floor;
- ``CPU ours/floor``: the same ratio in process CPU time, against the split
  floor (one BLAS thread per thread in both): the work done, whatever the load;
- ``ours/MLP``: our ``fit`` time per evaluation over MLPRegressor's, both
  measured the same way: one fit of ``max_iter`` L-BFGS iterations, its wall
  time divided by the ``nfev`` scipy reports (``minimize`` is wrapped to read
  it), so both include their whole fit overhead;
- ``MLP/floor``: MLPRegressor's time per evaluation over the floor;
- ``ours/MLP1``, ``MLP1/floor``: the same with MLPRegressor fitted under
  ``threadpool_limits(1)`` (one BLAS thread), its best setting on a loaded
  machine, though not its default;
- ``plain``, ``ours/plain``, ``MLP/plain``: the five GEMMs written as plain
  numpy expressions, each allocating its output (``_common.plain_gemms_seconds``),
  a looser floor than ``floor``.

``--profile N [--shape I] [--dtype D]`` instead runs ``loss_and_grad`` N times at
``SHAPES[I]`` and nothing else, for ``perf record`` (see benchmarks/README.md).
"""

import argparse
import warnings

import numpy as np
from _common import (
    data,
    environment,
    floor_inputs,
    floor_seconds,
    median,
    objective_seconds,
    objective_setup,
    plain_gemms_seconds,
    seconds_per_evaluation,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_cae import ContractiveAutoencoder

SHAPES = [(8000, 400, 400), (7188, 64, 100)]


def digits_like(N, dtype):
    """scikit-learn's digits scaled to [0, 1], tiled with jitter to N rows."""
    digits = load_digits().data / 16.0
    rng = np.random.RandomState(0)
    rows = digits[np.arange(N) % len(digits)]
    return np.clip(rows + rng.normal(0, 0.02, rows.shape), 0, 1).astype(dtype)


def make_data(N, n, dtype):
    return digits_like(N, dtype) if n == 64 else data(N, n, dtype)


def bench(N, n, k, dtype, repeats, fit_iter):
    X = make_data(N, n, dtype)
    W, H = floor_inputs(X, k)
    theta, kwargs, n_threads = objective_setup(X, k)
    inner = int(min(20, max(3, 4e9 // (N * n * k))))
    cae = ContractiveAutoencoder(k, max_iter=fit_iter, random_state=0)
    mlp = MLPRegressor(
        hidden_layer_sizes=(k,),
        activation="logistic",
        solver="lbfgs",
        max_iter=fit_iter,
        random_state=0,
    )
    keys = (
        *("floor", "full", "split", "split_cpu"),  # floor_seconds's four values, in order
        *("plain", "ours", "ours_cpu", "ours_fit", "mlp", "mlp1"),
    )
    rows = {key: [] for key in keys}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            for key, value in zip(keys[:4], floor_seconds(X, W, H, inner), strict=True):
                rows[key].append(value)
            rows["plain"].append(plain_gemms_seconds(X, W, H, inner))
            wall, cpu = objective_seconds(theta, X, n_threads, kwargs, inner)
            rows["ours"].append(wall)
            rows["ours_cpu"].append(cpu)
            rows["ours_fit"].append(seconds_per_evaluation(cae, X))
            rows["mlp"].append(seconds_per_evaluation(mlp, X, X))
            with threadpool_limits(1, user_api="blas"):
                rows["mlp1"].append(seconds_per_evaluation(mlp, X, X))
    r = {key: np.array(v) for key, v in rows.items()}
    return {
        "shape": f"{N}x{n}x{k}",
        "dtype": np.dtype(dtype).name,
        "floor_ms": 1e3 * median(r["floor"]),
        "full_ms": 1e3 * median(r["full"]),
        "split_ms": 1e3 * median(r["split"]),
        "ours_ms": 1e3 * median(r["ours"]),
        "ours/floor": median(r["ours"] / r["floor"]),
        "cpu/cpu": median(r["ours_cpu"] / r["split_cpu"]),
        "ours_fit_ms": 1e3 * median(r["ours_fit"]),
        "mlp_ms": 1e3 * median(r["mlp"]),
        "ours/MLP": median(r["ours_fit"] / r["mlp"]),
        "MLP/floor": median(r["mlp"] / r["floor"]),
        "ours/MLP1": median(r["ours_fit"] / r["mlp1"]),
        "MLP1/floor": median(r["mlp1"] / r["floor"]),
        "plain_ms": 1e3 * median(r["plain"]),
        "ours/plain": median(r["ours"] / r["plain"]),
        "MLP/plain": median(r["mlp"] / r["plain"]),
        "threads": n_threads,
        "chunk_rows": kwargs["chunk_rows"],
    }


def print_table(results):
    head = (
        "| N x n x k | dtype | floor ms (full / split) | ours ms | **ours/floor** "
        "| CPU ours/floor | ours fit ms/eval | MLP fit ms/eval | **ours/MLP** | MLP/floor "
        "| ours/MLP1 | MLP1/floor | plain ms | ours/plain | MLP/plain | threads x chunk |"
    )
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for r in results:
        print(
            f"| {r['shape']} | {r['dtype']} | {r['floor_ms']:.1f} ({r['full_ms']:.1f} / "
            f"{r['split_ms']:.1f}) | {r['ours_ms']:.1f} | **{r['ours/floor']:.2f}x** | "
            f"{r['cpu/cpu']:.2f}x | "
            f"{r['ours_fit_ms']:.1f} | {r['mlp_ms']:.1f} | **{r['ours/MLP']:.2f}x** | "
            f"{r['MLP/floor']:.2f}x | {r['ours/MLP1']:.2f}x | {r['MLP1/floor']:.2f}x | "
            f"{r['plain_ms']:.1f} | {r['ours/plain']:.2f}x | {r['MLP/plain']:.2f}x | "
            f"{r['threads']} x {r['chunk_rows']} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fit-iter", type=int, default=10, help="L-BFGS iterations per fit")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--shape", type=int, default=0, help="with --profile: index in SHAPES")
    parser.add_argument("--dtype", default="float64", help="with --profile")
    args = parser.parse_args()
    if args.profile:
        N, n, k = SHAPES[args.shape]
        X = make_data(N, n, args.dtype)
        theta, kwargs, n_threads = objective_setup(X, k)
        objective_seconds(theta, X, n_threads, kwargs, args.profile)
        return
    print(environment())
    print()
    results = [
        bench(N, n, k, dtype, args.repeats, args.fit_iter)
        for N, n, k in SHAPES
        for dtype in (np.float64, np.float32)
    ]
    print_table(results)


if __name__ == "__main__":
    main()
