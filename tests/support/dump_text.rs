//! Reading the extension dump's texts, and the small text helpers the dump checks share: where the dump is, a file
//! without its byte-order mark, every BSL module with a defect planted in a copy, a line without its comment (with
//! or without the text of its strings), one method's code, a copy of a dump directory. One place, so a fix here
//! reaches every check that reads the dump the same way.
#![allow(dead_code)] // each test file uses a part of this module

use std::path::{Path, PathBuf};

/// The extension's Designer dump.
pub fn dump() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bsl-examples/extension")
}

/// A text file without its byte-order mark (the Designer writes one).
pub fn read_path(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim_start_matches('\u{feff}')
        .to_string()
}

/// A file of the dump by its path relative to the dump.
pub fn read(rel: &str) -> String {
    read_path(&dump().join(rel))
}

/// Every BSL module of the dump: (path relative to the dump, text), sorted by path.
pub fn modules() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|e| e == "bsl") {
                let rel = p
                    .strip_prefix(root)
                    .expect("under the dump")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, read_path(&p)));
            }
        }
    }
    let mut out = Vec::new();
    walk(&dump(), &dump(), &mut out);
    out
}

/// The text of module `rel` among `modules`.
pub fn module<'a>(modules: &'a [(String, String)], rel: &str) -> &'a str {
    &modules
        .iter()
        .find(|(r, _)| r == rel)
        .unwrap_or_else(|| panic!("{rel} is missing"))
        .1
}

/// A copy of `modules` with `from` replaced by `to` once in `rel` (the replaced text must be there).
pub fn replaced(
    modules: &[(String, String)],
    rel: &str,
    from: &str,
    to: &str,
) -> Vec<(String, String)> {
    let mut out = modules.to_vec();
    let text = &mut out
        .iter_mut()
        .find(|(r, _)| r == rel)
        .unwrap_or_else(|| panic!("{rel} is missing"))
        .1;
    assert!(text.contains(from), "{rel}: the mutation needs `{from}`");
    *text = text.replacen(from, to, 1);
    out
}

/// A line without its comment; string literals kept (checks look at `Вычислить("…")`, JSON keys, queries).
pub fn without_comment(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = line.trim_start().starts_with('|');
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            in_string = !in_string;
        } else if !in_string && c == '/' && chars.peek() == Some(&'/') {
            break;
        }
        out.push(c);
    }
    out
}

/// A line of code without its comment and without the text of its string literals (quotes kept); a line that
/// continues a multi-line string (starts with `|`) is all string text.
pub fn code_of(line: &str) -> String {
    if line.trim_start().starts_with('|') {
        return String::new();
    }
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            in_string = !in_string;
            out.push('"');
        } else if in_string {
            continue;
        } else if c == '/' && chars.peek() == Some(&'/') {
            break;
        } else {
            out.push(c);
        }
    }
    out
}

/// A text with the contents of its string literals blanked (quotes kept), so names inside texts are not taken for
/// code.
pub fn without_strings(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    for c in text.chars() {
        if c == '"' {
            in_string = !in_string;
            out.push(c);
        } else {
            out.push(if in_string { ' ' } else { c });
        }
    }
    out
}

/// The code of one method (from its header to its end keyword), with `//` comments removed.
pub fn method(module: &str, name: &str) -> Result<String, String> {
    let start = [format!("Функция {name}("), format!("Процедура {name}(")]
        .into_iter()
        .find_map(|h| module.find(&h))
        .ok_or_else(|| format!("method {name} not found"))?;
    let rest = &module[start..];
    let end = ["КонецФункции", "КонецПроцедуры"]
        .iter()
        .filter_map(|k| rest.find(k))
        .min()
        .ok_or_else(|| format!("{name}: no end"))?;
    Ok(rest[..end]
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Copies a directory tree (a dump into a temp directory, to plant a defect in the copy).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let p = e.expect("entry").path();
        let t = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// The name of the method a code line (comment removed) opens — `Процедура`/`Функция`, also after `Асинх` — or
/// `None` when it opens none.
pub fn method_header(line: &str) -> Option<String> {
    let t = line.trim_start();
    let lower = t.to_lowercase();
    let header = [
        "процедура ",
        "функция ",
        "асинх процедура ",
        "асинх функция ",
    ]
    .iter()
    .find(|h| lower.starts_with(*h))?;
    // Lower and upper case of these keywords take as many bytes, so the offset holds in `t`.
    Some(
        t[header.len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// Whether a code line (comment removed) ends a method.
pub fn method_end(line: &str) -> bool {
    let lower = line.trim_start().to_lowercase();
    lower.starts_with("конецпроцедуры") || lower.starts_with("конецфункции")
}
