//! A stored plan → plan-file text (`planning/export`, `codelab-planner export`). Written so that
//! parsing it back and building the subtasks gives the same ids, titles, agents, commands,
//! folders, dependencies and limits: fields equal to their defaults are left out.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::model::{Plan, Subtask};

/// The plan as `*.plan.toml` text.
pub fn export_plan(plan: &Plan) -> String {
    let mut document = DocumentMut::new();
    document["title"] = value(plan.title.clone());
    if !plan.goal.trim().is_empty() && plan.goal != plan.title {
        document["goal"] = value(plan.goal.clone());
    }
    let mut tables = ArrayOfTables::new();
    for subtask in &plan.subtasks {
        tables.push(subtask_table(subtask));
    }
    document["subtask"] = Item::ArrayOfTables(tables);
    document.to_string()
}

fn subtask_table(subtask: &Subtask) -> Table {
    let mut table = Table::new();
    table["id"] = value(subtask.id.as_str());
    table["title"] = value(subtask.title.clone());
    if !subtask.description.is_empty() && subtask.description != subtask.title {
        table["description"] = value(subtask.description.clone());
    }
    table["agent"] = value(subtask.agent.as_str());
    if let Some(command) = &subtask.command {
        table["command"] = value(command.clone());
    }
    if let Some(cwd) = &subtask.cwd {
        table["cwd"] = value(cwd.clone());
    }
    if subtask.is_baseline() {
        table["role"] = value(subtask.role.as_str());
    }
    if !subtask.depends_on.is_empty() {
        let dependencies: Array = subtask.depends_on.iter().map(|id| id.as_str()).collect();
        table["depends_on"] = value(dependencies);
    }
    if subtask.timeout_secs != subtask.agent.default_timeout_secs() {
        if let Some(timeout) = subtask.timeout_secs.and_then(|secs| i64::try_from(secs).ok()) {
            table["timeout_secs"] = value(timeout);
        }
    }
    if subtask.max_attempts != subtask.agent.default_max_attempts() {
        table["max_attempts"] = value(i64::from(subtask.max_attempts));
    }
    if let Some(estimate) = subtask.estimate_secs.and_then(|secs| i64::try_from(secs).ok()) {
        table["estimate_secs"] = value(estimate);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate::build_subtasks;
    use crate::model::{AgentKind, SessionId, SubtaskId, Timestamp};
    use crate::planfile::check;

    #[test]
    fn an_exported_plan_parses_back_to_the_same_subtasks() {
        let mut build = Subtask::new(SubtaskId::from_raw("build"), "Build \"it\"".into(), AgentKind::Shell);
        build.command = Some("cargo build\necho 'done'".into());
        build.cwd = Some("crates/core".into());
        build.timeout_secs = Some(900);
        build.max_attempts = 3;
        build.description = "Line one\nline two".into();
        build.role = crate::model::SubtaskRole::Baseline;
        let mut review = Subtask::new(SubtaskId::from_raw("review"), "Review".into(), AgentKind::Ask);
        review.depends_on = vec![SubtaskId::from_raw("build")];
        review.description = "Review".into();
        review.estimate_secs = Some(60);
        let plan = Plan::new_draft(
            SessionId::from_raw("s"),
            "Ship".into(),
            "Ship the thing".into(),
            vec![build, review],
            Timestamp::from_millis(0),
        );
        let text = export_plan(&plan);
        let checked = check(&text);
        assert!(checked.problems.is_empty(), "{:?}\n{text}", checked.problems);
        assert_eq!(checked.file.title.as_deref(), Some("Ship"));
        assert_eq!(checked.file.goal.as_deref(), Some("Ship the thing"));
        let rebuilt = build_subtasks(&checked.file.drafts(), "subtask").unwrap();
        assert_eq!(rebuilt, plan.subtasks);
    }
}
