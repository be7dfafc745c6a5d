//! The Terraform catalog as data: `terraform/catalog/batches.tf` (one block per batch) and the
//! per-environment overrides in `terraform/envs/*/terraform.tfvars`. Read with hcl-rs, checked
//! against this binary's registry (`check`), and previewed in local time (`batch schedule`).

pub mod check;
pub mod cron;
pub mod schedule;

use std::path::Path;

use anyhow::{Context, bail};
use hcl::{Body, Expression, ObjectKey};

/// Where the catalog lives in the repository.
pub const CATALOG_PATH: &str = "terraform/catalog/batches.tf";

/// One block of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub description: Option<String>,
    /// `None` = manual (task definition only).
    pub schedule: Option<String>,
    pub args: Vec<String>,
}

/// The whole catalog file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
    /// Batches deliberately not deployed (`local_only = [...]`): local tools such as `demo`.
    pub local_only: Vec<String>,
}

/// A `batch_overrides` entry of an environment's tfvars.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub file: String,
    pub name: String,
    pub schedule: Option<String>,
}

/// Reads the catalog file: `locals { batches = { "name" = { ... } }, local_only = [...] }`.
pub fn read_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let body = parse(path)?;
    let local = |name: &str| {
        body.blocks()
            .filter(|block| block.identifier() == "locals")
            .flat_map(|block| block.body().attributes())
            .find(|attribute| attribute.key() == name)
            .map(|attribute| attribute.expr().clone())
    };
    let local_only = strings(
        local("local_only").as_ref(),
        &format!("{}: `local_only`", path.display()),
    )?;
    let batches = local("batches")
        .with_context(|| format!("{}: no `locals {{ batches = {{ ... }} }}`", path.display()))?;
    let entries = read_entries(path, &batches)?;
    Ok(Catalog {
        entries,
        local_only,
    })
}

fn read_entries(path: &Path, batches: &Expression) -> anyhow::Result<Vec<Entry>> {
    let Expression::Object(entries) = batches else {
        bail!("{}: `batches` is not an object", path.display());
    };
    entries
        .iter()
        .map(|(key, value)| {
            let name = key_name(key);
            let Expression::Object(fields) = value else {
                bail!("catalog block `{name}` is not an object");
            };
            let field = |wanted: &str| fields.iter().find(|(k, _)| key_name(k) == wanted).map(|(_, v)| v);
            let text = |wanted: &str| -> anyhow::Result<Option<String>> {
                match field(wanted) {
                    None | Some(Expression::Null) => Ok(None),
                    Some(Expression::String(s)) => Ok(Some(s.clone())),
                    Some(other) => bail!("catalog block `{name}`: `{wanted}` must be a plain string or null, not `{other}`"),
                }
            };
            let args = strings(field("args"), &format!("catalog block `{name}`: `args`"))?;
            Ok(Entry { name: name.clone(), description: text("description")?, schedule: text("schedule")?, args })
        })
        .collect()
}

/// Reads `batch_overrides` from an environment's tfvars (absent = none).
pub fn read_overrides(path: &Path) -> anyhow::Result<Vec<Override>> {
    let body = parse(path)?;
    let Some(attribute) = body.attributes().find(|a| a.key() == "batch_overrides") else {
        return Ok(Vec::new());
    };
    let Expression::Object(entries) = attribute.expr() else {
        bail!("{}: `batch_overrides` is not an object", path.display());
    };
    let file = path.display().to_string();
    Ok(entries
        .iter()
        .map(|(key, value)| {
            let schedule = match value {
                Expression::Object(fields) => fields
                    .iter()
                    .find(|(k, _)| key_name(k) == "schedule")
                    .and_then(|(_, v)| match v {
                        Expression::String(s) => Some(s.clone()),
                        _ => None,
                    }),
                _ => None,
            };
            Override {
                file: file.clone(),
                name: key_name(key),
                schedule,
            }
        })
        .collect())
}

/// A list of plain strings (absent = empty); `what` names the attribute in the error.
fn strings(expression: Option<&Expression>, what: &str) -> anyhow::Result<Vec<String>> {
    match expression {
        None => Ok(Vec::new()),
        Some(Expression::Array(items)) => items
            .iter()
            .map(|item| match item {
                Expression::String(s) => Ok(s.clone()),
                other => bail!("{what} must list plain strings, not `{other}`"),
            })
            .collect(),
        Some(other) => bail!("{what} must be a list of strings, not `{other}`"),
    }
}

fn parse(path: &Path) -> anyhow::Result<Body> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    hcl::parse(&text).with_context(|| format!("{} is not valid HCL", path.display()))
}

fn key_name(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(identifier) => identifier.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(other) => other.to_string(),
        _ => key.to_string(),
    }
}
