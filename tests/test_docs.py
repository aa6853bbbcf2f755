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


def test_the_hub_terminal_instruction_works_in_a_login_shell(tmp_path: Path) -> None:
    # A login shell with a clean environment resets PATH as a JupyterHub terminal does; the
    # README's command names the environment's interpreter, so it still finds dcmview.
    import subprocess
    import sys

    assert "/path/printed/by/the/cell/python -m dcmview --no-browser study/" in README
    command = f"{sys.executable} -m dcmview --version"
    done = subprocess.run(
        ["env", "-i", f"HOME={tmp_path}", "bash", "-l", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dcmview ")
