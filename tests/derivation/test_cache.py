"""The on-disk derivation cache: data only, checked, rebuilt when unusable, identical on load.

The reference for "the derivation comes out right" is the same derivation
with the disk cache turned off (``GANDYN_CACHE_DIR=""``), which never touches
a file; loaded expressions must equal it exactly (``==`` and ``srepr``).
"""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from gandyn.derivation import cache, field
from gandyn.derivation.field import derive
from gandyn.errors import GandynError
from gandyn.games.game import GAMES, make_game
from gandyn.games.losses import LOSSES
from gandyn.games.regularizers import REGULARIZERS

REPOSITORY = Path(__file__).resolve().parents[2]


#: Every quantity that has its own entry on disk.
QUANTITIES = ("gradients", "jacobian", "hessian_g", "hessian_d")


def _parts(game: Any) -> tuple[Any, ...]:
    """Derive every quantity of ``game`` bypassing the in-memory cache (the disk as configured)."""
    field._derivatives.cache_clear()
    derivation = field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi)
    return tuple(derivation.get(quantity) for quantity in QUANTITIES)


def _reference(game: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    with monkeypatch.context() as patch:
        patch.setenv("GANDYN_CACHE_DIR", "")
        return _parts(game)


def _flat(parts: tuple[Any, ...]) -> list[sp.Basic]:
    return [expr for part in parts for expr in list(part)]


def _assert_identical(got: tuple[Any, ...], want: tuple[Any, ...]) -> None:
    assert [type(p) for p in got] == [type(p) for p in want]
    assert [getattr(p, "shape", len(p)) for p in got] == [getattr(p, "shape", len(p)) for p in want]
    for a, b in zip(_flat(got), _flat(want), strict=True):
        assert a == b
        assert sp.srepr(a) == sp.srepr(b)


def _key(game: Any, quantity: str = "gradients") -> str:
    return field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi).key(quantity)


class _Payload:
    """Unpickling this would create ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


# --- never runs code ----------------------------------------------------------------------------


def test_a_planted_pickle_is_never_loaded(cache_dir: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    game = make_game("dirac", "non-saturating", ["r1"])
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    cache_dir.mkdir()
    key = _key(game)
    # The old name of the entry, and the new name holding pickle bytes.
    (cache_dir / f"derive-{key}.pickle").write_bytes(payload)
    cache.entry_path(cache_dir, key).write_bytes(payload)
    got = _parts(game)
    assert not marker.exists()
    _assert_identical(got, _reference(game, monkeypatch))
    # The unusable entry was replaced by a good one, which now loads.
    assert cache.load(cache_dir, key) is not None
    assert not marker.exists()


def _entry(key: str, nodes: list[Any], roots: list[int], lengths: list[int]) -> bytes:
    body = json.dumps({"nodes": nodes, "roots": roots, "lengths": lengths}).encode()
    import hashlib

    from gandyn import __version__

    header = {"format": cache.FORMAT, "version": cache.FORMAT_VERSION, "gandyn": __version__,
              "sympy": sp.__version__, "key": key, "sha256": hashlib.sha256(body).hexdigest(),
              "bytes": len(body)}
    return json.dumps(header).encode() + b"\n" + body


@pytest.mark.parametrize("node", [
    ["function", "__import__", 0],
    ["function", "eval", 0],
    ["function", "exec", 0],
    ["System", 0],
    ["symbol", "x", {"__class__": True}],
    ["float", 0, "__import__('os')", 0, 1, 53],
    ["integer", "__import__('os').system('touch pwned')"],
])
def test_a_planted_text_entry_runs_nothing(node: list[Any], cache_dir: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    game = make_game("dirac")
    marker = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    nodes = [["symbol", code, {}], node]
    # Well-formed, with a valid checksum: only the allow-list stands in the way.
    entry = _entry(_key(game), nodes, [1] * 2, [2])
    cache_dir.mkdir()
    cache.entry_path(cache_dir, _key(game)).write_bytes(entry)
    assert cache.load(cache_dir, _key(game)) is None
    got = _parts(game)
    assert not marker.exists()
    _assert_identical(got, _reference(game, monkeypatch))


def test_an_intact_entry_with_foreign_symbols_is_not_used(cache_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A checksum detects damage, not malice: a well-formed entry naming symbols
    # the game does not have (code as a symbol name) is rejected by field.py.
    game = make_game("dirac")
    code = "__import__('os').system('true')"
    entry = _entry(_key(game), [["symbol", code, {"real": True}]], [0] * 2, [2])
    cache_dir.mkdir()
    cache.entry_path(cache_dir, _key(game)).write_bytes(entry)
    assert cache.load(cache_dir, _key(game)) is not None  # the codec reads it as data
    got = _parts(game)
    assert all(s.name != code for e in _flat(got) for s in e.free_symbols)
    _assert_identical(got, _reference(game, monkeypatch))


def test_the_derivation_package_has_no_pickle() -> None:
    for path in (REPOSITORY / "gandyn" / "derivation").glob("*.py"):
        assert "import pickle" not in path.read_text(), path


# --- damaged entries are rebuilt ----------------------------------------------------------------


def _stored(game: Any, cache_dir: Path) -> Path:
    _parts(game)
    path = cache.entry_path(cache_dir, _key(game))
    assert path.is_file()
    return path


@pytest.mark.parametrize("where", ["header", "body", "last"])
def test_a_flipped_byte_is_rebuilt(where: str, cache_dir: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    game = make_game("gaussian", "wasserstein", options={"order": 3})
    path = _stored(game, cache_dir)
    good = path.read_bytes()
    data = bytearray(good)
    index = {"header": 5, "body": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    path.write_bytes(bytes(data))
    assert cache.load(cache_dir, _key(game)) is None
    _assert_identical(_parts(game), _reference(game, monkeypatch))
    assert path.read_bytes() == good  # rewritten whole


@pytest.mark.parametrize("keep", [0, 1, 100, 0.5, -1])
def test_a_truncated_entry_is_rebuilt(keep: float, cache_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    game = make_game("two-point", "hinge", options={"logit": "affine"})
    path = _stored(game, cache_dir)
    good = path.read_bytes()
    size = int(len(good) * keep) if isinstance(keep, float) else keep % len(good)
    path.write_bytes(good[:size])
    _assert_identical(_parts(game), _reference(game, monkeypatch))
    assert path.read_bytes() == good


def test_entries_of_another_version_or_key_are_ignored(cache_dir: Path) -> None:
    game = make_game("dirac", "least-squares")
    path = _stored(game, cache_dir)
    head, _, body = path.read_bytes().partition(b"\n")
    for field_name, value in [("version", cache.FORMAT_VERSION + 1), ("sympy", "0.0"),
                              ("gandyn", "0.0"), ("key", "0" * 64), ("format", "other")]:
        header = json.loads(head)
        header[field_name] = value
        path.write_bytes(json.dumps(header).encode() + b"\n" + body)
        assert cache.load(cache_dir, _key(game)) is None, field_name


def test_a_fifo_or_folder_in_place_of_an_entry_does_not_block(cache_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    game = make_game("dirac", "hinge")
    cache_dir.mkdir()
    path = cache.entry_path(cache_dir, _key(game))
    os.mkfifo(path)
    started = time.monotonic()
    _assert_identical(_parts(game), _reference(game, monkeypatch))
    assert time.monotonic() - started < 30
    os.unlink(path)
    path.mkdir()
    _assert_identical(_parts(game), _reference(game, monkeypatch))


def test_an_unwritable_cache_costs_only_speed(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GANDYN_CACHE_DIR", str(blocker / "cache"))
    game = make_game("dirac", "wasserstein")
    _assert_identical(_parts(game), _reference(game, monkeypatch))


def test_writes_leave_no_temporary_files(cache_dir: Path) -> None:
    _stored(make_game("dirac", "relativistic"), cache_dir)
    assert [p.name for p in cache_dir.iterdir() if not p.name.startswith("derive-")] == []


# --- loaded derivations are identical -----------------------------------------------------------


def _catalogue(full: bool) -> list[tuple[str, str | None, tuple[tuple[str, Any], ...], str | None]]:
    """Every game x loss x regularizer (``full``), or each game, loss and regularizer once."""
    cases = []
    for entry in GAMES:
        direct = entry.define().model is None
        options: list[tuple[tuple[str, Any], ...]] = [()]
        if entry.name == "two-point":
            options = [(("logit", logit),) for logit in ("linear", "affine", "quadratic")]
        if entry.name == "gaussian" and not full:
            options = [(("order", 3),)]
        for opts in options:
            for loss in ([None] if direct else LOSSES.names()):
                for reg in [None, *(r.name for r in REGULARIZERS)]:
                    cases.append((entry.name, loss, opts, reg))
    if full:
        return cases
    # Each game once, each loss and each regularizer on the Dirac-GAN (the
    # whole product is the slow test below).
    first: dict[str, tuple[Any, ...]] = {}
    for case in cases:
        first.setdefault(case[0], case)
    dirac = [c for c in cases if c[0] == "dirac" and (c[3] is None or c[1] == "non-saturating")]
    return list(dict.fromkeys([*first.values(), *dirac]))


def _round_trip(case: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    name, loss, options, reg = case
    try:
        game = make_game(name, loss, [reg] if reg else [], options=dict(options))
    except GandynError:
        pytest.skip("not a valid combination")  # a regularizer that needs a discriminator
    cold = _parts(game)  # the folder is empty: derived, then stored
    warm = _parts(game)  # loaded
    _assert_identical(warm, cold)


@pytest.mark.parametrize("case", _catalogue(full=False), ids=str)
def test_loaded_derivations_are_identical(case: tuple[Any, ...], cache_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(case, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("case", _catalogue(full=True), ids=str)
def test_every_catalogue_derivation_loads_identically(case: tuple[Any, ...], cache_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(case, monkeypatch)


def test_custom_game_functions_round_trip(tmp_path: Path, cache_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything the expression parser accepts, and what its derivatives hold
    # (cos, sign, DiracDelta, Floats, pi, E, quadrature nodes).
    from gandyn.games.files import load_game_file

    path = tmp_path / "every-function.toml"
    path.write_text(
        '[generator]\nparameters = ["theta"]\n'
        'sample = "theta + 0.25*z + sin(theta)/pi + log(1 + theta**2) + sqrt(2)*Abs(theta)"\n'
        '[discriminator]\nparameters = ["psi", "phi"]\n'
        'logit = "psi*x + cos(phi)*E + sign(phi)*relu(x) + tanh(psi) + step(psi) '
        '+ softplus(phi) + sigmoid(psi) + log_sigmoid(phi) + exp(-x**2/2)"\n'
        '[data]\nmean = 0\nstd = 1\norder = 2\n[latent]\nlow = 0\nhigh = 1\norder = 2\n'
    )
    for loss in ("wasserstein",):
        game = make_game(load_game_file(path), loss)
        cold = _parts(game)
        kinds = {type(e).__name__ for expr in _flat(cold) for e in sp.preorder_traversal(expr)}
        assert {"sin", "cos", "sign", "GaussHermite", "GaussLegendre", "Float"} <= kinds
        _assert_identical(_parts(game), cold)
        assert cache.load(cache_dir, _key(game)) is not None


# --- simulations are byte-identical with a cold and a warm cache --------------------------------


@pytest.mark.parametrize("args", [
    ("--game", "dirac", "--loss", "non-saturating", "--reg", "r1:gamma=0.3"),
    ("--game", "two-point:logit=affine", "--loss", "hinge", "--reg", "instance-noise:order=3"),
])
def test_simulate_outputs_are_byte_identical_cold_and_warm(args: tuple[str, ...], cache_dir: Path,
                                                           tmp_path: Path, invoke: Any) -> None:
    outputs = []
    for run in ("cold", "warm"):
        field._derivatives.cache_clear()  # the in-memory cache would hide the disk
        out = tmp_path / f"{run}.csv"
        code, _, err = invoke("simulate", *args, "--steps", "40", "--out", str(out))
        assert code == 0, err
        outputs.append(out.read_bytes())
        if run == "cold":
            assert any(cache_dir.glob("derive-*.json"))
    assert outputs[0] == outputs[1]


def test_derive_output_is_identical_cold_and_warm(cache_dir: Path, invoke: Any) -> None:
    printed = []
    for _ in range(2):
        field._derivatives.cache_clear()
        code, out, err = invoke("derive", "--game", "two-point:logit=quadratic", "--loss", "hinge",
                                "--format", "json", "--solve-timeout", "0")
        assert code == 0, err
        printed.append(out)
    assert printed[0] == printed[1]
    # One entry per quantity: gradients, Jacobian and the two Hessians.
    assert len(list(cache_dir.glob("derive-*.json"))) == len(QUANTITIES)


def test_derive_uses_the_disk_entry(cache_dir: Path) -> None:
    game = make_game("dirac", "minimax")
    first = derive(game)
    field._derivatives.cache_clear()
    second = derive(game)
    assert second.jacobian == first.jacobian and second.field == first.field
