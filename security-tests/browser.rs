//! The portal in a real browser: the Node end-to-end suite in `e2e/` drives
//! headless Chromium with virtual passkey authenticators against this build.

use std::path::Path;
use std::process::Command;

#[test]
fn browser_flows_pass_in_headless_chromium() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let needed = [
        Path::new("/usr/bin/chromium").to_path_buf(),
        repo.join("e2e/node_modules/playwright-core"),
    ];
    // CI sets this: there the browser tests must run, never skip.
    let required = std::env::var_os("JAGA_REQUIRE_BROWSER_TESTS").is_some();
    if let Some(missing) = needed.iter().find(|p| !p.exists()) {
        assert!(!required, "browser tests required but {} is missing", missing.display());
        eprintln!(
            "skipped the browser tests: {} is missing (install chromium; run `npm ci` in e2e/)",
            missing.display()
        );
        return;
    }
    let out = match Command::new("node")
        .args(["--test", "--test-concurrency=1", "e2e/tests/"])
        .current_dir(repo)
        .env("JAGA_BIN", env!("CARGO_BIN_EXE_jaga"))
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            eprintln!("skipped the browser tests: node is not installed");
            return;
        }
        Err(e) => panic!("running node: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser tests failed: {}", out.status);
    // Exit status alone could hide a test file that failed to load ("0
    // failed"): every declared test must have run and passed.
    let declared = declared_tests(&repo.join("e2e/tests"));
    assert!(declared > 0, "no e2e tests declared");
    let passed_top_level = stdout
        .lines()
        .filter(|l| l.starts_with("ok ") && l.contains(" - "))
        .count();
    assert_eq!(
        passed_top_level, declared,
        "{declared} e2e tests are declared but {passed_top_level} passed"
    );
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("not ok")),
        "a test failed"
    );
    let summary = |name: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# {name} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no '# {name}' line in the node test summary"))
    };
    assert_eq!(summary("pass"), summary("tests"), "every test and subtest passed");
    for name in ["fail", "cancelled", "skipped", "todo"] {
        assert_eq!(summary(name), 0, "# {name}");
    }
}

/// Top-level `test(` declarations in the e2e test files.
fn declared_tests(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .map(|p| {
            std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("test("))
                .count()
        })
        .sum()
}
