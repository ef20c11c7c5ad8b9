"""Render resources/icons/prompt-lab.svg to every icon the app and its packages use.

- resources/icons/prompt-lab-{16..512}.png: the window icon (shipped in the package) and the
  hicolor icons of the Linux desktop entry (packaging/linux/install-desktop.sh);
- packaging/icons/prompt-lab.ico (Windows: 16-256 px) and prompt-lab.icns (macOS: 16-1024 px),
  for the PyInstaller bundle; written with Pillow from the same renderings.

Run after changing the SVG, and commit what it wrote:
    .venv/bin/python packaging/make_icons.py
(Qt renders the SVG; Pillow, in the `package` extra, writes the .ico and .icns.)
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
PACKAGE_ICONS = ROOT / "packaging" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # 256 is the largest an .ico holds
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)  # with the @2x variants macOS picks from


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def to_pillow(image: QImage):
    from PIL import Image

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def write_ico_and_icns(renderer: QSvgRenderer) -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise SystemExit("make_icons.py: the .ico and .icns need Pillow: "
                         "pip install -e '.[package]'") from None
    PACKAGE_ICONS.mkdir(parents=True, exist_ok=True)
    ico = [to_pillow(render(renderer, size)) for size in ICO_SIZES]
    # Pillow writes each given size from the image of that size (append_images), not resampled.
    ico[-1].save(PACKAGE_ICONS / "prompt-lab.ico", format="ICO",
                 sizes=[(s, s) for s in ICO_SIZES], append_images=ico[:-1])
    icns = [to_pillow(render(renderer, size)) for size in ICNS_SIZES]
    icns[-1].save(PACKAGE_ICONS / "prompt-lab.icns", format="ICNS", append_images=icns[:-1])


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs an application for rendering
    renderer = QSvgRenderer(str(ICONS / "prompt-lab.svg"))
    if not renderer.isValid():
        print("prompt-lab.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        render(renderer, size).save(str(ICONS / f"prompt-lab-{size}.png"))
    write_ico_and_icns(renderer)
    print(f"wrote {len(SIZES)} PNG icons to {ICONS.relative_to(ROOT)}, and prompt-lab.ico and "
          f"prompt-lab.icns to {PACKAGE_ICONS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
