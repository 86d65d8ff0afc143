//! Gradient and weight watching for candle models, what `wandb.watch` does for PyTorch.
//!
//! A [`Watcher`] is built once from the model's [`VarMap`]; after each backward pass,
//! [`Watcher::log`] records the L2 norm of every variable's gradient and value under
//! `grad_norm/<layer>` and `weight_norm/<layer>` (a trailing `.weight` is dropped from the
//! variable name, so `layer_00.weight` becomes `layer_00` and `layer_00.bias` stays as is).
//! Every norm is reduced on the device and read back in a single transfer, then written in a
//! single transaction, so watching costs the same on CUDA as on CPU.
//!
//! A new script needs two lines:
//!
//! ```no_run
//! # fn demo(run: &tracker::Run, varmap: &candle_nn::VarMap, loss: &candle_core::Tensor) -> Result<(), Box<dyn std::error::Error>> {
//! let watcher = tracker::watch::Watcher::new(varmap).histograms_every(100);
//! # let step = 0;
//! let grads = loss.backward()?;
//! watcher.log(run, &grads, step)?;
//! # Ok(()) }
//! ```

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use candle_nn::VarMap;

use crate::{Histogram, Run};

/// Number of equal-width bins in the gradient histograms.
const HISTOGRAM_BINS: usize = 32;

/// Errors raised while watching a model.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A tensor operation (reduction, transfer to the host) failed.
    #[error("cannot compute gradient statistics")]
    Tensor(#[from] candle_core::Error),
    /// The statistics could not be written to the store.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// Logs per-layer gradient and weight norms (and histograms) of a candle model.
#[derive(Debug, Clone)]
pub struct Watcher {
    layers: Vec<(String, Var)>,
    histograms_every: Option<usize>,
}

/// What one call to [`Watcher::log`] measured, in the order the keys were logged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// `(key, value)` pairs: gradient norms, weight norms, then the extra scalars.
    pub values: Vec<(String, f64)>,
}

impl Observation {
    /// The value logged under `key`, if any.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Named values computed on the device, logged by [`Watcher::log_with`] in the same single
/// transfer as the norms: one key per element of `values`.
#[derive(Debug, Clone)]
pub struct Scalars {
    keys: Vec<String>,
    values: Tensor,
}

impl Scalars {
    /// One scalar tensor (the loss, say) under `key`.
    pub fn one(key: impl Into<String>, value: &Tensor) -> candle_core::Result<Self> {
        Ok(Self {
            keys: vec![key.into()],
            values: value.reshape(1)?,
        })
    }

    /// A vector of values, element `i` under `keys[i]` (per-layer statistics, say).
    pub fn many(keys: Vec<String>, values: &Tensor) -> candle_core::Result<Self> {
        let values = values.flatten_all()?;
        if values.elem_count() != keys.len() {
            return Err(candle_core::Error::Msg(format!(
                "{} keys for {} values",
                keys.len(),
                values.elem_count()
            )));
        }
        Ok(Self { keys, values })
    }
}

impl Watcher {
    /// Watches every variable of `varmap`, ordered by name.
    pub fn new(varmap: &VarMap) -> Self {
        let data = varmap
            .data()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut layers: Vec<(String, Var)> = data
            .iter()
            .map(|(name, var)| (layer_name(name), var.clone()))
            .collect();
        layers.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            layers,
            histograms_every: None,
        }
    }

    /// Also logs a histogram of every gradient (`grad_hist/<layer>`) every `steps` steps.
    pub fn histograms_every(mut self, steps: usize) -> Self {
        self.histograms_every = (steps > 0).then_some(steps);
        self
    }

    /// Logs the norms of this step's gradients and weights.
    pub fn log(&self, run: &Run, grads: &GradStore, step: i64) -> Result<Observation, WatchError> {
        self.log_with(run, grads, step, &[])
    }

    /// Like [`Watcher::log`], and also logs `extra` values (loss, activation statistics, …)
    /// under their keys, read back in the same single transfer as the norms.
    pub fn log_with(
        &self,
        run: &Run,
        grads: &GradStore,
        step: i64,
        extra: &[Scalars],
    ) -> Result<Observation, WatchError> {
        let mut named: Vec<(String, &Tensor)> = Vec::with_capacity(2 * self.layers.len());
        for (name, var) in &self.layers {
            // A variable that did not take part in the loss has no gradient: skip it rather
            // than log a misleading zero.
            if let Some(grad) = grads.get(var) {
                named.push((format!("grad_norm/{name}"), grad));
            }
            named.push((format!("weight_norm/{name}"), var.as_tensor()));
        }
        let (mut keys, mut parts) = l2_norms(&named)?;
        for scalars in extra {
            keys.extend(scalars.keys.iter().cloned());
            parts.push(scalars.values.to_dtype(DType::F64)?);
        }
        let values = match parts.is_empty() {
            true => Vec::new(),
            false => Tensor::cat(&parts, 0)?.to_vec1::<f64>()?,
        };
        let values: Vec<(String, f64)> = keys.into_iter().zip(values).collect();
        run.log_metrics(&values, step)?;
        if self
            .histograms_every
            .is_some_and(|every| step % every as i64 == 0)
        {
            self.log_histograms(run, grads, step)?;
        }
        Ok(Observation { values })
    }

    fn log_histograms(&self, run: &Run, grads: &GradStore, step: i64) -> Result<(), WatchError> {
        for (name, var) in &self.layers {
            if let Some(grad) = grads.get(var) {
                let values = grad.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
                run.log_histogram(&format!("grad_hist/{name}"), step, &histogram(&values))?;
            }
        }
        Ok(())
    }
}

/// The L2 norm of every tensor, as f64 vectors on the device (one per shape), with the keys
/// reordered to match. Tensors of one shape are stacked and reduced together: a 20-layer MLP needs a
/// handful of reductions instead of one per tensor. Squaring in f64 keeps a vanished
/// gradient's norm (1e-20, say) from underflowing to zero as it would in f32.
pub fn l2_norms(named: &[(String, &Tensor)]) -> candle_core::Result<(Vec<String>, Vec<Tensor>)> {
    let mut groups: Vec<(&[usize], Vec<usize>)> = Vec::new();
    for (index, (_, tensor)) in named.iter().enumerate() {
        match groups.iter_mut().find(|(dims, _)| *dims == tensor.dims()) {
            Some((_, members)) => members.push(index),
            None => groups.push((tensor.dims(), vec![index])),
        }
    }
    let mut keys = Vec::with_capacity(named.len());
    let mut parts = Vec::with_capacity(groups.len());
    for (_, members) in &groups {
        let stacked = Tensor::stack(&members.iter().map(|&i| named[i].1).collect::<Vec<_>>(), 0)?;
        let squares = stacked.to_dtype(DType::F64)?.sqr()?;
        parts.push(squares.flatten_from(1)?.sum(1)?.sqrt()?);
        keys.extend(members.iter().map(|&i| named[i].0.clone()));
    }
    Ok((keys, parts))
}

/// The metric name of a variable: `layer_00.weight` is reported as `layer_00`.
fn layer_name(var_name: &str) -> String {
    var_name
        .strip_suffix(".weight")
        .unwrap_or(var_name)
        .to_string()
}

/// An equal-width histogram of the finite values; non-finite ones are left out.
fn histogram(values: &[f64]) -> Histogram {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let mut counts = vec![0u64; HISTOGRAM_BINS];
    if min > max {
        return Histogram {
            min: 0.0,
            max: 0.0,
            counts,
        };
    }
    let width = (max - min) / HISTOGRAM_BINS as f64;
    for v in finite {
        let bin = if width > 0.0 {
            ((v - min) / width) as usize
        } else {
            0
        };
        counts[bin.min(HISTOGRAM_BINS - 1)] += 1;
    }
    Histogram { min, max, counts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn tracker() -> (tempfile::TempDir, crate::Tracker) {
        let dir = tempfile::tempdir().unwrap();
        let tracker = crate::Tracker::open(dir.path().join("t.db")).unwrap();
        (dir, tracker)
    }

    #[test]
    fn logs_gradient_and_weight_norms_per_layer() {
        let (_dir, tracker) = tracker();
        let run = tracker.experiment("watch").unwrap().start_run("r").unwrap();
        let varmap = VarMap::new();
        let w = Var::from_tensor(&Tensor::new(&[[3f32, 4.0]], &Device::Cpu).unwrap()).unwrap();
        varmap
            .data()
            .lock()
            .unwrap()
            .insert("layer_00.weight".into(), w.clone());
        // loss = sum(w²)  ⇒  grad = 2w = [6, 8], |grad| = 10, |w| = 5.
        let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let extra = [Scalars::one("loss", &loss).unwrap()];
        let seen = Watcher::new(&varmap)
            .log_with(&run, &grads, 7, &extra)
            .unwrap();
        assert_eq!(seen.get("grad_norm/layer_00"), Some(10.0));
        assert_eq!(seen.get("weight_norm/layer_00"), Some(5.0));
        assert_eq!(seen.get("loss"), Some(25.0));
        let stored = tracker
            .metric_history(run.id(), "grad_norm/layer_00")
            .unwrap();
        assert_eq!((stored[0].step, stored[0].value), (7, 10.0));
    }

    #[test]
    fn norms_of_mixed_shapes_keep_their_keys_and_do_not_underflow() {
        let tiny = Tensor::new(&[1e-25f32, 1e-25], &Device::Cpu).unwrap();
        let pair = Tensor::new(&[3f32, 4.0], &Device::Cpu).unwrap();
        let square = Tensor::new(&[[1f32, 1.0], [1.0, 1.0]], &Device::Cpu).unwrap();
        let named = [
            ("tiny".to_string(), &tiny),
            ("square".to_string(), &square),
            ("pair".to_string(), &pair),
        ];
        let (keys, parts) = l2_norms(&named).unwrap();
        let values = Tensor::cat(&parts, 0).unwrap().to_vec1::<f64>().unwrap();
        let norms: Vec<(String, f64)> = keys.into_iter().zip(values).collect();
        let get = |k: &str| norms.iter().find(|(key, _)| key == k).unwrap().1;
        assert!(
            (get("tiny") / (1e-25 * 2f64.sqrt()) - 1.0).abs() < 1e-6,
            "{norms:?}"
        );
        assert_eq!((get("pair"), get("square"), norms.len()), (5.0, 2.0, 3));
    }

    #[test]
    fn scalars_need_one_key_per_value() {
        let v = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        assert!(Scalars::many(vec!["a".into()], &v).is_err());
        assert!(Scalars::many(vec!["a".into(), "b".into()], &v).is_ok());
    }

    #[test]
    fn histogram_counts_every_finite_value() {
        let h = histogram(&[0.0, 1.0, 0.5, f64::NAN, 1.0]);
        assert_eq!((h.min, h.max), (0.0, 1.0));
        assert_eq!(h.counts.iter().sum::<u64>(), 4);
        assert_eq!(h.counts[HISTOGRAM_BINS - 1], 2);
        assert_eq!(histogram(&[2.0, 2.0]).counts[0], 2);
    }

    #[test]
    fn histograms_are_logged_on_schedule() {
        let (_dir, tracker) = tracker();
        let run = tracker.experiment("watch").unwrap().start_run("r").unwrap();
        let varmap = VarMap::new();
        let w = Var::new(&[1f32, -1.0, 0.5], &Device::Cpu).unwrap();
        varmap.data().lock().unwrap().insert("w".into(), w.clone());
        let watcher = Watcher::new(&varmap).histograms_every(2);
        for step in 0..4 {
            let grads = w.as_tensor().sum_all().unwrap().backward().unwrap();
            watcher.log(&run, &grads, step).unwrap();
        }
        let hists = tracker.histograms(run.id(), "grad_hist/w").unwrap();
        let steps: Vec<i64> = hists.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, vec![0, 2]);
        assert_eq!(hists[0].1.counts.iter().sum::<u64>(), 3);
    }
}
