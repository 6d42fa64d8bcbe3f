"""Ranges declared once (gandyn.limits) refuse the same values in the CLI and the Python API;
the memory budget refuses oversized runs before any work, and its estimate bounds the arrays a
run really allocates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gandyn.errors import GandynError, SpecError

# (library keyword of gandyn.simulate, option, a value out of range)
BAD_VALUES = [
    ("lr", "--lr", float("nan")),
    ("lr", "--lr", float("inf")),
    ("lr", "--lr", -0.1),
    ("lr_g", "--lr-g", 0.0),
    ("steps", "--steps", -5),
    ("every", "--every", 0),
    ("max_norm", "--max-norm", float("inf")),
    ("clip", "--clip", -1.0),
    ("seed", "--seed", -1),
    ("seed", "--seed", 2**40),
    ("batch_size", "--batch-size", 0),
]


@pytest.mark.parametrize(("keyword", "option", "value"), BAD_VALUES)
def test_the_cli_and_the_api_refuse_the_same_values(invoke: Any, keyword: str, option: str,
                                                    value: Any) -> None:
    from gandyn.runs.build import simulate

    given: dict[str, Any] = {"steps": 3, keyword: value}
    if keyword == "seed":
        given["batch_size"] = 4
    with pytest.raises(SpecError, match=f"`{keyword}` must be"):
        simulate(**given)
    args = ["simulate", "--steps", "3", option, str(value)]
    if keyword == "seed":
        args += ["--batch-size", "4"]
    code, _, err = invoke(*args)
    assert code == 2 and err.startswith(f"error: Invalid value for '{option}': must be")
    assert err.count("\n") == 1


def test_rule_settings_and_flow_settings_have_ranges() -> None:
    from gandyn.runs.build import simulate

    for optimizer, settings in [("adam", {"beta1": float("nan")}), ("altgd", {"d_steps": 10**9}),
                                ("flow", {"t_end": float("inf")}), ("flow", {"n_eval": 1}),
                                ("flow", {"method": "Euler"})]:
        with pytest.raises(SpecError):
            simulate(optimizer=optimizer, settings=settings, steps=3)


def test_values_of_the_wrong_type_are_typed_errors() -> None:
    from gandyn.runs.build import simulate

    for given in ({"lr": "fast"}, {"steps": 2.5}, {"steps": "many"}, {"max_norm": None},
                  {"starts": [{"theta": "x"}]}, {"batch_size": float("nan")}):
        with pytest.raises(GandynError):
            simulate(**given)


def test_analyze_refuses_what_the_cli_refuses(dirac_field: Any) -> None:
    from gandyn.equilibria import analyze

    for given in ({"solve_timeout": float("inf")}, {"solve_timeout": 1e308}, {"seed": -1},
                  {"box": {"theta": (-1e300, 1e300), "psi": (-1, 1)}}, {"n_starts": 0}):
        with pytest.raises(SpecError):
            analyze(dirac_field, **given)


def test_memory_sizes_parse_in_binary_units() -> None:
    from gandyn.limits import parse_memory

    assert parse_memory("512M") == 512 * 2**20
    assert parse_memory("4G") == 4 * 2**30
    assert parse_memory("1.5GiB") == 3 * 2**29
    assert parse_memory("2097152") == 2 * 2**20
    for bad in ("", "lots", "-1G", "1K", "5P", "nan"):
        with pytest.raises(SpecError, match="max_memory"):
            parse_memory(bad)


def test_a_run_over_the_budget_is_refused_before_its_game_is_derived(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gandyn.derivation.field as field
    from gandyn.runs.build import simulate

    def derive(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("derived before the budget was checked")

    monkeypatch.setattr(field, "derive", derive)
    with pytest.raises(SpecError, match=r"reduce `steps` or `every` or raise `max_memory`"):
        simulate(steps=10**8)
    with pytest.raises(SpecError, match=r"budget of 64 MiB"):
        simulate(steps=10**6, max_memory="64M")


@pytest.mark.parametrize(("steps", "every", "n_starts"), [(1000, 1, 1), (999, 7, 5)])
def test_the_estimate_bounds_the_arrays_a_run_allocates(steps: int, every: int,
                                                        n_starts: int) -> None:
    from gandyn.limits import trajectory_bytes
    from gandyn.runs.build import simulate

    starts = [{"theta": 0.1 * i} for i in range(n_starts)]
    traj = simulate(steps=steps, every=every, starts=starts).trajectory
    allocated = traj.x.nbytes + traj.logged.nbytes + traj.t.nbytes + traj.step.nbytes
    estimate = trajectory_bytes(n_starts, steps // every + 1, traj.x.shape[2],
                                traj.logged.shape[2])
    assert allocated <= estimate <= 2.5 * allocated


def test_grid_starts_count_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.runs.build import grid_starts

    with pytest.raises(SpecError, match="a grid of 10000000000 starting states"):
        grid_starts({"theta": (-1, 1, 10**5), "psi": (-1, 1, 10**5)})
    assert len(grid_starts({"theta": (-1, 1, 3), "psi": (0, 1, 2)})) == 6
    assert np.isclose(grid_starts({"theta": (-1, 1, 3)})[1]["theta"], 0.0)
