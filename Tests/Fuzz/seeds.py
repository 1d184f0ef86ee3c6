#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target from the committed fixtures.

    seeds.py TARGET OUTPUT_DIR      (run from the repository root)

Seeds are copies of Tests/Fixtures and Samples files (or, for the EXIF,
unpickler and serve targets, pieces and wrappings of them); nothing is invented.
"""
import glob
import os
import sys
import zipfile

FIXTURES = ["Tests/Fixtures", "Samples"]
MAX_SEED_BYTES = 300_000  # larger files only slow the mutator down


def files(*patterns):
    found = []
    for root in FIXTURES:
        for pattern in patterns:
            found += glob.glob(os.path.join(root, "**", pattern), recursive=True)
    return sorted(f for f in set(found) if os.path.isfile(f) and os.path.getsize(f) <= MAX_SEED_BYTES)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pth_files(zip_kind):
    """The .pth fixtures that are zip archives (zip_kind) or legacy pickle streams."""
    return [f for f in files("*.pth") if read(f)[:2] == b"PK"] if zip_kind else \
        [f for f in files("*.pth") if read(f)[:3] == b"\x80\x02\x8a"]


def exif_payloads():
    """The TIFF payloads of the APP1 'Exif' segments of the JPEG fixtures."""
    out = []
    for path in files("*.jpg"):
        data = read(path)
        i = 2
        while i + 4 <= len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
            if marker == 0xE1 and data[i + 4:i + 10] == b"Exif\x00\x00":
                out.append((path, data[i + 10:i + 2 + length]))
                break
            if marker == 0xDA:
                break
            i += 2 + length
    return out


def pickles():
    out = []
    for path in pth_files(True):
        try:
            with zipfile.ZipFile(path) as archive:
                out += [(path, archive.read(n)) for n in archive.namelist() if n.endswith("data.pkl")]
        except Exception:  # noqa: BLE001 - truncated.pth, the fuzz finds: the zip targets use them
            pass
    return out + [(p, read(p)) for p in pth_files(False)]


def serve_requests():
    """POST bodies as a client sends them: raw image bodies and multipart forms."""
    images = [f for f in files("*.jpg", "*.png") if os.path.getsize(f) <= 20_000][:12]
    out = []
    for n, path in enumerate(images):
        data, name = read(path), os.path.basename(path)
        kind = b"image/png" if name.endswith(".png") else b"image/jpeg"
        out.append((path, kind + b"\nmin_prob=0.3&file=" + name.encode() + b"\n" + data))
        boundary = b"----vision%d" % n
        form = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + name.encode()
                + b"\"\r\nContent-Type: " + kind + b"\r\n\r\n" + data + b"\r\n--" + boundary
                + b"\r\nContent-Disposition: form-data; name=\"max_detections\"\r\n\r\n5\r\n--" + boundary
                + b"\r\nContent-Disposition: form-data; name=\"only_class\"\r\n\r\ncat, dog\r\n--" + boundary + b"--\r\n")
        out.append((path + ".form", b"multipart/form-data; boundary=" + boundary + b"\nmodel=default\n" + form))
    return out


SOURCES = {
    "jpeg": lambda: files("*.jpg"),
    "png": lambda: files("*.png"),
    "exif": exif_payloads,
    "safetensors": lambda: files("*.safetensors"),
    "pth_zip": lambda: pth_files(True),
    "zip": lambda: pth_files(True),
    "pth_legacy": lambda: pth_files(False),
    "unpickler": pickles,
    "voc_xml": lambda: files("*.xml"),
    "coco_json": lambda: files("instances_*.json", "gt*.json"),
    "csv": lambda: files("*.csv"),
    "yolo": lambda: [f for f in files("*.txt", "*.yaml") if "/labels/" in f or f.endswith((".yaml", "classes.txt"))],
    "predictions": lambda: files("*.jsonl"),
    "serve_request": serve_requests,
}


def main():
    target, output = sys.argv[1], sys.argv[2]
    os.makedirs(output, exist_ok=True)
    seeds = SOURCES[target]()
    for n, seed in enumerate(seeds):
        path, data = seed if isinstance(seed, tuple) else (seed, read(seed))
        name = "%03d-%s" % (n, os.path.basename(path))
        with open(os.path.join(output, name), "wb") as f:
            f.write(data)
    if not seeds:
        sys.exit("no seeds for %s" % target)
    print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
