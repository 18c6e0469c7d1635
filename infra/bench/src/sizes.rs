//! Binary and zip sizes of every function, as Lambda takes them (`bootstrap` at the root of the zip).

use std::path::Path;

use crate::lambda::Error;

pub const ZIP_BUDGET_BYTES: u64 = 4_000_000;

/// Every Lambda binary of the project, and the bare probe.
pub const FUNCTIONS: &[&str] = &[
    "admin",
    "authorizer",
    "catalog",
    "inventory",
    "inventory-sweeper",
    "customers",
    "carts",
    "checkout",
    "orders",
    "webhooks",
    "event-publisher",
    "webhook-fanout",
    "webhook-delivery",
    "probe",
];

pub struct Size {
    pub name: String,
    pub binary_bytes: u64,
    pub zip_bytes: u64,
}

/// Sizes of the binaries `names` in `bins`, zipped under `work` (a binary not built is skipped).
pub fn measure(bins: &Path, work: &Path, names: &[&str]) -> Result<Vec<Size>, Error> {
    let mut sizes = Vec::new();
    for name in names {
        let binary = bins.join(name);
        let Ok(metadata) = std::fs::metadata(&binary) else {
            continue;
        };
        let dir = work.join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(&binary, dir.join("bootstrap"))?;
        let zip = dir.join("bootstrap.zip");
        let _ = std::fs::remove_file(&zip);
        let status = std::process::Command::new("zip")
            .args(["-9", "-q", "-X", "bootstrap.zip", "bootstrap"])
            .current_dir(&dir)
            .status()?;
        if !status.success() {
            return Err(format!("zip failed for {name}").into());
        }
        sizes.push(Size {
            name: (*name).to_owned(),
            binary_bytes: metadata.len(),
            zip_bytes: std::fs::metadata(&zip)?.len(),
        });
    }
    Ok(sizes)
}
