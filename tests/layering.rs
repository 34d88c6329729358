//! The map of `docs/architecture.md`, checked against the code.
//!
//! [`DIRECTION`] is the one table of which layer of `src/` may name which: every `crate::…` and `super::…` path of
//! every file under `src/` (unit tests included: a test reaching across layers is a crossing too) and every use of
//! the protocol cores is read from the source text and checked against it; the architecture page shows the same
//! table, rendered by [`direction_markdown`], and must hold it verbatim. Beside it, no production function of the
//! add-in, the cores or the packager is longer than [`MAX_FN_LINES`] lines. Each check has a mutation test that
//! plants the defect in a copy of a real file's text and sees the check fail.

use std::path::{Path, PathBuf};

/// The layers of `src/` and what each may name, top first. `root` is `src/lib.rs` (it assembles everything);
/// `cores` are the protocol crates `tb-connect`, `tb-centrifugo`, `tb-calls`, `prims` is `tb-prims`.
/// `events`, `log`, `secrets`, `spawn` and `fault` are shared: every layer but they themselves may name them
/// ([`SHARED`]); among themselves only what is listed.
const DIRECTION: &[(&str, &[&str])] = &[
    (
        "root",
        &[
            "classes",
            "native",
            "present",
            "driver",
            "transport",
            "cores",
            "prims",
        ],
    ),
    (
        "classes",
        &["native", "present", "driver", "transport", "cores", "prims"],
    ),
    ("native", &["present", "prims"]),
    ("present", &["driver", "transport", "cores", "prims"]),
    ("driver", &["transport", "cores", "prims"]),
    ("transport", &["prims"]),
    ("events", &["spawn"]),
    ("log", &["secrets", "cores", "prims"]),
    ("secrets", &["prims"]),
    ("spawn", &[]),
    ("fault", &[]),
];

/// The shared leaves: every layer that is not one of them may name them.
const SHARED: &[&str] = &["events", "log", "secrets", "spawn", "fault"];

const CORES: &[&str] = &["tb_connect", "tb_centrifugo", "tb_calls"];

/// No production function is longer than this, counted from the line of `fn` to the line of its closing brace.
const MAX_FN_LINES: usize = 80;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let Some((_, list)) = DIRECTION.iter().find(|(layer, _)| *layer == from) else {
        return false;
    };
    list.contains(&to) || (SHARED.contains(&to) && !SHARED.contains(&from))
}

fn is_layer(name: &str) -> bool {
    DIRECTION.iter().any(|(layer, _)| *layer == name) && name != "root"
}

/// The table as the architecture page shows it.
fn direction_markdown() -> String {
    let mut out = String::from("| Слой | Может называть |\n|---|---|\n");
    for (layer, list) in DIRECTION {
        let mut names: Vec<String> = list.iter().map(|n| format!("`{n}`")).collect();
        if !SHARED.contains(layer) {
            names.push("общие: `events`, `log`, `secrets`, `spawn`, `fault`".to_string());
        }
        let names = if names.is_empty() {
            "ничего".to_string()
        } else {
            names.join(", ")
        };
        out.push_str(&format!("| `{layer}` | {names} |\n"));
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Reading Rust source: comments and literals blanked, then tokens with their lines.

/// The text with comments and the contents of string and char literals replaced by spaces (line breaks kept), so
/// a path inside a doc comment or a message is never taken for code.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // A raw string: r"…", r#"…"#, br#"…"# (the b was copied as an identifier character).
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            out.push('"');
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(c[i]));
                i += 1;
            }
            out.push('"');
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{…}') or a lifetime ('a).
            let end = if next == Some('\\') {
                // The escaped character itself may be a quote ('\''), so the search starts after it.
                (i + 3..c.len()).find(|&k| c[k] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push_str("' '");
                    for _ in c[i + 1..end].iter().filter(|&&ch| ch == '\n') {
                        out.push('\n');
                    }
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

fn tokens(src: &str) -> Vec<Token> {
    let stripped = strip(src);
    let c: Vec<char> = stripped.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token {
                text: c[start..i].iter().collect(),
                line,
            });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The import-direction check.

/// The module path of a file under `src/`: `driver/worker.rs` → `[driver, worker]`, `driver/mod.rs` → `[driver]`,
/// `lib.rs` → `[]`.
fn module_path(relative: &str) -> Vec<String> {
    let trimmed = relative.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The top-level names a path starting at `tokens[at]` (just after `crate::` or the last `super::`) names: one,
/// or each first name of a `{…}` group.
fn first_names(tokens: &[Token], at: usize) -> Vec<(String, usize)> {
    match tokens.get(at) {
        Some(t) if t.text == "{" => {
            let mut names = Vec::new();
            let mut depth = 0;
            let mut expect = true;
            for t in &tokens[at..] {
                match t.text.as_str() {
                    "{" => {
                        depth += 1;
                        if depth > 1 {
                            expect = false;
                        }
                    }
                    "}" => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    "," if depth == 1 => expect = true,
                    name if expect && depth == 1 => {
                        if name != "self" {
                            names.push((name.to_string(), t.line));
                        }
                        expect = false;
                    }
                    _ => {}
                }
            }
            names
        }
        Some(t) => vec![(t.text.clone(), t.line)],
        None => Vec::new(),
    }
}

/// Every crossing of `file` (path relative to `src/`) against [`DIRECTION`], as `file:line: text`.
fn crossings(file: &str, src: &str) -> Vec<String> {
    let base = module_path(file);
    let layer = base.first().cloned().unwrap_or_else(|| "root".to_string());
    let mut found = Vec::new();
    let mut check = |to: &str, line: usize, what: &str| {
        let known = is_layer(to) || to == "cores" || to == "prims";
        if !known && layer == "root" {
            // The root's own items (its test module's `super::*`).
        } else if !known {
            found.push(format!(
                "{file}:{line}: `{what}` names `{to}`, which is no layer of the table"
            ));
        } else if !allowed(&layer, to) {
            found.push(format!(
                "{file}:{line}: `{layer}` may not name `{to}` (`{what}`)"
            ));
        }
    };
    let toks = tokens(src);
    // Inline modules (`mod tests { … }`) open at a brace depth; `super` counts from them.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let prev = if i > 0 { toks[i - 1].text.as_str() } else { "" };
        match t.text.as_str() {
            "{" => {
                if i >= 2 && toks[i - 2].text == "mod" {
                    inline.push((toks[i - 1].text.clone(), depth));
                }
                depth += 1;
            }
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "crate"
                if prev != "$"
                    && prev != "::"
                    && toks.get(i + 1).is_some_and(|n| n.text == "::") =>
            {
                for (name, line) in first_names(&toks, i + 2) {
                    check(&name, line, &format!("crate::{name}"));
                }
            }
            "super" if prev != "::" => {
                let mut path: Vec<String> = base.clone();
                path.extend(inline.iter().map(|(name, _)| name.clone()));
                let mut j = i;
                while toks.get(j).is_some_and(|s| s.text == "super")
                    && toks.get(j + 1).is_some_and(|s| s.text == "::")
                {
                    if path.pop().is_none() {
                        check("a module above the crate", t.line, "super::");
                    }
                    j += 2;
                }
                if j == i {
                    // `super` alone (`pub(super)`, `use super;`): stays within the module.
                } else if let Some(top) = path.first() {
                    check(top, t.line, "super::");
                } else {
                    for (name, line) in first_names(&toks, j) {
                        check(&name, line, &format!("super::{name}"));
                    }
                }
            }
            name if prev != "::" && toks.get(i + 1).is_some_and(|n| n.text == "::") => {
                if CORES.contains(&name) {
                    check("cores", t.line, name);
                } else if name == "tb_prims" {
                    check("prims", t.line, name);
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every file under `src/`, as (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            (relative, text)
        })
        .collect()
}

fn all_crossings(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .flat_map(|(file, text)| crossings(file, text))
        .collect()
}

#[test]
fn every_import_goes_the_documented_direction() {
    let files = sources();
    assert!(files.len() > 30, "the sources were found: {}", files.len());
    let found = all_crossings(&files);
    assert!(
        found.is_empty(),
        "imports against docs/architecture.md:\n{}",
        found.join("\n")
    );
}

/// Every module `lib.rs` declares is a layer of the table, and every layer of the table is declared.
#[test]
fn the_table_names_every_module_of_the_crate() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let toks = tokens(&lib);
    let declared: Vec<String> = toks
        .windows(3)
        .filter(|w| w[0].text == "mod" && w[2].text == ";")
        .map(|w| w[1].text.clone())
        .collect();
    let mut tabled: Vec<String> = DIRECTION
        .iter()
        .map(|(layer, _)| layer.to_string())
        .filter(|layer| layer != "root")
        .collect();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort();
    tabled.sort();
    assert_eq!(declared_sorted, tabled);
}

/// The architecture page shows the table this file checks, cell for cell.
#[test]
fn the_architecture_page_shows_the_table() {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let table = direction_markdown();
    assert!(
        page.contains(&table),
        "docs/architecture.md must hold this table verbatim:\n{table}"
    );
}

/// The text of one source file (its path below `src/`) of [`sources`], for planting a defect in a copy of it.
fn source_text(files: &[(String, String)], name: &str) -> String {
    files
        .iter()
        .find(|(file, _)| file == name)
        .map(|(_, text)| text.clone())
        .unwrap_or_else(|| panic!("{name} is read"))
}

/// Mutations: a forbidden import planted in a copy of real files is found, in each form a path can take; the
/// table's rendering changes when the table does, so the page check can fail.
#[test]
fn a_planted_crossing_is_found() {
    let files = sources();
    let text = |name: &str| source_text(&files, name);
    let worker = text("driver/worker.rs");
    let plants = [
        (
            "driver/worker.rs",
            format!("use crate::present::Text;\n{worker}"),
            "`driver` may not name `present`",
        ),
        (
            "driver/worker.rs",
            format!("use crate::{{transport, classes::Foo}};\n{worker}"),
            "`driver` may not name `classes`",
        ),
        (
            "driver/worker.rs",
            format!("{worker}\nfn f() {{ let _ = super::super::native::VERSION; }}\n"),
            "`driver` may not name `native`",
        ),
        (
            "driver/worker.rs",
            format!("{worker}\nfn f() {{ tb_calls::civil_from_days(0); }}\n"),
            "",
        ),
        (
            "transport/proxy.rs",
            format!(
                "{}\nfn f() {{ tb_centrifugo::Core::new(); }}\n",
                text("transport/proxy.rs")
            ),
            "`transport` may not name `cores`",
        ),
        (
            "events/mod.rs",
            text("events/mod.rs").replace("crate::spawn::spawn(", "crate::driver::worker::spawn("),
            "`events` may not name `driver`",
        ),
        (
            "native/component.rs",
            format!("{}\nuse crate::VERSION;\n", text("native/component.rs")),
            "no layer of the table",
        ),
        (
            "secrets.rs",
            format!(
                "{}\nfn f() {{ super::log::Level::Info; }}\n",
                text("secrets.rs")
            ),
            "`secrets` may not name `log`",
        ),
    ];
    for (file, planted, expected) in plants {
        let found = crossings(file, &planted);
        if expected.is_empty() {
            // driver may use the cores: the plant is no crossing, and the check must not say it is.
            assert!(found.is_empty(), "{file}: {found:?}");
        } else {
            assert!(
                found.iter().any(|f| f.contains(expected)),
                "{file}: planted `{expected}` not found in {found:?}"
            );
        }
    }
    // An escaped quote in a char literal does not open a literal that hides the next import.
    let quote = format!("{worker}\nconst Q: char = '\\'';\nuse crate::present::Text;\n");
    assert_eq!(crossings("driver/worker.rs", &quote).len(), 1, "{quote}");
    // Nor does a double quote in a char literal open a string.
    let quote = format!("{worker}\nconst Q: char = '\"';\nuse crate::present::Text;\n");
    assert_eq!(crossings("driver/worker.rs", &quote).len(), 1, "{quote}");
    // A path inside a comment or a string is no import.
    let quiet =
        format!("{worker}\n// crate::present::Text\nconst X: &str = \"crate::present::Text\";\n");
    assert!(crossings("driver/worker.rs", &quiet).is_empty());
    // `super` inside a file's test module stays in the file's module.
    let secrets = text("secrets.rs");
    assert!(
        secrets.contains("use super::*;"),
        "the plant below needs a test module"
    );
    assert!(crossings("secrets.rs", &secrets).is_empty());
    assert!(!direction_markdown().is_empty());
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let mutated = page.replace(
        "| `transport` | `prims`",
        "| `transport` | `prims`, `driver`",
    );
    assert_ne!(page, mutated, "the page holds the transport row");
    assert!(!mutated.contains(&direction_markdown()));
}

// ---------------------------------------------------------------------------------------------------------------
// Function length.

/// Whether the attribute starting at `tokens[at]` (`#`) marks test code: `#[test]` or a `cfg` that needs `test`.
fn test_attribute(toks: &[Token], at: usize) -> Option<usize> {
    if toks.get(at + 1).map(|t| t.text.as_str()) != Some("[") {
        return None;
    }
    let mut depth = 0;
    let mut end = at + 1;
    for (k, t) in toks.iter().enumerate().skip(at + 1) {
        match t.text.as_str() {
            "[" => depth += 1,
            "]" => {
                depth -= 1;
                if depth == 0 {
                    end = k;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner: Vec<&str> = toks[at + 2..end].iter().map(|t| t.text.as_str()).collect();
    let is_test = inner == ["test"]
        || (inner.first() == Some(&"cfg") && inner.contains(&"test") && !inner.contains(&"not"));
    is_test.then_some(end)
}

/// The index of the token closing the block opened at `open` (`{`).
fn close_of(toks: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    toks.len() - 1
}

/// The tokens of `src` without its test code: an item marked `#[test]` or `#[cfg(test)]` (a test module, a
/// test-only function) is left out whole.
fn production_tokens(src: &str) -> Vec<Token> {
    let toks = tokens(src);
    let mut kept = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if toks[i].text == "#" {
            if let Some(end) = test_attribute(&toks, i) {
                // Skip the item the attribute marks: up to its `;` or past its block.
                let mut k = end + 1;
                while k < toks.len() && toks[k].text != ";" && toks[k].text != "{" {
                    k += 1;
                }
                i = if toks.get(k).is_some_and(|t| t.text == "{") {
                    close_of(&toks, k) + 1
                } else {
                    k + 1
                };
                continue;
            }
        }
        kept.push(toks[i].clone());
        i += 1;
    }
    kept
}

/// Every production function of `src` longer than [`MAX_FN_LINES`], as `file:line: fn name: n lines`.
fn long_functions(file: &str, src: &str) -> Vec<String> {
    let toks = production_tokens(src);
    let mut found = Vec::new();
    for i in 0..toks.len() {
        let named = toks.get(i + 1).is_some_and(|t| {
            t.text
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        });
        if toks[i].text != "fn" || !named {
            continue;
        }
        let mut k = i + 2;
        let mut parens = 0i32;
        while k < toks.len() {
            match toks[k].text.as_str() {
                "(" | "[" => parens += 1,
                ")" | "]" => parens -= 1,
                "{" | ";" if parens == 0 => break,
                _ => {}
            }
            k += 1;
        }
        if toks.get(k).is_some_and(|t| t.text == "{") {
            let close = close_of(&toks, k);
            let lines = toks[close].line - toks[i].line + 1;
            if lines > MAX_FN_LINES {
                found.push(format!(
                    "{file}:{}: fn {}: {lines} lines",
                    toks[i].line,
                    toks[i + 1].text
                ));
            }
        }
    }
    found
}

/// The production sources: the add-in, the cores and the packager (tests, benches and examples are not).
fn production_sources() -> Vec<(String, String)> {
    let root = root();
    let mut dirs = vec![root.join("src"), root.join("package/src")];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .collect();
    crates.sort();
    dirs.extend(crates);
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&dir, &mut files);
    }
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn no_production_function_is_longer_than_the_limit() {
    let files = production_sources();
    assert!(
        files.iter().any(|(f, _)| f.starts_with("crates/tb-prims/"))
            && files.iter().any(|(f, _)| f.starts_with("package/src/")),
        "every tree was read"
    );
    let mut found: Vec<String> = files
        .iter()
        .flat_map(|(file, text)| long_functions(file, text))
        .collect();
    found.sort();
    assert!(
        found.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        found.join("\n")
    );
}

/// Mutation: a real function grown past the limit is found; the same growth inside a test module or a `#[test]`
/// function is not counted; a trait method without a body is no function body.
#[test]
fn a_planted_long_function_is_found() {
    let files = production_sources();
    let (file, text) = files
        .iter()
        .find(|(f, _)| f == "src/driver/http.rs")
        .expect("src/driver/http.rs is read");
    assert!(long_functions(file, text).is_empty());
    let filler = "        let _ = 0;\n".repeat(MAX_FN_LINES);
    let anchor = "    pub fn timeout(&self) -> Duration {\n";
    assert!(text.contains(anchor), "the anchor is in the file");
    let grown = text.replacen(anchor, &format!("{anchor}{filler}"), 1);
    let found = long_functions(file, &grown);
    assert!(
        found.len() == 1 && found[0].contains("fn timeout:"),
        "{found:?}"
    );
    // Exactly the limit passes, one line more fails.
    let body = |n: usize| format!("fn f() {{\n{}}}\n", "    let _ = 0;\n".repeat(n - 2));
    assert!(long_functions("x.rs", &body(MAX_FN_LINES)).is_empty());
    assert_eq!(long_functions("x.rs", &body(MAX_FN_LINES + 1)).len(), 1);
    let in_tests = format!("#[cfg(test)]\nmod tests {{\n{}}}\n", body(MAX_FN_LINES + 5));
    assert!(long_functions("x.rs", &in_tests).is_empty());
    let a_test = format!("#[test]\n{}", body(MAX_FN_LINES + 5));
    assert!(long_functions("x.rs", &a_test).is_empty());
    let declared = format!("trait T {{ fn g(&self); }}\n{}", body(10));
    assert!(long_functions("x.rs", &declared).is_empty());
    // A brace inside a string or a char is no block.
    let quoted = format!(
        "fn f() {{ let _ = \"}}\"; let _ = '}}';\n{}}}\n",
        "    let _ = 0;\n".repeat(MAX_FN_LINES)
    );
    assert_eq!(long_functions("x.rs", &quoted).len(), 1, "{quoted}");
}

// ---------------------------------------------------------------------------------------------------------------
// Threads start in `spawn`; texts are made in `present`.

/// Production code of `file` (relative to `src/`) that starts a thread anywhere but `spawn.rs`, or makes a text
/// for 1C (`AddinError::new`, `Text::new`, or either built field by field) anywhere but `present/`.
fn misplaced(file: &str, src: &str) -> Vec<String> {
    let toks = production_tokens(src);
    let mut found = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let next = |k: usize| toks.get(i + k).map(|t| t.text.as_str()).unwrap_or("");
        let prev = if i > 0 { toks[i - 1].text.as_str() } else { "" };
        if t.text == "thread"
            && next(1) == "::"
            && matches!(next(2), "spawn" | "Builder" | "scope")
            && file != "spawn.rs"
        {
            found.push(format!(
                "{file}:{}: thread::{} outside spawn.rs",
                t.line,
                next(2)
            ));
        }
        let text_type = t.text == "AddinError" || t.text == "Text";
        let built = (next(1) == "::" && next(2) == "new")
            || (next(1) == "{"
                && !matches!(prev, "struct" | "enum" | "impl" | "for")
                && matches!(next(3), ":" | "," | "}"));
        if text_type && built && !file.starts_with("present/") {
            found.push(format!(
                "{file}:{}: a {} is made outside present/",
                t.line, t.text
            ));
        }
    }
    found
}

#[test]
fn threads_start_in_spawn_and_texts_are_made_in_present() {
    let found: Vec<String> = sources()
        .iter()
        .flat_map(|(file, text)| misplaced(file, text))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Mutations: a thread started in the driver, a text written in a class, and one built field by field are found;
/// the same in a test module is not (tests start threads of their own and build texts to compare).
#[test]
fn a_planted_thread_or_text_is_found() {
    let files = sources();
    let text = |name: &str| source_text(&files, name);
    let worker = text("driver/worker.rs");
    let planted = format!("{worker}\nfn f() {{ std::thread::spawn(|| {{}}); }}\n");
    let found = misplaced("driver/worker.rs", &planted);
    assert!(
        found.iter().any(|f| f.contains("thread::spawn outside")),
        "{found:?}"
    );
    let planted = format!("{worker}\nfn f() {{ std::thread::Builder::new(); }}\n");
    assert_eq!(misplaced("driver/worker.rs", &planted).len(), 1);
    let pbx = text("classes/pbx.rs");
    let planted = format!("{pbx}\nfn f() -> AddinError {{ AddinError::new(\"x\", \"х\") }}\n");
    let found = misplaced("classes/pbx.rs", &planted);
    assert!(
        found
            .iter()
            .any(|f| f.contains("a AddinError is made outside present/")),
        "{found:?}"
    );
    let planted =
        format!("{pbx}\nfn f() -> Text {{ Text {{ en: String::new(), ru: String::new() }} }}\n");
    assert_eq!(misplaced("classes/pbx.rs", &planted).len(), 1);
    // The same text made in present/ is where it belongs.
    assert!(misplaced("present/pbx.rs", &planted).is_empty());
    let in_tests = format!(
        "{worker}\n#[cfg(test)]\nmod more {{ fn f() {{ std::thread::spawn(|| {{}}); }} }}\n"
    );
    assert!(misplaced("driver/worker.rs", &in_tests).is_empty());
}
