"""Out of core: stream a np.memmap of 1,000,000+ rows through partial_fit.

    PYTHONPATH=$PWD python benchmarks/bench_out_of_core.py [--rows 1000000]
        [--chunk 10000] [--path /tmp/sklearn_cae_out_of_core.f32]

The file holds ``--rows`` 28x28 image digits in [0, 1], float32 (written once,
block by block, and reused while its size matches). One epoch: each chunk
of ``--chunk`` rows is mapped with its own ``np.memmap`` (as if read from
its own file), passed to ``partial_fit`` of
``ContractiveAutoencoder(--k, activation="softplus", loss="cross_entropy",
solver="adam")`` and unmapped. A thread samples the process's resident set
(``VmRSS``, every 10 ms) and tracemalloc traces numpy's allocations; both
peaks are reported above their level before streaming, after the first
10% of the rows and after all of them: memory that stays flat while the
rows grow tenfold is bounded by the chunk, not the data.
"""

import argparse
import os
import threading
import time
import tracemalloc

import numpy as np
from _common import environment
from bench_solvers import image_digits

from sklearn_cae import ContractiveAutoencoder

MiB = 2**20


def rss():
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


class PeakRSS(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = rss(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(0.01)


def write(path, rows, block=50_000):
    size = rows * 784 * 4
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, 784))
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        mm[start:stop] = image_digits(stop - start, seed=start)[0]
    mm.flush()
    del mm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--path", default="/tmp/sklearn_cae_out_of_core.f32")
    args = parser.parse_args()
    print(environment())
    t0 = time.perf_counter()
    write(args.path, args.rows)
    print(
        f"data: {args.path}, {args.rows:,} x 784 float32 ({args.rows * 784 * 4 / MiB:,.0f} MiB), "
        f"ready in {time.perf_counter() - t0:.0f} s"
    )
    cae = ContractiveAutoencoder(
        args.k, activation="softplus", loss="cross_entropy", solver="adam", random_state=0
    )
    tracemalloc.start()
    base_rss, base_traced = rss(), tracemalloc.get_traced_memory()[0]
    sampler = PeakRSS()
    sampler.start()
    marks = {args.rows // 10: "10%", args.rows: "100%"}
    results = []
    t0 = time.perf_counter()
    for start in range(0, args.rows, args.chunk):
        stop = min(start + args.chunk, args.rows)
        chunk = np.memmap(
            args.path, dtype=np.float32, mode="r", offset=start * 784 * 4, shape=(stop - start, 784)
        )
        cae.partial_fit(chunk)
        del chunk
        for mark, name in marks.items():
            if start < mark <= stop:
                peak_traced = tracemalloc.get_traced_memory()[1] - base_traced
                results.append(
                    (
                        name,
                        stop,
                        time.perf_counter() - t0,
                        sampler.peak - base_rss,
                        peak_traced,
                        cae.loss_,
                    )
                )
    sampler.running = False
    sampler.join()
    chunk_mib = args.chunk * 784 * 4 / MiB
    print(
        f"chunk: {args.chunk:,} rows = {chunk_mib:.1f} MiB; n_components={args.k}; "
        f"batch_size={cae.batch_size}; working_memory={cae.working_memory} MiB\n"
    )
    print(
        "| rows streamed | time (s) | rows/s | peak RSS above start (MiB) "
        "| peak numpy allocations (MiB) | epoch loss of the last chunk |"
    )
    print("|---|---|---|---|---|---|")
    for name, rows, seconds, peak_rss, peak_traced, loss in results:
        print(
            f"| {rows:,} ({name}) | {seconds:.0f} | {rows / seconds:,.0f} | {peak_rss / MiB:.0f} "
            f"| {peak_traced / MiB:.0f} | {loss:.2f} |"
        )


if __name__ == "__main__":
    main()
