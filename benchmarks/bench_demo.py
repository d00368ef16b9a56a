"""How long the demo takes, and whether --quick shows the CAE's effect for
other seeds than the one it uses.

1. Runs ``python -m sklearn_cae --quick`` and ``python -m sklearn_cae`` as a
   user does (fresh processes, imports included), ``--repeats`` times each,
   alternating, and prints the median wall and CPU times next to the
   durations that ``--help`` and the README quote
   (``sklearn_cae.__main__.DURATIONS``).
2. With ``--seeds N``, runs the quick demo's steps with seeds ``0..N-1``
   (the data subset, the split and the autoencoders' initialisations) and prints, per
   seed, what the quick demo's test holds for seed 0: the chosen
   contraction, the test macro-F1 of the plain AE and the CAE, and the
   diagnostics of the CAE, the plain AE and the AE with weight decay.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/bench_demo.py --repeats 3 --seeds 4
"""

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
from _common import environment

from sklearn_cae.__main__ import DURATIONS, print_table, run_digits, single_threaded_blas


def run_demo(options):
    """Wall and CPU seconds of ``python -m sklearn_cae *options`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sklearn_cae", *options],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ | {"PYTHONPATH": os.getcwd()},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def durations(repeats):
    runs = {"quick": [], "full": []}
    for _ in range(repeats):
        for name, options in (("quick", ["--quick"]), ("full", [])):
            runs[name].append(run_demo(options))
    rows = []
    for name, times in runs.items():
        wall, cpu = np.median(times, axis=0)
        command = "python -m sklearn_cae" + (" --quick" if name == "quick" else "")
        walls = " ".join(f"{w:.1f}" for w, _ in times)
        rows.append((command, DURATIONS[name], f"{wall:.1f}", f"{cpu:.1f}", walls))
    header = (
        "command",
        "--help and README say",
        "median wall (s)",
        "median CPU (s)",
        "wall per run",
    )
    print_table(header, rows)


def seeds(n_seeds):
    args = SimpleNamespace(quick=True, n_components=100, plot=None)
    rows = []
    for seed in range(n_seeds):
        with contextlib.redirect_stdout(io.StringIO()), single_threaded_blas():
            r = run_digits(args, None, seed=seed)
        d = r["diagnostics"]
        jac = [d[m]["jacobian_norm"] for m in ("CAE", "AE", "AE + weight decay")]
        sat = [d[m]["saturation"] for m in ("CAE", "AE", "AE + weight decay")]
        holds = (
            r["best_contraction"] > 0
            and r["test_f1"]["CAE"] > r["test_f1"]["plain AE"]
            and jac[0] < min(jac[1:])
            and sat[0] > max(sat[1:])
        )
        rows.append(
            (
                str(seed),
                f"{r['best_contraction']:g}",
                f"{r['test_f1']['plain AE']:.4f} / {r['test_f1']['CAE']:.4f}",
                " / ".join(f"{j:.2f}" for j in jac),
                " / ".join(f"{100 * s:.1f} %" for s in sat),
                "yes" if holds else "NO",
            )
        )
    header = (
        "seed",
        "chosen contraction",
        "test macro-F1 plain AE / CAE",
        "mean ||J||_F CAE / AE / AE+wd",
        "SAT CAE / AE / AE+wd",
        "direction holds",
    )
    print_table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command")
    parser.add_argument("--seeds", type=int, default=0, help="seeds of the quick demo to check")
    args = parser.parse_args()
    print(environment() + "\n")
    if args.repeats:
        durations(args.repeats)
    if args.seeds:
        seeds(args.seeds)


if __name__ == "__main__":
    main()
