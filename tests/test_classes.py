import subprocess
import sys

import pytest

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import BACKGROUND_COLOR, UNLABELLED_COLOR, stable_color


def test_stable_color_is_the_same_in_another_process():
    code = "from omni.sdg_studio.core.colors import stable_color; print(stable_color('pallet'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert other.strip() == str(stable_color("pallet"))


def test_stable_colors_are_opaque_and_distinct_for_common_labels():
    labels = ["pallet", "cardbox", "forklift", "traffic_cone", "crate", "rack", "wall", "floor"]
    colors = [stable_color(label) for label in labels]
    assert all(c[3] == 255 for c in colors)
    assert len(set(colors)) == len(colors)
    assert all(max(c[:3]) >= 150 for c in colors), "colors must stay visible on a dark background"


def test_class_table_prefers_listed_colors_and_ids():
    table = ClassTable([LabelClass("pallet", 3, (10, 20, 30, 255))])
    assert table.color("pallet") == (10, 20, 30, 255)
    assert table.get("pallet").id == 3
    added = table.get("cone")
    assert added.id == 4 and added.color == stable_color("cone")
    assert table.color("BACKGROUND") == BACKGROUND_COLOR and table.color("UNLABELLED") == UNLABELLED_COLOR


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        ClassTable([LabelClass("a", 1, (0, 0, 0, 255)), LabelClass("b", 1, (0, 0, 0, 255))])
