"""Printed training output: ``key: value`` lines of any training loop, and templates.

:func:`read_printed` reads the lines a training loop printed, whatever their
layout, as long as each record is one line of ``key: value``, ``key=value``,
``key value`` or ``key[value]`` pairs: ``[Epoch 3/200] [Batch 10/938] [D loss:
0.69] [G loss: 0.70]``, ``(epoch: 1, iters: 100, time: 0.27) D_A: 0.34 G_A:
0.48 ...``, ``Epoch: [ 0] [   0/ 632] time: 1.2, d_loss: 1.4, g_loss: 0.7``,
``1094/1094 [====] - 12s - d_loss: 0.40 - g_loss: 1.66``. A line is a record
when one of its keys names a loss (:mod:`gandyn.explain.logformats.names`);
every other line (warnings, options, progress bars) is skipped and counted.
Of a line rewritten in place with ``\\r`` (tqdm, Keras), only the last state
is read.

Speed: the first record of each layout is taken apart by a general regular
expression, from which a regular expression for that exact layout is built
(keys and punctuation literal, numbers as groups, digits in the surrounding
text and runs of blanks tolerant); every later line is matched against the
layouts already seen first, so a log of one layout costs one compiled match
per line, and the numbers are converted in one numpy call per layout.

:func:`read_template` reads the lines matching a user's template such as
``'Gen/Dis Loss: {g_loss}/{d_loss}'``: placeholders are canonical names or
their aliases (or ``{_}`` for a number to ignore, ``{*}`` for any text), the
rest is literal, with blanks matching any run of blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from gandyn.explain.logformats.base import LogError, Table, one_line
from gandyn.explain.logformats.names import (
    canonical_of,
    counter_role,
    is_loss_key,
)

__all__ = ["NUMBER", "compile_template", "looks_printed", "read_printed", "read_template"]

#: A printed number, NaN or infinity (Python's, numpy's and C's spellings).
NUMBER = (r"[-+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"  # 8,600 as BasicSR prints
          r"|[-+]?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?)(?![A-Za-z])")
_WORD = r"[A-Za-z_][\w().\-/]*"
_KEY = rf"{_WORD}(?:[ \t]+{_WORD}){{0,3}}"
_TOKEN = re.compile(
    rf"\[\s*(?P<anon>\d+)\s*/\s*(?P<anon_total>\d+)\s*\]"
    rf"|(?<![\w.])(?P<key>{_KEY})\s*[:=]?\s*(?:\[\s*|tensor\(\s*)?(?P<value>{NUMBER})"
    rf"(?:\s*/\s*(?P<second>{NUMBER}))?")
_DIGITS = re.compile(r"\d+")
_BLANKS = re.compile(r"\s+")
_BACKSPACES = re.compile(r"[\x08]+")
#: Layouts tried in turn before a line is taken apart from scratch.
_RECENT = 8
#: Lines read one by one before the rest of a log of one layout is read in one pass.
_HEAD = 2000


def _literal(text: str) -> str:
    """A regular expression for the text between two numbers: digits and blanks tolerant."""
    out = []
    for piece in _BLANKS.split(text):
        out.append(r"\d+".join(re.escape(p) for p in _DIGITS.split(piece)))
    return r"\s*".join(out)


@dataclass
class _Layout:
    """One layout of record lines: its regex and the column of each group."""

    regex: re.Pattern[str]
    columns: list[str]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    records: list[int] = field(default_factory=list)


@dataclass
class _Columns:
    """The union of every layout's columns, with the counters' roles and totals."""

    names: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    totals: set[str] = field(default_factory=set)

    def add(self, name: str) -> str:
        self.names.setdefault(name, len(self.names))
        return name


def _split_slash_key(key: str, n_values: int) -> list[str] | None:
    """``Gen/Dis Loss`` with two values -> ``["Gen Loss", "Dis Loss"]``."""
    parts = [p.strip() for p in key.split("/")]
    if len(parts) != n_values or not all(parts):
        return None
    shared = parts[-1].split()[1:]
    names = [" ".join([p, *shared]) if len(p.split()) == 1 else p for p in parts[:-1]]
    return [*names, parts[-1]]


def _layout_of(line: str, matches: list[re.Match[str]], columns: _Columns) -> _Layout | None:
    """The layout of a record line (its columns added to ``columns``), or None if the line
    holds no loss."""
    names: list[str] = []
    kinds: dict[str, str] = {}
    totals: list[str] = []
    regex: list[str] = []
    position = 0
    has_loss = False
    named_epoch = any(m.group("key") and counter_role(m.group("key")) == "epoch"
                      for m in matches)
    anonymous = 0
    for match in matches:
        if match.group("anon") is not None:
            anonymous += 1
            kind = "step" if (named_epoch or anonymous > 1) else "epoch"
            name = "[e/E]" if kind == "epoch" else "[i/I]"
            name = name if name not in names else f"{name} {anonymous}"
            regex.append(_literal(line[position:match.start("anon")]))
            regex.append(rf"({NUMBER})\s*/\s*({NUMBER})")
            names += [name, name + "#total"]
            kinds[name] = kind
            totals.append(name)
            position = match.end("anon_total")
            continue
        key = " ".join(match.group("key").split())
        second = match.group("second")
        regex.append(_literal(line[position:match.start("value")]))
        regex.append(f"({NUMBER})")
        position = match.end("value")
        if second is None:
            names.append(key)
            has_loss = has_loss or is_loss_key(key)
            continue
        regex.append(_literal(line[position:match.start("second")]))
        regex.append(f"({NUMBER})")
        position = match.end("second")
        split = _split_slash_key(key, 2) if "/" in key and counter_role(key) is None else None
        if split is not None and all(is_loss_key(k) for k in split):
            names += split
            has_loss = True
        elif counter_role(key) is not None:
            names += [key, key + "#total"]
            totals.append(key)
        else:
            names += [key, key + "#2"]
            has_loss = has_loss or is_loss_key(key)
    if not has_loss:
        return None
    seen: dict[str, int] = {}
    for k, name in enumerate(names):  # a key printed twice on one line: number the repeats
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[k] = f"{name} ({seen[name]})"
    regex.append(_literal(line[position:]))
    for name in names:
        columns.add(name)
    columns.kinds.update(kinds)
    columns.totals.update(totals)
    return _Layout(re.compile("".join(regex)), names)


def looks_printed(lines: list[str], sample: int = 200) -> bool:
    """Whether some of the first ``sample`` lines are printed records."""
    scanned = 0
    for line in lines:
        if not line.strip():
            continue
        scanned += 1
        matches = list(_TOKEN.finditer(line))
        if matches and _layout_of(line, matches, _Columns()) is not None:
            return True
        if scanned >= sample:
            break
    return False


def _clean(line: str, skipped: dict[str, int]) -> str:
    if "\r" in line:
        fragments = [f for f in line.split("\r") if f.strip()]
        if len(fragments) > 1:
            what = "progress-bar states rewritten in place (\\r)"
            skipped[what] = skipped.get(what, 0) + len(fragments) - 1
        line = fragments[-1] if fragments else ""
    if "\x08" in line:
        line = _BACKSPACES.sub("", line)
    return line


def read_printed(text: str, label: str) -> Table:
    """Read the records of printed training output (see the module docstring).

    Raises
    ------
    LogError
        If no line holds a recognised loss.
    """
    columns = _Columns()
    layouts: list[_Layout] = []
    recent: list[_Layout] = []
    by_regex: dict[str, _Layout] = {}
    context: list[float] = []
    context_key: str | None = None
    current_epoch = float("nan")
    skipped: dict[str, int] = {}
    not_records = 0
    n_records = 0
    lines = text.split("\n")
    for index, raw in enumerate(lines):
        if index == _HEAD and len(layouts) == 1 and context_key is None:
            rows = _whole_text(layouts[0], lines[index:])
            if rows is not None:
                layouts[0].rows += rows
                layouts[0].records += range(n_records, n_records + len(rows))
                context += [current_epoch] * len(rows)
                n_records += len(rows)
                break
        line = _clean(raw, skipped) if ("\r" in raw or "\x08" in raw) else raw
        if not line or line.isspace():
            continue
        for layout in recent:
            match = layout.regex.fullmatch(line)
            if match is not None:
                break
        else:
            matches = list(_TOKEN.finditer(line))
            layout_found = _layout_of(line, matches, columns) if matches else None
            if layout_found is None:
                not_records += 1
                for m in matches:
                    key = m.group("key")
                    if key and counter_role(key) == "epoch":
                        context_key = " ".join(key.split())
                        current_epoch = float(m.group("value").replace(",", ""))
                continue
            layout = by_regex.setdefault(layout_found.regex.pattern, layout_found)
            if layout is layout_found:
                layouts.append(layout)
            match = layout.regex.fullmatch(line)
            if match is None:  # the layout's regex is built to match its own line
                not_records += 1
                continue
            if layout in recent:
                recent.remove(layout)
            recent.insert(0, layout)
            del recent[_RECENT:]
        layout.rows.append(match.groups())
        layout.records.append(n_records)
        context.append(current_epoch)
        n_records += 1
    if not_records:
        skipped["lines that are not log records"] = not_records
    if n_records == 0:
        raise LogError(f"log {label}: no recognised losses")
    return _table(columns, layouts, n_records, context, context_key, skipped)


def _whole_text(layout: _Layout, lines: list[str]) -> list[tuple[str, ...]] | None:
    """Every line's numbers if every non-blank line has ``layout``, else None.

    One ``findall`` over the rest of the log, in compiled code: the common case
    of a log whose noise (options, warnings, downloads) is all at its start.
    """
    whole = re.compile("^" + layout.regex.pattern.replace(r"\s*", r"[^\S\n]*")
                       + r"[^\S\n]*$", re.MULTILINE)
    rows = whole.findall("\n".join(lines))
    if len(rows) != sum(1 for line in lines if line and not line.isspace()):
        return None
    if rows and isinstance(rows[0], str):
        return [(row,) for row in rows]
    return rows


def _table(columns: _Columns, layouts: list[_Layout], n: int, context: list[float],
           context_key: str | None, skipped: dict[str, int], fmt: str = "printed") -> Table:
    names = list(columns.names)
    values = np.full((n, len(names)), np.nan)
    blank = np.ones((n, len(names)), dtype=bool)
    for layout in layouts:
        if not layout.rows:
            continue
        rows = np.asarray(layout.records)
        cols = np.asarray([columns.names[c] for c in layout.columns])
        try:
            numbers = np.array(layout.rows, dtype=np.float64)
        except ValueError:  # thousands separators ("8,600"): drop the commas
            numbers = np.array([[float(v.replace(",", "")) for v in row] for row in layout.rows])
        values[rows[:, None], cols[None, :]] = numbers
        blank[rows[:, None], cols[None, :]] = False
    kinds = dict(columns.kinds)
    has_epoch = any((kinds.get(nm) or counter_role(nm)) == "epoch" for nm in names)
    if context_key is not None and not has_epoch:
        epoch = np.asarray(context, dtype=np.float64)
        if bool(np.all(np.isfinite(epoch))):
            name = f"{context_key} (from the line before)"
            names.append(name)
            kinds[name] = "epoch"
            values = np.column_stack([values, epoch])
            blank = np.column_stack([blank, np.zeros(n, dtype=bool)])
    totals = {}
    for name in columns.totals:
        index = names.index(name + "#total")
        totals[name] = values[:, index]
    keep = [i for i, nm in enumerate(names) if not nm.endswith("#total")]
    return Table(names=[names[i] for i in keep], values=values[:, keep], blank=blank[:, keep],
                 fmt=fmt, skipped=skipped, totals=totals, kinds=kinds)


# --- templates ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
#: Longest template accepted, in characters, and most placeholders in one.
TEMPLATE_MAX = 2000
PLACEHOLDERS_MAX = 64


def compile_template(template: str) -> tuple[re.Pattern[str], list[str]]:
    """A template such as ``'Gen/Dis Loss: {g_loss}/{d_loss}'`` as a regex and its columns.

    Raises
    ------
    LogError
        On an empty or too long template, a stray brace, an unknown
        placeholder, or no loss placeholder (one line naming `pattern`).
    """
    if not template.strip():
        raise LogError("`pattern` is empty (expected e.g. 'Gen/Dis Loss: {g_loss}/{d_loss}')")
    if len(template) > TEMPLATE_MAX:
        raise LogError(f"`pattern` is longer than {TEMPLATE_MAX} characters")
    parts: list[str] = []
    columns: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(_template_literal(template[position:match.start()]))
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(re.escape(token[0]))
            continue
        if match.group(1) is None:
            raise LogError(f"`pattern`: a lone {token!r} at character {match.start()} "
                           "(write {{ or }} for a literal brace)")
        name = match.group(1).strip()
        if name == "_":
            parts.append(f"(?:{NUMBER})")
            continue
        if name == "*":
            parts.append(".*?")
            continue
        if canonical_of(name) is None and counter_role(name) is None:
            raise LogError(f"`pattern`: unknown placeholder {{{one_line(name)}}} (use a "
                           "canonical name such as g_loss, d_fake, d_real, d_total, d_x, d_gz, "
                           "d_gz_after, an alias such as d_loss or errG, step or epoch; "
                           "{_} skips a number, {*} any text)")
        if name in columns:
            raise LogError(f"`pattern`: placeholder {{{name}}} given twice")
        columns.append(name)
        parts.append(f"({NUMBER})")
        if len(columns) > PLACEHOLDERS_MAX:
            raise LogError(f"`pattern`: more than {PLACEHOLDERS_MAX} placeholders")
    parts.append(_template_literal(template[position:]))
    if not any(canonical_of(c) for c in columns):
        raise LogError("`pattern` has no loss placeholder (e.g. {g_loss}, {d_loss}, {d_fake})")
    return re.compile("".join(parts)), columns


def _template_literal(text: str) -> str:
    return r"\s*".join(re.escape(p) for p in _BLANKS.split(text))


def read_template(text: str, label: str, template: str) -> Table:
    """Read the lines that match ``template`` (see :func:`compile_template`).

    Raises
    ------
    LogError
        For a bad template, or if no line matches it.
    """
    regex, names = compile_template(template)
    columns = _Columns()
    layout = _Layout(regex, [columns.add(n) for n in names])
    skipped: dict[str, int] = {}
    not_records = 0
    search = regex.search
    for raw in text.split("\n"):
        line = _clean(raw, skipped) if ("\r" in raw or "\x08" in raw) else raw
        match = search(line)
        if match is None:
            if line.strip():
                not_records += 1
            continue
        layout.records.append(len(layout.records))
        layout.rows.append(match.groups())
    if not_records:
        skipped["lines that do not match the pattern"] = not_records
    if not layout.rows:
        raise LogError(f"log {label}: no line matches the `pattern` {one_line(template)!r}")
    return _table(columns, [layout], len(layout.rows), [], None, skipped, fmt="pattern")
