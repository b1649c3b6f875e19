//! The one timestamp shape portico writes where AWS tools read it: RFC 3339 in UTC with a
//! trailing `Z` and whole seconds. A leaf module: the credential engine, the caches and the
//! output formats all use it.

use time::OffsetDateTime;

/// RFC 3339 in UTC with a trailing `Z` and no fractional seconds, the one timestamp shape every
/// AWS SDK accepts (the Rust SDK rejects `+00:00`).
pub fn rfc3339_z(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Serde for timestamps as [`rfc3339_z`] writes them; reading accepts any RFC 3339 offset.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339_z(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map_err(serde::de::Error::custom)
    }
}
