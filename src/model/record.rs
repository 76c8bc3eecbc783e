//! Agent work on the record, as the domain sees it: the question an agent waits on
//! ([`PendingApproval`]) and the person's [`Answer`], the transcript of an attempt
//! ([`TranscriptEntry`]), and each file an attempt changed ([`FileChangeRecord`]) with its
//! content before the attempt's first change and after its last.
//!
//! Pure data: recording is the engine's (signals from the agents, committed by the driver),
//! storing is the store's, diffs and rollback are the orchestrator's.

use super::{SubtaskId, Timestamp};

/// The Agent Client Protocol's tool kinds: what a tool call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    Read,
    Edit,
    Delete,
    Move,
    Search,
    Execute,
    Think,
    Fetch,
    Other,
}

impl ToolKind {
    pub const ALL: [ToolKind; 9] = [
        ToolKind::Read,
        ToolKind::Edit,
        ToolKind::Delete,
        ToolKind::Move,
        ToolKind::Search,
        ToolKind::Execute,
        ToolKind::Think,
        ToolKind::Fetch,
        ToolKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolKind::Read => "read",
            ToolKind::Edit => "edit",
            ToolKind::Delete => "delete",
            ToolKind::Move => "move",
            ToolKind::Search => "search",
            ToolKind::Execute => "execute",
            ToolKind::Think => "think",
            ToolKind::Fetch => "fetch",
            ToolKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// What "Allow for this plan" covers when given for a call of this kind, in words.
    pub fn plan_scope(self) -> &'static str {
        match self {
            ToolKind::Edit => "every file edit of this plan",
            ToolKind::Delete => "every file deletion of this plan",
            ToolKind::Move => "every file move of this plan",
            ToolKind::Execute => "every command of this plan",
            _ => "every call of this kind in this plan",
        }
    }
}

/// A person's answer to an agent's question (the Agent Client Protocol's permission options).
/// A dismissed question is a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    AllowOnce,
    /// "Allow for this plan": covers the question's tool kind for the rest of the plan.
    AllowForPlan,
    Deny,
}

impl Answer {
    /// The Agent Client Protocol's permission option kind.
    pub fn acp_kind(self) -> &'static str {
        match self {
            Answer::AllowOnce => "allow_once",
            Answer::AllowForPlan => "allow_always",
            Answer::Deny => "reject_once",
        }
    }

    pub fn from_acp_kind(text: &str) -> Option<Self> {
        [Answer::AllowOnce, Answer::AllowForPlan, Answer::Deny].into_iter().find(|answer| answer.acp_kind() == text)
    }
}

/// The question an agent waits on, kept with its subtask until it is answered (or the attempt
/// ends), so that any client sees it and can answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingApproval {
    /// Unique per question (a ULID).
    pub request_id: String,
    /// "Allow coder to edit `README.md`?"
    pub question: String,
    pub tool_kind: ToolKind,
    /// The file or command the tool call works on.
    pub target: String,
    /// `+3 −1 README.md`: the change in one line, for a file change.
    pub summary: Option<String>,
    /// The change as a unified diff, for a file change.
    pub diff: Option<String>,
    pub asked_at: Timestamp,
}

/// The files a subtask's agent changed, summed up over its attempts (rolled-back ones left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    pub files: u32,
    pub added: u64,
    pub removed: u64,
}

/// What one transcript entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptKind {
    /// A message of the conversation (`role`: `user` for the task, `assistant` for the model).
    Message,
    ToolCall,
    ToolResult,
    /// A question put to the person, or its answer.
    Approval,
    /// Something the loop did: a retry, a truncation, the tool-call cap, a nudge.
    Note,
}

impl TranscriptKind {
    pub const ALL: [TranscriptKind; 5] = [
        TranscriptKind::Message,
        TranscriptKind::ToolCall,
        TranscriptKind::ToolResult,
        TranscriptKind::Approval,
        TranscriptKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TranscriptKind::Message => "message",
            TranscriptKind::ToolCall => "toolCall",
            TranscriptKind::ToolResult => "toolResult",
            TranscriptKind::Approval => "approval",
            TranscriptKind::Note => "note",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One entry of an attempt's transcript. Texts are bounded by whoever records them and never
/// hold the API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    pub at: Timestamp,
    pub kind: TranscriptKind,
    /// `user` or `assistant`, for messages.
    pub role: Option<String>,
    pub text: Option<String>,
    pub tool: Option<String>,
    pub tool_kind: Option<ToolKind>,
    pub target: Option<String>,
    /// A tool call's arguments as the model wrote them (JSON text).
    pub arguments: Option<String>,
    /// How a tool call or a question ended: `ok`, `error`, `denied`, `cancelled`, `notRun`, or
    /// an answer (`allow_once`, `allow_always`, `reject_once`).
    pub outcome: Option<String>,
}

impl TranscriptEntry {
    pub fn new(at: Timestamp, kind: TranscriptKind) -> Self {
        Self {
            at,
            kind,
            role: None,
            text: None,
            tool: None,
            tool_kind: None,
            target: None,
            arguments: None,
            outcome: None,
        }
    }

    /// Bytes of text the entry holds (what the transcript's bounds count).
    pub fn bytes(&self) -> usize {
        [&self.text, &self.arguments, &self.target, &self.tool, &self.outcome, &self.role]
            .iter()
            .map(|field| field.as_ref().map_or(0, String::len))
            .sum::<usize>()
            + 16
    }
}

/// One attempt's transcript: its entries, oldest first, and how many were dropped to stay
/// inside the bounds (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub attempt: u32,
    pub entries: Vec<TranscriptEntry>,
    pub dropped: u64,
}

/// A file's content on one side of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// The file did not exist (before) or no longer exists (after).
    Absent,
    Text(String),
    /// It existed, but its content was not kept: why (over a limit, not text).
    NotKept(String),
}

impl Content {
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn exists(&self) -> bool {
        !matches!(self, Content::Absent)
    }

    /// Bytes of content kept.
    pub fn bytes(&self) -> usize {
        self.text().map_or(0, str::len)
    }
}

/// How a file changed over one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChangeKind {
    Added,
    Modified,
    Deleted,
    Moved,
}

impl FileChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileChangeKind::Added => "added",
            FileChangeKind::Modified => "modified",
            FileChangeKind::Deleted => "deleted",
            FileChangeKind::Moved => "moved",
        }
    }
}

/// One file one attempt of a subtask changed: its content before the attempt's first change and
/// after its last, and the lines added and removed between the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChangeRecord {
    pub subtask_id: SubtaskId,
    pub attempt: u32,
    /// Workspace-relative, `/`-separated.
    pub path: String,
    /// Where the file was before the attempt moved it here.
    pub from: Option<String>,
    pub before: Content,
    pub after: Content,
    pub added: u64,
    pub removed: u64,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    /// When `planning/rollback` restored the content before (then it no longer counts).
    pub rolled_back_at: Option<Timestamp>,
}

impl FileChangeRecord {
    pub fn kind(&self) -> FileChangeKind {
        match (&self.from, self.before.exists(), self.after.exists()) {
            (Some(_), _, _) => FileChangeKind::Moved,
            (None, false, _) => FileChangeKind::Added,
            (None, true, false) => FileChangeKind::Deleted,
            (None, true, true) => FileChangeKind::Modified,
        }
    }

    /// The bytes of content this record keeps (what the plan's budget counts).
    pub fn kept_bytes(&self) -> usize {
        self.before.bytes() + self.after.bytes()
    }
}

/// `+3 −1 README.md`: a change in one line (`−` is U+2212, as the contract writes it).
pub fn change_line(path: &str, added: u64, removed: u64) -> String {
    format!("+{added} \u{2212}{removed} {path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ToolKind::ALL {
            assert_eq!(ToolKind::parse(kind.as_str()), Some(kind));
        }
        for kind in TranscriptKind::ALL {
            assert_eq!(TranscriptKind::parse(kind.as_str()), Some(kind));
        }
        for answer in [Answer::AllowOnce, Answer::AllowForPlan, Answer::Deny] {
            assert_eq!(Answer::from_acp_kind(answer.acp_kind()), Some(answer));
        }
        assert_eq!(Answer::from_acp_kind("allow"), None);
    }

    #[test]
    fn a_record_knows_its_kind_from_its_two_sides() {
        let record = |from: Option<&str>, before: Content, after: Content| FileChangeRecord {
            subtask_id: SubtaskId::from_raw("s1"),
            attempt: 1,
            path: "a.txt".into(),
            from: from.map(str::to_owned),
            before,
            after,
            added: 0,
            removed: 0,
            first_at: Timestamp::from_millis(0),
            last_at: Timestamp::from_millis(0),
            rolled_back_at: None,
        };
        let text = || Content::Text("x".into());
        assert_eq!(record(None, Content::Absent, text()).kind(), FileChangeKind::Added);
        assert_eq!(record(None, text(), text()).kind(), FileChangeKind::Modified);
        assert_eq!(record(None, text(), Content::Absent).kind(), FileChangeKind::Deleted);
        assert_eq!(record(Some("b.txt"), text(), text()).kind(), FileChangeKind::Moved);
        assert_eq!(record(None, Content::NotKept("too big".into()), text()).kind(), FileChangeKind::Modified);
        assert_eq!(change_line("README.md", 3, 1), "+3 −1 README.md");
    }
}
