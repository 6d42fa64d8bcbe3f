"""Records as tables for notebooks: numpy structured arrays, pandas DataFrames and HTML.

Every layer's records (a run's :class:`~gandyn.dynamics.trajectory.Trajectory`,
an :class:`~gandyn.explain.explanation.Explanation`, an
:class:`~gandyn.equilibria.records.Analysis`, a
:class:`~gandyn.sweeps.execution.SweepResult`) turn themselves into tables
here, so this module sits with the base modules below every layer and knows
none of them:

* :func:`structured` makes one numpy structured array of named columns of
  equal length (``to_numpy()`` of the records);
* :func:`dataframe` makes a ``pandas.DataFrame`` of the same columns when
  pandas is installed (``pip install 'gandyn[pandas]'``), and otherwise raises
  :class:`~gandyn.errors.MissingDependencyError` in one line; pandas is
  imported only then, never by ``import gandyn``;
* :func:`html_table`, :func:`html_fields` and :func:`html_block` write the
  HTML a notebook shows for ``_repr_html_``: plain tables, every text escaped
  with :func:`html.escape`, no script, no style sheet, no external resource.
"""

from __future__ import annotations

import html
import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from gandyn.errors import MissingDependencyError

__all__ = ["MAX_HTML_ROWS", "PANDAS_HINT", "Tabular", "cell_text", "dataframe", "html_block",
           "html_fields", "html_table", "structured"]

#: What to install for :func:`dataframe`.
PANDAS_HINT = "pip install 'gandyn[pandas]'"

#: Rows an HTML table shows before it says how many it left out (a grid of runs has thousands).
MAX_HTML_ROWS = 12


def structured(columns: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    """One structured array, a field per column, in the mapping's order.

    Parameters
    ----------
    columns
        Name to 1-D array (or sequence); all of one length. Each keeps its
        dtype (strings become fixed-width unicode).

    Raises
    ------
    ValueError
        Columns of different lengths or of more than one dimension (a
        programming error, not user input).
    """
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {a.shape for a in arrays.values()}
    if len(lengths) > 1 or any(a.ndim != 1 for a in arrays.values()):
        raise ValueError(f"columns of one length expected, got shapes "
                         f"{ {n: a.shape for n, a in arrays.items()} }")
    n = next(iter(lengths))[0] if lengths else 0
    table = np.empty(n, dtype=[(name, a.dtype) for name, a in arrays.items()])
    for name, values in arrays.items():
        table[name] = values
    return table


def dataframe(columns: Mapping[str, Any], what: str) -> Any:
    """A ``pandas.DataFrame`` of ``columns`` (name to 1-D array), in their order.

    Parameters
    ----------
    columns
        As for :func:`structured`.
    what
        The record asked, for the message (``"a run"``).

    Raises
    ------
    MissingDependencyError
        pandas is not installed.
    """
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        raise MissingDependencyError(
            f"turning {what} into a DataFrame needs pandas: {PANDAS_HINT} "
            f"(to_numpy() needs nothing)") from None
    return pandas.DataFrame({name: np.asarray(values) for name, values in columns.items()})


def cell_text(value: Any) -> str:
    """A value as a table cell shows it (not yet escaped).

    Floats with six significant digits (``nan``, ``inf`` spelled out),
    complex numbers ``a + bi``, ``None`` as an empty cell, mappings as
    ``key = value`` lists, sequences comma-separated.
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value) + 0.0  # no "-0"
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    if isinstance(value, complex | np.complexfloating):
        z = complex(value)
        sign = "-" if z.imag < 0 else "+"
        return f"{cell_text(z.real)} {sign} {cell_text(abs(z.imag))}i"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k} = {cell_text(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def _cell(tag: str, value: Any, scope: str | None = None) -> str:
    attribute = f' scope="{scope}"' if scope else ""
    return f"<{tag}{attribute}>{html.escape(cell_text(value))}</{tag}>"


def html_table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None,
               caption: str | None = None, total: int | None = None) -> str:
    """An HTML ``<table>``: a header row, one row per item, every cell escaped.

    Parameters
    ----------
    rows
        The cells, formatted by :func:`cell_text`; at most :data:`MAX_HTML_ROWS`
        are shown, and a last line says how many of ``total`` (default
        ``len(rows)``) were.
    header
        Column titles.
    caption
        The table's caption.
    """
    total = len(rows) if total is None else total
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<thead><tr>" + "".join(_cell("th", h, "col") for h in header)
                     + "</tr></thead>")
    parts.append("<tbody>")
    parts += ["<tr>" + "".join(_cell("td", v) for v in row) + "</tr>"
              for row in rows[:MAX_HTML_ROWS]]
    parts.append("</tbody></table>")
    shown = min(len(rows), MAX_HTML_ROWS)
    if shown < total:
        parts.append(f"<p>{shown} of {total} rows shown.</p>")
    return "".join(parts)


def html_fields(fields: Iterable[tuple[str, Any]], caption: str | None = None) -> str:
    """A two-column HTML table of named values: the name as a row header, then the value."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<tbody>")
    parts += [f"<tr>{_cell('th', name, 'row')}{_cell('td', value)}</tr>"
              for name, value in fields]
    parts.append("</tbody></table>")
    return "".join(parts)


def html_block(title: str, *parts: str, note: str | None = None) -> str:
    """The HTML of one record: its title, an optional paragraph, then ``parts`` (tables).

    ``title`` and ``note`` are escaped here; ``parts`` are HTML made by
    :func:`html_table` and :func:`html_fields`.
    """
    head = f"<div><p><strong>{html.escape(title)}</strong></p>"
    if note:
        head += f"<p>{html.escape(note)}</p>"
    return head + "".join(parts) + "</div>"


class Tabular(ABC):
    """A record whose rows are named columns: ``to_dataframe`` from its ``_columns``.

    Each record says what it is (:attr:`table_name`, for the message when
    pandas is missing) and gives its columns; its own ``to_numpy`` documents them.
    """

    #: How the missing-pandas message names the record ("a sweep").
    table_name: ClassVar[str] = "a record"

    @abstractmethod
    def _columns(self) -> Mapping[str, Any]:
        """The record's columns by name, each of one length (what ``to_numpy`` holds)."""

    def to_dataframe(self) -> Any:
        """The rows of ``to_numpy()`` as a ``pandas.DataFrame`` (needs pandas).

        Raises
        ------
        gandyn.errors.MissingDependencyError
            pandas is not installed (``pip install 'gandyn[pandas]'``).
        """
        return dataframe(self._columns(), self.table_name)
