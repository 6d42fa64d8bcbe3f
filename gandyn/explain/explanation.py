"""The result of explaining a log or a run: one record, its JSON document and its text.

:class:`Explanation` holds what :func:`gandyn.explain.explain_log` and
:func:`gandyn.explain.explain_run` found (the logit relations of the loss, the
:class:`~gandyn.explain.series.SeriesReport` of the pair, the period
prediction of a simulated run) together with where the pair came from and the
paired series a figure draws. :meth:`Explanation.to_dict` is the stable JSON
contract of ``gandyn explain --json`` and :meth:`Explanation.to_text` its
paragraphs.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gandyn import __version__
from gandyn.arrays import Array
from gandyn.errors import GandynError
from gandyn.explain.combined import CombinedReport
from gandyn.explain.relations import LogitRelations, logit_relations
from gandyn.explain.series import SeriesReport
from gandyn.jsondata import plain
from gandyn.tables import Tabular

__all__ = ["TEXT_WIDTH", "ExplainError", "Explanation", "dynamics_text", "relations_for"]

#: Column width of the wrapped paragraphs of :meth:`Explanation.to_text`.
TEXT_WIDTH = 88


class ExplainError(GandynError, ValueError):
    """A pair of losses, a run or a setting that cannot be explained (one-line message)."""


def relations_for(loss: str) -> LogitRelations:
    """:func:`~gandyn.explain.relations.logit_relations` of ``loss``, in explain's terms.

    Raises
    ------
    ExplainError
        For a loss other than the cross-entropy ones.
    """
    try:
        return logit_relations(loss)
    except ValueError:
        pass
    from gandyn.explain.catalogue import CATALOGUE_NOTES, loss_relation

    try:
        name = loss_relation(loss).loss
    except ValueError:
        name = ""
    note = f" ({name}: {CATALOGUE_NOTES[name]})" if name in CATALOGUE_NOTES else ""
    raise ExplainError(f"explain analyses logs of the cross-entropy losses non-saturating and "
                       f"minimax, not {loss!r}{note}") from None


def dynamics_text(dynamics: Mapping[str, Any]) -> str:
    """The paragraph on the period: predicted by the eigenvalues, measured in the losses.

    ``dynamics`` is a result of :func:`gandyn.explain.dynamics_prediction`
    (with an oscillation predicted and measured).
    """
    return (
        f"Dynamics: at the equilibrium the flow's eigenvalues predict oscillations of "
        f"angular frequency {dynamics['omega']:.4g} and damping {dynamics['damping']:.4g}, "
        f"a period of {dynamics['predicted_loss_period']:.4g} in the losses; measured "
        f"{dynamics['measured_period']:.4g} (relative error "
        f"{dynamics['relative_error']:.2g}). {dynamics.get('note', '')}".rstrip())


def _string_keys(value: Any) -> Any:
    """``value`` with integer mapping keys written as strings, as JSON writes them.

    :func:`gandyn.explain.dynamics_prediction` keys its relative errors by
    harmonic (``1``, ``2``).
    """
    if isinstance(value, Mapping):
        return {(str(k) if isinstance(k, int) else k): _string_keys(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, eq=False)
class Explanation(Tabular):
    """Why ``g_loss`` swings while ``d_fake`` stays flat, for one log or run.

    Attributes
    ----------
    source
        Where the pair came from: ``kind`` (``"log"`` or ``"simulation"``)
        and, for a log, its path, format, number of rows, the columns used,
        how ``d_fake`` was obtained when estimated, the batch sizes taken from
        the format's conventions and whether ``d_fake`` was measured before
        the update; for a simulation the run's spec.
    relations
        The logit-space relations of the generator loss.
    report
        What the pair says (consistency, spreads, the ratio law).
    dynamics
        For a simulated run with an oscillating equilibrium: the period the
        flow's eigenvalues predict against the measured one (see
        :func:`gandyn.explain.dynamics_prediction`, plus ``equilibrium``);
        ``None`` otherwise.
    steps, d_fake, g_loss
        The pair as analysed, for a figure: for a log measured before the
        update ``g_loss[k]`` is paired with ``d_fake[k + 1]`` (one step fewer).
    combined
        For a log with one combined discriminator loss: the swing of
        ``g_loss`` against it (:func:`gandyn.explain.combined.analyze_combined`).
    """

    source: dict[str, Any]
    relations: LogitRelations
    report: SeriesReport
    dynamics: dict[str, Any] | None
    steps: Array
    d_fake: Array
    g_loss: Array
    combined: CombinedReport | None = None

    def __repr__(self) -> str:
        # The series run to thousands of steps: name the source and the verdict instead.
        what = self.source.get("path") or self.source.get("kind", "?")
        report = self.report
        return (f"Explanation({what}: {report.n} steps, loss {report.loss!r}, "
                f"mean D(G(z)) = {report.mean_p:.3g}, verdict: {report.verdict})")

    def _iterations(self) -> str:
        """How many of the log's own iterations the pair spans (not records)."""
        if self.steps.size < 2:
            return f"{self.report.n} steps"
        first, last = float(self.steps[0]), float(self.steps[-1])
        span = last - first
        every = span / (self.steps.size - 1)
        text = f"iterations {first:g} to {last:g}"
        if every > 1.5:
            text += f", every {every:.3g} on average ({self.steps.size} records)"
        return text

    def headline(self) -> str:
        """One line: who is winning, how many times larger g_loss swings, the verdict."""
        report = self.report
        rf = report.regime_fractions
        leader = max(rf, key=lambda k: rf[k])
        who = {"discriminator winning": "the discriminator is winning",
               "balanced": "the players are balanced",
               "generator winning": "the generator is winning"}[leader]
        if self.combined is not None and report.verdict_reason.startswith("d_fake was inferred"):
            swing = self.combined.std_ratio_measured["detrended"]
            against = "d_loss"
        else:
            swing = report.std_ratio_measured["detrended"]
            against = "d_fake"
        swing_text = (f"g_loss swings {swing:.3g} times as much as {against}"
                      if math.isfinite(swing) else f"{against} does not move")
        law = {"holds": "the logit law explains it",
               "fails": "the logit law does not explain it",
               "undecided": "whether the logit law explains it is undecided"}[report.verdict]
        return (f"Over {self._iterations()} {who} {100 * rf[leader]:.0f}% of the time (mean "
                f"D(G(z)) = {report.mean_p:.3g}); {swing_text}; {law}.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``gandyn explain --json``, as plain JSON data.

        Keys: ``gandyn_version``, ``source``, ``headline`` (:meth:`headline`), the keys
        of :meth:`SeriesReport.to_dict <gandyn.explain.series.SeriesReport.to_dict>`
        (among them ``verdict``, ``verdict_reason``, ``judged_by``),
        ``relations``, ``dynamics`` and ``combined`` (for a log with one combined
        discriminator loss, :meth:`CombinedReport.to_dict
        <gandyn.explain.combined.CombinedReport.to_dict>`, else ``None``). Non-finite
        numbers are ``None`` (complex eigenvalues ``[re, im]``), as
        :func:`gandyn.jsondata.plain` writes them.
        """
        document = {"gandyn_version": __version__, "source": self.source,
                    "headline": self.headline(),
                    **self.report.to_dict(), "relations": self.relations.to_dict(),
                    "dynamics": _string_keys(self.dynamics),
                    "combined": None if self.combined is None else self.combined.to_dict()}
        converted: dict[str, Any] = plain(document)
        return converted

    def to_text(self) -> str:
        """The one-line verdict, then the paragraphs, wrapped at :data:`TEXT_WIDTH` columns.

        The paragraphs: the relations, the report, the combined loss, the verdict and
        (for a run) the period.
        """
        paragraphs = [self.relations.to_text(), self.report.to_text(self._iterations())]
        if self.combined is not None:
            paragraphs.append(self.combined.to_text())
        verdict = f"Verdict: {self.report.verdict}: {self.report.verdict_reason}."
        if self.source.get("skipped_rows"):
            verdict += (f" {self.source['skipped_rows']} records with blank, NaN or infinite "
                        "values were skipped.")
        paragraphs.append(verdict)
        left_out = self.source.get("skipped")
        if self.source.get("kind") == "log" and isinstance(left_out, dict) and left_out:
            # What the reader left out, so that a user can see nothing was silently dropped.
            counts = "; ".join(f"{what}: {count}" for what, count in left_out.items())
            paragraphs.append(f"Read {self.source.get('rows', '?')} records from "
                              f"{self.source.get('path', 'the log')} "
                              f"({self.source.get('format', '?')}); left out: {counts}.")
        if self.dynamics is not None:
            paragraphs.append(dynamics_text(self.dynamics))
        wrapped = [textwrap.fill(p, TEXT_WIDTH) for p in paragraphs]
        return "\n\n".join([self.headline(), *wrapped])

    table_name: ClassVar[str] = "an explanation"

    def _columns(self) -> dict[str, Any]:
        return {"step": self.steps, "d_fake": self.d_fake, "g_loss": self.g_loss}

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """The pair as analysed, one structured array: fields ``step``, ``d_fake``, ``g_loss``.

        The series of :attr:`steps`, :attr:`d_fake` and :attr:`g_loss` (for a
        log measured before the update, ``g_loss[k]`` beside ``d_fake[k + 1]``).
        The numbers the analysis found are in :meth:`to_dict`.
        """
        from gandyn.tables import structured

        return structured(self._columns())

    def _repr_html_(self) -> str:
        """The notebook's view: the headline, the source, the numbers and the verdict."""
        from gandyn.tables import html_block, html_fields, html_table

        report = self.report
        rf = report.regime_fractions
        low, high = report.thresholds
        numbers = [("loss", report.loss), ("steps", report.n), ("window", report.window),
                   ("mean D(G(z))", report.mean_p), ("mean fake logit", report.mean_l),
                   ("mean D(G(z)) of spread logits", report.mean_p_model),
                   (f"discriminator winning (p < {low:g})", rf["discriminator winning"]),
                   ("balanced", rf["balanced"]),
                   (f"generator winning (p > {high:g})", rf["generator winning"]),
                   ("consistent", report.consistent), ("verdict", report.verdict),
                   ("verdict reason", report.verdict_reason),
                   ("judged by", report.judged_by), ("tolerance", report.law_rtol)]
        measured = html_fields(report.std_ratio_measured.items(),
                               caption="measured std(g_loss)/std(d_fake)")
        predicted = html_table(
            [[name, value, report.relative_error.get(name)]
             for name, value in report.std_ratio_predicted.items()],
            ["estimator", "predicted ratio", "measured/predicted - 1"],
            caption="predicted std(g_loss)/std(d_fake)")
        parts = [html_fields(self.source.items(), caption="source"),
                 html_fields(numbers, caption="what the pair says"), measured, predicted]
        if self.combined is not None:
            parts.append(html_fields(self.combined.to_dict().items(),
                                     caption="one combined discriminator loss"))
        if self.dynamics is not None:
            parts.append(html_fields(self.dynamics.items(), caption="dynamics"))
        return html_block("Explanation", *parts, note=self.headline())

    def plot_metadata(self) -> dict[str, Any]:
        """What a figure of this explanation records about its origin."""
        return {"gandyn_version": __version__, "source": self.source}
