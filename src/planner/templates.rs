//! Plan templates by task kind.

pub(super) fn _placeholder() {}
