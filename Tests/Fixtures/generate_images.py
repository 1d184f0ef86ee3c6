#!/usr/bin/env python3
"""Generates the VisionImaging test fixtures under Tests/Fixtures/images/.

Run with the reference venv:  ~/ref/bin/python Tests/Fixtures/generate_images.py

Writes:
  decode/<name>.png|.jpg      tiny images (odd sizes) in many PNG/JPEG flavours
  decode/<name>.rgb           expected decode: raw uint8, interleaved RGB, row-major
  bad/*                       files every decoder must reject with an error
  decode.json                 manifest: file, expected file, width, height, notes
  photos.json                 compact Pillow references for Samples/photos/*.jpg
  resize/*.f32, resize.json   torch bilinear-interpolate cases (raw little-endian float32)

Expected pixels come from Pillow's convert("RGB") (EXIF-oriented with
ImageOps.exif_transpose) except for 16-bit PNGs, whose expectation is the high
byte of each sample: torchvision's read_image and libpng's png_set_strip_16 do
that, while Pillow's I;16 -> RGB conversion clips instead.
"""
import io
import json
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torchvision.models.detection.transform import _resize_image_and_masks

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "images"
PHOTOS = ROOT.parent.parent / "Samples" / "photos"
rng = np.random.default_rng(20240607)
manifest = []


def test_pattern(height, width):
    """Smooth gradients plus noise: exercises both DCT and filters."""
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(width - 1, 1))
    g = (y * 255 // max(height - 1, 1))
    b = ((x + y) * 97) % 256
    image = np.stack([r, g, b], axis=-1).astype(np.int32)
    image += rng.integers(-20, 21, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def add(name, data, expected_rgb, note):
    """Stores an encoded file and its expected [H, W, 3] uint8 decode."""
    (OUT / "decode" / name).write_bytes(data)
    expected = np.ascontiguousarray(expected_rgb, dtype=np.uint8)
    assert expected.ndim == 3 and expected.shape[2] == 3
    stem = name.rsplit(".", 1)[0]
    (OUT / "decode" / f"{stem}.rgb").write_bytes(expected.tobytes())
    manifest.append({"file": name, "expected": f"{stem}.rgb", "width": int(expected.shape[1]),
                     "height": int(expected.shape[0]), "note": note})


def pillow_rgb(data):
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))


def pillow_save(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# ---------------------------------------------------------------- PNG writer
# Pillow cannot write 2/4-bit gray, 16-bit colour, 16-bit gray+alpha or
# interlaced PNGs, so those are written here (every scanline filter 0..4 used).

def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def filter_rows(raw_rows, bytes_per_pixel):
    """Applies filter type (row index mod 5) to each row; returns filtered bytes."""
    out = bytearray()
    previous = bytes(len(raw_rows[0])) if raw_rows else b""
    for index, row in enumerate(raw_rows):
        kind = index % 5
        filtered = bytearray(len(row))
        for i, value in enumerate(row):
            left = row[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            up = previous[i]
            up_left = previous[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
            filtered[i] = (value - predictor) & 0xFF
        out += bytes([kind]) + filtered
        previous = row
    return bytes(out)


def pack_rows(samples, bit_depth):
    """[H, W*channels] integer samples -> list of packed row bytes."""
    rows = []
    for line in samples:
        if bit_depth == 16:
            rows.append(line.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(line.astype(np.uint8).tobytes())
        else:
            per_byte = 8 // bit_depth
            padded = np.zeros(-(-len(line) // per_byte) * per_byte, dtype=np.int64)
            padded[:len(line)] = line
            packed = np.zeros(len(padded) // per_byte, dtype=np.int64)
            for k in range(per_byte):
                packed |= padded[k::per_byte] << (8 - bit_depth * (k + 1))
            rows.append(packed.astype(np.uint8).tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples, bit_depth, color_type, interlaced=False, extra_chunks=()):
    """samples: [H, W, channels] integers. Returns the PNG bytes."""
    height, width, channels = samples.shape
    bytes_per_pixel = max(1, channels * bit_depth // 8)
    data = b""
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        rows = pack_rows(sub.reshape(sub.shape[0], -1), bit_depth)
        data += filter_rows(rows, bytes_per_pixel)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlaced else 0)
    body = chunk(b"IHDR", header) + b"".join(extra_chunks) + chunk(b"IDAT", zlib.compress(data, 9))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def gray_to_rgb(gray):
    return np.repeat(gray[..., None], 3, axis=-1)


def make_pngs():
    rgb = test_pattern(23, 37)
    add("rgb8.png", pillow_save(Image.fromarray(rgb), "PNG"), rgb, "RGB 8-bit (Pillow)")
    gray = test_pattern(19, 27)[..., 1]
    add("gray8.png", pillow_save(Image.fromarray(gray, "L"), "PNG"), gray_to_rgb(gray), "gray 8-bit")
    bits = (test_pattern(17, 29)[..., 2] > 127)
    data = pillow_save(Image.fromarray(bits), "PNG")
    add("gray1.png", data, gray_to_rgb(bits.astype(np.uint8) * 255), "gray 1-bit")
    assert np.array_equal(pillow_rgb(data), gray_to_rgb(bits.astype(np.uint8) * 255))
    for depth, scale in [(2, 85), (4, 17)]:
        levels = rng.integers(0, 1 << depth, size=(15, 21, 1))
        data = write_png(levels, depth, 0)
        add(f"gray{depth}.png", data, gray_to_rgb(levels[..., 0] * scale), f"gray {depth}-bit")
        assert np.array_equal(pillow_rgb(data), gray_to_rgb(levels[..., 0] * scale))
    gray16 = rng.integers(0, 65536, size=(13, 25, 1))
    add("gray16.png", write_png(gray16, 16, 0), gray_to_rgb(gray16[..., 0] >> 8), "gray 16-bit: high byte")
    la = np.stack([gray[:, :], 255 - gray], axis=-1)
    add("gray_alpha8.png", pillow_save(Image.fromarray(la, "LA"), "PNG"), gray_to_rgb(gray),
        "gray+alpha 8-bit: alpha dropped")
    la16 = rng.integers(0, 65536, size=(11, 17, 2))
    add("gray_alpha16.png", write_png(la16, 16, 4), gray_to_rgb(la16[..., 0] >> 8), "gray+alpha 16-bit")
    palette_image = Image.fromarray(test_pattern(21, 31)).quantize(colors=13)
    data = pillow_save(palette_image, "PNG")
    add("palette.png", data, pillow_rgb(data), "palette (13 colours)")
    palette_image.info["transparency"] = bytes([0, 128, 255, 64] + [255] * 9)
    data = pillow_save(palette_image, "PNG", transparency=palette_image.info["transparency"])
    assert b"tRNS" in data
    add("palette_trns.png", data, pillow_rgb(data), "palette with tRNS: alpha dropped")
    gray_trns = rng.integers(0, 256, size=(9, 14, 1))
    data = write_png(gray_trns, 8, 0, extra_chunks=[chunk(b"tRNS", struct.pack(">H", int(gray_trns[0, 0, 0])))])
    add("gray8_trns.png", data, gray_to_rgb(gray_trns[..., 0]), "gray with tRNS key: ignored")
    rgba = np.concatenate([test_pattern(25, 19), rng.integers(0, 256, size=(25, 19, 1), dtype=np.uint8)], -1)
    data = pillow_save(Image.fromarray(rgba, "RGBA"), "PNG")
    add("rgba8.png", data, rgba[..., :3], "RGBA 8-bit: alpha dropped, not composited")
    assert np.array_equal(pillow_rgb(data), rgba[..., :3])
    rgb16 = rng.integers(0, 65536, size=(14, 23, 3))
    data = write_png(rgb16, 16, 2)
    add("rgb16.png", data, rgb16 >> 8, "RGB 16-bit: high byte")
    assert np.array_equal(pillow_rgb(data), rgb16 >> 8)  # Pillow's RGB;16B also keeps the high byte
    rgba16 = rng.integers(0, 65536, size=(12, 15, 4))
    data = write_png(rgba16, 16, 6)
    add("rgba16.png", data, rgba16[..., :3] >> 8, "RGBA 16-bit: high byte, alpha dropped")
    assert np.array_equal(pillow_rgb(data), rgba16[..., :3] >> 8)
    interlaced = test_pattern(29, 35)
    data = write_png(interlaced.astype(np.int64), 8, 2, interlaced=True)
    add("rgb8_interlaced.png", data, interlaced, "RGB 8-bit, Adam7 interlaced")
    assert np.array_equal(pillow_rgb(data), interlaced)
    interlaced_gray = rng.integers(0, 4, size=(10, 13, 1))
    data = write_png(interlaced_gray, 2, 0, interlaced=True)
    add("gray2_interlaced.png", data, gray_to_rgb(interlaced_gray[..., 0] * 85), "gray 2-bit interlaced")
    # A PNG named .jpg: the format comes from the signature, not the name.
    add("png_named.jpg", pillow_save(Image.fromarray(rgb), "PNG"), rgb, "PNG bytes under a .jpg name")


def exif_with_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def make_jpegs():
    base = Image.fromarray(test_pattern(30, 40))
    for name, options, note in [
        ("baseline.jpg", {"quality": 90}, "baseline 4:2:0"),
        ("baseline444.jpg", {"quality": 95, "subsampling": 0}, "baseline 4:4:4"),
        ("baseline422.jpg", {"quality": 85, "subsampling": 1}, "baseline 4:2:2"),
        ("progressive.jpg", {"quality": 90, "progressive": True}, "progressive"),
    ]:
        data = pillow_save(base, "JPEG", **options)
        add(name, data, pillow_rgb(data), note)
    odd = Image.fromarray(test_pattern(23, 37))
    data = pillow_save(odd, "JPEG", quality=80, progressive=True)
    add("progressive_odd.jpg", data, pillow_rgb(data), "progressive 37x23")
    data = pillow_save(Image.fromarray(test_pattern(21, 33)[..., 0], "L"), "JPEG", quality=90)
    add("grayscale.jpg", data, pillow_rgb(data), "grayscale")
    data = pillow_save(Image.fromarray(test_pattern(19, 29)).convert("CMYK"), "JPEG", quality=90)
    assert b"Adobe" in data
    add("cmyk.jpg", data, pillow_rgb(data), "CMYK with Adobe APP14 (inverted)")

    # EXIF orientations 2..8 on a 13x9 image (distinct corners).
    small = Image.fromarray(test_pattern(9, 13))
    expected_ops = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                    8: Image.Transpose.ROTATE_90}
    for value in range(1, 9):
        data = pillow_save(small, "JPEG", quality=95, exif=exif_with_orientation(value))
        stored = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        oriented = pillow_rgb(data)
        if value in expected_ops:
            assert np.array_equal(oriented, np.asarray(Image.fromarray(stored).transpose(expected_ops[value])))
        if value == 6:  # 90 degrees clockwise: the stored bottom-left pixel lands top-left
            assert np.array_equal(oriented[0, 0], stored[-1, 0]) and oriented.shape[:2] == (13, 9)
        add(f"exif_orientation{value}.jpg", data, oriented, f"EXIF orientation {value} applied")
    # Big-endian ("MM") TIFF header with orientation 6, written by hand.
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + b"\0" * 4
    data = pillow_save(small, "JPEG", quality=95, exif=b"Exif\x00\x00" + tiff)
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6
    add("exif_big_endian6.jpg", data, pillow_rgb(data), "EXIF orientation 6, big-endian TIFF")
    # Garbage EXIF payload: must decode unrotated, not crash.
    data = pillow_save(small, "JPEG", quality=95, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x01" * 9)
    add("exif_garbage.jpg", data, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), "malformed EXIF ignored")


def make_bad_files():
    bad = OUT / "bad"
    jpeg = pillow_save(Image.fromarray(test_pattern(30, 40)), "JPEG", quality=90)
    (bad / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 6 // 10])
    progressive = pillow_save(Image.fromarray(test_pattern(30, 40)), "JPEG", quality=90, progressive=True)
    (bad / "truncated_progressive.jpg").write_bytes(progressive[: len(progressive) // 2])
    png = pillow_save(Image.fromarray(test_pattern(30, 40)), "PNG")
    (bad / "truncated.png").write_bytes(png[: len(png) * 6 // 10])
    (bad / "empty.png").write_bytes(b"")
    (bad / "text.jpg").write_bytes(b"This is a text file, not a JPEG.\n")
    idat = png.index(b"IDAT")
    length = struct.unpack(">I", png[idat - 4: idat])[0]
    crc_at = idat + 4 + length
    corrupt = bytearray(png)
    corrupt[crc_at] ^= 0xFF
    (bad / "bad_crc.png").write_bytes(bytes(corrupt))
    # Decompression bombs: valid headers claiming 30000x30000 pixels.
    sof = jpeg.index(b"\xff\xc0")
    bomb = bytearray(jpeg)
    bomb[sof + 5: sof + 9] = struct.pack(">HH", 30000, 30000)
    (bad / "bomb.jpg").write_bytes(bytes(bomb))
    try:  # Pillow refuses it as a bomb too, which confirms the header parses
        Image.open(io.BytesIO(bytes(bomb)))
        raise AssertionError("bomb.jpg was not refused by Pillow")
    except Image.DecompressionBombError:
        pass
    ihdr = png.index(b"IHDR")
    header = struct.pack(">II", 30000, 30000) + png[ihdr + 12: ihdr + 17]
    (bad / "bomb.png").write_bytes(png[: ihdr - 4] + chunk(b"IHDR", header) + png[ihdr + 21:])


def make_photo_references():
    references = []
    for path in sorted(PHOTOS.glob("*.jpg")):
        pixels = pillow_rgb(path.read_bytes())
        height, width, _ = pixels.shape
        positions = np.random.default_rng(7).integers(0, height * width, size=300)
        flat = pixels.reshape(-1, 3)
        references.append({
            "file": path.name, "width": width, "height": height,
            "mean": [float(m) for m in pixels.reshape(-1, 3).astype(np.float64).mean(axis=0)],
            "samples": [[int(p % width), int(p // width), *map(int, flat[p])] for p in positions],
        })
    (OUT / "photos.json").write_text(json.dumps(references, separators=(",", ":")))


def hash_tensor(shape, seed):
    """Deterministic pseudo-random values in [0, 1), reproduced in the Swift
    tests: h = i*2654435761 + seed*40503; h ^= h>>15; h *= 2246822519;
    h ^= h>>13 (all mod 2^32); value = (h >> 8) / 2^24."""
    i = np.arange(int(np.prod(shape)), dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    h = (i * np.uint64(2654435761) + np.uint64(seed * 40503)) & mask
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(2246822519)) & mask
    h ^= h >> np.uint64(13)
    return torch.from_numpy(((h >> np.uint64(8)).astype(np.float64) / 16777216.0).astype(np.float32).reshape(shape))


def make_resize_cases():
    folder = OUT / "resize"
    cases = []

    def store_full(name, x, y, note, **extra):
        (folder / f"{name}.input.f32").write_bytes(x.numpy().astype("<f4").tobytes())
        (folder / f"{name}.output.f32").write_bytes(y.numpy().astype("<f4").tobytes())
        cases.append({"name": name, "note": note, "inputShape": list(x.shape), "outputShape": list(y.shape),
                      "input": f"{name}.input.f32", "output": f"{name}.output.f32", **extra})

    def store_sampled(name, shape, seed, y, note, **extra):
        flat = y.reshape(-1).numpy()
        positions = np.random.default_rng(seed).integers(0, flat.size, size=1500)
        cases.append({"name": name, "note": note, "inputShape": list(shape), "outputShape": list(y.shape),
                      "hashSeed": seed, "outputMean": float(flat.astype(np.float64).mean()),
                      "samples": [[int(p), float(flat[p])] for p in positions], **extra})

    x = torch.rand(3, 37, 53)
    store_full("upscale_3x37x53_to_61x89", x, F.interpolate(x[None], size=(61, 89), mode="bilinear",
                                                           align_corners=False)[0], "size= upscale")
    x = torch.rand(2, 3, 29, 31)
    store_full("nchw_2x3x29x31_to_17x31", x, F.interpolate(x, size=(17, 31), mode="bilinear",
                                                          align_corners=False), "4-D, identity width axis")
    x = torch.rand(1, 41, 23)
    store_full("mixed_1x41x23_to_19x50", x, F.interpolate(x[None], size=(19, 50), mode="bilinear",
                                                          align_corners=False)[0], "down height, up width")
    for name, shape, min_size, max_size, seed in [
        ("detection_480x640_800_1333", (3, 480, 640), 800, 1333, 11),
        ("detection_480x640_320_640", (3, 480, 640), 320, 640, 12),
        ("detection_517x333_800_1333", (3, 517, 333), 800, 1333, 13),
        ("detection_190x250_320_640", (3, 190, 250), 320, 640, 14),
    ]:
        x = hash_tensor(shape, seed)
        y, _ = _resize_image_and_masks(x, float(min_size), float(max_size))
        store_sampled(name, shape, seed, y, "torchvision _resize_image_and_masks",
                      minSize=min_size, maxSize=max_size)
    (OUT / "resize.json").write_text(json.dumps(cases, separators=(",", ":")))


def main():
    warnings.simplefilter("ignore")  # Pillow warns about the deliberately odd files
    for folder in ["decode", "bad", "resize"]:
        (OUT / folder).mkdir(parents=True, exist_ok=True)
        for old in (OUT / folder).iterdir():
            old.unlink()
    torch.manual_seed(0)
    make_pngs()
    make_jpegs()
    make_bad_files()
    (OUT / "decode.json").write_text(json.dumps(manifest, indent=1))
    make_photo_references()
    make_resize_cases()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(manifest)} decode fixtures; {total / 1024:.0f} KiB under {OUT}")


if __name__ == "__main__":
    main()
