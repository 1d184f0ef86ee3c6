"""Cross-checks `vision eval` against pycocotools' COCOeval (bbox) on a Pascal VOC split.

Usage:
    ~/ref/bin/python Tools/crosscheck_coco_eval.py --dataset DIR --split SPLIT \
        --predictions preds.jsonl --vision-metrics metrics.json

`preds.jsonl` is `vision predict` JSON Lines
({"file", "objects": [{"bbox": [x1, y1, x2, y2], "label", "label_id", "prob"}]}) and
`metrics.json` is what `vision eval --predictions preds.jsonl --dataset DIR --split SPLIT
--output metrics.json` wrote. Exits 1 when any metric differs by more than --tolerance (1e-4).

Ground truth is rebuilt from the VOC files independently of the Swift code, mirroring
VisionData's conventions (Sources/VisionData/Datasets/VOCReader.swift, VOCAnnotationParser.swift,
RecordAssembly.swift, DetectionDataset.swift; Evaluation/PredictionFile.swift,
COCOEvaluator.swift, COCOMatching.swift, EvaluationImage.swift):

- Splits: ImageSets/Main/*.txt (hidden files skipped) except per-class lists
  `{class}_{split}.txt` (stem whose part after the last "_" is itself a split stem).
  An id is the first whitespace-separated token of each non-empty line.
- Classes: the sorted set of object names found in the annotations of the ids named by
  ANY split (not only SPLIT), so category id k (1-based) = position in that list. Objects
  without a name or without all four numeric bndbox coordinates are left out (and do not
  add classes).
- Only direct <object> children of the root count (VOC <part> objects do not). `difficult`
  is int(text) != 0. Width/height = int(float(text)) of <size>; when <= 0, the image
  file's stored size (no EXIF rotation).
- An object is skipped (a dataset "problem") when a coordinate is not finite, when
  x2 <= x1 or y2 <= y1 (zero/negative area), or, when the size is known, when it passes
  the image border by more than 1 px (x1 < -1, y1 < -1, x2 > W + 1, y2 > H + 1).
- Boxes are used as written: COCO bbox = [x1, y1, x2 - x1, y2 - y1], area = (x2 - x1) *
  (y2 - y1) (no +1 pixel convention), iscrowd = 0. `difficult` GT are ordinary GT in the
  COCO metrics (neither crowd nor ignored); only the VOC07 metric leaves them out.
- Records are kept even when the image file is missing (`vision eval --predictions`
  loads with requireImages = false). Image id = 1-based position in the split list, so
  pycocotools' sorted image ids follow the split order that vision evaluates in.
- The image file name is <filename> when given, else the id, resolved in JPEGImages/
  (a name without extension tries .jpg, .jpeg, .png, .JPG, .PNG; first existing wins).
- Predictions pair with images by basename (last line wins for a repeated file); lines of
  files outside the split are dropped; images without a line have no detections.
  Classes by name ("label", or "class_<label_id>" without it); unknown names are dropped.
  Detection order within an image is kept (pycocotools' stable sort breaks score ties
  by it, as vision does).

Per-class AP50 = mean of eval['precision'][0, :, k, 0, 2] over entries > -1 (-1 if none).
VOC07 mAP (reference computed here, py-faster-rcnn voc_eval style): +1 pixel-inclusive
IoU > 0.5, difficult GT neither TP nor FP and not counted, stable sort by score, 11-point AP,
classes without positive GT left out of the mean.
"""

import argparse
import contextlib
import io
import json
import math
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

IMAGE_SUFFIXES = [".jpg", ".jpeg", ".png", ".JPG", ".PNG"]
BOUNDS_SLACK = 1.0
SUMMARY_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"]


def visible_sorted(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


def split_lists(root):
    """Split name -> ids, as VOCReader.splitLists (without split files: one split 'all')."""
    main = os.path.join(root, "ImageSets", "Main")
    files = [n for n in visible_sorted(main) if n.endswith(".txt")]
    stems = {n[:-4] for n in files}
    split_files = [n for n in files if "_" not in n[:-4] or n[:-4].rsplit("_", 1)[1] not in stems]
    if not split_files:
        ann = os.path.join(root, "Annotations")
        return {"all": [n[:-4] for n in visible_sorted(ann) if n.endswith(".xml")]}
    lists = {}
    for name in split_files:
        with open(os.path.join(main, name), encoding="utf-8") as f:
            lists[name[:-4]] = [line.split()[0] for line in f.read().splitlines() if line.split()]
    return lists


def parse_number(text):
    try:
        return float(text)
    except ValueError:
        return None


def parse_annotation(path):
    """The parts VOCAnnotationParser reads; None when unreadable or malformed."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    if root.tag != "annotation":
        return None
    text = lambda e: "".join(e.itertext()).strip()
    out = {"filename": None, "width": 0, "height": 0, "objects": []}
    for child in root:
        if child.tag == "filename":
            out["filename"] = text(child)
        elif child.tag == "size":
            for s in child:
                if s.tag in ("width", "height"):
                    v = parse_number(text(s))
                    out[s.tag] = int(v) if v is not None and math.isfinite(v) else 0
        elif child.tag == "object":
            obj = {"name": None, "difficult": False, "coords": [None] * 4}
            for o in child:
                if o.tag == "name":
                    obj["name"] = text(o)
                elif o.tag == "difficult":
                    try:
                        obj["difficult"] = int(text(o)) != 0
                    except ValueError:
                        obj["difficult"] = False
                elif o.tag == "bndbox":
                    for b in o:
                        if b.tag in ("xmin", "ymin", "xmax", "ymax"):
                            obj["coords"][["xmin", "ymin", "xmax", "ymax"].index(b.tag)] = parse_number(text(b))
            out["objects"].append(obj)
    return out


def resolve_image(name, image_dir):
    candidates = [name] if os.path.splitext(name)[1] else [name + s for s in IMAGE_SUFFIXES]
    for c in candidates:
        if os.path.exists(os.path.join(image_dir, c)):
            return os.path.join(image_dir, c)
    return os.path.join(image_dir, candidates[0])


def image_size(path):
    try:
        from PIL import Image
        with Image.open(path) as im:
            return im.size
    except Exception:
        return None


def box_problem(box, width, height):
    x1, y1, x2, y2 = box
    if not all(math.isfinite(v) for v in box):
        return "non-finite coordinate"
    if x2 <= x1 or y2 <= y1:
        return "zero or negative area"
    if width > 0 and height > 0:
        s = BOUNDS_SLACK
        if x1 < -s or y1 < -s or x2 > width + s or y2 > height + s:
            return "out of bounds"
    return None


def load_voc_split(root, split):
    """(classes, records, problems); records are dicts with file, width, height, boxes, labels, difficult."""
    lists = split_lists(root)
    if split not in lists:
        sys.exit(f"split '{split}' not in {sorted(lists)}")
    ids, seen = [], set()
    for lst in lists.values():
        for i in lst:
            if i not in seen:
                seen.add(i)
                ids.append(i)
    image_dir = os.path.join(root, "JPEGImages")
    raws, problems = {}, []
    for i in ids:
        parsed = parse_annotation(os.path.join(root, "Annotations", i + ".xml"))
        if parsed is None:
            problems.append(f"{i}: unreadable annotation")
            continue
        names = ([parsed["filename"]] if parsed["filename"] else []) + [i]
        resolved = [resolve_image(n, image_dir) for n in names]
        path = next((p for p in resolved if os.path.exists(p)), resolved[0])
        w, h = parsed["width"], parsed["height"]
        if w <= 0 or h <= 0:
            size = image_size(path)
            if size:
                w, h = size
        objects = [o for o in parsed["objects"] if o["name"] and all(c is not None for c in o["coords"])]
        problems += [f"{i}: object without name or coordinates"] * (len(parsed["objects"]) - len(objects))
        raws[i] = (path, w, h, objects)
    classes = sorted({o["name"] for (_, _, _, objs) in raws.values() for o in objs})
    label_of = {c: k + 1 for k, c in enumerate(classes)}
    records = []
    for i in lists[split]:
        if i not in raws:
            continue
        path, w, h, objects = raws[i]
        rec = {"file": os.path.basename(path), "width": w, "height": h, "boxes": [], "labels": [], "difficult": []}
        for n, o in enumerate(objects):
            why = box_problem(o["coords"], w, h)
            if why:
                problems.append(f"{i} object {o['name']} {o['coords']}: {why}")
                continue
            rec["boxes"].append(o["coords"])
            rec["labels"].append(label_of[o["name"]])
            rec["difficult"].append(o["difficult"])
        records.append(rec)
    return classes, records, problems


def read_predictions(path, records, classes):
    """Per record, its detections [(x1, y1, x2, y2, label, score)] in file order."""
    by_name = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                j = json.loads(line)
                by_name[os.path.basename(j["file"])] = j
    label_of = {c: k + 1 for k, c in enumerate(classes)}
    out = []
    for rec in records:
        dets = []
        for o in by_name.get(rec["file"], {}).get("objects", []) or []:
            name = o.get("label")
            if not isinstance(name, str):
                name = f"class_{int(o['label_id'])}" if "label_id" in o else ""
            if name in label_of:
                x1, y1, x2, y2 = (float(v) for v in o["bbox"])
                dets.append((x1, y1, x2, y2, label_of[name], float(o["prob"])))
        out.append(dets)
    return out


def run_cocoeval(classes, records, detections):
    images = [{"id": n + 1, "file_name": r["file"], "width": r["width"], "height": r["height"]}
              for n, r in enumerate(records)]
    anns = []
    for n, r in enumerate(records):
        for (x1, y1, x2, y2), label in zip(r["boxes"], r["labels"]):
            anns.append({"id": len(anns) + 1, "image_id": n + 1, "category_id": label,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    cats = [{"id": k + 1, "name": c} for k, c in enumerate(classes)]
    results = [{"image_id": n + 1, "category_id": d[4], "bbox": [d[0], d[1], d[2] - d[0], d[3] - d[1]], "score": d[5]}
               for n, dets in enumerate(detections) for d in dets]
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": cats}
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot take an empty list
            dt = COCO()
            dt.dataset = {"images": images, "annotations": [], "categories": cats}
            dt.createIndex()
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    per_class = {}
    for k, c in enumerate(classes):
        p = ev.eval["precision"][0, :, k, 0, 2]
        p = p[p > -1]
        per_class[c] = float(p.mean()) if p.size else -1.0
    return dict(zip(SUMMARY_KEYS, map(float, ev.stats[:9]))), per_class, len(anns), len(results)


def voc07_map(records, detections, num_classes):
    """py-faster-rcnn voc_eval (use_07_metric), stable score sort; -1 when no class has positives."""
    aps = []
    for label in range(1, num_classes + 1):
        gts = [[(b, d) for b, l, d in zip(r["boxes"], r["labels"], r["difficult"]) if l == label] for r in records]
        npos = sum(1 for g in gts for _, d in g if not d)
        if npos == 0:
            continue
        dets = [(n, d) for n, ds in enumerate(detections) for d in ds if d[4] == label]
        order = np.argsort([-d[5] for _, d in dets], kind="mergesort")
        claimed = [[False] * len(g) for g in gts]
        tp, fp = np.zeros(len(dets)), np.zeros(len(dets))
        for rank, idx in enumerate(order):
            n, d = dets[idx]
            best, best_j = -np.inf, -1
            for j, ((gx1, gy1, gx2, gy2), _) in enumerate(gts[n]):
                iw = max(min(d[2], gx2) - max(d[0], gx1) + 1.0, 0.0)
                ih = max(min(d[3], gy2) - max(d[1], gy1) + 1.0, 0.0)
                inter = iw * ih
                union = (d[2] - d[0] + 1.0) * (d[3] - d[1] + 1.0) + (gx2 - gx1 + 1.0) * (gy2 - gy1 + 1.0) - inter
                if inter / union > best:
                    best, best_j = inter / union, j
            if best > 0.5:
                if gts[n][best_j][1]:
                    continue
                if claimed[n][best_j]:
                    fp[rank] = 1
                else:
                    tp[rank] = 1
                    claimed[n][best_j] = True
            else:
                fp[rank] = 1
        tp, fp = np.cumsum(tp), np.cumsum(fp)
        rec = tp / npos
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        aps.append(sum((prec[rec >= t].max() if (rec >= t).any() else 0.0) / 11 for t in np.arange(0.0, 1.1, 0.1)))
    return float(np.mean(aps)) if aps else -1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--vision-metrics", required=True)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    classes, records, problems = load_voc_split(args.dataset, args.split)
    detections = read_predictions(args.predictions, records, classes)
    stats, per_class, n_gt, n_dt = run_cocoeval(classes, records, detections)
    voc07 = voc07_map(records, detections, len(classes))
    with open(args.vision_metrics, encoding="utf-8") as f:
        vision = json.load(f)

    print(f"{args.dataset} split {args.split}: {len(records)} images, {n_gt} GT boxes, {n_dt} detections, "
          f"classes {classes}, {len(problems)} GT problem(s) skipped")
    for p in problems:
        print(f"  skipped: {p}")
    rows = [(k, vision[k], stats[k]) for k in SUMMARY_KEYS]
    rows += [(f"AP50[{c}]", vision["per_class_AP50"].get(c, float("nan")), per_class[c]) for c in classes]
    rows += [("VOC07_mAP (own voc_eval)", vision["VOC07_mAP"], voc07)]
    print(f"{'metric':<26} {'vision':>12} {'pycocotools':>12} {'|diff|':>10}")
    worst = 0.0
    for name, v, ref in rows:
        diff = abs(v - ref) if math.isfinite(v) else math.inf
        worst = max(worst, diff)
        print(f"{name:<26} {v:>12.8f} {ref:>12.8f} {diff:>10.2e}")
    print(f"max |diff| = {worst:.3e} (tolerance {args.tolerance:g})")
    if worst > args.tolerance:
        print("MISMATCH")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
