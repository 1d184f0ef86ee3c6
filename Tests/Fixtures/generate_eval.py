"""Fixture for VisionData's evaluators: random ground truth and detections
scored by pycocotools' COCOeval (bbox) and by a VOC07 11-point reference.

Run with the reference venv:  ~/ref/bin/python Tests/Fixtures/generate_eval.py
Writes Tests/Fixtures/eval/:
  gt.json            COCO instances JSON (images listed in shuffled id order,
                     ids with gaps, category ids 1, 3, 7, 10, 12)
  predictions.jsonl  `vision predict`-style JSON Lines, one line per image that
                     has detections, lines in shuffled order; bbox = [x1, y1, x2, y2]
  expected.json      COCOeval stats (12), per-class AP50
                     (mean of eval['precision'][0, :, k, 0, 2], -1 without GT),
                     recall [T x K x A x M], precision averaged over recall
                     thresholds [T x K x A x M], and VOC07 mAP with per-class AP.

What the data exercises:
  - 40 images of 640x480; 6 have no GT, 6 have no detections (1 has neither);
  - 5 categories: "fish" has GT but no detections; "horse" has detections but
    no GT (so -1 in every array and left out of the means);
  - small / medium / large GT (sides 4..300 px); the GT `area` field is
    deliberately smaller than w*h (a segmentation area), so area ranges must
    use the field for GT and w*h for detections;
  - 5 images carry 110..160 detections (maxDets 1/10/100 all matter);
  - score ties are DELIBERATELY included: scores are rounded to 2 decimals, so
    pycocotools' stable mergesort order (image id, then file order) decides;
  - the main fixture is crowd-free (iscrowd = 0 everywhere); a second, smaller
    one (gt_crowd.json, predictions_crowd.jsonl, expected_crowd.json: 16
    images, 15% of GT iscrowd = 1) exercises crowd matching and ignoring;
  - a third (gt_border.json, ...: 24 images) has GT boxes as annotation tools
    and converters leave them: ~25% pass an image border (by 1..60 px, so some
    lie within and some beyond the readers' clipping tolerance) and ~8% have
    zero width or height. pycocotools scores every one of them as written.
GT coordinates are integers so x + w and x2 - x1 are exact in float64.
"""
import json
import os
import random

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "eval")
W, H = 640, 480
CATEGORIES = [(1, "cat"), (3, "dog"), (7, "bird"), (10, "fish"), (12, "horse")]


def rand_box(rng):
    side_w = float(np.exp(rng.uniform(np.log(4), np.log(300))))
    side_h = side_w * rng.uniform(0.5, 2.0)
    w = int(max(2, min(W - 2, round(side_w))))
    h = int(max(2, min(H - 2, round(side_h))))
    x = int(rng.integers(0, W - w))
    y = int(rng.integers(0, H - h))
    return [x, y, w, h]


def jitter(box, rng, amount):
    x, y, w, h = box
    x1 = x + rng.normal(0, amount * w)
    y1 = y + rng.normal(0, amount * h)
    x2 = x + w + rng.normal(0, amount * w)
    y2 = y + h + rng.normal(0, amount * h)
    x1, x2 = sorted([x1, x2])
    y1, y2 = sorted([y1, y2])
    x2 = max(x2, x1 + 1)
    y2 = max(y2, y1 + 1)
    return [round(float(v), 2) for v in (x1, y1, x2, y2)]


def main():
    make("", seed=20240611, num_images=40, crowd_prob=0.0)
    make("_crowd", seed=99, num_images=16, crowd_prob=0.15)
    make("_border", seed=31, num_images=24, crowd_prob=0.0, unruly=True)


def unruly_box(box, rng):
    """`box` (xywh) moved past a border, or flattened to zero area, or as it was.
    Draws from `rng` only for the _border fixture."""
    x, y, w, h = box
    u = rng.uniform()
    if u < 0.08:
        return [x, y, 0, h] if rng.uniform() < 0.5 else [x, y, w, 0]
    if u < 0.33:
        past = int(rng.integers(1, 61))
        side = int(rng.integers(0, 4))
        if side == 0:
            return [-past, y, x + w + past, h]          # left edge at -past
        if side == 1:
            return [x, -past, w, y + h + past]          # top edge at -past
        if side == 2:
            return [x, y, W - x + past, h]              # right edge at W + past
        return [x, y, w, H - y + past]                  # bottom edge at H + past
    return box


def make(suffix, seed, num_images, crowd_prob, unruly=False):
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    os.makedirs(OUT, exist_ok=True)
    image_ids = sorted(int(v) for v in rng.choice(np.arange(1, 400), size=num_images, replace=False))
    no_gt = set(image_ids[2:8])
    no_dt = set(image_ids[6:12])  # image_ids[6:8] have neither
    many_dt = set(image_ids[12:17])
    gt_cats = [1, 3, 7, 10]
    dt_cats = [1, 3, 7, 12]  # fish (10) never detected; horse (12) never in GT
    names = dict(CATEGORIES)

    images, annotations, lines = [], [], []
    ann_id = 1
    for img_id in image_ids:
        images.append({"id": img_id, "file_name": f"img_{img_id:03d}.jpg", "width": W, "height": H})
        gts = []
        if img_id not in no_gt:
            for _ in range(int(rng.integers(1, 13))):
                box = rand_box(rng)
                if unruly:
                    box = unruly_box(box, rng)
                cat = int(rng.choice(gt_cats))
                area = round(box[2] * box[3] * float(rng.uniform(0.6, 1.0)), 1)
                crowd = int(rng.uniform() < crowd_prob)
                annotations.append({"id": ann_id, "image_id": img_id, "category_id": cat, "bbox": box,
                                    "area": area, "iscrowd": crowd})
                gts.append((box, cat))
                ann_id += 1
        if img_id in no_dt:
            continue
        objects = []
        for box, cat in gts:
            if cat == 10:
                continue
            for _ in range(int(rng.integers(0, 3))):
                label = cat if rng.uniform() < 0.85 else int(rng.choice(dt_cats))
                objects.append({"bbox": jitter(box, rng, float(rng.uniform(0.01, 0.12))), "label": names[label],
                                "label_id": label, "prob": round(float(rng.uniform(0.2, 1.0)), 2)})
        n_false = int(rng.integers(110, 161)) if img_id in many_dt else int(rng.integers(0, 8))
        for _ in range(n_false):
            x, y, w, h = rand_box(rng)
            label = int(rng.choice(dt_cats))
            objects.append({"bbox": [float(x), float(y), float(x + w), float(y + h)], "label": names[label],
                            "label_id": label, "prob": round(float(rng.uniform(0.0, 0.7)), 2)})
        pyrng.shuffle(objects)
        if objects:
            lines.append({"file": f"images/img_{img_id:03d}.jpg", "objects": objects})

    pyrng.shuffle(images)
    pyrng.shuffle(lines)
    gt = {"images": images, "annotations": annotations,
          "categories": [{"id": i, "name": n} for i, n in CATEGORIES]}
    with open(os.path.join(OUT, "gt.json".replace(".", suffix + ".", 1)), "w") as f:
        json.dump(gt, f, separators=(",", ":"))
    with open(os.path.join(OUT, "predictions.jsonl".replace(".", suffix + ".", 1)), "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")

    # pycocotools, fed exactly what the Swift side reads: xywh = (x1, y1, x2 - x1, y2 - y1).
    name_to_id = {n: i for i, n in CATEGORIES}
    file_to_id = {im["file_name"]: im["id"] for im in images}
    results = []
    for line in lines:
        img_id = file_to_id[os.path.basename(line["file"])]
        for o in line["objects"]:
            x1, y1, x2, y2 = o["bbox"]
            results.append({"image_id": img_id, "category_id": name_to_id[o["label"]],
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": o["prob"]})
    coco_gt = COCO(os.path.join(OUT, "gt.json".replace(".", suffix + ".", 1)))
    coco_dt = coco_gt.loadRes(results)
    ev = COCOeval(coco_gt, coco_dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    precision = ev.eval["precision"]  # [T, R, K, A, M]
    per_class = {}
    for k, (_, name) in enumerate(CATEGORIES):
        p = precision[0, :, k, 0, 2]
        per_class[name] = float(np.mean(p[p > -1])) if np.any(p > -1) else -1.0
    prec_mean = np.where((precision > -1).all(axis=1), precision.mean(axis=1), -1.0)  # [T, K, A, M]

    voc_map, voc_per_class = voc07(gt, lines, file_to_id)
    expected = {
        "stats": [float(v) for v in ev.stats],
        "per_class_AP50": per_class,
        "recall": ev.eval["recall"].reshape(-1).tolist(),
        "precision_mean_over_recall": prec_mean.reshape(-1).tolist(),
        "VOC07_mAP": voc_map,
        "VOC07_per_class": voc_per_class,
        "iouThrs": ev.params.iouThrs.tolist(),
        "recThrs": ev.params.recThrs.tolist(),
        "num_images": len(images), "num_gt": len(annotations), "num_detections": len(results),
    }
    with open(os.path.join(OUT, "expected.json".replace(".", suffix + ".", 1)), "w") as f:
        json.dump(expected, f, indent=1)
    print("VOC07 mAP", voc_map, voc_per_class)


def voc07(gt, lines, file_to_id, ovthresh=0.5):
    """py-faster-rcnn voc_eval.py (use_07_metric=True), reimplemented:
    +1 pixel-inclusive IoU; per class, detections of all images sorted by
    descending score with a STABLE sort over (images by ascending id, then file
    order) - voc_eval.py's default quicksort leaves ties unspecified; a
    detection takes the max-IoU GT of its image and class; IoU > 0.5 on an
    unclaimed, non-difficult GT is a TP, on a claimed one a FP; below, a FP.
    11-point AP over recall levels np.arange(0, 1.1, 0.1). Classes with no GT
    are left out of the mean. COCO GT has no "difficult" flag; crowd GT plays
    its part (not a positive; a detection on it is neither TP nor FP)."""
    gt_by, difficult_by = {}, {}
    for a in gt["annotations"]:
        x, y, w, h = a["bbox"]
        gt_by.setdefault((a["image_id"], a["category_id"]), []).append([x, y, x + w, y + h])
        difficult_by.setdefault((a["image_id"], a["category_id"]), []).append(bool(a["iscrowd"]))
    dets = {}
    for line in sorted(lines, key=lambda l: file_to_id[os.path.basename(l["file"])]):
        img_id = file_to_id[os.path.basename(line["file"])]
        for o in line["objects"]:
            dets.setdefault(o["label"], []).append((img_id, o["prob"], o["bbox"]))
    aps = {}
    for cat_id, name in CATEGORIES:
        npos = sum(v.count(False) for (i, c), v in difficult_by.items() if c == cat_id)
        if npos == 0:
            continue
        d = dets.get(name, [])
        order = np.argsort([-s for _, s, _ in d], kind="mergesort")
        claimed = {}
        tp = np.zeros(len(d))
        fp = np.zeros(len(d))
        for n, idx in enumerate(order):
            img_id, _, bb = d[idx]
            bbgt = np.array(gt_by.get((img_id, cat_id), []), dtype=float).reshape(-1, 4)
            ovmax = -np.inf
            if bbgt.size > 0:
                ixmin = np.maximum(bbgt[:, 0], bb[0])
                iymin = np.maximum(bbgt[:, 1], bb[1])
                ixmax = np.minimum(bbgt[:, 2], bb[2])
                iymax = np.minimum(bbgt[:, 3], bb[3])
                iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
                ih = np.maximum(iymax - iymin + 1.0, 0.0)
                inters = iw * ih
                uni = ((bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                       + (bbgt[:, 2] - bbgt[:, 0] + 1.0) * (bbgt[:, 3] - bbgt[:, 1] + 1.0) - inters)
                overlaps = inters / uni
                ovmax = np.max(overlaps)
                jmax = int(np.argmax(overlaps))
            if ovmax > ovthresh:
                if difficult_by[(img_id, cat_id)][jmax]:
                    continue
                flags = claimed.setdefault(img_id, [False] * len(bbgt))
                if not flags[jmax]:
                    tp[n] = 1.0
                    flags[jmax] = True
                else:
                    fp[n] = 1.0
            else:
                fp[n] = 1.0
        fp = np.cumsum(fp)
        tp = np.cumsum(tp)
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0.0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        aps[name] = float(ap)
    return float(np.mean(list(aps.values()))), aps


if __name__ == "__main__":
    main()
