//! An account's locale: how its documents (invoices, credit notes) write dates and money.
//!
//! Kept as a BCP 47 tag (`en-US`, `fr-FR`, `de-DE`) and checked against the POSIX locale data of
//! `pure-rust-locales` (glibc's), so a document never falls back silently to a format the account
//! did not ask for: an unknown tag is an invalid-input error naming `account.locale`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The locale of an account that names none.
pub const DEFAULT_LOCALE: &str = "en-US";

/// A locale the documents can be written in, as its BCP 47 tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Locale {
    tag: String,
    posix: pure_rust_locales::Locale,
}

impl Locale {
    /// The locale of `tag` (`en-US`, or the POSIX spelling `en_US`); an error names `field` when
    /// no locale data exists for it.
    pub fn parse(tag: &str, field: &str) -> Result<Self> {
        let posix_name = tag.trim().replace('-', "_");
        let posix = pure_rust_locales::Locale::try_from(posix_name.as_str()).map_err(|_| {
            Error::invalid(
                field,
                format!("{tag:?} is not a known locale (use a BCP 47 tag such as en-US or fr-FR)"),
            )
        })?;
        Ok(Locale {
            tag: posix_name.replace('_', "-"),
            posix,
        })
    }

    /// The BCP 47 tag (`en-US`).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The POSIX locale whose data formats dates and money.
    pub fn posix(&self) -> pure_rust_locales::Locale {
        self.posix
    }

    /// Whether this is the default locale (`en-US`).
    pub fn is_default(&self) -> bool {
        self.tag == DEFAULT_LOCALE
    }
}

impl Default for Locale {
    fn default() -> Self {
        Locale {
            tag: DEFAULT_LOCALE.to_owned(),
            posix: pure_rust_locales::Locale::en_US,
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag)
    }
}

impl Serialize for Locale {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.tag)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        Locale::parse(&tag, "locale").map_err(|e| match e {
            Error::InvalidInput { reason, .. } => serde::de::Error::custom(reason),
            other => serde::de::Error::custom(other),
        })
    }
}

impl schemars::JsonSchema for Locale {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Locale".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A BCP 47 locale tag with a region, such as en-US, fr-FR or de-DE.",
            "examples": ["en-US"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_in_either_spelling_and_unknown_ones_are_refused() {
        assert_eq!(Locale::parse("fr-FR", "locale").unwrap().tag(), "fr-FR");
        assert_eq!(Locale::parse("de_DE", "locale").unwrap().tag(), "de-DE");
        assert!(Locale::default().is_default());
        let err = Locale::parse("xx-YY", "account.locale").unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.to_string().contains("account.locale"), "{err}");
    }

    #[test]
    fn serde_round_trips_the_tag() {
        let locale: Locale = serde_json::from_str("\"en-GB\"").unwrap();
        assert_eq!(serde_json::to_string(&locale).unwrap(), "\"en-GB\"");
        assert!(serde_json::from_str::<Locale>("\"nope\"").is_err());
    }
}
