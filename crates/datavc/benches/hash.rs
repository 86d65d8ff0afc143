//! Hashing throughput behind `datavc add`: a large file in the page cache, blake3
//! (memory-mapped, all cores) and md5 (streamed); and many small files in memory, md5 one
//! at a time against md5's lanes (`HashAlgo::hash_many`). Compare the blake3 figure with
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

fn small_files(c: &mut Criterion) {
    const FILES: usize = 1_000;
    const FILE_SIZE: usize = 100 << 10;
    let bytes: Vec<u8> = (0..FILES * FILE_SIZE)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let files: Vec<&[u8]> = bytes.chunks(FILE_SIZE).collect();
    let mut group = c.benchmark_group("hash_1000_files_of_100KiB");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    for algo in [HashAlgo::Blake3, HashAlgo::Md5] {
        group.bench_function(format!("{algo}_one_by_one"), |b| {
            b.iter(|| files.iter().map(|f| algo.hash_bytes(f)).collect::<Vec<_>>())
        });
    }
    group.bench_function("md5_lanes", |b| b.iter(|| HashAlgo::Md5.hash_many(&files)));
    group.finish();
}

criterion_group!(benches, hashing, small_files);
criterion_main!(benches);
