//! The loadable configuration extension: `target/dist/TelephonyBridge-extension/` (the Designer dump of
//! `bsl-examples/extension/` with the freshly built add-in package as the common template
//! `ТБ_TelephonyBridge`) and the same tree as `target/dist/TelephonyBridge-extension.zip`.
//!
//! The source tree has no `Template.bin` on purpose: the add-in package is a build product, and a source
//! dir that lacks it fails to load instead of loading as an extension without a working add-in. This
//! writer is the only way to the loadable dump.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the add-in package goes inside the dump.
pub const TEMPLATE_BIN: &str = "CommonTemplates/ТБ_TelephonyBridge/Ext/Template.bin";
/// The directory and zip names under `target/dist`.
pub const DUMP_DIR: &str = "TelephonyBridge-extension";
pub const DUMP_ZIP: &str = "TelephonyBridge-extension.zip";
/// Files of the source tree that are notes for developers, not part of the dump.
const NOT_IN_DUMP: &[&str] = &["README.md"];

/// What `write` produced.
#[derive(Debug)]
pub struct Written {
    pub dir: PathBuf,
    pub zip: PathBuf,
    pub files: usize,
}

/// Every file of `source` (relative paths, `/`-separated, sorted), without the developer notes.
pub fn source_files(source: &Path) -> Result<Vec<String>, String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let relative = path
                    .strip_prefix(root)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(source, source, &mut files)?;
    files.retain(|f| !NOT_IN_DUMP.contains(&f.as_str()));
    files.sort();
    Ok(files)
}

/// Writes `<dist>/TelephonyBridge-extension/` and `<dist>/TelephonyBridge-extension.zip` from the source
/// dump `source` and the add-in package `addin_zip` (copied byte for byte as the template).
pub fn write(source: &Path, addin_zip: &Path, dist: &Path) -> Result<Written, String> {
    if !source.join("Configuration.xml").is_file() {
        return Err(format!(
            "{} is not an extension dump (no Configuration.xml)",
            source.display()
        ));
    }
    let mut files = source_files(source)?;
    if files.iter().any(|f| f == TEMPLATE_BIN) {
        return Err(format!(
            "{}/{TEMPLATE_BIN} must not exist in the source tree: the package writes it",
            source.display()
        ));
    }
    let package = std::fs::read(addin_zip)
        .map_err(|e| format!("cannot read {}: {e}", addin_zip.display()))?;
    if !package.starts_with(b"PK\x03\x04") {
        return Err(format!("{} is not a zip archive", addin_zip.display()));
    }

    let dir = dist.join(DUMP_DIR);
    if dir.exists() {
        // A stale dump could keep a file that was removed from the source.
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot remove the old {}: {e}", dir.display()))?;
    }
    for file in &files {
        let to = dir.join(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::copy(source.join(file), &to)
            .map_err(|e| format!("cannot copy {file} to {}: {e}", to.display()))?;
    }
    let template = dir.join(TEMPLATE_BIN);
    if let Some(parent) = template.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(&template, &package)
        .map_err(|e| format!("cannot write {}: {e}", template.display()))?;
    files.push(TEMPLATE_BIN.to_string());
    files.sort();

    let zip_path = dist.join(DUMP_ZIP);
    let out = std::fs::File::create(&zip_path)
        .map_err(|e| format!("cannot create {}: {e}", zip_path.display()))?;
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for file in &files {
        let bytes =
            std::fs::read(dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
        zip.start_file(file.as_str(), options)
            .and_then(|()| zip.write_all(&bytes).map_err(Into::into))
            .map_err(|e| format!("cannot write {file} into {}: {e}", zip_path.display()))?;
    }
    zip.finish()
        .map_err(|e| format!("cannot finish {}: {e}", zip_path.display()))?;
    Ok(Written {
        dir,
        zip: zip_path,
        files: files.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("package/ is inside the workspace")
            .to_path_buf()
    }

    /// A real package zip, written by the same `bundle` the package uses, from stand-in binaries.
    fn real_package_zip(dir: &Path) -> PathBuf {
        let lin = dir.join("lib.so");
        std::fs::write(&lin, b"\x7fELF stand-in library").unwrap();
        let target = package::TARGETS
            .iter()
            .find(|t| t.short_name == "Lin64")
            .expect("Lin64 target");
        let built = [package::Built { target, path: lin }];
        package::bundle(&workspace().join("manifest"), dir, "1.0.0", &built).unwrap()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tb-extension-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_dump_is_the_source_tree_plus_the_package_as_the_template() {
        let dir = scratch("write");
        let package = real_package_zip(&dir);
        let source = workspace().join("bsl-examples/extension");
        let written = write(&source, &package, &dir.join("dist")).unwrap();

        let package_bytes = std::fs::read(&package).unwrap();
        assert_eq!(
            std::fs::read(written.dir.join(TEMPLATE_BIN)).unwrap(),
            package_bytes,
            "Template.bin is the package, byte for byte"
        );
        let source_list = source_files(&source).unwrap();
        assert!(source_list.iter().any(|f| f == "Configuration.xml"));
        assert!(
            !written.dir.join("README.md").exists(),
            "developer notes stay out"
        );
        for file in &source_list {
            assert_eq!(
                std::fs::read(written.dir.join(file)).unwrap(),
                std::fs::read(source.join(file)).unwrap(),
                "{file} is copied unchanged"
            );
        }
        assert_eq!(written.files, source_list.len() + 1);

        // The zip holds exactly the dump, the template again byte for byte, with UTF-8 (Cyrillic) names.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&written.zip).unwrap()).unwrap();
        assert_eq!(zip.len(), written.files);
        let mut template = Vec::new();
        zip.by_name(TEMPLATE_BIN)
            .unwrap()
            .read_to_end(&mut template)
            .unwrap();
        assert_eq!(template, package_bytes);
        for file in &source_list {
            let mut bytes = Vec::new();
            zip.by_name(file).unwrap().read_to_end(&mut bytes).unwrap();
            assert_eq!(bytes, std::fs::read(source.join(file)).unwrap(), "{file}");
        }

        // A second run replaces the dump: nothing stale survives.
        std::fs::write(written.dir.join("stale.xml"), b"x").unwrap();
        let again = write(&source, &package, &dir.join("dist")).unwrap();
        assert!(!again.dir.join("stale.xml").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn it_refuses_what_would_not_be_a_working_extension() {
        let dir = scratch("refuse");
        let package = real_package_zip(&dir);
        let not_a_dump = dir.join("empty");
        std::fs::create_dir_all(&not_a_dump).unwrap();
        let err = write(&not_a_dump, &package, &dir.join("dist")).unwrap_err();
        assert!(err.contains("no Configuration.xml"), "{err}");

        let not_a_zip = dir.join("not.zip");
        std::fs::write(&not_a_zip, b"MZ").unwrap();
        let source = workspace().join("bsl-examples/extension");
        let err = write(&source, &not_a_zip, &dir.join("dist")).unwrap_err();
        assert!(err.contains("not a zip"), "{err}");

        // A placeholder Template.bin in a source tree is refused rather than shipped.
        let copy = dir.join("copy");
        std::fs::create_dir_all(copy.join("CommonTemplates/ТБ_TelephonyBridge/Ext")).unwrap();
        std::fs::copy(
            source.join("Configuration.xml"),
            copy.join("Configuration.xml"),
        )
        .unwrap();
        std::fs::write(copy.join(TEMPLATE_BIN), b"placeholder").unwrap();
        let err = write(&copy, &package, &dir.join("dist")).unwrap_err();
        assert!(err.contains("must not exist in the source tree"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
