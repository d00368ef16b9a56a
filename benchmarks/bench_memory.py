"""Peak resident memory of ``fit`` above the loaded data (issue 3, target 4).

    PYTHONPATH=$PWD python benchmarks/bench_memory.py [--N 200000]

Each row runs in a fresh subprocess: build ``X`` (float64, uniform), record
the resident set size, fit ``ContractiveAutoencoder(n_components=256,
max_iter=3)``, and report the peak resident set size (``ru_maxrss``) minus
the size before the fit. The last row is one full-batch evaluation
(``chunk_rows=N``, what an unchunked implementation holds at once) for
comparison.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import warnings

MiB = 2**20


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(N, n, k, working_memory):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_cae import ContractiveAutoencoder, _objective
    from sklearn_cae._backends import inprocess

    X = np.random.RandomState(0).random_sample((N, n))
    cae = ContractiveAutoencoder(k, max_iter=3, random_state=0)
    if working_memory != "full":
        cae.set_params(working_memory=float(working_memory))
    before = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if working_memory == "full":
        theta = _objective.initial_theta(n, k, "logistic", True, np.random.RandomState(0))
        kwargs = dict(activation="logistic", loss="squared_error", tied=True)
        _objective.loss_and_grad(
            theta, X, n_components=k, contraction=0.1, alpha=0.0, chunk_rows=N, **kwargs
        )
        chunk = N
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cae.fit(X)
        chunk = inprocess.chunk_rows(X, cae._settings(), inprocess.n_threads(N))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "data_mib": X.nbytes / MiB,
        "growth_mib": (peak - before) / MiB,
        "peak_before_mib": peak_before / MiB,
        "before_mib": before / MiB,
        "chunk_rows": chunk,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=200_000)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--child", nargs=1)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.N, args.n, args.k, args.child[0])))
        return
    print(f"N={args.N}, n={args.n}, k={args.k}, float64, fit(max_iter=3)")
    print()
    print("| working_memory (MiB) | chunk rows | data MiB | peak RSS growth of fit, MiB |")
    print("|---|---|---|---|")
    for wm in ["128 (default)", "8", "2", "full"]:
        out = subprocess.run(
            [sys.executable, __file__, "--N", str(args.N), "--n", str(args.n)]
            + ["--k", str(args.k), "--child", wm.split()[0]],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        label = "one full-batch evaluation" if wm == "full" else wm
        print(f"| {label} | {r['chunk_rows']} | {r['data_mib']:.0f} | **{r['growth_mib']:.0f}** |")


if __name__ == "__main__":
    main()
