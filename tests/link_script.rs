//! The section order a release build links with (`link/hot-code.ld`, handed to the linker by
//! `build.rs`) is a script both linkers take: a small C program linked with it by the system's
//! GNU ld and by the toolchain's `rust-lld` (the default linker of Rust on x86-64 Linux) runs,
//! and a function the script names comes before one it does not, the other way round from the
//! order without it. No test builds the release binary itself (one fat-LTO link takes minutes),
//! so this is what keeps a malformed script from breaking `cargo run --release`.

// The test runs the C compiler, the program and nm: tools outside the crate.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAM: &str = "void zz_not_named(void) {}\nint main(void) { zz_not_named(); return 0; }\n";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("link/hot-code.ld")
}

/// The folder holding the toolchain's `ld.lld` wrapper for `cc -fuse-ld=lld`, as rustc uses it.
fn rust_lld_folder() -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc).args(["--print", "sysroot"]).output().expect("rustc --print sysroot");
    let sysroot = String::from_utf8(output.stdout).expect("sysroot is UTF-8");
    Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld")
}

/// Links the program with `extra` arguments; returns the addresses of `main` and `zz_not_named`,
/// and whether LLD linked it (it says so in `.comment`).
fn link(directory: &Path, name: &str, extra: &[String]) -> (u64, u64, bool) {
    let source = directory.join("program.c");
    std::fs::write(&source, PROGRAM).expect("write program.c");
    let binary = directory.join(name);
    let output = Command::new("cc")
        .arg("-ffunction-sections")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .args(extra)
        .output()
        .expect("cc runs");
    assert!(output.status.success(), "{name}: cc failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(Command::new(&binary).status().expect("the program runs").success(), "{name}: the program fails");
    let symbols = Command::new("nm").arg(&binary).output().expect("nm runs");
    let symbols = String::from_utf8_lossy(&symbols.stdout).into_owned();
    let address = |wanted: &str| {
        symbols
            .lines()
            .find_map(|line| {
                let mut fields = line.split_whitespace();
                let address = fields.next()?;
                (fields.nth(1)? == wanted).then(|| u64::from_str_radix(address, 16).ok()).flatten()
            })
            .unwrap_or_else(|| panic!("{name}: no {wanted} in nm's output:\n{symbols}"))
    };
    let by_lld = std::fs::read(&binary).expect("read the program").windows(11).any(|window| window == b"Linker: LLD");
    (address("main"), address("zz_not_named"), by_lld)
}

#[test]
fn both_linkers_take_the_script_and_place_what_it_names_first() {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return;
    }
    let directory = tempfile::tempdir().expect("tempdir");
    let with_script = vec!["-Xlinker".to_owned(), format!("--script={}", script().display())];
    let (main, other, _) = link(directory.path(), "plain", &[]);
    assert!(other < main, "without the script the source order holds (the test's premise)");

    let mut with_gnu_ld = vec!["-fuse-ld=bfd".to_owned()];
    with_gnu_ld.extend(with_script.iter().cloned());
    let (main, other, by_lld) = link(directory.path(), "gnu-ld", &with_gnu_ld);
    assert!(!by_lld, "linked by GNU ld");
    assert!(main < other, "GNU ld: main is named in the script and comes first");

    let lld = rust_lld_folder();
    assert!(lld.join("ld.lld").exists(), "no ld.lld in {}", lld.display());
    let mut with_lld = vec![format!("-B{}", lld.display()), "-fuse-ld=lld".to_owned()];
    with_lld.extend(with_script);
    let (main, other, by_lld) = link(directory.path(), "rust-lld", &with_lld);
    assert!(by_lld, "linked by rust-lld");
    assert!(main < other, "rust-lld: main is named in the script and comes first");
}
