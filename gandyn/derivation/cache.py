"""The on-disk cache of derivations, in a format that holds data and nothing else.

A derivation (gradients, field, Jacobian, Hessians) is stored as JSON text,
one file ``derive-<key>.json`` per symbolic game in the cache folder. Reading
a cache file never runs code: it is not a pickle, and it is not parsed by
:func:`eval`, :func:`sympy.sympify` or :func:`sympy.parsing.sympy_parser.parse_expr`.
Instead every expression is a list of *nodes*, each naming one kind of sympy
object from a fixed allow-list (:data:`NODE_KINDS`) and the earlier nodes it is
built from, so shared subexpressions (a Jacobian repeats the gradient's
factors many times) are stored once. Rebuilding uses each class's own
constructor with ``evaluate=False``, which keeps the stored arguments as they
are, so a loaded expression is identical to the derived one (equal, and with
the same ``srepr``).

A file is one header line of JSON (format name, :data:`FORMAT_VERSION`, the
gandyn and sympy versions, the key, and the SHA-256 and length of the body),
then the body. A file that is damaged (bad checksum), truncated, of another
format or version, too large, or names anything outside the allow-list is
ignored, and the derivation is computed again and written over it: a cache
only ever costs speed, never correctness or an error. Files are written to a
temporary file in the cache folder and renamed, so a reader sees the old file
or the whole new one.

Text printed from derivations (the explore page's JavaScript,
:mod:`gandyn.explore.codecache`) is kept in the same folder as *text entries*
(``<kind>-<key>.txt``, :func:`store_text`, :func:`load_text`): the same header
line with the format ``gandyn-text-cache``, UTF-8 text as the body, the same
checks on reading and the same atomic write.

The checksum detects damage, not malice: whoever can write the cache folder
can make gandyn load wrong derivatives (never run code), as with any cache;
the folder is created readable by its owner only.

References
----------
.. [1] Python Software Foundation (2024). pickle: Python object serialization.
   Python 3 documentation ("The pickle module is not secure").
.. [2] Bray (2017). The JavaScript Object Notation (JSON) Data Interchange
   Format. IETF RFC 8259.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.core.assumptions import _assume_defined

from gandyn.errors import InputFileError
from gandyn.files import read_input
from gandyn.symbolic.expectations import QUADRATURES
from gandyn.symbolic.functions import FUNCTIONS

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_ENTRY_BYTES", "NODE_KINDS", "TEXT_FORMAT",
           "UnsupportedExpressionError", "decode", "encode", "entry_path", "from_bytes", "load",
           "load_text", "store", "store_text", "text_entry_path", "text_from_bytes",
           "text_to_bytes", "to_bytes"]

#: The ``format`` field of every entry's header.
FORMAT = "gandyn-derivation-cache"
#: Bumped whenever the encoding changes; entries of another version are ignored.
FORMAT_VERSION = 1
#: The ``format`` field of a text entry's header (code printed from a derivation).
TEXT_FORMAT = "gandyn-text-cache"
#: Largest entry read (the catalogue's largest is about 1 MB).
MAX_ENTRY_BYTES = 256 * 2**20

#: Functions a derivation may contain: gandyn's activations and quadrature nodes
#: and the sympy functions that the expression parser accepts or that their
#: derivatives produce (``d|x|/dx = sign(x)``, ``d sign(x)/dx = 2 DiracDelta(x)``).
_FUNCTIONS: dict[str, type[sp.Basic]] = {
    "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
    "Abs": sp.Abs, "sign": sp.sign, "DiracDelta": sp.DiracDelta, "Heaviside": sp.Heaviside,
    **FUNCTIONS, **QUADRATURES,
}
#: Named constants (sympy singletons).
_CONSTANTS: dict[str, sp.Basic] = {"pi": sp.pi, "E": sp.E, "I": sp.I}

#: Every kind of node an entry may hold: the tag written in the file and what it is.
NODE_KINDS: dict[str, str] = {
    "symbol": "Symbol: name and assumptions (real=True, ...)",
    "integer": "Integer",
    "rational": "Rational p/q",
    "float": "Float: the exact binary value (sign, mantissa, exponent, bits) and precision",
    "constant": "pi, E or I",
    "add": "Add of earlier nodes",
    "mul": "Mul of earlier nodes",
    "pow": "Pow of two earlier nodes",
    "tuple": "Tuple of earlier nodes (the variables of a Derivative)",
    "derivative": "an unevaluated Derivative (sympy keeps d sign(x)/dx of a composite x)",
    "function": "one of " + ", ".join(sorted(_FUNCTIONS)),
}

_MAX_NAME = 200
_MAX_INTEGER_DIGITS = 4000


class UnsupportedExpressionError(ValueError):
    """An expression holds an object outside :data:`NODE_KINDS`: it is not cached."""


class _CorruptEntryError(ValueError):
    """Internal: an entry that does not decode; it is ignored."""


# -- encoding -----------------------------------------------------------------------------------


def _leaf(expr: sp.Basic) -> list[Any] | None:
    """The node of an atom, or ``None`` for an object with arguments."""
    if isinstance(expr, sp.Symbol):
        if type(expr) is not sp.Symbol:  # Dummy, Wild: not produced by a derivation
            raise UnsupportedExpressionError(f"{type(expr).__name__} {expr}")
        assumptions = {k: v for k, v in expr._assumptions_orig.items() if v is not None}
        return ["symbol", expr.name, assumptions]
    if isinstance(expr, sp.Integer):
        return ["integer", int(expr)]
    if isinstance(expr, sp.Rational):
        return ["rational", int(expr.p), int(expr.q)]
    if isinstance(expr, sp.Float):
        sign, mantissa, exponent, bits = expr._mpf_
        return ["float", int(sign), format(int(mantissa), "x"), int(exponent), int(bits),
                int(expr._prec)]
    for name, constant in _CONSTANTS.items():
        if expr is constant:
            return ["constant", name]
    if not expr.args:
        raise UnsupportedExpressionError(f"{type(expr).__name__} {expr}")
    return None


def _tag(expr: sp.Basic) -> list[Any]:
    """The head of a node with arguments (its children's indices follow)."""
    if isinstance(expr, sp.Add):
        return ["add"]
    if isinstance(expr, sp.Mul):
        return ["mul"]
    if isinstance(expr, sp.Pow):
        return ["pow"]
    if isinstance(expr, sp.Tuple):
        return ["tuple"]
    if isinstance(expr, sp.Derivative):
        return ["derivative"]
    name = type(expr).__name__
    if _FUNCTIONS.get(name) is type(expr):
        return ["function", name]
    raise UnsupportedExpressionError(f"{name} {expr}")


def encode(exprs: Sequence[sp.Basic]) -> tuple[list[list[Any]], list[int]]:
    """The nodes of ``exprs`` and the index of each expression's root.

    Equal subexpressions (same kind, same payload, same children) become one
    node. The walk is iterative, so deep expressions need no recursion.

    Raises
    ------
    UnsupportedExpressionError
        If an expression holds an object outside :data:`NODE_KINDS`.
    """
    nodes: list[list[Any]] = []
    index_of_node: dict[str, int] = {}
    index_of_object: dict[int, int] = {}
    keep_alive: list[sp.Basic] = []  # ids stay unique while the objects live

    def add(node: list[Any]) -> int:
        key = json.dumps(node, separators=(",", ":"))
        found = index_of_node.get(key)
        if found is None:
            found = index_of_node[key] = len(nodes)
            nodes.append(node)
        return found

    roots = []
    for root in exprs:
        stack: list[tuple[sp.Basic, bool]] = [(sp.sympify(root), False)]
        while stack:
            expr, children_done = stack.pop()
            if id(expr) in index_of_object:
                continue
            leaf = _leaf(expr)
            if leaf is not None:
                index_of_object[id(expr)] = add(leaf)
                keep_alive.append(expr)
                continue
            if not children_done:
                stack.append((expr, True))
                stack.extend((arg, False) for arg in reversed(expr.args)
                             if id(arg) not in index_of_object)
                continue
            node = _tag(expr) + [index_of_object[id(arg)] for arg in expr.args]
            index_of_object[id(expr)] = add(node)
            keep_alive.append(expr)
        roots.append(index_of_object[id(sp.sympify(root))])
    return nodes, roots


# -- decoding -----------------------------------------------------------------------------------


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise _CorruptEntryError(f"{what} is not an integer")
    return value


def _children(node: list[Any], start: int, built: list[sp.Basic]) -> list[sp.Basic]:
    out = []
    for value in node[start:]:
        index = _int(value, "a child index")
        if not 0 <= index < len(built):
            raise _CorruptEntryError("a child index points forward or outside the entry")
        out.append(built[index])
    return out


def _symbol(node: list[Any]) -> sp.Basic:
    if len(node) != 3 or not isinstance(node[1], str) or not isinstance(node[2], dict):
        raise _CorruptEntryError("malformed symbol")
    name, assumptions = node[1], node[2]
    if not 0 < len(name) <= _MAX_NAME:
        raise _CorruptEntryError("symbol name too long")
    for key, value in assumptions.items():
        if key not in _assume_defined or type(value) is not bool:
            raise _CorruptEntryError(f"unknown assumption {key!r}")
    return sp.Symbol(name, **assumptions)


def _number(node: list[Any]) -> sp.Basic:
    kind = node[0]
    if kind == "integer" and len(node) == 2:
        return sp.Integer(_int(node[1], "an integer"))
    if kind == "rational" and len(node) == 3:
        p, q = _int(node[1], "a numerator"), _int(node[2], "a denominator")
        if q <= 0:
            raise _CorruptEntryError("a denominator is not positive")
        return sp.Rational(p, q)
    if kind == "float" and len(node) == 6:
        sign, mantissa_hex, exponent, bits, precision = node[1:]
        if sign not in (0, 1) or not isinstance(mantissa_hex, str) or not (
            0 < len(mantissa_hex) <= _MAX_INTEGER_DIGITS
        ):
            raise _CorruptEntryError("malformed float")
        mantissa = int(mantissa_hex, 16)
        bits, precision = _int(bits, "float bits"), _int(precision, "float precision")
        exponent = _int(exponent, "float exponent")
        if not 0 < precision <= 100_000 or bits != mantissa.bit_length():
            raise _CorruptEntryError("malformed float")
        return sp.Float((sign, mantissa, exponent, bits), precision=precision)
    if kind == "constant" and len(node) == 2 and node[1] in _CONSTANTS:
        return _CONSTANTS[node[1]]
    raise _CorruptEntryError(f"malformed {kind} node")


_COMPOSITES: dict[str, Callable[[list[sp.Basic]], sp.Basic]] = {
    "add": lambda args: sp.Add(*args, evaluate=False),
    "mul": lambda args: sp.Mul(*args, evaluate=False),
    "pow": lambda args: sp.Pow(*args, evaluate=False),
    "tuple": lambda args: sp.Tuple(*args),
    "derivative": lambda args: sp.Derivative(*args, evaluate=False),
}


def _composite(node: list[Any], built: list[sp.Basic]) -> sp.Basic:
    kind = node[0]
    if kind == "function":
        if len(node) < 3 or not isinstance(node[1], str) or node[1] not in _FUNCTIONS:
            raise _CorruptEntryError("unknown function")
        func: Any = _FUNCTIONS[node[1]]
        return func(*_children(node, 2, built), evaluate=False)
    build = _COMPOSITES.get(kind)
    if build is None:
        raise _CorruptEntryError(f"unknown node kind {kind!r}")
    args = _children(node, 1, built)
    if (kind == "pow" and len(args) != 2) or (kind in ("add", "mul") and len(args) < 2) or (
        kind == "derivative" and (len(args) < 2 or not all(isinstance(a, sp.Tuple)
                                                            for a in args[1:]))
    ):
        raise _CorruptEntryError(f"malformed {kind} node")
    return build(args)


def decode(nodes: Any, roots: Any) -> list[sp.Basic]:
    """The expressions that :func:`encode` gave ``nodes`` and ``roots`` for.

    Raises
    ------
    ValueError
        If anything is malformed or outside the allow-list.
    """
    if not isinstance(nodes, list) or not isinstance(roots, list):
        raise _CorruptEntryError("nodes and roots must be lists")
    built: list[sp.Basic] = []
    for node in nodes:
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise _CorruptEntryError("malformed node")
        if node[0] == "symbol":
            built.append(_symbol(node))
        elif node[0] in ("integer", "rational", "float", "constant"):
            built.append(_number(node))
        else:
            built.append(_composite(node, built))
    out = []
    for value in roots:
        index = _int(value, "a root index")
        if not 0 <= index < len(built):
            raise _CorruptEntryError("a root index outside the entry")
        out.append(built[index])
    return out


# -- files --------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from gandyn import __version__

    return {"gandyn": __version__, "sympy": sp.__version__}


def entry_path(folder: Path, key: str) -> Path:
    """Where the entry of ``key`` lives in ``folder``."""
    return folder / f"derive-{key}.json"


def to_bytes(key: str, parts: Sequence[Sequence[sp.Basic]]) -> bytes:
    """The bytes of the entry of ``key`` holding ``parts`` (lists of expressions).

    Raises
    ------
    UnsupportedExpressionError
        If an expression holds an object outside :data:`NODE_KINDS`.
    """
    flat = [expr for part in parts for expr in part]
    nodes, roots = encode(flat)
    lengths = [len(part) for part in parts]
    body = json.dumps({"nodes": nodes, "roots": roots, "lengths": lengths},
                      separators=(",", ":")).encode()
    header = {"format": FORMAT, "version": FORMAT_VERSION, **_versions(), "key": key,
              "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def from_bytes(key: str, data: bytes) -> list[list[sp.Basic]]:
    """The parts stored in an entry, checked against ``key``, versions and checksum.

    Raises
    ------
    ValueError
        If the entry is not a complete, intact entry of this key, format and versions.
    """
    head, newline, body = data.partition(b"\n")
    if not newline or len(head) > 4096:
        raise _CorruptEntryError("no header line")
    header = json.loads(head)
    expected = {"format": FORMAT, "version": FORMAT_VERSION, **_versions(), "key": key,
                "bytes": len(body)}
    if not isinstance(header, dict) or any(header.get(k) != v for k, v in expected.items()):
        raise _CorruptEntryError("another format, version, key or length")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise _CorruptEntryError("checksum mismatch")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise _CorruptEntryError("the body is not an object")
    lengths = document.get("lengths")
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise _CorruptEntryError("malformed lengths")
    exprs = decode(document.get("nodes"), document.get("roots"))
    if sum(lengths) != len(exprs):
        raise _CorruptEntryError("lengths do not match the roots")
    parts, start = [], 0
    for n in lengths:
        parts.append(exprs[start:start + n])
        start += n
    return parts


def load(folder: Path, key: str) -> list[list[sp.Basic]] | None:
    """The parts cached for ``key`` in ``folder``, or ``None`` (missing or unusable).

    Nothing is ever unpickled or evaluated; an unusable entry (damaged,
    truncated, foreign, of another version) is ``None``, never an error.
    """
    path = entry_path(folder, key)
    if not path.exists():
        return None
    try:
        data = read_input(path, what="cache entry", limit=MAX_ENTRY_BYTES)
        return from_bytes(key, data)
    except (InputFileError, OSError, ValueError, TypeError, RecursionError, MemoryError):
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors; sympy's
        # constructors raise TypeError or ValueError on arguments of the wrong kind.
        return None


def store(folder: Path, key: str, parts: Sequence[Sequence[sp.Basic]]) -> bool:
    """Write the entry of ``key`` atomically; ``False`` if it cannot be (never an error).

    The bytes go to a temporary file in ``folder`` that is then renamed over
    the entry, so a concurrent reader, or a run killed mid-write, leaves the
    old entry or the whole new one.
    """
    try:
        data = to_bytes(key, parts)
    except (UnsupportedExpressionError, RecursionError):
        return False
    return _replace_atomically(folder, entry_path(folder, key), data, prefix=".derive-")


# -- text entries -------------------------------------------------------------------------------
#
# Text printed from a derivation (the explore page's JavaScript) is kept beside the derivations,
# in the same folder, with the same header line (format, version, gandyn and sympy versions,
# key, SHA-256 and length of the body), the same checks on reading and the same atomic write.
# The body is UTF-8 text and is never run here; whoever can write the folder can change it, as
# they can change a derivation.

_KIND_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def text_entry_path(folder: Path, kind: str, key: str) -> Path:
    """Where the text entry of ``kind`` (``explore-js``) and ``key`` lives in ``folder``.

    Raises
    ------
    ValueError
        If ``kind`` is not lower-case letters, digits and dashes, or is ``derive``
        (the derivations' own prefix).
    """
    if not kind or kind == "derive" or not set(kind) <= _KIND_CHARACTERS:
        raise ValueError(f"a text entry's kind must be a lower-case word, not {kind!r}")
    return folder / f"{kind}-{key}.txt"


def text_to_bytes(key: str, text: str) -> bytes:
    """The bytes of the text entry of ``key`` holding ``text``."""
    body = text.encode("utf-8")
    header = {"format": TEXT_FORMAT, "version": FORMAT_VERSION, **_versions(), "key": key,
              "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def text_from_bytes(key: str, data: bytes) -> str:
    """The text stored in an entry, checked against ``key``, versions and checksum.

    Raises
    ------
    ValueError
        If the entry is not a complete, intact text entry of this key, format and versions.
    """
    head, newline, body = data.partition(b"\n")
    if not newline or len(head) > 4096:
        raise _CorruptEntryError("no header line")
    header = json.loads(head)
    expected = {"format": TEXT_FORMAT, "version": FORMAT_VERSION, **_versions(), "key": key,
                "bytes": len(body)}
    if not isinstance(header, dict) or any(header.get(k) != v for k, v in expected.items()):
        raise _CorruptEntryError("another format, version, key or length")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise _CorruptEntryError("checksum mismatch")
    return body.decode("utf-8")


def load_text(folder: Path, kind: str, key: str) -> str | None:
    """The text cached for ``kind`` and ``key`` in ``folder``, or ``None`` (missing or unusable).

    An unusable entry (damaged, truncated, foreign, of another version) is
    ``None``, never an error, as for :func:`load`.
    """
    path = text_entry_path(folder, kind, key)
    if not path.exists():
        return None
    try:
        data = read_input(path, what="cache entry", limit=MAX_ENTRY_BYTES)
        return text_from_bytes(key, data)
    except (InputFileError, OSError, ValueError):
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
        return None


def store_text(folder: Path, kind: str, key: str, text: str) -> bool:
    """Write the text entry of ``kind`` and ``key`` atomically; ``False`` if it cannot be.

    Written as :func:`store` writes a derivation: to a temporary file in
    ``folder``, then renamed over the entry (never an error: a read-only or
    full disk only costs speed).
    """
    return _replace_atomically(folder, text_entry_path(folder, kind, key),
                               text_to_bytes(key, text), prefix=f".{kind}-")


def _replace_atomically(folder: Path, path: Path, data: bytes, *, prefix: str) -> bool:
    """Write ``data`` to ``path`` in ``folder`` through a renamed temporary file.

    ``False`` when the disk refuses (read-only, full): a cache only costs speed.
    """
    temporary = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=prefix, suffix=".tmp",
                                         delete=False) as handle:
            temporary = handle.name
            handle.write(data)
        os.replace(temporary, path)
        temporary = None
    except OSError:
        return False  # a read-only or full disk only costs speed
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return True
