"""The Array API backend on one device: an evaluation, an Adam epoch and an
L-BFGS iteration, each beside its floor or its PyTorch peer, in one run.

    PYTHONPATH=$PWD python benchmarks/bench_gpu.py [--device cuda]
        [--rows 60000] [--components 1000] [--repeats 3]
    PYTHONPATH=$PWD python benchmarks/bench_gpu.py --device cpu --rows 2000 --components 100

Needs PyTorch (the test extra). The workload: 28x28 digit images in [0, 1]
(``bench_solvers.image_digits``, n=784), tied softplus encoder,
cross-entropy, ``contraction=0.1`` (``bench_solvers.MODEL``) with
``n_components`` hidden units, as torch tensors on ``--device``, float32
and float64, with scikit-learn's ``array_api_dispatch`` on. TF32 stays off
(PyTorch's default for matrix products). Per dtype, medians of
``--repeats``, each timing ending with the device synchronised:

- evaluation: one objective and gradient of ours on all rows (the
  backend's ``evaluate``), against the five matrix products of the same
  shapes alone (the floor), and against a PyTorch autograd CAE of the same
  objective written as a PyTorch user would;
- Adam epoch: ``partial_fit`` on a model that has seen a pass already
  (batch 256 and 1024), against one ``torch.optim.Adam`` epoch of the same
  objective;
- L-BFGS iteration: 10 iterations of the L-BFGS written against the
  namespace (``_lbfgs``, what ``fit(solver="lbfgs")`` runs on a device),
  per iteration, split into the objective (its evaluations) and the rest
  (the two-loop recursion and the line search's vector work).
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from _common import device_seconds, environment  # noqa: E402
from bench_solvers import MODEL, image_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_cae import ContractiveAutoencoder, _lbfgs, _objective  # noqa: E402
from sklearn_cae._backends import array_api  # noqa: E402


class TorchCAE:
    """The objective as a PyTorch user writes it: the closed-form penalty,
    autograd for the gradient."""

    def __init__(self, torch, theta, n, k, dtype, device):
        W = theta[: k * n].reshape(k, n)
        self.torch = torch
        self.W = torch.tensor(W, dtype=dtype, device=device, requires_grad=True)
        self.b = torch.zeros(k, dtype=dtype, device=device, requires_grad=True)
        self.c = torch.zeros(n, dtype=dtype, device=device, requires_grad=True)

    def objective(self, rows):
        F = self.torch.nn.functional
        W, b, c = self.W, self.b, self.c
        A = rows @ W.T + b
        Z = F.softplus(A) @ W + c
        rec = (F.softplus(Z) - rows * Z).sum()
        pen = (self.torch.sigmoid(A) ** 2 @ (W * W).sum(1)).sum()
        return (rec + MODEL["contraction"] * pen) / rows.shape[0]

    def evaluation(self, rows):
        self.W.grad = self.b.grad = self.c.grad = None
        self.objective(rows).backward()

    def adam_epoch(self, X, batch_size, optimizer, generator):
        order = self.torch.randperm(X.shape[0], generator=generator).to(X.device)
        for first in range(0, X.shape[0], batch_size):
            J = self.objective(X[order[first : first + batch_size]])
            optimizer.zero_grad(set_to_none=True)
            J.backward()
            optimizer.step()


def five_gemms(X, W):
    """The five products of one evaluation, of the objective's shapes."""
    A = X @ W.T  # forward
    Z = A @ W  # decoder
    P = A.T @ Z  # dJ/dD
    dH = Z @ W.T  # back to the hidden layer
    return P + dH.T @ X  # dJ/dW


def lbfgs_split(model, X, n_iter, sync):
    """Seconds per L-BFGS iteration (the one written against the namespace,
    on the device): ``(all, in the objective)``."""
    settings = model._settings()
    fun, _ = array_api.full_objective(X, settings)
    spent = []

    def timed_fun(theta):
        start = time.perf_counter()
        value = fun(theta)
        sync()
        spent.append(time.perf_counter() - start)
        return value

    theta0 = _objective.initial_theta(
        X.shape[1], settings.n_components, settings.activation, True, np.random.RandomState(0)
    )
    theta = array_api.vector(theta0, X)
    start = time.perf_counter()
    ending = _lbfgs.minimize(timed_fun, theta, max_iter=n_iter, max_fun=20 * n_iter)
    sync()
    total = time.perf_counter() - start
    return total / ending.n_iter, sum(spent) / ending.n_iter


def table_rows(torch, X, k, batch_sizes, repeats, sync):
    """The table's rows for the rows ``X`` (a tensor on the device)."""
    n, dtype = X.shape[1], str(X.dtype).rpartition(".")[2]
    model = dict(MODEL, n_components=k, random_state=0)
    cae = ContractiveAutoencoder(**model)
    settings = cae._settings()
    theta0 = _objective.initial_theta(n, k, settings.activation, True, np.random.RandomState(0))
    theta = array_api.vector(theta0, X)
    ours = device_seconds(lambda: array_api.evaluate(theta, X, settings), sync, repeats)
    W = theta[: k * n].reshape(k, n)
    floor = device_seconds(lambda: five_gemms(X, W), sync, repeats)
    peer = TorchCAE(torch, theta0, n, k, X.dtype, X.device)
    autograd = device_seconds(lambda: peer.evaluation(X), sync, repeats)
    row = f"| {dtype} | evaluation, s | {ours:.4f} |"
    yield f"{row} floor {floor:.4f} | {ours / floor:.2f} |"
    yield f"{row} autograd {autograd:.4f} | {ours / autograd:.2f} |"
    for batch_size in batch_sizes:
        ours, theirs = adam_epochs(torch, X, theta0, model, batch_size, repeats, sync)
        yield (
            f"| {dtype} | Adam epoch, batch {batch_size}, s | {ours:.3f} | "
            f"torch.optim.Adam {theirs:.3f} | {ours / theirs:.2f} |"
        )
    per_iteration, in_objective = lbfgs_split(cae, X, 10, sync)
    rest = per_iteration - in_objective
    yield (
        f"| {dtype} | L-BFGS iteration, s | {per_iteration:.4f} | objective {in_objective:.4f}, "
        f"the rest {rest:.4f} | {per_iteration / in_objective:.2f} |"
    )


def adam_epochs(torch, X, theta0, model, batch_size, repeats, sync):
    """Seconds of one steady-state epoch: ``(ours, torch.optim.Adam's)``."""
    ours = ContractiveAutoencoder(**model, solver="adam", batch_size=batch_size)
    ours.partial_fit(X)
    peer = TorchCAE(torch, theta0, X.shape[1], model["n_components"], X.dtype, X.device)
    optimizer = torch.optim.Adam([peer.W, peer.b, peer.c], lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    generator = torch.Generator().manual_seed(0)
    return (
        device_seconds(lambda: ours.partial_fit(X), sync, repeats),
        device_seconds(lambda: peer.adam_epoch(X, batch_size, optimizer, generator), sync, repeats),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch  # only here: the package imports it only when given a tensor

    warnings.simplefilter("ignore", ConvergenceWarning)  # a few iterations on purpose
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    print(environment())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, device {device} ({name})")
    images = image_digits(args.rows)[0]
    k = args.components
    print(f"{args.rows} x {images.shape[1]} images, k={k}, tied softplus + cross-entropy\n")
    print("| dtype | what | ours | peer | ours/peer |")
    print("|---|---|---|---|---|")
    for dtype in args.dtypes:
        X = torch.asarray(images.astype(dtype), device=device)
        with sklearn.config_context(array_api_dispatch=True):
            for row in table_rows(torch, X, k, args.batch_sizes, args.repeats, sync):
                print(row, flush=True)


if __name__ == "__main__":
    main()
