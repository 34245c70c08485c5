//! Builds the web app (`web/` → `web/dist`) so `cargo build` yields a
//! binary that serves it. Runs npm only when the app's sources changed;
//! `KEHU_SKIP_WEB_BUILD=1` skips it (the server then says the web app was
//! not built, unless an earlier `web/dist` exists).

use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let web = Path::new(&manifest).join("../../web");
    println!("cargo:rerun-if-env-changed=KEHU_SKIP_WEB_BUILD");
    if !web.join("package.json").exists() {
        return;
    }
    for input in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
        "tsconfig.app.json",
        "tsconfig.node.json",
    ] {
        let p = web.join(input);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let skip = std::env::var("KEHU_SKIP_WEB_BUILD").is_ok_and(|v| v == "1");
    if !skip {
        build(&web);
    }
    // Not `dist` as a whole: this script writes it, so watching it would
    // rebuild on every cargo run. But while the app is missing (no npm, a
    // skipped or failed build, a deleted `dist`), ask to be run again: cargo
    // treats a missing path as changed.
    let index = web.join("dist/index.html");
    if !index.exists() {
        println!("cargo:rerun-if-changed={}", index.display());
        println!(
            "cargo:warning=web/dist is missing: this binary serves a page saying the web app was not built"
        );
    }
}

fn build(web: &Path) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        println!(
            "cargo:warning=npm not found: the web app is not built (install Node.js 20+ and npm, or set KEHU_SKIP_WEB_BUILD=1)"
        );
        return;
    }
    // Reinstall when the lock file is newer than what was installed (or an
    // install was interrupted before npm wrote its record).
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (
        modified(&installed),
        modified(&web.join("package-lock.json")),
    ) {
        (Some(have), Some(want)) => have < want,
        _ => true,
    };
    if stale {
        run(
            Command::new(npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(web),
            "npm ci",
        );
    }
    run(
        Command::new(npm).args(["run", "build"]).current_dir(web),
        "npm run build",
    );
}

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn run(cmd: &mut Command, what: &str) {
    // npm's output goes to stderr: cargo reads a build script's stdout as
    // instructions.
    let status = cmd
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    assert!(
        status.success(),
        "{what} failed in web/ ({status}); fix the web app or set KEHU_SKIP_WEB_BUILD=1"
    );
}
