//! `vanishing-demo`: trains deep MLPs and shows their gradients vanish (or not).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use indicatif::{ProgressBar, ProgressStyle};
use spokes_cli::ColorChoice;
use vanishing_demo::data::Dataset;
use vanishing_demo::grid::{self, DataConfig, GridConfig, GridReport, Progress, Summary, Variant};
use vanishing_demo::model::{Activation, Init, MlpConfig};
use vanishing_demo::train::{self, OptimizerKind, TrainConfig};
use vanishing_demo::{Error, device};

// A logged step allocates and frees megabytes of statistics temporaries; glibc's malloc
// handed them back as fresh pages every step (41 % of the step in page faults), mimalloc
// reuses them. The step bench uses the same allocator, so it measures this binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Vanishing gradients in deep MLPs, logged into tracker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Tracker store (default: $SPOKES_TRACKER_URI, else .spokes/tracker.db in the project).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    /// Print machine-readable JSON on stdout instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Colour in error messages.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Train one configuration.
    Train {
        /// sigmoid, tanh, relu or gelu.
        #[arg(long, default_value = "sigmoid")]
        activation: Activation,
        /// naive, glorot or he.
        #[arg(long, default_value = "naive")]
        init: Init,
        /// Skip connections around the hidden layers.
        #[arg(long)]
        residual: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Compare sigmoid+naive, sigmoid+glorot, tanh+glorot, relu+he and relu+he+residual.
    Grid {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
struct Common {
    /// Weight layers, input and output included.
    #[arg(long, default_value_t = 20)]
    depth: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 64)]
    width: usize,
    /// sgd or adam.
    #[arg(long, default_value = "sgd")]
    optimizer: OptimizerKind,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Training steps.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// Points per mini-batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Seed of weights and batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log statistics every N steps.
    #[arg(long, default_value_t = 1)]
    log_every: usize,
    /// Log gradient histograms every N steps (0: never).
    #[arg(long, default_value_t = 50)]
    histogram_every: usize,
    /// Points per class.
    #[arg(long, default_value_t = 512)]
    samples: usize,
    /// Noise of the spirals.
    #[arg(long, default_value_t = 0.05)]
    noise: f32,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Folder for plots and summary.
    #[arg(long, default_value = "out/vanishing-demo")]
    out: PathBuf,
}

impl Common {
    fn train_config(&self, activation: Activation, init: Init, residual: bool) -> TrainConfig {
        TrainConfig {
            model: MlpConfig {
                depth: self.depth,
                width: self.width,
                activation,
                init,
                residual,
            },
            optimizer: self.optimizer,
            learning_rate: self.lr,
            steps: self.steps,
            batch_size: self.batch_size,
            seed: self.seed,
            log_every: self.log_every,
            histogram_every: self.histogram_every,
        }
    }

    fn data(&self) -> DataConfig {
        DataConfig {
            per_class: self.samples,
            noise: self.noise,
            ..DataConfig::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            spokes_cli::report_error(&err, None, cli.color.for_stderr(), false);
            match err {
                Error::Tensor(_) | Error::Watch(_) | Error::Plot { .. } => ExitCode::from(1),
                _ => ExitCode::from(2),
            }
        }
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    let tracker = tracker::Tracker::open(tracker::default_location(cli.store.as_deref()))?;
    match &cli.command {
        Command::Grid { common } => {
            let config = GridConfig {
                base: common.train_config(Activation::Sigmoid, Init::Naive, false),
                variants: Variant::standard_set(),
                data: common.data(),
                device_name: common.device.clone(),
            };
            let device = device(&common.device)?;
            let bar = progress_bar(cli.quiet);
            let report = grid::run_grid(
                &config,
                &tracker,
                &common.out,
                &device,
                |event| match event {
                    Progress::Started { label, steps } => {
                        bar.reset();
                        bar.set_length(steps as u64);
                        bar.set_message(label.to_string());
                    }
                    Progress::Step => bar.inc(1),
                    Progress::Finished => {}
                },
            )?;
            bar.finish_and_clear();
            print_grid(&report, tracker.path(), cli.json);
        }
        Command::Train {
            activation,
            init,
            residual,
            common,
        } => {
            let config = common.train_config(*activation, *init, *residual);
            config.validate()?;
            let data: Dataset = common.data().generate()?;
            let device = device(&common.device)?;
            let label = Variant {
                activation: *activation,
                init: *init,
                residual: *residual,
            }
            .label();
            let run = tracker.experiment(grid::EXPERIMENT)?.start_run(&label)?;
            grid::provenance_tags(&run, &common.device)?;
            let bar = progress_bar(cli.quiet);
            bar.set_length(config.steps as u64);
            bar.set_message(label.clone());
            let outcome = match train::train(config, &data, &device, &run, |_| bar.inc(1)) {
                Ok(outcome) => outcome,
                Err(e) => {
                    run.finish(tracker::RunStatus::Failed)?;
                    return Err(e);
                }
            };
            bar.finish_and_clear();
            let row = Summary::from_outcome(label, run.id().to_string(), &outcome);
            run.finish(tracker::RunStatus::Finished)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&row).unwrap_or_default());
            } else {
                println!("{}", table(std::slice::from_ref(&row)));
                println!("run {} in {}", row.run_id, tracker.path().display());
            }
        }
    }
    Ok(())
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    // indicatif draws on stderr only when it is a terminal.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>18} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn table(rows: &[Summary]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "configuration",
        "‖g₁‖/‖g_L‖ at init",
        "‖g₁‖/‖g_L‖ at end",
        "final loss",
        "accuracy",
    ]);
    for row in rows {
        table.add_row([
            row.label.clone(),
            format!("{:.2e}", row.ratio_at_init),
            format!("{:.2e}", row.ratio_at_end),
            format!("{:.4}", row.final_loss),
            format!("{:.1} %", 100.0 * row.final_accuracy),
        ]);
    }
    table
}

fn print_grid(report: &GridReport, store: &std::path::Path, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
        return;
    }
    println!("{}", table(&report.rows));
    println!("plots and summary: {}", report.out_dir.display());
    println!(
        "runs: {} (experiment `{}`; `tracker runs --experiment {}`)",
        store.display(),
        report.experiment,
        report.experiment
    );
}
