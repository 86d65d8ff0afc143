//! Vanishing gradients in deep MLPs, shown with candle and recorded in `tracker`.
//!
//! This is the Rust form of the brief's `demo_vanishing_gradients.py`: deep, narrow MLPs are
//! trained on two seeded spirals, and every step the L2 norm of each layer's weight gradient,
//! of the gradient flowing into each layer, and each layer's activation statistics go to the
//! tracker. A sigmoid network with the "standard" `U(-1/√n, 1/√n)` init of Glorot & Bengio
//! (2010) shows the first layers' gradients shrinking by many orders of magnitude; Glorot
//! init, tanh, ReLU with He init and residual connections each restore part of the signal.
//!
//! ```no_run
//! use vanishing_demo::{data::Dataset, train::{train, TrainConfig}};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tracker = tracker::Tracker::open(".spokes/tracker.db")?;
//! let run = tracker.experiment("my-experiment")?.start_run("sigmoid-naive")?;
//! let data = Dataset::spirals(256, 0.05, 7);
//! let outcome = train(TrainConfig::default(), &data, &candle_core::Device::Cpu, &run, |_| {})?;
//! println!("final accuracy {:.2}", outcome.final_accuracy);
//! run.finish(tracker::RunStatus::Finished)?;
//! # Ok(()) }
//! ```
//!
//! Modules: [`data`] makes the spirals, [`model`] the seeded MLP, [`train`] the loop and its
//! statistics, [`grid`] the side-by-side comparison, [`plots`] the PNGs.

#[macro_use]
mod choices;
pub mod data;
mod error;
pub mod grid;
pub mod model;
pub mod plots;
pub mod train;

pub use error::{Error, Result};

/// The candle version this build uses, recorded on every run.
pub const CANDLE_VERSION: &str = env!("CANDLE_VERSION");

/// Opens a compute device by name: `cpu`, `cuda` or `cuda:N`.
pub fn device(name: &str) -> Result<candle_core::Device> {
    let ordinal = match name.to_ascii_lowercase().as_str() {
        "cpu" => return Ok(candle_core::Device::Cpu),
        "cuda" => Some(0),
        other => other.strip_prefix("cuda:").and_then(|n| n.parse().ok()),
    };
    let ordinal = ordinal.ok_or_else(|| {
        Error::invalid(
            "device",
            format!("unknown device `{name}`, expected `cpu`, `cuda` or `cuda:N`"),
        )
    })?;
    candle_core::Device::new_cuda(ordinal).map_err(|e| {
        let hint = if cfg!(feature = "cuda") {
            ""
        } else {
            " (this build lacks the `cuda` feature: rebuild with `--features cuda`)"
        };
        Error::invalid("device", format!("cannot open `{name}`: {e}{hint}"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_opens_and_unknown_devices_are_refused() {
        assert!(super::device("CPU").unwrap().is_cpu());
        let err = super::device("tpu").unwrap_err().to_string();
        assert!(err.contains("`tpu`"), "{err}");
        #[cfg(not(feature = "cuda"))]
        assert!(
            super::device("cuda:0")
                .unwrap_err()
                .to_string()
                .contains("--features cuda")
        );
    }
}
