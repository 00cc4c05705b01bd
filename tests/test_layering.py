"""CI holds the layering: core imports no backend, Kit or command module; backends import no command."""

from __future__ import annotations

from pathlib import Path

from layering import upward_imports

REPO = Path(__file__).resolve().parents[1]


def test_no_layer_imports_a_layer_above_it():
    offenders = upward_imports(REPO)
    assert not offenders, "upward imports:\n" + "\n".join(map(str, offenders))


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_fails_when_core_imports_a_backend(tmp_path: Path):
    root = _tree(
        tmp_path,
        {
            "omni/sdg_studio/core/recorder/recording.py": (
                "def default_backend(stage):\n"
                "    from omni.sdg_studio.backends.embedded import EmbeddedBackend\n"
                "    return EmbeddedBackend(stage)\n"
            ),
            "omni/sdg_studio/core/visualize/model.py": "from omni.sdg_studio import kit\n",
            "omni/sdg_studio/core/writers/__init__.py": "from ...commands import record\n",
            "omni/sdg_studio/backends/embedded/backend.py": "import omni.sdg_studio.commands.render as render\n",
            "omni/sdg_studio/backends/embedded/scene.py": "from omni.sdg_studio.core import colors\n",  # allowed
            "omni/sdg_studio/commands/record.py": "from omni.sdg_studio.backends import embedded\n",  # allowed
        },
    )
    found = {(u.file, u.line, u.module) for u in upward_imports(root)}
    assert found == {
        ("omni/sdg_studio/core/recorder/recording.py", 2, "omni.sdg_studio.backends.embedded"),
        ("omni/sdg_studio/core/recorder/recording.py", 2, "omni.sdg_studio.backends.embedded.EmbeddedBackend"),
        ("omni/sdg_studio/core/visualize/model.py", 1, "omni.sdg_studio.kit"),
        ("omni/sdg_studio/core/writers/__init__.py", 1, "omni.sdg_studio.commands"),
        ("omni/sdg_studio/core/writers/__init__.py", 1, "omni.sdg_studio.commands.record"),
        ("omni/sdg_studio/backends/embedded/backend.py", 1, "omni.sdg_studio.commands.render"),
    }
