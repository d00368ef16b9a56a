"""Every warning a call emits, whatever the test configuration filters."""

import contextlib
import warnings


@contextlib.contextmanager
def only_the_interrupt_warning():
    """Asserts that the block warns "Training interrupted by user." and
    nothing else: no ConvergenceWarning (which the test configuration
    ignores everywhere) after an interrupt."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, "Training interrupted by user.")
    ]
