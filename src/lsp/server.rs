//! The language server proper: [`PlannerServer`] (the `LanguageServer` impl: lifecycle and
//! configuration), the state its handlers share, and the service builder that registers every
//! `planning/*` handler.
//!
//! The orchestrator starts once, when the client says `initialized` or at the first planning
//! request, whichever comes first (a `tokio::sync::OnceCell`); it needs the workspace root and the
//! settings that `initialize` delivers. No lock here is ever held across an await.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::notification::{Notification, WorkDoneProgressCancel};
use tower_lsp_server::ls_types::request::Request;
use tower_lsp_server::ls_types::{
    ConfigurationItem, DidChangeConfigurationParams, InitializeParams, InitializeResult, InitializedParams,
    MessageType, ProgressToken, ServerCapabilities, ServerInfo,
};
use tower_lsp_server::{Client, ClientSocket, LanguageServer, LspService};
// Standard features for plan files (handlers in `handlers::{plan_files, lenses, navigation, commands}`).
use tower_lsp_server::ls_types::{
    CodeActionParams, CodeActionProviderCapability, CodeActionResponse, CodeLens, CodeLensOptions, CodeLensParams,
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentSymbolParams, DocumentSymbolResponse, ExecuteCommandOptions,
    ExecuteCommandParams, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverParams, HoverProviderCapability,
    LSPAny, OneOf, RenameParams, TextDocumentSyncCapability, TextDocumentSyncKind, WorkspaceEdit,
};

use crate::config::Settings;
use crate::engine::SharedEditor;
use crate::model::PlanId;
use crate::orchestrator::{Orchestrator, OrchestratorConfig};
use crate::panics::panic_message;

use super::bridge::{EditorCapabilities, LspEditorBridge};
use super::config::{SECTION, parse_settings, parse_settings_over};
use super::documents::Documents;
use super::errors::{
    handler_panicked, method_not_served, orchestrator_unavailable, parse_params, too_many_slow_requests,
};
use super::{ext, handlers};
use crate::config::{LoadedSettings, database_change_notice, resolve_database};

/// How long `exit` waits for the orchestrator to stop runs before the process ends anyway.
const ORCHESTRATOR_STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the planner's start waits for the client's first `workspace/configuration` answer
/// (it holds settings read only at start, such as `database`).
const CONFIGURATION_WAIT: Duration = Duration::from_secs(5);

/// Requests that can take long (a model call, a session's runs to stop): they run beside the
/// others in slots of their own, so nothing waits behind them. Decided here, for every handler.
const SLOW_METHODS: &[&str] = &[
    <ext::CreatePlan as Request>::METHOD,
    <ext::RevisePlan as Request>::METHOD,
    <ext::ClassifyTask as Request>::METHOD,
    <ext::ResetSession as Request>::METHOD,
];
/// Slow requests in flight at once; one more is refused at once (`busy`), never queued.
const SLOW_REQUESTS: usize = 16;
/// Slots always left for every other request and notification, whatever the slow ones do.
const OTHER_REQUESTS: usize = 16;
/// The transport's concurrency (tower-lsp-server's default is 4): both kinds together.
pub const REQUEST_CONCURRENCY: usize = SLOW_REQUESTS + OTHER_REQUESTS;

/// Options from the command line.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `--db PATH`: overrides the `database` setting.
    pub database_override: Option<PathBuf>,
}

/// What `initialize` learned; read when the orchestrator starts.
#[derive(Debug, Default)]
struct Setup {
    workspace_root: Option<PathBuf>,
    /// What the settings files give (`config::load`): the layer under the editor's settings.
    files: LoadedSettings,
    settings: Settings,
    /// What `initializationOptions` gave: the base that `workspace/configuration` answers apply on.
    initial_settings: Settings,
    client_supports_work_done_progress: bool,
    client_supports_configuration: bool,
    /// What the client can do for agents (edits, questions).
    editor_capabilities: EditorCapabilities,
    /// Messages for the client that could not be sent before `initialized`.
    deferred_messages: Vec<(MessageType, String)>,
    /// The settings files' problems, shown once after `initialized` (their keys were ignored).
    settings_file_problems: Vec<String>,
}

/// State shared by the server, its handlers and its spawned tasks.
pub struct SharedState {
    options: ServerOptions,
    setup: Mutex<Setup>,
    orchestrator: tokio::sync::OnceCell<Orchestrator>,
    shutdown_requested: AtomicBool,
    /// Whether the person was told that the planner cannot start (told once, not per request).
    startup_failure_told: AtomicBool,
    /// `$/progress` token → the plan whose run it reports (for `window/workDoneProgress/cancel`).
    progress_tokens: Mutex<HashMap<ProgressToken, PlanId>>,
    /// Set once the "no language model is configured" notice was shown.
    no_model_notice_shown: AtomicBool,
    /// Open documents (plan files and every other file the editor has open).
    pub(crate) documents: Arc<Documents>,
    /// The client handles `workspace/codeLens/refresh`.
    code_lens_refresh: AtomicBool,
    /// `$/progress` token → the planning request it reports (cancelling aborts the model call).
    planning_tokens: Mutex<HashMap<ProgressToken, CancellationToken>>,
    /// True once the client's first `workspace/configuration` answer was applied (or there is
    /// none to wait for): the planner starts after it, so `database` from it is used.
    configuration_settled: tokio::sync::watch::Sender<bool>,
    /// The database file the running planner opened.
    database_in_use: Mutex<Option<PathBuf>>,
    /// Permits for [`SLOW_METHODS`] in flight.
    slow_requests: Arc<tokio::sync::Semaphore>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SharedState {
    fn new(options: ServerOptions) -> Self {
        Self {
            options,
            setup: Mutex::new(Setup::default()),
            orchestrator: tokio::sync::OnceCell::new(),
            shutdown_requested: AtomicBool::new(false),
            startup_failure_told: AtomicBool::new(false),
            progress_tokens: Mutex::new(HashMap::new()),
            no_model_notice_shown: AtomicBool::new(false),
            documents: Arc::new(Documents::default()),
            code_lens_refresh: AtomicBool::new(false),
            planning_tokens: Mutex::new(HashMap::new()),
            configuration_settled: tokio::sync::watch::Sender::new(false),
            database_in_use: Mutex::new(None),
            slow_requests: Arc::new(tokio::sync::Semaphore::new(SLOW_REQUESTS)),
        }
    }

    /// The workspace folder (from `initialize`, else the current folder).
    pub fn workspace_root(&self) -> PathBuf {
        root_of(&lock(&self.setup))
    }

    pub fn client_supports_code_lens_refresh(&self) -> bool {
        self.code_lens_refresh.load(Ordering::SeqCst)
    }

    /// 0 after a `shutdown` request, 1 otherwise (LSP `exit` semantics).
    pub fn exit_code(&self) -> i32 {
        if self.shutdown_was_requested() { 0 } else { 1 }
    }

    pub fn shutdown_was_requested(&self) -> bool {
        self.shutdown_requested.load(Ordering::SeqCst)
    }

    /// Stops the orchestrator if it started, waiting a bounded time: its runs are left
    /// `interrupted` (processes killed; `planning/retry` resumes them) however the server ends.
    pub async fn stop_orchestrator(&self) {
        if let Some(orchestrator) = self.orchestrator.get() {
            let stopping = AssertUnwindSafe(orchestrator.shutdown()).catch_unwind();
            if tokio::time::timeout(ORCHESTRATOR_STOP_TIMEOUT, stopping).await.is_err() {
                tracing::warn!("the orchestrator did not stop within {ORCHESTRATOR_STOP_TIMEOUT:?}");
            }
            checkpoint_on_exit(orchestrator).await;
        }
    }

    /// True exactly once per process: the first caller shows the no-model notice.
    pub fn first_no_model_notice(&self) -> bool {
        !self.no_model_notice_shown.swap(true, Ordering::SeqCst)
    }

    pub fn client_supports_work_done_progress(&self) -> bool {
        lock(&self.setup).client_supports_work_done_progress
    }

    pub fn remember_progress_token(&self, token: ProgressToken, plan_id: PlanId) {
        lock(&self.progress_tokens).insert(token, plan_id);
    }

    pub fn forget_progress_token(&self, token: &ProgressToken) {
        lock(&self.progress_tokens).remove(token);
    }

    pub fn plan_of_progress_token(&self, token: &ProgressToken) -> Option<PlanId> {
        lock(&self.progress_tokens).get(token).cloned()
    }

    pub fn remember_planning_token(&self, token: ProgressToken, cancel: CancellationToken) {
        lock(&self.planning_tokens).insert(token, cancel);
    }

    pub fn forget_planning_token(&self, token: &ProgressToken) {
        lock(&self.planning_tokens).remove(token);
    }

    /// Cancels the planning request that reports on `token`; false when there is none.
    pub fn cancel_planning(&self, token: &ProgressToken) -> bool {
        lock(&self.planning_tokens).get(token).map(CancellationToken::cancel).is_some()
    }

    /// The orchestrator's configuration, and a warning when the client's `database` setting
    /// was refused: a workspace's settings may not choose where outside it the server writes
    /// (only `--db` may).
    fn orchestrator_config(&self) -> (OrchestratorConfig, Option<String>) {
        let setup = lock(&self.setup);
        let workspace_root = root_of(&setup);
        let database_override = self.options.database_override.as_deref();
        let users_own = setup.files.database_is_the_users(&setup.settings);
        let (database, refused) = resolve_database(database_override, &workspace_root, &setup.settings, users_own);
        (OrchestratorConfig { workspace_root, database, settings: setup.settings.clone(), editor: None }, refused)
    }

    /// What to tell the person when new settings name another database than the running
    /// planner's (it opens one at start only): `None` when nothing changed.
    fn database_change_notice(&self, previous: &Settings, settings: &Settings) -> Option<String> {
        let in_use = lock(&self.database_in_use).clone()?;
        let database_override = self.options.database_override.as_deref();
        let users_own = lock(&self.setup).files.database_is_the_users(settings);
        database_change_notice(database_override, &self.workspace_root(), previous, settings, users_own, &in_use)
    }
}

/// The workspace folder from `initialize`, else the current folder.
fn root_of(setup: &Setup) -> PathBuf {
    setup.workspace_root.clone().or_else(|| std::env::current_dir().ok()).unwrap_or_else(|| PathBuf::from("."))
}

/// Truncates the write-ahead log before the process exits, waiting a bounded time.
async fn checkpoint_on_exit(orchestrator: &Orchestrator) {
    let checkpoint = orchestrator.repository().checkpoint_on_exit();
    if tokio::time::timeout(ORCHESTRATOR_STOP_TIMEOUT, checkpoint).await.is_err() {
        tracing::warn!("the checkpoint on exit did not finish within {ORCHESTRATOR_STOP_TIMEOUT:?}");
    }
}

/// The `LanguageServer` implementation. Planning handlers live in `crate::lsp::handlers`.
pub struct PlannerServer {
    pub(crate) client: Client,
    pub(crate) shared: Arc<SharedState>,
}

/// Builds the service with every planning method registered. The returned state outlives the
/// service: `main` reads the exit code from it and stops the orchestrator after `exit`.
pub fn build_service(options: ServerOptions) -> (LspService<PlannerServer>, ClientSocket, Arc<SharedState>) {
    let shared = Arc::new(SharedState::new(options));
    let server_shared = shared.clone();
    let builder = LspService::build(move |client| PlannerServer { client, shared: server_shared });
    let builder = handlers::register(builder).custom_method(
        <WorkDoneProgressCancel as Notification>::METHOD,
        handlers::runs::handle_work_done_progress_cancel,
    );
    // Defined on the wire, behaviour not landed: a clear -32601 rather than a bare "method not found".
    let builder = ext::unserved_methods().into_iter().fold(builder, |builder, method| {
        builder.custom_method(method, move |_: &PlannerServer, _: Value| async move {
            Err::<Value, _>(method_not_served(method))
        })
    });
    let (service, socket) = builder.finish();
    (service, socket, shared)
}

impl PlannerServer {
    /// The running orchestrator, started now if it is not yet.
    pub(crate) async fn orchestrator(&self) -> Result<Orchestrator> {
        if self.shared.orchestrator.get().is_none() && lock(&self.shared.setup).client_supports_configuration {
            let mut settled = self.shared.configuration_settled.subscribe();
            let _ = tokio::time::timeout(CONFIGURATION_WAIT, settled.wait_for(|settled| *settled)).await;
        }
        let shared = self.shared.clone();
        let client = self.client.clone();
        let started = self
            .shared
            .orchestrator
            .get_or_try_init(|| async move { start_orchestrator(&shared, &client).await })
            .await;
        started.cloned().map_err(|cause| orchestrator_unavailable(&cause))
    }

    /// Parses params as `R::Params` and runs `handler` (which converts them, then gets the
    /// orchestrator, so malformed params are refused without touching the database); a panic
    /// anywhere in it becomes an internal error reply.
    pub(crate) async fn serve_request<R, F, Fut>(&self, params: Value, handler: F) -> Result<R::Result>
    where
        R: Request,
        F: FnOnce(R::Params) -> Fut,
        Fut: Future<Output = Result<R::Result>>,
    {
        // A slow request holds one of its own permits for as long as it runs (dropped with the
        // future, so `$/cancelRequest` frees it at once); none left: refused, not queued.
        let permit = if SLOW_METHODS.contains(&R::METHOD) {
            match self.shared.slow_requests.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return Err(too_many_slow_requests(R::METHOD, SLOW_REQUESTS)),
            }
        } else {
            None
        };
        let work = async move {
            let params: R::Params = parse_params(params)?;
            let result = handler(params).await;
            drop(permit);
            result
        };
        match AssertUnwindSafe(work).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                tracing::error!(method = R::METHOD, "handler panicked: {}", panic_message(&*panic));
                Err(handler_panicked(R::METHOD))
            }
        }
    }

    async fn apply_settings_value(&self, value: &Value, origin: &str) {
        let (previous, base, files) = {
            let setup = lock(&self.shared.setup);
            (setup.settings.clone(), setup.initial_settings.clone(), setup.files.settings.clone())
        };
        let Some(parsed) = parse_settings_over(value, &base, &previous, &files) else { return };
        for message in parsed.warnings.iter().chain(&parsed.errors) {
            tracing::warn!("{origin}: {message}");
            self.client.log_message(MessageType::WARNING, format!("codelab-planner: {message}")).await;
        }
        let settings = parsed.settings;
        lock(&self.shared.setup).settings = settings.clone();
        if let Some(notice) = self.shared.database_change_notice(&previous, &settings) {
            tracing::warn!("{origin}: {notice}");
            self.client.show_message(MessageType::WARNING, notice).await;
        }
        if let Some(orchestrator) = self.shared.orchestrator.get() {
            let update = AssertUnwindSafe(orchestrator.set_settings(settings)).catch_unwind().await;
            if !matches!(update, Ok(Ok(()))) {
                tracing::warn!("{origin}: the orchestrator did not take the new settings");
            }
        }
    }

    /// Asks the client for the `codelabPlanner` section and applies it.
    async fn fetch_configuration(&self) {
        let item = ConfigurationItem { scope_uri: None, section: Some(SECTION.to_owned()) };
        match self.client.configuration(vec![item]).await {
            Ok(values) => {
                if let Some(value) = values.into_iter().next() {
                    self.apply_settings_value(&value, "workspace/configuration").await;
                }
            }
            Err(failure) => tracing::warn!("workspace/configuration failed: {}", failure.message),
        }
    }

    fn spawn_background(&self, work: impl FnOnce(PlannerServer) -> futures::future::BoxFuture<'static, ()>) {
        let server = PlannerServer { client: self.client.clone(), shared: self.shared.clone() };
        tokio::spawn(work(server));
    }
}

async fn start_orchestrator(shared: &Arc<SharedState>, client: &Client) -> std::result::Result<Orchestrator, String> {
    let (mut config, refused) = shared.orchestrator_config();
    if let Some(why) = refused {
        tracing::warn!("{why}");
        client.show_message(MessageType::WARNING, format!("codelab-planner: {why}")).await;
    }
    let capabilities = lock(&shared.setup).editor_capabilities;
    let documents = shared.documents.clone();
    let bridge = LspEditorBridge::new(client.clone(), config.workspace_root.clone(), capabilities, documents);
    config.editor = Some(SharedEditor(Arc::new(bridge)));
    let root = config.workspace_root.display().to_string();
    let starting = AssertUnwindSafe(Orchestrator::start(config)).catch_unwind().await;
    match starting {
        Ok(Ok((orchestrator, report))) => {
            tracing::info!(database = %report.database.display(), workspace = %root, "planner started");
            *lock(&shared.database_in_use) = Some(report.database.clone());
            if !report.interrupted.is_empty() {
                let ids: Vec<String> = report.interrupted.iter().map(ToString::to_string).collect();
                let message = format!("codelab-planner: {} plan(s) were interrupted: {}", ids.len(), ids.join(", "));
                client.log_message(MessageType::INFO, message).await;
            }
            super::progress::show_other_runs(client.clone(), shared.clone(), &orchestrator).await;
            Ok(orchestrator)
        }
        Ok(Err(failure)) => {
            tracing::error!("planner failed to start: {failure}");
            if !shared.startup_failure_told.swap(true, Ordering::SeqCst) {
                let message = format!("codelab-planner cannot start: {failure}");
                client.show_message(MessageType::ERROR, message).await;
            }
            Err(failure.to_string())
        }
        Err(panic) => {
            tracing::error!("planner panicked while starting: {}", panic_message(&*panic));
            Err("internal error while starting".to_owned())
        }
    }
}

fn workspace_root_of(params: &InitializeParams) -> Option<PathBuf> {
    if let Some(folder) = params.workspace_folders.as_ref().and_then(|folders| folders.first()) {
        if let Some(path) = folder.uri.to_file_path() {
            return Some(path.into_owned());
        }
    }
    #[allow(deprecated)]
    if let Some(path) = params.root_uri.as_ref().and_then(|uri| uri.to_file_path()) {
        return Some(path.into_owned());
    }
    #[allow(deprecated)]
    params.root_path.as_ref().filter(|path| !path.is_empty()).map(PathBuf::from)
}

/// Whether agents' commands run sandboxed here, for the clients' health check and status
/// (`experimental.sandbox` of the initialize result): told once, at start.
fn sandbox_status(setting: crate::config::SandboxCommands) -> Value {
    use crate::agents::sandbox::{CommandSandbox, KernelSupport};
    let sandbox = CommandSandbox::new(setting);
    let abi = match sandbox.kernel {
        KernelSupport::Landlock { abi } => Some(abi),
        KernelSupport::Unavailable => None,
    };
    let note = match sandbox.unsandboxed_reason() {
        Some(reason) => format!("agents' commands are {reason}"),
        None => "agents' commands run in a Landlock sandbox: they write only inside the workspace (not .git/ or .codelab/) and the temporary folder".to_owned(),
    };
    json!({
        "commands": match setting { crate::config::SandboxCommands::Workspace => "workspace", crate::config::SandboxCommands::Off => "off" },
        "enforced": sandbox.active(),
        "landlockAbi": abi,
        "note": note,
    })
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["\"".to_owned(), "[".to_owned()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: ext::ALL_COMMANDS.iter().map(|command| (*command).to_owned()).collect(),
            ..ExecuteCommandOptions::default()
        }),
        experimental: Some(json!({
            "planning": {
                "methods": ext::request_methods(),
                "progress": <ext::PlanningProgress as Notification>::METHOD,
            }
        })),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for PlannerServer {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut deferred = Vec::new();
        let root = workspace_root_of(&params);
        if root.is_none() {
            let cwd = std::env::current_dir().map(|path| path.display().to_string()).unwrap_or_default();
            deferred.push((MessageType::INFO, format!("codelab-planner: no workspace folder given; using {cwd}")));
        }
        let work_done_progress = params.capabilities.window.as_ref().and_then(|window| window.work_done_progress);
        let configuration = params.capabilities.workspace.as_ref().and_then(|workspace| workspace.configuration);
        let lens_refresh = params.capabilities.workspace.as_ref().and_then(|workspace| workspace.code_lens.as_ref());
        let lens_refresh = lens_refresh.and_then(|lens| lens.refresh_support).unwrap_or(false);
        self.shared.code_lens_refresh.store(lens_refresh, Ordering::SeqCst);
        // The settings files first: the editor's settings go on top of them.
        let files = crate::config::load(&root.clone().unwrap_or_else(|| root_of(&Setup::default()))).await;
        for problem in &files.problems {
            tracing::warn!("settings file: {problem}");
            deferred.push((MessageType::WARNING, format!("codelab-planner: {problem} (ignored)")));
        }
        let parsed =
            params.initialization_options.as_ref().and_then(|options| parse_settings(options, &files.settings));
        let mut setup = lock(&self.shared.setup);
        setup.settings_file_problems = files.problems.iter().map(ToString::to_string).collect();
        setup.settings = files.settings.clone();
        setup.initial_settings = files.settings.clone();
        setup.files = files;
        if let Some(parsed) = parsed {
            for message in parsed.warnings.iter().chain(&parsed.errors) {
                tracing::warn!("initializationOptions: {message}");
                deferred.push((MessageType::WARNING, format!("codelab-planner: {message}")));
            }
            setup.initial_settings = parsed.settings.clone();
            setup.settings = parsed.settings;
        }
        setup.workspace_root = root;
        setup.client_supports_work_done_progress = work_done_progress.unwrap_or(false);
        setup.client_supports_configuration = configuration.unwrap_or(false);
        setup.editor_capabilities = EditorCapabilities::of(&params.capabilities);
        setup.deferred_messages = deferred;
        let sandbox_setting = setup.settings.sandbox_commands;
        drop(setup);
        let mut capabilities = capabilities();
        if let Some(experimental) = capabilities.experimental.as_mut() {
            experimental["sandbox"] = sandbox_status(sandbox_setting);
        }
        Ok(InitializeResult {
            capabilities,
            server_info: Some(ServerInfo {
                name: env!("CARGO_PKG_NAME").to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.spawn_background(|server| {
            async move {
                let (messages, file_problems, fetch_configuration) = {
                    let mut setup = lock(&server.shared.setup);
                    let messages = std::mem::take(&mut setup.deferred_messages);
                    let file_problems = std::mem::take(&mut setup.settings_file_problems);
                    (messages, file_problems, setup.client_supports_configuration)
                };
                for (kind, message) in messages {
                    server.client.log_message(kind, message).await;
                }
                if !file_problems.is_empty() {
                    let shown = format!("codelab-planner: settings ignored: {}", file_problems.join("; "));
                    server.client.show_message(MessageType::WARNING, shown).await;
                }
                // The editor's settings first: the planner reads `database` when it starts.
                if fetch_configuration {
                    server.fetch_configuration().await;
                }
                server.shared.configuration_settled.send_replace(true);
                if let Err(failure) = server.orchestrator().await {
                    tracing::error!("{}", failure.message);
                }
            }
            .boxed()
        });
    }

    async fn shutdown(&self) -> Result<()> {
        self.shared.shutdown_requested.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        handlers::plan_files::handle_document_open(self, params).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        handlers::plan_files::handle_document_change(self, params).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        handlers::plan_files::handle_document_close(self, params).await;
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        handlers::lenses::handle_code_lens(self, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        handlers::lenses::handle_code_action(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        handlers::navigation::handle_hover(self, params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        handlers::navigation::handle_completion(self, params).await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        handlers::navigation::handle_definition(self, params).await
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        handlers::navigation::handle_document_symbol(self, params).await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        handlers::navigation::handle_rename(self, params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        handlers::commands::handle_execute_command(self, params).await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let settings = params.settings;
        self.spawn_background(|server| {
            async move {
                // Our section pushed by the client wins; otherwise pull it when the client can
                // answer `workspace/configuration`; otherwise take a non-empty object as ours.
                let carries_section = settings.get(SECTION).is_some_and(Value::is_object);
                let can_fetch = lock(&server.shared.setup).client_supports_configuration;
                let non_empty = settings.as_object().is_some_and(|object| !object.is_empty());
                if carries_section || (!can_fetch && non_empty) {
                    server.apply_settings_value(&settings, "workspace/didChangeConfiguration").await;
                } else if can_fetch {
                    server.fetch_configuration().await;
                }
            }
            .boxed()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_internal_error_reply() {
        let (service, _socket, _shared) = build_service(ServerOptions::default());
        let server = service.inner();
        let reply = server
            .serve_request::<ext::GetPlan, _, _>(json!({ "planId": "p" }), |_params| async move {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                Err(orchestrator_unavailable("unreachable"))
            })
            .await;
        let error = reply.unwrap_err();
        assert_eq!(error.code, tower_lsp_server::jsonrpc::ErrorCode::InternalError);
        assert_eq!(error.message, "internal error while handling planning/get");
    }

    #[tokio::test]
    async fn params_are_checked_before_the_handler_runs() {
        let (service, _socket, _shared) = build_service(ServerOptions::default());
        let reply = service
            .inner()
            .serve_request::<ext::GetPlan, _, _>(json!({ "plan": 1 }), |_params| async move {
                Err(orchestrator_unavailable("the handler must not run"))
            })
            .await;
        let error = reply.unwrap_err();
        assert_eq!(error.code, tower_lsp_server::jsonrpc::ErrorCode::InvalidParams);
        assert_eq!(error.message, "missing field `planId`");
    }

    #[test]
    fn the_workspace_root_comes_from_folders_then_root_uri_then_root_path() {
        let mut params: InitializeParams = serde_json::from_value(json!({
            "capabilities": {},
            "rootPath": "/from/root/path",
        }))
        .unwrap();
        assert_eq!(workspace_root_of(&params), Some(PathBuf::from("/from/root/path")));
        params = serde_json::from_value(json!({
            "capabilities": {},
            "rootPath": "/from/root/path",
            "rootUri": "file:///from/root/uri",
            "workspaceFolders": [{ "uri": "file:///from/folder", "name": "w" }],
        }))
        .unwrap();
        assert_eq!(workspace_root_of(&params), Some(PathBuf::from("/from/folder")));
        params = serde_json::from_value(json!({ "capabilities": {} })).unwrap();
        assert_eq!(workspace_root_of(&params), None);
    }
}
