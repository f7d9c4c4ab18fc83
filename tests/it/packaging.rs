//! The Debian package's metadata (`[package.metadata.deb]` in Cargo.toml)
//! against the repository: every asset is a file that exists or one that
//! packaging/build-deb.sh generates, the unit and conffile are there, and CI
//! does not build the package. The package itself is built by the script.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn deb_metadata() -> toml::Table {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml");
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb]")
        .clone()
}

/// `(source, destination)` of every asset.
fn assets() -> Vec<(String, String)> {
    deb_metadata()["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|asset| {
            let parts = asset.as_array().expect("[source, destination, mode]");
            let text = |i: usize| parts[i].as_str().expect("string").to_string();
            (text(0), text(1))
        })
        .collect()
}

/// The script writes `target/deb-assets/NAME` as `"$assets/NAME"`.
fn generated_by_script(source: &str) -> bool {
    source
        .strip_prefix("target/deb-assets/")
        .is_some_and(|name| read("packaging/build-deb.sh").contains(&format!("\"$assets/{name}\"")))
}

#[test]
fn every_asset_exists_or_is_generated_by_the_script() {
    let assets = assets();
    assert!(assets.len() >= 8, "{assets:?}");
    for (source, destination) in &assets {
        let ok = source == "target/release/medee"
            || generated_by_script(source)
            || root().join(source).is_file();
        assert!(
            ok,
            "{source} (-> {destination}) neither exists nor is generated"
        );
    }
}

#[test]
fn the_package_has_the_binary_config_man_page_and_completions() {
    let destinations: Vec<String> = assets().into_iter().map(|(_, d)| d).collect();
    for wanted in [
        "usr/bin/",
        "etc/medee/medee.toml",
        "usr/share/man/man1/",
        "usr/share/bash-completion/completions/medee",
        "usr/share/zsh/vendor-completions/",
        "usr/share/fish/vendor_completions.d/",
    ] {
        assert!(
            destinations.iter().any(|d| d == wanted),
            "{wanted}: {destinations:?}"
        );
    }
    let conf_files = deb_metadata()["conf-files"].clone();
    assert_eq!(conf_files, toml::Value::from(vec!["/etc/medee/medee.toml"]));
    let (config, _) = assets()
        .into_iter()
        .find(|(_, d)| d == "etc/medee/medee.toml")
        .expect("config asset");
    assert_eq!(config, "config/medee.service.toml");
}

/// The unit cargo-deb installs is the one the script derives from
/// systemd/medee.service, which must still start /usr/local/bin/medee (what
/// the script rewrites) as its DynamicUser (the package creates no user).
#[test]
fn the_unit_comes_from_the_repository_unit() {
    let units = deb_metadata()["systemd-units"].clone();
    let dir = units["unit-scripts"].as_str().expect("unit-scripts");
    let name = units["unit-name"].as_str().expect("unit-name");
    assert!(
        generated_by_script(&format!("{dir}/{name}.service")),
        "{dir}/{name}.service"
    );
    // cargo-deb writes the unit's enable/start/stop scripts only with a maintainer-scripts directory.
    assert_eq!(deb_metadata()["maintainer-scripts"].as_str(), Some(dir));
    assert!(read("packaging/build-deb.sh").contains(&format!("\nassets={dir}\n")));
    let unit = read("systemd/medee.service");
    assert!(unit.contains("\nExecStart=/usr/local/bin/medee "), "{unit}");
    assert!(unit.contains("\nDynamicUser=yes\n"), "{unit}");
    let script = read("packaging/build-deb.sh");
    assert!(script.contains("ExecStart=/usr/bin/medee "), "{script}");
}

#[test]
fn ci_does_not_build_the_package() {
    let ci = read(".ci/run");
    for word in ["cargo deb", "cargo-deb", "build-deb"] {
        assert!(!ci.contains(word), ".ci/run mentions {word}");
    }
}

#[test]
fn the_script_is_valid_bash() {
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(root().join("packaging/build-deb.sh"))
        .status()
        .expect("bash runs");
    assert!(status.success());
}
