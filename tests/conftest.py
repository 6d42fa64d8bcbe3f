"""Shared pytest configuration and the objects many test modules use.

Tests mirror the package (``tests/<layer>/``). The mathematical tests compare
gandyn with an independent reference (closed forms by hand, published values,
scipy/mpmath numerics or central finite differences). Derived games that
several layers test against are session fixtures here, derived once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fresh_derivation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # gandyn.derivation.field keeps derivations on disk keyed by the costs and the
    # package version, not by the derivative rules' source: a cache written by
    # an earlier checkout could hand the tests stale derivatives. Each session
    # starts from an empty folder (and leaves the user's ~/.cache alone).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANDYN_CACHE_DIR", str(tmp_path_factory.mktemp("gandyn-cache")))
        yield


@pytest.fixture(scope="session")
def dirac_field() -> Any:
    """The Dirac-GAN with the minimax loss (Mescheder et al. 2018, Sec. 2.2), derived."""
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    return derive(make_game("dirac", "minimax"))


@pytest.fixture(scope="session")
def bilinear_field() -> Any:
    """The bilinear game ``f = theta psi``, derived: the rotation ``F = (-psi, theta)``."""
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    return derive(make_game("bilinear"))


@pytest.fixture
def invoke() -> Callable[..., tuple[int, str, str]]:
    """Run ``gandyn ARGS...`` in-process: ``(exit code, stdout, stderr)``."""
    from click.testing import CliRunner

    from gandyn.cli import cli

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), prog_name="gandyn")
        return result.exit_code, result.stdout, result.stderr

    return run


class ParsedHtml:
    """The tables of a ``_repr_html_`` and a check of its structure (see :func:`read_html`)."""

    #: The only elements gandyn's notebook HTML uses: no script, style, link, image or form.
    ALLOWED = frozenset({"div", "p", "strong", "table", "caption", "thead", "tbody", "tr", "th",
                         "td"})

    def __init__(self, text: str) -> None:
        from html.parser import HTMLParser

        self.tables: list[dict[str, Any]] = []
        self.paragraphs: list[str] = []
        open_tags: list[str] = []
        parsed = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                assert tag in ParsedHtml.ALLOWED, f"unexpected element <{tag}>"
                assert all(name == "scope" for name, _ in attrs), attrs
                open_tags.append(tag)
                if tag == "table":
                    parsed.tables.append({"caption": None, "rows": []})
                elif tag == "tr":
                    parsed.tables[-1]["rows"].append([])
                elif tag in ("td", "th"):
                    parsed.tables[-1]["rows"][-1].append("")
                elif tag == "p":
                    parsed.paragraphs.append("")

            def handle_endtag(self, tag: str) -> None:
                assert open_tags and open_tags[-1] == tag, f"</{tag}> closes {open_tags[-1:]}"
                open_tags.pop()

            def handle_data(self, data: str) -> None:
                where = open_tags[-1] if open_tags else None
                if where in ("td", "th"):
                    parsed.tables[-1]["rows"][-1][-1] += data
                elif where == "caption":
                    parsed.tables[-1]["caption"] = data
                elif where in ("p", "strong"):
                    parsed.paragraphs[-1] += data
                else:
                    assert not data.strip(), f"text outside a cell or paragraph: {data!r}"

        parser = Parser(convert_charrefs=True)
        parser.feed(text)
        parser.close()
        assert open_tags == [], f"unclosed {open_tags}"

    def table(self, caption: str) -> list[list[str]]:
        """The rows of the table with this caption."""
        (found,) = [t["rows"] for t in self.tables if t["caption"] == caption]
        return found

    def fields(self, caption: str) -> dict[str, str]:
        """A two-column table of named values as a mapping."""
        return {row[0]: row[1] for row in self.table(caption)}


@pytest.fixture
def read_html() -> Callable[[str], ParsedHtml]:
    """Parse a ``_repr_html_``: fails on a disallowed element or attribute, a tag closed out
    of order, an unclosed tag or text outside a cell; the tables by caption, text unescaped."""
    return ParsedHtml
