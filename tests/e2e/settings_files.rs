//! The settings files over the real binary (issue 23 item 5): a model configured only in the
//! workspace's `codelab-planner.toml` plans and runs agents from the command line; `config`
//! prints each setting with where it came from (defaults < user file < workspace file); a bad
//! key or value is exit 2 naming the file, line and key; a key in a settings file is refused
//! without being repeated; the `database` setting's `~` expands or is refused, never a literal
//! `~` folder; the API key comes from the file `llm.apiKeyFile` names and is never shown; and in
//! the language server, editor settings win key by key over the files.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::agents::call;
use crate::fake_openai::{FakeOpenAi, Reply};
use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, binary, workspace};

/// A task the keyword classifier is sure is complex: only the planner asks the model.
const SURE_COMPLEX: &str = "Design the export system for reports, invoices and orders";

/// The command line in `dir`, with `home` as HOME and its `.config` as the configuration folder.
pub(crate) fn cli(dir: &Path, home: &Path, arguments: &[&str]) -> Output {
    Command::new(binary())
        .args(arguments)
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .stdin(Stdio::null())
        .output()
        .expect("run codelab-planner")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_user_file(home: &Path, text: &str) {
    let folder = home.join(".config/codelab-planner");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("config.toml"), text).unwrap();
}

fn two_agent_plan() -> Value {
    json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "design, then notes",
        "title": "Export design",
        "subtasks": [
            {"id": "notes", "title": "Write the design notes", "description": "NOTES.md", "agent": "coder", "dependsOn": []},
            {"id": "review", "title": "Review the notes", "description": "read NOTES.md", "agent": "ask", "dependsOn": ["notes"]},
        ],
    })
}

#[test]
fn new_run_plans_and_runs_agents_with_the_model_configured_only_in_the_workspace_file() {
    let dir = workspace();
    let home = workspace();
    let model = FakeOpenAi::start();
    model.push(Reply::json(&two_agent_plan()));
    model.push(call("write_file", json!({ "path": "NOTES.md", "content": "csv, one file per report\n" })));
    model.push(call("attempt_completion", json!({ "result": "notes written" })));
    model.push(call("read_file", json!({ "path": "NOTES.md" })));
    model.push(call("attempt_completion", json!({ "result": "the notes are fine" })));
    let settings = format!(
        "# shared with the team\n[llm]\nbaseUrl = \"{}\"\nmodel = \"team-model\"\n\n[approval]\ntools = \"auto\"\n",
        model.base_url
    );
    std::fs::write(dir.path().join("codelab-planner.toml"), settings).unwrap();

    let output = cli(dir.path(), home.path(), &["new", SURE_COMPLEX, "--run", "--yes"]);
    assert_eq!(output.status.code(), Some(0), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("Export design"), "the model's plan: {}", text(&output.stdout));
    assert!(text(&output.stdout).contains("completed: 2/2 done"), "{}", text(&output.stdout));
    assert_eq!(std::fs::read_to_string(dir.path().join("NOTES.md")).unwrap(), "csv, one file per report\n");
    let requests = model.requests();
    assert_eq!(requests.len(), 5, "one planning call, two turns per agent");
    assert!(requests.iter().all(|request| request.body["model"] == "team-model"), "the configured model is asked");
    let review = requests.last().unwrap().prompt_text();
    assert!(review.contains("csv, one file per report"), "the ask agent read the coder's file: {review}");
}

#[test]
fn config_prints_each_setting_in_force_and_where_it_came_from() {
    let dir = workspace();
    let home = workspace();
    write_user_file(home.path(), "maxParallel = 3\n[llm]\nmodel = \"mine\"\napiKeyFile = \"~/.llm-key\"\n");
    std::fs::write(dir.path().join("codelab-planner.toml"), "failurePolicy = \"failFast\"\nllm.model = \"team\"\n")
        .unwrap();
    let output = cli(dir.path(), home.path(), &["config"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let line = |key: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_owned()
    };
    let user_file = home.path().join(".config/codelab-planner/config.toml");
    let workspace_file = dir.path().join("codelab-planner.toml");
    assert!(line("maxParallel").contains("= 3 "), "{stdout}");
    assert!(line("maxParallel").ends_with(&format!("# {}:1", user_file.display())), "{stdout}");
    assert!(line("llm.model").contains("\"team\""), "the workspace file wins over the user's: {stdout}");
    assert!(line("llm.model").ends_with(&format!("# {}:2", workspace_file.display())), "{stdout}");
    assert!(line("failurePolicy").contains("\"failFast\""), "{stdout}");
    let key_file = home.path().join(".llm-key");
    assert!(line("llm.apiKeyFile").contains(&format!("\"{}\"", key_file.display())), "~ expanded: {stdout}");
    assert!(line("approval.tools").ends_with("# default"), "{stdout}");
    assert!(line("database").contains("not set"), "{stdout}");

    // Without XDG_CONFIG_HOME the user file is ~/.config/…; with it, the file under it (here none).
    let config_with = |xdg: Option<&Path>| {
        let mut command = Command::new(binary());
        command.args(["config"]).current_dir(dir.path()).env("HOME", home.path()).env_remove("XDG_CONFIG_HOME");
        if let Some(folder) = xdg {
            command.env("XDG_CONFIG_HOME", folder);
        }
        text(&command.output().expect("run codelab-planner").stdout)
    };
    assert!(config_with(None).contains(&format!("# {}:1", user_file.display())), "HOME's .config is the default");
    let elsewhere = home.path().join("elsewhere");
    let other = config_with(Some(&elsewhere));
    assert!(other.contains(&format!("# {} (not found)", elsewhere.join("codelab-planner/config.toml").display())));
    assert!(!other.contains(&user_file.display().to_string()), "XDG_CONFIG_HOME is respected: {other}");

    let json_output = cli(dir.path(), home.path(), &["config", "--json"]);
    let value: Value = serde_json::from_slice(&json_output.stdout).expect("one json object");
    let model = value["settings"].as_array().unwrap().iter().find(|row| row["key"] == "llm.model").unwrap().clone();
    assert_eq!(model["value"], "team");
    let parallel = value["settings"].as_array().unwrap().iter().find(|row| row["key"] == "maxParallel").unwrap();
    assert_eq!(parallel["value"], 3);
    let database = value["settings"].as_array().unwrap().iter().find(|row| row["key"] == "database").unwrap();
    assert_eq!((&database["value"], &database["source"]), (&Value::Null, &json!("default")));
    assert_eq!(model["source"], format!("{}:2", workspace_file.display()));
    assert_eq!(value["files"][0]["path"], user_file.display().to_string());
    assert_eq!(value["problems"], json!([]));
}

#[test]
fn a_bad_key_or_value_is_exit_2_naming_the_file_line_and_key_and_nothing_is_opened() {
    let dir = workspace();
    let home = workspace();
    let file = dir.path().join("codelab-planner.toml");
    std::fs::write(&file, "maxParallel = 2\n\n[llm]\ntimeoutSecs = \"soon\"\ntemperature = 1\n").unwrap();
    let output = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:4:1: llm.timeoutSecs: expected a positive integer", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{}:5:1: llm.temperature: unknown setting", file.display())), "{stderr}");
    assert!(!dir.path().join(".codelab").exists(), "no database is opened with bad settings");
    let config = cli(dir.path(), home.path(), &["config"]);
    assert_eq!(config.status.code(), Some(2), "config shows the problems too");
    assert!(text(&config.stderr).contains("llm.timeoutSecs"), "{}", text(&config.stderr));

    write_user_file(home.path(), "[llm]\nmodel = \n");
    let broken = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(broken.status.code(), Some(2));
    let user_file = home.path().join(".config/codelab-planner/config.toml");
    assert!(text(&broken.stderr).contains(&format!("{}:2:", user_file.display())), "{}", text(&broken.stderr));
}

#[test]
fn an_api_key_in_a_settings_file_is_refused_without_being_repeated() {
    let dir = workspace();
    let home = workspace();
    let secret = "sk-pasted-into-the-wrong-place-5d1e";
    std::fs::write(dir.path().join("codelab-planner.toml"), format!("[llm]\napiKey = \"{secret}\"\n")).unwrap();
    let output = cli(dir.path(), home.path(), &["new", "Add a health check endpoint"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("codelab-planner.toml:2:1: llm.apiKey: keys do not belong in settings files"), "{stderr}");
    assert!(stderr.contains("llm.apiKeyEnv") && stderr.contains("llm.apiKeyFile"), "where it belongs: {stderr}");
    assert!(!stderr.contains(secret) && !text(&output.stdout).contains(secret), "the key is not repeated");

    std::fs::write(dir.path().join("codelab-planner.toml"), "llm.apiKeyEnv = \"AWS_SECRET_ACCESS_KEY\"\n").unwrap();
    let chooser = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(chooser.status.code(), Some(2));
    assert!(text(&chooser.stderr).contains("llm.apiKeyEnv: not allowed in the shared"), "{}", text(&chooser.stderr));
}

#[test]
fn the_database_setting_expands_a_tilde_or_is_refused_never_a_literal_tilde_folder() {
    let dir = workspace();
    let home = workspace();
    write_user_file(home.path(), "database = \"~/plans/mine.db\"\n");
    let listed = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(home.path().join("plans/mine.db").is_file(), "the user's own file may name a place in the home folder");
    assert!(!dir.path().join("~").exists() && !dir.path().join(".codelab/planner.db").exists());

    std::fs::write(dir.path().join("codelab-planner.toml"), "\ndatabase = \"~/elsewhere.db\"\n").unwrap();
    let refused = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    let file = dir.path().join("codelab-planner.toml");
    assert!(stderr.contains(&format!("{}:2:1: database: ", file.display())), "{stderr}");
    assert!(stderr.contains("outside the workspace"), "{stderr}");
    assert!(!dir.path().join("~").exists(), "no literal ~ folder");
    assert!(!home.path().join("elsewhere.db").exists(), "nothing is written where a shared file points");

    std::fs::write(dir.path().join("codelab-planner.toml"), "database = \"~someone/x.db\"\n").unwrap();
    let other_user = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(other_user.status.code(), Some(2));
    assert!(
        text(&other_user.stderr).contains("database: \"~user\" paths are not expanded"),
        "{}",
        text(&other_user.stderr)
    );
    assert!(!dir.path().join("~someone").exists());
}

#[test]
fn in_the_language_server_editor_settings_win_key_by_key_and_null_keeps_the_files_value() {
    let dir = workspace();
    let home = workspace();
    let model = FakeOpenAi::start();
    model.push(Reply::json(&two_agent_plan()));
    let file = format!("[llm]\nbaseUrl = \"{}\"\nmodel = \"from-the-file\"\n", model.base_url);
    std::fs::write(dir.path().join("codelab-planner.toml"), file).unwrap();
    let editor = json!({ "llm": { "baseUrl": null, "model": "from-the-editor" }, "database": "~/x.db" });
    let mut setup = ServerSetup { configuration: Some(editor), ..ServerSetup::new(dir.path()) };
    setup.env = vec![("HOME".to_owned(), home.path().display().to_string())];
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let created = server.call("planning/create", json!({ "task": SURE_COMPLEX }));
    assert_eq!(created["plan"]["title"], "Export design", "planned by the model the file names: {created:#}");
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body["model"], "from-the-editor", "the editor's key wins over the file's");
    let refused = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
    let shown = refused["message"].as_str().unwrap_or_default();
    assert!(shown.contains(&home.path().join("x.db").display().to_string()), "~ expanded: {shown}");
    assert!(shown.contains("outside the workspace"), "{shown}");
    assert!(!dir.path().join("~").exists(), "no literal ~ folder");
    assert!(!home.path().join("x.db").exists(), "an editor's database stays inside the workspace");
    assert!(dir.path().join(".codelab/planner.db").is_file(), "the default database is used instead");
    server.shutdown_and_exit();
}

#[test]
fn the_key_comes_from_the_file_the_users_settings_name_and_is_never_shown() {
    let dir = workspace();
    let home = workspace();
    let key = "sk-kept-in-a-file-7b2d9e";
    std::fs::write(home.path().join(".llm-key"), format!("{key}\n")).unwrap();
    write_user_file(home.path(), "[llm]\napiKeyFile = \"~/.llm-key\"\n");
    let model = FakeOpenAi::start();
    model.push(Reply::json(&two_agent_plan()));
    let shared = format!("[llm]\nbaseUrl = \"{}\"\nmodel = \"team-model\"\n", model.base_url);
    std::fs::write(dir.path().join("codelab-planner.toml"), shared).unwrap();

    let output = cli(dir.path(), home.path(), &["new", SURE_COMPLEX]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), Some(format!("Bearer {key}").as_str()));
    let config = cli(dir.path(), home.path(), &["config", "--json"]);
    for shown in [&output.stdout, &output.stderr, &config.stdout, &config.stderr] {
        assert!(!text(shown).contains(key), "the key is never printed");
    }
}

#[test]
fn sigterm_while_the_configured_model_plans_ends_the_command_at_once_and_stores_nothing() {
    let dir = workspace();
    let home = workspace();
    let model = FakeOpenAi::start();
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    model.push(Reply::json(&two_agent_plan()).held_until(gate.clone()));
    let shared = format!("[llm]\nbaseUrl = \"{}\"\nmodel = \"slow\"\n", model.base_url);
    std::fs::write(dir.path().join("codelab-planner.toml"), shared).unwrap();
    let mut child = Command::new(binary())
        .args(["new", SURE_COMPLEX, "--run", "--yes"])
        .current_dir(dir.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn codelab-planner");
    model.wait_for_requests(1, std::time::Duration::from_secs(30));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "SIGTERM did not end `new` while the model was planning");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    gate.notify_waiters();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted while planning"), "{stderr}");
    let listed = cli(dir.path(), home.path(), &["list"]);
    assert_eq!(text(&listed.stdout).trim(), "no plans", "{}", text(&listed.stderr));
}

#[test]
fn in_the_language_server_a_bad_settings_file_is_shown_and_its_good_keys_still_apply() {
    let dir = workspace();
    let model = FakeOpenAi::start();
    model.push(Reply::json(&two_agent_plan()));
    let file = format!("colour = \"blue\"\n[llm]\nbaseUrl = \"{}\"\nmodel = \"m\"\n", model.base_url);
    std::fs::write(dir.path().join("codelab-planner.toml"), file).unwrap();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    let shown = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
    let message = shown["message"].as_str().unwrap_or_default();
    let expected = format!("{}:1:1: colour: unknown setting", dir.path().join("codelab-planner.toml").display());
    assert!(message.contains(&expected), "{message}");
    server.take_server_request("workspace/configuration");
    let created = server.call("planning/create", json!({ "task": SURE_COMPLEX }));
    assert_eq!(created["plan"]["title"], "Export design", "the file's other keys apply");
    server.shutdown_and_exit();
}
