//! Builds the web app (`web/` → `web/dist`) so `cargo build` yields a
//! binary that serves it. Runs npm only when the app's sources changed;
//! `KEHU_SKIP_WEB_BUILD=1` skips it (the server then says the web app was
//! not built, unless an earlier `web/dist` exists).

use std::path::Path;
use std::process::Command;

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
        "scripts",
    ] {
        let p = web.join(input);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    // Not `dist` itself: this script writes it, so watching it would rebuild
    // on every cargo run. After deleting `web/dist`, touch a source file.
    if std::env::var("KEHU_SKIP_WEB_BUILD").is_ok_and(|v| v == "1") {
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        println!(
            "cargo:warning=npm not found: the web app is not built (install Node.js 20+ and npm, or set KEHU_SKIP_WEB_BUILD=1)"
        );
        return;
    }
    if !web.join("node_modules").exists() {
        run(Command::new(npm).arg("ci").current_dir(&web), "npm ci");
    }
    run(
        Command::new(npm).args(["run", "build"]).current_dir(&web),
        "npm run build",
    );
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    assert!(
        status.success(),
        "{what} failed in web/ ({status}); fix the web app or set KEHU_SKIP_WEB_BUILD=1"
    );
}
