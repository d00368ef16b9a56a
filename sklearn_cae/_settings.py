"""The estimator's parameters as one frozen value, built once per call and
handed to the modules below the estimator instead of the estimator itself."""

from dataclasses import dataclass

#: Parameters that the estimator itself acts on, never the modules below it:
#: ``random_state`` becomes a RandomState per call, ``warm_start`` picks the
#: starting point.
ESTIMATOR_ONLY = frozenset({"random_state", "warm_start"})


@dataclass(frozen=True)
class Settings:
    """What a fit, an objective or a chunk budget needs to know of the
    estimator's parameters (their meaning is in its docstring). Never stored
    on the estimator: pickles and skops files hold its parameters only."""

    # the objective
    n_components: int
    activation: str
    loss: str
    tied: bool  # the parameter tied_weights
    contraction: float
    alpha: float
    hessian_penalty: float
    n_corruptions: int
    corruption_std: float
    # memory
    working_memory: float
    # training
    solver: str
    max_iter: int
    max_fun: int
    tol: float
    n_iter_no_change: int
    early_stopping: bool
    validation_fraction: float
    verbose: int
    batch_size: object  # "auto" or an int
    learning_rate_init: float
    beta_1: float
    beta_2: float
    epsilon: float
    shuffle: bool

    @classmethod
    def from_params(cls, params):
        """The settings of the parameters ``params`` (``get_params(deep=False)``):
        the objective's weights as Python floats, as its arithmetic takes them
        (an int, or a numpy scalar from a grid, behaves as the float)."""
        given = {name: value for name, value in params.items() if name not in ESTIMATOR_ONLY}
        given["tied"] = given.pop("tied_weights")
        for name in ("contraction", "alpha", "hessian_penalty", "corruption_std"):
            given[name] = float(given[name])
        return cls(**given)
