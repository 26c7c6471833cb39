"""Photos a customer sends with a fault report: JPEG or PNG only, at most 5 MB each and 3
per report, decoded and encoded again with Pillow so that nothing of the original file
(EXIF with its GPS position, comments, a payload after the image) is kept."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from partsvc.core.errors import InvalidInput

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3
MAX_PIXELS = 40_000_000
"""A decompression bomb (a small file of a huge image) is refused before decoding."""
KINDS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


class PhotoRefused(InvalidInput):
    """A photo that is not taken: ``reason`` is too_large, not_an_image or too_many."""

    def __init__(self, reason: str, detail: str, name: str) -> None:
        super().__init__(detail, errors={"photos": [detail]}, reason=reason, file=name[:100])
        self.reason = reason


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_photo(raw: bytes, name: str) -> CleanPhoto:
    """The photo re-encoded without metadata, turned upright; PhotoRefused otherwise."""
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoRefused("too_large", f"{name}: larger than 5 MB.", name)
    try:
        with Image.open(io.BytesIO(raw)) as image:
            kind = image.format or ""
            if kind not in KINDS:
                raise PhotoRefused("not_an_image", f"{name}: not a JPEG or PNG photo.", name)
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("too_large", f"{name}: too many pixels.", name)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise PhotoRefused("not_an_image", f"{name}: not a JPEG or PNG photo.", name) from error
    content_type, extension = KINDS[kind]
    out = io.BytesIO()
    if kind == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
        upright.convert(mode).save(out, "PNG", optimize=True)
    return CleanPhoto(out.getvalue(), content_type, extension, upright.width, upright.height)


def store_photo(folder: Path, photo: CleanPhoto) -> str:
    """Write the photo under a random name in ``folder``; the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{photo.extension}"
    (folder / name).write_bytes(photo.data)
    return name


def photo_path(folder: Path, stored_as: str) -> Path | None:
    """The stored photo's file, if the name is one of ours and the file is there."""
    if "/" in stored_as or "\\" in stored_as or stored_as.startswith("."):
        return None
    path = folder / stored_as
    return path if path.is_file() else None
