"""The README's examples run as written in a fresh copy of the repository and leave its checkout clean.

The commands are read from README.md's fenced ``bash`` blocks (every ``sdg-studio`` command, also the one
after ``pip install -e . &&``), its ``python`` blocks run as scripts; install and test lines are skipped
(this test is one of those tests). Afterwards ``git status`` finds nothing new or changed, and every
ignored file the examples wrote lies under ``_out/``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUT_FOLDER = "_out/"
#: Ignored paths a Python run leaves anywhere (bytecode caches), not outputs of the examples.
CACHES = ("__pycache__/",)
TIMEOUT = 600


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language fences of a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def shell_commands(block: str) -> list[list[str]]:
    """The ``sdg-studio`` commands of a bash block as argument lists (continuations joined, comments dropped,
    ``a && b`` split)."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        pieces: list[list[str]] = [[]]
        for word in words:
            if word == "&&":
                pieces.append([])
            else:
                pieces[-1].append(word)
        commands += [piece for piece in pieces if piece and piece[0] == "sdg-studio"]
    return commands


def readme_examples(readme: Path) -> tuple[list[list[str]], list[str]]:
    text = readme.read_text(encoding="utf-8")
    commands = [c for block in fenced_blocks(text, "bash") for c in shell_commands(block)]
    return commands, fenced_blocks(text, "python")


def git(*args: str, cwd: Path) -> str:
    flags = ["-c", "user.name=readme-test", "-c", "user.email=readme-test@localhost", "-c", "core.autocrlf=false"]
    return subprocess.run(["git", *flags, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh repository holding the tracked files of this checkout as they are now, committed."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    copy = tmp_path_factory.mktemp("readme") / "repo"
    copy.mkdir()
    for name in git("ls-files", "-z", cwd=ROOT).split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    git("init", "-q", cwd=copy)
    git("add", "-A", cwd=copy)
    git("commit", "-q", "-m", "checkout", cwd=copy)
    return copy


def run(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    """Start ``command`` (``sdg-studio ...`` as ``python -m omni.sdg_studio.cli ...``, a script as ``python -c``)."""
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(cwd)}
    if command[0] == "sdg-studio":
        command = [sys.executable, "-m", "omni.sdg_studio.cli", *command[1:]]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str], label: str) -> None:
    output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, f"{label} exited {process.returncode}:\n{output[-4000:]}"
    assert "Traceback" not in output, f"{label}:\n{output[-4000:]}"


def test_the_readme_has_examples_of_every_command():
    commands, scripts = readme_examples(ROOT / "README.md")
    used = {c[1] for c in commands}
    assert {"demo", "labels", "label", "upgrade-semantics", "render", "record", "preview", "view", "merge"} <= used
    assert scripts


def test_readme_examples_run_and_leave_the_checkout_clean(checkout: Path):
    commands, scripts = readme_examples(checkout / "README.md")
    located = subprocess.run(
        [sys.executable, "-c", "import omni.sdg_studio as m; print(m.__file__)"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(located.stdout.strip()).is_relative_to(checkout)  # the copy's code runs, not this checkout's
    # The demo reads and writes nothing the other examples use: it runs beside them (two cores, half the time).
    demos = [c for c in commands if c[1] == "demo"]
    background = [run(c, checkout) for c in demos]
    for command in (c for c in commands if c[1] != "demo"):
        finish(run(command, checkout), shlex.join(command))
    for script in scripts:
        finish(run([sys.executable, "-c", script], checkout), "python block")
    for process, command in zip(background, demos, strict=True):
        finish(process, shlex.join(command))

    assert git("status", "--porcelain", "--untracked-files=all", cwd=checkout) == ""
    ignored = [line[3:] for line in git("status", "--porcelain", "--ignored", cwd=checkout).splitlines()]
    stray = [p for p in ignored if not p.startswith(OUT_FOLDER) and not any(c in p for c in CACHES)]
    assert stray == [], f"written outside {OUT_FOLDER}: {stray}"
    written = [p for p in (checkout / OUT_FOLDER).rglob("*") if p.is_file()]
    assert any(p.name == "contact_sheet.png" for p in written) and any(p.name == "sdg_manifest.json" for p in written)
