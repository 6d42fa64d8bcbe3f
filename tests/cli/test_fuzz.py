"""Property-based test: no input a user can type gives an internal error.

Every command is driven in-process (click's ``CliRunner``) with generated bad
values for its options: numbers that are huge, negative, NaN or infinite,
non-numeric text, empty strings, unknown names, malformed ``NAME:key=value``
specs, and paths that are folders or missing. Each call must be refused (or
succeed) in bounded time with exit status 1 or 2 and, when refused, exactly
one line on stderr starting with ``error:``; never "internal error", never a
traceback. The examples are derandomized so that CI sees the same inputs
every run, and their number is fixed so the test stays within seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Wall time one refused call may take (the refusal must come before any work).
SECONDS_PER_CALL = 20.0

# -- generated bad values ----------------------------------------------------------------------

NUMBERS = st.sampled_from([
    "nan", "inf", "-inf", "1e308", "-1e308", "1e400", "-1", "-0", "0", "1e12", "1e18",
    "99999999999999999999999", "0.5", "-1e-300", "", " ", "abc", "1,2", "0x10", "1e", "--1",
])
NAMES = st.sampled_from(["", "nosuch", "dirac:", "dirac:order=", "r1:gamma=", "r1:gamma=x",
                         "r1:", ":", "=", "gaussian:order=0", "gaussian:order=100000",
                         "gaussian:order=1e3", "gaussian:order=-5", "two-point:logit=none",
                         "a=b=c", "theta=", "=1", "theta=1:2:x", "theta=-1e308:1e308:3"])
TEXT = st.text(alphabet="az=:,.-19 \t", max_size=12)


def _folder_or_missing(tmp: str) -> Any:
    return st.sampled_from([tmp, f"{tmp}/missing.toml", f"{tmp}/missing/run.csv", "",
                            f"{tmp}/run"])


# Per command: the options that take a value, each with the values to try.
NUMERIC_OPTIONS = {
    "simulate": ["--steps", "--every", "--lr", "--lr-g", "--lr-d", "--batch-size",
                 "--batch-size-g", "--seed", "--max-norm", "--clip", "--beta", "--beta1",
                 "--beta2", "--eps", "--d-steps", "--g-steps", "--lam", "--max-memory"],
    "analyze": ["--lr", "--n-starts", "--grid-points", "--seed", "--solve-timeout",
                "--max-memory"],
    "sweep": ["--steps", "--lr", "--tol", "--window", "--growth", "--max-norm", "--chunk-size",
              "--workers", "--max-memory"],
    "explain": ["--lr", "--steps", "--batch-size", "--seed", "--window", "--tol"],
    "derive": ["--solve-timeout"],
}
FLOW_OPTIONS = ["--t-end", "--n-eval", "--rtol", "--atol"]
SPEC_OPTIONS = {
    "simulate": ["--game", "--loss", "--reg", "--param", "--x0", "--grid"],
    "analyze": ["--game", "--loss", "--reg", "--param", "--box", "--path"],
    "sweep": ["--game", "--reg", "--param", "--x0", "--axis", "--equilibrium"],
    "explain": ["--game", "--loss", "--x0", "--columns", "--batch-sizes"],
    "derive": ["--game", "--loss", "--reg", "--param", "--at"],
}
PATH_OPTIONS = {
    "simulate": ["--spec", "--game-file"],
    "analyze": ["--spec", "--game-file"],
    "sweep": ["--spec", "--game-file"],
    "explain": ["--log", "--spec"],
    "derive": ["--game-file"],
}
# Small runs, so that a value that is accepted finishes at once.
SMALL = {"simulate": ["--steps", "3"], "sweep": ["--steps", "3", "--axis", "lr=0.1:0.2:2"],
         "explain": ["--steps", "10"], "analyze": ["--solve-timeout", "0"], "derive": []}


def _check(invoke: Any, args: list[str]) -> None:
    started = time.monotonic()
    code, _, err = invoke(*args)
    elapsed = time.monotonic() - started
    shown = " ".join(repr(a) for a in args)
    assert elapsed < SECONDS_PER_CALL, f"{shown}: took {elapsed:.1f} s"
    assert "internal error" not in err and "Traceback" not in err, f"{shown}: {err}"
    if code == 0:
        return
    assert code in (1, 2), f"{shown}: exit {code}"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("error:"), f"{shown}: {err!r}"


_SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


@_SETTINGS
@given(data=st.data())
def test_bad_numbers_are_refused_in_one_line(invoke: Any, data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(sorted(NUMERIC_OPTIONS)))
    option = data.draw(st.sampled_from(NUMERIC_OPTIONS[command]))
    value = data.draw(NUMBERS | TEXT)
    _check(invoke, [command, *SMALL[command], option, value])


@_SETTINGS
@given(data=st.data())
def test_bad_flow_settings_are_refused_in_one_line(invoke: Any, data: st.DataObject) -> None:
    option = data.draw(st.sampled_from(FLOW_OPTIONS))
    value = data.draw(NUMBERS)
    _check(invoke, ["simulate", "--optimizer", "flow", "--steps", "3", option, value])


@_SETTINGS
@given(data=st.data())
def test_malformed_specs_and_names_are_refused_in_one_line(invoke: Any,
                                                           data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(sorted(SPEC_OPTIONS)))
    option = data.draw(st.sampled_from(SPEC_OPTIONS[command]))
    value = data.draw(NAMES | TEXT)
    _check(invoke, [command, *SMALL[command], option, value])


@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_paths_that_are_folders_or_missing_are_refused_in_one_line(
        invoke: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    folder = str(tmp_path_factory.getbasetemp())
    command = data.draw(st.sampled_from(sorted(PATH_OPTIONS)))
    option = data.draw(st.sampled_from(PATH_OPTIONS[command]))
    value = data.draw(_folder_or_missing(folder))
    _check(invoke, [command, *SMALL[command], option, value])


@pytest.mark.parametrize("args", [
    ["plot"], ["plot", "."], ["plot", "missing.npz", "--plot", "x.png"],
    ["plot", ".", "--plot", "x.png"], ["plot", "run.csv", "--frames", "0"],
    ["list", "nothing"], ["list", ""], ["nosuchcommand"],
    *([command, "--help"] for command in ("derive", "simulate", "analyze", "sweep", "explain",
                                          "plot", "list", "figure")),
])
def test_plot_and_list_refuse_bad_arguments_in_one_line(invoke: Any, args: list[str]) -> None:
    _check(invoke, args)


@pytest.mark.parametrize(("args", "option"), [
    (["simulate", "--steps", "100000000"], "--steps"),
    (["simulate", "--grid", "theta=-1:1:100000,psi=-1:1:100000"], "--grid"),
    (["simulate", "--batch-size", "1000000000", "--steps", "2"], "--batch-size"),
    (["simulate", "--optimizer", "flow", "--n-eval", "1000000000"], "--n-eval"),
    (["analyze", "--path", "c=0:1:1000000000"], "--path"),
    (["sweep", "--axis", "lr=0.01:1:100000", "--axis", "theta=-1:1:100000"], "--axis"),
    (["explain", "--steps", "100000000"], "--steps"),
])
def test_sizes_over_the_budget_are_refused_before_any_work(invoke: Any, args: list[str],
                                                           option: str) -> None:
    """Each of these failed with MemoryError after 3-6 GB; now one line, at once."""
    started = time.monotonic()
    code, _, err = invoke(*args)
    assert time.monotonic() - started < SECONDS_PER_CALL
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: ") and "memory budget of 2 GiB" in err and option in err


@pytest.mark.parametrize("args", [
    ["simulate", "--steps", "3", "--out", ""], ["simulate", "--steps", "3", "--plot", "dir/"],
    ["sweep", "--steps", "3", "--axis", "lr=0.1:0.2:2", "--out", "."],
    ["analyze", "--path", "gamma_r1=0:1e308:3", "--reg", "r1"],
    ["simulate", "--steps", "3", "--param", "c=1e300"],
    ["simulate", "--optimizer", "flow", "--rtol", "1e-14"],
    ["figure", "nash-map", "--box", "theta=-1e300:1e300,psi=-1:1", "--out", "n.png"],
    ["figure", "eigenvalues", "--lr", "nan", "--out", "e.png"],
    ["figure", "costs", "--out", ""],
    ["figure", "stability-map", "--x", "lr=0.01:1:100000", "--y", "gamma_r1=0:1:100000",
     "--reg", "r1", "--out", "s.png"],
])
def test_values_found_by_hand_are_refused_in_one_line(invoke: Any, args: list[str]) -> None:
    code, _, err = invoke(*args)
    assert code in (1, 2) and err.count("\n") == 1 and err.startswith("error: ")
    assert "internal error" not in err


def test_explain_window_longer_than_the_run_is_refused_in_one_line(invoke: Any) -> None:
    _check(invoke, ["explain", "--steps", "10", "--window", "100000"])
    _, _, err = invoke("explain", "--steps", "10", "--window", "100000")
    assert "--window 100000 needs at least 100001 --steps" in err


def test_explain_window_longer_than_a_log_is_refused_in_one_line(invoke: Any,
                                                                 tmp_path: Path) -> None:
    log = tmp_path / "short.csv"
    log.write_text("d_fake,g_loss\n" + "".join(f"{0.5 + 0.01 * i},{0.9 - 0.01 * i}\n"
                                                 for i in range(20)))
    code, _, err = invoke("explain", "--log", str(log), "--window", "101")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ")
    assert "window + 2" in err and "internal error" not in err
