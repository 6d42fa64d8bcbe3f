"""gandyn's own warnings are one `warning:` line each on stderr, shown once, silenced by -q."""

from __future__ import annotations

from collections.abc import Callable

Invoke = Callable[..., tuple[int, str, str]]
MESSAGE = "warning: momentum beta outside (-1, 1): the map's determinant is beta**n"


def test_momentum_beyond_one_runs_with_one_warning_line(invoke: Invoke) -> None:
    code, out, err = invoke("simulate", "--optimizer", "momentum", "--beta", "1.2",
                            "--steps", "20", "--x0", "theta=0.5,psi=0.5",
                            "--x0", "theta=0.1,psi=0.2")
    assert code == 0, err
    assert err.count(MESSAGE) == 1 and "Traceback" not in err and "GandynWarning" not in err
    assert out.startswith("dirac / minimax / momentum")
    code, out, err = invoke("-q", "simulate", "--optimizer", "momentum", "--beta", "1.2",
                            "--steps", "20")
    assert code == 0 and err == ""


def test_a_sweep_over_beta_warns_once(invoke: Invoke) -> None:
    code, _, err = invoke("sweep", "--optimizer", "momentum", "--x0", "theta=0.1,psi=0.1",
                          "--axis", "beta=0.5:1.5:3", "--steps", "50")
    assert code == 0, err
    assert err.count("warning: momentum beta outside (-1, 1)") == 1
