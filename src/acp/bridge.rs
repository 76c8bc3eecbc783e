//! The editor bridge agents use, over ACP: an approval question becomes
//! `session/request_permission` (Allow = `allow_once`, Allow for this plan = `allow_always`,
//! Deny = `reject_once`; a cancelled request is a Deny), and every file an agent writes is shown
//! as an `edit` tool call with its diff once the workspace writer has applied it.
//!
//! One ACP connection is one client: questions and edits go to the session whose prompt is
//! running (the newest, when several are).

use std::sync::Mutex;

use agent_client_protocol::Client;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    PermissionOption, PermissionOptionKind, RequestPermissionOutcome, RequestPermissionRequest, SessionNotification,
    ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};
use futures::FutureExt;
use futures::future::BoxFuture;

use super::present;
use crate::agents::approval::{ALLOW, ALLOW_FOR_PLAN, DENY};
use crate::agents::writer::{AppliedChange, ChangeKind, ChangeObserver};
use crate::engine::{DocumentEdit, EditorBridge, OpenDocument};

/// Where questions and edits go: the connection and the session that is prompting.
#[derive(Default)]
pub struct AcpBridge {
    target: Mutex<Option<(ConnectionTo<Client>, String)>>,
    calls: std::sync::atomic::AtomicU64,
}

impl AcpBridge {
    /// Questions and edits go to `session` from now on.
    pub fn point_at(&self, connection: ConnectionTo<Client>, session: String) {
        *super::lock(&self.target) = Some((connection, session));
    }

    fn target(&self) -> Option<(ConnectionTo<Client>, String)> {
        super::lock(&self.target).clone()
    }

    fn next_call_id(&self) -> String {
        let number = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("codelab-bridge-{number}")
    }
}

impl ChangeObserver for AcpBridge {
    /// An agent's written file, shown as a finished `edit` tool call with its diff.
    fn change_applied(&self, change: &AppliedChange<'_>) {
        let (ChangeKind::Write, Some(after)) = (&change.kind, change.after) else { return };
        let Some((connection, session)) = self.target() else { return };
        let label = format!("{}: write {}", change.origin.agent.as_str(), change.path.relative);
        let path = std::path::Path::new(&change.path.relative);
        let update = present::edit_call(&self.next_call_id(), &label, path, change.before.map(str::to_owned), after);
        if let Err(error) = connection.send_notification(SessionNotification::new(session, update)) {
            tracing::debug!(%error, "an edit could not be shown");
        }
    }
}

impl EditorBridge for AcpBridge {
    // ACP's client keeps no buffers the agents write through: files go to the disk, and each
    // change is shown as a diff (`ChangeObserver`).
    fn open_document(&self, _path: &std::path::Path) -> Option<OpenDocument> {
        None
    }

    fn newer_document(
        &self,
        _path: &std::path::Path,
        _version: i32,
        _timeout: std::time::Duration,
    ) -> BoxFuture<'_, Option<OpenDocument>> {
        futures::future::ready(None).boxed()
    }

    fn takes_edits(&self) -> bool {
        false
    }

    fn apply_edits(&self, _label: String, _edits: Vec<DocumentEdit>) -> BoxFuture<'_, Result<bool, String>> {
        futures::future::ready(Ok(false)).boxed()
    }

    fn ask(&self, message: String, actions: Vec<String>) -> BoxFuture<'_, Result<Option<String>, String>> {
        async move {
            let Some((connection, session)) = self.target() else { return Ok(None) };
            let is_approval =
                actions.iter().any(|action| action == ALLOW) && actions.iter().any(|action| action == DENY);
            if !is_approval {
                // ACP has no free question: say it, and take it as unanswered.
                let _ = connection.send_notification(SessionNotification::new(session, present::message(message)));
                return Ok(None);
            }
            let options = vec![
                PermissionOption::new("allow_once", ALLOW, PermissionOptionKind::AllowOnce),
                PermissionOption::new("allow_always", ALLOW_FOR_PLAN, PermissionOptionKind::AllowAlways),
                PermissionOption::new("reject_once", DENY, PermissionOptionKind::RejectOnce),
            ];
            let call = ToolCallUpdate::new(
                self.next_call_id(),
                ToolCallUpdateFields::new().title(message).kind(ToolKind::Other),
            );
            let answer = connection
                .send_request(RequestPermissionRequest::new(session, call, options))
                .block_task()
                .await
                .map_err(|error| format!("the permission request failed: {error}"))?;
            Ok(match answer.outcome {
                RequestPermissionOutcome::Selected(selected) => match selected.option_id.to_string().as_str() {
                    "allow_once" => Some(ALLOW.to_owned()),
                    "allow_always" => Some(ALLOW_FOR_PLAN.to_owned()),
                    _ => Some(DENY.to_owned()),
                },
                _ => None,
            })
        }
        .boxed()
    }
}
