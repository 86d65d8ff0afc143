//! Tests that the demo shows what it claims: exact gradients, vanishing gradients under
//! sigmoid with the naive init, level gradients under ReLU with He init, and reproducibility.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use vanishing_demo::data::Dataset;
use vanishing_demo::grid::first_last_ratio;
use vanishing_demo::model::{Activation, Init, Mlp, MlpConfig};
use vanishing_demo::train::{StepRecord, TrainConfig, Trainer, train};

fn store() -> (tempfile::TempDir, tracker::Tracker) {
    let dir = tempfile::tempdir().unwrap();
    let tracker = tracker::Tracker::open(dir.path().join("tracker.db")).unwrap();
    (dir, tracker)
}

fn loss_of(mlp: &Mlp, x: &Tensor, y: &Tensor) -> f64 {
    let logits = mlp.forward(x).unwrap();
    candle_nn::loss::cross_entropy(&logits, y)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

/// Relative L2 distance between two vectors.
fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    diff / scale
}

#[test]
fn backprop_matches_central_finite_differences() {
    for (activation, residual) in [
        (Activation::Sigmoid, false),
        (Activation::Tanh, true),
        (Activation::Gelu, false),
    ] {
        let config = MlpConfig {
            depth: 4,
            width: 8,
            activation,
            init: Init::Glorot,
            residual,
        };
        let varmap = VarMap::new();
        let mlp = Mlp::new(config, &varmap, 3, DType::F64, &Device::Cpu).unwrap();
        let data = Dataset::spirals(3, 0.1, 1);
        let (x, y) = data.to_tensors(&Device::Cpu).unwrap();
        let x = x.to_dtype(DType::F64).unwrap();
        let probes = mlp
            .input_probes(x.dim(0).unwrap(), DType::F64, &Device::Cpu)
            .unwrap();
        let logits = mlp.trace(&x, &probes).unwrap().logits;
        let grads = candle_nn::loss::cross_entropy(&logits, &y)
            .unwrap()
            .backward()
            .unwrap();

        let h = 1e-6;
        let vars: Vec<(String, Var)> = varmap.data().lock().unwrap().clone().into_iter().collect();
        for (name, var) in vars {
            let analytic = grads
                .get(&var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let shape = var.shape().clone();
            let base = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let numeric: Vec<f64> = (0..base.len())
                .map(|i| {
                    let at = |delta: f64| {
                        let mut values = base.clone();
                        values[i] += delta;
                        var.set(&Tensor::from_vec(values, shape.clone(), &Device::Cpu).unwrap())
                            .unwrap();
                        loss_of(&mlp, &x, &y)
                    };
                    (at(h) - at(-h)) / (2.0 * h)
                })
                .collect();
            var.set(&Tensor::from_vec(base, shape, &Device::Cpu).unwrap())
                .unwrap();
            let err = relative_error(&analytic, &numeric);
            assert!(
                err < 1e-5,
                "{activation} residual={residual} {name}: relative error {err:e}"
            );
        }

        // The probe of the input layer carries ∂loss/∂x: check it against differences in x.
        let analytic = grads
            .get(&probes[0])
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let base = x.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let numeric: Vec<f64> = (0..base.len())
            .map(|i| {
                let at = |delta: f64| {
                    let mut values = base.clone();
                    values[i] += delta;
                    loss_of(
                        &mlp,
                        &Tensor::from_vec(values, x.shape(), &Device::Cpu).unwrap(),
                        &y,
                    )
                };
                (at(h) - at(-h)) / (2.0 * h)
            })
            .collect();
        assert!(
            relative_error(&analytic, &numeric) < 1e-5,
            "{activation}: input gradient"
        );
    }
}

/// The first logged step of a fresh 20 × 64 network, logged into a throwaway store.
fn gradients_at_init(activation: Activation, init: Init, seed: u64) -> StepRecord {
    let (_dir, tracker) = store();
    let run = tracker
        .experiment("science")
        .unwrap()
        .start_run("init")
        .unwrap();
    let mut config = TrainConfig {
        seed,
        histogram_every: 0,
        ..TrainConfig::default()
    };
    config.model.activation = activation;
    config.model.init = init;
    let data = Dataset::spirals(256, 0.05, seed);
    let mut trainer = Trainer::new(config, &data, &Device::Cpu, &run).unwrap();
    trainer.step(0).unwrap().expect("step 0 is always logged")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn sigmoid_with_naive_init_vanishes_at_initialisation() {
    let ratios: Vec<f64> = (0..3)
        .map(|seed| {
            first_last_ratio(&gradients_at_init(Activation::Sigmoid, Init::Naive, seed).grad_norms)
        })
        .collect();
    assert!(
        median(ratios.clone()) < 1e-6,
        "first/last ratios {ratios:?}"
    );
}

#[test]
fn relu_with_he_init_keeps_gradients_level() {
    let spreads: Vec<f64> = (0..3)
        .map(|seed| {
            let norms = gradients_at_init(Activation::Relu, Init::He, seed).grad_norms;
            assert_eq!(norms.len(), 20);
            let inner = &norms[1..]; // layers 2 … 20
            let max = inner.iter().copied().fold(f64::MIN, f64::max);
            let min = inner.iter().copied().fold(f64::MAX, f64::min);
            max / min
        })
        .collect();
    assert!(
        median(spreads.clone()) < 10.0,
        "max/min over layers 2…20: {spreads:?}"
    );
}

#[test]
fn same_seed_gives_the_same_losses_on_cpu() {
    let losses = |seed| {
        let (_dir, tracker) = store();
        let run = tracker
            .experiment("science")
            .unwrap()
            .start_run("repeat")
            .unwrap();
        let mut config = TrainConfig {
            steps: 15,
            seed,
            ..TrainConfig::default()
        };
        config.model.depth = 6;
        config.model.activation = Activation::Tanh;
        let outcome = train(
            config,
            &Dataset::spirals(64, 0.05, 1),
            &Device::Cpu,
            &run,
            |_| {},
        )
        .unwrap();
        outcome.history.iter().map(|r| r.loss).collect::<Vec<f64>>()
    };
    let first = losses(4);
    assert_eq!(first.len(), 15);
    assert_eq!(first, losses(4));
    assert_ne!(first, losses(5));
}

#[test]
fn training_learns_the_spirals_with_a_healthy_configuration() {
    let (_dir, tracker) = store();
    let run = tracker
        .experiment("science")
        .unwrap()
        .start_run("learn")
        .unwrap();
    let mut config = TrainConfig {
        steps: 300,
        optimizer: vanishing_demo::train::OptimizerKind::Adam,
        learning_rate: 3e-3,
        ..TrainConfig::default()
    };
    config.model = MlpConfig {
        depth: 6,
        width: 32,
        activation: Activation::Relu,
        init: Init::He,
        residual: false,
    };
    let outcome = train(
        config,
        &Dataset::spirals(128, 0.02, 2),
        &Device::Cpu,
        &run,
        |_| {},
    )
    .unwrap();
    assert!(
        outcome.final_accuracy > 0.9,
        "accuracy {}",
        outcome.final_accuracy
    );
    // Everything the loop measured reached the store.
    let loss = tracker.metric_history(run.id(), "loss").unwrap();
    assert_eq!(loss.len(), 300);
    assert_eq!(loss[299].value, outcome.history[299].loss);
    let data = tracker.run_data(run.id()).unwrap();
    for key in [
        "grad_norm/layer_00",
        "input_grad_norm/layer_05",
        "saturation/layer_04",
        "act_std/layer_00",
        "final_accuracy",
    ] {
        assert!(data.metrics.iter().any(|m| m.key == key), "missing {key}");
    }
    assert_eq!(data.params["activation"], "relu");
}
