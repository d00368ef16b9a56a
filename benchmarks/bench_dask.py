"""The same fit in memory and on a dask cluster; what an evaluation costs
on the cluster; and the scale-on-paper table it implies.

    PYTHONPATH=$PWD python benchmarks/bench_dask.py [--rows 100000] [--max-iter 10]

1. Equality and time: ``ContractiveAutoencoder(256, max_iter, tol=0)`` on
   ``rows x 200`` uniform float32 data, in memory (threaded, as ``fit``
   runs by default) and as a dask array in 8 row blocks persisted on a
   ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
   processes=True)``, as many blocks on each worker (the transfer to the
   workers is not timed; the fit's own validation pass and persist are).
   The same comparison in float64 at a tenth of the rows gives the
   equality at full precision.
2. Fixed cost per evaluation at small sizes (best of ``--repeats``): one evaluation of the
   objective on a tiny array (1000 x 20, k=16) in memory and on the
   cluster, for 2, 8 and 32 blocks, and the time to scatter a parameter
   vector to both workers by size.
3. Scale on paper: the time per evaluation at 10^8 rows x 784 features,
   k=1000, float32, on P workers of one core each, from the measured
   single-core compute per row at that shape, the measured fixed cost per
   block, and a stated network bandwidth (10 Gbit/s per worker link).
"""

import argparse
import time

import dask.array as da
import numpy as np
import scipy.optimize
from _common import data, environment, median
from distributed import Client, LocalCluster
from threadpoolctl import threadpool_limits

from sklearn_cae import ContractiveAutoencoder, _objective
from sklearn_cae._backends import dask as dask_backend

BANDWIDTH = 1.25e9  # bytes/s: a 10 Gbit/s link per worker
LATENCY = 1e-3  # s per transfer round (a data-centre round trip, with dask's messaging)


def on_workers(client, X, n_blocks):
    """``X`` as a dask array of ``n_blocks`` row blocks, dealt to the workers in turn."""
    workers = sorted(client.scheduler_info()["workers"])
    size = -(-X.shape[0] // n_blocks)
    blocks = []
    for i, start in enumerate(range(0, X.shape[0], size)):
        block = X[start : start + size]
        future = client.scatter(block, workers=[workers[i % len(workers)]])
        blocks.append(da.from_delayed(future, shape=block.shape, dtype=X.dtype))
    return da.concatenate(blocks)


def fit_both(client, X, n_components, max_iter, n_blocks, repeats):
    """The same fit in memory and on the cluster, ``repeats`` times in turn:
    median seconds, and the differences of the results."""
    params = dict(n_components=n_components, max_iter=max_iter, tol=0.0, random_state=0)
    dX = on_workers(client, X, n_blocks)
    seconds = {"local": [], "cluster": []}
    for _ in range(repeats):
        for where, data_ in (("local", X), ("cluster", dX)):
            t0 = time.perf_counter()
            fitted = ContractiveAutoencoder(**params).fit(data_)
            seconds[where].append(time.perf_counter() - t0)
            if where == "local":
                local = fitted
    remote = fitted
    names = ("components_", "intercept_hidden_", "intercept_visible_")
    param_diff = max(
        float(
            np.max(np.abs(getattr(remote, a) - getattr(local, a)) / (1 + np.abs(getattr(local, a))))
        )
        for a in names
    )
    local_s, cluster_s = median(seconds["local"]), median(seconds["cluster"])
    return {
        "local_s": local_s,
        "cluster_s": cluster_s,
        "ratio": cluster_s / local_s,
        "loss_rel": abs(remote.loss_ - local.loss_) / abs(local.loss_),
        "param_diff": param_diff,
        "n_iter": (local.n_iter_, remote.n_iter_),
    }


def objective_settings(k, chunk_rows):
    """``loss_and_grad_sums``'s settings: the defaults, tied, ``k`` units."""
    return dict(
        n_components=k,
        activation="logistic",
        loss="squared_error",
        tied=True,
        contraction=0.1,
        chunk_rows=chunk_rows,
    )


def evaluation_seconds(fun, theta, repeats):
    fun(theta)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fun(theta)
        times.append(time.perf_counter() - t0)
    return min(times)  # the cost without the shared machine's other load


def fixed_costs(client, repeats):
    """Seconds per evaluation on a tiny array: in memory, and on the
    cluster by number of blocks; scatter time by vector size."""
    X = data(1000, 20, np.float64)
    settings = objective_settings(16, chunk_rows=1000)
    theta = np.random.RandomState(0).uniform(-0.1, 0.1, _objective.n_params(20, 16, True))
    rows = {
        "in memory": evaluation_seconds(
            lambda t: _objective.loss_and_grad(t, X, alpha=0.0, **settings), theta, repeats
        )
    }
    for n_blocks in (2, 8, 32):
        dX = da.from_array(X, chunks=(1000 // n_blocks, -1)).persist()
        fun = dask_backend.Objective(dX, alpha=0.0, **settings)
        rows[f"cluster, {n_blocks} blocks"] = evaluation_seconds(fun, theta, repeats)
    scatter = {}
    for size in (10**4, 10**5, 10**6):
        vector = np.ones(size)
        scatter[size] = evaluation_seconds(lambda v: dask_backend.broadcast(v), vector, repeats)
    return rows, scatter


def compute_seconds_per_row(n, k, rows=2000, repeats=3):
    """One core's time per row of an evaluation at ``n x k`` float32."""
    X = data(rows, n, np.float32)
    theta = np.random.RandomState(0).uniform(-0.05, 0.05, _objective.n_params(n, k, True))
    settings = objective_settings(k, chunk_rows=512)
    with threadpool_limits(1, user_api="blas"):
        seconds = evaluation_seconds(
            lambda t: _objective.loss_and_grad_sums(t, X, **settings), theta, repeats
        )
    return seconds / rows


def lbfgs_seconds_per_iteration(n_params, iterations=20):
    """scipy's L-BFGS-B on the client, its own work per iteration (a cheap
    quadratic stands in for the objective)."""
    scale = np.linspace(1.0, 100.0, n_params)

    def quadratic(x):
        return 0.5 * float(x @ (scale * x)), scale * x

    x0 = np.ones(n_params)
    with threadpool_limits(1, user_api="blas"):  # as in fit (3x faster than 2 threads here)
        t0 = time.perf_counter()
        result = scipy.optimize.minimize(
            quadratic, x0, jac=True, method="L-BFGS-B", options={"maxiter": iterations, "gtol": 0}
        )
        elapsed = time.perf_counter() - t0
        quadratic_cost = evaluation_seconds(quadratic, x0, 3)
    return (elapsed - result.nfev * quadratic_cost) / result.nit


def on_paper(seconds_per_row, per_block, lbfgs_s, N=10**8, n=784, k=1000):
    """Seconds per evaluation on P one-core workers, one block each."""
    vector_bytes = 8 * _objective.n_params(n, k, True)
    lines = []
    for P in (10, 100, 1000):
        compute = N / P * seconds_per_row
        # scatter(broadcast=True): the scheduler places one copy, then copies
        # spread with a branching factor of 2 (three holders per round).
        rounds = int(np.ceil(np.log(P) / np.log(3)))
        broadcast = rounds * (2 * vector_bytes / BANDWIDTH + LATENCY)
        levels = int(np.ceil(np.log(P) / np.log(dask_backend.FAN_IN)))
        reduce = levels * (dask_backend.FAN_IN * vector_bytes / BANDWIDTH + LATENCY)
        reduce += vector_bytes / BANDWIDTH  # the total to the client
        tasks = P + sum(-(-P // dask_backend.FAN_IN**i) for i in range(1, levels + 1))
        scheduler = tasks * per_block
        total = compute + broadcast + reduce + scheduler + lbfgs_s
        lines.append((P, compute, broadcast, reduce, scheduler, lbfgs_s, total))
    return vector_bytes, lines


def header(*columns):
    """Print a markdown table's header."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--components", type=int, default=256)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fit-repeats", type=int, default=3)
    args = parser.parse_args()
    print(environment())
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        # Warm-up: the workers import sklearn_cae on their first task.
        warm = da.from_array(data(100, 4, np.float64), chunks=(50, -1))
        ContractiveAutoencoder(2, max_iter=1).fit(warm)
        print("\n## Same fit in memory and on LocalCluster(2 workers x 1 thread), ", end="")
        print(f"max_iter={args.max_iter}, tol=0\n")
        header(
            *("data", "in memory (s)", "cluster (s)", "ratio"),
            *("loss_ rel. diff", "max param diff", "iterations"),
        )
        for rows, dtype in ((args.rows, np.float32), (args.rows // 10, np.float64)):
            X = data(rows, args.features, dtype)
            r = fit_both(client, X, args.components, args.max_iter, 8, args.fit_repeats)
            print(
                f"| {rows} x {args.features} {np.dtype(dtype).name}, k={args.components} "
                f"| {r['local_s']:.2f} | {r['cluster_s']:.2f} | {r['ratio']:.2f} "
                f"| {r['loss_rel']:.1e} | {r['param_diff']:.1e} "
                f"| {r['n_iter'][0]}, {r['n_iter'][1]} |"
            )

        evaluations, scatter = fixed_costs(client, args.repeats)
    print("\n## One evaluation at 1000 x 20, k=16 (best of", args.repeats, "runs)\n")
    header("where", "ms per evaluation")
    for name, seconds in evaluations.items():
        print(f"| {name} | {1e3 * seconds:.1f} |")
    print()
    header("scatter(broadcast=True) of float64 values", "ms")
    for size, seconds in scatter.items():
        print(f"| {size:,} | {1e3 * seconds:.1f} |")
    per_block = (evaluations["cluster, 32 blocks"] - evaluations["cluster, 2 blocks"]) / 30
    print(f"\nper block (32 vs 2 blocks): {1e3 * per_block:.2f} ms")

    seconds_per_row = compute_seconds_per_row(784, 1000)
    lbfgs_s = lbfgs_seconds_per_iteration(_objective.n_params(784, 1000, True))
    vector_bytes, lines = on_paper(seconds_per_row, per_block, lbfgs_s)
    print(
        f"\n## On paper: 10^8 x 784 float32, k=1000, one block per one-core worker\n\n"
        f"measured: {1e6 * seconds_per_row:.1f} us per row per core at 784 x 1000; "
        f"L-BFGS-B on the client {1e3 * lbfgs_s:.0f} ms per iteration; parameters "
        f"{vector_bytes / 1e6:.1f} MB; assumed {BANDWIDTH * 8 / 1e9:.0f} Gbit/s per link, "
        f"{1e3 * LATENCY:.0f} ms per transfer round\n"
    )
    header(
        *("workers", "compute (s)", "broadcast (s)", "tree-sum (s)"),
        *("scheduler (s)", "L-BFGS-B (s)", "total (s)"),
    )
    for P, *seconds in lines:
        print(f"| {P} | " + " | ".join(f"{s:.2f}" for s in seconds) + " |")
    # compute N t / P falls, the scheduler's ~P * FAN_IN / (FAN_IN - 1) tasks
    # grow: their sum is smallest where they are equal.
    tasks_per_worker = dask_backend.FAN_IN / (dask_backend.FAN_IN - 1)
    best = np.sqrt(10**8 * seconds_per_row / (per_block * tasks_per_worker))
    print(f"\nstops scaling near {best:.0f} workers (compute = scheduler time)")


if __name__ == "__main__":
    main()
