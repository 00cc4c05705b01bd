"""Label layers: a file pxr cannot read is one clear error; anything else is not disguised as one."""

from pathlib import Path

import pytest
from pxr import Sdf, Usd

from omni.sdg_studio.core.semantics.layers import LabelLayerError, insert_sublayer, open_labeled


def _not_usd(tmp_path: Path) -> Path:
    path = tmp_path / "labels.usda"
    path.write_text("this is not a USD layer {\n")
    return path


def test_an_unreadable_labels_layer_names_the_file(sample_scene: Path, tmp_path: Path):
    labels = _not_usd(tmp_path)
    with pytest.raises(LabelLayerError, match=f"{labels}: cannot be read as a USD layer"):
        open_labeled(sample_scene, labels)


def test_an_unreadable_sublayer_names_the_file(tmp_path: Path):
    labels = _not_usd(tmp_path)
    with pytest.raises(LabelLayerError, match=f"{labels}: cannot be opened or created"):
        insert_sublayer(Usd.Stage.CreateInMemory(), labels)


def test_an_error_that_is_not_pxr_is_not_reported_as_an_unreadable_layer(
    sample_scene: Path, tmp_path: Path, monkeypatch
):
    def broken(*args, **kwargs):
        raise KeyError("a programming error")

    monkeypatch.setattr(Sdf.Layer, "FindOrOpen", broken)
    with pytest.raises(KeyError, match="a programming error"):
        open_labeled(sample_scene, _not_usd(tmp_path))
    with pytest.raises(KeyError, match="a programming error"):
        insert_sublayer(Usd.Stage.CreateInMemory(), _not_usd(tmp_path))
