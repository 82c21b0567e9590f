//! JSON in and out: requests read with the path of the field that is wrong, bounded in size
//! ([`MAX_REQUEST_BYTES`]) before they are parsed, and answers written out.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The largest request, option bag or scenario the API reads, in bytes of JSON text (1 MiB).
/// The largest legitimate request is a scenario with a few thousand shipments (about 100 bytes
/// each); anything bigger is refused before it is parsed, so a caller cannot make the library
/// allocate without bound. A plan prompt has its own, smaller limit
/// ([`crate::plan::MAX_PROMPT_CHARS`]).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// [`Error::InvalidInput`] on `what` when `len` bytes is more than [`MAX_REQUEST_BYTES`].
pub(super) fn check_request_size(what: &str, len: usize) -> Result<()> {
    if len > MAX_REQUEST_BYTES {
        return Err(too_large(what, &len.to_string()));
    }
    Ok(())
}

fn too_large(what: &str, size: &str) -> Error {
    Error::invalid(
        what,
        format!("is {size} bytes of JSON; at most {MAX_REQUEST_BYTES} are accepted"),
    )
}

/// `json` read as a `T`, or [`Error::InvalidInput`] naming `what` and the path of the field
/// that is wrong (`plan.currency: unknown currency "USX"`). Text longer than
/// [`MAX_REQUEST_BYTES`] is refused unread.
pub fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    check_request_size(what, json.len())?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| invalid(what, e))?;
    deserializer
        .end()
        .map_err(|e| Error::invalid(what, format!("trailing characters after the JSON: {e}")))?;
    Ok(value)
}

/// As [`from_json`], from a JSON value (what a JavaScript object converts to). A value whose
/// JSON text would be longer than [`MAX_REQUEST_BYTES`] is refused (measured without writing
/// the text out, and no further than the limit).
pub fn from_value<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T> {
    if json_len(&value) > MAX_REQUEST_BYTES {
        return Err(too_large(what, &format!("over {MAX_REQUEST_BYTES}")));
    }
    serde_path_to_error::deserialize(value).map_err(|e| invalid(what, e))
}

/// The length of `value`'s JSON text, counted up to one byte past [`MAX_REQUEST_BYTES`].
fn json_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > MAX_REQUEST_BYTES {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing only fails when the counter stops it: the count is then over the limit.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn invalid<E: std::fmt::Display>(what: &str, error: serde_path_to_error::Error<E>) -> Error {
    let path = error.path().to_string();
    let field = if path == "." || path.is_empty() {
        what.to_owned()
    } else {
        format!("{what}.{path}")
    };
    Error::invalid(field, error.inner().to_string())
}

/// `value` as JSON text (what the C ABI returns).
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::invalid("answer", format!("cannot be written as JSON: {e}")))
}
