//! The HTML documents of invoices and credit notes on the command line (`invoices --html`,
//! `credit-notes --html`, `preview --html DIR`): the library's own rendering
//! ([`ai_billing::document`]), printed or written one file per document.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ai_billing::locale::Locale;
use ai_billing::store::Store;

use crate::failure::{CliResult, Failure};

/// What `--html` asks for: one document on stdout, or one file per document in a folder.
#[derive(Debug, Clone, Copy)]
pub enum HtmlOutput<'a> {
    /// The one document selected, on stdout.
    Stdout,
    /// One file per document in this folder (created when missing).
    Folder(&'a Path),
}

impl<'a> HtmlOutput<'a> {
    /// The output a `--html [DIR]` argument asks for, if any.
    pub fn of(arg: &'a Option<Option<PathBuf>>) -> Option<Self> {
        arg.as_ref().map(|dir| match dir {
            Some(dir) => HtmlOutput::Folder(dir),
            None => HtmlOutput::Stdout,
        })
    }
}

/// A document to print or write: its name (an id, or `invoice-01`) and its HTML.
pub struct Document {
    pub name: String,
    pub html: String,
}

/// Prints the one document of `documents` (`what` names their kind: "invoice"), or writes each
/// to `{folder}/{name}.html`, listing the files written. On stdout, anything but exactly one
/// document is an invalid input that says how to select one or where to write several.
pub fn emit(output: HtmlOutput<'_>, what: &str, select: &str, documents: &[Document]) -> CliResult {
    match output {
        HtmlOutput::Stdout => {
            let [document] = documents else {
                return Err(Failure::invalid_input(
                    "--html",
                    format!(
                        "{} {what}s match: --html without a folder prints exactly one (select it \
                         with {select}), or give a folder (--html DIR) to write one file per {what}",
                        documents.len()
                    ),
                ));
            };
            let mut out = std::io::stdout().lock();
            out.write_all(document.html.as_bytes())?;
            out.flush()?;
            Ok(())
        }
        HtmlOutput::Folder(folder) => {
            let written = write_all(folder, documents)?;
            let mut out = std::io::stdout().lock();
            for path in &written {
                writeln!(out, "{}", path.display())?;
            }
            writeln!(
                out,
                "{} written to {}",
                crate::render::count(written.len(), &format!("{what} document")),
                folder.display()
            )?;
            Ok(())
        }
    }
}

/// Writes each document to `{folder}/{name}.html` (the folder created when missing); the paths
/// written, in order. A name that is not a plain file name (a `/`, a leading `.`) is refused
/// before anything is written.
pub fn write_all(folder: &Path, documents: &[Document]) -> CliResult<Vec<PathBuf>> {
    if let Some(bad) = documents.iter().find(|d| !is_file_name(&d.name)) {
        return Err(Failure::invalid_input(
            "--html",
            format!("{:?} cannot be used as a file name", bad.name),
        ));
    }
    std::fs::create_dir_all(folder)
        .map_err(|e| Failure::other(format!("cannot create {}", folder.display()), e))?;
    documents
        .iter()
        .map(|document| {
            let path = folder.join(format!("{}.html", document.name));
            std::fs::write(&path, &document.html)
                .map_err(|e| Failure::other(format!("cannot write {}", path.display()), e))?;
            Ok(path)
        })
        .collect()
}

fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The locales of accounts, each read once: the account's own, en-US for an account the store
/// does not hold.
#[derive(Default)]
pub struct Locales(HashMap<String, Locale>);

impl Locales {
    /// The locale of `account_id`.
    pub async fn of(&mut self, store: &dyn Store, account_id: &str) -> CliResult<Locale> {
        if let Some(locale) = self.0.get(account_id) {
            return Ok(locale.clone());
        }
        let locale = store
            .account(account_id)
            .await?
            .map(|account| account.locale)
            .unwrap_or_default();
        self.0.insert(account_id.to_owned(), locale.clone());
        Ok(locale)
    }
}

/// `invoice-01`, `credit-note-12`: the name of the `index`th (from 1) of `count` documents of a
/// preview, numbered with at least two digits.
pub fn numbered(prefix: &str, index: usize, count: usize) -> String {
    let width = count.to_string().len().max(2);
    format!("{prefix}-{index:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_and_checked() {
        assert_eq!(numbered("invoice", 1, 4), "invoice-01");
        assert_eq!(numbered("credit-note", 7, 120), "credit-note-007");
        assert!(is_file_name("in_sub_20260101_r1"));
        assert!(!is_file_name("../x") && !is_file_name(".hidden") && !is_file_name("a/b"));
    }
}
