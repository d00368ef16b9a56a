"""Where the rows live: one module per place, each building the objective
and the sums over its rows from the same kernels of ``_objective``.

- ``inprocess``: numpy arrays and scipy.sparse matrices in this process.
"""
