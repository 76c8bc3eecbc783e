//! The less common layouts: Dart and Flutter (`pubspec.yaml`), Swift packages, .NET solutions
//! and projects, CMake, Ruby (rake, RSpec), Elixir (mix), PHP (composer, PHPUnit), Deno and Zig —
//! each marker file and the build / test commands its ecosystem runs by convention.
//!
//! Reads files only; never runs anything.

use std::path::Path;

use super::ecosystems::{command, read_text};
use super::{CommandPurpose, Ecosystem, WorkspaceCommand};

use CommandPurpose::{Build, Test};

/// Whether `directory` holds a project of `ecosystem` (one of the layouts here).
pub(super) fn is_present(directory: &Path, ecosystem: Ecosystem) -> bool {
    let any = |names: &[&str]| names.iter().any(|name| directory.join(name).is_file());
    match ecosystem {
        Ecosystem::Dart => any(&["pubspec.yaml"]),
        Ecosystem::Swift => any(&["Package.swift"]),
        Ecosystem::DotNet => has_extension(directory, &["sln", "csproj", "fsproj"]),
        Ecosystem::CMake => any(&["CMakeLists.txt"]),
        Ecosystem::Ruby => any(&["Gemfile", "Rakefile", "rakefile", ".rspec"]),
        Ecosystem::Elixir => any(&["mix.exs"]),
        Ecosystem::Php => any(&["composer.json", "phpunit.xml", "phpunit.xml.dist"]),
        Ecosystem::Deno => any(&["deno.json", "deno.jsonc"]),
        Ecosystem::Zig => any(&["build.zig"]),
        _ => false,
    }
}

/// The build and test commands of each layout found in `directory`, by ecosystem.
pub(super) fn commands(directory: &Path, cwd: Option<&str>) -> Vec<(Ecosystem, Vec<WorkspaceCommand>)> {
    let build_and_test = |tool: &str, build: &str, test: &str, builds: bool| {
        vec![command(Build, tool, build, cwd, false), command(Test, tool, test, cwd, builds)]
    };
    let mut found = Vec::new();
    if is_present(directory, Ecosystem::Dart) {
        let pubspec = read_text(&directory.join("pubspec.yaml")).unwrap_or_default();
        let tool = if pubspec.contains("flutter:") || pubspec.contains("sdk: flutter") { "flutter" } else { "dart" };
        let analyze = format!("{tool} analyze");
        let test = format!("{tool} test");
        found.push((Ecosystem::Dart, vec![command(Test, tool, &test, cwd, true), lint(tool, &analyze, cwd)]));
    }
    if is_present(directory, Ecosystem::Swift) {
        found.push((Ecosystem::Swift, build_and_test("swift", "swift build", "swift test", true)));
    }
    if is_present(directory, Ecosystem::DotNet) {
        found.push((Ecosystem::DotNet, build_and_test("dotnet", "dotnet build", "dotnet test", true)));
    }
    if is_present(directory, Ecosystem::CMake) {
        let build = "cmake -S . -B build && cmake --build build";
        let test = "cmake -S . -B build && cmake --build build && ctest --test-dir build --output-on-failure";
        found.push((Ecosystem::CMake, build_and_test("cmake", build, test, true)));
    }
    if is_present(directory, Ecosystem::Ruby) {
        found.push((Ecosystem::Ruby, ruby_commands(directory, cwd)));
    }
    if is_present(directory, Ecosystem::Elixir) {
        found.push((Ecosystem::Elixir, build_and_test("mix", "mix compile", "mix test", true)));
    }
    if is_present(directory, Ecosystem::Php) {
        found.push((Ecosystem::Php, php_commands(directory, cwd)));
    }
    if is_present(directory, Ecosystem::Deno) {
        found.push((
            Ecosystem::Deno,
            vec![command(Test, "deno", "deno test", cwd, true), lint("deno", "deno lint", cwd)],
        ));
    }
    if is_present(directory, Ecosystem::Zig) {
        found.push((Ecosystem::Zig, build_and_test("zig", "zig build", "zig build test", true)));
    }
    found
}

fn lint(tool: &str, text: &str, cwd: Option<&str>) -> WorkspaceCommand {
    command(CommandPurpose::Lint, tool, text, cwd, false)
}

/// RSpec when the project has `.rspec` or `spec/`, else `rake test` when the Rakefile defines a
/// test task; through `bundle exec` when there is a Gemfile.
fn ruby_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let bundle = if directory.join("Gemfile").is_file() { "bundle exec " } else { "" };
    if directory.join(".rspec").is_file() || directory.join("spec").is_dir() {
        return vec![command(Test, "rspec", &format!("{bundle}rspec"), cwd, false)];
    }
    let rakefile =
        ["Rakefile", "rakefile"].iter().find_map(|name| read_text(&directory.join(name))).unwrap_or_default();
    let has_test_task =
        rakefile.contains("Rake::TestTask") || rakefile.contains("task :test") || rakefile.contains("task test");
    if has_test_task || directory.join("test").is_dir() {
        return vec![command(Test, "rake", &format!("{bundle}rake test"), cwd, false)];
    }
    Vec::new()
}

/// composer's `test` script, else PHPUnit from `vendor/bin` when it is configured.
fn php_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let manifest = read_text(&directory.join("composer.json"))
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let has_test_script = manifest
        .as_ref()
        .and_then(|manifest| manifest.get("scripts"))
        .and_then(serde_json::Value::as_object)
        .is_some_and(|scripts| scripts.contains_key("test"));
    if has_test_script {
        return vec![command(Test, "composer", "composer test", cwd, false)];
    }
    if ["phpunit.xml", "phpunit.xml.dist"].iter().any(|name| directory.join(name).is_file()) {
        return vec![command(Test, "phpunit", "vendor/bin/phpunit", cwd, false)];
    }
    Vec::new()
}

/// Any file directly in `directory` with one of `extensions`.
fn has_extension(directory: &Path, extensions: &[&str]) -> bool {
    let Ok(entries) = std::fs::read_dir(directory) else { return false };
    entries.filter_map(Result::ok).any(|entry| {
        let path = entry.path();
        path.is_file()
            && path.extension().and_then(|extension| extension.to_str()).is_some_and(|e| extensions.contains(&e))
    })
}
