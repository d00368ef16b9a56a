"""The demo, ``python -m sklearn_cae``, run through ``main([...])``."""

import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_cae.__main__ import DURATIONS, load_user_data, main

FIGURES = {
    "filters_cae.png",
    "filters_ae.png",
    "reconstructions.png",
    "jacobian_spectra.png",
    "seed_picture.png",
}


def test_quick_demo_shows_what_a_cae_does_and_writes_figures(tmp_path, capsys):
    # One run of the quick demo (fixed seeds) serves every check, to keep the
    # suite fast. The margins asserted are several times smaller than those
    # measured with seeds 0-3 (benchmarks/bench_demo.py --seeds 4), so the
    # direction does not hang on a lucky seed.
    results = main(["--quick", "--plot", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())  # the explanations wrap at 100
    for expected in [
        "s) grid search of contraction",
        "| contraction | mean CV macro-F1",
        "Chosen: contraction=",
        "BernoulliRBM(100) (C=6000)",
        "plain AE (softplus, contraction=0)",
        "mean ||J||_F",
        "SAT, the share of codes within 5 % of 0 or 1",
        "(perfect reconstruction)",
        "||J u1|| (along the data)",
        "largest principal angle",
        "[11/11] (",
    ]:
        assert expected in out
    # The PCA limit: the tied identity CAE spans PCA's subspace (measured 1.7e-3 rad).
    assert results["pca_angle"] < 0.02
    # A CAE is chosen, and its codes classify better than the plain AE's.
    assert results["best_contraction"] > 0
    f1 = results["test_f1"]
    assert f1["CAE"] > f1["plain AE"] + 0.01
    # The paper's Table 1 direction: smallest Jacobian, most saturation.
    cae, ae, wd = (results["diagnostics"][m] for m in ("CAE", "AE", "AE + weight decay"))
    assert cae["jacobian_norm"] < 0.95 * min(ae["jacobian_norm"], wd["jacobian_norm"])
    assert cae["saturation"] > 1.5 * max(ae["saturation"], wd["saturation"])
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
    assert "AE + decay (alpha=" in out
    assert "digits" not in out  # the digits part did not run


def test_user_data_figures_with_a_3x3_image(tmp_path, capsys):
    path = tmp_path / "mine.npy"
    np.save(path, small_data())
    main(["--data", str(path), "--quick", "--n-components", "4", "--plot", str(tmp_path)])
    written = {p.name for p in tmp_path.iterdir()} - {"mine.npy"}
    assert written == {"jacobian_spectra.png", "filters_cae.png", "reconstructions.png"}


def test_user_data_figures_without_an_image_say_what_was_left_out(tmp_path, capsys):
    path = tmp_path / "mine.npy"
    np.save(path, small_data()[:, :8])  # 8 features: no square image
    main(["--data", str(path), "--quick", "--n-components", "4", "--plot", str(tmp_path)])
    written = {p.name for p in tmp_path.iterdir()} - {"mine.npy"}
    assert written == {"jacobian_spectra.png"}
    assert "no filters or reconstructions: 8 features are not a square image" in (
        capsys.readouterr().out
    )


def test_without_matplotlib_the_demo_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    path = tmp_path / "mine.npy"
    np.save(path, small_data())
    main(["--data", str(path), "--quick", "--n-components", "4", "--plot", str(tmp_path / "f")])
    out = capsys.readouterr().out
    assert 'matplotlib is not installed, so no figures were written: pip install ".[plot]"' in out
    assert not (tmp_path / "f").exists()
    assert "mean ||J||_F" in out  # the rest still ran


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ["--quick", "--plot DIR", "--data FILE", "--n-components K", "matplotlib"]:
        assert option in out
    # The durations measured by benchmarks/bench_demo.py, the same in the README.
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for duration in DURATIONS.values():
        assert duration in " ".join(out.split())
        assert duration in " ".join(readme.split())


def run_with_data(tmp_path, capsys, name, content):
    """Run the demo on a file holding ``content``; return (exit code, stderr)."""
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(path), "--quick"])
    return exc.value.code, capsys.readouterr().err


GOOD_ROWS = "".join(f"{i},{i % 3},{i % 5}\n" for i in range(10))


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "nan.csv",
            "1,2\n3,4\n5,nan\n" + GOOD_ROWS,
            "nan.csv, line 3, column 2: 'nan' is not a finite",
        ),
        ("text.csv", "1,2\n3,oops\n", "text.csv, line 2, column 2: 'oops' is not a number"),
        ("empty_cell.csv", "1,2\n3,\n", "line 2, column 2: an empty cell is not a number"),
        ("semicolons.csv", "1;2\n3;4\n", "line 1 are separated by ';'; the demo reads comma"),
        ("ragged.csv", "1,2\n3,4,5\n", "line 2 has 3 values, line 1 has 2"),
        ("short.csv", "1,2\n3,4\n", "2 rows; the demo needs at least 5"),
        ("missing.csv", None, "missing.csv: no such file"),
        ("header_only.csv", "a,b\n", "no rows of numbers after the header"),
        ("binary.csv", b"\xff\xfe\x00\x01", "not a text file"),
        ("inf.npy", np.array([[1.0, 2.0], [3.0, np.inf]] * 3), "row 1, column 1 (from 0): inf is"),
        ("text.npy", np.array([["a", "b"]] * 6), "expected an array of numbers"),
    ],
)
def test_bad_data_is_one_line_on_stderr_and_exit_code_2(tmp_path, capsys, name, content, message):
    code, err = run_with_data(tmp_path, capsys, name, content)
    assert code == 2
    assert err.count("\n") == 1  # one line
    assert err.startswith("python -m sklearn_cae: error: --data ")
    assert message in err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_bad_n_components_is_one_line_on_stderr(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--n-components", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "argument --n-components: expected a positive integer" in err


def test_a_skipped_header_line_is_reported(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text("width,height\n" + "".join(f"{i},{i % 4}\n" for i in range(6)))
    X = load_user_data(path)
    assert X.shape == (6, 2)
    assert f"{path}: skipped line 1, a header: width,height" in capsys.readouterr().out
    # A first line with some numbers is data, and its text cell an error.
    path.write_text("1,height\n" + "".join(f"{i},{i % 4}\n" for i in range(6)))
    with pytest.raises(ValueError, match="line 1, column 2: 'height' is not a number"):
        load_user_data(path)
