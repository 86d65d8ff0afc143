//! Deep MLPs whose every weight is drawn from a seeded generator, so a run is reproducible.
//!
//! candle's CPU random generator cannot be seeded and `Linear`'s default init is Kaiming,
//! so weights are sampled here with ChaCha and loaded as tensors into the model's `VarMap`.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Linear, Module, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::Serialize;

use crate::{Error, Result};

/// Inputs are points in the plane.
pub const INPUT_DIM: usize = 2;
/// Two spirals, two classes.
pub const CLASSES: usize = 2;

/// The non-linearity between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The logistic function, the textbook case of vanishing gradients.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Rectified linear unit.
    Relu,
    /// GELU (tanh approximation).
    Gelu,
}

/// How the weights are drawn before training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// `U(-1/√n, 1/√n)` with `n` the fan-in: the "standard" init of Glorot & Bengio (2010).
    Naive,
    /// `U(-a, a)` with `a = √(6 / (fan_in + fan_out))`: Glorot & Bengio's normalised init.
    Glorot,
    /// `N(0, 2 / fan_in)`: He et al. (2015), made for ReLU.
    He,
}

named_choices!(Activation, "activation", Sigmoid => "sigmoid", Tanh => "tanh", Relu => "relu", Gelu => "gelu");
named_choices!(Init, "init", Naive => "naive", Glorot => "glorot", He => "he");

impl Activation {
    fn apply(self, z: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Sigmoid => candle_nn::ops::sigmoid(z),
            Self::Tanh => z.tanh(),
            Self::Relu => z.relu(),
            Self::Gelu => z.gelu(),
        }
    }

    /// Per row of `z` (one row per layer), the fraction of pre-activations that sit where the
    /// activation is flat, so almost no gradient passes: sigmoid outside (0.05, 0.95),
    /// |tanh| > 0.95, ReLU at or below zero, GELU below -3.
    pub(crate) fn saturation(self, z: &Tensor) -> candle_core::Result<Tensor> {
        let flat = match self {
            Self::Sigmoid => z.abs()?.gt(2.944_438_979)?,
            Self::Tanh => z.abs()?.gt(1.831_780_823)?,
            Self::Relu => z.le(0.0)?,
            Self::Gelu => z.lt(-3.0)?,
        };
        flat.to_dtype(DType::F32)?.mean(1)
    }
}

impl Init {
    fn sample(self, fan_in: usize, fan_out: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let n = fan_in * fan_out;
        let uniform = |a: f64, rng: &mut ChaCha8Rng| {
            // `a` is positive and finite for any fan-in ≥ 1, so the range is valid.
            let dist = Uniform::new_inclusive(-a, a).expect("bounds are finite and ordered");
            (0..n).map(|_| dist.sample(rng)).collect()
        };
        match self {
            Self::Naive => uniform(1.0 / (fan_in as f64).sqrt(), rng),
            Self::Glorot => uniform((6.0 / (fan_in + fan_out) as f64).sqrt(), rng),
            Self::He => {
                let dist = Normal::new(0.0, (2.0 / fan_in as f64).sqrt())
                    .expect("standard deviation is finite and positive");
                (0..n).map(|_| dist.sample(rng)).collect()
            }
        }
    }
}

/// The shape of a network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MlpConfig {
    /// Number of weight layers, input and output layers included (at least 2).
    pub depth: usize,
    /// Units in each hidden layer.
    pub width: usize,
    /// Non-linearity after every layer but the last.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Adds skip connections `h + f(W h + b) / √B` around the `B` width→width layers. The
    /// branch scale keeps the forward signal bounded (it would double at every block under
    /// He init) while the identity path carries the gradient back untouched.
    pub residual: bool,
}

impl MlpConfig {
    /// Checks the shape before any tensor is allocated.
    pub fn validate(&self) -> Result<()> {
        if self.depth < 2 {
            return Err(Error::invalid(
                "depth",
                format!(
                    "{} is too small: a network needs at least an input and an output layer (2)",
                    self.depth
                ),
            ));
        }
        if self.width == 0 {
            return Err(Error::invalid("width", "must be at least 1"));
        }
        Ok(())
    }

    /// `(fan_in, fan_out)` of every layer, input layer first.
    pub fn layer_dims(&self) -> Vec<(usize, usize)> {
        (0..self.depth)
            .map(|l| {
                let fan_in = if l == 0 { INPUT_DIM } else { self.width };
                let fan_out = if l + 1 == self.depth {
                    CLASSES
                } else {
                    self.width
                };
                (fan_in, fan_out)
            })
            .collect()
    }

    /// The name of layer `index` in the `VarMap` and in metric keys: `layer_00`, `layer_01`, …
    pub fn layer_name(&self, index: usize) -> String {
        let digits = (self.depth.saturating_sub(1)).to_string().len().max(2);
        format!("layer_{index:0digits$}")
    }
}

/// A multi-layer perceptron over 2-D points.
#[derive(Debug, Clone)]
pub struct Mlp {
    config: MlpConfig,
    hidden: Vec<Linear>,
    output: Linear,
}

/// The intermediate values of one forward pass, kept for statistics.
#[derive(Debug)]
pub struct Trace {
    /// The network's output, `(batch, CLASSES)`.
    pub logits: Tensor,
    /// Pre-activations `W h + b` of every hidden layer.
    pub pre_activations: Vec<Tensor>,
    /// Activations `f(W h + b)` of every hidden layer.
    pub activations: Vec<Tensor>,
}

impl Mlp {
    /// Builds the network, registering `layer_NN.weight` and `layer_NN.bias` in `varmap`.
    /// Biases start at zero, as in Glorot & Bengio.
    pub fn new(
        config: MlpConfig,
        varmap: &VarMap,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut vars = varmap
            .data()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut hidden = Vec::with_capacity(config.depth);
        for (index, (fan_in, fan_out)) in config.layer_dims().into_iter().enumerate() {
            let values = config.init.sample(fan_in, fan_out, &mut rng);
            let weight = Var::from_tensor(
                &Tensor::from_vec(values, (fan_out, fan_in), device)?.to_dtype(dtype)?,
            )?;
            let bias = Var::zeros(fan_out, dtype, device)?;
            let name = config.layer_name(index);
            vars.insert(format!("{name}.weight"), weight.clone());
            vars.insert(format!("{name}.bias"), bias.clone());
            hidden.push(Linear::new(
                weight.as_tensor().clone(),
                Some(bias.as_tensor().clone()),
            ));
        }
        // `validate` guarantees at least two layers, so there is an output layer to take.
        let output = hidden
            .pop()
            .ok_or_else(|| Error::invalid("depth", "must be at least 2"))?;
        Ok(Self {
            config,
            hidden,
            output,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// Zero-valued variables, one per layer, shaped like that layer's input for a batch of
    /// `batch` points. Added to the inputs in [`Mlp::trace`], they change nothing, but their
    /// gradients are the back-propagated signal `∂loss/∂input` of every layer, which candle
    /// would otherwise discard after the backward pass.
    pub fn input_probes(&self, batch: usize, dtype: DType, device: &Device) -> Result<Vec<Var>> {
        self.config
            .layer_dims()
            .into_iter()
            .map(|(fan_in, _)| Ok(Var::zeros((batch, fan_in), dtype, device)?))
            .collect()
    }

    /// Logits only.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.trace(x, &[])?.logits)
    }

    /// A forward pass that keeps every layer's pre-activation and activation; `probes`
    /// (from [`Mlp::input_probes`], or empty) are added to each layer's input.
    pub fn trace(&self, x: &Tensor, probes: &[Var]) -> Result<Trace> {
        let probed = |index: usize, h: Tensor| match probes.get(index) {
            Some(probe) => h.add(probe.as_tensor()),
            None => Ok(h),
        };
        let mut pre_activations = Vec::with_capacity(self.hidden.len());
        let mut activations = Vec::with_capacity(self.hidden.len());
        let branch_scale = 1.0 / (self.config.depth.saturating_sub(2).max(1) as f64).sqrt();
        let mut h = x.clone();
        for (index, layer) in self.hidden.iter().enumerate() {
            h = probed(index, h)?;
            let z = layer.forward(&h)?;
            let a = self.config.activation.apply(&z)?;
            h = if self.config.residual && h.dims() == a.dims() {
                h.add(&(&a * branch_scale)?)?
            } else {
                a.clone()
            };
            pre_activations.push(z);
            activations.push(a);
        }
        let logits = self.output.forward(&probed(self.hidden.len(), h)?)?;
        Ok(Trace {
            logits,
            pre_activations,
            activations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(depth: usize) -> MlpConfig {
        MlpConfig {
            depth,
            width: 8,
            activation: Activation::Tanh,
            init: Init::Glorot,
            residual: false,
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for name in Activation::NAMES {
            assert_eq!(name.parse::<Activation>().unwrap().name(), *name);
        }
        let err = "swish".parse::<Activation>().unwrap_err().to_string();
        assert!(
            err.contains("`swish`") && err.contains("sigmoid, tanh, relu, gelu"),
            "{err}"
        );
        assert_eq!("HE".parse::<Init>().unwrap(), Init::He);
    }

    #[test]
    fn depth_below_two_and_zero_width_are_refused() {
        let varmap = VarMap::new();
        for bad in [
            config(0),
            config(1),
            MlpConfig {
                width: 0,
                ..config(3)
            },
        ] {
            assert!(Mlp::new(bad, &varmap, 0, DType::F32, &Device::Cpu).is_err());
        }
    }

    #[test]
    fn layers_have_the_declared_shapes_and_names() {
        let varmap = VarMap::new();
        let mlp = Mlp::new(config(4), &varmap, 0, DType::F32, &Device::Cpu).unwrap();
        let x = Tensor::zeros((5, INPUT_DIM), DType::F32, &Device::Cpu).unwrap();
        let trace = mlp.trace(&x, &[]).unwrap();
        assert_eq!(trace.logits.dims(), &[5, CLASSES]);
        assert_eq!(trace.activations.len(), 3);
        let vars = varmap.data().lock().unwrap();
        assert_eq!(vars["layer_00.weight"].dims(), &[8, 2]);
        assert_eq!(vars["layer_03.weight"].dims(), &[2, 8]);
        assert_eq!(config(120).layer_name(7), "layer_007");
    }

    #[test]
    fn weights_follow_the_init_scale() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let bound = |w: &[f64]| w.iter().fold(0f64, |m, v| m.max(v.abs()));
        let naive = Init::Naive.sample(64, 64, &mut rng);
        assert!(bound(&naive) <= 1.0 / 8.0 && bound(&naive) > 0.12);
        let he = Init::He.sample(64, 64, &mut rng);
        let var = he.iter().map(|v| v * v).sum::<f64>() / he.len() as f64;
        assert!((var / (2.0 / 64.0) - 1.0).abs() < 0.1, "variance {var}");
    }

    #[test]
    fn probes_do_not_change_the_output() {
        let varmap = VarMap::new();
        let mlp = Mlp::new(
            MlpConfig {
                residual: true,
                ..config(5)
            },
            &varmap,
            1,
            DType::F64,
            &Device::Cpu,
        )
        .unwrap();
        let x = Tensor::new(&[[0.3f64, -0.2], [0.1, 0.9]], &Device::Cpu).unwrap();
        let probes = mlp.input_probes(2, DType::F64, &Device::Cpu).unwrap();
        let plain = mlp.forward(&x).unwrap().to_vec2::<f64>().unwrap();
        let probed = mlp
            .trace(&x, &probes)
            .unwrap()
            .logits
            .to_vec2::<f64>()
            .unwrap();
        assert_eq!(plain, probed);
    }
}
