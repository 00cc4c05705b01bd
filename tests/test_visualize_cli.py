import numpy as np
import pytest
import visualize_samples as samples
from PIL import Image

from omni.sdg_studio import cli


def main(argv: list[str]) -> int:
    """Run the CLI as the ``sdg-studio`` script does and return its exit status."""
    try:
        return cli.main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "_out"
    frames = [samples.frame(i) for i in range(3)]
    empty = samples.frame()
    empty["bounding_box_2d_tight"]["data"] = empty["bounding_box_2d_tight"]["data"][:0]
    empty["bounding_box_2d_tight"]["info"]["primPaths"] = []
    samples.write_basic_writer(root, [*frames, empty], products=["TopCam", "SideCam"])
    return root


def test_view_writes_a_grid_of_the_chosen_frame_and_prints_the_summary(dataset, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["view", str(dataset), "--camera", "SideCam", "--frame", "2", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 frames" not in printed and "8 frames" in printed  # 4 frames per camera, 2 cameras
    assert "crate" in printed and "pallet" in printed
    assert "frames with no labels (2)" in printed and "SideCam:0003" in printed
    assert "SideCam frame 0002" in printed
    image = np.asarray(Image.open(out))
    assert image.ndim == 3 and image.shape[2] == 4 and image.shape[0] > samples.HEIGHT


def test_view_all_writes_a_contact_sheet(dataset, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert main(["view", str(dataset), "--all", "-o", str(out)]) == 0
    assert "contact sheet of 8 frames" in capsys.readouterr().out
    assert Image.open(out).size[0] > 0


def test_view_refuses_to_overwrite_and_names_bad_input(dataset, tmp_path, capsys):
    out = tmp_path / "grid.png"
    out.write_bytes(b"keep me")
    assert main(["view", str(dataset), "--camera", "TopCam", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["view", str(dataset), "--camera", "TopCam", "-o", str(out), "--overwrite"]) == 0
    assert main(["view", str(tmp_path / "nothing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["view", str(dataset), "--camera", "Nope", "-o", str(tmp_path / "x.png")]) == 2
    assert "no camera 'Nope'" in capsys.readouterr().err
    assert (
        main(["view", str(dataset), "--camera", "TopCam", "--annotators", "lidar", "-o", str(tmp_path / "y.png")]) == 2
    )
    assert "lidar not recorded" in capsys.readouterr().err
    assert main(["view", str(dataset), "--depth", "fixed", "-o", str(tmp_path / "z.png")]) == 2
    assert "near and far" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "z.png").exists()


def test_view_reports_unreadable_files_and_still_draws(dataset, tmp_path, capsys):
    broken = dataset / "TopCam" / "distance_to_image_plane" / "distance_to_image_plane_0000.npy"
    broken.write_bytes(b"\x93NUMPY garbage")
    out = tmp_path / "grid.png"
    assert main(["view", str(dataset), "--camera", "TopCam", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cannot show distance_to_image_plane" in printed and "distance_to_image_plane_0000.npy" in printed
    assert out.exists()


def test_preview_renders_a_camera_of_the_sample_scene(sample_scene, tmp_path, capsys):
    out = tmp_path / "preview.png"
    args = ["preview", str(sample_scene), "--camera", "/World/Cameras/TopCam", "-o", str(out), "--resolution", "96x72"]
    assert main([*args, "--annotators", "rgb,semantic_segmentation,bounding_box_3d"]) == 0
    assert "3 tiles of /World/Cameras/TopCam" in capsys.readouterr().out
    image = np.asarray(Image.open(out))
    assert image.shape[2] == 4 and len(np.unique(image.reshape(-1, 4), axis=0)) > 20, "a picture, not a blank"
    assert main([*args, "--annotators", "lidar"]) == 2
    assert "choose from" in capsys.readouterr().err
    assert main([*args, "--resolution", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main([*args]) == 2, "the first grid must not be overwritten unasked"


def test_demo_step_writes_a_contact_sheet_of_the_recording_without_overwriting(dataset, tmp_path):
    from omni.sdg_studio.commands.view import contact_sheet_step

    demo_out = dataset.parent
    first = contact_sheet_step(demo_out)
    second = contact_sheet_step(demo_out)
    assert first == demo_out / "contact_sheet.png" and second == demo_out / "contact_sheet_1.png"
    assert Image.open(first).size == Image.open(second).size
    assert contact_sheet_step(tmp_path / "empty") is None
