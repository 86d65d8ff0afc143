//! How a spokes binary reports an error: `cargo run -p spokes-cli --example report`.

fn main() {
    let error = std::fs::read("no-such-file.md").unwrap_err();
    let color = spokes_cli::ColorChoice::Auto.for_stderr();
    spokes_cli::report_error(&error, Some("check the path"), color, false);
}
