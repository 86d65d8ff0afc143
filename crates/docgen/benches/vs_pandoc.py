#!/usr/bin/env python3
"""docgen against pandoc, side by side on the same inputs, on this machine.

Usage: python3 crates/docgen/benches/vs_pandoc.py --docgen target/release/docgen [--pandoc pandoc]

Two inputs, written into a scratch folder: a ~300-line session summary (front matter, a
table, code in two languages, an alert, lists, an image) and a ~1 MB document (that summary's
body repeated). For each: Markdown -> .docx with both tools, and Markdown -> PDF with docgen
and with the fastest pandoc PDF route found here (pdflatex, xelatex, weasyprint, wkhtmltopdf,
groff's pdfroff, in that order of preference). Prints a Markdown table of median seconds and
ratios. Not a test: figures depend on the machine.
"""

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SECTION = """
## Run {n}: learning-rate sweep

We trained the **20-layer** network with *Glorot* initialisation and logged every
gradient norm. The loss fell from `2.31` to `0.42`; see [the tracker](https://example.com/runs/{n}).

> [!NOTE]
> Runs after {n} use the new data loader.

| layer | grad norm | ratio |
|:------|----------:|------:|
| 0     | 1.2e-3    | 0.8   |
| 10    | 4.5e-4    | 0.3   |
| 19    | 2.0e-4    | 0.1   |

```rust
fn step(weights: &mut [f32], grads: &[f32], lr: f32) {{
    for (w, g) in weights.iter_mut().zip(grads) {{
        *w -= lr * g;
    }}
}}
```

```python
def schedule(step: int, warmup: int = 100) -> float:
    return min(1.0, step / warmup)
```

- what changed
  - the optimiser
  - the seed
- what is next

1. rerun with Adam
2. compare against run {n}

![gradient norms](chart.png)
"""


def write_png(path, width=640, height=240):
    raw = b"".join(b"\x00" + bytes([(x * 3) % 256, 80, 160] * width) for x in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def document(lines=0, size=0):
    """Sections until the document has at least `lines` lines and `size` bytes."""
    text = "---\ntitle: Session summary\nauthor: Ada Lovelace\ndate: 2026-12-01\n---\n\n"
    text += "# Summary\n\nWhat happened this week, and what comes next.\n"
    n = 0
    while text.count("\n") < lines or len(text.encode()) < size:
        text += SECTION.format(n=n)
        n += 1
    return text


def median_seconds(args, cwd, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        out = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            sys.exit(f"{' '.join(args)} failed:\n{out.stderr}")
    return statistics.median(times)


def pandoc_pdf_route(pandoc):
    for engine in ["pdflatex", "xelatex", "weasyprint", "wkhtmltopdf", "pdfroff"]:
        if shutil.which(engine):
            extra = ["-t", "ms"] if engine == "pdfroff" else []
            return engine, extra + [f"--pdf-engine={engine}"]
    return None, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docgen", required=True)
    parser.add_argument("--pandoc", default="pandoc")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    docgen = os.path.abspath(args.docgen)
    work = tempfile.mkdtemp(prefix="docgen-vs-pandoc-")
    write_png(os.path.join(work, "chart.png"))
    inputs = {"summary": document(lines=300), "1 MB": document(size=1_000_000)}
    engine, pdf_args = pandoc_pdf_route(args.pandoc)
    version = subprocess.run([args.pandoc, "--version"], capture_output=True, text=True).stdout
    print(f"{version.splitlines()[0]}; pandoc PDF route: {engine or 'none found'}\n")
    print("| input | lines | bytes | output | pandoc s | docgen s | docgen faster |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, markdown in inputs.items():
        stem = name.replace(" ", "")
        source = f"{stem}.md"
        with open(os.path.join(work, source), "w") as f:
            f.write(markdown)
        lines, size = markdown.count("\n"), len(markdown.encode())
        reps = args.reps if size < 100_000 else 3
        rows = [("docx", [args.pandoc, source, "-o", f"{stem}-pandoc.docx"],
                 [docgen, source, "-q", "-o", f"{stem}-docgen.docx"])]
        if engine:
            rows.append((f"pdf ({engine})", [args.pandoc, source, *pdf_args, "-o", f"{stem}-pandoc.pdf"],
                         [docgen, source, "-q", "-o", f"{stem}-docgen.pdf"]))
        for output, pandoc_cmd, docgen_cmd in rows:
            theirs = median_seconds(pandoc_cmd, work, reps)
            ours = median_seconds(docgen_cmd, work, reps)
            print(f"| {name} | {lines} | {size} | {output} | {theirs:.3f} | {ours:.3f} | {theirs / ours:.1f}x |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
