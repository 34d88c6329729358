//! Checks over a Designer dump's XML (issue 15, item 2): which common forms something opens, where the secrets
//! register shows, who checks access first in server-call modules, and the element order of every XML file against
//! the orders real 2.13 dumps have. Each check returns its violations, so a test can run it on a mutated copy.
#![allow(dead_code)] // each test file uses a part of this module

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::bsl_names::{self, key};

/// A small element tree.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
    pub children: Vec<Node>,
    pub line: usize,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn path(&self, names: &[&str]) -> Option<&Node> {
        names.iter().try_fold(self, |n, name| n.child(name))
    }
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node, &[&'a Node])) {
        fn go<'a>(
            n: &'a Node,
            stack: &mut Vec<&'a Node>,
            f: &mut dyn FnMut(&'a Node, &[&'a Node]),
        ) {
            f(n, stack);
            stack.push(n);
            for c in &n.children {
                go(c, stack, f);
            }
            stack.pop();
        }
        go(self, &mut Vec::new(), f);
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).into_owned();
    match name.split_once(':') {
        Some((_, l)) => l.to_string(),
        None => name,
    }
}

/// Parses an XML file into a tree (the returned node is the document; its children are the root elements).
pub fn parse(path: &Path) -> Node {
    let text = bsl_names::read_text(path);
    parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn parse_str(text: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Node::default()];
    let line_at = |pos: usize| text[..pos.min(text.len())].matches('\n').count() + 1;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| format!("XML: {e}"))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let mut node = Node {
                name: local(e.name().as_ref()),
                line: line_at(pos),
                ..Node::default()
            };
            for a in e.attributes().flatten() {
                node.attrs.insert(
                    local(a.key.as_ref()),
                    a.unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_default(),
                );
            }
            if empty {
                stack.last_mut().expect("a parent").children.push(node);
            } else {
                stack.push(node);
            }
            continue;
        }
        match event {
            Event::End(_) => {
                let node = stack.pop().expect("an open element");
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| format!("XML text: {e}"))?;
                let s = quick_xml::escape::unescape(&s).map_err(|e| format!("XML text: {e}"))?;
                stack.last_mut().expect("a node").text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                let s = match name.as_str() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                };
                stack.last_mut().expect("a node").text.push_str(s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("unclosed elements".into());
    }
    Ok(stack.pop().expect("the document"))
}

/// Names of the objects of one kind in a dump: `<dir>/<Kind>/<Name>.xml`.
pub fn names_in(dump: &Path, kind: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dump.join(kind)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            p.file_stem()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

/// Keys of the attribute names of a form (`<Attributes><Attribute name="…">`).
pub fn form_attributes(form_xml: &Path) -> BTreeSet<String> {
    let doc = parse(form_xml);
    let mut out = BTreeSet::new();
    if let Some(form) = doc.children.first() {
        if let Some(attrs) = form.child("Attributes") {
            for a in attrs.children.iter().filter(|c| c.name == "Attribute") {
                if let Some(n) = a.attrs.get("name") {
                    out.insert(key(n));
                }
            }
        }
    }
    out
}

/// Every file under `dir` with extension `ext`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out.sort();
    out
}

fn rel(dump: &Path, p: &Path) -> String {
    p.strip_prefix(dump)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn squash(text: &str) -> String {
    key(text).chars().filter(|c| !c.is_whitespace()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Check 3a: every common form but the exempt ones is opened by a command or by code

/// Common forms nothing opens: no `ОткрытьФорму("ОбщаяФорма.X"…)` / `ПолучитьФорму(…)` (or the English spelling)
/// in any module but the form's own, and no standard command (`UseStandardCommands` true with the form in a
/// subsystem's content). `exempt`: forms opened by design only from code paths this check cannot follow (none
/// but the popup, ТБ_ВходящийЗвонок, which is opened on a call).
pub fn unopened_forms(dump: &Path, exempt: &[&str]) -> Vec<String> {
    let modules: Vec<(PathBuf, String)> = files(dump, "bsl")
        .into_iter()
        .map(|p| {
            let t = squash(&bsl_names::read_text(&p));
            (p, t)
        })
        .collect();
    let in_subsystems: BTreeSet<String> = subsystem_content(dump)
        .into_iter()
        .map(|(_, item)| key(&item))
        .collect();
    let mut out = Vec::new();
    for form in names_in(dump, "CommonForms") {
        if exempt.iter().any(|e| key(e) == key(&form)) {
            continue;
        }
        let own = dump.join("CommonForms").join(&form);
        let opened_by_code = modules.iter().any(|(p, t)| {
            !p.starts_with(&own)
                && ["открытьформу(", "получитьформу(", "openform(", "getform("]
                    .iter()
                    .any(|call| {
                        [
                            format!("{call}\"общаяформа.{}\"", key(&form)),
                            format!("{call}\"commonform.{}\"", key(&form)),
                        ]
                        .iter()
                        .any(|needle| t.contains(needle.as_str()))
                    })
        });
        let xml = bsl_names::read_text(&dump.join(format!("CommonForms/{form}.xml")));
        let standard = xml.contains("<UseStandardCommands>true</UseStandardCommands>")
            && in_subsystems.contains(&key(&format!("CommonForm.{form}")));
        if !opened_by_code && !standard {
            out.push(format!(
                "CommonForms/{form}: nothing opens it — no common command or code calls ОткрытьФорму(\"ОбщаяФорма.{form}\"), \
                 and it has no standard command in a subsystem (UseStandardCommands)"
            ));
        }
    }
    out
}

/// (subsystem file, item) for every `<Content><xr:Item>` of every subsystem, nested ones included.
pub fn subsystem_content(dump: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in files(&dump.join("Subsystems"), "xml") {
        let doc = parse(&p);
        doc.walk(&mut |n, stack| {
            if n.name == "Item" && stack.last().is_some_and(|s| s.name == "Content") {
                out.push((rel(dump, &p), n.text.trim().to_string()));
            }
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Check 3b: a secrets register is never listed and never viewable by a non-admin role

/// Rights that show an object's data in the interface.
fn is_viewing_right(name: &str) -> bool {
    name == "View" || name.starts_with("Interactive")
}

pub fn exposed_secrets(dump: &Path, secrets: &[&str], admin_roles: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let wanted: BTreeSet<String> = secrets.iter().map(|s| key(s)).collect();
    for (file, item) in subsystem_content(dump) {
        if wanted.contains(&key(&item)) {
            out.push(format!(
                "{file}: lists {item} in its content — the secrets register shows in the section"
            ));
        }
    }
    for role in names_in(dump, "Roles") {
        if admin_roles.iter().any(|a| key(a) == key(&role)) {
            continue;
        }
        let path = dump.join(format!("Roles/{role}/Ext/Rights.xml"));
        if !path.exists() {
            continue;
        }
        let doc = parse(&path);
        doc.walk(&mut |n, _| {
            if n.name != "object" {
                return;
            }
            let Some(name) = n.child("name").map(|x| x.text.trim().to_string()) else { return };
            if !wanted.contains(&key(&name)) {
                return;
            }
            for r in n.children.iter().filter(|c| c.name == "right") {
                let rn = r.child("name").map(|x| x.text.trim()).unwrap_or_default();
                let rv = r.child("value").map(|x| x.text.trim()).unwrap_or_default();
                if rv == "true" && is_viewing_right(rn) {
                    out.push(format!("Roles/{role}: grants {rn} on {name} — a non-admin role can view the secrets"));
                }
            }
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Check 4: every exported method of a server-call module checks access before anything else

/// Names that count as an access check when called in a method's first statement: a procedure of the extension
/// named `ПроверитьПрава…` / `ПроверитьДоступ…` (unqualified in the same module, or `<общий модуль расширения>.…`),
/// or the platform's `РольДоступна` / `ПравоДоступа` (their English names too).
fn access_check_call(name: &str) -> bool {
    let k = key(name);
    k.starts_with("проверитьправа")
        || k.starts_with("проверитьдоступ")
        || k == "рольдоступна"
        || k == "isinrole"
        || k == "праводоступа"
        || k == "accessright"
}

/// Every call in a statement's text: (qualifier, name) for `Имя(` and `Модуль.Имя(`.
fn calls_in(text: &str) -> Vec<(Option<String>, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        if word(chars[i]) && (i == 0 || !word(chars[i - 1])) {
            let start = i;
            while i < chars.len() && word(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            if j < chars.len() && chars[j] == '(' {
                let qualifier = if start > 0 && chars[start - 1] == '.' {
                    let mut s = start - 1;
                    while s > 0 && word(chars[s - 1]) {
                        s -= 1;
                    }
                    Some(chars[s..start - 1].iter().collect())
                } else {
                    None
                };
                out.push((qualifier, name));
            }
        } else {
            i += 1;
        }
    }
    out
}

pub fn missing_access_checks(dump: &Path) -> Vec<String> {
    let modules: BTreeMap<String, bsl_names::CommonModule> = bsl_names::common_modules(dump)
        .into_iter()
        .map(|m| (key(&m.name), m))
        .collect();
    let mut out = Vec::new();
    for cm in modules.values().filter(|m| m.server_call) {
        let path = dump.join(format!("CommonModules/{}/Ext/Module.bsl", cm.name));
        if !path.exists() {
            continue;
        }
        let module = bsl_names::parse_module(&bsl_names::read_text(&path));
        for m in module.methods.iter().filter(|m| m.export) {
            let first = m.statements.first();
            let ok = first.is_some_and(|(_, _, text)| {
                let head = text.lines().next().unwrap_or_default();
                calls_in(head).iter().any(|(q, name)| {
                    access_check_call(name)
                        && match q {
                            None => {
                                let k = key(name);
                                k == "рольдоступна"
                                    || k == "isinrole"
                                    || k == "праводоступа"
                                    || k == "accessright"
                                    || module.method(name).is_some()
                            }
                            Some(q) => modules
                                .get(&key(q))
                                .is_some_and(|t| t.exports.contains(&key(name))),
                        }
                })
            });
            if !ok {
                let what = first
                    .map(|(_, l, t)| {
                        format!(
                            "line {l}: `{}`",
                            t.lines().next().unwrap_or_default().trim()
                        )
                    })
                    .unwrap_or_else(|| "an empty body".into());
                out.push(format!(
                    "CommonModules/{}: exported {} (line {}) does not check access first — its first statement is {what}; \
                     call ПроверитьПрава…/ПроверитьДоступ… of the extension, РольДоступна or ПравоДоступа first",
                    cm.name, m.name, m.line
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Check 5: element order against real 2.13 dumps

/// key → observed child sequences (from `tests/fixtures/xml-order-2.13/orders.txt` and `extra.txt`).
pub fn load_orders(paths: &[PathBuf]) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for p in paths {
        for l in bsl_names::read_text(p).lines() {
            if l.starts_with('#') || l.trim().is_empty() {
                continue;
            }
            let (k, seq) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("{}: bad line `{l}`", p.display()));
            out.entry(k.to_string())
                .or_default()
                .push(seq.split_whitespace().map(str::to_string).collect());
        }
    }
    out
}

fn root_kind(name: &str) -> String {
    match name {
        "MetaDataObject" => "md".into(),
        "Form" => "form".into(),
        "Rights" => "rights".into(),
        other => other.into(),
    }
}

/// Containers whose children are the author's items in the author's order (form items, attributes, commands,
/// parameters, columns, subsystem content, events): not format, never compared (learn.py skips them too).
const AUTHOR_ORDERED: [&str; 7] = [
    "ChildItems",
    "Attributes",
    "Commands",
    "Parameters",
    "Columns",
    "Content",
    "Events",
];

/// Children of one element that stand in the opposite order of a sequence a real 2.13 dump has.
pub fn order_violations_in(
    doc: &Node,
    file: &str,
    orders: &BTreeMap<String, Vec<Vec<String>>>,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(root) = doc.children.first() else {
        return out;
    };
    let kind = root_kind(&root.name);
    fn go(
        n: &Node,
        parent: &str,
        kind: &str,
        file: &str,
        orders: &BTreeMap<String, Vec<Vec<String>>>,
        out: &mut Vec<String>,
    ) {
        let k = format!("{kind}:{parent}/{}", n.name);
        if let Some(seqs) = orders
            .get(&k)
            .filter(|_| !AUTHOR_ORDERED.contains(&n.name.as_str()))
        {
            let mut names: Vec<&str> = Vec::new();
            for c in &n.children {
                if !names.contains(&c.name.as_str()) {
                    names.push(&c.name);
                }
            }
            'pairs: for i in 0..names.len() {
                for j in i + 1..names.len() {
                    let (a, b) = (names[i], names[j]);
                    for s in seqs {
                        let pa = s.iter().position(|x| x == a);
                        let pb = s.iter().position(|x| x == b);
                        if let (Some(pa), Some(pb)) = (pa, pb) {
                            if pb < pa {
                                out.push(format!(
                                    "{file}:{}: <{}> has <{a}> before <{b}>; real 2.13 dumps write <{b}> first",
                                    n.line, n.name
                                ));
                                continue 'pairs;
                            }
                        }
                    }
                }
            }
        }
        for c in &n.children {
            go(c, &n.name, kind, file, orders, out);
        }
    }
    go(root, "", &kind, file, orders, &mut out);
    out
}

pub fn order_violations(dump: &Path, orders: &BTreeMap<String, Vec<Vec<String>>>) -> Vec<String> {
    let mut out = Vec::new();
    for p in files(dump, "xml") {
        let doc = parse(&p);
        out.extend(order_violations_in(&doc, &rel(dump, &p), orders));
    }
    out
}
