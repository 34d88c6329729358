//! The release kit's own checks (issue 15, items 3 and 4), each with a mutation test that plants the defect
//! it is there to see:
//! - `scripts/1c/tb-1c-kit.sh` passes `bash -n` and ShellCheck (installed by scripts/setup/50-release-tools.sh);
//! - `scripts/1c/tb-1c-kit.cmd` runs the same steps with the same keys as the bash kit (both step lists parsed);
//! - the bash kit, run against a fake `1cv8`/`ibcmd` (`tests/fake-1c/fake-1c.sh`, which records every call),
//!   issues exactly the documented command lines, picks the extension variant from the base's application
//!   module and writes a report whose verdict follows the steps: a step that fails (exit code, `/DumpResult`,
//!   safe mode still on) makes the report say so and the exit code non-zero;
//! - `.github/workflows/release.yml` passes actionlint (installed by the same setup script) and publishes every
//!   file the README's quick start tells the integrator to download.
//!
//! Only on 64-bit Unix: these tests run shell scripts and checkers, not the add-in, so the i686 run
//! (scripts/linux/test-i686.sh) and the Windows run under Wine would repeat the x86_64 run at best.
#![cfg(all(unix, target_pointer_width = "64"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A checker installed by scripts/setup/50-release-tools.sh: `$TB_TOOLS_DIR/bin`, `.tools/bin`, then PATH.
fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("TB_TOOLS_DIR") {
        dirs.push(PathBuf::from(dir).join("bin"));
    }
    dirs.push(root().join(".tools/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run scripts/setup/50-release-tools.sh (scripts/test.sh does)")
        })
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tb-release-kit-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------------------
// bash -n and ShellCheck

fn shell_checks(script: &Path) -> Result<(), String> {
    let syntax = Command::new("bash").arg("-n").arg(script).output().unwrap();
    if !syntax.status.success() {
        return Err(format!("bash -n {}: {}", script.display(), text(&syntax)));
    }
    let lint = Command::new(tool("shellcheck"))
        .arg("--severity=style")
        .arg(script)
        .output()
        .unwrap();
    if !lint.status.success() {
        return Err(format!("shellcheck {}: {}", script.display(), text(&lint)));
    }
    Ok(())
}

const SHELL_SCRIPTS: &[&str] = &[
    "scripts/1c/tb-1c-kit.sh",
    "tests/fake-1c/fake-1c.sh",
    "scripts/setup/50-release-tools.sh",
];

#[test]
fn kit_scripts_pass_bash_n_and_shellcheck() {
    for script in SHELL_SCRIPTS {
        if let Err(e) = shell_checks(&root().join(script)) {
            panic!("{e}");
        }
    }
}

#[test]
fn mutation_shellcheck_and_bash_n_fail_on_planted_defects() {
    let dir = temp_dir("shellcheck");
    let kit = read(&root().join("scripts/1c/tb-1c-kit.sh"));
    // An unquoted expansion in an `rm -rf`: ShellCheck's SC2086.
    let planted = kit.replacen("rm -rf \"$BASE_DIR\"", "rm -rf $BASE_DIR", 1);
    assert_ne!(planted, kit, "the planted line must exist in the kit");
    let copy = dir.join("unquoted.sh");
    std::fs::write(&copy, planted).unwrap();
    let err = shell_checks(&copy).expect_err("ShellCheck must refuse an unquoted rm -rf");
    assert!(err.contains("SC2086"), "{err}");
    // A syntax error: bash -n.
    let copy = dir.join("syntax.sh");
    std::fs::write(&copy, kit.replacen("\n    esac\ndone\n", "\n    esac\n", 1)).unwrap();
    let err = shell_checks(&copy).expect_err("bash -n must refuse an unclosed loop");
    assert!(err.starts_with("bash -n"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

// ---------------------------------------------------------------------------------------------------------
// The .cmd runs the same steps as the .sh

/// One step of a kit: its id, its kind and the literal words of its command (keys such as `/CheckModules`,
/// `-Extension`, `--safe-mode=no`; a word holding a variable keeps only what precedes its `=`).
#[derive(Debug, PartialEq, Eq)]
struct Step {
    id: String,
    kind: String,
    words: Vec<String>,
}

/// Splits a command line into words: double quotes group, `\"` is a literal quote (bash) and is dropped.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => {
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn normalize(word: &str) -> Option<String> {
    let variable = |s: &str| s.contains('$') || s.contains('%');
    if !variable(word) {
        return Some(word.to_string());
    }
    match word.split_once('=') {
        Some((key, value)) if !variable(key) && variable(value) => Some(format!("{key}=")),
        _ => None,
    }
}

/// The lines of a script with continued lines (`\\` in bash, `^` in cmd) joined.
fn logical_lines(script: &str, continuation: char) -> Vec<String> {
    let mut logical = Vec::new();
    let mut cur = String::new();
    for line in script.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(head) = line.trim_end().strip_suffix(continuation) {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(line);
            logical.push(std::mem::take(&mut cur));
        }
    }
    logical
}

/// The steps of a kit, in the order of its text. `continuation` joins physical lines (`\` in bash, `^` in cmd);
/// `marker` is the word that starts a step (`run_step`, `:run_step` after `call`).
fn steps(script: &str, continuation: char, marker: &str, prefix_ok: fn(&str) -> bool) -> Vec<Step> {
    let mut out = Vec::new();
    for line in logical_lines(script, continuation) {
        let ws = words(&line);
        let Some(at) = ws.iter().position(|w| w == marker) else {
            continue;
        };
        if !ws[..at].iter().all(|w| prefix_ok(w)) || ws.len() < at + 3 {
            continue;
        }
        out.push(Step {
            id: ws[at + 1].clone(),
            kind: ws[at + 2].clone(),
            words: ws[at + 3..].iter().filter_map(|w| normalize(w)).collect(),
        });
    }
    out
}

fn bash_steps(script: &str) -> Vec<Step> {
    // Before `run_step` only environment assignments (EXPECT_IN_LOG=…, VARIANT_OVERRIDE=…).
    steps(script, '\\', "run_step", |w| {
        w.contains('=') && !w.starts_with('#')
    })
}

fn cmd_steps(script: &str) -> Vec<Step> {
    steps(script, '^', ":run_step", |w| w.eq_ignore_ascii_case("call"))
}

/// The fixed parts every step kind adds, present in both kits.
fn helper_keys_present(script: &str, continuation: char) -> Result<(), String> {
    let lines = logical_lines(script, continuation);
    let has_line_with =
        |needles: &[&str]| lines.iter().any(|l| needles.iter().all(|n| l.contains(n)));
    let wanted: &[&[&str]] = &[
        &[
            "DESIGNER /F",
            "/DisableStartupDialogs /DisableStartupMessages",
            "/Out",
            "/DumpResult",
        ],
        &["File=", "/Out", "/DisableStartupDialogs"],
        &["safe-mode", ":", "no", "EXPECT"],
    ];
    for needles in wanted {
        if !has_line_with(needles) {
            return Err(format!("no line has all of {needles:?}"));
        }
    }
    Ok(())
}

fn compare_kits(sh: &str, cmd: &str) -> Result<usize, String> {
    let (a, b) = (bash_steps(sh), cmd_steps(cmd));
    if a.len() < 12 {
        return Err(format!("the bash kit has only {} steps: {a:?}", a.len()));
    }
    if a != b {
        let first = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        return Err(format!(
            "the kits differ at step {first}:\n  sh:  {:?}\n  cmd: {:?}\n({} steps in sh, {} in cmd)",
            a.get(first),
            b.get(first),
            a.len(),
            b.len()
        ));
    }
    helper_keys_present(sh, '\\').map_err(|e| format!("tb-1c-kit.sh: {e}"))?;
    helper_keys_present(cmd, '^').map_err(|e| format!("tb-1c-kit.cmd: {e}"))?;
    Ok(a.len())
}

fn kit_texts() -> (String, String) {
    (
        read(&root().join("scripts/1c/tb-1c-kit.sh")),
        read(&root().join("scripts/1c/tb-1c-kit.cmd")),
    )
}

#[test]
fn cmd_kit_runs_the_same_steps_as_the_bash_kit() {
    let (sh, cmd) = kit_texts();
    let n = compare_kits(&sh, &cmd).unwrap_or_else(|e| panic!("{e}"));
    // The documented order (tb-1c-kit.sh header): creation, one of the two loads, then the rest.
    let ids: Vec<String> = bash_steps(&sh).into_iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        [
            "create",
            "load-config",
            "load-cf",
            "update-config",
            "dump-config",
            "variant",
            "load-extension",
            "update-extension",
            "safe-mode-off",
            "safe-mode-check",
            "check-apply",
            "check-modules",
            "check-config"
        ],
        "{n} steps"
    );
    let modules = bash_steps(&sh)
        .into_iter()
        .find(|s| s.id == "check-modules")
        .unwrap();
    assert_eq!(
        modules.words,
        [
            "/CheckModules",
            "-ThinClient",
            "-Server",
            "-ExternalConnection",
            "-Extension"
        ]
    );
}

#[test]
fn mutation_a_cmd_kit_that_drifts_from_the_bash_kit_fails() {
    let (sh, cmd) = kit_texts();
    // A key dropped from one step.
    let planted = cmd.replacen(
        "-ThinClient -Server -ExternalConnection -Extension",
        "-ThinClient -Server -Extension",
        1,
    );
    assert_ne!(planted, cmd);
    let err = compare_kits(&sh, &planted).expect_err("a dropped -ExternalConnection must fail");
    assert!(err.contains("check-modules"), "{err}");
    // A step removed.
    let planted: String = cmd
        .lines()
        .filter(|l| !l.contains(":run_step safe-mode-off"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = compare_kits(&sh, &planted).expect_err("a missing safe-mode-off must fail");
    assert!(err.contains("safe-mode-off"), "{err}");
    // Safe mode left on in the bash kit.
    let planted = sh.replacen(
        "\"--name=$EXTENSION\" --safe-mode=no",
        "\"--name=$EXTENSION\" --safe-mode=yes",
        1,
    );
    assert_ne!(planted, sh);
    compare_kits(&planted, &cmd).expect_err("--safe-mode=yes must fail");
    // /DumpResult no longer added to the Designer runs of the cmd kit.
    let planted = cmd.replace("/DumpResult \"%RESULT%\"", "");
    let err =
        compare_kits(&sh, &planted).expect_err("a Designer run without /DumpResult must fail");
    assert!(err.contains("tb-1c-kit.cmd"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------
// The bash kit against a fake platform

const VARIANTS: [&str; 4] = ["bsp-bpo", "bsp", "bpo", "bare"];
const BOTH_HANDLERS: &str = "\u{feff}#Область ОбработчикиСобытий\n\nПроцедура ПриНачалеРаботыСистемы()\n\
    \tСтандартныеПодсистемыКлиент.ПриНачалеРаботыСистемы();\nКонецПроцедуры\n\n\
    Процедура ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\nКонецПроцедуры\n\n#КонецОбласти\n";

struct Fake {
    dir: PathBuf,
    kit: PathBuf,
}

impl Fake {
    /// A fake platform dir (1cv8 and ibcmd), a bare dump without an application module, a БСП `.cf` whose
    /// application module has both handlers, and a dist with the four extension dumps.
    fn new(tag: &str) -> Fake {
        let dir = temp_dir(tag);
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for name in ["1cv8", "ibcmd"] {
            let target = bin.join(name);
            std::fs::copy(root().join("tests/fake-1c/fake-1c.sh"), &target).unwrap();
            make_executable(&target);
        }
        std::fs::create_dir_all(dir.join("bare")).unwrap();
        std::fs::write(dir.join("bare/Configuration.xml"), "<MetaDataObject/>").unwrap();
        std::fs::write(dir.join("bsp.cf"), BOTH_HANDLERS).unwrap();
        for v in VARIANTS {
            let d = dir.join(format!("dist/TelephonyBridge-extension-{v}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("Configuration.xml"), "<MetaDataObject/>").unwrap();
        }
        Fake {
            kit: root().join("scripts/1c/tb-1c-kit.sh"),
            dir,
        }
    }

    fn run(&self, extra: &[&str], env: &[(&str, &str)]) -> (Output, String) {
        let d = &self.dir;
        let mut cmd = Command::new("bash");
        cmd.arg(&self.kit)
            .arg("--v8")
            .arg(d.join("bin/1cv8"))
            .arg("--bare")
            .arg(d.join("bare"))
            .arg("--dist")
            .arg(d.join("dist"))
            .arg("--work")
            .arg(d.join("work"))
            .args(extra)
            .env("FAKE_1C_LOG", d.join("calls.log"))
            .env_remove("FAKE_1C_FAIL")
            .env_remove("FAKE_IBCMD_IGNORE_SAFE_MODE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let _ = std::fs::remove_file(d.join("calls.log"));
        let out = cmd.output().unwrap();
        let report = std::fs::read_to_string(d.join("work/report.md")).unwrap_or_default();
        (out, report)
    }

    fn bsp(&self) -> String {
        self.dir.join("bsp.cf").display().to_string()
    }

    /// Every recorded call: the program's name and its arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        read(&self.dir.join("calls.log"))
            .lines()
            .map(|l| {
                l.trim_end_matches('\u{1f}')
                    .split('\u{1f}')
                    .map(String::from)
                    .collect()
            })
            .collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut p = std::fs::metadata(path).unwrap().permissions();
    p.set_mode(0o755);
    std::fs::set_permissions(path, p).unwrap();
}

/// The command lines the kit must issue for one base (tb-1c-kit.sh header).
fn expected_calls(fake: &Fake, base: &str, source: &str, variant: &str) -> Vec<Vec<String>> {
    let work = fake.dir.join("work").join(base);
    let ib = work.join("ib").display().to_string();
    let log = |n: u32, id: &str| {
        work.join(format!("logs/{n:02}-{id}.log"))
            .display()
            .to_string()
    };
    let result = |n: u32, id: &str| {
        work.join(format!("logs/{n:02}-{id}.result"))
            .display()
            .to_string()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let designer = |n: u32, id: &str, args: &[&str]| {
        let mut c = s(&[
            "1cv8",
            "DESIGNER",
            "/F",
            &ib,
            "/DisableStartupDialogs",
            "/DisableStartupMessages",
        ]);
        c.extend(s(args));
        c.extend([
            "/Out".to_string(),
            log(n, id),
            "/DumpResult".to_string(),
            result(n, id),
        ]);
        c
    };
    let load = if source.ends_with(".cf") {
        designer(2, "load-cf", &["/LoadCfg", source])
    } else {
        designer(2, "load-config", &["/LoadConfigFromFiles", source])
    };
    let ext = fake
        .dir
        .join(format!("dist/TelephonyBridge-extension-{variant}"))
        .display()
        .to_string();
    let config = work.join("config").display().to_string();
    let db = format!("--db-path={ib}");
    vec![
        s(&[
            "1cv8",
            "CREATEINFOBASE",
            &format!("File=\"{ib}\""),
            "/Out",
            &log(1, "create"),
            "/DisableStartupDialogs",
        ]),
        load,
        designer(3, "update-config", &["/UpdateDBCfg"]),
        designer(4, "dump-config", &["/DumpConfigToFiles", &config]),
        designer(
            6,
            "load-extension",
            &[
                "/LoadConfigFromFiles",
                &ext,
                "-Extension",
                "TelephonyBridge",
            ],
        ),
        designer(
            7,
            "update-extension",
            &["/UpdateDBCfg", "-Extension", "TelephonyBridge"],
        ),
        s(&[
            "ibcmd",
            "infobase",
            "config",
            "extension",
            "update",
            &db,
            "--name=TelephonyBridge",
            "--safe-mode=no",
        ]),
        s(&[
            "ibcmd",
            "infobase",
            "config",
            "extension",
            "info",
            &db,
            "--name=TelephonyBridge",
        ]),
        designer(
            10,
            "check-apply",
            &[
                "/CheckCanApplyConfigurationExtensions",
                "-Extension",
                "TelephonyBridge",
            ],
        ),
        designer(
            11,
            "check-modules",
            &[
                "/CheckModules",
                "-ThinClient",
                "-Server",
                "-ExternalConnection",
                "-Extension",
                "TelephonyBridge",
            ],
        ),
        designer(
            12,
            "check-config",
            &[
                "/CheckConfig",
                "-ConfigLogIntegrity",
                "-IncorrectReferences",
                "-ThinClient",
                "-Server",
                "-ExternalConnection",
                "-HandlersExistence",
                "-ExtendedModulesCheck",
                "-Extension",
                "TelephonyBridge",
            ],
        ),
    ]
}

/// The report's table: (base, step) → (code, status).
fn report_rows(report: &str) -> BTreeMap<(String, String), (String, String)> {
    report
        .lines()
        .filter(|l| l.starts_with("| bare |") || l.starts_with("| bsp |"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (
                (cells[0].to_string(), cells[1].to_string()),
                (cells[2].to_string(), cells[3].to_string()),
            )
        })
        .collect()
}

fn verdict(report: &str) -> &str {
    report
        .lines()
        .find_map(|l| l.strip_prefix("RESULT: "))
        .unwrap_or("no RESULT line")
}

#[test]
fn kit_issues_the_documented_command_lines_and_reports_success() {
    let fake = Fake::new("ok");
    let (out, report) = fake.run(&["--bsp", &fake.bsp()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}\n{report}", text(&out));
    assert_eq!(verdict(&report), "passed", "{report}");

    let bare = fake.dir.join("bare").display().to_string();
    let mut expected = expected_calls(&fake, "bare", &bare, "bare");
    expected.extend(expected_calls(&fake, "bsp", &fake.bsp(), "bsp-bpo"));
    let calls = fake.calls();
    assert_eq!(calls.len(), expected.len(), "{calls:#?}");
    for (got, want) in calls.iter().zip(&expected) {
        assert_eq!(got, want);
    }

    let rows = report_rows(&report);
    assert_eq!(rows.len(), 24, "12 steps for each base:\n{report}");
    assert!(
        rows.values()
            .all(|(code, status)| code == "0" && status.starts_with("пройден")),
        "{report}"
    );
    assert!(rows[&("bsp".into(), "variant".into())]
        .1
        .contains("по модулю приложения: bsp-bpo"));
    assert!(rows[&("bare".into(), "variant".into())]
        .1
        .contains("по модулю приложения: bare"));
    // Every step's log is where the report says.
    assert!(fake
        .dir
        .join("work/bsp/logs/11-check-modules.log")
        .is_file());
}

#[test]
fn mutation_a_failing_check_makes_the_report_fail() {
    let fake = Fake::new("fail");
    let (out, report) = fake.run(
        &["--bsp", &fake.bsp()],
        &[("FAKE_1C_FAIL", "bsp:/CheckModules:101")],
    );
    assert_eq!(out.status.code(), Some(1), "{}\n{report}", text(&out));
    assert_eq!(verdict(&report), "failed", "{report}");
    let rows = report_rows(&report);
    let (code, status) = &rows[&("bsp".into(), "check-modules".into())];
    assert_eq!(
        (code.as_str(), status.as_str()),
        ("101", "не пройден: код 101"),
        "{report}"
    );
    assert!(
        rows[&("bsp".into(), "check-config".into())]
            .1
            .starts_with("пропущен"),
        "{report}"
    );
    assert!(
        report.contains("НЕ ПРОЙДЕНА — шаг `check-modules`"),
        "{report}"
    );
    assert!(
        report.contains("Ошибка (подстроено тестом): /CheckModules"),
        "the log's tail is in the report:\n{report}"
    );
    // The other base is checked all the same.
    assert!(
        rows.iter()
            .filter(|((b, _), _)| b == "bare")
            .all(|(_, (c, _))| c == "0"),
        "{report}"
    );
}

#[test]
fn mutation_a_dump_result_other_than_zero_fails_the_step() {
    let fake = Fake::new("dumpresult");
    let (out, report) = fake.run(
        &["--bsp", &fake.bsp()],
        &[("FAKE_1C_FAIL", "bare:/CheckConfig:dumpresult")],
    );
    assert_eq!(out.status.code(), Some(1), "{}\n{report}", text(&out));
    let rows = report_rows(&report);
    assert_eq!(
        rows[&("bare".into(), "check-config".into())].1,
        "не пройден: /DumpResult = 1",
        "exit code 0 is not enough:\n{report}"
    );
}

#[test]
fn mutation_safe_mode_left_on_fails_the_check() {
    // The platform ignored the request.
    let fake = Fake::new("safemode");
    let (out, report) = fake.run(
        &["--bsp", &fake.bsp()],
        &[("FAKE_IBCMD_IGNORE_SAFE_MODE", "1")],
    );
    assert_eq!(out.status.code(), Some(1), "{}\n{report}", text(&out));
    let rows = report_rows(&report);
    assert!(
        rows[&("bare".into(), "safe-mode-check".into())]
            .1
            .contains("нет строки"),
        "{report}"
    );

    // A kit that never asks for it.
    let fake = Fake::new("safemode-kit");
    let planted = read(&fake.kit).replacen(
        "\"--name=$EXTENSION\" --safe-mode=no",
        "\"--name=$EXTENSION\"",
        1,
    );
    assert_ne!(
        planted,
        read(&fake.kit),
        "the planted line must exist in the kit"
    );
    let kit = fake.dir.join("tb-1c-kit.sh");
    std::fs::write(&kit, planted).unwrap();
    let fake = Fake {
        kit,
        dir: fake.dir.clone(),
    };
    let (out, report) = fake.run(&["--bsp", &fake.bsp()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}\n{report}", text(&out));
    assert_eq!(verdict(&report), "failed");
}

#[test]
fn without_a_bsp_base_the_run_is_incomplete() {
    let fake = Fake::new("incomplete");
    let (out, report) = fake.run(&[], &[]);
    assert_eq!(out.status.code(), Some(3), "{}\n{report}", text(&out));
    assert_eq!(verdict(&report), "incomplete", "{report}");
    assert!(report.contains("**bsp**: НЕ ПРОВЕРЯЛАСЬ"), "{report}");
}

#[test]
fn variant_comes_from_the_application_module_or_the_override() {
    let fake = Fake::new("variants");
    let detect = |module: Option<&str>| -> Result<String, String> {
        let dump = fake
            .dir
            .join(format!("dump-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dump.join("Ext")).unwrap();
        std::fs::write(dump.join("Configuration.xml"), "<MetaDataObject/>").unwrap();
        if let Some(m) = module {
            std::fs::write(dump.join("Ext/ManagedApplicationModule.bsl"), m).unwrap();
        }
        let out = Command::new("bash")
            .arg(&fake.kit)
            .arg("--detect-variant")
            .arg(&dump)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    };
    assert_eq!(detect(Some(BOTH_HANDLERS)).unwrap(), "bsp-bpo");
    assert_eq!(
        detect(Some("Процедура ПриНачалеРаботыСистемы()\nКонецПроцедуры\n")).unwrap(),
        "bsp"
    );
    assert_eq!(
        detect(Some(
            "\tПроцедура ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\nКонецПроцедуры\n"
        ))
        .unwrap(),
        "bpo"
    );
    assert_eq!(
        detect(None).unwrap(),
        "bare",
        "no application module: neither handler"
    );
    assert_eq!(
        detect(Some("// Процедура ПриНачалеРаботыСистемы()\nПроцедура ПередНачаломРаботыСистемы()\nКонецПроцедуры\n")).unwrap(),
        "bare",
        "a commented-out handler and another event are not the handler"
    );
    assert_eq!(
        detect(Some(
            "процедура приНачалеРаботыСистемы ()\nКонецПроцедуры\n"
        ))
        .unwrap(),
        "bsp",
        "1C names ignore case"
    );
    assert_eq!(
        detect(Some(
            "Асинх Процедура ПриНачалеРаботыСистемы()\nКонецПроцедуры\n"
        ))
        .unwrap(),
        "bsp"
    );
    let err = detect(Some("Procedure OnStart()\nEndProcedure\n")).unwrap_err();
    assert!(
        err.contains("английском"),
        "an English-language module is refused: {err}"
    );
    assert!(Command::new("bash")
        .arg(&fake.kit)
        .arg("--detect-variant")
        .arg(fake.dir.join("nowhere"))
        .output()
        .map(|o| !o.status.success())
        .unwrap());

    // The override wins over the module and is reported as such.
    let (out, report) = fake.run(&["--bsp", &fake.bsp(), "--variant-bsp", "bsp"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}\n{report}", text(&out));
    let rows = report_rows(&report);
    assert!(
        rows[&("bsp".into(), "variant".into())]
            .1
            .contains("задан вручную: bsp; по модулю приложения: bsp-bpo"),
        "{report}"
    );
    let load = fake
        .calls()
        .into_iter()
        .rfind(|c| {
            c.contains(&"-Extension".to_string()) && c.contains(&"/LoadConfigFromFiles".to_string())
        })
        .unwrap();
    assert!(
        load.iter()
            .any(|a| a.ends_with("TelephonyBridge-extension-bsp")),
        "{load:?}"
    );

    // A variant whose dump is not in the dist fails at the variant step, with the way out.
    std::fs::remove_dir_all(fake.dir.join("dist/TelephonyBridge-extension-bsp-bpo")).unwrap();
    let (out, report) = fake.run(&["--bsp", &fake.bsp()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}\n{report}", text(&out));
    assert!(
        report_rows(&report)[&("bsp".into(), "variant".into())]
            .1
            .starts_with("не пройден"),
        "{report}"
    );
    assert!(
        report.contains("cargo run --release -p package"),
        "{report}"
    );
}

#[test]
fn kit_refuses_wrong_arguments_with_exit_code_2() {
    let fake = Fake::new("args");
    let run = |args: &[&str]| {
        Command::new("bash")
            .arg(&fake.kit)
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(2), "no --v8");
    let v8 = fake.dir.join("bin/1cv8").display().to_string();
    let missing = fake.dir.join("missing").display().to_string();
    assert_eq!(
        run(&["--v8", &v8, "--bare", &missing]).status.code(),
        Some(2),
        "no bare dump"
    );
    assert_eq!(
        run(&[
            "--v8",
            &v8,
            "--bare",
            &fake.dir.join("bare").display().to_string(),
            "--variant-bsp",
            "erp"
        ])
        .status
        .code(),
        Some(2),
        "unknown variant"
    );
    assert_eq!(
        run(&["--v8", &v8, "--ibcmd", &missing]).status.code(),
        Some(2),
        "no ibcmd"
    );
}

// ---------------------------------------------------------------------------------------------------------
// The release workflow

/// The files a release carries; README's quick start names them.
const RELEASE_FILES: [&str; 7] = [
    "TelephonyBridge.zip",
    "TelephonyBridge-extension-bsp-bpo.zip",
    "TelephonyBridge-extension-bsp.zip",
    "TelephonyBridge-extension-bpo.zip",
    "TelephonyBridge-extension-bare.zip",
    "SHA256SUMS",
    "quick-start.md",
];

fn actionlint(workflow: &Path) -> Result<(), String> {
    let out = Command::new(tool("actionlint"))
        .arg("-no-color")
        .arg(workflow)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out))
    }
}

/// What the workflow must do besides being valid: run on `v*` tags, build with the package command, check the
/// tag against the version and attach every release file.
fn workflow_publishes_the_release(workflow: &str) -> Result<(), String> {
    let needles = [
        "tags:",
        "\"v*\"",
        "run: /usr/bin/cargo run --release -p package",
        "GITHUB_REF_NAME",
        "sha256sum",
        "softprops/action-gh-release@",
        "fail_on_unmatched_files: true",
    ];
    for n in needles {
        if !workflow.contains(n) {
            return Err(format!("release.yml lacks `{n}`"));
        }
    }
    for f in RELEASE_FILES {
        if !workflow.lines().any(|l| l.trim() == format!("release/{f}")) {
            return Err(format!("release.yml does not attach release/{f}"));
        }
    }
    Ok(())
}

#[test]
fn release_workflow_passes_actionlint_and_attaches_every_file() {
    let path = root().join(".github/workflows/release.yml");
    actionlint(&path).unwrap_or_else(|e| panic!("actionlint {}:\n{e}", path.display()));
    workflow_publishes_the_release(&read(&path)).unwrap_or_else(|e| panic!("{e}"));
    // The README's quick start tells the integrator to download these files, by name.
    let readme = read(&root().join("README.md"));
    let quick_start = readme
        .split("## Быстрый старт")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README: «## Быстрый старт»");
    for f in RELEASE_FILES {
        assert!(
            quick_start.contains(f),
            "README's quick start does not name {f}"
        );
    }
    assert!(root().join("docs/quick-start.md").is_file());
}

#[test]
fn mutation_actionlint_and_the_release_check_fail_on_planted_defects() {
    let good = read(&root().join(".github/workflows/release.yml"));
    let dir = temp_dir("actionlint");
    let workflows = dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let bad = workflows.join("release.yml");

    // A job without `runs-on`.
    let planted = good.replacen("    runs-on: ubuntu-latest\n", "", 1);
    assert_ne!(planted, good);
    std::fs::write(&bad, &planted).unwrap();
    let err = actionlint(&bad).expect_err("actionlint must refuse a job without runs-on");
    assert!(err.contains("runs-on"), "{err}");

    // An expression naming a context that does not exist.
    let planted = good.replacen("${{ env.VERSION }}", "${{ envs.VERSION }}", 1);
    std::fs::write(&bad, &planted).unwrap();
    actionlint(&bad).expect_err("actionlint must refuse an unknown context");

    // A shell error in a `run:` (actionlint runs ShellCheck on it).
    let planted = good.replacen(
        "cd release\n",
        "cd release\n          echo $UNQUOTED_$VERSION_x\n",
        1,
    );
    assert_ne!(planted, good);
    std::fs::write(&bad, &planted).unwrap();
    let err = actionlint(&bad).expect_err("actionlint must pass run: scripts through ShellCheck");
    assert!(err.contains("shellcheck"), "{err}");

    // Valid YAML that forgets a release file.
    let planted = good.replacen("            release/SHA256SUMS\n", "", 1);
    let err = workflow_publishes_the_release(&planted)
        .expect_err("a release without SHA256SUMS must fail");
    assert!(err.contains("SHA256SUMS"), "{err}");
    let planted = good.replacen(
        "run: /usr/bin/cargo run --release -p package",
        "run: /usr/bin/cargo build --release",
        1,
    );
    workflow_publishes_the_release(&planted)
        .expect_err("a release not built by the package must fail");
    std::fs::remove_dir_all(dir).ok();
}

// ---------------------------------------------------------------------------------------------------------
// The .cmd kit itself, under Wine's cmd

/// `Z:\…` — the Windows path Wine gives a Unix path.
fn wine_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// Runs scripts/1c/tb-1c-kit.cmd under Wine's cmd against the fake platform built for Windows from
/// tests/fake-1c/fake-1c.c (MinGW-w64 and Wine come from scripts/setup/30-windows.sh). Wine has no
/// PowerShell, so the variants are given with --variant-*; Wine's cmd also ignores `chcp 65001`, so only the
/// ASCII parts of its report (steps, codes, RESULT) are compared.
fn run_cmd_kit(fake: &Fake, env: &[(&str, &str)]) -> (Option<i32>, String, Vec<Vec<String>>) {
    let bin = fake.dir.join("bin-win");
    std::fs::create_dir_all(&bin).unwrap();
    if !bin.join("1cv8.exe").is_file() {
        let gcc = Command::new("x86_64-w64-mingw32-gcc")
            .arg("-O1")
            .arg("-o")
            .arg(bin.join("1cv8.exe"))
            .arg(root().join("tests/fake-1c/fake-1c.c"))
            .output()
            .unwrap_or_else(|e| {
                panic!("x86_64-w64-mingw32-gcc: {e} (scripts/setup/30-windows.sh installs it)")
            });
        assert!(
            gcc.status.success(),
            "building the fake 1cv8.exe: {}",
            text(&gcc)
        );
        std::fs::copy(bin.join("1cv8.exe"), bin.join("ibcmd.exe")).unwrap();
    }
    // One Wine prefix for these tests, created once before any of them uses it (the tests run in parallel);
    // no debugger, Mono or Gecko dialogs, as in scripts/windows/wine-run.sh.
    static PREFIX: std::sync::Once = std::sync::Once::new();
    let prefix = root().join("target/release-kit-wine");
    let overrides = "winedbg.exe=d;mscoree=d;mshtml=d";
    PREFIX.call_once(|| {
        std::fs::create_dir_all(&prefix).unwrap();
        let boot = Command::new("timeout")
            .args(["180", "wine", "wineboot", "-i"])
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", overrides)
            .output()
            .unwrap_or_else(|e| panic!("wine: {e} (scripts/setup/30-windows.sh installs it)"));
        assert!(
            prefix.join("system.reg").is_file(),
            "no Wine prefix at {}: {}",
            prefix.display(),
            text(&boot)
        );
    });
    let log = fake.dir.join("calls-cmd.log");
    let _ = std::fs::remove_file(&log);
    let w = |p: &Path| wine_path(p);
    // `timeout`: a step that hangs under Wine fails the test instead of stalling the suite.
    let mut cmd = Command::new("timeout");
    cmd.args(["300", "wine", "cmd"])
        .arg("/c")
        .arg(w(&root().join("scripts/1c/tb-1c-kit.cmd")))
        .args(["--v8", &w(&bin.join("1cv8.exe"))])
        .args(["--bare", &w(&fake.dir.join("bare"))])
        .args(["--bsp", &w(&fake.dir.join("bsp.cf"))])
        .args(["--dist", &w(&fake.dir.join("dist"))])
        .args(["--work", &w(&fake.dir.join("work-cmd"))])
        .args(["--variant-bare", "bare", "--variant-bsp", "bsp-bpo"])
        .current_dir(&fake.dir)
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", overrides)
        .env("FAKE_1C_LOG", w(&log))
        .env_remove("FAKE_1C_FAIL")
        .env_remove("FAKE_IBCMD_IGNORE_SAFE_MODE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("wine: {e} (scripts/setup/30-windows.sh installs it)"));
    let report = std::fs::read(fake.dir.join("work-cmd/report.md"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let calls = std::fs::read(&log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.trim_end_matches(['\r', '\u{1f}'])
                .split('\u{1f}')
                .map(String::from)
                .collect()
        })
        .collect();
    (out.status.code(), report, calls)
}

/// One call with the fake's dir as `<dir>`, `/` separators, the two work dirs as one, and quotes dropped
/// (the C runtime of a Windows program strips them from `File="…"`).
fn normalized(calls: &[Vec<String>], dir: &Path) -> Vec<Vec<String>> {
    let unix = dir.display().to_string();
    let windows = wine_path(dir);
    calls
        .iter()
        .map(|c| {
            c.iter()
                .map(|a| {
                    a.replace(&windows, "<dir>")
                        .replace(&unix, "<dir>")
                        .replace('\\', "/")
                        .replace("<dir>/work-cmd/", "<dir>/work/")
                        .replace('"', "")
                })
                .collect()
        })
        .collect()
}

#[test]
fn cmd_kit_under_wine_issues_the_same_calls_as_the_bash_kit() {
    let fake = Fake::new("wine");
    let (out, report) = fake.run(
        &[
            "--bsp",
            &fake.bsp(),
            "--variant-bare",
            "bare",
            "--variant-bsp",
            "bsp-bpo",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}\n{report}", text(&out));
    let bash_calls = normalized(&fake.calls(), &fake.dir);

    let (code, report, calls) = run_cmd_kit(&fake, &[]);
    assert_eq!(code, Some(0), "tb-1c-kit.cmd under Wine:\n{report}");
    assert_eq!(verdict(&report), "passed", "{report}");
    let rows = report_rows(&report);
    assert_eq!(rows.len(), 24, "{report}");
    assert!(rows.values().all(|(code, _)| code == "0"), "{report}");
    let cmd_calls = normalized(&calls, &fake.dir);
    assert_eq!(cmd_calls.len(), bash_calls.len(), "{cmd_calls:#?}");
    for (c, b) in cmd_calls.iter().zip(&bash_calls) {
        assert_eq!(c, b, "tb-1c-kit.cmd and tb-1c-kit.sh issue different calls");
    }
}

#[test]
fn mutation_cmd_kit_under_wine_reports_a_failing_step() {
    let fake = Fake::new("wine-fail");
    let (code, report, _) = run_cmd_kit(&fake, &[("FAKE_1C_FAIL", "bsp:/CheckModules:101")]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(verdict(&report), "failed", "{report}");
    let rows = report_rows(&report);
    assert_eq!(
        rows[&("bsp".into(), "check-modules".into())].0,
        "101",
        "{report}"
    );
    assert_eq!(
        rows[&("bsp".into(), "check-config".into())].0,
        "-",
        "skipped after the failure:\n{report}"
    );
    assert!(
        rows.iter()
            .filter(|((b, _), _)| b == "bare")
            .all(|(_, (c, _))| c == "0"),
        "{report}"
    );

    // /DumpResult other than 0 with exit code 0, and safe mode left on.
    let (code, report, _) = run_cmd_kit(&fake, &[("FAKE_1C_FAIL", "bare:/CheckConfig:dumpresult")]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        report_rows(&report)[&("bare".into(), "check-config".into())].0,
        "1",
        "{report}"
    );
    let (code, report, _) = run_cmd_kit(&fake, &[("FAKE_IBCMD_IGNORE_SAFE_MODE", "1")]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        report_rows(&report)[&("bare".into(), "safe-mode-check".into())].0,
        "1",
        "{report}"
    );
}
