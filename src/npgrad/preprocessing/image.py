"""``npgrad.preprocessing.image``, as ``keras.preprocessing.image``: image files to arrays
and back (``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, also in
``npgrad.utils``) and ``smart_resize``; see :mod:`npgrad.utils.image_utils` (Pillow is used
when installed; without it, PNG files)."""

from npgrad.utils.image_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
