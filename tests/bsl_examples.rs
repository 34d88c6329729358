//! Every `.bsl` file in `bsl-examples/` parses with the tree-sitter BSL grammar: no ERROR and no MISSING node.
//! A failure names the file, the line and the text, so the example can be fixed where it broke.
//!
//! The client code of the examples (methods marked `&НаКлиенте`, or every method of a module whose header
//! does not say «(Сервер)») is asynchronous: no synchronous attach/install or modal dialog, no add-in
//! method called without `Асинх`, and every `<Член>Асинх` call names a member of the add-in's own member
//! tables (both languages). Server code may call the add-in synchronously. BSL Language Server
//! (`scripts/bsl-check.sh`) checks the same files for everything else.

use std::path::Path;

fn problems(node: tree_sitter::Node<'_>, source: &str, out: &mut Vec<String>) {
    if node.is_error() || node.is_missing() {
        let line = node.start_position().row + 1;
        let text: String = source
            .lines()
            .nth(line - 1)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(120)
            .collect();
        let kind = if node.is_missing() {
            format!("MISSING {}", node.kind())
        } else {
            "ERROR".to_string()
        };
        out.push(format!("line {line}: {kind}: {text}"));
        if node.is_error() {
            return; // the children of an ERROR node only repeat it
        }
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        problems(child, source, out);
    }
}

#[test]
fn every_bsl_example_parses_without_syntax_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bsl-examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .bsl files in {}", dir.display());
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("the BSL grammar loads");
    let mut failures = Vec::new();
    for path in &files {
        let source =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let source = source.trim_start_matches('\u{feff}');
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(tree) = parser.parse(source, None) else {
            failures.push(format!("{name}: the parser gave no tree"));
            continue;
        };
        let mut found = Vec::new();
        problems(tree.root_node(), source, &mut found);
        failures.extend(found.into_iter().map(|p| format!("{name}: {p}")));
        assert!(
            source.trim_start().starts_with("//"),
            "{name}: starts with a header comment"
        );
    }
    assert!(
        failures.is_empty(),
        "syntax errors:\n{}",
        failures.join("\n")
    );
}

/// Synchronous platform calls that fail in the «Не использовать» synchronous-calls mode (or that the
/// analyzer rejects) and must not appear in client code of the examples; each has an asynchronous
/// form (`…Асинх` with `Ждать`, or `Показать…`/`Начать…` with a notification).
const SYNC_PLATFORM_CALLS: &[&str] = &[
    "ПодключитьВнешнююКомпоненту",
    "AttachAddIn",
    "УстановитьВнешнююКомпоненту",
    "InstallAddIn",
    "ЗагрузитьВнешнююКомпоненту",
    "Предупреждение",
    "DoMessageBox",
    "Вопрос",
    "DoQueryBox",
    "ОткрытьФормуМодально",
    "ВвестиЗначение",
    "ВвестиСтроку",
    "ВвестиЧисло",
    "ВвестиДату",
    "ПолучитьФорму",
];

/// Method names of the add-in (both languages), read from the member tables the add-in declares.
fn addin_method_names() -> std::collections::HashSet<String> {
    let reference = telephony_bridge::members_reference();
    let mut names = std::collections::HashSet::new();
    for line in reference.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `Рус` | `Eng` (также `Alt`) | вид | параметры |
        if cells.len() < 5 || !(cells[3] == "функция" || cells[3] == "процедура") {
            continue;
        }
        for cell in &cells[1..3] {
            for (i, part) in cell.split('`').enumerate() {
                if i % 2 == 1 {
                    names.insert(part.to_lowercase());
                }
            }
        }
    }
    names
}

/// Property names of the add-in (both languages), for `Получить<Свойство>Асинх`/`Установить<Свойство>Асинх`.
fn addin_property_names() -> std::collections::HashSet<String> {
    let reference = telephony_bridge::members_reference();
    let mut names = std::collections::HashSet::new();
    for line in reference.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || cells[3] != "свойство" {
            continue;
        }
        for cell in &cells[1..3] {
            names.insert(cell.trim_matches('`').to_lowercase());
        }
    }
    names
}

fn text<'a>(node: tree_sitter::Node<'_>, source: &'a str) -> &'a str {
    &source[node.byte_range()]
}

/// Visits every method call under `node`: (name, called on an object?, line).
fn method_calls(node: tree_sitter::Node<'_>, source: &str, out: &mut Vec<(String, bool, usize)>) {
    if node.kind() == "method_call" {
        if let Some(name) = node.child_by_field_name("name") {
            let on_object = node.parent().is_some_and(|p| p.kind() == "call_expression")
                && node.prev_sibling().is_some();
            out.push((
                text(name, source).to_string(),
                on_object,
                node.start_position().row + 1,
            ));
        }
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        method_calls(child, source, out);
    }
}

/// Every procedure and function definition, also those inside `#Область` regions.
fn definitions_in<'t>(node: tree_sitter::Node<'t>, out: &mut Vec<tree_sitter::Node<'t>>) {
    if matches!(node.kind(), "procedure_definition" | "function_definition") {
        out.push(node);
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        definitions_in(child, out);
    }
}

/// The compilation directive (`&НаКлиенте`, `&НаСервере`…) written right before a definition, lowercased;
/// comments between the directive and the definition are skipped.
fn directive_of(node: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    let mut previous = node.prev_sibling();
    while let Some(p) = previous {
        match p.kind() {
            "line_comment" => previous = p.prev_sibling(),
            "preprocessor" => {
                let t = text(p, source).trim().to_lowercase();
                return t.starts_with('&').then_some(t);
            }
            _ => return None,
        }
    }
    None
}

#[test]
fn client_code_of_the_examples_is_asynchronous_and_calls_only_existing_members() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bsl-examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bsl"))
        .collect();
    files.sort();
    let methods = addin_method_names();
    let properties = addin_property_names();
    assert!(methods.contains("диагностика") && methods.contains("publish"));
    assert!(properties.contains("уровеньжурнала"));
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("the BSL grammar loads");
    let mut failures = Vec::new();
    let mut client_methods = 0;
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let source = source.trim_start_matches('\u{feff}');
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !source.contains("ТипПодключенияВнешнейКомпоненты."),
            "{name}: ТипПодключенияВнешнейКомпоненты exists only since 8.3.21"
        );
        // A module without compilation directives runs where its header says: «(Сервер)» marks a
        // server common module, anything else (form modules, client common modules) is client code.
        let header = source.lines().next().unwrap_or_default();
        let server_module = header.contains("(Сервер)");
        let tree = parser.parse(source, None).expect("a tree");
        let mut definitions = Vec::new();
        definitions_in(tree.root_node(), &mut definitions);
        for node in definitions {
            let client = match directive_of(node, source) {
                Some(d) => d.starts_with("&наклиенте") || d.starts_with("&atclient"),
                None => !server_module,
            };
            if !client {
                continue;
            }
            client_methods += 1;
            let mut calls = Vec::new();
            method_calls(node, source, &mut calls);
            for (called, on_object, line) in calls {
                let lower = called.to_lowercase();
                if !on_object {
                    if SYNC_PLATFORM_CALLS
                        .iter()
                        .any(|s| s.to_lowercase() == lower)
                    {
                        failures.push(format!(
                            "{name}:{line}: synchronous {called} in client code"
                        ));
                    }
                    continue;
                }
                if methods.contains(&lower) {
                    failures.push(format!(
                        "{name}:{line}: add-in method {called} called synchronously in client code (use {called}Асинх)"
                    ));
                } else if let Some(base) = lower.strip_suffix("асинх") {
                    let property = base
                        .strip_prefix("установить")
                        .or_else(|| base.strip_prefix("получить"))
                        .filter(|p| properties.contains(*p));
                    if !methods.contains(base) && property.is_none() {
                        failures.push(format!(
                            "{name}:{line}: {called}: no add-in member {base} in the member tables"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        client_methods > 0,
        "no client methods found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "client code problems:\n{}",
        failures.join("\n")
    );
}
