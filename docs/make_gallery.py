"""Copy the figures of an ``orthornn report`` run into docs/_static/gallery/ (not run in CI).

    python docs/make_gallery.py                       # runs `orthornn report --budget small` first
    python docs/make_gallery.py --from report/        # or takes an existing report folder

Each figure is downscaled to at most ``--width`` pixels and saved as an optimised PNG, so the
committed gallery stays small (the script prints the sizes and fails above ``--max-total``).
It also writes docs/_static/gallery/report.json (the run's numbers, for the captions of
docs/gallery.md). docs/gallery.md itself is written by hand: its captions quote the numbers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from orthornn.report.figures import FIGURES

DOCS = Path(__file__).resolve().parent
GALLERY = DOCS / "_static" / "gallery"
NAMES = ["figure1.png", *(spec.name for spec in FIGURES)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="source", type=Path, help="an existing report folder (default: run the report)")
    p.add_argument("--budget", default="small", choices=["small", "full"])
    p.add_argument("--width", type=int, default=1600, help="maximum width in pixels")
    p.add_argument("--max-total", type=float, default=2.0, help="MB; fail above")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            source = Path(tmp) / "report"
            cmd = [sys.executable, "-m", "orthornn", "report", "--budget", args.budget, "--out", str(source)]
            subprocess.run(cmd, check=True)
        GALLERY.mkdir(parents=True, exist_ok=True)
        total = 0
        for name in NAMES:
            src = source / name
            if not src.is_file():
                print(f"missing in {source}: {name}", file=sys.stderr)
                return 1
            img = Image.open(src).convert("RGB")
            if img.width > args.width:
                img = img.resize((args.width, round(img.height * args.width / img.width)), Image.LANCZOS)
            dst = GALLERY / name
            img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
            total += dst.stat().st_size
            print(f"{name:36s} {img.width}x{img.height}  {dst.stat().st_size / 1e3:7.1f} kB")
        report = json.loads((source / "report.json").read_text())
        (GALLERY / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"total {total / 1e6:.2f} MB in {GALLERY}")
    return 0 if total <= args.max_total * 1e6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
