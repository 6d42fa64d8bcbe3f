"""Custom games from TOML and JSON files: the examples, and one-line errors for bad files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.errors import GameFileError
from gandyn.games.files import MAX_FILE_BYTES, load_game_file
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.symbolic.expectations import Normal, PointMasses, Uniform
from gandyn.symbolic.model import real_symbol

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DIRAC = EXAMPLES / "custom-dirac.toml"
MIXTURE = EXAMPLES / "custom-gaussian-mixture.json"

GOOD = """
[generator]
parameters = ["theta"]
sample = "theta"

[discriminator]
parameters = ["psi"]
logit = "psi * x"

[data]
points = [0.0]
"""


def write(tmp_path: Path, text: str, name: str = "g.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    """The one-line message of the error loading ``path`` raises."""
    with pytest.raises(GameFileError) as info:
        load_game_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("game file ") and path.name in message
    return message


# --- the examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "wasserstein", "hinge",
                                  "least-squares", "relativistic"])
def test_dirac_example_equals_the_catalogue_game(loss: str) -> None:
    definition = load_game_file(DIRAC)
    custom, catalogue = make_game(definition, loss), make_game("dirac", loss)
    assert custom.theta == catalogue.theta and custom.psi == catalogue.psi
    assert custom.param_values == catalogue.param_values
    for a, b in [(custom.cost_g, catalogue.cost_g), (custom.cost_d, catalogue.cost_d)]:
        assert a == b or sp.simplify(a - b) == 0
    assert dict(custom.logged) == dict(catalogue.logged)


def test_dirac_example_with_regularizers_and_values() -> None:
    r1 = apply_values(get_regularizer("r1"), {"gamma": 0.3})
    custom = make_game(load_game_file(DIRAC), "non-saturating", [r1], params={"c": 1.5})
    catalogue = make_game("dirac", "non-saturating", [r1], params={"c": 1.5})
    assert custom.cost_d == catalogue.cost_d and custom.param_values == catalogue.param_values
    assert derive(custom).jacobian == derive(catalogue).jacobian


def test_dirac_example_metadata() -> None:
    definition = load_game_file(str(DIRAC))  # a str path works too
    assert definition.name == "custom-dirac"
    assert definition.start == (("theta", 1.0), ("psi", 1.0))
    assert [p.name for p in definition.params] == ["c"]
    assert definition.params[0].doc == "location of the data's point mass"
    assert definition.model is not None
    assert definition.model.random == ((real_symbol("x_data"), PointMasses(
        (real_symbol("c"),), (sp.Integer(1),))),)


def test_mixture_example_loads_and_derives() -> None:
    definition = load_game_file(MIXTURE)
    assert [s.name for s in definition.theta] == ["theta_0", "theta_1"]
    assert [s.name for s in definition.psi] == ["psi_0", "psi_1"]
    assert definition.model is not None
    variables = definition.model.variables
    assert isinstance(variables[real_symbol("z")], Normal)
    for loss in ("minimax", "non-saturating"):
        game = make_game(definition, loss)
        field = derive(game)
        rng = np.random.default_rng(7)
        x = rng.normal(size=(16, 4))
        values = field.field_fn(x)
        assert values.shape == (16, 4) and np.all(np.isfinite(values))
        assert np.all(np.isfinite(field.jacobian_fn(x)))


def test_mixture_example_matches_a_hand_derivation() -> None:
    # With psi_1 = 0 the logit is the constant psi_0, so under minimax
    # cost_d = softplus(-psi_0) + softplus(psi_0) whatever the generator and the data.
    game = make_game(load_game_file(MIXTURE), "minimax")
    psi_0, psi_1, p = (real_symbol(n) for n in ("psi_0", "psi_1", "p"))
    at = game.cost_d.xreplace({psi_1: sp.S.Zero, psi_0: sp.Float(0.3), p: sp.Float(0.25)})
    assert float(at) == pytest.approx(np.logaddexp(0, -0.3) + np.logaddexp(0, 0.3), rel=1e-14)


def test_json_and_toml_give_the_same_game(tmp_path: Path) -> None:
    document = {
        "generator": {"parameters": ["theta"], "sample": "theta"},
        "discriminator": {"parameters": ["psi"], "logit": "psi * x"},
        "data": {"points": [0.0]},
    }
    from_json = load_game_file(write(tmp_path, json.dumps(document), "g.json"))
    from_toml = load_game_file(write(tmp_path, GOOD, "g.toml"))
    assert from_json.model == from_toml.model and from_json.name == from_toml.name == "g"


# --- the forms of the schema ---------------------------------------------------------------


def test_normal_uniform_and_hyper_parameters(tmp_path: Path) -> None:
    path = write(tmp_path, """
name = "affine"
[generator]
parameters = ["theta_0", "theta_1"]
sample = "theta_0 + theta_1 * z"
[discriminator]
parameters = ["psi"]
logit = "psi * x - psi**2 * x**2 / 2"
[data]
mean = "mu"
std = "sqrt(s**2 + 1)"
order = 5
[latent]
low = -1
high = "1/2"
order = 3
[parameters]
mu = "1/2"
s = { value = "pi/4", doc = "extra spread" }
""")
    definition = load_game_file(path)
    assert definition.model is not None
    data, latent = (d for _, d in definition.model.random)
    mu, s = real_symbol("mu"), real_symbol("s")
    assert data == Normal(mu, sp.sqrt(s**2 + 1), 5)
    assert latent == Uniform(sp.Integer(-1), sp.Rational(1, 2), 3)
    assert [(p.name, p.value, p.doc) for p in definition.params][1] == ("s", np.pi / 4,
                                                                         "extra spread")
    assert definition.params[0].value == 0.5
    field = derive(make_game(definition, "non-saturating"))
    assert np.all(np.isfinite(field.field_fn(np.ones((2, 3)))))


def test_weights_and_a_generator_without_z(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("points = [0.0]",
                                        'points = ["-a", "a"]\nweights = [0.25, 0.75]')
                 + "[latent]\nmean = 0\nstd = 1\n[parameters]\na = 1\n")
    definition = load_game_file(path)
    assert definition.model is not None
    # The sample does not use z: no latent variable, so no quadrature.
    assert [v.name for v, _ in definition.model.random] == ["x_data"]
    (_, data), = definition.model.random
    assert data == PointMasses((-real_symbol("a"), real_symbol("a")),
                               (sp.Rational(1, 4), sp.Rational(3, 4)))


def test_default_latent_is_a_point_mass_at_zero(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('sample = "theta"', 'sample = "theta + z"'))
    definition = load_game_file(path)
    assert definition.model is not None
    assert definition.model.variables[real_symbol("z")] == PointMasses((sp.S.Zero,), (sp.S.One,))
    assert make_game(definition).cost_g == make_game(load_game_file(
        write(tmp_path, GOOD, "plain.toml"))).cost_g


# --- bad files: one line naming the file ------------------------------------------------------

BAD_FILES = [
    # syntax
    ("[generator\n", "TOML syntax error"),
    ('name = "a"\nname = "b"\n', "line"),
    # sections and keys
    ('[discriminator]\nparameters = ["psi"]\nlogit = "psi*x"\n[data]\npoints = [0]\n',
     "missing section [generator]"),
    (GOOD.replace('sample = "theta"', ""), "[generator] needs 'sample'"),
    (GOOD.replace('logit = "psi * x"', ""), "[discriminator] needs 'logit'"),
    (GOOD.replace('parameters = ["theta"]', ""), "[generator] needs 'parameters'"),
    (GOOD.replace('sample = "theta"', 'sampel = "theta"'), "did you mean 'sample'?"),
    ("genrator = 1\n" + GOOD, "unknown key 'genrator'; did you mean 'generator'?"),
    ("titel = 'x'\n" + GOOD, "did you mean 'title'?"),
    (GOOD.replace("[data]\npoints = [0.0]", ""), "missing section [data]"),
    ("generator = 3\n" + GOOD.split("[generator]")[0] + "[discriminator]"
     + GOOD.split("[discriminator]")[1], "[generator] must be a table of keys, not an integer"),
    (GOOD.replace("[data]\npoints = [0.0]", "[data]\nvalue = 1"), "[data] needs 'points'"),
    (GOOD.replace("points = [0.0]", "points = [0.0]\nstd = 1"), "mixes 'std'"),
    (GOOD.replace("points = [0.0]", "points = [0.0]\nwieghts = [1]"), "did you mean 'weights'?"),
    (GOOD + "[parameters]\nc = { value = 1, dok = 'x' }\n", "did you mean 'doc'?"),
    (GOOD + "[parameters]\nc = { doc = 'x' }\n", "needs 'value'"),
    (GOOD + "[start]\ntheta = 1\nphi = 2\n", "unknown key 'phi'"),
    ('name = 3\n' + GOOD, "'name' must be a string"),
    # names
    (GOOD.replace('["theta"]', '["theta", "2x"]'), "'2x' is not a valid name"),
    (GOOD.replace('["theta"]', '["lambda"]'), "'lambda' is not a valid name"),
    (GOOD.replace('["theta"]', '["__class__"]'), "not a valid name"),
    (GOOD.replace('["theta"]', '[1]'), "a name must be a string"),
    (GOOD.replace('["psi"]', '["x"]'), "'x' is reserved"),
    (GOOD.replace('["theta"]', '["z"]'), "'z' is reserved"),
    (GOOD.replace('["theta"]', '["x_data"]'), "'x_data' is reserved"),
    (GOOD + "[parameters]\npi = 3\n", "'pi' is reserved"),
    (GOOD + "[parameters]\nE = 3\n", "'E' is reserved"),
    (GOOD + "[parameters]\nsoftplus = 3\n", "'softplus' is reserved"),
    (GOOD + "[parameters]\nexp = 3\n", "'exp' is reserved"),
    (GOOD + "[parameters]\ngamma_r1 = 3\n", "regularizer 'r1'"),
    (GOOD + "[parameters]\nu_z = 3\n", "'u_z' is reserved"),
    (GOOD.replace('["psi"]', '["psi", "theta"]'), "'theta' is given twice"),
    (GOOD.replace('["theta"]', '["theta", "theta"]'), "'theta' is given twice"),
    (GOOD + "[parameters]\npsi = 1\n", "'psi' is given twice"),
    # players
    (GOOD.replace('["theta"]', "[]"), "[generator] needs at least one parameter"),
    (GOOD.replace('["psi"]', "[]"), "[discriminator] needs at least one parameter"),
    (GOOD.replace('sample = "theta"', 'sample = "theta + psi"'),
     "[generator] sample may not use 'psi' (a discriminator parameter)"),
    (GOOD.replace('sample = "theta"', 'sample = "theta * x"'), "may not use 'x'"),
    (GOOD.replace('logit = "psi * x"', 'logit = "psi * theta"'),
     "[discriminator] logit may not use 'theta' (a generator parameter)"),
    (GOOD.replace('logit = "psi * x"', 'logit = "psi * z"'), "may not use 'z'"),
    (GOOD.replace('sample = "theta"', "sample = 1"), "does not depend on any generator"),
    (GOOD.replace('logit = "psi * x"', 'logit = "x"'), "does not depend on any discriminator"),
    (GOOD.replace('sample = "theta"', "sample = ['theta']"), "must be an expression"),
    (GOOD.replace('sample = "theta"', "sample = true"), "must be an expression"),
    # expressions
    (GOOD.replace('sample = "theta"', "sample = \"__import__('os')\""),
     "expression \"__import__('os')\" in [generator] sample: function '__import__'"),
    (GOOD.replace('sample = "theta"', 'sample = "os.system(1)"'),
     "expression 'os.system(1)' in [generator] sample: attribute access is not allowed"),
    (GOOD.replace('sample = "theta"', 'sample = "theta + foo"'), "name 'foo' is not allowed"),
    (GOOD.replace('sample = "theta"', 'sample = "theta^2"'), "use ** for powers"),
    (GOOD.replace('sample = "theta"', 'sample = "theta +"'), "syntax error"),
    (GOOD.replace("points = [0.0]", 'points = ["theta"]'),
     "[data] points[0] may not use 'theta'"),
    (GOOD.replace("points = [0.0]", 'points = ["x"]'), "may not use 'x'"),
    # distributions
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 0"), "[data] std must be positive"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = -1"), "std must be positive"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 'sqrt(-1)'"), "std must be positive"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = '-exp(c)'") + "[parameters]\nc = 1\n",
     "can never be positive"),
    (GOOD.replace("points = [0.0]", "mean = 0"), "needs 'std'"),
    (GOOD.replace("points = [0.0]", "low = 1\nhigh = 0"), "low < high"),
    (GOOD.replace("points = [0.0]", "low = 1"), "needs 'high'"),
    (GOOD.replace("points = [0.0]", "points = [0, 1]\nweights = [-0.5, 1.5]"),
     "weights must be non-negative"),
    (GOOD.replace("points = [0.0]", "points = [0, 1]\nweights = [0.5, 0.4]"),
     "weights must sum to 1"),
    (GOOD.replace("points = [0.0]", "points = [0, 1]\nweights = [1]"), "2 points but 1 weights"),
    (GOOD.replace("points = [0.0]", "points = []"), "[data] points must not be empty"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 1\norder = 0"), "order must be from 1"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 1\norder = 201"), "to 200, not 201"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 1\norder = 2.5"), "must be an integer"),
    (GOOD.replace("points = [0.0]", "mean = 0\nstd = 1\norder = '3'"), "must be an integer"),
    # numbers
    (GOOD.replace("points = [0.0]", "points = [nan]"), "must be finite"),
    (GOOD.replace("points = [0.0]", "points = [inf]"), "must be finite"),
    (GOOD.replace("points = [0.0]", "points = ['1e999']"), "out of range"),
    (GOOD + "[parameters]\nc = inf\n", "[parameters] c must be a finite number"),
    (GOOD + "[parameters]\nc = 'exp(1000)'\n", "beyond double precision"),
    (GOOD + "[parameters]\nc = 'theta'\n", "name 'theta' is not allowed"),
    (GOOD + "[parameters]\nc = true\n", "must be a number, not a boolean"),
    (GOOD + "[parameters]\nc = [1]\n", "must be a number, not a list"),
    (GOOD + "[start]\ntheta = 'abc'\n", "name 'abc' is not allowed"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_FILES)
def test_bad_toml_is_one_line_naming_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    message = error_of(write(tmp_path, text, "bad-game.toml"))
    assert message.startswith("game file bad-game.toml: ")
    assert fragment in message


def test_toml_syntax_error_has_the_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, GOOD + "\nbroken = \n"))
    assert "TOML syntax error" in message and "at line 13, column 10" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "JSON syntax error at line 1, column 2"),
        ('{\n  "name": "a",\n}', "JSON syntax error at line 3"),
        ("[1, 2]", "must be a table of keys, not a list"),
        ('{"name": "a", "name": "b"}', "key 'name' given twice"),
        ('{"data": {"points": [NaN]}}', "NaN is not allowed"),
        ('{"generator": [], "discriminator": {}, "data": {}}', "[generator] must be a table"),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
    ],
)
def test_bad_json_is_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    message = error_of(write(tmp_path, text, "bad.json"))
    assert fragment in message


def test_file_problems(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist.toml"
    assert "no such file" in error_of(missing)
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert "is a folder" in error_of(folder)
    assert "use .toml or .json" in error_of(write(tmp_path, GOOD, "game.yaml"))
    assert "use .toml or .json" in error_of(write(tmp_path, GOOD, "game"))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "binary, not text (a NUL byte at offset 2)" in error_of(binary)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    assert f"not UTF-8 text: byte 0xe9 at offset {len(GOOD.encode()) + 5}" in error_of(latin)
    deep = write(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000, "deep.toml")
    assert "nested too deeply" in error_of(deep)
    with pytest.raises(GameFileError, match="cannot read it"):
        load_game_file("nul\x00byte.toml")
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_FILE_BYTES)
    assert "larger than the limit of 1 MiB" in error_of(big)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    assert "a pipe (FIFO)" in error_of(fifo)  # refused at once, not read until it closes


def test_upper_case_extension_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "G.TOML"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_game_file(path).name == "G"


def test_messages_stay_one_line_with_newlines_in_the_file(tmp_path: Path) -> None:
    text = GOOD.replace('sample = "theta"', 'sample = """theta +\n  foo"""')
    message = error_of(write(tmp_path, text))
    assert "name 'foo' is not allowed" in message
    text = GOOD + '[parameters]\n"a\\nb" = 1\n'
    assert "not a valid name" in error_of(write(tmp_path, text))
    # A multi-line expression is read as one line.
    ok = GOOD.replace('sample = "theta"', 'sample = """theta\n  + 0"""')
    assert load_game_file(write(tmp_path, ok, "ok.toml")).model is not None


# --- bounded symbolic work (gandyn.symbolic.limits) -----------------------------------------------


def _game(sample: str = "theta", logit: str = "psi * x", data: str = "points = [1]",
          extra: str = "") -> str:
    return (f'[generator]\nparameters = ["theta"]\nsample = "{sample}"\n'
            f'[discriminator]\nparameters = ["psi"]\nlogit = "{logit}"\n'
            f"[data]\n{data}\n{extra}")


def _many_parameters(n: int) -> str:
    theta = [f"t{i}" for i in range(n)]
    psi = [f"p{i}" for i in range(n)]
    return (f"[generator]\nparameters = {json.dumps(theta)}\nsample = \"{' + '.join(theta)}\"\n"
            f"[discriminator]\nparameters = {json.dumps(psi)}\n"
            f"logit = \"{' + '.join(p + '*x' for p in psi)}\"\n[data]\npoints = [1]\n")


NEST = "exp(" * 6 + "{}" + ")" * 6
BIG = "1" + "0" * 400

# Each was accepted before and hung derivation (a constant tower evaluated to
# ever higher precision), or grew without bound, or failed late.
HANGS = [
    (_game(data=f'points = ["{NEST.format(1)}"]'), "MAX_FLOAT"),
    (_game(data='points = [0, 1]\nweights = ["exp(-exp(exp(exp(exp(1)))))", '
                '"1 - exp(-exp(exp(exp(exp(1)))))"]'), "MAX_FLOAT"),
    (_game(logit="psi*x*" + NEST.format(1)), "MAX_FLOAT"),
    (_game(logit="psi*" + NEST.format("x")), "MAX_FUNCTION_NESTING"),
    (_game(sample="exp(exp(exp(exp(exp(theta)))))"), "MAX_FUNCTION_NESTING"),
    (_game(sample="sqrt(1 + " * 20 + "theta" + ")" * 20), "MAX_FUNCTION_NESTING"),
    (_game(sample="sqrt(" * 20 + "theta" + ")" * 20), "MAX_EXPONENT"),
    (_game(sample="theta**99999"), "MAX_EXPONENT"),
    (_game(logit="psi*exp(exp(exp(x)))", data="points = [10]"), "data point x = 10"),
    (_game(logit="psi*exp(exp(x))", data="mean = 0\nstd = 100"), "quadrature node"),
    (_game(data=f"points = [{BIG}]"), "MAX_FLOAT"),
    (_game(extra=f"[parameters]\nc = {BIG}\n"), "MAX_FLOAT"),
    (_game(extra=f"[start]\ntheta = {BIG}\n"), "MAX_FLOAT"),
    (_game(data=f'points = ["{BIG}"]'), "MAX_FLOAT"),
    (_game(sample="theta + 10**400"), "MAX_FLOAT"),
    (_many_parameters(250), "MAX_PARAMETERS"),
    (_many_parameters(1000), "MAX_PARAMETERS"),
]


@pytest.mark.parametrize(("text", "limit"), HANGS, ids=range(len(HANGS)))
def test_work_beyond_the_limits_is_refused_at_once(tmp_path: Path, text: str, limit: str) -> None:
    started = time.monotonic()
    message = error_of(write(tmp_path, text))
    assert limit in message
    assert time.monotonic() - started < 10


def test_the_limits_leave_room_for_realistic_games(tmp_path: Path) -> None:
    texts = [
        _game(sample="exp(exp(exp(exp(theta))))"),
        _game(logit="psi*exp(exp(x))", data="points = [1, 2]"),
        _game(logit="psi*x**3 + sqrt(1 + psi**2)", data="mean = 0\nstd = 1"),
        _many_parameters(16),
    ]
    for i, text in enumerate(texts):
        assert load_game_file(write(tmp_path, text, f"ok{i}.toml")).model is not None


def test_games_beyond_max_parameters_are_refused_by_derive() -> None:
    from dataclasses import replace

    from gandyn.errors import SpecError
    from gandyn.symbolic.limits import MAX_PARAMETERS

    theta = tuple(real_symbol(f"t{i}") for i in range(MAX_PARAMETERS))
    psi = (real_symbol("p"),)
    cost = sp.Add(*theta) * psi[0]
    game = replace(make_game("bilinear"), theta=theta, psi=psi, cost_g=cost, cost_d=-cost)
    started = time.monotonic()
    with pytest.raises(SpecError, match="MAX_PARAMETERS"):
        derive(game)
    assert time.monotonic() - started < 5


def test_a_derivation_past_its_time_limit_is_stopped(tmp_path: Path) -> None:
    from gandyn.derivation.field import DerivationLimitError

    # (theta + psi + x)**40 at eight quadrature nodes: a second of work, stopped at 0.1 s.
    # Each quantity has the limit: the gradients may finish in it, the Jacobian does not.
    text = _game(sample="theta + z", logit="(psi*x + 1)**40 * exp(psi*x)",
                 data="mean = 0\nstd = 1\norder = 8", extra="[latent]\nmean = 0\nstd = 1\n")
    game = make_game(load_game_file(write(tmp_path, text)), "minimax", ["r1"])
    started = time.monotonic()
    with pytest.raises(DerivationLimitError, match="time_limit"):
        derive(game, time_limit=0.1).jacobian  # noqa: B018  (reading it derives it)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", ["derive", "simulate"])
@pytest.mark.parametrize("case", [0, 4, 10, 15], ids=["tower", "nesting", "integer", "wide"])
def test_the_command_line_refuses_in_one_line(tmp_path: Path, command: str, case: int,
                                              invoke: Any) -> None:
    path = write(tmp_path, HANGS[case][0])
    started = time.monotonic()
    code, out, err = invoke(command, "--game-file", str(path))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: game file ")
    assert HANGS[case][1] in lines[0] and "internal error" not in lines[0]
    assert time.monotonic() - started < 10
