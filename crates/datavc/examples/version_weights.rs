//! Versioning a weights file from Rust: create a repository, track the file, change it,
//! see the change, record it, push both versions to a folder remote and restore the first.
//!
//! `cargo run -p datavc --example version_weights`

use std::fs;

use datavc::ops::checkout::CheckoutOptions;
use datavc::ops::transfer::TransferOptions;
use datavc::ops::{add, checkout, status, transfer};
use datavc::progress::Silent;
use datavc::{HashAlgo, Repo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("project");
    fs::create_dir(&root)?;
    let weights = root.join("model.safetensors");
    fs::write(&weights, b"epoch 1 weights")?;

    let mut repo = Repo::init(&root, HashAlgo::Blake3)?;
    let v1 = add::add(&repo, std::slice::from_ref(&weights), &Silent)?;
    println!("tracked {} as {}", v1[0].path, v1[0].oid);
    let pointer_v1 = fs::read_to_string(root.join("model.safetensors.dvc"))?;

    fs::write(&weights, b"epoch 2 weights")?;
    for output in status::status(&repo, &[])? {
        println!("status: {} is {:?}", output.path, output.change);
    }
    let v2 = add::commit(&repo, &[], &Silent)?;
    println!("recorded {} as {}", v2[0].path, v2[0].oid);

    let remote = dir.path().join("remote");
    let remote_url = remote.to_str().ok_or("temporary folder is not UTF-8")?;
    repo.config_mut()
        .add_remote(datavc::config::Level::Repo, "shared", remote_url, true)?;
    let pushed = transfer::push(&repo, &[], &TransferOptions::default(), &Silent)?;
    println!("pushed {} object(s)", pushed.transferred);

    fs::write(root.join("model.safetensors.dvc"), pointer_v1)?;
    checkout::checkout(&repo, &[], CheckoutOptions::default(), &Silent)?;
    println!("restored: {}", fs::read_to_string(&weights)?);
    Ok(())
}
