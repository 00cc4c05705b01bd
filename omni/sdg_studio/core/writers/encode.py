"""Encode arrays and label maps to file contents (PNG/JPEG via pillow, ``.npy``, JSON)."""

from __future__ import annotations

import io
import json
import os
import zlib
from datetime import datetime, timezone
from typing import Any, BinaryIO, Literal, get_args

import numpy as np
from PIL import Image

#: zlib settings for PNGs; writing must keep up with rendering. With the run-length strategy the level
#: makes no difference (only 0, no compression, would): on the sample scene's 512x512 frames it encodes
#: as fast as level 1 (which zlib-ng makes very fast but coarse) with files about half as large, close
#: to pillow's default level 6 at 2/3 of its time; on a photo it is faster than level 1 and as small as
#: level 6 (6x faster). The decoded pixels are the same whatever the settings.
PNG_COMPRESS_LEVEL = 1
PNG_COMPRESS_TYPE = zlib.Z_RLE

#: ``image_output_format`` values (as writers' parameters declare them).
ImageFormat = Literal["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"]
#: Each ``image_output_format`` and the pillow format it maps to.
IMAGE_FORMATS: dict[str, str] = {
    str(name): {"jpg": "JPEG", "tif": "TIFF"}.get(str(name), str(name).upper()) for name in get_args(ImageFormat)
}
_OPAQUE_ONLY = {"JPEG", "BMP"}


def image_bytes(data: np.ndarray, fmt: str = "png") -> bytes:
    """Encode an image array: uint8 (H,W) / (H,W,3) / (H,W,4), or uint16 (H,W) (PNG only).

    Formats without alpha (JPEG, BMP) drop the alpha channel.
    """
    pil_format = IMAGE_FORMATS[fmt.lower()]
    array = np.ascontiguousarray(data)
    if array.dtype == np.uint16:
        if array.ndim != 2 or pil_format != "PNG":
            raise ValueError(f"16-bit images must be (H, W) PNGs, got {array.shape} {fmt}")
        image = Image.fromarray(array)  # mode "I;16"
    elif array.dtype == np.uint8 and array.ndim == 2:
        image = Image.fromarray(array)  # mode "L"
    elif array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] in (3, 4):
        if pil_format in _OPAQUE_ONLY and array.shape[2] == 4:
            array = np.ascontiguousarray(array[:, :, :3])
        image = Image.fromarray(array)  # mode "RGBA" or "RGB"
    else:
        raise ValueError(f"cannot encode an image of dtype {array.dtype} and shape {array.shape}")
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if pil_format == "PNG":
        options = {"compress_level": PNG_COMPRESS_LEVEL, "compress_type": PNG_COMPRESS_TYPE}
    if pil_format == "JPEG":
        options["quality"] = 95
    image.save(buffer, format=pil_format, **options)
    return buffer.getvalue()


class _WriteOnly:
    """A file seen only through ``write``: numpy then writes in 16 MiB chunks through it, so a full disk
    raises the file's own ``OSError(ENOSPC)`` (``ndarray.tofile`` would report a bare short write)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.write = handle.write


def write_npy(handle: BinaryIO, data: np.ndarray) -> None:
    """Write the ``.npy`` file ``numpy.save`` writes for ``data`` (structured dtypes kept, no pickles),
    in chunks, with no in-memory copy of the whole file."""
    np.lib.format.write_array(_WriteOnly(handle), np.asarray(data), allow_pickle=False)


def to_jsonable(value: Any) -> Any:
    """Numpy arrays / scalars and tuples to plain JSON types, recursively."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def json_bytes(value: Any, *, indent: int | None = None) -> bytes:
    """JSON as Replicator's writers dump it (``json.dumps`` separators; keys made strings)."""
    return json.dumps(to_jsonable(value), indent=indent).encode("utf-8")


def file_time() -> datetime:
    """The wall-clock time a writer puts into a file (COCO's dates): now in UTC, or ``SOURCE_DATE_EPOCH``
    (the reproducible-builds convention, seconds since 1970) when set, so a recording can be reproduced
    byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    return datetime.now(timezone.utc)
