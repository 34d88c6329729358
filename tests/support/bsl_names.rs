//! What a BSL module defines and uses, read with the tree-sitter BSL grammar, and the checks built on it
//! (issue 15, item 2): the extension's application module against a base configuration, and «every identifier a
//! module uses resolves». Shared by `tests/extension_checks.rs` and any test that needs the same facts.
//!
//! A base configuration (`Base`) is either a Designer dump (a directory with `Configuration.xml`; its application
//! module and common modules are read from the dump) or a facts file `base.txt` in our own format (see
//! `tests/fixtures/bases/bsp/base.txt`). BSL names are case-insensitive: every comparison goes through [`key`].
#![allow(dead_code)] // each test file uses a part of this module

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// BSL identifiers compare case-insensitively.
pub fn key(name: &str) -> String {
    name.to_lowercase()
}

pub fn read_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim_start_matches('\u{feff}').to_string()
}

/// `&После("X")` → name `После`, target `X`.
#[derive(Debug, Clone)]
pub struct Annotation {
    pub name: String,
    pub target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    pub export: bool,
    pub function: bool,
    pub annotations: Vec<Annotation>,
    pub params: Vec<String>,
    /// Keys of every name the method declares: parameters, `Перем`, assigned names, loop variables.
    pub locals: BTreeSet<String>,
    pub line: usize,
    /// The statements of the body, in order: (kind, line, source text).
    pub statements: Vec<(String, usize, String)>,
}

impl Method {
    pub fn annotated(&self, name: &str) -> bool {
        self.annotations.iter().any(|a| key(&a.name) == key(name))
    }
}

/// One identifier the module reads or calls without a qualifier.
#[derive(Debug, Clone)]
pub struct Use {
    pub name: String,
    pub line: usize,
    /// Index into `Module::methods`; `None` for the module body.
    pub method: Option<usize>,
    pub call: bool,
    /// `X.Y`: the member Y read or called on X.
    pub member: Option<String>,
    /// Inside a branch taken only when a БСП-presence check passed.
    pub guarded: bool,
}

/// A constant string a method evaluates by name: `Вычислить("X")`, `Выполнить("X…")`.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub text: String,
    pub line: usize,
    pub method: Option<usize>,
    pub guarded: bool,
}

/// A call of a method of this module without a qualifier, with whether a presence check guards it.
#[derive(Debug, Clone)]
pub struct LocalCall {
    pub callee: String,
    pub line: usize,
    pub method: Option<usize>,
    pub guarded: bool,
}

/// A string that names a method: `Новый ОписаниеОповещения("X", Модуль)`, `ПодключитьОбработчикОжидания("X", …)`.
#[derive(Debug, Clone)]
pub struct NamedHandler {
    pub how: String,
    pub name: String,
    /// The second argument of ОписаниеОповещения as written (`ЭтотОбъект`, a module name), if any.
    pub owner: Option<String>,
    pub line: usize,
    pub method: Option<usize>,
}

#[derive(Debug, Default, Clone)]
pub struct Module {
    pub methods: Vec<Method>,
    /// Module variables: (name, exported).
    pub vars: Vec<(String, bool)>,
    pub uses: Vec<Use>,
    pub evaluated: Vec<Evaluated>,
    pub local_calls: Vec<LocalCall>,
    pub handlers: Vec<NamedHandler>,
    /// Syntax errors (ERROR / MISSING nodes): a module with any is not checked further.
    pub syntax_errors: Vec<String>,
    /// Keys of the module's functions whose body asks the metadata whether a БСП object exists.
    pub presence_functions: BTreeSet<String>,
}

impl Module {
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| key(&m.name) == key(name))
    }
    pub fn defines(&self, name: &str) -> bool {
        let k = key(name);
        self.methods.iter().any(|m| key(&m.name) == k) || self.vars.iter().any(|(v, _)| key(v) == k)
    }
}

fn parser() -> tree_sitter::Parser {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("the BSL grammar loads");
    parser
}

fn text<'a>(node: tree_sitter::Node<'_>, src: &'a str) -> &'a str {
    &src[node.byte_range()]
}

fn line(node: tree_sitter::Node<'_>) -> usize {
    node.start_position().row + 1
}

fn children(node: tree_sitter::Node<'_>) -> Vec<tree_sitter::Node<'_>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

fn syntax_errors(node: tree_sitter::Node<'_>, src: &str, out: &mut Vec<String>) {
    if node.is_error() || node.is_missing() {
        let l = line(node);
        let t: String = src
            .lines()
            .nth(l - 1)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect();
        out.push(format!("line {l}: syntax error: {t}"));
        return;
    }
    for c in children(node) {
        syntax_errors(c, src, out);
    }
}

/// The text of a string literal node (`string` → its `string_content`), multi-line strings joined.
fn string_value(node: tree_sitter::Node<'_>, src: &str) -> Option<String> {
    let mut n = node;
    loop {
        match n.kind() {
            "string" => {
                let t = text(n, src);
                return Some(t.trim_matches('"').to_string());
            }
            "expression" | "const_expression" => {
                let cs: Vec<_> = children(n).into_iter().filter(|c| c.is_named()).collect();
                if cs.len() != 1 {
                    return None;
                }
                n = cs[0];
            }
            _ => return None,
        }
    }
}

/// Texts that make a condition a БСП-presence check: asking the metadata whether an object exists.
const PRESENCE_MARKERS: [&str; 3] = [
    "метаданные.общиемодули.найти(",
    "метаданные.найтипополномуимени(",
    "метаданные.подсистемы.найти(",
];

fn has_presence_marker(text: &str) -> bool {
    let t: String = key(text).chars().filter(|c| !c.is_whitespace()).collect();
    PRESENCE_MARKERS.iter().any(|m| t.contains(m))
}

struct Walker<'s> {
    src: &'s str,
    /// Keys of the module's functions whose body asks the metadata whether a БСП object exists.
    presence_functions: BTreeSet<String>,
    /// Keys `модуль.функция` of presence functions of other modules (see [`CommonModule::presence_functions`]).
    qualified_presence: &'s BTreeSet<String>,
    module: Module,
}

impl<'s> Walker<'s> {
    fn is_presence_condition(&self, cond: tree_sitter::Node<'_>) -> bool {
        if has_presence_marker(text(cond, self.src)) {
            return true;
        }
        let folded: String = key(text(cond, self.src))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if self
            .qualified_presence
            .iter()
            .any(|q| folded.contains(&format!("{q}(")))
        {
            return true;
        }
        let mut calls = Vec::new();
        collect_kind(cond, "method_call", &mut calls);
        calls.iter().any(|c| {
            c.child_by_field_name("name")
                .is_some_and(|n| self.presence_functions.contains(&key(text(n, self.src))))
        })
    }

    /// Walks a list of sibling statements; `Если Не <проверка> Тогда Возврат` guards the statements after it.
    fn statements(
        &mut self,
        nodes: &[tree_sitter::Node<'_>],
        method: Option<usize>,
        guarded: bool,
    ) {
        let mut guarded = guarded;
        for &n in nodes {
            self.node(n, method, guarded);
            if n.kind() == "if_statement" {
                let cs = children(n);
                if let Some(cond) = cs.iter().find(|c| c.kind() == "expression") {
                    let t = key(text(*cond, self.src));
                    let negated =
                        t.trim_start().starts_with("не ") || t.trim_start().starts_with("not ");
                    let returns = cs.iter().any(|c| c.kind() == "return_statement");
                    if negated && returns && self.is_presence_condition(*cond) {
                        guarded = true;
                    }
                }
            }
        }
    }

    fn node(&mut self, n: tree_sitter::Node<'_>, method: Option<usize>, guarded: bool) {
        match n.kind() {
            "procedure_definition" | "function_definition" => self.method(n),
            "line_comment" | "annotation" | "string" | "number" | "date" | "label_statement"
            | "goto_statement" => {}
            "preprocessor" => {
                // `#Если Сервер Тогда` names run contexts, `#Область X` a region: neither is a use.
                let cs: Vec<_> = children(n)
                    .into_iter()
                    .filter(|c| c.kind() != "expression" && c.kind() != "identifier")
                    .collect();
                self.statements(&cs, method, guarded);
            }
            "var_definition" => {
                // `Перем А Экспорт;`: with one variable the grammar puts Экспорт on the definition itself.
                let all_export = n.child_by_field_name("export").is_some()
                    || children(n).iter().any(|c| c.kind() == "EXPORT_KEYWORD");
                for spec in children(n)
                    .into_iter()
                    .filter(|c| c.kind() == "variable_spec")
                {
                    if let Some(name) = spec.child_by_field_name("name") {
                        let export = all_export
                            || children(spec).iter().any(|c| c.kind() == "EXPORT_KEYWORD");
                        self.module
                            .vars
                            .push((text(name, self.src).to_string(), export));
                    }
                }
            }
            "var_statement" => {
                for c in children(n).into_iter().filter(|c| c.kind() == "identifier") {
                    self.declare(method, text(c, self.src));
                }
            }
            "assignment_statement" => {
                let cs = children(n);
                if let Some(left) = n.child_by_field_name("left") {
                    if left.kind() == "identifier" {
                        self.declare(method, text(left, self.src));
                    } else {
                        self.node(left, method, guarded);
                    }
                }
                for c in cs.into_iter().skip(1) {
                    self.node(c, method, guarded);
                }
            }
            "for_each_statement" | "for_statement" => {
                let cs = children(n);
                for c in &cs {
                    if c.kind() == "identifier" {
                        self.declare(method, text(*c, self.src));
                    }
                }
                if n.kind() == "for_statement" {
                    // `Для И = 1 По N`: the grammar may wrap the variable in an assignment.
                    for c in &cs {
                        if c.kind() == "assignment_statement" {
                            if let Some(left) = c.child_by_field_name("left") {
                                self.declare(method, text(left, self.src));
                            }
                        }
                    }
                }
                let rest: Vec<_> = cs
                    .into_iter()
                    .filter(|c| c.kind() != "identifier")
                    .collect();
                self.statements(&rest, method, guarded);
            }
            "if_statement" => {
                let cs = children(n);
                let mut branch_guarded = guarded;
                for c in &cs {
                    match c.kind() {
                        "expression" => {
                            self.node(*c, method, guarded);
                            branch_guarded = guarded || self.is_presence_condition(*c);
                        }
                        "elseif_clause" => {
                            let inner = children(*c);
                            let cond = inner.iter().find(|x| x.kind() == "expression").copied();
                            let g = guarded || cond.is_some_and(|x| self.is_presence_condition(x));
                            for x in inner {
                                if Some(x) == cond {
                                    self.node(x, method, guarded);
                                } else {
                                    self.node(x, method, g);
                                }
                            }
                        }
                        "else_clause" => self.node(*c, method, guarded),
                        _ => self.node(*c, method, branch_guarded),
                    }
                }
            }
            "else_clause"
            | "try_statement"
            | "while_statement"
            | "call_statement"
            | "return_statement"
            | "rise_error_statement"
            | "await_statement"
            | "await_expression"
            | "parenthesized_expression"
            | "binary_expression"
            | "unary_expression"
            | "ternary_expression"
            | "arguments"
            | "index"
            | "add_handler_statement"
            | "remove_handler_statement"
            | "source_file" => {
                let cs = children(n);
                self.statements(&cs, method, guarded);
            }
            "execute_statement" => {
                for c in children(n) {
                    if let Some(s) = string_value(c, self.src) {
                        self.module.evaluated.push(Evaluated {
                            text: s,
                            line: line(n),
                            method,
                            guarded,
                        });
                    }
                    self.node(c, method, guarded);
                }
            }
            "expression" => {
                for c in children(n) {
                    if c.kind() == "identifier" {
                        self.use_(c, method, guarded, false, None);
                    } else {
                        self.node(c, method, guarded);
                    }
                }
            }
            "new_expression" => {
                // The type is a platform type name, not a value; `ОписаниеОповещения("X", Владелец)` names a method.
                let type_name = n
                    .child_by_field_name("type")
                    .map(|t| key(text(t, self.src)));
                if let Some(args) = n.child_by_field_name("arguments") {
                    if matches!(
                        type_name.as_deref(),
                        Some("описаниеоповещения") | Some("notifydescription")
                    ) {
                        let exprs: Vec<_> = children(args)
                            .into_iter()
                            .filter(|c| c.kind() == "expression")
                            .collect();
                        if let Some(name) = exprs.first().and_then(|e| string_value(*e, self.src)) {
                            let owner = exprs.get(1).map(|e| text(*e, self.src).trim().to_string());
                            self.module.handlers.push(NamedHandler {
                                how: "Новый ОписаниеОповещения".into(),
                                name,
                                owner,
                                line: line(n),
                                method,
                            });
                        }
                    }
                    self.node(args, method, guarded);
                }
            }
            "new_expression_method" | "call_expression" | "access" | "property_access" => {
                let cs = children(n);
                for (i, c) in cs.iter().enumerate() {
                    match c.kind() {
                        "identifier" if i == 0 => {
                            let member = member_after(n, self.src);
                            self.use_(*c, method, guarded, false, member);
                        }
                        "property" | "." | "[" | "]" => {}
                        _ => self.node(*c, method, guarded),
                    }
                }
            }
            "method_call" => {
                let qualified = n.prev_sibling().is_some_and(|p| p.kind() == ".");
                let name = n
                    .child_by_field_name("name")
                    .map(|x| text(x, self.src).to_string());
                // `ФоновыеЗадания.Выполнить("Модуль.Метод", …)` names an exported method of a server common module.
                if let (true, Some(name)) = (qualified, &name) {
                    let on_jobs = n
                        .prev_sibling()
                        .and_then(|dot| dot.prev_sibling())
                        .is_some_and(|q| {
                            matches!(
                                key(text(q, self.src).trim()).as_str(),
                                "фоновыезадания" | "backgroundjobs"
                            )
                        });
                    if on_jobs && matches!(key(name).as_str(), "выполнить" | "execute") {
                        let first = n
                            .child_by_field_name("arguments")
                            .and_then(|a| {
                                children(a).into_iter().find(|c| c.kind() == "expression")
                            })
                            .and_then(|e| string_value(e, self.src));
                        if let Some((module, method_name)) =
                            first.as_deref().and_then(|s| s.split_once('.'))
                        {
                            self.module.handlers.push(NamedHandler {
                                how: "ФоновыеЗадания.Выполнить".into(),
                                name: method_name.to_string(),
                                owner: Some(module.to_string()),
                                line: line(n),
                                method,
                            });
                        }
                    }
                }
                if let (false, Some(name)) = (qualified, &name) {
                    let k = key(name);
                    let args = n.child_by_field_name("arguments");
                    let first = args
                        .and_then(|a| children(a).into_iter().find(|c| c.kind() == "expression"));
                    let first_string = first.and_then(|e| string_value(e, self.src));
                    if k == "вычислить" || k == "eval" || k == "выполнить" || k == "execute"
                    {
                        if let Some(s) = &first_string {
                            self.module.evaluated.push(Evaluated {
                                text: s.clone(),
                                line: line(n),
                                method,
                                guarded,
                            });
                        }
                    }
                    if k == "подключитьобработчикожидания" || k == "attachidlehandler"
                    {
                        if let Some(s) = &first_string {
                            self.module.handlers.push(NamedHandler {
                                how: "ПодключитьОбработчикОжидания".into(),
                                name: s.clone(),
                                owner: None,
                                line: line(n),
                                method,
                            });
                        }
                    }
                    self.module.local_calls.push(LocalCall {
                        callee: name.clone(),
                        line: line(n),
                        method,
                        guarded,
                    });
                    if let Some(id) = n.child_by_field_name("name") {
                        self.use_(id, method, guarded, true, None);
                    }
                }
                if let Some(args) = n.child_by_field_name("arguments") {
                    self.node(args, method, guarded);
                }
            }
            "identifier" => self.use_(n, method, guarded, false, None),
            _ => {
                let cs = children(n);
                self.statements(&cs, method, guarded);
            }
        }
    }

    fn declare(&mut self, method: Option<usize>, name: &str) {
        if let Some(i) = method {
            self.module.methods[i].locals.insert(key(name));
        } else {
            // An assignment in the module body (rare) declares a module variable.
            self.module.vars.push((name.to_string(), false));
        }
    }

    fn use_(
        &mut self,
        id: tree_sitter::Node<'_>,
        method: Option<usize>,
        guarded: bool,
        call: bool,
        member: Option<String>,
    ) {
        self.module.uses.push(Use {
            name: text(id, self.src).to_string(),
            line: line(id),
            method,
            call,
            member,
            guarded,
        });
    }

    fn method(&mut self, n: tree_sitter::Node<'_>) {
        let src = self.src;
        let name = n
            .child_by_field_name("name")
            .map(|x| text(x, src).to_string())
            .unwrap_or_default();
        let export = n.child_by_field_name("export").is_some();
        let mut params = Vec::new();
        if let Some(ps) = n.child_by_field_name("parameters") {
            for p in children(ps).into_iter().filter(|c| c.kind() == "parameter") {
                if let Some(pn) = p.child_by_field_name("name") {
                    params.push(text(pn, src).to_string());
                }
            }
        }
        // Annotations are the `preprocessor` siblings right before the definition.
        let mut annotations = Vec::new();
        let mut prev = n.prev_named_sibling();
        while let Some(p) = prev {
            if p.kind() != "preprocessor" {
                break;
            }
            let cs = children(p);
            let Some(a) = cs.iter().find(|c| c.kind() == "annotation") else {
                break;
            };
            let target = cs
                .iter()
                .find(|c| c.kind() == "string")
                .map(|s| text(*s, src).trim_matches('"').to_string());
            annotations.insert(
                0,
                Annotation {
                    name: text(*a, src).trim_start_matches('&').to_string(),
                    target,
                },
            );
            prev = p.prev_named_sibling();
        }
        let body: Vec<_> = children(n)
            .into_iter()
            .filter(|c| {
                c.is_named()
                    && !matches!(c.kind(), "identifier" | "parameters" | "line_comment")
                    && !c.kind().ends_with("_KEYWORD")
            })
            .collect();
        let statements = body
            .iter()
            .map(|c| (c.kind().to_string(), line(*c), text(*c, src).to_string()))
            .collect();
        let locals = params.iter().map(|p| key(p)).collect();
        self.module.methods.push(Method {
            name,
            export,
            function: n.kind() == "function_definition",
            annotations,
            params,
            locals,
            line: line(n),
            statements,
        });
        let index = self.module.methods.len() - 1;
        self.statements(&body, Some(index), false);
    }
}

/// `X.Y…`: the name Y right after the identifier X that starts `access` node `n`.
fn member_after(n: tree_sitter::Node<'_>, src: &str) -> Option<String> {
    let mut node = n;
    loop {
        // In `call_expression [access X] . method_call`, the member follows the access node.
        let mut sib = node.next_sibling();
        if sib.is_some_and(|s| s.kind() == ".") {
            sib = sib.and_then(|s| s.next_sibling());
            return sib.map(|s| match s.kind() {
                "method_call" => s
                    .child_by_field_name("name")
                    .map(|x| text(x, src).to_string())
                    .unwrap_or_default(),
                _ => text(s, src).to_string(),
            });
        }
        if sib.is_some() {
            return None; // an index `X[...]`
        }
        let parent = node.parent()?;
        if !matches!(
            parent.kind(),
            "access" | "call_expression" | "property_access"
        ) {
            return None;
        }
        node = parent;
    }
}

fn collect_kind<'t>(n: tree_sitter::Node<'t>, kind: &str, out: &mut Vec<tree_sitter::Node<'t>>) {
    if n.kind() == kind {
        out.push(n);
    }
    for c in children(n) {
        collect_kind(c, kind, out);
    }
}

/// Reads a module's text into what it defines and uses.
pub fn parse_module(src: &str) -> Module {
    parse_module_with(src, &BTreeSet::new())
}

/// [`parse_module`], where a call of any `модуль.функция` of `qualified_presence` (keys) in a condition also counts
/// as a БСП-presence check (see [`presence_calls`]).
pub fn parse_module_with(src: &str, qualified_presence: &BTreeSet<String>) -> Module {
    let src = src.trim_start_matches('\u{feff}');
    let tree = parser().parse(src, None).expect("the parser gives a tree");
    let root = tree.root_node();
    let mut errors = Vec::new();
    syntax_errors(root, src, &mut errors);
    // Pass 1: which functions of the module are БСП-presence checks.
    let mut defs = Vec::new();
    collect_kind(root, "function_definition", &mut defs);
    let presence_functions: BTreeSet<String> = defs
        .iter()
        .filter(|d| has_presence_marker(text(**d, src)))
        .filter_map(|d| d.child_by_field_name("name").map(|n| key(text(n, src))))
        .collect();
    let mut walker = Walker {
        src,
        presence_functions: presence_functions.clone(),
        qualified_presence,
        module: Module::default(),
    };
    walker.node(root, None, false);
    let mut module = walker.module;
    module.syntax_errors = errors;
    module.presence_functions = presence_functions;
    module
}

// ---------------------------------------------------------------------------------------------------------------
// Base configurations

/// A common module: its name, flags and (when known) exported methods.
#[derive(Debug, Clone, Default)]
pub struct CommonModule {
    pub name: String,
    pub global: bool,
    pub client: bool,
    pub server: bool,
    pub external_connection: bool,
    pub server_call: bool,
    pub privileged: bool,
    pub exports: BTreeSet<String>,
    /// Keys of exported functions whose body asks the metadata whether a БСП object exists: a call of one of them
    /// (`Модуль.Функция()`) in a condition is a БСП-presence check in every module that can call it — this is how a
    /// client learns from the server that БСП is there.
    pub presence_functions: BTreeSet<String>,
}

/// What a base configuration defines that an extension can clash with or depend on.
#[derive(Debug, Clone, Default)]
pub struct Base {
    pub name: String,
    pub app_methods: BTreeSet<String>,
    pub app_variables: BTreeSet<String>,
    pub modules: BTreeMap<String, CommonModule>,
}

impl Base {
    /// Loads `dir/base.txt` (our facts format) or a Designer dump (`dir/Configuration.xml`).
    pub fn load(dir: &Path) -> Base {
        let mut base = Base {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ..Base::default()
        };
        if dir.join("base.txt").exists() {
            base.read_facts(&dir.join("base.txt"));
        } else if dir.join("Configuration.xml").exists() {
            base.read_dump(dir);
        } else {
            panic!("{}: neither base.txt nor Configuration.xml", dir.display());
        }
        base
    }

    fn read_facts(&mut self, path: &Path) {
        let mut current: Option<String> = None;
        for (i, raw) in read_text(path).lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = || format!("{}:{}", path.display(), i + 1);
            match words.as_slice() {
                ["include", rel] => {
                    let p = path.parent().expect("a directory").join(rel);
                    self.read_facts(&p);
                }
                ["app-method", name] => {
                    self.app_methods.insert(key(name));
                }
                ["app-variable", name] => {
                    self.app_variables.insert(key(name));
                }
                ["module", name, flags] => {
                    let mut m = CommonModule {
                        name: name.to_string(),
                        ..CommonModule::default()
                    };
                    for f in flags.split(',').filter(|f| *f != "-") {
                        match f {
                            "global" => m.global = true,
                            "client" => m.client = true,
                            "server" => m.server = true,
                            "external-connection" => m.external_connection = true,
                            "server-call" => m.server_call = true,
                            "privileged" => m.privileged = true,
                            other => panic!("{}: unknown flag {other}", at()),
                        }
                    }
                    current = Some(key(name));
                    self.modules.insert(key(name), m);
                }
                ["export", name] if raw.starts_with(' ') => {
                    let m = current
                        .as_ref()
                        .unwrap_or_else(|| panic!("{}: export outside a module", at()));
                    self.modules
                        .get_mut(m)
                        .expect("the module")
                        .exports
                        .insert(key(name));
                }
                _ => panic!("{}: cannot read `{l}`", at()),
            }
        }
    }

    fn read_dump(&mut self, dir: &Path) {
        let app = dir.join("Ext/ManagedApplicationModule.bsl");
        if app.exists() {
            let module = parse_module(&read_text(&app));
            self.app_methods
                .extend(module.methods.iter().map(|m| key(&m.name)));
            self.app_variables
                .extend(module.vars.iter().filter(|(_, e)| *e).map(|(v, _)| key(v)));
        }
        for m in common_modules(dir) {
            self.modules.insert(key(&m.name), m);
        }
    }

    /// Is this a name the base adds to the global context (a common module, an exported variable of its
    /// application module, an exported method of a global module)?
    pub fn global_name(&self, name: &str) -> bool {
        let k = key(name);
        self.modules.contains_key(&k)
            || self.app_variables.contains(&k)
            || self
                .modules
                .values()
                .any(|m| m.global && m.exports.contains(&k))
    }
}

fn flag(xml: &str, name: &str) -> bool {
    xml.contains(&format!("<{name}>true</{name}>"))
}

/// The common modules of a dump: flags from `CommonModules/<name>.xml`, exports from its `Ext/Module.bsl`.
/// Keys `модуль.функция` of every presence function of the extension's common modules, for [`parse_module_with`].
pub fn presence_calls(modules: &[CommonModule]) -> BTreeSet<String> {
    modules
        .iter()
        .flat_map(|m| {
            m.presence_functions
                .iter()
                .map(move |f| format!("{}.{f}", key(&m.name)))
        })
        .collect()
}

pub fn common_modules(dir: &Path) -> Vec<CommonModule> {
    let cm = dir.join("CommonModules");
    let Ok(entries) = std::fs::read_dir(&cm) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
    {
        let xml = read_text(&p);
        let name = p
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let mut m = CommonModule {
            name: name.clone(),
            global: flag(&xml, "Global"),
            client: flag(&xml, "ClientManagedApplication"),
            server: flag(&xml, "Server"),
            external_connection: flag(&xml, "ExternalConnection"),
            server_call: flag(&xml, "ServerCall"),
            privileged: flag(&xml, "Privileged"),
            exports: BTreeSet::new(),
            presence_functions: BTreeSet::new(),
        };
        let bsl = cm.join(&name).join("Ext/Module.bsl");
        if bsl.exists() {
            let module = parse_module(&read_text(&bsl));
            m.exports = module
                .methods
                .iter()
                .filter(|x| x.export)
                .map(|x| key(&x.name))
                .collect();
            m.presence_functions = module
                .presence_functions
                .intersection(&m.exports)
                .cloned()
                .collect();
        }
        out.push(m);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Check 1: the extension's application module against a base

/// Annotations of an extension method that hook a method of the adopted module by name.
const HOOKS: [&str; 8] = [
    "После",
    "Перед",
    "Вместо",
    "ИзменениеИКонтроль",
    "After",
    "Before",
    "Around",
    "ChangeAndValidate",
];

/// Violations of the extension's application module `app_text` applied to `base`: an un-annotated method or an
/// exported variable whose name the base already defines (the platform: «Процедура или функция с указанным именем
/// уже определена»), and a hook (`&После("X")`, `&Перед`, `&Вместо`, `&ИзменениеИКонтроль`) whose X the base lacks
/// (refused on 8.3.22+ when the extension is applied in 1С:Предприятие mode).
pub fn app_module_violations(base: &Base, app_text: &str) -> Vec<String> {
    let module = parse_module(app_text);
    let mut out: Vec<String> = module.syntax_errors.clone();
    for m in &module.methods {
        let hooks: Vec<&Annotation> = m
            .annotations
            .iter()
            .filter(|a| HOOKS.iter().any(|h| key(h) == key(&a.name)))
            .collect();
        if hooks.is_empty() {
            if base.app_methods.contains(&key(&m.name)) {
                out.push(format!(
                    "line {}: {} is declared without an annotation, but base «{}» already defines {} in its application \
                     module: «Процедура или функция с указанным именем уже определена»",
                    m.line, m.name, base.name, m.name
                ));
            }
            continue;
        }
        for h in hooks {
            match &h.target {
                Some(t) if base.app_methods.contains(&key(t)) => {}
                Some(t) => out.push(format!(
                    "line {}: &{}(\"{t}\") on {}: base «{}» has no method {t} in its application module (8.3.22+ \
                     refuses to apply the extension: «Не найден метод»)",
                    m.line, h.name, m.name, base.name
                )),
                None => out.push(format!("line {}: &{} on {} names no method", m.line, h.name, m.name)),
            }
        }
    }
    for (v, export) in &module.vars {
        if *export && base.app_variables.contains(&key(v)) {
            out.push(format!(
                "variable {v}: base «{}» already declares it exported in its application module",
                base.name
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Check 2: every identifier resolves

/// The platform's global context as a names list (see `tests/fixtures/platform-globals/README.md`).
pub fn platform_globals(path: &Path) -> BTreeSet<String> {
    read_text(path)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace().next().map(key))
        .collect()
}

/// Where a module runs, for the flags of the common modules it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// What a module can see besides its own definitions.
pub struct Context<'a> {
    pub platform: &'a BTreeSet<String>,
    /// The extension's common modules (by key).
    pub modules: &'a BTreeMap<String, CommonModule>,
    /// Names added by the module's owner: a form's attributes and the form context, the extension's application
    /// module exports for client code.
    pub extra: BTreeSet<String>,
    /// Where each method runs when it has no annotation.
    pub default_side: Side,
    /// БСП (names that must never appear directly; reached only through Вычислить behind a presence check).
    pub bsp: &'a Base,
}

fn method_side(m: Option<&Method>, default: Side) -> Side {
    match m {
        Some(m) if m.annotated("НаКлиенте") || m.annotated("AtClient") => Side::Client,
        Some(m)
            if m.annotated("НаСервере")
                || m.annotated("НаСервереБезКонтекста")
                || m.annotated("AtServer")
                || m.annotated("AtServerNoContext") =>
        {
            Side::Server
        }
        _ => default,
    }
}

/// Every identifier of `module` that does not resolve in `ctx`, and every БСП name it reaches unsafely.
pub fn unresolved_names(module: &Module, ctx: &Context<'_>) -> Vec<String> {
    let mut out: Vec<String> = module.syntax_errors.clone();
    for u in &module.uses {
        let k = key(&u.name);
        let m = u.method.map(|i| &module.methods[i]);
        if m.is_some_and(|m| m.locals.contains(&k)) || module.defines(&u.name) {
            continue;
        }
        let side = method_side(m, ctx.default_side);
        if let Some(cm) = ctx.modules.get(&k) {
            let reachable = match side {
                Side::Client => cm.client || cm.server_call,
                Side::Server => cm.server,
            };
            if !reachable {
                out.push(format!(
                    "line {}: common module {} is not available on the {} (flags: client={}, server={}, server call={})",
                    u.line,
                    cm.name,
                    if side == Side::Client { "client" } else { "server" },
                    cm.client,
                    cm.server,
                    cm.server_call
                ));
            }
            match &u.member {
                Some(member) if !cm.exports.contains(&key(member)) => out.push(format!(
                    "line {}: {}.{member}: common module {} has no exported method {member}",
                    u.line, cm.name, cm.name
                )),
                _ => {}
            }
            continue;
        }
        if ctx
            .modules
            .values()
            .any(|cm| cm.global && cm.exports.contains(&k))
        {
            continue;
        }
        if ctx.platform.contains(&k) || ctx.extra.contains(&k) {
            continue;
        }
        if ctx.bsp.global_name(&u.name) {
            out.push(format!(
                "line {}: {} is a БСП name, used directly: a base without БСП does not compile this module; reach \
                 БСП through Вычислить(\"…\") behind a БСП-presence check (Метаданные.ОбщиеМодули.Найти)",
                u.line, u.name
            ));
            continue;
        }
        match &u.member {
            Some(member) => out.push(format!(
                "line {}: {}.{member}: {} is not defined anywhere (not a local, parameter, module variable or \
                 method, common module of the extension or platform global) — a common module that exists nowhere?",
                u.line, u.name, u.name
            )),
            None => out.push(format!(
                "line {}: {} is not defined: not a local, parameter, module variable or method, common module of \
                 the extension or platform global",
                u.line, u.name
            )),
        }
    }
    // БСП names reached by name: only behind a presence check (the call itself, or every call of its method).
    for e in &module.evaluated {
        let head: String = e
            .text
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if head.is_empty() || !ctx.bsp.global_name(&head) {
            continue;
        }
        let method_guarded = e.method.is_some_and(|i| {
            let name = key(&module.methods[i].name);
            let calls: Vec<_> = module
                .local_calls
                .iter()
                .filter(|c| key(&c.callee) == name)
                .collect();
            !calls.is_empty() && calls.iter().all(|c| c.guarded)
        });
        if !e.guarded && !method_guarded {
            out.push(format!(
                "line {}: \"{}\" reaches БСП by name without a БСП-presence check before it \
                 (Метаданные.ОбщиеМодули.Найти(…) <> Неопределено, or a function of the module that asks it)",
                e.line, e.text
            ));
        }
    }
    // Methods named in strings exist where the string says.
    for h in &module.handlers {
        let owner = h.owner.as_deref().map(key);
        let ok = match owner.as_deref() {
            None
            | Some("этотобъект")
            | Some("thisobject")
            | Some("этаформа")
            | Some("thisform") => {
                module.method(&h.name).is_some()
                    || (h.how == "ПодключитьОбработчикОжидания"
                        && (ctx.extra.contains(&key(&h.name))
                            || ctx
                                .modules
                                .values()
                                .any(|cm| cm.global && cm.exports.contains(&key(&h.name)))))
            }
            Some(o) => match ctx.modules.get(o) {
                Some(cm) if h.how == "ФоновыеЗадания.Выполнить" => {
                    cm.server && cm.exports.contains(&key(&h.name))
                }
                Some(cm) => cm.exports.contains(&key(&h.name)),
                // A background job may run only a method of a common module the configuration has.
                None if h.how == "ФоновыеЗадания.Выполнить" => false,
                None => true, // a variable holding a module: not resolvable statically
            },
        };
        if !ok {
            out.push(format!(
                "line {}: {}(\"{}\"…): no such method {}",
                h.line,
                h.how,
                h.name,
                match &h.owner {
                    Some(o) => format!("in {o}"),
                    None => "in this module".to_string(),
                }
            ));
        }
    }
    out
}
