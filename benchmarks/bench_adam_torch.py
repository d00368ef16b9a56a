"""Adam's epoch against PyTorch's on the same CPU, same objective, same work.

    PYTHONPATH=$PWD python benchmarks/bench_adam_torch.py [--rows 20000]
        [--batch-sizes 64 128 256 512] [--repeats 3]

Needs PyTorch (``pip install torch``), for this benchmark only. The
workload of bench_solvers.py: 28x28 digit images in [0, 1], tied softplus
encoder, cross-entropy, ``n_components=200``, ``contraction=0.1``, Adam's
defaults (``learning_rate_init=3e-3``), shuffled minibatches. PyTorch
minimises the same objective (the closed-form penalty
``sum_j sigmoid(a_ij)^2 ||W_j||^2``, differentiated by autograd) with
``torch.optim.Adam``, on as many threads as BLAS allows here.

Per batch size and dtype, in one run, alternated, medians of ``--repeats``:

- steady state: one epoch, ``partial_fit(X)`` on a model that has seen a
  pass already, against one PyTorch epoch;
- as a user times it: ``fit(solver="adam", max_iter=3)`` (its final
  objective pass included) against three PyTorch epochs from a new model;
- the floor: the five matrix products of every minibatch of an epoch
  (``X W^T``, ``H D``, ``E D^T``, ``H^T E``, ``dA^T X``), timed alone with
  numpy on the same threads.
"""

import argparse
import time
import warnings

import numpy as np
from _common import environment, median, settle
from bench_solvers import MODEL, image_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from sklearn_cae import ContractiveAutoencoder, _objective


def _torch_epochs(torch, X, batch_size, n_epochs, seed=0):
    """Seconds for ``n_epochs`` PyTorch Adam epochs of the same CAE."""
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    cae = ContractiveAutoencoder(**MODEL)
    init = _objective.initial_theta(
        X.shape[1], cae.n_components, cae.activation, cae.tied_weights, np.random.RandomState(seed)
    )
    k, n = MODEL["n_components"], X.shape[1]
    W = torch.tensor(init[: k * n].reshape(k, n), dtype=dtype, requires_grad=True)
    b = torch.zeros(k, dtype=dtype, requires_grad=True)
    c = torch.zeros(n, dtype=dtype, requires_grad=True)
    optimizer = torch.optim.Adam([W, b, c], lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    data = torch.from_numpy(X)
    generator = torch.Generator().manual_seed(seed)
    contraction = MODEL["contraction"]
    start = time.perf_counter()
    for _ in range(n_epochs):
        order = torch.randperm(X.shape[0], generator=generator)
        for first in range(0, X.shape[0], batch_size):
            rows = data[order[first : first + batch_size]]
            A = rows @ W.T + b
            Z = torch.nn.functional.softplus(A) @ W + c
            rec = (torch.nn.functional.softplus(Z) - rows * Z).sum()
            pen = (torch.sigmoid(A) ** 2 @ (W * W).sum(1)).sum()
            J = (rec + contraction * pen) / rows.shape[0]
            optimizer.zero_grad(set_to_none=True)
            J.backward()
            optimizer.step()
    return time.perf_counter() - start


def _gemm_floor(X, batch_size):
    """Seconds for the five products of every minibatch of one epoch."""
    k, n = MODEL["n_components"], X.shape[1]
    rng = np.random.RandomState(0)
    W = (rng.standard_normal((k, n)) * 0.05).astype(X.dtype)
    H = np.empty((batch_size, k), X.dtype)
    E = np.empty((batch_size, n), X.dtype)
    P = np.empty((k, n), X.dtype)
    start = time.perf_counter()
    for first in range(0, X.shape[0], batch_size):
        rows = X[first : first + batch_size]
        m = rows.shape[0]
        h, e = H[:m], E[:m]
        np.matmul(rows, W.T, out=h)
        np.matmul(h, W, out=e)
        np.matmul(e, W.T, out=h)
        np.matmul(h.T, e, out=P)
        np.matmul(h.T, rows, out=P)
    return time.perf_counter() - start


def _ours_epoch(X, batch_size):
    model = ContractiveAutoencoder(**MODEL, solver="adam", batch_size=batch_size, random_state=0)
    model.partial_fit(X)
    settle()
    start = time.perf_counter()
    model.partial_fit(X)
    return time.perf_counter() - start


def _ours_fit(X, batch_size):
    model = ContractiveAutoencoder(
        **MODEL, solver="adam", batch_size=batch_size, max_iter=3, random_state=0
    )
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch  # only here: the package never imports it

    warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs on purpose
    blas = min(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
    torch.set_num_threads(blas)
    print(environment())
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"model: {MODEL}, {args.rows} rows of 28x28 image digits\n")
    print(
        "| dtype | batch | ours s/epoch | PyTorch s/epoch | ratio | 5-GEMM floor s/epoch "
        "| ours / floor | ours fit(max_iter=3) s | PyTorch 3 epochs s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    X32, _ = image_digits(args.rows)
    for dtype in (np.float32, np.float64):
        X = X32.astype(dtype)
        for batch_size in args.batch_sizes:
            times = {key: [] for key in ("ours", "torch", "floor", "fit", "torch3")}
            for _ in range(args.repeats):
                times["ours"].append(_ours_epoch(X, batch_size))
                _torch_epochs(torch, X, batch_size, 1)  # warm
                settle()
                times["torch"].append(_torch_epochs(torch, X, batch_size, 1))
                settle()
                times["floor"].append(_gemm_floor(X, batch_size))
                settle()
                times["fit"].append(_ours_fit(X, batch_size))
                settle()
                times["torch3"].append(_torch_epochs(torch, X, batch_size, 3))
            t = {key: median(value) for key, value in times.items()}
            print(
                f"| {np.dtype(dtype).name} | {batch_size} | {t['ours']:.2f} | {t['torch']:.2f} "
                f"| {t['ours'] / t['torch']:.2f} | {t['floor']:.2f} | {t['ours'] / t['floor']:.2f} "
                f"| {t['fit']:.2f} | {t['torch3']:.2f} | {t['fit'] / t['torch3']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
