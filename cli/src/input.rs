//! Reading the JSON files commands take (scenarios, plans, tax rate tables), with the same size
//! limit as the library's other entry points ([`ai_billing::api::MAX_REQUEST_BYTES`]), so a huge
//! or endless file (`/dev/zero`) is refused before it is held in memory.

use std::io::Read;
use std::path::Path;

use ai_billing::api::MAX_REQUEST_BYTES;

use crate::failure::{CliResult, Failure};

/// The text of the file at `path`; `what` names it in errors (`scenario file`).
pub fn read_json_file(path: &Path, what: &str) -> CliResult<String> {
    let context = || format!("cannot read {what} {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Failure::invalid_input(context(), e))?;
    let mut text = String::new();
    file.take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| Failure::invalid_input(context(), e))?;
    if text.len() > MAX_REQUEST_BYTES {
        return Err(Failure::invalid_input(
            context(),
            format!("it is larger than {MAX_REQUEST_BYTES} bytes (1 MiB), the most JSON read"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_under_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.json");
        std::fs::write(&small, "{}").unwrap();
        assert_eq!(read_json_file(&small, "scenario file").unwrap(), "{}");
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; MAX_REQUEST_BYTES + 1]).unwrap();
        let failure = read_json_file(&big, "scenario file").unwrap_err();
        let mut message = Vec::new();
        failure.report(&mut message);
        let message = String::from_utf8(message).unwrap();
        assert!(message.contains("larger than 1048576 bytes"), "{message}");
        assert_eq!(failure.status(), crate::failure::EXIT_INVALID_INPUT);
    }
}
