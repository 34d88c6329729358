//! `cargo run --release -p package`: builds the add-in for every target this machine can build
//! and writes `target/dist/TelephonyBridge.zip` — the file a 1C developer stores as the common
//! template — and the loadable configuration extension around it, one dump per kind of base (`extension.rs`).
//! Binary names carry platform and version so a 1C client never runs a stale cached build of another version.
//!
//! `package --extension-variant-for <base's Ext/ManagedApplicationModule.bsl>` builds nothing: it prints the
//! extension variant that base needs (`bsp-bpo`, `bsp`, `bare` or `bpo`), for scripts that load the extension.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use package::{bundle, check_script, extension, Built, Target, TARGETS};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("package/ is inside the workspace")
        .to_path_buf()
}

fn usage() -> &'static str {
    "usage: cargo run --release -p package [-- --only <Win32|Win64|Lin32|Lin64>...] [--debug]\n       \
     cargo run -p package -- --extension-variant-for <base's Ext/ManagedApplicationModule.bsl>"
}

/// What the command line asks for: a build (of `only` targets, or all) or an answer that ends the run.
struct Options {
    only: Vec<String>,
    release: bool,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let root = workspace_root();
    let version = env!("CARGO_PKG_VERSION");
    match build_targets(&root, &options) {
        Ok(built) => write_dist(&root, version, &built),
        Err(code) => code,
    }
}

/// The options of a build, or the exit code of a run that ends here (help, usage error, `--extension-variant-for`).
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, ExitCode> {
    let mut options = Options {
        only: Vec::new(),
        release: true,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => match args.next() {
                Some(name) => options.only.push(name),
                None => {
                    eprintln!("{}", usage());
                    return Err(ExitCode::from(2));
                }
            },
            "--debug" => options.release = false,
            "--extension-variant-for" => {
                return Err(match args.next() {
                    Some(path) => print_variant_for(Path::new(&path)),
                    None => {
                        eprintln!("{}", usage());
                        ExitCode::from(2)
                    }
                });
            }
            "-h" | "--help" => {
                println!("{}", usage());
                return Err(ExitCode::SUCCESS);
            }
            other => {
                eprintln!("unknown argument {other}\n{}", usage());
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(options)
}

/// Builds and checks every target asked for, running each toolchain's setup script once.
fn build_targets(root: &Path, options: &Options) -> Result<Vec<Built<'static>>, ExitCode> {
    let mut built = Vec::new();
    let mut setups_done: Vec<&str> = Vec::new();
    for target in TARGETS {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == target.short_name) {
            continue;
        }
        if let Some(setup) = target.setup {
            if !setups_done.contains(&setup) {
                if let Err(message) = run_script(root, setup, &[]) {
                    eprintln!(
                        "package: {} ({}): the toolchain is not ready: {message}\n\
                         package: install what {setup} names above (as root: bash {setup}), \
                         or build the other targets with --only",
                        target.short_name, target.triple
                    );
                    return Err(ExitCode::FAILURE);
                }
                setups_done.push(setup);
            }
        }
        let checked =
            build(root, target, options.release).and_then(|path| match check_script(target) {
                Some(check) => run_script(root, check, &[path.as_os_str()]).map(|()| path),
                None => Ok(path),
            });
        match checked {
            Ok(path) => built.push(Built { target, path }),
            Err(message) => {
                eprintln!(
                    "package: {} ({}): {message}",
                    target.short_name, target.triple
                );
                return Err(ExitCode::FAILURE);
            }
        }
    }
    Ok(built)
}

/// Writes the zip and the configuration extension around it into `target/dist`, and says what it wrote.
fn write_dist(root: &Path, version: &str, built: &[Built]) -> ExitCode {
    let dist = root.join("target").join("dist");
    let zip = match bundle(&root.join("manifest"), &dist, version, built) {
        Ok(zip) => zip,
        Err(e) => {
            eprintln!("package: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("package: wrote {}", zip.display());
    for b in built {
        let size = std::fs::metadata(&b.path).map(|m| m.len()).unwrap_or(0);
        println!("  {} ({} bytes)", b.target.file_name(version), size);
    }
    match extension::write(&root.join("bsl-examples").join("extension"), &zip, &dist) {
        Ok(written) => {
            for w in &written {
                println!(
                    "package: wrote {} and {} ({} files)",
                    w.dir.display(),
                    w.zip.display(),
                    w.files
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("package: the configuration extension: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--extension-variant-for`: prints the variant a base needs, from its application module.
fn print_variant_for(module: &Path) -> ExitCode {
    let text = match std::fs::read(module) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("package: cannot read {}: {e}", module.display());
            return ExitCode::FAILURE;
        }
    };
    match extension::variant_for(&text) {
        Ok(variant) => {
            println!("{}", variant.name());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("package: {}: {e}", module.display());
            ExitCode::FAILURE
        }
    }
}

/// Runs `bash <root>/<script> <args>` in the workspace root.
fn run_script(root: &Path, script: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let status = Command::new("bash")
        .current_dir(root)
        .arg(root.join(script))
        .args(args)
        .status()
        .map_err(|e| format!("cannot start {script}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{script} failed ({status})"))
    }
}

/// Builds one target and returns the path of its library.
fn build(root: &Path, target: &Target, release: bool) -> Result<PathBuf, String> {
    let profile = if release { "release" } else { "debug" };
    // The target's own dir (Target::target_dir, shared with the test scripts), never target/
    // itself: the outer `cargo run` may still hold the lock on it.
    let target_dir = root.join(target.target_dir);
    let status = match target.builder {
        package::Builder::Cargo => {
            let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            cmd.current_dir(root)
                .args([
                    "build",
                    "-p",
                    "telephony-bridge",
                    "--lib",
                    "--target",
                    target.triple,
                ])
                .arg("--target-dir")
                .arg(&target_dir);
            if release {
                cmd.arg("--release");
            }
            cmd.status()
        }
        package::Builder::Script(script) => {
            let mut cmd = Command::new("bash");
            cmd.current_dir(root)
                .arg(root.join(script))
                .arg(target.triple)
                .args(["-p", "telephony-bridge", "--lib"])
                .arg("--target-dir")
                .arg(&target_dir);
            if release {
                cmd.arg("--release");
            }
            cmd.status()
        }
    }
    .map_err(|e| format!("cannot start the build: {e}"))?;
    if !status.success() {
        return Err(format!("the build failed ({status})"));
    }
    let path = target_dir
        .join(target.triple)
        .join(profile)
        .join(target.built_name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("the build left no {}", path.display()))
    }
}
