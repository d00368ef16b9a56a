"""Time per evaluation against the number of samples (issue 3, target 5).

    PYTHONPATH=$PWD python benchmarks/bench_scaling.py [--repeats 3]

``n=400, k=400`` float64, default settings; each row the median of the
repeats. Linear in ``N`` means a constant time per 1000 rows.
"""

import argparse
import time

import numpy as np
from _common import data, environment, floor_inputs, floor_seconds, median, objective_setup

from sklearn_cae import _objective


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--k", type=int, default=400)
    parser.add_argument("--dtype", default="float64")
    args = parser.parse_args()
    n, k = args.n, args.k
    print(environment())
    print(f"\nn={n}, k={k}, {args.dtype}\n")
    print("| N | chunk rows | floor ms | ours ms | ours ms per 1000 rows | ours/floor |")
    print("|---|---|---|---|---|---|")
    for N in (2_000, 8_000, 32_000, 128_000):
        X = data(N, n, args.dtype)
        W, H = floor_inputs(X, k)
        theta, kwargs, n_threads = objective_setup(X, k)
        floors, ours = [], []
        with _objective.Workspace(n_threads) as ws:
            _objective.loss_and_grad(theta, X, workspace=ws, **kwargs)  # warm the buffers
            for _ in range(args.repeats):
                floors.append(floor_seconds(X, W, H)[0])
                t0 = time.perf_counter()
                _objective.loss_and_grad(theta, X, workspace=ws, **kwargs)
                ours.append(time.perf_counter() - t0)
        ratio = median(np.array(ours) / np.array(floors))
        print(
            f"| {N} | {kwargs['chunk_rows']} | {1e3 * median(floors):.0f} | "
            f"{1e3 * median(ours):.0f} | {1e6 * median(ours) / N:.1f} | {ratio:.2f}x |"
        )
        del X, H


if __name__ == "__main__":
    main()
