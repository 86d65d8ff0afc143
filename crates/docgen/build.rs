//! Links the `docgen` binary on Linux as a position-dependent executable.
//!
//! typst's tables hold about 100,000 pointers. In a position-independent executable the
//! dynamic loader rewrites every one of them at start-up, which copies some 470 pages:
//! 3 of the 4.8 ms that `docgen --version` took (perf stat). Linked at a fixed address they
//! are resolved by the linker instead, and a conversion of a short summary, which takes
//! about 25 ms, is that much faster. The cost is that the binary's own code is not moved
//! by address-space layout randomisation (the libraries, heap and stack still are), as for
//! Go binaries on Linux. The library is unaffected: this applies to the binary only.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bin=docgen=-no-pie");
    }
}
