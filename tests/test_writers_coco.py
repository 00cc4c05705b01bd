"""CocoWriter: files pycocotools loads and evaluates, RLE masks that decode to the instance pixels."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from coco_reference import many_instances, reference_annotations
from frames import make_batch, make_frame
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.writers.base import FrameBatch
from omni.sdg_studio.core.writers.coco_writer import CocoWriter, camera_token
from omni.sdg_studio.core.writers.params import WriterParamError

# pycocotools' own decode path trips a numpy 2 deprecation; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

TABLE = ClassTable([LabelClass("crate", 4, (10, 20, 30, 255)), LabelClass("forklift", 7, (200, 100, 0, 255))])


def record(out: Path, indices=(0, 1), rp_names=("Replicator",), finish=True, **params) -> CocoWriter:
    writer = CocoWriter(out, **params)
    for index in indices:
        writer.write(make_batch(index, rp_names))
    if finish:
        writer.finish()
    else:
        writer.flush()
        writer.close()
    return writer


def load(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def test_layout_follows_replicator_cocowriter(tmp_path):
    writer = record(tmp_path, indices=(0, 3), classes=TABLE)
    token = "World-Cameras-ReplicatorCam"
    assert camera_token("/Replicator/Cam_Top") == "Cam-Top"
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == {
        f"coco_annotations_{writer.dataset_id}.json",
        *(
            f"Replicator/{kind}_{token}_{writer.dataset_id}.{n}.png"
            for kind in ("rgb", "panoptic")
            for n in ("0000", "0003")
        ),
    }


def test_dataset_id_is_drawn_from_the_seed(tmp_path):
    first = CocoWriter(tmp_path, seed=5)
    second = CocoWriter(tmp_path, seed=5)
    third = CocoWriter(tmp_path, seed=6)
    assert first.dataset_id == second.dataset_id != third.dataset_id
    assert len(first.dataset_id) == 8 and first.dataset_id.isalpha() and first.dataset_id.islower()
    for writer in (first, second, third):
        writer.close()


def test_masks_decode_to_the_instance_pixels(tmp_path):
    writer = record(tmp_path, indices=(0, 1), rp_names=("left", "right"), classes=TABLE)
    coco = load(writer.annotations_path)
    assert len(coco.getImgIds()) == 4  # 2 frames x 2 render products, unique ids
    checked = 0
    for image in coco.loadImgs(coco.getImgIds()):
        batch = make_batch(image["frame"], ("left", "right"))
        instance = batch.products[image["render_product"]]["instance_segmentation"]
        ids, paths = instance["data"], instance["info"]["idToLabels"]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        assert {a["prim_path"] for a in anns} == {"/World/Crate_01", "/World/Crate_02", "/World/Forklift"}
        for ann in anns:
            key = next(k for k, p in paths.items() if p == ann["prim_path"])
            expected = ids == key
            decoded = coco.annToMask(ann).astype(bool)
            np.testing.assert_array_equal(decoded, expected)
            assert ann["area"] == expected.sum()
            assert (
                ann["bbox"]
                == mask_utils.toBbox(mask_utils.encode(np.asfortranarray(expected.astype(np.uint8)))).tolist()
            )
            assert ann["iscrowd"] == 0
            checked += 1
    assert checked == 12


def test_categories_have_the_class_table_ids_and_colors(tmp_path):
    writer = record(tmp_path, classes=TABLE)
    coco = load(writer.annotations_path)
    categories = {c["name"]: c for c in coco.loadCats(coco.getCatIds())}
    assert categories["crate"]["id"] == 4 and categories["crate"]["color"] == [10, 20, 30]
    assert categories["forklift"]["id"] == 7
    forklift_anns = coco.loadAnns(coco.getAnnIds(catIds=[7]))
    assert forklift_anns and all(a["prim_path"] == "/World/Forklift" for a in forklift_anns)
    # the panoptic PNG paints each instance with its category color
    image = coco.loadImgs(coco.getImgIds())[0]
    panoptic = Path(writer.output_dir, image["file_name"].replace("/rgb_", "/panoptic_"))
    with Image.open(panoptic) as png:
        pixels = np.asarray(png)
    for ann in forklift_anns[:1]:
        assert (pixels[coco.annToMask(ann).astype(bool)] == (200, 100, 0)).all()


def test_replicator_coco_categories_are_used(tmp_path):
    categories = {  # config_coco_writer.yaml, with our labels
        "forklift": {
            "name": "forklift",
            "id": 333,
            "supercategory": "warehouse",
            "color": [211, 111, 211],
            "isthing": 1,
        },
        "crate": {"name": "crate", "id": 313, "supercategory": "warehouse", "color": [141, 111, 131], "isthing": 1},
    }
    writer = record(tmp_path, coco_categories=categories)
    data = json.loads(writer.annotations_path.read_text())
    by_name = {c["name"]: c for c in data["categories"]}
    assert by_name["forklift"] == {**categories["forklift"]}
    assert {a["category_id"] for a in data["annotations"]} == {313, 333}


def test_unlisted_labels_get_the_next_id(tmp_path):
    writer = record(tmp_path, classes=ClassTable([LabelClass("crate", 40, (1, 2, 3, 255))]))
    names = {c["name"]: c["id"] for c in json.loads(writer.annotations_path.read_text())["categories"]}
    assert names == {"crate": 40, "forklift": 41}


def test_pycocotools_evaluates_perfect_detections_to_ap_1(tmp_path):
    writer = record(tmp_path, classes=TABLE)
    gt = load(writer.annotations_path)
    detections = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "segmentation": a["segmentation"],
            "score": 1.0,
        }
        for a in gt.loadAnns(gt.getAnnIds())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        results = gt.loadRes(detections)
        for iou_type in ("bbox", "segm"):
            evaluation = COCOeval(gt, results, iou_type)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            assert evaluation.stats[0] == pytest.approx(1.0), iou_type


def test_an_interrupted_run_resumes_without_losing_annotations(tmp_path):
    first = record(tmp_path, indices=(0, 1), finish=False, classes=TABLE, seed=3)
    assert not first.annotations_path.exists()  # interrupted before the end-of-run file
    assert len(list(first.journal_dir.glob("*.json"))) == 2
    second = record(tmp_path, indices=(2, 3), classes=TABLE, seed=3, resume=True)
    coco = load(second.annotations_path)
    assert sorted(i["frame"] for i in coco.loadImgs(coco.getImgIds())) == [0, 1, 2, 3]
    assert len(coco.getAnnIds()) == 4 * 3
    assert not second.journal_dir.exists()
    # resuming a finished run keeps its annotations too
    third = record(tmp_path, indices=(4,), classes=TABLE, seed=3, resume=True)
    coco = load(third.annotations_path)
    assert sorted(i["frame"] for i in coco.loadImgs(coco.getImgIds())) == [0, 1, 2, 3, 4]
    assert len(set(coco.getAnnIds())) == 5 * 3


def renamed_batch(index: int):
    """A step whose crates are labelled "zebra": first met, last in alphabetical order."""
    batch = make_batch(index)
    semantics = batch.products["Replicator"]["instance_segmentation"]["info"]["idToSemantics"]
    for labels in semantics.values():
        if labels.get("class") == "crate":
            labels["class"] = "zebra"
    return batch


def test_resuming_without_a_class_table_keeps_category_ids(tmp_path):
    def run(index: int, resume: bool, finish: bool) -> CocoWriter:
        writer = CocoWriter(tmp_path, seed=3, resume=resume)
        writer.write(renamed_batch(index))
        if finish:
            writer.finish()
        else:
            writer.flush()
            writer.close()
        return writer

    first = run(0, resume=False, finish=True)
    before = {c["name"]: c["id"] for c in json.loads(first.annotations_path.read_text())["categories"]}
    run(1, resume=True, finish=False)  # interrupted after frame 1
    third = run(2, resume=True, finish=True)
    after = {c["name"]: c["id"] for c in json.loads(third.annotations_path.read_text())["categories"]}
    assert before == after == {"zebra": 1, "forklift": 2}


def test_a_new_run_does_not_pick_up_old_annotations(tmp_path):
    record(tmp_path, indices=(0, 1, 2), seed=3)
    writer = record(tmp_path, indices=(0,), seed=3)
    coco = load(writer.annotations_path)
    assert [i["frame"] for i in coco.loadImgs(coco.getImgIds())] == [0]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"coco_categories": {"crate": {"name": "crate"}}}, "coco_categories"),
        ({"coco_categories": {"crate": {"id": 1, "color": [1]}}}, "coco_categories"),
        ({"dataset_id": "a/b"}, "dataset_id"),
        ({"frame_padding": "4"}, "frame_padding"),
    ],
)
def test_invalid_parameters_name_the_parameter(tmp_path, params, param):
    with pytest.raises(WriterParamError) as caught:
        CocoWriter(tmp_path, **params)
    assert caught.value.param == param


def test_reported_frame_files_exist_after_finish(tmp_path):
    writer = CocoWriter(tmp_path, classes=TABLE)
    for index in range(3):
        writer.write(make_batch(index, ("a", "b")))
    end_files = writer.finish()
    frames = writer.completed_frames()
    assert sorted(f.index for f in frames) == [0, 1, 2]
    assert all(len(f.files) == 4 and all(p.is_file() for p in f.files) for f in frames)
    assert end_files == [writer.annotations_path]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_pass_statistics_are_byte_identical_to_one_mask_per_instance(tmp_path, seed):
    ids = many_instances(seed=seed)
    keys = [*range(2, 151), 999]  # 149, 150 and 999: labelled instances hidden behind the others
    frame = make_frame(width=ids.shape[1], height=ids.shape[0])
    frame["instance_segmentation"] = {
        "data": ids,
        "info": {
            "idToLabels": {k: f"/World/Box_{k}" for k in keys},
            "idToSemantics": {k: {"class": f"box{k % 7}"} for k in keys},
        },
    }
    render_products = {"Replicator": RenderProduct("/World/Cam", ids.shape[1], ids.shape[0])}
    writer = CocoWriter(tmp_path, classes=TABLE)
    writer.write(FrameBatch(index=0, products={"Replicator": frame}, render_products=render_products))
    writer.finish()
    written = json.loads(writer.annotations_path.read_text())["annotations"]
    expected = reference_annotations(ids, keys)
    assert len(written) == len(expected) >= 135
    statistics = ("instance_id", "bbox", "area", "segmentation")
    for ours, reference in zip(written, expected, strict=True):
        assert json.dumps({k: ours[k] for k in statistics}) == json.dumps(reference)
