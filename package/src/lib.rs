//! The package format: which targets, how their files are named, MANIFEST.XML and INFO.XML; the loadable
//! configuration extension around the package (`extension`).

pub mod extension;

use std::io::Write;
use std::path::{Path, PathBuf};

/// How a target is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// Plain `cargo build --target <triple>` with the default toolchain.
    Cargo,
    /// A script taking `<triple> [cargo args]` (cross toolchains that need their own setup).
    Script(&'static str),
}

#[derive(Debug)]
pub struct Target {
    /// `--only` name and the platform part of the file name.
    pub short_name: &'static str,
    pub triple: &'static str,
    /// MANIFEST.XML `os` and `arch`.
    pub os: &'static str,
    pub arch: &'static str,
    /// What cargo names the library for this target.
    pub built_name: &'static str,
    pub extension: &'static str,
    pub builder: Builder,
    /// An idempotent script that installs this target's toolchain (run before the build; when
    /// it cannot install, it says exactly what is missing and the package stops).
    pub setup: Option<&'static str>,
    /// Cargo's target dir, relative to the workspace root: the one the test scripts use with the
    /// same compiler and flags, so packaging after the tests (or the tests after packaging)
    /// rebuilds nothing.
    pub target_dir: &'static str,
}

impl Target {
    /// `TelephonyBridge_Lin64_1_0_0.so`
    pub fn file_name(&self, version: &str) -> String {
        format!(
            "TelephonyBridge_{}_{}.{}",
            self.short_name,
            version.replace(['.', '-', '+'], "_"),
            self.extension
        )
    }
}

/// Every target the package carries.
///
/// Windows: the `*-win7-windows-gnu` targets run on Windows 7 and later and import only system
/// DLLs (the `*-pc-windows-gnu` ones need `bcryptprimitives.dll`, i.e. Windows 10). They are
/// built with Debian's Rust and MinGW-w64 by `scripts/windows/build.sh` (std from source).
///
/// Linux: linked by Zig (cargo-zigbuild) against the glibc 2.17 symbol set, so they load on CentOS 7
/// and every later distribution; built by `scripts/linux/build.sh` (i686: std from source, as for
/// Windows) and checked by `scripts/linux/check-so.sh` (symbol versions, linked libraries).
pub const TARGETS: &[Target] = &[
    Target {
        short_name: "Win32",
        triple: "i686-win7-windows-gnu",
        os: "Windows",
        arch: "i386",
        built_name: "telephony_bridge.dll",
        extension: "dll",
        builder: Builder::Script("scripts/windows/build.sh"),
        setup: Some("scripts/setup/30-windows.sh"),
        target_dir: "target/windows",
    },
    Target {
        short_name: "Win64",
        triple: "x86_64-win7-windows-gnu",
        os: "Windows",
        arch: "x86_64",
        built_name: "telephony_bridge.dll",
        extension: "dll",
        builder: Builder::Script("scripts/windows/build.sh"),
        setup: Some("scripts/setup/30-windows.sh"),
        target_dir: "target/windows",
    },
    Target {
        short_name: "Lin32",
        triple: "i686-unknown-linux-gnu",
        os: "Linux",
        arch: "i386",
        built_name: "libtelephony_bridge.so",
        extension: "so",
        builder: Builder::Script("scripts/linux/build.sh"),
        setup: Some("scripts/setup/40-linux.sh"),
        target_dir: "target/linux32",
    },
    Target {
        short_name: "Lin64",
        triple: "x86_64-unknown-linux-gnu",
        os: "Linux",
        arch: "x86_64",
        built_name: "libtelephony_bridge.so",
        extension: "so",
        builder: Builder::Script("scripts/linux/build.sh"),
        setup: Some("scripts/setup/40-linux.sh"),
        target_dir: "target/linux",
    },
];

/// A script run after the build to check the binary (Windows: imports and exports; Linux: glibc
/// symbol versions, linked libraries and exports).
pub fn check_script(target: &Target) -> Option<&'static str> {
    match target.extension {
        "dll" => Some("scripts/windows/check-dll.sh"),
        "so" => Some("scripts/linux/check-so.sh"),
        _ => None,
    }
}

pub struct Built<'a> {
    pub target: &'a Target,
    pub path: PathBuf,
}

fn xml_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn manifest_xml(template: &str, version: &str, built: &[Built]) -> String {
    let components: Vec<String> = built
        .iter()
        .map(|b| {
            format!(
                "  <component os=\"{}\" path=\"{}\" type=\"native\" arch=\"{}\"/>",
                xml_attr(b.target.os),
                xml_attr(&b.target.file_name(version)),
                xml_attr(b.target.arch)
            )
        })
        .collect();
    template.replace("{{components}}", &components.join("\n"))
}

pub fn info_xml(template: &str, version: &str) -> String {
    template.replace("{{version}}", &xml_attr(version))
}

/// Writes `<dist>/TelephonyBridge.zip` and returns its path.
pub fn bundle(
    manifest_dir: &Path,
    dist: &Path,
    version: &str,
    built: &[Built],
) -> Result<PathBuf, String> {
    if built.is_empty() {
        return Err("nothing was built".into());
    }
    let read = |name: &str| {
        std::fs::read_to_string(manifest_dir.join(name))
            .map_err(|e| format!("cannot read manifest/{name}: {e}"))
    };
    let manifest = manifest_xml(&read("MANIFEST.XML")?, version, built);
    let info = info_xml(&read("INFO.XML")?, version);
    std::fs::create_dir_all(dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    let zip_path = dist.join("TelephonyBridge.zip");
    let file = std::fs::File::create(&zip_path)
        .map_err(|e| format!("cannot create {}: {e}", zip_path.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), String> {
        zip.start_file(name, options)
            .and_then(|()| zip.write_all(bytes).map_err(Into::into))
            .map_err(|e| format!("cannot write {name} into the zip: {e}"))
    };
    add("MANIFEST.XML", manifest.as_bytes())?;
    add("INFO.XML", info.as_bytes())?;
    for b in built {
        let bytes =
            std::fs::read(&b.path).map_err(|e| format!("cannot read {}: {e}", b.path.display()))?;
        add(&b.target.file_name(version), &bytes)?;
    }
    zip.finish()
        .map_err(|e| format!("cannot finish the zip: {e}"))?;
    Ok(zip_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn target(short_name: &str) -> &'static Target {
        TARGETS
            .iter()
            .find(|t| t.short_name == short_name)
            .expect("known target")
    }

    #[test]
    fn file_names_carry_platform_and_version() {
        assert_eq!(
            target("Lin64").file_name("1.0.0"),
            "TelephonyBridge_Lin64_1_0_0.so"
        );
        assert_eq!(
            target("Win64").file_name("1.2.3-rc.1"),
            "TelephonyBridge_Win64_1_2_3_rc_1.dll"
        );
    }

    #[test]
    fn the_package_carries_windows_and_linux_x86_and_x64() {
        let platforms: Vec<(&str, &str)> = TARGETS.iter().map(|t| (t.os, t.arch)).collect();
        for expected in [
            ("Windows", "i386"),
            ("Windows", "x86_64"),
            ("Linux", "i386"),
            ("Linux", "x86_64"),
        ] {
            assert!(
                platforms.contains(&expected),
                "{expected:?} in {platforms:?}"
            );
        }
        for t in TARGETS.iter().filter(|t| t.os == "Windows") {
            assert!(t.triple.contains("win7"), "{}: Windows 7 support", t.triple);
            assert_eq!(check_script(t), Some("scripts/windows/check-dll.sh"));
        }
        // Every Linux binary goes through the Zig build (the glibc 2.17 floor) and its check.
        for t in TARGETS.iter().filter(|t| t.os == "Linux") {
            assert_eq!(t.builder, Builder::Script("scripts/linux/build.sh"));
            assert_eq!(check_script(t), Some("scripts/linux/check-so.sh"));
        }
        let mut dirs: Vec<(&str, &str)> =
            TARGETS.iter().map(|t| (t.target_dir, t.triple)).collect();
        dirs.sort();
        dirs.dedup();
        assert_eq!(
            dirs.len(),
            TARGETS.len(),
            "one target dir per (dir, triple)"
        );
    }

    #[test]
    fn the_zip_holds_manifest_info_and_every_binary() {
        let dir = std::env::temp_dir().join(format!("tb-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lin = dir.join("lib.so");
        let win = dir.join("lib.dll");
        let win32 = dir.join("lib32.dll");
        let lin32 = dir.join("lib32.so");
        std::fs::write(&lin, b"ELF").unwrap();
        std::fs::write(&lin32, b"ELF32").unwrap();
        std::fs::write(&win, b"MZ").unwrap();
        std::fs::write(&win32, b"MZ32").unwrap();
        let built = [
            Built {
                target: target("Lin64"),
                path: lin,
            },
            Built {
                target: target("Win64"),
                path: win,
            },
            Built {
                target: target("Win32"),
                path: win32,
            },
            Built {
                target: target("Lin32"),
                path: lin32,
            },
        ];
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest");
        let zip_path = bundle(&manifest_dir, &dir, "1.0.0", &built).unwrap();
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let mut text = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let manifest = text("MANIFEST.XML");
        assert!(manifest.contains(r#"<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle">"#));
        assert!(manifest.contains(
            r#"<component os="Linux" path="TelephonyBridge_Lin64_1_0_0.so" type="native" arch="x86_64"/>"#
        ));
        assert!(manifest.contains(
            r#"<component os="Windows" path="TelephonyBridge_Win64_1_0_0.dll" type="native" arch="x86_64"/>"#
        ));
        assert!(manifest.contains(
            r#"<component os="Windows" path="TelephonyBridge_Win32_1_0_0.dll" type="native" arch="i386"/>"#
        ));
        assert!(manifest.contains(
            r#"<component os="Linux" path="TelephonyBridge_Lin32_1_0_0.so" type="native" arch="i386"/>"#
        ));
        let info = text("INFO.XML");
        assert!(info.contains(r#"progid="AddIn.TelephonyBridge""#));
        assert!(info.contains(r#"version="1.0.0""#));
        assert_eq!(text("TelephonyBridge_Win64_1_0_0.dll"), "MZ");
        assert_eq!(text("TelephonyBridge_Lin64_1_0_0.so"), "ELF");
        assert_eq!(text("TelephonyBridge_Win32_1_0_0.dll"), "MZ32");
        assert_eq!(text("TelephonyBridge_Lin32_1_0_0.so"), "ELF32");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
