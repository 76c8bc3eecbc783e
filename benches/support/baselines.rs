//! The limits the engine is measured against: the same trivial steps spawned by `xargs -P`
//! (raw spawning, no DAG, no bookkeeping), and the same DAG run by `make -j` (and `ninja -j` when
//! it is installed). Each returns its wall time; nothing here knows the engine.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A wide seeded DAG: each node depends on up to two nodes at least `reach` places before it, so
/// `reach` steps can always run side by side and the critical path stays short.
pub fn wide_dag(size: usize, reach: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..size)
        .map(|node| {
            if node < reach {
                return Vec::new();
            }
            let count = rng.gen_range(0..=2);
            let mut dependencies: Vec<usize> = (0..count).map(|_| rng.gen_range(0..node - reach + 1)).collect();
            dependencies.sort_unstable();
            dependencies.dedup();
            dependencies
        })
        .collect()
}

/// `sh -c <command>` once per node, `parallel` at a time, through `xargs -P` (ignores the DAG).
pub fn xargs(count: usize, command: &str, parallel: usize) -> Duration {
    let started = Instant::now();
    let mut child = Command::new("xargs")
        .args([format!("-P{parallel}"), "-n1".to_owned(), "sh".to_owned(), "-c".to_owned()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("xargs runs");
    let input = format!("{command}\n").repeat(count);
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("feed xargs");
    assert!(child.wait().expect("xargs ends").success(), "xargs failed");
    started.elapsed()
}

/// A makefile running `sh -c <command>` per node of `dag`, each target after its dependencies.
pub fn write_makefile(directory: &Path, dag: &[Vec<usize>], command: &str) -> PathBuf {
    let mut text = String::from(".PHONY: all");
    for node in 0..dag.len() {
        let _ = write!(text, " n{node}");
    }
    text.push_str("\nall:");
    for node in 0..dag.len() {
        let _ = write!(text, " n{node}");
    }
    text.push('\n');
    for (node, dependencies) in dag.iter().enumerate() {
        let _ = write!(text, "n{node}:");
        for dependency in dependencies {
            let _ = write!(text, " n{dependency}");
        }
        let _ = writeln!(text, "\n\tsh -c {command}");
    }
    let path = directory.join("Makefile.bench");
    std::fs::write(&path, text).expect("write the makefile");
    path
}

/// `make -j<parallel>` of `makefile`'s `all`.
pub fn make(makefile: &Path, parallel: usize) -> Duration {
    let started = Instant::now();
    let status = Command::new("make")
        .args(["-s", &format!("-j{parallel}"), "-f"])
        .arg(makefile)
        .arg("all")
        .stdout(Stdio::null())
        .status()
        .expect("make runs");
    assert!(status.success(), "make failed");
    started.elapsed()
}

/// A `build.ninja` for the same DAG (phony-free: each node touches nothing, always dirty).
pub fn write_ninja(directory: &Path, dag: &[Vec<usize>], command: &str) -> PathBuf {
    let mut text = format!("rule step\n  command = sh -c {command}\n");
    for (node, dependencies) in dag.iter().enumerate() {
        let _ = write!(text, "build n{node}: step");
        if !dependencies.is_empty() {
            text.push_str(" ||");
            for dependency in dependencies {
                let _ = write!(text, " n{dependency}");
            }
        }
        text.push('\n');
    }
    let path = directory.join("build.ninja");
    std::fs::write(&path, text).expect("write build.ninja");
    path
}

/// `ninja -j<parallel>` in the folder of `build.ninja`, when ninja is installed.
pub fn ninja(build_file: &Path, parallel: usize) -> Option<Duration> {
    let started = Instant::now();
    let status = Command::new("ninja")
        .args(["-j", &parallel.to_string(), "-f"])
        .arg(build_file)
        .current_dir(build_file.parent()?)
        .stdout(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| started.elapsed())
}
