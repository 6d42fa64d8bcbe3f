"""The method table: names, declared settings, per-run rates, and a light import.

Independent references: the numpy-free tuple of names that the command line
offers; separate rules built with each run's scalar rates (per-run rates must
reproduce them bit for bit); the library's earlier hand-written defaults.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from gandyn.errors import SpecError, UnknownNameError
from gandyn.rules import FieldFunctions, GradientFlow, make_rule
from gandyn.rules.names import FLOW, METHOD_NAMES, RULE_NAMES
from gandyn.rules.registry import METHODS, RULES, method_settings


def test_registry_names_equal_the_light_names() -> None:
    assert tuple(RULES) == RULE_NAMES
    assert tuple(METHODS) == METHOD_NAMES == (FLOW, *RULE_NAMES)
    assert METHODS[FLOW] is GradientFlow
    for name, rule in RULES.items():
        assert rule.name == name


def test_command_line_offers_the_registry_names() -> None:
    import click

    from gandyn.cli.analyze import analyze
    from gandyn.cli.simulate import simulate

    def choices(command: click.Command) -> tuple[str, ...]:
        option = next(p for p in command.params if p.name == "optimizer")
        assert isinstance(option.type, click.Choice)
        return tuple(option.type.choices)

    assert choices(simulate) == METHOD_NAMES
    assert choices(analyze) == RULE_NAMES


def test_importing_the_names_does_not_import_numpy() -> None:
    code = ("import sys, gandyn.rules, gandyn.rules.names\n"
            "print('numpy' in sys.modules, gandyn.rules.RULE_NAMES[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "simgd"]


def test_every_setting_is_declared_once_with_a_meaning_and_a_default_the_rule_accepts() -> None:
    for name, rule in RULES.items():
        names = [s.name for s in rule.settings]
        assert len(set(names)) == len(names), name
        assert all(s.meaning and "\n" not in s.meaning for s in rule.settings), name
        built = make_rule(name, 0.1, 0.2)
        assert built.setting_values() == {s.name: s.convert(s.default) for s in rule.settings}
        # no hidden keyword: the constructor takes the rates and the declared settings only
        assert list(inspect.signature(rule).parameters) == ["lr_g", "lr_d", "settings"]


def test_every_declared_setting_has_a_command_line_option() -> None:
    from gandyn.cli.simulate import simulate

    options = {name for p in simulate.params for name in p.opts}
    for name in METHOD_NAMES:
        for setting in method_settings(name):
            assert "--" + setting.name.replace("_", "-") in options, (name, setting.name)


def test_flow_defaults_and_horizon_of_the_discrete_rule() -> None:
    values = GradientFlow.resolve({}, steps=1000, lr_g=0.1)
    assert values == {"method": "RK45", "rtol": 1e-8, "atol": 1e-10, "t_end": 100.0,
                      "n_eval": 201, "step_size": 0.01}
    assert GradientFlow.resolve({"t_end": 5, "n_eval": 11.0}, steps=1000, lr_g=0.1)[
        "t_end"] == 5.0
    with pytest.raises(ValueError, match="does not take 'beta'"):
        GradientFlow.resolve({"beta": 0.5}, steps=10, lr_g=0.1)


def test_unknown_names_and_settings() -> None:
    with pytest.raises(UnknownNameError):
        method_settings("adma")
    with pytest.raises(UnknownNameError):
        make_rule(FLOW, 0.1, 0.1)  # the flow is integrated, not iterated
    with pytest.raises(SpecError, match="optimizer 'adam': does not take 'beta' "
                                        r"\(it takes beta1, beta2, eps\)"):
        make_rule("adam", 0.1, 0.1, beta=0.5)
    with pytest.raises(SpecError, match="learning rates must be positive"):
        make_rule("simgd", np.array([0.1, -0.1]), 0.1)
    with pytest.raises(SpecError, match="learning rates must be positive"):
        make_rule("simgd", np.array([[0.1]]), 0.1)


def _dirac_like() -> FieldFunctions:
    # A smooth nonlinear game written out by hand: F = (psi s, -theta s) with
    # s = sigmoid(theta psi) (the Dirac-GAN at c = 0, minimax); its derivatives by central
    # differences. Its cross gradient (d cost_d/d theta, d cost_g/d psi) of cost_g =
    # -softplus(theta psi), cost_d = log 2 + softplus(theta psi) is (psi s, -theta s) too.
    def field(x: np.ndarray) -> np.ndarray:
        s = 1 / (1 + np.exp(-x[:, 0] * x[:, 1]))
        return np.stack([x[:, 1] * s, -x[:, 0] * s], axis=-1)

    def jacobian(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        cols = [(field(x + eps * e) - field(x - eps * e)) / (2 * eps) for e in np.eye(2)]
        return np.stack(cols, axis=-1)

    def derivative(x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        cols = [(jacobian(x + eps * e) - jacobian(x - eps * e)) / (2 * eps) for e in np.eye(2)]
        return np.stack(cols, axis=-1)

    return FieldFunctions(field, jacobian, 1, derivative, field, jacobian)


SETTINGS = {"simgd": {}, "altgd": {"d_steps": 2, "first": "g"}, "momentum": {"beta": -0.3},
            "altmomentum": {"beta": -0.4}, "adam": {"beta1": 0.5}, "ogda": {},
            "extragradient": {}, "sga": {"lam": 0.5, "align": 1}, "proximal": {},
            "unrolled": {"unroll": 3}, "lola": {}, "sos": {"sos_b": 2.0},
            "omd": {}}


@pytest.mark.parametrize("name", RULE_NAMES)
def test_per_run_rates_equal_separate_scalar_rules(name: str) -> None:
    ff = _dirac_like()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 2))
    lr_g = np.array([0.1, 0.05, 0.3, 1.0])
    lr_d = np.array([0.2, 0.5, 0.3, 0.01])
    batched = make_rule(name, lr_g, lr_d, **SETTINGS[name])
    assert batched.per_run
    buffers = {k: v + 0.1 for k, v in batched.init_buffers(x).items()}  # away from the start
    step = batched.step(ff, x, buffers, 3)
    jac = batched.map_jacobian(ff, x, buffers, 3)
    for b in range(4):
        scalar = make_rule(name, float(lr_g[b]), float(lr_d[b]), **SETTINGS[name])
        one = {k: v[b:b + 1] for k, v in buffers.items()}
        ref = scalar.step(ff, x[b:b + 1], one, 3)
        np.testing.assert_array_equal(step.x[b], ref.x[0], err_msg=name)
        for key, value in ref.buffers.items():
            np.testing.assert_array_equal(step.buffers[key][b], value[0], err_msg=name)
        np.testing.assert_array_equal(jac[b], scalar.map_jacobian(ff, x[b:b + 1], one, 3)[0],
                                      err_msg=name)


def test_rule_repr_names_rates_and_settings() -> None:
    assert repr(make_rule("momentum", 0.1, 0.2, beta=-0.5)) == (
        "Momentum(lr_g=0.1, lr_d=0.2, beta=-0.5)")
    assert repr(make_rule("simgd", np.full(3, 0.1), 0.2)) == (
        "SimultaneousGD(lr_g=<3 per run>, lr_d=0.2)")
