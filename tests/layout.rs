//! `autotests = false`: a file in `tests/` runs only if it is a `[[test]]` of `Cargo.toml` or a
//! module of one. A new `tests/*.rs` that is neither would compile into nothing and pass silently.

use std::path::Path;

#[test]
fn every_file_in_tests_is_a_test_binary_or_a_module_of_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    let roots: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path = \"tests/"))
        .filter_map(|l| l.strip_suffix(".rs\""))
        .map(str::to_owned)
        .collect();
    assert!(roots.iter().any(|r| r == "tests") && roots.iter().any(|r| r == "e2e"), "{roots:?}");
    let mut modules = Vec::new();
    for root in &roots {
        let text = std::fs::read_to_string(dir.join("tests").join(format!("{root}.rs"))).expect("test root");
        modules.extend(text.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).map(str::to_owned));
    }
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(dir.join("tests")).expect("tests/") {
        let path = entry.expect("entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        if path.extension().is_some_and(|e| e == "rs") && !roots.iter().chain(&modules).any(|n| n == stem) {
            orphans.push(stem.to_owned());
        }
    }
    assert!(
        orphans.is_empty(),
        "tests/{{{}}}.rs: add to tests/tests.rs or tests/e2e.rs (`mod NAME;`)",
        orphans.join(",")
    );
}
