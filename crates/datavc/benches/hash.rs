//! Hashing throughput of a file in the page cache: blake3 (memory-mapped, all cores) and
//! md5 (streamed), the two costs behind `datavc add`. Compare the blake3 figure with
//! `b3sum` on the same file (`benches/vs_dvc.py` prints the command).

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datavc::HashAlgo;
use datavc::hash::hash_file;

const SIZE: usize = 256 << 20;

fn hashing(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("weights.bin");
    let mut file = std::fs::File::create(&path).expect("create");
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for _ in 0..SIZE / block.len() {
        file.write_all(&block).expect("write");
    }
    drop(file);
    let mut group = c.benchmark_group("hash_256MiB");
    group
        .throughput(Throughput::Bytes(SIZE as u64))
        .sample_size(10);
    for algo in [HashAlgo::Blake3, HashAlgo::Md5] {
        group.bench_function(algo.name(), |b| {
            b.iter(|| hash_file(&path, algo).expect("hash"))
        });
    }
    group.finish();
    if let Ok(keep) = std::env::var("DATAVC_BENCH_KEEP") {
        std::fs::copy(&path, keep).expect("keep the file for b3sum");
    }
}

criterion_group!(benches, hashing);
criterion_main!(benches);
