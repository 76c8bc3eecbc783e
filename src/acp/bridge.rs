//! The editor bridge agents use, over ACP: an approval question becomes
//! `session/request_permission` (Allow = `allow_once`, Allow for this plan = `allow_always`,
//! Deny = `reject_once`; a cancelled request is a Deny), and every edit an agent makes is shown as
//! an `edit` tool call with its diff before the workspace writer puts it on the disk.
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
use crate::engine::{EditorBridge, FileEdit};

/// Where questions and edits go: the connection and the session that is prompting.
#[derive(Default)]
pub struct AcpBridge {
    target: Mutex<Option<(ConnectionTo<Client>, String)>>,
    workspace_root: Mutex<Option<std::path::PathBuf>>,
    calls: std::sync::atomic::AtomicU64,
}

impl AcpBridge {
    /// Questions and edits go to `session` from now on.
    pub fn point_at(&self, connection: ConnectionTo<Client>, session: String) {
        *super::lock(&self.target) = Some((connection, session));
    }

    pub fn set_workspace(&self, root: std::path::PathBuf) {
        *super::lock(&self.workspace_root) = Some(root);
    }

    fn target(&self) -> Option<(ConnectionTo<Client>, String)> {
        super::lock(&self.target).clone()
    }

    fn next_call_id(&self) -> String {
        let number = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("codelab-bridge-{number}")
    }
}

impl EditorBridge for AcpBridge {
    fn apply_edits(&self, label: String, edits: Vec<FileEdit>) -> BoxFuture<'_, Result<bool, String>> {
        async move {
            let Some((connection, session)) = self.target() else { return Ok(true) };
            let root = super::lock(&self.workspace_root).clone();
            for edit in edits {
                // The old text, for the diff (none for a new file).
                let old_text = root.as_ref().and_then(|root| std::fs::read_to_string(root.join(&edit.path)).ok());
                let update = present::edit_call(&self.next_call_id(), &label, &edit.path, old_text, &edit.new_text);
                connection
                    .send_notification(SessionNotification::new(session.clone(), update))
                    .map_err(|error| format!("cannot show the edit: {error}"))?;
            }
            Ok(true)
        }
        .boxed()
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
