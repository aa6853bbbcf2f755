"""The README states facts the code owns: check them against the code."""

from __future__ import annotations

from pathlib import Path

from dcmview.core.filters import FILTER_ALIASES
from dcmview.core.transfer_syntaxes import SUPPORTED
from dcmview.server.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_lists_every_supported_transfer_syntax() -> None:
    for syntax in SUPPORTED:
        assert f"| {syntax.name} | `{syntax.uid}` | {syntax.decoder} |" in README


def test_readme_documents_every_cli_option() -> None:
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"{flag}" in README, flag


def test_readme_lists_every_filter_alias() -> None:
    for name in FILTER_ALIASES:
        assert f"`{name}`" in README
