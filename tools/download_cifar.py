#!/usr/bin/env python3
"""Download CIFAR-10 / CIFAR-100 (binary version) for heed, verify, extract.

heed itself never downloads anything: its data readers take a folder you
provide. This script is for users with internet access who want the CIFAR
datasets. It fetches the archives from the dataset authors' page
(https://www.cs.toronto.edu/~kriz/cifar.html), checks their MD5 sums against
the published values, and extracts only the expected regular files (no path
from the archive is trusted):

    tools/download_cifar.py --root data            # both datasets
    tools/download_cifar.py --root data cifar10    # one of them

which gives data/cifar-10-batches-bin/ and data/cifar-100-binary/, the
folders heed::data::CIFAR10("data") / CIFAR100("data") read (either the
extracted folder or its parent works). Re-running skips archives already
downloaded and verified. Only the Python standard library is used.
"""

import argparse
import hashlib
import os
import sys
import tarfile
import urllib.request

DATASETS = {
    "cifar10": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "md5": "c32a1d4ab5d03f1284b67883e8d87530",
        "folder": "cifar-10-batches-bin",
        "files": ["data_batch_%d.bin" % i for i in range(1, 6)]
        + ["test_batch.bin", "batches.meta.txt"],
        "sizes": {"data_batch_%d.bin" % i: 10000 * 3073 for i in range(1, 6)}
        | {"test_batch.bin": 10000 * 3073},
    },
    "cifar100": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        "md5": "03b5dce01913d631647c71ecec9e9cb8",
        "folder": "cifar-100-binary",
        "files": ["train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"],
        "sizes": {"train.bin": 50000 * 3074, "test.bin": 10000 * 3074},
    },
}


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url, dest):
    tmp = dest + ".part"
    print("downloading %s" % url)
    with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as out:
        total = int(r.headers.get("Content-Length") or 0)
        done = 0
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if total and sys.stderr.isatty():
                sys.stderr.write("\r  %5.1f%% of %d MB" % (100.0 * done / total, total >> 20))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    os.replace(tmp, dest)


def extract(archive, root, spec):
    """Extracts the expected files, by base name, into root/<folder>/."""
    out_dir = os.path.join(root, spec["folder"])
    os.makedirs(out_dir, exist_ok=True)
    wanted = set(spec["files"])
    found = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = os.path.basename(member.name)
            if name not in wanted or not member.isfile():
                continue
            src = tar.extractfile(member)
            with open(os.path.join(out_dir, name), "wb") as dst:
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    dst.write(chunk)
            found.add(name)
    missing = wanted - found
    if missing:
        raise RuntimeError("%s lacks %s" % (archive, ", ".join(sorted(missing))))
    for name, size in spec["sizes"].items():
        actual = os.path.getsize(os.path.join(out_dir, name))
        if actual != size:
            raise RuntimeError("%s is %d bytes, expected %d" % (name, actual, size))
    return out_dir


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default="data", help="where to put the datasets (default: data)")
    p.add_argument("datasets", nargs="*", help="cifar10 and/or cifar100 (default: both)")
    args = p.parse_args()
    names = args.datasets or sorted(DATASETS)
    for name in names:
        if name not in DATASETS:
            p.error("unknown dataset %r (choose from %s)" % (name, ", ".join(sorted(DATASETS))))
    os.makedirs(args.root, exist_ok=True)
    for name in names:
        spec = DATASETS[name]
        archive = os.path.join(args.root, os.path.basename(spec["url"]))
        if not (os.path.exists(archive) and md5_of(archive) == spec["md5"]):
            download(spec["url"], archive)
        digest = md5_of(archive)
        if digest != spec["md5"]:
            os.remove(archive)
            sys.exit("error: %s has MD5 %s, expected %s (removed; try again)"
                     % (archive, digest, spec["md5"]))
        out = extract(archive, args.root, spec)
        print("%s: verified (md5 %s), extracted to %s" % (name, digest, out))


if __name__ == "__main__":
    main()
