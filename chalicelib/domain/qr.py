"""QR codes of short links, as SVG or PNG, without Pillow. ``qrcode`` is imported lazily."""
from __future__ import annotations

import io

from chalicelib.core.errors import bad_request

MIN_PNG_SIZE, MAX_PNG_SIZE, DEFAULT_PNG_SIZE = 64, 2048, 512
BORDER = 4


def _matrix(data: str):
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    return code


def svg(data: str) -> bytes:
    """A scalable SVG with a white background (printable), sized in CSS pixels, not mm."""
    from qrcode.image.svg import SvgPathFillImage

    class PixelSvg(SvgPathFillImage):
        def units(self, pixels, text=True):
            return f"{pixels}px" if text else super().units(pixels, text=False)

    code = _matrix(data)
    out = io.BytesIO()
    code.make_image(image_factory=PixelSvg).save(out)
    return out.getvalue()


def png_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PNG_SIZE
    if not (raw.isascii() and raw.isdigit()) or not MIN_PNG_SIZE <= int(raw) <= MAX_PNG_SIZE:
        raise bad_request("invalid_size",
                          f"size must be a whole number of pixels from {MIN_PNG_SIZE} to {MAX_PNG_SIZE}.")
    return int(raw)


def png(data: str, size: int) -> bytes:
    """A PNG at most ``size`` pixels wide: the largest whole box size that fits."""
    from qrcode.image.pure import PyPNGImage

    code = _matrix(data)
    modules = code.modules_count + 2 * BORDER
    code.box_size = max(1, size // modules)
    out = io.BytesIO()
    code.make_image(image_factory=PyPNGImage).save(out)
    return out.getvalue()
