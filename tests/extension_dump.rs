//! The configuration extension kept as a Designer dump in `bsl-examples/extension/`: its XML parses, every object
//! sits where Configuration.xml lists it, the contract's objects are there, HTTP-service and form handlers exist in
//! their modules, and every add-in member the BSL calls exists in the built add-in's member tables (through the
//! platform-exact test host). The history, hangup and duplicate-popup rules the extension relies on are checked
//! through the add-in's own methods, as the extension's server code calls them.
//!
//! Add-in objects are found by a naming rule the extension's modules follow (see the header of
//! ТБ_ТелефонияКлиент): a variable holding one is named КомпонентаЦентрифуга (Centrifugo), КомпонентаUIS (UIScom),
//! КомпонентаBinotel (Binotel) or КомпонентаКоннект (ConnectAgent); any other identifier starting with
//! «Компонента» fails the test, so a call cannot hide behind another name.

use std::collections::{BTreeMap, BTreeSet};
#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::without_strings;
use std::path::{Path, PathBuf};

use addin_host::{Host, Mode, Val};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

const FORMAT_VERSION: &str = "2.13";

fn dump() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bsl-examples/extension")
}

fn files(ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, ext, out);
            } else if path.extension().is_some_and(|x| x == ext) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dump(), ext, &mut out);
    out.sort();
    out
}

fn read(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim_start_matches('\u{feff}').to_string()
}

fn rel(path: &Path) -> String {
    path.strip_prefix(dump())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A small element tree: enough to walk a dump file.
#[derive(Debug, Default, Clone)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn path(&self, names: &[&str]) -> Option<&Node> {
        names.iter().try_fold(self, |node, name| node.child(name))
    }
    fn descendants<'a>(&'a self, name: &'a str, out: &mut Vec<&'a Node>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.descendants(name, out);
        }
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).into_owned();
    match name.split_once(':') {
        Some((_, local)) => local.to_string(),
        None => name,
    }
}

/// Parses a whole document (quick-xml checks that end tags match) into a tree.
fn parse(path: &Path) -> Node {
    let text = read(path);
    let mut reader = Reader::from_str(&text);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let mut node = Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("{}: attribute: {err}", rel(path)));
                    node.attrs.insert(
                        local(a.key.as_ref()),
                        a.unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default(),
                    );
                }
                stack.push(node);
            }
            Ok(Event::Empty(e)) => {
                let mut node = Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("{}: attribute: {err}", rel(path)));
                    node.attrs.insert(
                        local(a.key.as_ref()),
                        a.unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default(),
                    );
                }
                stack.last_mut().expect("open element").children.push(node);
            }
            Ok(Event::Text(t)) => {
                let value = t
                    .decode()
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|err| panic!("{}: text: {err}", rel(path)));
                let value = quick_xml::escape::unescape(&value)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|err| panic!("{}: entity: {err}", rel(path)));
                stack
                    .last_mut()
                    .expect("open element")
                    .text
                    .push_str(&value);
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                let value = match name.as_str() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("{}: unknown entity &{other};", rel(path)),
                };
                stack.last_mut().expect("open element").text.push_str(value);
            }
            Ok(Event::End(_)) => {
                let node = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(node);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "{}: not well-formed XML at {}: {e}",
                rel(path),
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(stack.len(), 1, "{}: unclosed elements", rel(path));
    let mut document = stack.pop().expect("document");
    assert_eq!(
        document.children.len(),
        1,
        "{}: one root element",
        rel(path)
    );
    document.children.remove(0)
}

fn configuration() -> Node {
    parse(&dump().join("Configuration.xml"))
        .child("Configuration")
        .expect("Configuration element")
        .clone()
}

/// (kind, name) of every object Configuration.xml lists.
fn listed_objects() -> Vec<(String, String)> {
    configuration()
        .child("ChildObjects")
        .expect("ChildObjects")
        .children
        .iter()
        .map(|c| (c.name.clone(), c.text.trim().to_string()))
        .collect()
}

fn folder(kind: &str) -> &'static str {
    match kind {
        "Language" => "Languages",
        "Subsystem" => "Subsystems",
        "Role" => "Roles",
        "CommonTemplate" => "CommonTemplates",
        "CommonModule" => "CommonModules",
        "HTTPService" => "HTTPServices",
        "ScheduledJob" => "ScheduledJobs",
        "Constant" => "Constants",
        "CommonForm" => "CommonForms",
        "CommonCommand" => "CommonCommands",
        "InformationRegister" => "InformationRegisters",
        "Report" => "Reports",
        "EventSubscription" => "EventSubscriptions",
        other => panic!("Configuration.xml lists a {other}, which this test does not know"),
    }
}

/// The object element of `<kind>/<name>.xml` (checked to be the one its file name says).
fn object(kind: &str, name: &str) -> Node {
    let path = dump().join(folder(kind)).join(format!("{name}.xml"));
    assert!(
        path.is_file(),
        "{} listed in Configuration.xml is missing",
        rel(&path)
    );
    let root = parse(&path);
    assert_eq!(root.name, "MetaDataObject", "{}", rel(&path));
    let element = root
        .child(kind)
        .unwrap_or_else(|| panic!("{}: no <{kind}> element", rel(&path)))
        .clone();
    let declared = element
        .path(&["Properties", "Name"])
        .map(|n| n.text.trim().to_string());
    assert_eq!(declared.as_deref(), Some(name), "{}: Name", rel(&path));
    element
}

/// What is wrong with the format version of one parsed dump file at `rel_path`: every file carries 2.13, but a
/// data-composition schema, which its own serializer writes without the dump's version (as every report of
/// 1c-syntax/ssl_3_1, e.g. Reports/ОбъемНенужныхФайлов/Templates/*/Ext/Template.xml) and only as the Template.xml of
/// a template.
fn version_problem(root: &Node, rel_path: &str) -> Option<String> {
    let version = root.attrs.get("version").map(String::as_str);
    if root.name == "DataCompositionSchema" {
        if version.is_some() {
            return Some(format!("{rel_path}: a schema carries a version"));
        }
        if !(rel_path.contains("/Templates/") && rel_path.ends_with("/Ext/Template.xml")) {
            return Some(format!("{rel_path}: a schema outside a template"));
        }
        return None;
    }
    (version != Some(FORMAT_VERSION))
        .then(|| format!("{rel_path}: version of <{}> is {version:?}", root.name))
}

#[test]
fn every_xml_file_of_the_dump_parses_and_carries_the_format_version() {
    let all = files("xml");
    assert!(all.len() > 30, "only {} XML files", all.len());
    for path in &all {
        let root = parse(path);
        assert_eq!(version_problem(&root, &rel(path)), None);
    }
}

#[test]
fn mutation_versions_out_of_place_are_found() {
    let schema = Node {
        name: "DataCompositionSchema".into(),
        ..Node::default()
    };
    let at = "Reports/Р/Templates/Т/Ext/Template.xml";
    assert_eq!(version_problem(&schema, at), None);
    assert!(
        version_problem(&schema, "CommonTemplates/Т/Ext/Template.bin.xml")
            .is_some_and(|p| p.contains("outside a template"))
    );
    let mut versioned = schema.clone();
    versioned.attrs.insert("version".into(), "2.13".into());
    assert!(version_problem(&versioned, at).is_some_and(|p| p.contains("carries a version")));
    let mut form = schema;
    form.name = "Form".into();
    assert!(
        version_problem(&form, "CommonForms/Ф/Ext/Form.xml").is_some_and(|p| p.contains("None"))
    );
    form.attrs.insert("version".into(), "2.16".into());
    assert!(
        version_problem(&form, "CommonForms/Ф/Ext/Form.xml").is_some_and(|p| p.contains("2.16"))
    );
}

#[test]
fn configuration_xml_describes_the_add_on_extension_and_lists_every_object_file() {
    let cfg = configuration();
    let prop = |name: &str| {
        cfg.path(&["Properties", name])
            .map(|n| n.text.trim().to_string())
            .unwrap_or_else(|| panic!("Configuration.xml: no {name}"))
    };
    assert_eq!(prop("Name"), "TelephonyBridge");
    assert_eq!(prop("ObjectBelonging"), "Adopted");
    assert_eq!(prop("ConfigurationExtensionPurpose"), "AddOn");
    assert_eq!(prop("NamePrefix"), "ТБ_");
    assert_eq!(
        prop("ConfigurationExtensionCompatibilityMode"),
        "Version8_3_18"
    );
    assert_eq!(
        prop("KeepMappingToExtendedConfigurationObjectsByIDs"),
        "false"
    );
    assert_eq!(
        prop("Version"),
        env!("CARGO_PKG_VERSION"),
        "extension version = crate version"
    );
    assert!(cfg
        .path(&["Properties", "Synonym", "item", "content"])
        .is_some_and(|n| n.text == "TelephonyBridge: телефония в 1С"));

    let listed = listed_objects();
    let mut uuids = BTreeSet::new();
    assert!(uuids.insert(cfg.attrs["uuid"].clone()));
    for (kind, name) in &listed {
        let element = object(kind, name);
        let uuid = element.attrs.get("uuid").cloned().unwrap_or_default();
        assert_eq!(uuid.len(), 36, "{kind}.{name}: uuid");
        assert!(uuids.insert(uuid), "{kind}.{name}: uuid is not unique");
        let adopted = element
            .path(&["Properties", "ObjectBelonging"])
            .is_some_and(|n| n.text == "Adopted");
        if kind == "Language" {
            assert!(
                adopted,
                "the language is adopted from the base configuration"
            );
            assert!(element
                .path(&["Properties", "ExtendedConfigurationObject"])
                .is_some());
        } else {
            assert!(!adopted, "{kind}.{name} is the extension's own object");
            assert!(
                name.starts_with("ТБ_"),
                "{kind}.{name} carries the prefix ТБ_"
            );
        }
    }

    // No object file that Configuration.xml does not list.
    let listed_files: BTreeSet<String> = listed
        .iter()
        .map(|(kind, name)| format!("{}/{name}.xml", folder(kind)))
        .collect();
    for path in files("xml") {
        let r = rel(&path);
        if r.matches('/').count() == 1 {
            assert!(
                listed_files.contains(&r),
                "{r} is not listed in Configuration.xml"
            );
        }
    }

    // What each kind needs beside its XML.
    let need = |p: String| assert!(dump().join(&p).is_file(), "{p} is missing");
    for (kind, name) in &listed {
        match kind.as_str() {
            "CommonModule" => need(format!("CommonModules/{name}/Ext/Module.bsl")),
            "HTTPService" => need(format!("HTTPServices/{name}/Ext/Module.bsl")),
            "CommonForm" => {
                need(format!("CommonForms/{name}/Ext/Form.xml"));
                need(format!("CommonForms/{name}/Ext/Form/Module.bsl"));
            }
            "Role" => need(format!("Roles/{name}/Ext/Rights.xml")),
            "CommonCommand" => need(format!("CommonCommands/{name}/Ext/CommandModule.bsl")),
            "Subsystem" => {
                need(format!("Subsystems/{name}/Ext/Help.xml"));
                need(format!("Subsystems/{name}/Ext/Help/ru.html"));
            }
            "Report" => {
                need(format!("Reports/{name}/Ext/ObjectModule.bsl"));
                for template in object(kind, name)
                    .child("ChildObjects")
                    .into_iter()
                    .flat_map(|c| c.children_named("Template"))
                {
                    let template = template.text.trim();
                    need(format!("Reports/{name}/Templates/{template}.xml"));
                    need(format!(
                        "Reports/{name}/Templates/{template}/Ext/Template.xml"
                    ));
                }
            }
            _ => {}
        }
    }
    need("Ext/ManagedApplicationModule.bsl".into());
    need("ConfigDumpInfo.xml".into());
}

#[test]
fn the_dump_holds_the_objects_of_the_naming_contract() {
    let listed: BTreeSet<(String, String)> = listed_objects().into_iter().collect();
    let contract = [
        ("CommonTemplate", "ТБ_TelephonyBridge"),
        ("CommonTemplate", "ТБ_ШаблоныУведомленийUIS"),
        ("CommonModule", "ТБ_ТелефонияКлиент"),
        ("CommonModule", "ТБ_ТелефонияВызовСервера"),
        ("CommonModule", "ТБ_ТелефонияСервер"),
        ("CommonModule", "ТБ_ТелефонияHTTPСервисы"),
        ("HTTPService", "ТБ_UIScom"),
        ("HTTPService", "ТБ_Asterisk"),
        ("InformationRegister", "ТБ_ИсторияЗвонков"),
        ("InformationRegister", "ТБ_НастройкиПользователей"),
        ("InformationRegister", "ТБ_ЗащищенныеНастройки"),
        ("Constant", "ТБ_ИспользоватьТелефонию"),
        ("Constant", "ТБ_АдресCentrifugoAPI"),
        ("Constant", "ТБ_АдресCentrifugoWebSocket"),
        ("Constant", "ТБ_ИсточникЗвонков"),
        ("CommonForm", "ТБ_НастройкиТелефонии"),
        ("CommonForm", "ТБ_ПанельТелефонии"),
        ("CommonForm", "ТБ_ВходящийЗвонок"),
        ("CommonForm", "ТБ_ИсторияЗвонков"),
        ("Role", "ТБ_ОператорТелефонии"),
        ("Role", "ТБ_АдминистраторТелефонии"),
        ("Role", "ТБ_ВебхукиТелефонии"),
        ("Subsystem", "ТБ_Телефония"),
        ("Language", "Русский"),
    ];
    for (kind, name) in contract {
        assert!(
            listed.contains(&(kind.to_string(), name.to_string())),
            "{kind}.{name} is missing"
        );
    }
    // The template holding the add-in package: of type «Внешняя компонента» (AddIn, as in the real dump
    // 1c-syntax/mdclasses mdclasses_3_25 CommonTemplates/Макет8, whose Ext/Template.bin is the raw ZIP), and absent
    // from the source tree (the package writes it).
    let template = object("CommonTemplate", "ТБ_TelephonyBridge");
    assert_eq!(
        template
            .path(&["Properties", "TemplateType"])
            .map(|n| n.text.as_str()),
        Some("AddIn")
    );
    assert!(!dump()
        .join("CommonTemplates/ТБ_TelephonyBridge/Ext/Template.bin")
        .exists());
    // The UIS notification templates: a text template, the same text as docs/uis-notification-templates.md.
    let text = object("CommonTemplate", "ТБ_ШаблоныУведомленийUIS");
    assert_eq!(
        text.path(&["Properties", "TemplateType"])
            .map(|n| n.text.as_str()),
        Some("TextDocument")
    );
    let template_text =
        read(&dump().join("CommonTemplates/ТБ_ШаблоныУведомленийUIS/Ext/Template.txt"));
    let docs =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/uis-notification-templates.md"));
    assert!(
        docs.contains(&template_text),
        "docs/uis-notification-templates.md carries the template text verbatim"
    );
    for field in [
        "extension_phone_number",
        "/in",
        "/out",
        "/rec",
        "call_session_id",
    ] {
        assert!(
            template_text.contains(field),
            "the UIS templates use {field}"
        );
    }

    // The call history keeps seed 000's dimensions and a sequence within the second.
    let history = object("InformationRegister", "ТБ_ИсторияЗвонков");
    let fields = |kind: &str| -> Vec<String> {
        history
            .child("ChildObjects")
            .map(|c| {
                c.children_named(kind)
                    .filter_map(|d| d.path(&["Properties", "Name"]).map(|n| n.text.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        history
            .path(&["Properties", "InformationRegisterPeriodicity"])
            .map(|n| n.text.as_str()),
        Some("Second")
    );
    let dimensions = fields("Dimension");
    for d in ["ИдСессии", "Номер", "Входящий", "НомерВСекунде"] {
        assert!(dimensions.iter().any(|x| x == d), "dimension {d}");
    }
    let resources = fields("Resource");
    for r in [
        "ИмяСобытия",
        "НомерЗвонящего",
        "НомерВызываемого",
        "Канал",
        "ВремяНачала",
        "СсылкаНаЗапись",
        "Пропущенный",
    ] {
        assert!(resources.iter().any(|x| x == r), "resource {r}");
    }
    assert!(fields("Attribute").iter().any(|x| x == "ТелоЗапроса"));
}

/// Procedure and function names declared in a BSL module (lowercase: BSL is case-insensitive).
fn declared_methods(module: &Path) -> BTreeSet<String> {
    read(module)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = [
                "Асинх Процедура ",
                "Асинх Функция ",
                "Процедура ",
                "Функция ",
            ]
            .iter()
            .find_map(|kw| line.strip_prefix(kw))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            Some(name.to_lowercase())
        })
        .collect()
}

#[test]
fn every_http_service_method_has_its_handler_in_the_module() {
    let expected_templates: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::from([
        (
            "ТБ_UIScom",
            (
                "tb-uiscom",
                vec![
                    "/{Токен}/in",
                    "/{Токен}/out",
                    "/{Токен}/rec",
                    "/ping",
                    "/{Токен}/route",
                ],
            ),
        ),
        (
            "ТБ_Asterisk",
            ("tb-asterisk", vec!["/push", "/binotel", "/lookup"]),
        ),
    ]);
    for (kind, name) in listed_objects()
        .into_iter()
        .filter(|(k, _)| k == "HTTPService")
    {
        let service = object(&kind, &name);
        let (root, templates) = &expected_templates[name.as_str()];
        assert_eq!(
            service
                .path(&["Properties", "RootURL"])
                .map(|n| n.text.as_str()),
            Some(*root)
        );
        let module = dump().join(format!("HTTPServices/{name}/Ext/Module.bsl"));
        let declared = declared_methods(&module);
        let mut seen_templates = Vec::new();
        let mut handlers = 0;
        for template in service
            .child("ChildObjects")
            .expect("URL templates")
            .children_named("URLTemplate")
        {
            seen_templates.push(
                template
                    .path(&["Properties", "Template"])
                    .map(|n| n.text.clone())
                    .unwrap_or_default(),
            );
            for method in template
                .child("ChildObjects")
                .expect("methods")
                .children_named("Method")
            {
                let handler = method
                    .path(&["Properties", "Handler"])
                    .map(|n| n.text.trim().to_string())
                    .unwrap_or_default();
                assert!(
                    declared.contains(&handler.to_lowercase()),
                    "HTTPService.{name}: handler {handler} is not declared in {}",
                    rel(&module)
                );
                handlers += 1;
            }
        }
        assert_eq!(
            &seen_templates, templates,
            "HTTPService.{name}: URL templates"
        );
        assert!(handlers >= templates.len());
    }
}

#[test]
fn every_form_event_and_command_has_its_handler_in_the_form_module() {
    for (_, name) in listed_objects()
        .into_iter()
        .filter(|(k, _)| k == "CommonForm")
    {
        let form = parse(&dump().join(format!("CommonForms/{name}/Ext/Form.xml")));
        assert_eq!(form.name, "Form");
        let module = dump().join(format!("CommonForms/{name}/Ext/Form/Module.bsl"));
        let declared = declared_methods(&module);
        let mut handlers = Vec::new();
        form.descendants("Event", &mut handlers);
        form.descendants("Action", &mut handlers);
        assert!(!handlers.is_empty(), "{name}: no handlers");
        for h in handlers {
            assert!(
                declared.contains(&h.text.trim().to_lowercase()),
                "CommonForm.{name}: handler {} is not declared in {}",
                h.text,
                rel(&module)
            );
        }
        // Every command a button names is declared in the form.
        let commands: BTreeSet<String> = form
            .child("Commands")
            .map(|c| {
                c.children_named("Command")
                    .map(|c| c.attrs["name"].clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut buttons = Vec::new();
        form.descendants("CommandName", &mut buttons);
        for b in buttons {
            let command = b.text.trim().trim_start_matches("Form.Command.");
            assert!(
                commands.contains(command),
                "CommonForm.{name}: button for unknown command {command}"
            );
        }
    }
}

/// One use of an add-in object in the BSL.
#[derive(Debug)]
struct AddinUse {
    file: String,
    line: usize,
    variable: String,
    member: String,
    /// Followed by `(`: a method call; the number of arguments given.
    args: Option<usize>,
}

/// Strips a `//` comment that is not inside a string literal.
fn code_part(line: &str) -> String {
    let mut in_string = false;
    let chars: Vec<char> = line.chars().collect();
    for i in 0..chars.len() {
        if chars[i] == '"' {
            in_string = !in_string;
        } else if !in_string && chars[i] == '/' && chars.get(i + 1) == Some(&'/') {
            return chars[..i].iter().collect();
        }
    }
    line.to_string()
}

/// Top-level arguments of the call whose `(` is at `open` in the module text (0 for `()`).
fn count_args(text: &[char], open: usize) -> usize {
    let (mut depth, mut in_string, mut args, mut any) = (0usize, false, 1usize, false);
    for &c in &text[open..] {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return if any { args } else { 0 };
                }
            }
            ',' if depth == 1 => args += 1,
            _ => {}
        }
        if depth >= 1 && !c.is_whitespace() && c != '(' {
            any = true;
        }
    }
    panic!("unbalanced call");
}

const ADDIN_VARIABLES: &[(&str, &str)] = &[
    ("КомпонентаЦентрифуга", "Centrifugo"),
    ("КомпонентаUIS", "UIScom"),
    ("КомпонентаBinotel", "Binotel"),
    ("КомпонентаКоннект", "ConnectAgent"),
];

fn addin_uses(module: &Path) -> Vec<AddinUse> {
    let source = read(module);
    // The module without comments and string contents, kept line by line.
    let code: String = source
        .lines()
        .map(|l| without_strings(&code_part(l)))
        .collect::<Vec<_>>()
        .join("\n");
    let chars: Vec<char> = code.chars().collect();
    let mut uses = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
        }
        let starts_word = chars[i].is_alphabetic()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if !starts_word {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if !word.starts_with("Компонента") {
            continue;
        }
        assert!(
            ADDIN_VARIABLES.iter().any(|(v, _)| *v == word),
            "{}:{line}: «{word}»: add-in objects live only in КомпонентаЦентрифуга/UIS/Binotel/Коннект",
            rel(module)
        );
        if chars.get(i) != Some(&'.') {
            continue;
        }
        let member_start = i + 1;
        let mut j = member_start;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        let member: String = chars[member_start..j].iter().collect();
        let mut k = j;
        while k < chars.len() && chars[k] == ' ' {
            k += 1;
        }
        let args = (chars.get(k) == Some(&'(')).then(|| count_args(&chars, k));
        uses.push(AddinUse {
            file: rel(module),
            line,
            variable: word,
            member,
            args,
        });
        i = j;
    }
    uses
}

#[test]
fn every_add_in_member_the_extension_calls_exists_in_the_add_in() {
    let host = Host::load_default();
    let objects: BTreeMap<&str, _> = ADDIN_VARIABLES
        .iter()
        .map(|(_, class)| (*class, host.create_with(class, Mode::Client, "ru_RU")))
        .collect();
    let class_of = |variable: &str| {
        ADDIN_VARIABLES
            .iter()
            .find(|(v, _)| *v == variable)
            .map(|(_, c)| *c)
            .expect("known variable")
    };
    let client_modules = [
        "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl",
        "Ext/ManagedApplicationModule.bsl",
    ];
    let mut checked = 0;
    let mut async_calls = 0;
    for module in files("bsl") {
        let r = rel(&module);
        let text = read(&module);
        // Objects are created under the variable named for their class.
        for (n, l) in text.lines().enumerate() {
            if let Some(pos) = l.find("\"AddIn.TelephonyBridge.") {
                let class: String = l[pos + 23..].chars().take_while(|c| *c != '"').collect();
                assert!(
                    telephony_bridge::CLASS_NAMES.split('|').any(|c| c == class),
                    "{r}:{}: unknown class {class}",
                    n + 1
                );
                let variable = ADDIN_VARIABLES
                    .iter()
                    .find(|(_, c)| *c == class)
                    .map(|(v, _)| *v)
                    .expect("every class has a variable name");
                assert!(
                    l[..pos].contains(&format!("{variable} = Новый(")),
                    "{r}:{}: a {class} object goes into {variable}",
                    n + 1
                );
            }
        }
        let is_client = client_modules.contains(&r.as_str());
        if is_client {
            assert!(
                !text.contains("ПодключитьВнешнююКомпоненту("),
                "{r}: the client attaches only with ПодключитьВнешнююКомпонентуАсинх"
            );
        }
        assert!(
            !text.contains("ТипПодключенияВнешнейКомпоненты"),
            "{r}: ТипПодключенияВнешнейКомпоненты needs 8.3.21, the extension supports 8.3.20"
        );
        for u in addin_uses(&module) {
            assert!(
                r.starts_with("CommonModules/"),
                "{}:{}: only common modules hold add-in objects (forms use ТБ_ТелефонияКлиент)",
                u.file,
                u.line
            );
            let object = &objects[class_of(&u.variable)];
            let (kind, name) = if let Some(m) = u.member.strip_prefix("НачатьВызов") {
                ("method", m)
            } else if let Some(p) = u.member.strip_prefix("НачатьПолучение") {
                ("property", p)
            } else if let Some(p) = u.member.strip_prefix("НачатьУстановку") {
                ("property", p)
            } else {
                assert!(
                    !is_client,
                    "{}:{}: {}.{} is a synchronous add-in call in client code: use НачатьВызов{}",
                    u.file, u.line, u.variable, u.member, u.member
                );
                (
                    if u.args.is_some() {
                        "method"
                    } else {
                        "property"
                    },
                    u.member.as_str(),
                )
            };
            if kind == "method" {
                let index = object.find_method(name).unwrap_or_else(|| {
                    panic!(
                        "{}:{}: {} has no method {name} (called as {}.{})",
                        u.file,
                        u.line,
                        class_of(&u.variable),
                        u.variable,
                        u.member
                    )
                });
                let names = object.method_names();
                assert!(
                    names
                        .iter()
                        .any(|(_, ru)| ru.to_lowercase() == name.to_lowercase()),
                    "{}:{}: {name} is not the Russian name of the method (the BSL is in Russian)",
                    u.file,
                    u.line
                );
                // НачатьВызов passes the notification first.
                let given = u.args.unwrap_or(0) - usize::from(u.member.starts_with("НачатьВызов"));
                let total = object.n_params(index);
                let required = (0..total)
                    .filter(|&p| object.param_default(index, p).is_none())
                    .count();
                assert!(
                    (required..=total).contains(&given),
                    "{}:{}: {name} takes {required}..{total} parameters, the BSL passes {given}",
                    u.file,
                    u.line
                );
                if u.member.starts_with("НачатьВызов") {
                    async_calls += 1;
                }
            } else {
                assert!(
                    object.find_prop(name).is_some(),
                    "{}:{}: {} has no property {name}",
                    u.file,
                    u.line,
                    class_of(&u.variable)
                );
                assert!(
                    object
                        .prop_names()
                        .iter()
                        .any(|(_, ru, _, _)| ru.to_lowercase() == name.to_lowercase()),
                    "{}:{}: {name} is not the Russian name of the property",
                    u.file,
                    u.line
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} add-in uses found: the naming rule is not being followed"
    );
    assert!(
        async_calls >= 5,
        "only {async_calls} asynchronous add-in calls in client code"
    );
}

#[test]
fn every_bsl_module_of_the_extension_parses() {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("the BSL grammar loads");
    let modules = files("bsl");
    assert!(modules.len() >= 10);
    for module in modules {
        let source = read(&module);
        let tree = parser.parse(&source, None).expect("a tree");
        assert!(
            !tree.root_node().has_error(),
            "{}: syntax error (tree-sitter-bsl)",
            rel(&module)
        );
    }
}

// ------------------------------------------------------------------------------------------------------------------
// The rules the server module relies on, through the add-in's own methods (as ТБ_ТелефонияСервер calls them).
// ------------------------------------------------------------------------------------------------------------------

const SEED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/tb-calls/tests/data");

fn seed(path: &str) -> String {
    std::fs::read_to_string(format!("{SEED_DATA}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(val: &Val) -> Value {
    serde_json::from_str(val.str()).expect("JSON")
}

#[test]
fn a_binotel_hangup_without_a_number_reaches_the_operator_of_the_call() {
    let host = Host::load_default();
    let binotel = host.create_with("Binotel", Mode::Server, "ru_RU");
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let push = |body: &str, content_type: &str| {
        binotel
            .call("РазобратьPush", &[Val::from(body), Val::from(content_type)])
            .unwrap_or_else(|e| panic!("{}", e.message()))
    };
    let merge = |record: &str, event: &Val| {
        json(
            &uis.call(
                "ОбъединитьСИсторией",
                &[
                    Val::from(record),
                    event.clone(),
                    Val::Bool(true),
                    Val::from("2024-03-15 10:21:08"),
                ],
            )
            .unwrap_or_else(|e| panic!("{}", e.message())),
        )
    };
    let ringing = merge(
        "",
        &push(&seed("binotel/received_incoming.json"), "application/json"),
    );
    assert_eq!(ringing["record"]["Канал"], "801");
    assert_eq!(ringing["popup"], true);
    let hangup_event = push(
        &seed("binotel/hangup.form"),
        "application/x-www-form-urlencoded",
    );
    assert!(
        json(&hangup_event)["virtual_number"].is_null(),
        "the hangup names no number"
    );
    let hangup = merge(&ringing["record"].to_string(), &hangup_event);
    assert_eq!(hangup["record"]["Канал"], "801", "found by the call id");
    assert_eq!(hangup["publish_to_extension"], true);
    assert_eq!(hangup["publish"]["channel"], "801");
    assert_eq!(hangup["publish"]["data"]["call"]["event"], "finished");
    assert_eq!(hangup["popup"], false);
}

#[test]
fn the_card_opens_once_per_call_and_two_notifications_in_one_second_are_two_records() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let merge = |record: &str, body: &str| {
        json(
            &uis.call(
                "ОбъединитьСИсторией",
                &[
                    Val::from(record),
                    Val::from(body),
                    Val::Bool(true),
                    Val::from("2024-03-15 10:21:08"),
                ],
            )
            .unwrap_or_else(|e| panic!("{}", e.message())),
        )
    };
    let ringing = merge("", &seed("uiscom/in_ringing.json"));
    assert_eq!(ringing["popup"], false, "no operator yet");
    let answered = merge(
        &ringing["record"].to_string(),
        &seed("uiscom/in_answered.json"),
    );
    assert_eq!(
        answered["popup"], true,
        "the first event that names the operator opens the card"
    );
    assert_eq!(answered["publish"]["data"]["popup"], true);
    let finished = merge(&answered["record"].to_string(), &seed("uiscom/rec.json"));
    assert_eq!(finished["publish_to_extension"], true);
    assert_eq!(
        finished["popup"], false,
        "later events of the call only update the card"
    );
    assert_eq!(finished["publish"]["data"]["popup"], false);
    // Same second, same call: both are new records with the same Период — so the register needs the
    // НомерВСекунде dimension (checked above) to keep both.
    assert_eq!(answered["is_new_record"], true);
    assert_eq!(finished["is_new_record"], true);
    assert_eq!(answered["record"]["Период"], finished["record"]["Период"]);
    assert_eq!(
        answered["record"]["ИдСессии"],
        finished["record"]["ИдСессии"]
    );
}

#[test]
fn config_dump_info_lists_every_object_under_its_uuid() {
    let info = parse(&dump().join("ConfigDumpInfo.xml"));
    let mut entries = Vec::new();
    info.descendants("Metadata", &mut entries);
    let by_name: BTreeMap<&str, &str> = entries
        .iter()
        .map(|m| (m.attrs["name"].as_str(), m.attrs["id"].as_str()))
        .collect();
    for (kind, name) in listed_objects() {
        let uuid = object(&kind, &name).attrs["uuid"].clone();
        assert_eq!(
            by_name.get(format!("{kind}.{name}").as_str()).copied(),
            Some(uuid.as_str()),
            "ConfigDumpInfo.xml: {kind}.{name}"
        );
    }
    let cfg = configuration();
    assert_eq!(
        by_name.get("Configuration.TelephonyBridge").copied(),
        Some(cfg.attrs["uuid"].as_str())
    );
}

#[test]
fn every_role_right_names_an_object_of_the_extension() {
    let listed: BTreeSet<String> = listed_objects()
        .into_iter()
        .map(|(kind, name)| format!("{kind}.{name}"))
        .collect();
    for (_, role) in listed_objects().into_iter().filter(|(k, _)| k == "Role") {
        let rights = parse(&dump().join(format!("Roles/{role}/Ext/Rights.xml")));
        assert_eq!(rights.name, "Rights");
        let objects: Vec<&Node> = rights.children_named("object").collect();
        assert!(!objects.is_empty(), "{role}: no rights");
        for o in objects {
            let name = o
                .child("name")
                .map(|n| n.text.trim().to_string())
                .unwrap_or_default();
            let mut parts = name.split('.');
            let top = format!(
                "{}.{}",
                parts.next().unwrap_or(""),
                parts.next().unwrap_or("")
            );
            assert!(
                listed.contains(&top),
                "{role}: right on unknown object {name}"
            );
            if let Some(rest) = name.strip_prefix(&format!("{top}.")) {
                // HTTPService.<S>.URLTemplate.<T>.Method.<M>: that template and method exist.
                let service = object("HTTPService", top.trim_start_matches("HTTPService."));
                let found = service
                    .child("ChildObjects")
                    .into_iter()
                    .flat_map(|c| c.children_named("URLTemplate"))
                    .any(|t| {
                        let tname = t
                            .path(&["Properties", "Name"])
                            .map(|n| n.text.as_str())
                            .unwrap_or("");
                        t.child("ChildObjects")
                            .into_iter()
                            .flat_map(|c| c.children_named("Method"))
                            .any(|m| {
                                let mname = m
                                    .path(&["Properties", "Name"])
                                    .map(|n| n.text.as_str())
                                    .unwrap_or("");
                                rest == format!("URLTemplate.{tname}.Method.{mname}")
                            })
                    });
                assert!(found, "{role}: right on unknown {name}");
            }
            assert!(
                o.children_named("right").count() > 0,
                "{role}: {name} without rights"
            );
        }
    }
    // The webhook user may call every HTTP method and nothing of the operators' forms.
    let webhooks = read(&dump().join("Roles/ТБ_ВебхукиТелефонии/Ext/Rights.xml"));
    assert!(webhooks.contains("HTTPService.ТБ_Asterisk.URLTemplate.Push.Method.POST"));
    assert!(!webhooks.contains("CommonForm."));
    assert!(
        !webhooks.contains("ТБ_ЗащищенныеНастройки"),
        "secrets are read in privileged mode only"
    );
}

#[test]
fn every_form_item_shows_an_attribute_of_its_form() {
    for (_, name) in listed_objects()
        .into_iter()
        .filter(|(k, _)| k == "CommonForm")
    {
        let form = parse(&dump().join(format!("CommonForms/{name}/Ext/Form.xml")));
        let attributes: BTreeMap<String, BTreeSet<String>> = form
            .child("Attributes")
            .map(|a| {
                a.children_named("Attribute")
                    .map(|attr| {
                        let columns = attr
                            .child("Columns")
                            .map(|c| {
                                c.children_named("Column")
                                    .map(|c| c.attrs["name"].clone())
                                    .collect()
                            })
                            .unwrap_or_default();
                        (attr.attrs["name"].clone(), columns)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut paths = Vec::new();
        form.descendants("DataPath", &mut paths);
        assert!(!paths.is_empty());
        for p in paths {
            let path = p.text.trim();
            let (attribute, column) = match path.split_once('.') {
                Some((a, c)) => (a, Some(c)),
                None => (path, None),
            };
            let columns = attributes.get(attribute).unwrap_or_else(|| {
                panic!("CommonForm.{name}: DataPath {path}: no attribute {attribute}")
            });
            if let Some(column) = column {
                assert!(
                    columns.contains(column),
                    "CommonForm.{name}: DataPath {path}: no column {column}"
                );
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------------------------
// The «Телефония» section: what a user reaches from it, and what he must not.
// ------------------------------------------------------------------------------------------------------------------

/// The common form that opens only for a call (ТБ_ТелефонияКлиент.ОткрытьКарточкуЗвонка), never from a command.
const POPUP_FORM: &str = "ТБ_ВходящийЗвонок";
/// The forms the section must open: the operator's panel, the call journal, the administrator's settings. (The raw
/// event history, ТБ_ИсторияЗвонков, is the administrator's: the journal opens it for him.)
const SECTION_FORMS: &[&str] = &[
    "ТБ_ПанельТелефонии",
    "ТБ_ЖурналЗвонков",
    "ТБ_НастройкиТелефонии",
];
/// The register that holds secrets when the base has no БСП: never listed anywhere.
const SECRETS_REGISTER: &str = "InformationRegister.ТБ_ЗащищенныеНастройки";
/// Command groups seen in real 2.13 dumps of common commands (the БСП demo, ValentinKozlov/1C_PrometheusExporter
/// src/cfe at fd1a18e, CommonCommands/*.xml): the command interface places a command by these.
const KNOWN_COMMAND_GROUPS: &[&str] = &[
    "NavigationPanelOrdinary",
    "NavigationPanelSeeAlso",
    "ActionsPanelTools",
    "ActionsPanelCreate",
    "ActionsPanelReports",
];

/// What is wrong with the section of the dump at `root`: the subsystem, the common commands and the common forms.
fn section_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let cfg = parse(&root.join("Configuration.xml"));
    let listed: Vec<(String, String)> = cfg
        .path(&["Configuration", "ChildObjects"])
        .map(|c| {
            c.children
                .iter()
                .map(|o| (o.name.clone(), o.text.trim().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let subsystem = parse(&root.join("Subsystems/ТБ_Телефония.xml"));
    let content: Vec<String> = subsystem
        .path(&["Subsystem", "Properties", "Content"])
        .map(|c| {
            c.children
                .iter()
                .map(|i| i.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if content.iter().any(|i| i == SECRETS_REGISTER) {
        problems.push(format!("the section lists {SECRETS_REGISTER}"));
    }
    // Forms carry no standard command: only the section's common commands and code open them.
    for (_, form) in listed.iter().filter(|(k, _)| k == "CommonForm") {
        let xml = parse(&root.join(format!("CommonForms/{form}.xml")));
        let standard = xml
            .path(&["CommonForm", "Properties", "UseStandardCommands"])
            .map(|n| n.text.trim().to_string());
        if standard.as_deref() != Some("false") {
            problems.push(format!(
                "CommonForm.{form}: UseStandardCommands is not false"
            ));
        }
    }
    let mut opened = BTreeSet::new();
    for (_, command) in listed.iter().filter(|(k, _)| k == "CommonCommand") {
        let xml = parse(&root.join(format!("CommonCommands/{command}.xml")));
        let group = xml
            .path(&["CommonCommand", "Properties", "Group"])
            .map(|n| n.text.trim().to_string())
            .unwrap_or_default();
        if !KNOWN_COMMAND_GROUPS.contains(&group.as_str()) {
            problems.push(format!(
                "CommonCommand.{command}: group «{group}» is not one the platform writes"
            ));
        }
        if !content.contains(&format!("CommonCommand.{command}")) {
            problems.push(format!("CommonCommand.{command} is not in the section"));
        }
        let module = root.join(format!("CommonCommands/{command}/Ext/CommandModule.bsl"));
        let text = std::fs::read_to_string(&module).unwrap_or_default();
        if !declared_methods(&module).contains("обработкакоманды") {
            problems.push(format!("CommonCommand.{command}: no ОбработкаКоманды"));
        }
        for (_, form) in listed.iter().filter(|(k, _)| k == "CommonForm") {
            if text.contains(&format!("\"ОбщаяФорма.{form}\"")) {
                opened.insert(form.clone());
            }
        }
    }
    for form in SECTION_FORMS {
        if !opened.contains(*form) {
            problems.push(format!("no command of the section opens CommonForm.{form}"));
        }
    }
    if opened.contains(POPUP_FORM) {
        problems.push(format!("a command opens the popup CommonForm.{POPUP_FORM}"));
    }
    problems
}

/// A copy of the files `section_problems` reads, to plant defects in.
fn section_copy(name: &str) -> PathBuf {
    let to = std::env::temp_dir().join(format!("tb-section-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    for file in files("xml").into_iter().chain(files("bsl")) {
        let r = rel(&file);
        if r == "Configuration.xml"
            || r.starts_with("Subsystems/")
            || r.starts_with("CommonCommands/")
            || (r.starts_with("CommonForms/") && r.matches('/').count() == 1)
        {
            let dest = to.join(&r);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&file, dest).expect("copy");
        }
    }
    to
}

fn plant(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file}: nothing to replace: {from}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn the_section_opens_the_panel_history_and_settings_and_never_lists_secrets() {
    assert_eq!(section_problems(&dump()), Vec::<String>::new());

    // Mutations: each planted defect is seen.
    let subsystem = "Subsystems/ТБ_Телефония.xml";
    let item = |r: &str| format!("<xr:Item xsi:type=\"xr:MDObjectRef\">{r}</xr:Item>");
    let cases: Vec<(&str, String, String, String, &str)> = vec![
        (
            "secrets",
            subsystem.to_string(),
            item("CommonForm.ТБ_ПанельТелефонии"),
            format!(
                "{}{}",
                item(SECRETS_REGISTER),
                item("CommonForm.ТБ_ПанельТелефонии")
            ),
            "lists InformationRegister.ТБ_ЗащищенныеНастройки",
        ),
        (
            "not-in-section",
            subsystem.to_string(),
            item("CommonCommand.ТБ_ОткрытьИсториюЗвонков"),
            String::new(),
            "ТБ_ОткрытьИсториюЗвонков is not in the section",
        ),
        (
            "popup",
            "CommonCommands/ТБ_ОткрытьИсториюЗвонков/Ext/CommandModule.bsl".to_string(),
            "\"ОбщаяФорма.ТБ_ЖурналЗвонков\"".to_string(),
            "\"ОбщаяФорма.ТБ_ВходящийЗвонок\"".to_string(),
            "opens the popup",
        ),
        (
            "standard-commands",
            "CommonForms/ТБ_ВходящийЗвонок.xml".to_string(),
            "<UseStandardCommands>false</UseStandardCommands>".to_string(),
            "<UseStandardCommands>true</UseStandardCommands>".to_string(),
            "ТБ_ВходящийЗвонок: UseStandardCommands",
        ),
        (
            "group",
            "CommonCommands/ТБ_ОткрытьПанельТелефонии.xml".to_string(),
            "<Group>NavigationPanelOrdinary</Group>".to_string(),
            "<Group>NavigationPanelMain</Group>".to_string(),
            "is not one the platform writes",
        ),
    ];
    for (name, file, from, to, expected) in cases {
        let copy = section_copy(name);
        plant(&copy, &file, &from, &to);
        let problems = section_problems(&copy);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{name}: planted defect not seen: {problems:?}"
        );
        std::fs::remove_dir_all(&copy).expect("cleanup");
    }
}

// ------------------------------------------------------------------------------------------------------------------
// The session state: the extension's own variable, never БСП's ПараметрыПриложения.
// ------------------------------------------------------------------------------------------------------------------

/// The extension's exported variable of the application module that holds the session's telephony state.
const STATE_VARIABLE: &str = "ТБ_Телефония";

/// What is wrong with where the modules keep the session state: (relative path, text) of every BSL module.
fn session_state_problems(modules: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let declared = modules.iter().any(|(r, text)| {
        r == "Ext/ManagedApplicationModule.bsl"
            && text.lines().any(|l| {
                let code = code_part(l);
                let words: Vec<&str> = code
                    .split(|c: char| c.is_whitespace() || c == ';')
                    .filter(|w| !w.is_empty())
                    .collect();
                words.len() == 3
                    && words[0].to_lowercase() == "перем"
                    && words[1] == STATE_VARIABLE
                    && words[2].to_lowercase() == "экспорт"
            })
    });
    if !declared {
        problems.push(format!(
            "the application module does not declare «Перем {STATE_VARIABLE} Экспорт;»"
        ));
    }
    for (r, text) in modules {
        for (n, l) in text.lines().enumerate() {
            let code = without_strings(&code_part(l));
            if code.to_lowercase().contains("параметрыприложения") {
                problems.push(format!(
                    "{r}:{}: ПараметрыПриложения is БСП's variable, a bare base has none",
                    n + 1
                ));
            }
        }
    }
    problems
}

#[test]
fn the_session_state_lives_in_the_extensions_own_variable() {
    let modules: Vec<(String, String)> = files("bsl").iter().map(|p| (rel(p), read(p))).collect();
    assert_eq!(session_state_problems(&modules), Vec::<String>::new());
    let client = "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl";
    assert!(
        modules
            .iter()
            .any(|(r, t)| r == client && t.contains(&format!("{STATE_VARIABLE} = Состояние"))),
        "ТБ_ТелефонияКлиент keeps the state in {STATE_VARIABLE}"
    );

    // Mutations: БСП's variable back in the client module; the declaration gone.
    let mut planted = modules.clone();
    let (_, text) = planted
        .iter_mut()
        .find(|(r, _)| r == client)
        .expect("client module");
    *text = text.replacen(
        &format!("{STATE_VARIABLE} = Состояние"),
        "ПараметрыПриложения.Вставить(\"TelephonyBridge.Телефония\", Состояние)",
        1,
    );
    let problems = session_state_problems(&planted);
    assert!(
        problems.iter().any(|p| p.starts_with(client)),
        "{problems:?}"
    );

    let mut undeclared = modules.clone();
    let (_, text) = undeclared
        .iter_mut()
        .find(|(r, _)| r == "Ext/ManagedApplicationModule.bsl")
        .expect("application module");
    *text = text.replacen(&format!("Перем {STATE_VARIABLE} Экспорт;"), "", 1);
    let problems = session_state_problems(&undeclared);
    assert!(
        problems.iter().any(|p| p.contains("does not declare")),
        "{problems:?}"
    );
}

/// The application module the package writes for each kind of base (package::extension): every variant parses, and
/// hooks with `&После("<имя>")` exactly the handlers its base declares, under the extension's own ТБ_ name.
#[test]
fn every_variant_of_the_application_module_parses_and_hooks_only_what_its_base_has() {
    use package::extension::{
        application_module, declared_handlers, Variant, EXTERNAL_EVENT, START,
    };
    let source = read(&dump().join("Ext/ManagedApplicationModule.bsl"));
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("the BSL grammar loads");
    for variant in Variant::ALL {
        let module = application_module(&source, variant).expect("the variant is derived");
        let tree = parser.parse(&module, None).expect("a tree");
        assert!(
            !tree.root_node().has_error(),
            "{}: syntax error (tree-sitter-bsl)",
            variant.name()
        );
        for handler in [START, EXTERNAL_EVENT] {
            let hook = format!("&После(\"{handler}\")\nПроцедура ТБ_{handler}(");
            assert_eq!(
                module.contains(&hook),
                variant.hooked().contains(&handler),
                "{}: {handler}",
                variant.name()
            );
        }
        let own = declared_handlers(&module);
        assert_eq!(own.start, !variant.hooked().contains(&START));
        assert_eq!(
            own.external_event,
            !variant.hooked().contains(&EXTERNAL_EVENT)
        );
        // The state variable and the idle handler are in every variant.
        assert!(module.contains("Перем ТБ_Телефония Экспорт;"));
        assert!(module.contains("Процедура ТБ_ОткрытьОтложенныеКарточки() Экспорт"));
    }
}

// ------------------------------------------------------------------------------------------------------------------
// БСП: used where present (the add-in attached through it, standard 669), never required.
// ------------------------------------------------------------------------------------------------------------------

/// БСП modules the extension uses when the base has them; reached only by name (`Вычислить("<имя>")`).
const BSP_MODULES: &[&str] = &["ОбщегоНазначения", "ОбщегоНазначенияКлиент"];

/// What is wrong with how the modules reach БСП: (relative path, text) of every BSL module.
fn bsp_reach_problems(modules: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (r, text) in modules {
        for (n, l) in text.lines().enumerate() {
            let code: Vec<char> = without_strings(&code_part(l)).chars().collect();
            for module in BSP_MODULES {
                let needle: Vec<char> = format!("{module}.").chars().collect();
                let direct = (0..code.len()).any(|i| {
                    code[i..].starts_with(&needle)
                        && (i == 0 || !(code[i - 1].is_alphanumeric() || code[i - 1] == '_'))
                });
                if direct {
                    problems.push(format!(
                        "{r}:{}: {module} called directly: a base without БСП does not compile it",
                        n + 1
                    ));
                }
            }
        }
    }
    let client = modules
        .iter()
        .find(|(r, _)| r == "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl")
        .map(|(_, t)| t.as_str())
        .unwrap_or("");
    for needed in [
        "ТБ_ТелефонияВызовСервера.ЕстьПодключениеКомпонентБСП()",
        "Вычислить(\"ОбщегоНазначенияКлиент\")",
        ".ПодключитьКомпонентуИзМакета(",
        "ПодключитьВнешнююКомпонентуАсинх(",
    ] {
        if !client.contains(needed) {
            problems.push(format!("ТБ_ТелефонияКлиент: no {needed}"));
        }
    }
    problems
}

#[test]
fn bsp_is_reached_by_name_behind_a_presence_flag_and_attaches_the_add_in() {
    let modules: Vec<(String, String)> = files("bsl").iter().map(|p| (rel(p), read(p))).collect();
    assert_eq!(bsp_reach_problems(&modules), Vec::<String>::new());
    // The server's flag checks access before anything else and asks the metadata, not the code.
    let server = read(&dump().join("CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl"));
    let body: Vec<&str> = server
        .split("Функция ЕстьПодключениеКомпонентБСП() Экспорт")
        .nth(1)
        .expect("the flag function")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    assert!(body[0].starts_with("Если Не ПравоДоступа("), "{body:?}");
    assert!(body
        .iter()
        .any(|l| l.contains("Метаданные.ОбщиеМодули.Найти(\"ОбщегоНазначенияКлиент\")")));

    // Mutation: the attach calls БСП directly.
    let mut planted = modules.clone();
    let (_, text) = planted
        .iter_mut()
        .find(|(r, _)| r.ends_with("ТБ_ТелефонияКлиент/Ext/Module.bsl"))
        .expect("client module");
    *text = text.replacen(
        "МодульОбщегоНазначенияКлиент.ПодключитьКомпонентуИзМакета(",
        "ОбщегоНазначенияКлиент.ПодключитьКомпонентуИзМакета(",
        1,
    );
    let problems = bsp_reach_problems(&planted);
    assert!(
        problems.iter().any(|p| p.contains("called directly")),
        "{problems:?}"
    );
    // Mutation: the client attaches with platform calls only.
    let mut platform_only = modules.clone();
    let (_, text) = platform_only
        .iter_mut()
        .find(|(r, _)| r.ends_with("ТБ_ТелефонияКлиент/Ext/Module.bsl"))
        .expect("client module");
    *text = text.replace(".ПодключитьКомпонентуИзМакета(", ".Другое(");
    let problems = bsp_reach_problems(&platform_only);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("ПодключитьКомпонентуИзМакета")),
        "{problems:?}"
    );
}

/// Files a Designer dump of format 2.13 holds: metadata and forms (`.xml`), modules (`.bsl`), help pages (`.html`),
/// text templates (`Ext/Template.txt`), plus our README. Anything else — a merge's `.rej`/`.orig`, an editor's
/// backup — would be copied into every packaged variant and loaded by `ibcmd`, so it is refused here.
fn stray_files(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            let allowed = name.ends_with(".xml")
                || name.ends_with(".bsl")
                || name.ends_with(".html")
                || (name == "Template.txt" && p.ends_with("/Ext/Template.txt"))
                || p.as_str() == "README.md";
            !allowed
        })
        .cloned()
        .collect()
}

fn all_dump_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dump(), &mut out);
    let mut rels: Vec<String> = out.iter().map(|p| rel(p).replace('\\', "/")).collect();
    rels.sort();
    rels
}

#[test]
fn the_dump_holds_no_stray_files() {
    let stray = stray_files(&all_dump_files());
    assert!(
        stray.is_empty(),
        "files that are not part of a 2.13 dump: {stray:?}"
    );
}

#[test]
fn mutation_stray_files_are_found() {
    let mut paths = all_dump_files();
    assert!(stray_files(&paths).is_empty());
    for planted in [
        "CommonForms/ТБ_ПанельТелефонии/Ext/Form.xml.rej",
        "Subsystems/ТБ_Телефония.xml.orig",
        "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl~",
        "Template.txt",
    ] {
        paths.push(planted.to_string());
        assert_eq!(
            stray_files(&paths),
            vec![planted.to_string()],
            "{planted} not refused"
        );
        paths.pop();
    }
}
