"""Time per evaluation against the number of samples (issue 3, target 5).

    PYTHONPATH=$PWD python benchmarks/bench_scaling.py [--repeats 5]

``n=400, k=400`` float64, default settings. The sizes take turns within each
repeat (so a change in the machine's load hits them all alike); each row is
the median over the repeats. Linear in ``N`` means a constant time per 1000
rows, and a constant ratio to the floor (whose GEMMs are linear in ``N``).
"""

import argparse

import numpy as np
from _common import (
    data,
    environment,
    floor_inputs,
    floor_seconds,
    median,
    objective_seconds,
    objective_setup,
)

SIZES = (2_000, 8_000, 32_000, 128_000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--k", type=int, default=400)
    parser.add_argument("--dtype", default="float64")
    args = parser.parse_args()
    n, k = args.n, args.k
    print(environment())
    print(f"\nn={n}, k={k}, {args.dtype}\n")
    cases = {}
    for N in SIZES:
        X = data(N, n, args.dtype)
        theta, kwargs, n_threads = objective_setup(X, k)
        cases[N] = (X, *floor_inputs(X, k), theta, kwargs, n_threads)
    floors = {N: [] for N in SIZES}
    ours = {N: [] for N in SIZES}
    for _ in range(args.repeats):
        for N, (X, W, H, theta, kwargs, n_threads) in cases.items():
            floors[N].append(floor_seconds(X, W, H)[0])
            ours[N].append(objective_seconds(theta, X, n_threads, kwargs, 1)[0])
    print("| N | chunk rows | floor ms | ours ms | ours ms per 1000 rows | ours/floor |")
    print("|---|---|---|---|---|---|")
    for N in SIZES:
        ratio = median(np.array(ours[N]) / np.array(floors[N]))
        print(
            f"| {N} | {cases[N][4]['chunk_rows']} | {1e3 * median(floors[N]):.0f} | "
            f"{1e3 * median(ours[N]):.0f} | {1e6 * median(ours[N]) / N:.1f} | {ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
