//! One version everywhere a release shows one (issue 15, item 4): the source of truth is
//! `[workspace.package] version` in the root `Cargo.toml`; the add-in reports it (`Версия`/`Version`,
//! `telephony_bridge::VERSION`), the package writes it into `INFO.XML` and the binary names (the
//! `package` crate takes the workspace version), the extension's `Version` property in
//! `bsl-examples/extension/Configuration.xml` repeats it, and the newest dated section of `CHANGELOG.md`
//! is that release. The release workflow (`.github/workflows/release.yml`) refuses a tag that differs.
//!
//! Every rule is a pure function over file texts, so the mutation tests below plant a wrong version in
//! a copy of each text and watch the check fail.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `version = "…"` of `[workspace.package]` in the root manifest.
fn workspace_version(cargo_toml: &str) -> Result<String, String> {
    let mut in_section = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
            continue;
        }
        if in_section {
            if let Some(rest) = line.strip_prefix("version") {
                let value = rest.trim_start().strip_prefix('=').map(str::trim);
                if let Some(v) = value.and_then(|v| v.strip_prefix('"')?.strip_suffix('"')) {
                    return Ok(v.to_string());
                }
            }
        }
    }
    Err("Cargo.toml: no `version = \"…\"` in [workspace.package]".into())
}

/// The member manifest takes the workspace version (`version.workspace = true`) or repeats it.
fn member_follows_workspace(name: &str, manifest: &str, version: &str) -> Result<(), String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if compact == "version.workspace=true" || compact == format!("version=\"{version}\"") {
            return Ok(());
        }
        if compact.starts_with("version=") || compact.starts_with("version.") {
            return Err(format!(
                "{name}: `{line}` differs from the workspace version {version}"
            ));
        }
    }
    Err(format!("{name}: [package] has no version"))
}

/// The `<Version>` property of the extension's `Configuration.xml`.
fn extension_version(configuration_xml: &str) -> Result<String, String> {
    let start = configuration_xml
        .find("<Version>")
        .ok_or("Configuration.xml: no <Version> property")?
        + "<Version>".len();
    let end = configuration_xml[start..]
        .find("</Version>")
        .ok_or("Configuration.xml: <Version> is not closed")?;
    Ok(configuration_xml[start..start + end].trim().to_string())
}

/// The newest dated section of a Keep a Changelog file: the first `## [X.Y.Z] - YYYY-MM-DD` heading
/// (an undated `## [Не выпущено]` above it is work after the release and is skipped).
fn newest_release(changelog: &str) -> Result<(String, String), String> {
    for line in changelog.lines() {
        let Some(heading) = line.strip_prefix("## [") else {
            continue;
        };
        let Some((version, rest)) = heading.split_once(']') else {
            return Err(format!("CHANGELOG.md: malformed heading `{line}`"));
        };
        let date = rest.trim().trim_start_matches(['-', '—', '–']).trim();
        if version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            if !is_iso_date(date) {
                return Err(format!(
                    "CHANGELOG.md: release {version} has no date `YYYY-MM-DD` (`{line}`)"
                ));
            }
            return Ok((version.to_string(), date.to_string()));
        }
    }
    Err("CHANGELOG.md: no dated release section `## [X.Y.Z] - YYYY-MM-DD`".into())
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `INFO.XML` must take the version from the package (`{{version}}`), never carry one of its own.
fn info_xml_uses_placeholder(info_xml: &str) -> Result<(), String> {
    if info_xml.contains("version=\"{{version}}\"") {
        Ok(())
    } else {
        Err("manifest/INFO.XML: the component's version must be `{{version}}`".into())
    }
}

struct Sources {
    cargo_toml: String,
    members: Vec<(String, String)>,
    configuration_xml: String,
    changelog: String,
    info_xml: String,
    /// What the built add-in reports (`telephony_bridge::VERSION`).
    reported: String,
}

fn check(s: &Sources) -> Result<String, Vec<String>> {
    let mut errors = Vec::new();
    let version = match workspace_version(&s.cargo_toml) {
        Ok(v) => v,
        Err(e) => return Err(vec![e]),
    };
    for (name, manifest) in &s.members {
        if let Err(e) = member_follows_workspace(name, manifest, &version) {
            errors.push(e);
        }
    }
    if s.reported != version {
        errors.push(format!(
            "the add-in reports {} but the workspace version is {version}",
            s.reported
        ));
    }
    match extension_version(&s.configuration_xml) {
        Ok(v) if v == version => {}
        Ok(v) => errors.push(format!(
            "bsl-examples/extension/Configuration.xml: Version {v}, the workspace version is {version}"
        )),
        Err(e) => errors.push(e),
    }
    match newest_release(&s.changelog) {
        Ok((v, _)) if v == version => {}
        Ok((v, date)) => errors.push(format!(
            "CHANGELOG.md: the newest release is {v} ({date}), the workspace version is {version}"
        )),
        Err(e) => errors.push(e),
    }
    if let Err(e) = info_xml_uses_placeholder(&s.info_xml) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(version)
    } else {
        Err(errors)
    }
}

fn sources() -> Sources {
    let root = root();
    let cargo_toml = read(&root.join("Cargo.toml"));
    let members = [
        "package",
        "tests/host",
        "crates/tb-connect",
        "crates/tb-centrifugo",
        "crates/tb-calls",
        "crates/tb-prims",
    ]
    .iter()
    .map(|m| {
        (
            format!("{m}/Cargo.toml"),
            read(&root.join(m).join("Cargo.toml")),
        )
    })
    .chain(std::iter::once((
        "Cargo.toml".to_string(),
        cargo_toml.clone(),
    )))
    .collect();
    Sources {
        members,
        configuration_xml: read(&root.join("bsl-examples/extension/Configuration.xml")),
        changelog: read(&root.join("CHANGELOG.md")),
        info_xml: read(&root.join("manifest/INFO.XML")),
        reported: telephony_bridge::VERSION.to_string(),
        cargo_toml,
    }
}

#[test]
fn add_in_extension_and_changelog_carry_one_version() {
    let s = sources();
    match check(&s) {
        Ok(version) => {
            // The list of members above is the workspace's: a new member must be added there.
            let listed = s.members.len() - 1;
            let declared = s
                .cargo_toml
                .lines()
                .find(|l| l.trim_start().starts_with("members"))
                .map(|l| l.matches('"').count() / 2 - 1)
                .expect("Cargo.toml: members");
            assert_eq!(
                listed, declared,
                "tests/version_agreement.rs lists every workspace member but the root"
            );
            assert!(!version.is_empty());
        }
        Err(errors) => panic!("versions disagree:\n  {}", errors.join("\n  ")),
    }
}

#[test]
fn mutation_a_wrong_extension_version_fails() {
    let mut s = sources();
    s.configuration_xml = s.configuration_xml.replacen("<Version>", "<Version>9.", 1);
    let errors = check(&s).expect_err("a planted extension version must fail");
    assert!(
        errors.iter().any(|e| e.contains("Configuration.xml")),
        "{errors:?}"
    );
}

#[test]
fn mutation_a_changelog_without_the_release_fails() {
    let mut s = sources();
    let version = workspace_version(&s.cargo_toml).unwrap();
    // The release heading renamed to an older version: the newest release no longer matches.
    s.changelog = s
        .changelog
        .replacen(&format!("## [{version}]"), "## [0.9.0]", 1);
    let errors =
        check(&s).expect_err("a changelog whose newest release is another version must fail");
    assert!(
        errors.iter().any(|e| e.contains("CHANGELOG.md")),
        "{errors:?}"
    );

    // The release heading without its date fails too.
    let mut s = sources();
    s.changelog = s
        .changelog
        .lines()
        .map(|l| {
            if l.starts_with(&format!("## [{version}]")) {
                format!("## [{version}]")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let errors = check(&s).expect_err("an undated release must fail");
    assert!(errors.iter().any(|e| e.contains("no date")), "{errors:?}");

    // Only the undated section left: no release at all.
    let errors = newest_release("# Журнал\n\n## [Не выпущено]\n\n### Добавлено\n").unwrap_err();
    assert!(errors.contains("no dated release"), "{errors}");
}

#[test]
fn mutation_a_member_or_the_add_in_with_its_own_version_fails() {
    let mut s = sources();
    let package = s
        .members
        .iter_mut()
        .find(|(n, _)| n == "package/Cargo.toml")
        .unwrap();
    package.1 = package
        .1
        .replacen("version.workspace = true", "version = \"0.0.1\"", 1);
    let errors = check(&s).expect_err("a member with its own version must fail");
    assert!(
        errors.iter().any(|e| e.contains("package/Cargo.toml")),
        "{errors:?}"
    );

    let mut s = sources();
    s.reported = "0.0.1".into();
    let errors = check(&s).expect_err("an add-in reporting another version must fail");
    assert!(
        errors.iter().any(|e| e.contains("reports 0.0.1")),
        "{errors:?}"
    );

    let mut s = sources();
    s.info_xml = s.info_xml.replace("{{version}}", "1.0.0");
    let errors = check(&s).expect_err("INFO.XML with a fixed version must fail");
    assert!(errors.iter().any(|e| e.contains("INFO.XML")), "{errors:?}");
}

#[test]
fn mutation_a_new_workspace_version_alone_fails() {
    let mut s = sources();
    s.cargo_toml = s.cargo_toml.replacen(
        "[workspace.package]\nversion = \"",
        "[workspace.package]\nversion = \"7.",
        1,
    );
    let errors = check(&s).expect_err("a bumped workspace version without the others must fail");
    assert!(
        errors.len() >= 3,
        "extension, changelog and add-in disagree: {errors:?}"
    );
}
