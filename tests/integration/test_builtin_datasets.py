"""Datasets as users bring them to the built-in trainer (`hpt-train train` and `check-data`):
layouts hpt never saw that must load, and mistakes that must stop the run in one line naming the
config key and the file, exit 2, nothing written (files made with zlib and struct, no PIL)."""
import gzip
import json
import os
import shutil
import struct
import subprocess
import tempfile
import textwrap
import unittest
import zlib

from hpt_harness import HPT

HPT_TRAIN = os.path.join(os.path.dirname(os.path.abspath(HPT)), "hpt-train")
SIDE = 8


def png(path, value):
    """An 8-bit grey SIDE x SIDE PNG of value with a lit corner."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    rows = b"".join(b"\x00" + bytes((value + 90 * (x < 2 and y < 2)) % 256 for x in range(SIDE))
                    for y in range(SIDE))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIDE, SIDE, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def idx(path, dims, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))


def class_folders(root, classes=3, per_class=6):
    for c in range(classes):
        for i in range(per_class):
            png(os.path.join(root, f"c{c}", f"{i}.png"), 40 * c + 3 * i)


@unittest.skipUnless(os.path.exists(HPT_TRAIN), "hpt-train is not built")
class DatasetTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpt-datasets-")
        self.env = dict(os.environ, HPT_CACHE_DIR=os.path.join(self.dir, "cache"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def check_data(self, dataset):
        """hpt-train check-data of a dataset section, as hpt runs it before a study."""
        env = dict(self.env, HPT_FIXED=json.dumps({"dataset": dataset}), HPT_PARAMS="{}")
        return subprocess.run(["timeout", "-k", "5", "120", HPT_TRAIN, "check-data"], capture_output=True,
                              text=True, env=env)

    def train_refused(self, dataset_lines):
        """hpt-train train of an experiment with these dataset lines: its one stderr line (exit 2,
        no output folder)."""
        config = os.path.join(self.dir, "exp.yaml")
        with open(config, "w") as f:
            f.write(textwrap.dedent(dataset_lines) + "epochs: 1\npretrain_epochs: 0\n")
        out = os.path.join(self.dir, "run")
        proc = subprocess.run(["timeout", "-k", "5", "120", HPT_TRAIN, "train", "--config", config, "--out", out],
                              capture_output=True, text=True, env=self.env)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "metrics.json")))
        return lines[0]

    def test_kaggle_mnist_layout_loads(self):
        """Kaggle's MNIST archive holds each IDX file also in a folder of its name; it was refused
        as 'not a regular file (a directory)'."""
        data = os.path.join(self.dir, "archive")
        for pool, n in (("train", 30), ("t10k", 12)):
            for kind, dims, values in (("images-idx3", [n, SIDE, SIDE], [7] * (n * SIDE * SIDE)),
                                       ("labels-idx1", [n], [i % 3 for i in range(n)])):
                name = f"{pool}-{kind}-ubyte"
                idx(os.path.join(data, name, name), dims, values)
                idx(os.path.join(data, name.replace("-idx", ".idx")), dims, values)
        proc = self.check_data({"format": "idx", "path": data})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("train 30, val 6, test 6 images, 3 classes", proc.stdout)

    def test_wrong_format_names_the_one_it_looks_like(self):
        data = os.path.join(self.dir, "photos")
        class_folders(data)
        line = self.train_refused(f"dataset: {{format: idx, path: {data}}}\n")
        self.assertEqual(line, f"hpt: error: {self.dir}/exp.yaml:1: dataset.path: IDX file not found: expected "
                               f"{data}/train-images-idx3-ubyte[.gz]; {data} holds class folders of images: give "
                               "dataset.format: folder")

    def test_class_folder_linked_to_another_is_refused(self):
        data = os.path.join(self.dir, "photos")
        class_folders(data)
        os.symlink("c0", os.path.join(data, "c3"))
        line = self.train_refused(f"dataset:\n  format: folder\n  path: {data}\n")
        self.assertIn(f"exp.yaml:3: dataset.path: class folders {data}/c0 and {data}/c3 hold the same images", line)

    def test_tiny_imagenet_annotation_of_a_missing_image_names_its_line(self):
        data = os.path.join(self.dir, "tiny")
        os.makedirs(data)
        with open(os.path.join(data, "wnids.txt"), "w") as f:
            f.write("n01\nn02\n")
        lines = []
        for c, wnid in enumerate(("n01", "n02")):
            for i in range(4):
                png(os.path.join(data, "train", wnid, "images", f"{wnid}_{i}.png"), 50 * c + i)
                png(os.path.join(data, "val", "images", f"val_{c}{i}.png"), 50 * c + i)
                lines.append(f"val_{c}{i}.png  {wnid}  0  0  7  7")  # Spaces, not tabs: read as well.
        os.remove(os.path.join(data, "val", "images", "val_12.png"))
        with open(os.path.join(data, "val", "val_annotations.txt"), "w") as f:
            f.write("\r".join(lines) + "\r")  # Classic Mac OS line ends: read as well.
        line = self.train_refused(f"dataset: {{format: tiny-imagenet, path: {data}}}\n")
        self.assertEqual(line, f"hpt: error: {self.dir}/exp.yaml:1: dataset.path: {data}/val/val_annotations.txt:7: "
                               f"image {data}/val/images/val_12.png does not exist")
        png(os.path.join(data, "val", "images", "val_12.png"), 52)
        proc = self.check_data({"format": "tiny-imagenet", "path": data})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("train 8, val 4, test 4 images, 2 classes", proc.stdout)


if __name__ == "__main__":
    unittest.main()
