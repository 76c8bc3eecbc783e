//! The closed sets of the wire, each an enum with its names exactly as they are on the wire.
//!
//! Each is made by [`wire_enum!`]: the names are written once, and from them come
//! serialisation, deserialisation (an unknown name is refused naming what was expected:
//! `unknown plan status "foo" (expected "draft", "approved", ...)`; with the params parser's path
//! in front: `status: unknown plan status "foo" ...`), and the schema (`{"type": "string",
//! "enum": [...]}`, a named definition). They mirror domain enums but are not them: the mapping
//! is `convert`'s.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// User text echoed in an error, cut at 80 characters.
fn shortened(text: &str) -> String {
    const SHOWN_CHARS: usize = 80;
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

macro_rules! wire_enum {
    (
        $(#[doc = $doc:literal])+
        $name:ident ($noun:literal) { $($variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted names, for error messages: `"a", "b", "c"`.
            pub fn expected() -> String {
                [$(concat!("\"", $text, "\"")),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Names;
                impl serde::de::Visitor<'_> for Names {
                    type Value = $name;
                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(formatter, "one of {}", $name::expected())
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::parse(text).ok_or_else(|| {
                            E::custom(format!(
                                "unknown {} \"{}\" (expected {})",
                                $noun,
                                shortened(text),
                                $name::expected()
                            ))
                        })
                    }
                }
                deserializer.deserialize_str(Names)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let description = [$($doc.trim()),+].join(" ");
                json_schema!({ "description": description, "type": "string", "enum": [$($text),+] })
            }
        }
    };
}

wire_enum!(
    /// The lifecycle of a plan.
    PlanStatus ("plan status") {
        Draft => "draft",
        Approved => "approved",
        Running => "running",
        Completed => "completed",
        Failed => "failed",
        Cancelled => "cancelled",
        Rejected => "rejected",
        Interrupted => "interrupted",
    }
);

wire_enum!(
    /// The lifecycle of a subtask; `waiting`: the run reached it and waits for a person.
    SubtaskStatus ("subtask status") {
        Pending => "pending",
        Running => "running",
        Waiting => "waiting",
        Done => "done",
        Failed => "failed",
        Skipped => "skipped",
        Cancelled => "cancelled",
    }
);

wire_enum!(
    /// Who does a subtask: an LLM agent, a shell command, or a person (`manual`).
    SubtaskAgent ("agent") {
        Coder => "coder",
        Debug => "debug",
        Ask => "ask",
        Shell => "shell",
        Manual => "manual",
    }
);

wire_enum!(
    /// Where the classifier routes a task (`plan`: it needs a plan of several steps).
    ClassificationAgent ("classification agent") {
        Code => "code",
        Plan => "plan",
        Debug => "debug",
        Explain => "explain",
    }
);

wire_enum!(
    /// The text `planning/export` writes: `*.plan.toml` or a markdown task list (`*.plan.md`).
    PlanFileFormat ("plan file format") {
        Toml => "toml",
        Md => "md",
    }
);

wire_enum!(
    /// How sure the classifier is.
    Confidence ("confidence") {
        High => "high",
        Medium => "medium",
        Low => "low",
    }
);

wire_enum!(
    /// Which classifier answered.
    ClassificationMethod ("classification method") {
        Keywords => "keywords",
        Llm => "llm",
    }
);

wire_enum!(
    /// What a run does when a subtask fails for good.
    FailurePolicy ("failure policy") {
        Continue => "continue",
        FailFast => "failFast",
    }
);

wire_enum!(
    /// How `planning/create` treats the task: classify it, plan it, or do it in one step.
    CreateMode ("mode") {
        Auto => "auto",
        Plan => "plan",
        Direct => "direct",
    }
);

wire_enum!(
    /// Who wrote a plan's subtasks: the language model, the template planner, or the user.
    Planner ("planner") {
        Llm => "llm",
        Template => "template",
        User => "user",
    }
);

wire_enum!(
    /// How `planning/complete` ends a waiting step.
    CompletionStatus ("status") {
        Done => "done",
        Failed => "failed",
    }
);

wire_enum!(
    /// A session's state (the session FSM's names).
    SessionState ("session state") {
        Idle => "idle",
        Classify => "classify",
        PlanRequired => "plan_required",
        ArchitectPlanning => "architect_planning",
        PlanReview => "plan_review",
        PlanExecution => "plan_execution",
        Execution => "execution",
        ErrorHandling => "error_handling",
        Completed => "completed",
    }
);

wire_enum!(
    /// What an LLM agent is doing (`agentActivity.phase`).
    ActivityPhase ("activity phase") {
        Thinking => "thinking",
        ToolStarted => "toolStarted",
        ToolFinished => "toolFinished",
        WaitingForApproval => "waitingForApproval",
    }
);

wire_enum!(
    /// The Agent Client Protocol's tool kinds.
    ToolKind ("tool kind") {
        Read => "read",
        Edit => "edit",
        Delete => "delete",
        Move => "move",
        Search => "search",
        Execute => "execute",
        Think => "think",
        Fetch => "fetch",
        Other => "other",
    }
);

wire_enum!(
    /// The answers to a tool-call question, as the Agent Client Protocol's permission options:
    /// Allow, Allow for this plan, Deny.
    PermissionOption ("option") {
        AllowOnce => "allow_once",
        AllowAlways => "allow_always",
        RejectOnce => "reject_once",
    }
);

wire_enum!(
    /// The kind of a `planning/progress` event (its `kind` tag).
    EventKind ("event kind") {
        PlanStarted => "planStarted",
        SubtaskStarted => "subtaskStarted",
        SubtaskOutput => "subtaskOutput",
        SubtaskRetrying => "subtaskRetrying",
        SubtaskWaiting => "subtaskWaiting",
        SubtaskFinished => "subtaskFinished",
        AgentActivity => "agentActivity",
        ApprovalRequested => "approvalRequested",
        ApprovalAnswered => "approvalAnswered",
        PlanFinished => "planFinished",
    }
);

wire_enum!(
    /// `data.kind` of a `-32803` (request failed), `-32801` (stale version) or validation error.
    ErrorKind ("error kind") {
        PlanNotFound => "planNotFound",
        SessionNotFound => "sessionNotFound",
        InvalidState => "invalidState",
        Validation => "validation",
        StaleVersion => "staleVersion",
        Llm => "llm",
        Storage => "storage",
    }
);

wire_enum!(
    /// A user action on a plan (`invalidState`'s `data.allowed`).
    PlanAction ("action") {
        Approve => "approve",
        Reject => "reject",
        Revise => "revise",
        Update => "update",
        Delete => "delete",
        Execute => "execute",
        Cancel => "cancel",
        Status => "status",
        Retry => "retry",
    }
);

wire_enum!(
    /// The role of a subtask in a plan: `baseline` is a check run before the change, whose
    /// failure is recorded, never fails the plan and never skips dependents.
    SubtaskRole ("role") {
        Baseline => "baseline",
    }
);

wire_enum!(
    /// What one entry of an agent's transcript records.
    TranscriptEntryKind ("transcript entry kind") {
        Message => "message",
        ToolCall => "toolCall",
        ToolResult => "toolResult",
        Approval => "approval",
        Note => "note",
    }
);

wire_enum!(
    /// How an agent changed a file.
    FileChangeKind ("change") {
        Added => "added",
        Modified => "modified",
        Deleted => "deleted",
        Moved => "moved",
    }
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_name_the_choices() {
        for status in PlanStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(serde_json::from_value::<PlanStatus>(json).unwrap(), *status);
        }
        let unknown = serde_json::from_value::<FailurePolicy>(json!("failfast")).unwrap_err();
        assert_eq!(unknown.to_string(), r#"unknown failure policy "failfast" (expected "continue", "failFast")"#);
        let wrong_type = serde_json::from_value::<CompletionStatus>(json!(7)).unwrap_err();
        assert_eq!(wrong_type.to_string(), r#"invalid type: integer `7`, expected one of "done", "failed""#);
    }

    #[test]
    fn a_huge_unknown_name_is_not_echoed() {
        let huge = "q".repeat(100_000);
        let message = serde_json::from_value::<PlanStatus>(json!(huge)).unwrap_err().to_string();
        assert!(message.len() < 400, "{} bytes", message.len());
    }

    #[test]
    fn the_schema_lists_every_name() {
        let schema = schemars::schema_for!(PermissionOption);
        assert_eq!(schema.get("enum").unwrap(), &json!(["allow_once", "allow_always", "reject_once"]));
        assert_eq!(schema.get("type").unwrap(), "string");
    }
}
