"""Tiny synthetic datasets, one per format VisionData reads, each with the
problems the readers must report (and skip) rather than fail on.

Run:  ~/ref/bin/python Tests/Fixtures/datasets/generate_datasets.py
Images are 40x30 (tiny JPEG/PNG); everything together stays far below 100 KB.
The expected counts live in Tests/VisionDataTests/DatasetReaderTests.swift.
"""
import json
import os
import shutil

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 40, 30


def image(path, color, size=(W, H)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.new("RGB", size, color)
    if path.endswith(".png"):
        im.save(path)
    else:
        im.save(path, quality=70)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def voc_xml(filename, objects, size=(W, H)):
    parts = [f"<annotation>\n  <folder>JPEGImages</folder>\n  <filename>{filename}</filename>\n"
             f"  <size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>\n"]
    for name, box, difficult in objects:
        parts.append(f"  <object>\n    <name>{name}</name>\n    <difficult>{difficult}</difficult>\n"
                     f"    <bndbox><xmin>{box[0]}</xmin><ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax></bndbox>\n"
                     f"    <part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>\n"
                     f"  </object>\n")
    parts.append("</annotation>\n")
    return "".join(parts)


def voc(root):
    # a: 2 good boxes (one difficult). b: 1 good, 1 zero-area, 1 out of bounds.
    # c: malformed XML. d: image missing. e: listed in test.txt, no XML.
    # f: no <size> (read from the PNG header), float coordinates.
    image(f"{root}/JPEGImages/a.jpg", (200, 30, 30))
    image(f"{root}/JPEGImages/b.jpg", (30, 200, 30))
    image(f"{root}/JPEGImages/c.jpg", (30, 30, 200))
    image(f"{root}/JPEGImages/f.png", (90, 90, 90), size=(50, 20))
    write(f"{root}/Annotations/a.xml", voc_xml("a.jpg", [("dog", (2, 3, 20, 25), 0), ("cat", (10, 5, 40, 30), 1)]))
    write(f"{root}/Annotations/b.xml", voc_xml("b.jpg", [("cat", (1, 1, 11, 11), 0), ("cat", (5, 5, 5, 9), 0),
                                                         ("dog", (10, 10, 60, 20), 0)]))
    write(f"{root}/Annotations/c.xml", "<annotation><filename>c.jpg</filename><object><name>cat</name>")
    write(f"{root}/Annotations/d.xml", voc_xml("d.jpg", [("dog", (1, 1, 5, 5), 0)]))
    write(f"{root}/Annotations/f.xml", "<annotation><filename>f.png</filename><object><name>bird</name>"
                                       "<bndbox><xmin>1.5</xmin><ymin>2.5</ymin><xmax>48.5</xmax><ymax>19</ymax></bndbox>"
                                       "</object></annotation>")
    write(f"{root}/ImageSets/Main/train.txt", "a\nb\nc\n")
    write(f"{root}/ImageSets/Main/test.txt", "d\ne\nf\n")
    write(f"{root}/ImageSets/Main/cat_train.txt", "a  1\nb  1\nc -1\n")


def coco(root):
    # Images: 5 (id 9, no annotations), 2 (2 boxes + crowd), 7 (file missing).
    image(f"{root}/images/train/two.png", (10, 10, 10))
    image(f"{root}/images/train/five.jpg", (50, 50, 50))
    gt = {
        "images": [{"id": 5, "file_name": "five.jpg", "width": W, "height": H},
                   {"id": 2, "file_name": "two.png", "width": W, "height": H},
                   {"id": 9, "file_name": "nine.jpg", "width": W, "height": H}],
        "annotations": [
            {"id": 1, "image_id": 2, "category_id": 4, "bbox": [1, 2, 10, 12], "area": 100.0, "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 2, "bbox": [5, 5, 20, 10], "area": 150.5, "iscrowd": 1},
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 40, 30], "iscrowd": 0},
            {"id": 4, "image_id": 2, "category_id": 99, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0},
            {"id": 5, "image_id": 77, "category_id": 2, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0},
            {"id": 6, "image_id": 2, "category_id": 4, "bbox": [1, 1, 0, 5], "area": 0, "iscrowd": 0},
            {"id": 7, "image_id": 9, "category_id": 4, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0},
            {"id": 8, "image_id": 2, "category_id": 4, "bbox": [1, 1, 5], "area": 25, "iscrowd": 0},
        ],
        "categories": [{"id": 4, "name": "zebra"}, {"id": 2, "name": "apple"}],
    }
    write(f"{root}/annotations/instances_train.json", json.dumps(gt, indent=1))


def csv_luminoth(root):
    # Luminoth columns; image_id without extension; images in {split}/.
    image(f"{root}/train/p1.jpg", (1, 2, 3))
    image(f"{root}/train/p2.png", (3, 2, 1))
    write(f"{root}/train.csv", "image_id,xmin,ymin,xmax,ymax,label\n"
          "p1,1,1,10,10,person\np1,5,5,30,25,car\np2,0,0,40,30,car\n"
          "p2,x,1,2,3,car\np3,1,1,5,5,car\np2,20,20,20,25,person\n\"p1\",2,2,8,8,\"person\"\n")


def csv_tf(root):
    # TF-export columns (raccoon layout): data/{split}_labels.csv, images/.
    image(f"{root}/images/r1.jpg", (9, 9, 9))
    image(f"{root}/images/r2.jpg", (99, 99, 99))
    write(f"{root}/data/train_labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\n"
          "r1.jpg,40,30,raccoon,1,2,39,29\nr2.jpg,40,30,raccoon,3,3,50,20\n")
    write(f"{root}/data/test_labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\n"
          "r2.jpg,40,30,raccoon,3,3,20,20\nr2.jpg,40,30,dog,1,1,9,9\n")


def yolo(root):
    # Splits train/val; names as an index map in data.yaml.
    image(f"{root}/images/train/y1.jpg", (10, 200, 10))
    image(f"{root}/images/train/y2.png", (10, 10, 200), size=(20, 10))
    image(f"{root}/images/val/y3.png", (200, 10, 10))
    write(f"{root}/labels/train/y1.txt", "0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.2\n5 0.5 0.5 0.1 0.1\n1 0.5 0.5\n")
    write(f"{root}/labels/train/y2.txt", "2 0.5 0.5 1.0 1.0\n0 0.9 0.5 0.5 0.5\n")
    write(f"{root}/labels/val/orphan.txt", "0 0.5 0.5 0.1 0.1\n")
    write(f"{root}/data.yaml", "path: .\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n  0: ant\n  1: 'bee'\n  2: wasp  # comment\n")


def yolo_flat(root):
    image(f"{root}/images/z1.jpg", (5, 5, 5))
    write(f"{root}/labels/z1.txt", "1 0.5 0.5 0.5 0.5\n")
    write(f"{root}/classes.txt", "alpha\nbeta\n")


def main():
    for name, make in [("voc", voc), ("coco", coco), ("csv_luminoth", csv_luminoth), ("csv_tf", csv_tf),
                       ("yolo", yolo), ("yolo_flat", yolo_flat)]:
        root = os.path.join(HERE, name)
        shutil.rmtree(root, ignore_errors=True)
        make(root)


if __name__ == "__main__":
    main()
