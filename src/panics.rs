//! Turning a caught panic into text, for the error replies, failed subtasks and logs that a
//! panic becomes (a panic never takes the server down). Shared by `engine`, `orchestrator` and `lsp`.

use std::any::Any;

/// The message a panic was raised with, or `"unknown panic"` for a payload that is not text.
/// Pass the payload itself (`&*boxed`), not a reference to its box.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caught(work: impl FnOnce() + std::panic::UnwindSafe) -> Box<dyn Any + Send> {
        std::panic::catch_unwind(work).expect_err("the closure panics")
    }

    #[test]
    fn literal_and_formatted_messages_are_recovered() {
        assert_eq!(panic_message(&*caught(|| panic!("plain"))), "plain");
        let number = 7;
        assert_eq!(panic_message(&*caught(move || panic!("formatted {number}"))), "formatted 7");
        assert_eq!(panic_message(&*caught(|| std::panic::panic_any(42_u8))), "unknown panic");
    }
}
