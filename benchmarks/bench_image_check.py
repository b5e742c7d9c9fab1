"""Cost of the image check that `fusionlabel import` makes on every image it copies.

For each real camera image found (a nuScenes 1600x900 JPEG, SUSTech 2048x1536 JPEGs, a KITTI
1242x375 PNG) it prints the median milliseconds per image of:

  * header:  `image_size`, the size from the PNG/JPEG header alone (what import used to check);
  * checked: `checked_image_size`, the size plus a decode of every pixel (what import checks now:
             JPEG at 1/8 scale, grey);
  * full:    `read_image`, a full-size RGB decode, for comparison.

Usage: python benchmarks/bench_image_check.py [--repeats 15] [--realdata PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.io.images import checked_image_size, image_size, read_image  # noqa: E402


def median_ms(fn, path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata")))
    args = ap.parse_args()
    images = [*sorted((args.realdata / "nuscenes_mini/samples/CAM_FRONT").glob("*.jpg")),
              *sorted((args.realdata / "sustech_sequence/camera/front").glob("*.jpg")),
              *sorted((args.realdata / "kitti_object/training/image_2").glob("000001.png"))]
    if not images:
        print(f"no real images under {args.realdata} (set FUSIONLABEL_REALDATA)")
        return 1
    print(f"{'image':<28} {'size':>10} {'header':>8} {'checked':>8} {'full':>8}  (ms per image)")
    for p in images:
        w, h = image_size(p)
        row = [median_ms(fn, p, args.repeats) for fn in (image_size, checked_image_size, read_image)]
        print(f"{p.name[-28:]:<28} {f'{w}x{h}':>10} " + " ".join(f"{v:8.2f}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
