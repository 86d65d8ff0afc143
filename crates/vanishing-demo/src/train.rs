//! The training loop: seeded mini-batches, SGD or Adam, and per-step statistics logged to
//! the tracker in one device transfer and one transaction.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, SGD, VarMap};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tracker::Run;
use tracker::watch::{Scalars, Watcher, l2_norms};

use crate::data::Dataset;
use crate::model::{Activation, Init, Mlp, MlpConfig, Trace};
use crate::{Error, Result};

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Plain stochastic gradient descent: step size proportional to the gradient, so a
    /// vanished gradient means a frozen layer.
    Sgd,
    /// Adam (AdamW without weight decay), which rescales each gradient and so partly hides
    /// vanishing gradients.
    Adam,
}

named_choices!(OptimizerKind, "optimizer", Sgd => "sgd", Adam => "adam");

/// Everything that defines one training run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainConfig {
    /// The network.
    pub model: MlpConfig,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Step size.
    pub learning_rate: f64,
    /// Number of optimisation steps.
    pub steps: usize,
    /// Points per mini-batch (capped at the data set size).
    pub batch_size: usize,
    /// Seed of the weights and of the batch order.
    pub seed: u64,
    /// Log statistics every this many steps (the first and last step are always logged).
    pub log_every: usize,
    /// Log gradient histograms every this many steps; 0 never.
    pub histogram_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: MlpConfig {
                depth: 20,
                width: 64,
                activation: Activation::Sigmoid,
                init: Init::Naive,
                residual: false,
            },
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.1,
            steps: 300,
            batch_size: 256,
            seed: 0,
            log_every: 1,
            histogram_every: 50,
        }
    }
}

impl TrainConfig {
    /// Refuses settings that cannot train, before any work is done.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        if self.steps == 0 {
            return Err(Error::invalid("steps", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch-size", "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::invalid(
                "lr",
                format!("{} is not a positive number", self.learning_rate),
            ));
        }
        if self.log_every == 0 {
            return Err(Error::invalid("log-every", "must be at least 1"));
        }
        Ok(())
    }

    /// Every setting as `(name, value)`, for the tracker's params.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let m = &self.model;
        vec![
            ("depth", m.depth.to_string()),
            ("width", m.width.to_string()),
            ("activation", m.activation.to_string()),
            ("init", m.init.to_string()),
            ("residual", m.residual.to_string()),
            ("optimizer", self.optimizer.to_string()),
            ("learning_rate", self.learning_rate.to_string()),
            ("steps", self.steps.to_string()),
            ("batch_size", self.batch_size.to_string()),
            ("seed", self.seed.to_string()),
        ]
    }
}

/// What one logged step measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// Step number, from 0.
    pub step: i64,
    /// Cross-entropy of the mini-batch.
    pub loss: f64,
    /// Accuracy on the mini-batch.
    pub accuracy: f64,
    /// L2 norm of each layer's weight gradient, input layer first.
    pub grad_norms: Vec<f64>,
    /// L2 norm of the gradient with respect to each layer's input.
    pub input_grad_norms: Vec<f64>,
}

enum Updater {
    Sgd(SGD),
    Adam(AdamW),
}

impl Updater {
    fn new(kind: OptimizerKind, vars: Vec<Var>, learning_rate: f64) -> Result<Self> {
        Ok(match kind {
            OptimizerKind::Sgd => Self::Sgd(SGD::new(vars, learning_rate)?),
            OptimizerKind::Adam => Self::Adam(AdamW::new(
                vars,
                ParamsAdamW {
                    lr: learning_rate,
                    weight_decay: 0.0,
                    ..ParamsAdamW::default()
                },
            )?),
        })
    }

    fn step(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
        match self {
            Self::Sgd(sgd) => sgd.step(grads)?,
            Self::Adam(adam) => adam.step(grads)?,
        }
        Ok(())
    }
}

/// Reshuffles the data every epoch with a seeded generator; batches always have the same size.
struct BatchOrder {
    rng: ChaCha8Rng,
    order: Vec<u32>,
    cursor: usize,
    size: usize,
}

impl BatchOrder {
    fn next(&mut self) -> &[u32] {
        if self.cursor + self.size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        self.cursor += self.size;
        &self.order[self.cursor - self.size..self.cursor]
    }
}

/// A model being trained, its data, and where its statistics go.
pub struct Trainer<'run> {
    config: TrainConfig,
    model: Mlp,
    updater: Updater,
    x: Tensor,
    y: Tensor,
    probes: Vec<Var>,
    batches: BatchOrder,
    watcher: Watcher,
    run: &'run Run,
    layer_names: Vec<String>,
    varmap: VarMap,
}

impl<'run> Trainer<'run> {
    /// Builds the network and optimiser for `config` on `device`, logging into `run`.
    pub fn new(
        config: TrainConfig,
        data: &Dataset,
        device: &Device,
        run: &'run Run,
    ) -> Result<Self> {
        config.validate()?;
        if data.is_empty() {
            return Err(Error::invalid("samples", "the data set is empty"));
        }
        let varmap = VarMap::new();
        let model = Mlp::new(config.model, &varmap, config.seed, DType::F32, device)?;
        let (x, y) = data.to_tensors(device)?;
        let size = config.batch_size.min(data.len());
        let batches = BatchOrder {
            rng: ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(1)),
            order: (0..data.len() as u32).collect(),
            cursor: usize::MAX / 2, // forces a shuffle before the first batch
            size,
        };
        let watcher = Watcher::new(&varmap).histograms_every(config.histogram_every);
        let layer_names = (0..config.model.depth)
            .map(|l| config.model.layer_name(l))
            .collect();
        Ok(Self {
            probes: model.input_probes(size, DType::F32, device)?,
            updater: Updater::new(config.optimizer, varmap.all_vars(), config.learning_rate)?,
            config,
            model,
            x,
            y,
            batches,
            watcher,
            run,
            layer_names,
            varmap,
        })
    }

    /// The trained parameters by name (`layer3.weight`, …), as safetensors stores them.
    pub fn weights(&self) -> HashMap<String, Tensor> {
        let vars = self.varmap.data().lock().unwrap_or_else(|e| e.into_inner());
        vars.iter()
            .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
            .collect()
    }

    /// The network being trained.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// One optimisation step; returns what was measured when this step is logged.
    pub fn step(&mut self, step: usize) -> Result<Option<StepRecord>> {
        let index =
            Tensor::from_slice(self.batches.next(), self.probes[0].dim(0)?, self.x.device())?;
        let (xb, yb) = (
            self.x.index_select(&index, 0)?,
            self.y.index_select(&index, 0)?,
        );
        let trace = self.model.trace(&xb, &self.probes)?;
        let loss = candle_nn::loss::cross_entropy(&trace.logits, &yb)?;
        let grads = loss.backward()?;
        let logged = step.is_multiple_of(self.config.log_every) || step + 1 == self.config.steps;
        let record = if logged {
            let extra = self.statistics(&trace, &loss, &yb, &grads)?;
            let seen = self
                .watcher
                .log_with(self.run, &grads, step as i64, &extra)?;
            let layer_values = |prefix: &str| {
                self.layer_names
                    .iter()
                    .map(|name| seen.get(&format!("{prefix}/{name}")).unwrap_or(f64::NAN))
                    .collect()
            };
            Some(StepRecord {
                step: step as i64,
                loss: seen.get("loss").unwrap_or(f64::NAN),
                accuracy: seen.get("accuracy").unwrap_or(f64::NAN),
                grad_norms: layer_values("grad_norm"),
                input_grad_norms: layer_values("input_grad_norm"),
            })
        } else {
            None
        };
        self.updater.step(&grads)?;
        Ok(record)
    }

    /// Loss, accuracy, the gradient reaching each layer's input, and each hidden layer's
    /// activation mean, spread and saturation, all still on the device. Layers are stacked
    /// so that each statistic is a few reductions, whatever the depth.
    fn statistics(
        &self,
        trace: &Trace,
        loss: &Tensor,
        labels: &Tensor,
        grads: &GradStore,
    ) -> Result<Vec<Scalars>> {
        let keyed = |prefix: &str, names: &[String]| {
            names
                .iter()
                .map(|n| format!("{prefix}/{n}"))
                .collect::<Vec<_>>()
        };
        let hidden = &self.layer_names[..trace.activations.len()];
        let activations = Tensor::stack(&trace.activations, 0)?.flatten_from(1)?;
        let mean = activations.mean_keepdim(1)?;
        let spread = activations.broadcast_sub(&mean)?.sqr()?.mean(1)?.sqrt()?;
        let pre_activations = Tensor::stack(&trace.pre_activations, 0)?.flatten_from(1)?;
        let saturation = self.config.model.activation.saturation(&pre_activations)?;

        let input_grads: Vec<(String, &Tensor)> = keyed("input_grad_norm", &self.layer_names)
            .into_iter()
            .zip(&self.probes)
            .filter_map(|(key, probe)| grads.get(probe).map(|grad| (key, grad)))
            .collect();
        let (input_keys, input_norms) = l2_norms(&input_grads)?;
        let mut scalars = vec![
            Scalars::one("loss", loss)?,
            Scalars::one("accuracy", &accuracy(&trace.logits, labels)?)?,
            Scalars::many(keyed("act_mean", hidden), &mean)?,
            Scalars::many(keyed("act_std", hidden), &spread)?,
            Scalars::many(keyed("saturation", hidden), &saturation)?,
        ];
        let mut input_keys = input_keys.into_iter();
        for norms in input_norms {
            let keys = input_keys.by_ref().take(norms.elem_count()).collect();
            scalars.push(Scalars::many(keys, &norms)?);
        }
        Ok(scalars)
    }

    /// Loss and accuracy on the whole data set, read back in one transfer.
    pub fn evaluate(&self) -> Result<(f64, f64)> {
        let logits = self.model.forward(&self.x)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &self.y)?.to_dtype(DType::F64)?;
        let both = Tensor::stack(&[loss, accuracy(&logits, &self.y)?], 0)?.to_vec1::<f64>()?;
        Ok((both[0], both[1]))
    }
}

/// Fraction of rows whose largest logit is the label, as an f64 scalar tensor.
fn accuracy(logits: &Tensor, labels: &Tensor) -> candle_core::Result<Tensor> {
    logits
        .argmax(1)?
        .eq(labels)?
        .to_dtype(DType::F64)?
        .mean_all()
}

/// The result of a whole training run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOutcome {
    /// Every logged step, in order.
    pub history: Vec<StepRecord>,
    /// Cross-entropy on the whole data set after training.
    pub final_loss: f64,
    /// Accuracy on the whole data set after training.
    pub final_accuracy: f64,
    /// The trained parameters by name, for `candle_core::safetensors::save`.
    #[serde(skip)]
    pub weights: HashMap<String, Tensor>,
}

/// Trains for `config.steps` steps, calling `on_step` after each one, and records the
/// settings as params and the outcome as final metrics of `run`.
pub fn train(
    config: TrainConfig,
    data: &Dataset,
    device: &Device,
    run: &Run,
    mut on_step: impl FnMut(usize),
) -> Result<TrainOutcome> {
    let mut trainer = Trainer::new(config, data, device, run)?;
    run.log_params(&config.params())?;
    let mut history = Vec::new();
    for step in 0..config.steps {
        history.extend(trainer.step(step)?);
        on_step(step);
    }
    let (final_loss, final_accuracy) = trainer.evaluate()?;
    run.log_metrics(
        &[
            ("final_loss", final_loss),
            ("final_accuracy", final_accuracy),
        ],
        config.steps as i64,
    )?;
    Ok(TrainOutcome {
        history,
        final_loss,
        final_accuracy,
        weights: trainer.weights(),
    })
}
