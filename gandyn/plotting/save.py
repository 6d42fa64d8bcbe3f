"""Save a figure for a paper, with its metadata and the data behind it.

:func:`save_figure` writes, next to each other,

* the figure: ``fig.pdf``, ``fig.svg`` or ``fig.png`` (the extension of the
  path chooses the format; ``also`` adds more formats with the same stem),
* ``fig.pdf.json``: the caller's metadata (run spec, gandyn version) and the
  figure's size, formats, dpi and the versions of matplotlib and numpy,
* ``fig.pdf.data.npz``: the arrays the figure shows, when ``data`` is given.

The sidecars are named after the whole figure name, so ``fig.pdf`` and
``fig.png`` saved apart in one folder keep their own.

Same inputs give byte-identical files: the PDF has no creation date
(``CreationDate=None``), the SVG no date (``Date=None``) and fixed ids
(``svg.hashsalt``), the PNG no time chunk and a fixed dpi, the JSON is
written with a fixed layout, and the ``.npz`` is written entry by entry with
a fixed zip date (``numpy.savez`` stamps each entry with the current time).
Fonts are embedded as TrueType (PDF ``pdf.fonttype = 42``) or drawn as paths
(SVG).

Nothing is overwritten unless ``force=True``: every target is checked before
anything is written, and the figure is rendered to memory first and then
written by :func:`gandyn.files.write_files` (a temporary file renamed into
place), so a failure or a kill leaves no partial output behind, and a
symbolic link is never followed.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from gandyn.errors import OutputExistsError, SpecError
from gandyn.files import FIGURE_FORMATS, figure_paths, npz_bytes, write_files
from gandyn.files import ZIP_DATE as ZIP_DATE  # re-exported: the date every entry carries
from gandyn.jsondata import json_bytes, plain
from gandyn.plotting.style import active_venue, output_rc

__all__ = [
    "DEFAULT_DPI",
    "FORMATS",
    "OutputExistsError",
    "save_figure",
    "sidecar_paths",
    "write_npz",
]

#: Figure formats by extension.
FORMATS: Final = FIGURE_FORMATS
#: Resolution of PNG output (and of anything rasterized inside a PDF or SVG).
DEFAULT_DPI: Final = 300
#: The date written into every ``.npz`` entry (the earliest a zip file can hold).
#: The embedded metadata string is kept below this many characters; longer
#: metadata is embedded as its top-level keys and a pointer to the sidecar.
EMBED_LIMIT: Final = 2000


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(
            f"cannot save figure {path}: unknown extension {path.suffix or '(none)'!r} "
            f"(allowed: {', '.join(FORMATS)})"
        )
    return suffix[1:]


def sidecar_paths(path: str | os.PathLike[str]) -> dict[str, Path]:
    """The sidecar files of a figure path: ``json`` (``fig.pdf.json``) and ``data``
    (``fig.pdf.data.npz``), named by :func:`gandyn.files.figure_paths`."""
    paths = figure_paths(path)
    return {"json": paths["json"], "data": paths["data"]}


def _embedded(metadata: dict[str, Any], sidecar: str) -> str:
    """A compact JSON string of the metadata for the figure file's own metadata."""
    text = json.dumps({"sidecar": sidecar, "metadata": metadata}, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)
    if len(text) <= EMBED_LIMIT:
        return text
    short = json.dumps({"sidecar": sidecar, "metadata_keys": list(metadata)},
                       separators=(",", ":"), ensure_ascii=True)
    if len(short) <= EMBED_LIMIT:
        return short
    return json.dumps({"sidecar": sidecar}, ensure_ascii=True)


def _file_metadata(fmt: str, description: str) -> dict[str, Any]:
    if fmt == "pdf":
        return {"Subject": description, "CreationDate": None, "ModDate": None}
    if fmt == "svg":
        return {"Description": description, "Date": None}
    # Agg writes no tIME chunk; 'Software' names the matplotlib version only.
    return {"Description": description}


def _check_data(data: Mapping[str, Any]) -> dict[str, np.ndarray[Any, Any]]:
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key or "/" in key or key.startswith("."):
            raise SpecError(f"data name {key!r} is not a valid array name")
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise SpecError(f"data {key!r} holds Python objects; give numbers or strings")
        arrays[key] = arr
    return arrays


def write_npz(arrays: Mapping[str, Any]) -> bytes:
    """The reproducible bytes of an ``.npz`` of ``arrays`` (:func:`gandyn.files.npz_bytes`)."""
    return npz_bytes(_check_data(arrays))


def save_figure(
    fig: Figure,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    force: bool = False,
    also: Sequence[str] = (),
    dpi: int | None = None,
) -> list[Path]:
    """Write a figure, its metadata sidecar and the data behind it.

    Parameters
    ----------
    fig
        The figure (build it inside :func:`~gandyn.plotting.paper_style`).
    path
        The figure file; its extension (``.pdf``, ``.svg``, ``.png``) chooses
        the format. Its directory must exist.
    metadata
        JSON-able description of what the figure shows: the run spec, the
        gandyn version (none: only the versions of the figure block). Stored
        in ``fig.pdf.json`` and, compactly, in the figure file's own metadata
        (PDF ``Subject``, SVG and PNG ``Description``).
    data
        Arrays behind the figure, by name (numbers or strings; no objects),
        saved in this order to ``fig.pdf.data.npz``.
    force
        Overwrite existing files.
    also
        More formats to write with the same stem, e.g. ``("png",)``.
    dpi
        Resolution of PNG output and of rasterized parts of vector output;
        by default the active venue's (:func:`~gandyn.plotting.venue_style`),
        :data:`DEFAULT_DPI` outside one.

    Returns
    -------
    list of Path
        The files written: figure(s), the JSON sidecar, the data file.

    Raises
    ------
    SpecError
        Unknown extension, missing directory, metadata or data that cannot be written.
    OutputExistsError
        A target exists and ``force`` is false (nothing is written then).
    """
    target = Path(path)
    figures = [target]
    for fmt in also:
        extra = target.with_suffix("." + fmt.lower().lstrip("."))
        if extra not in figures:
            figures.append(extra)
    formats = [_format_of(p) for p in figures]
    parent = target.parent
    if not parent.is_dir():
        raise SpecError(f"cannot save figure {target}: directory {parent} does not exist")
    if dpi is None:
        dpi = active_venue().dpi
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise SpecError(f"dpi must be a positive integer, got {dpi!r}")
    sidecars = sidecar_paths(target)
    targets = [*figures, sidecars["json"]] + ([sidecars["data"]] if data is not None else [])
    for p in targets:
        if p.is_dir():
            raise SpecError(f"cannot write {p}: it is a directory")
    existing = [p for p in targets if p.exists() or p.is_symlink()]
    if existing and not force:
        raise OutputExistsError(
            f"refusing to overwrite {', '.join(str(p) for p in existing)} (use `force`)"
        )

    meta = plain(dict(metadata or {}))
    description = _embedded(meta, sidecars["json"].name)
    arrays = _check_data(data) if data is not None else None
    width, height = (float(v) for v in fig.get_size_inches())
    sidecar: dict[str, Any] = {
        "metadata": meta,
        "figure": {
            "files": [{"file": p.name, "format": f} for p, f in zip(figures, formats, strict=True)],
            "width_in": round(width, 6),
            "height_in": round(height, 6),
            "dpi": dpi,
            "matplotlib_version": matplotlib.__version__,
            "numpy_version": np.__version__,
        },
        "data": None if arrays is None else {
            "file": sidecars["data"].name,
            "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in
                       arrays.items()},
        },
    }

    contents: dict[Path, bytes] = {}
    rc: Any = output_rc()  # rc_context's stubs want Literal keys
    with matplotlib.rc_context(rc):
        for p, fmt in zip(figures, formats, strict=True):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi,
                        metadata=_file_metadata(fmt, description))
            contents[p] = buffer.getvalue()
    contents[sidecars["json"]] = json_bytes(sidecar)
    if arrays is not None:
        contents[sidecars["data"]] = write_npz(arrays)

    return write_files(contents, force)
