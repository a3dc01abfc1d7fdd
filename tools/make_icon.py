"""Draws icon.png, the pack's square icon for the Comfy Registry ([tool.comfy] Icon):
a pool grid of nine thumbnails, the active one framed in the grid's blue. Run from the
repo root: `python tools/make_icon.py` (Pillow only)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4  # drawn large, then scaled down: smooth edges without an antialiasing API
BACKGROUND = (31, 36, 48)
ACTIVE = (58, 142, 230)
TILES = [
    (230, 162, 58), (94, 186, 125), (201, 84, 110),
    (120, 104, 214), (240, 204, 96), (72, 170, 196),
    (222, 120, 72), (150, 196, 86), (176, 112, 196),
]  # fmt: skip


def draw(size: int = SIZE) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 6, fill=BACKGROUND)
    margin, gap = big // 7, big // 22
    cell = (big - 2 * margin - 2 * gap) // 3
    for i, color in enumerate(TILES):
        row, col = divmod(i, 3)
        x = margin + col * (cell + gap)
        y = margin + row * (cell + gap)
        box = (x, y, x + cell, y + cell)
        pen.rounded_rectangle(box, radius=cell // 6, fill=color)
        # a "picture": a pale sun and a darker hill in each thumbnail
        r = cell // 8
        pen.ellipse((x + cell // 5, y + cell // 5, x + cell // 5 + 2 * r, y + cell // 5 + 2 * r),
                    fill=(255, 255, 255, 170))  # fmt: skip
        pen.polygon([(x, y + cell), (x + cell // 2, y + cell // 2), (x + cell, y + cell)],
                    fill=(0, 0, 0, 70))  # fmt: skip
        if i == 4:  # the active slot
            w = big // 40
            pen.rounded_rectangle(
                (x - 2 * w, y - 2 * w, x + cell + 2 * w, y + cell + 2 * w),
                radius=cell // 5,
                outline=ACTIVE,
                width=w,
            )
    return image.resize((size, size), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "icon.png"
    draw().save(target, optimize=True)
    print(f"wrote {target}")
