#!/usr/bin/env python3
"""Which files of an ext2/3/4 partition differ between two raw disk images, found block by block.

  changed-files.py BEFORE.raw AFTER.raw FIRST_SECTOR SECTOR_COUNT

Compares the partition's bytes in both images, then asks debugfs (on a sparse copy of the
partition from AFTER) which inode owns each differing block and what its path is. Prints one path
per line; blocks that belong to no named file (superblock, bitmaps, inode tables, the journal)
are counted on the last line as "metadata N". Exits 2 when the partition is not ext2/3/4.
"""
import os
import struct
import subprocess
import sys
import tempfile

before_path, after_path = sys.argv[1], sys.argv[2]
first, count = int(sys.argv[3]), int(sys.argv[4])
offset, length = first * 512, count * 512

with open(after_path, "rb") as after:
    after.seek(offset + 1024)
    superblock = after.read(1024)
if superblock[56:58] != b"\x53\xef":
    sys.exit("not an ext2/3/4 filesystem")
block_size = 1024 << struct.unpack_from("<I", superblock, 24)[0]

changed = []
chunk = 1 << 20
with open(before_path, "rb") as before, open(after_path, "rb") as after:
    before.seek(offset)
    after.seek(offset)
    for start in range(0, length, chunk):
        a, b = before.read(min(chunk, length - start)), after.read(min(chunk, length - start))
        if a == b:
            continue
        for at in range(0, len(a), block_size):
            if a[at:at + block_size] != b[at:at + block_size]:
                changed.append((start + at) // block_size)

paths, metadata = set(), 0
if changed:
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
        partition = os.path.join(scratch, "partition.img")
        subprocess.run(["dd", f"if={after_path}", f"of={partition}", "bs=512", f"skip={first}", f"count={count}",
                        "conv=sparse", "status=none"], check=True)
        owners = {}
        for i in range(0, len(changed), 500):
            out = subprocess.run(["debugfs", "-R", "icheck " + " ".join(map(str, changed[i:i + 500])), partition],
                                 capture_output=True, text=True, check=True).stdout
            for line in out.splitlines()[1:]:
                block, inode = line.split(None, 1)
                owners[int(block)] = int(inode) if inode.strip().isdigit() else 0
        inodes = sorted({i for i in owners.values() if i > 11})
        metadata = sum(1 for i in owners.values() if i <= 11)
        for i in range(0, len(inodes), 500):
            out = subprocess.run(["debugfs", "-R", "ncheck " + " ".join(map(str, inodes[i:i + 500])), partition],
                                 capture_output=True, text=True, check=True).stdout
            for line in out.splitlines()[1:]:
                paths.add(line.split(None, 1)[1].strip())
for path in sorted(paths):
    print(path)
print(f"metadata {metadata}")
