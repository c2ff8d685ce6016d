#!/usr/bin/env python3
"""Writes the detection-file fixtures in Tests/SAM2Tests/Fixtures/detections/: small COCO detection
results, a COCO instances file, YOLO labels and COCO shard files for `sam2 segment --boxes-from` and
`sam2 merge-coco`, plus malformed files, each named for the fault it holds. Plain Python, no reference
package needed:

    python3 tools/reference/make_detection_fixtures.py

The boxes fit the 97x131 image Fixtures/model/images/odd.png and the 320x320 square.png.
"""
import json
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "Tests" / "SAM2Tests" / "Fixtures" / "detections"


def write(name, content):
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=1) + "\n")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    # COCO detection results: image 7 (odd.png copied as 000000000007.png) has two boxes, one of low score.
    write("results.json", [
        {"image_id": 7, "bbox": [10.5, 20.25, 30, 40], "score": 0.9, "category_id": 3},
        {"image_id": 7, "bbox": [40, 50, 50, 70], "score": 0.3, "category_id": 1},
        {"image_id": 8, "bbox": [1, 1, 20, 20], "score": 0.8, "category_id": 1},
    ])
    write("results_one.json", [{"image_id": 7, "bbox": [10.5, 20.25, 30, 40], "score": 0.9, "category_id": 3}])
    # A COCO instances file: file names with and without a folder; an annotation without a score.
    write("instances.json", {
        "images": [{"id": 11, "file_name": "odd.png", "width": 97, "height": 131},
                   {"id": 12, "file_name": "val/square.png", "width": 320, "height": 320}],
        "annotations": [{"id": 1, "image_id": 11, "bbox": [5, 6, 40, 50], "category_id": 2, "area": 2000, "iscrowd": 0},
                        {"id": 2, "image_id": 12, "bbox": [100, 100, 80, 60], "category_id": 1, "score": 0.75}],
        "categories": [{"id": 1, "name": "person", "supercategory": "animal"}, {"id": 2, "name": "rock"}],
    })
    # YOLO labels: class cx cy w h [confidence], fractions of the image.
    write("yolo/odd.txt", "0 0.5 0.5 0.5 0.25 0.9\n2 0.25 0.75 0.125 0.25 0.1\n")
    write("yolo/square.txt", "1 0.5 0.5 0.25 0.25\n\n")
    # Malformed files.
    write("bad/not_json.json", '[{"image_id": 7, "bbox": [1, 2, 3, 4]')
    write("bad/unknown.json", {"predictions": []})
    write("bad/missing_bbox.json", [{"image_id": 7, "bbox": [1, 2, 3, 4], "category_id": 1},
                                    {"image_id": 7, "score": 0.5, "category_id": 1}])
    write("bad/negative_size.json", [{"image_id": 7, "bbox": [1, 2, -3, 4], "category_id": 1}])
    write("bad/short_bbox.json", [{"image_id": 7, "bbox": [1, 2, 3], "category_id": 1}])
    write("bad/text_bbox.json", [{"image_id": 7, "bbox": [1, "2", 3, 4], "category_id": 1}])
    write("bad/text_image_id.json", [{"image_id": "seven", "bbox": [1, 2, 3, 4], "category_id": 1}])
    write("bad/text_score.json", [{"image_id": 7, "bbox": [1, 2, 3, 4], "category_id": 1, "score": "high"}])
    write("bad/instances_no_file_name.json", {"images": [{"id": 1}], "annotations": [], "categories": []})
    write("bad/instances_bad_annotation.json", {"images": [{"id": 1, "file_name": "a.png"}],
                                                "annotations": [{"image_id": 1, "bbox": [0, 0, 1, 1]}, 5]})
    write("bad/columns.txt", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n")
    write("bad/not_a_number.txt", "0 0.5 abc 0.2 0.2\n")
    write("bad/negative.txt", "0 0.5 0.5 -0.2 0.2\n")
    write("bad/class.txt", "\n\ncar 0.5 0.5 0.2 0.2\n")
    # COCO shard files for merge-coco: image 2 and category 1 in both; a conflicting redefinition.
    cats = [{"id": 1, "name": "object"}]
    write("merge/shard_a.json", {
        "info": {"description": "shard a"},
        "images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 3}, {"id": 2, "file_name": "b.png", "width": 4, "height": 3}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
                        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 1, 1, 1], "score": 0.25}],
        "categories": cats,
    })
    write("merge/shard_b.json", {
        "images": [{"id": 2, "file_name": "b.png", "width": 4, "height": 3}, {"id": 3, "file_name": "c.png", "width": 4, "height": 3}],
        "annotations": [{"id": 1, "image_id": 3, "category_id": 2, "bbox": [0, 0, 2, 2], "score": 0.75}],
        "categories": cats + [{"id": 2, "name": "other"}],
    })
    write("merge/conflict.json", {
        "images": [{"id": 2, "file_name": "z.png", "width": 4, "height": 3}],
        "annotations": [], "categories": cats,
    })
    write("merge/orphan.json", {
        "images": [{"id": 9, "file_name": "y.png", "width": 4, "height": 3}],
        "annotations": [{"id": 1, "image_id": 10, "category_id": 1, "bbox": [0, 0, 1, 1]}], "categories": cats,
    })


if __name__ == "__main__":
    main()
