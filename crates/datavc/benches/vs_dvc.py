#!/usr/bin/env python3
"""datavc against DVC, side by side on the same data, on this machine.

Usage: python3 crates/datavc/benches/vs_dvc.py --datavc target/release/datavc --dvc dvc [--work DIR]

Measures, for DVC and for datavc (md5 mode, the same work as DVC; and blake3 mode):
add of many small files, add of one large file, status with nothing changed, status after
one file changed, push to and pull from a local-folder remote, and, reading the result as a
data registry, `list -R` of it and `import` of its small files into a new project. Prints a Markdown table and
writes the raw seconds as JSON. Not a test: figures depend on the machine.

For scale it also times `cp` of the same data: on ext4 `add` copies every file into the
cache, so no tool's `add` can be much faster than that copy. With --work on a filesystem
with reflinks (XFS, Btrfs) both tools and `cp` clone files instead.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time


def sh(args, cwd, quiet=True):
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=quiet, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def timed(args, cwd):
    # Write back what earlier steps left dirty, so no step pays for another's writes.
    os.sync()
    start = time.perf_counter()
    sh(args, cwd)
    return time.perf_counter() - start


def make_data(root, files, file_size, big_size):
    rng = random.Random(42)
    small = os.path.join(root, "small")
    for i in range(files):
        folder = os.path.join(small, f"d{i % 100:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:05d}.bin"), "wb") as f:
            f.write(rng.randbytes(file_size))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        chunk = rng.randbytes(64 << 20)
        for i in range(big_size // len(chunk)):
            f.write(i.to_bytes(8, "little") + chunk[8:])


def fill_page_cache(work):
    """Fills free memory with clean page cache, and returns the file that holds it.

    On a virtual machine that hands free memory back to its host (free page reporting, as
    here), a page first touched again costs the kernel about 3 s per GiB, and a run that
    writes a gigabyte measures that instead of the tool. A machine that has run a while has
    its memory full of page cache, which the kernel reclaims cheaply: reading a sparse file
    once gets there without writing anything to disk. The file is kept until the end, so
    its pages are reclaimed, never freed and handed back.
    """
    try:
        with open("/proc/meminfo") as f:
            meminfo = dict(line.split(":", 1) for line in f)
    except OSError:
        return None
    free = int(meminfo["MemFree"].split()[0]) << 10
    ballast = os.path.join(work, "ballast")
    with open(ballast, "wb") as f:
        f.truncate(free)
    buffer = bytearray(1 << 20)
    with open(ballast, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass
    return ballast


def tool_commands(tool, exe):
    if tool == "dvc":
        return {"init": [exe, "init", "-q"], "run": [exe]}
    return {"init": [exe, "init", "--hash", tool.split("-")[1]], "run": [exe]}


def bench_tool(tool, exe, data, work, reps):
    repo = os.path.join(work, tool)
    remote = os.path.join(work, tool + "-remote")
    clone = os.path.join(work, tool + "-clone")
    for path in (repo, remote, clone):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(repo)
    sh(["git", "init", "-q"], repo)
    commands = tool_commands(tool, exe)
    sh(commands["init"], repo)
    run = commands["run"]
    for name in ("small", "big.bin"):
        src = os.path.join(data, name)
        dst = os.path.join(repo, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copyfile)(src, dst)
    sh(["sync"], repo)
    r = {}
    r["add_small"] = timed(run + ["add", "small"], repo)
    r["add_big"] = timed(run + ["add", "big.bin"], repo)
    r["status_clean"] = min(timed(run + ["status"], repo) for _ in range(reps))
    changed = []
    for i in range(reps):
        path = os.path.join(repo, "small", f"d{i:02d}", f"f{i:05d}.bin")
        with open(path, "ab") as f:
            f.write(b"x")
        changed.append(timed(run + ["status"], repo))
        with open(path, "rb+") as f:
            f.truncate(os.path.getsize(path) - 1)
        sh(run + ["status"], repo)
    r["status_one_changed"] = min(changed)
    sh(run + ["remote", "add", "-d", "bench", remote], repo)
    r["push"] = timed(run + ["push"], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-qm", "data"], repo)
    sh(["git", "clone", "-q", repo, clone], work)
    r["pull"] = timed(run + ["pull"], clone)
    # The repository as a data registry: what a project sees in it, and an import of the
    # small files from it (objects from its cache).
    r["list_recursive"] = min(timed(run + ["list", "-R", repo], work) for _ in range(reps))
    user = os.path.join(work, tool + "-user")
    shutil.rmtree(user, ignore_errors=True)
    os.makedirs(user)
    sh(["git", "init", "-q"], user)
    sh(commands["init"], user)
    r["import_small"] = timed(run + ["import", repo, "small", "-o", "imported"], user)
    return r


def copy_floor(data, work):
    """Seconds `cp` takes to copy what each `add` stores, as the tools' runs are timed."""
    return {
        "add_small": timed(["cp", "-r", os.path.join(data, "small"), "cp-small"], work),
        "add_big": timed(["cp", os.path.join(data, "big.bin"), "cp-big.bin"], work),
    }


def remove_runs(work, tools):
    shutil.rmtree(os.path.join(work, "cp-small"), ignore_errors=True)
    if os.path.exists(os.path.join(work, "cp-big.bin")):
        os.remove(os.path.join(work, "cp-big.bin"))
    for tool in tools:
        for suffix in ("", "-remote", "-clone", "-user"):
            path = os.path.join(work, tool + suffix)
            shutil.rmtree(path, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datavc", required=True)
    parser.add_argument("--dvc", default="dvc")
    parser.add_argument("--work", default="/var/tmp/datavc-bench")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--file-size", type=int, default=100 << 10)
    parser.add_argument("--big", type=int, default=2 << 30)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tools", default="dvc,datavc-md5,datavc-blake3")
    args = parser.parse_args()
    data = os.path.join(args.work, "data")
    if not os.path.exists(os.path.join(data, "big.bin")):
        shutil.rmtree(data, ignore_errors=True)
        make_data(data, args.files, args.file_size, args.big)
    tools = args.tools.split(",")
    # Each tool writes its copy of the data, its cache, a remote, a clone and an import.
    need = len(tools) * 6 * (args.files * args.file_size + args.big)
    free = shutil.disk_usage(args.work).free
    if free < need:
        sys.exit(f"{args.work} has {free >> 30} GiB free; the runs need {need >> 30} GiB")
    ballast = fill_page_cache(args.work)
    # Every run is removed only at the end: ext4 slows file creation in a block group for
    # minutes after many deletions there (without a journal, as here, its allocator skips
    # inodes freed in the last five minutes), which would slow whichever tool ran after
    # another's clean-up. Leave five minutes after deleting anything big before a run.
    results = {}
    for tool in tools:
        exe = args.dvc if tool == "dvc" else os.path.abspath(args.datavc)
        results[tool] = bench_tool(tool, exe, data, args.work, args.reps)
        print(f"{tool}: {results[tool]}", file=sys.stderr)
    floor = copy_floor(data, args.work)
    remove_runs(args.work, tools)
    if ballast:
        os.remove(ballast)
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(dict(results, cp=floor), f, indent=2)
    tools = list(results)
    print("| operation | " + " | ".join(tools) + " | " + " | ".join(f"dvc / {t}" for t in tools[1:]) + " |")
    print("|---" * (1 + 2 * len(tools) - 1) + "|")
    for op in results[tools[0]]:
        seconds = [results[t][op] for t in tools]
        ratios = [seconds[0] / s for s in seconds[1:]]
        print(f"| {op} | " + " | ".join(f"{s:.3f} s" for s in seconds) + " | "
              + " | ".join(f"{x:.1f}×" for x in ratios) + " |")
    print(f"\nFor scale, `cp` of the same data: {floor['add_small']:.3f} s for the small files, "
          f"{floor['add_big']:.3f} s for the big one.")
    files_per_s = args.files / results[tools[-1]]["status_clean"]
    print(f"\nstatus on the unchanged {args.files}-file tree ({tools[-1]}): {files_per_s:,.0f} files/s")


if __name__ == "__main__":
    main()
