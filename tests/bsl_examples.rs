//! Every `.bsl` file in `bsl-examples/` parses with the tree-sitter BSL grammar: no ERROR and no MISSING node.
//! A failure names the file, the line and the text, so the example can be fixed where it broke.

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
