//! Identifier newtypes and the timestamp type shared by every layer.
//!
//! Ids are opaque strings on the wire. Plans, sessions and runs get ULIDs from this module;
//! subtask ids are chosen by the user (or assigned `s1`, `s2`, ...) and validated elsewhere.

use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps an existing id (from the database or the wire) without checking its shape.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// Id of a plan: a ULID.
    PlanId
);
string_id!(
    /// Id of a chat session (one FSM each): a ULID, or a client-chosen string.
    SessionId
);
string_id!(
    /// Id of one execution of a plan: a ULID.
    RunId
);
string_id!(
    /// Id of a subtask, unique within its plan: `[A-Za-z0-9_.-]{1,64}`.
    SubtaskId
);

impl PlanId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl SessionId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl RunId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

/// A point in time, milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self((nanos / 1_000_000) as i64)
    }

    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// Milliseconds from `earlier` to `self`, 0 when `earlier` is later.
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0 - earlier.0).unwrap_or(0)
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-24T16:00:57.123Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(moment) => {
                let format = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
                );
                moment.format(&format).unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
            }
            Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_utc() {
        assert_eq!(Timestamp::from_millis(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_millis(1_795_000_000_123).to_rfc3339(), "2026-11-18T11:06:40.123Z");
    }

    #[test]
    fn generated_ids_are_distinct_ulids() {
        let first = PlanId::generate();
        let second = PlanId::generate();
        assert_ne!(first, second);
        assert_eq!(first.as_str().len(), 26);
    }
}
