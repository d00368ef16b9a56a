"""The demo, ``python -m sklearn_cae``, run through ``main([...])``."""

import sys

import numpy as np
import pytest

from sklearn_cae.__main__ import load_user_data, main

FIGURES = {
    "filters_cae.png",
    "filters_ae.png",
    "reconstructions.png",
    "jacobian_spectra.png",
    "seed_picture.png",
}


def test_quick_demo_prints_every_table_and_writes_figures(tmp_path, capsys):
    main(["--quick", "--plot", str(tmp_path)])
    out = capsys.readouterr().out
    for expected in [
        "s) grid search of contraction",
        "| contraction | mean CV macro-F1",
        "best contraction:",
        "BernoulliRBM(100) + LogisticRegression(C=6000)",
        "plain AE (softplus, contraction=0)",
        "mean ||J(x)||_F",
        "SAT",
        "||J u1|| (along the data)",
        "largest principal angle",
        "[11/11] (",
    ]:
        assert expected in out
    # matplotlib is in the test extra: the figures are always written here
    # (test_without_matplotlib_the_demo_says_so covers its absence).
    written = {p.name for p in tmp_path.iterdir()}
    assert written == FIGURES
    assert all((tmp_path / name).stat().st_size > 1000 for name in FIGURES)


def small_data(seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(60, 1) * rng.rand(1, 9) + 0.05 * rng.rand(60, 9)  # near a line


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_user_data_runs_the_unsupervised_part(tmp_path, capsys, suffix):
    X = 10.0 * small_data()  # not in [0, 1]: the demo scales it
    path = tmp_path / f"mine{suffix}"
    if suffix == ".npy":
        np.save(path, X)
    else:
        np.savetxt(path, X, delimiter=",", header=",".join(f"f{i}" for i in range(9)))
    assert np.allclose(load_user_data(path), X)
    main(["--data", str(path), "--quick", "--n-components", "4"])
    out = capsys.readouterr().out
    assert "60 samples, 9 features" in out
    assert "CAE (contraction=0.1)" in out
    assert "AE + weight decay" in out
    assert "digits" not in out  # the digits part did not run


def test_user_data_figures_with_a_3x3_image(tmp_path, capsys):
    path = tmp_path / "mine.npy"
    np.save(path, small_data())
    main(["--data", str(path), "--quick", "--n-components", "4", "--plot", str(tmp_path)])
    written = {p.name for p in tmp_path.iterdir()} - {"mine.npy"}
    assert written == {"jacobian_spectra.png", "filters_cae.png", "reconstructions.png"}


def test_without_matplotlib_the_demo_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    path = tmp_path / "mine.npy"
    np.save(path, small_data())
    main(["--data", str(path), "--quick", "--n-components", "4", "--plot", str(tmp_path / "f")])
    out = capsys.readouterr().out
    assert 'matplotlib is not installed, so no figures were written: pip install ".[plot]"' in out
    assert not (tmp_path / "f").exists()
    assert "mean ||J(x)||_F" in out  # the rest still ran


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ["--quick", "--plot DIR", "--data FILE", "--n-components K", "matplotlib"]:
        assert option in out


def test_bad_user_data_is_rejected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,oops\n")
    with pytest.raises(ValueError, match="finite numbers"):
        load_user_data(path)
