//! Build-time facts the binary carries: the migrations it embeds, and the commit it was
//! built from (`connected --version`).

use std::process::Command;

fn main() {
    // The migrations are embedded at compile time: a new one must rebuild the binary.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=CONNECTED_COMMIT");
    for path in watched() {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rustc-env=CONNECTED_COMMIT={}", commit());
}

/// The commit checked out, from git; else `CONNECTED_COMMIT` (a build without `.git`, as in
/// a container); else `unknown`. Never a failed build.
fn commit() -> String {
    git(&["rev-parse", "--short=7", "HEAD"])
        .or_else(|| std::env::var("CONNECTED_COMMIT").ok())
        .map(|commit| commit.trim().to_owned())
        .filter(|commit| !commit.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The files that move when HEAD does: HEAD itself and the branch it names (a loose ref, or
/// the packed ones), wherever git keeps them (a work tree's `.git` is a file naming them).
fn watched() -> Vec<String> {
    let mut paths: Vec<String> = git(&["rev-parse", "--git-path", "HEAD"])
        .into_iter()
        .collect();
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let loose = git(&["rev-parse", "--git-path", &branch]);
        match loose.filter(|path| std::path::Path::new(path).exists()) {
            Some(path) => paths.push(path),
            None => paths.extend(git(&["rev-parse", "--git-path", "packed-refs"])),
        }
    }
    paths
}

/// What `git ARGS` prints, trimmed, when git is there and succeeds.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}
