//! Links a release build of the server with the code it runs while idle placed first
//! (`link/hot-code.ld`, written by `link/hot-code.py`). An idle server's resident memory is mostly
//! its own code pages, and the kernel maps code in 64 KiB runs, so gathering what runs into one
//! region keeps the rest of the binary off the resident set (`cargo bench --bench stdio`).
//!
//! Only the `codelab-planner` binary of a Linux release (or bench) build gets it: debug builds and
//! test binaries link as before. The script only orders sections (`INSERT AFTER .init`), so a
//! stale list costs memory, never correctness.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link/hot-code.ld");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let Ok(manifest) = std::env::var("CARGO_MANIFEST_DIR") else { return };
    if linux && release {
        // `-Xlinker` hands the path over whole, commas and all (`-Wl,` would split it).
        println!("cargo::rustc-link-arg-bin=codelab-planner=-Xlinker");
        println!("cargo::rustc-link-arg-bin=codelab-planner=--script={manifest}/link/hot-code.ld");
    }
}
