//! The call journal and the call reports of the extension (issue 19, items 3 and 5): the reports' data-composition
//! schemas, who reaches the journal, the missed calls and the reports from the «Телефония» section, and that the BSL
//! and the schema say what the rules of `tb_calls::journal` say. Each check is a function over a dump directory
//! returning its violations; each has a mutation test that plants the defect in a temporary copy.
//!
//! - Schemas: every report's main schema is a template of type DataCompositionSchema whose `Template.xml` parses;
//!   every register a query reads is an object of the dump and every field it names exists in that register; every
//!   field the data set declares is selected by the query; every `&Параметр` is declared; every field a settings
//!   variant names is a field of the schema; every variant draws a chart.
//! - Access: each report and each section command is in the subsystem ТБ_Телефония and seen (View; Use for reports)
//!   by exactly the roles listed in [`SECTION`]; the reports' operator restriction is a schema parameter the user
//!   cannot change, set by the object module after its role check.
//! - Agreement: the journal's filter table (ТБ_ТелефонияЖурнал.УсловияОтборов), its scope tables
//!   (ОбластиПользователя, ОператорыОбласти), the filters the journal form offers, the missed-calls command's filter
//!   and the report's callback intervals equal `tb_calls::journal`.
//! - ConfigDumpInfo.xml lists each report, its object module and its templates under their files' uuids.
//! - Refresh: the journal follows the client's call events with one debounced reload, never a server call per event.

#[path = "support/bsl_names.rs"]
mod bsl_names;
#[path = "support/dump_checks.rs"]
mod dump_checks;

use std::collections::BTreeSet;
#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{dump, read_path, without_strings};
use std::path::{Path, PathBuf};

use dump_checks::Node;
use tb_calls::journal::{
    offered_scopes, operators_for, FieldValue, JournalFilter, Scope, CALLBACK_INTERVALS,
    CALLBACK_LATER, CALLBACK_NONE,
};

/// The root element of an XML file (the parser's document node holds it).
fn root(path: &Path) -> Node {
    let doc = dump_checks::parse(path);
    doc.children.into_iter().next().unwrap_or_default()
}

fn texts<'a>(node: &'a Node, name: &str) -> Vec<&'a Node> {
    let mut out = Vec::new();
    node.walk(&mut |n, _| {
        if n.name == name {
            out.push(n);
        }
    });
    out
}

/// Words (letters, digits, `_`) of a text, each with the character that follows it.
fn words(text: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_alphanumeric() || chars[i] == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), start));
        } else {
            i += 1;
        }
    }
    out
}

/// Names of the fields (dimensions, resources, attributes) of a register of the dump; `None` if it is not there.
fn register_fields(dump: &Path, register: &str) -> Option<BTreeSet<String>> {
    let path = dump.join(format!("InformationRegisters/{register}.xml"));
    if !path.exists() {
        return None;
    }
    let object = root(&path);
    let mut out = BTreeSet::new();
    if let Some(children) = object
        .child("InformationRegister")
        .and_then(|r| r.child("ChildObjects"))
    {
        for c in &children.children {
            if let Some(name) = c.path(&["Properties", "Name"]) {
                out.insert(name.text.trim().to_string());
            }
        }
    }
    Some(out)
}

/// (register, alias) of every `РегистрСведений.<Имя> КАК <Псевдоним>` of a query.
fn sources(query: &str) -> Vec<(String, String)> {
    let w = words(query);
    let mut out = Vec::new();
    for i in 0..w.len() {
        if w[i].0 == "РегистрСведений" && i + 3 < w.len() && w[i + 2].0 == "КАК" {
            out.push((w[i + 1].0.clone(), w[i + 3].0.clone()));
        }
    }
    out
}

/// What is wrong with the data-composition schemas of the reports of the dump at `dump`.
fn schema_problems(dump: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let reports = dump_checks::names_in(dump, "Reports");
    if reports.is_empty() {
        out.push("the dump has no report".into());
    }
    for report in reports {
        let object = root(&dump.join(format!("Reports/{report}.xml")));
        let main = object
            .path(&["Report", "Properties", "MainDataCompositionSchema"])
            .map(|n| n.text.trim().to_string())
            .unwrap_or_default();
        let Some(template) = main
            .strip_prefix(&format!("Report.{report}.Template."))
            .map(str::to_string)
        else {
            out.push(format!(
                "Reports/{report}: MainDataCompositionSchema «{main}» is not a template of the report"
            ));
            continue;
        };
        let listed = object.path(&["Report", "ChildObjects"]).is_some_and(|c| {
            c.children
                .iter()
                .any(|t| t.name == "Template" && t.text.trim() == template)
        });
        if !listed {
            out.push(format!(
                "Reports/{report}: template {template} is not among its ChildObjects"
            ));
        }
        let kind = root(&dump.join(format!("Reports/{report}/Templates/{template}.xml")))
            .path(&["Template", "Properties", "TemplateType"])
            .map(|n| n.text.trim().to_string())
            .unwrap_or_default();
        if kind != "DataCompositionSchema" {
            out.push(format!(
                "Reports/{report}: template {template} is of type «{kind}»"
            ));
        }
        let file = format!("Reports/{report}/Templates/{template}/Ext/Template.xml");
        let text = read_path(&dump.join(&file));
        let schema = match dump_checks::parse_str(&text) {
            Ok(doc) => doc.children.into_iter().next().unwrap_or_default(),
            Err(e) => {
                out.push(format!("{file}: does not parse: {e}"));
                continue;
            }
        };
        if schema.name != "DataCompositionSchema" {
            out.push(format!("{file}: root <{}>", schema.name));
            continue;
        }
        out.extend(schema_fields_problems(dump, &file, &schema));
    }
    out
}

fn schema_fields_problems(dump: &Path, file: &str, schema: &Node) -> Vec<String> {
    let mut out = Vec::new();
    let parameters: BTreeSet<String> = schema
        .children
        .iter()
        .filter(|c| c.name == "parameter")
        .filter_map(|p| p.child("name").map(|n| n.text.trim().to_string()))
        .collect();
    let mut known: BTreeSet<String> = BTreeSet::new();
    for set in schema.children.iter().filter(|c| c.name == "dataSet") {
        let query = set
            .child("query")
            .map(|q| q.text.clone())
            .unwrap_or_default();
        let code = without_strings(&query);
        let w = words(&code);
        let selected: BTreeSet<String> = w
            .windows(2)
            .filter(|p| p[0].0 == "КАК")
            .map(|p| p[1].0.clone())
            .collect();
        for (register, alias) in sources(&code) {
            let Some(fields) = register_fields(dump, &register) else {
                out.push(format!("{file}: the query reads РегистрСведений.{register}, which the dump does not have"));
                continue;
            };
            let chars: Vec<char> = code.chars().collect();
            for (word, at) in &w {
                if *word != alias || chars.get(at + alias.chars().count()) != Some(&'.') {
                    continue;
                }
                let rest: String = chars[at + alias.chars().count() + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                if !fields.contains(&rest) {
                    out.push(format!(
                        "{file}: the query names {alias}.{rest}, which register {register} does not have"
                    ));
                }
            }
        }
        let chars: Vec<char> = code.chars().collect();
        for (word, at) in &w {
            if *at > 0 && chars[at - 1] == '&' && !parameters.contains(word) {
                out.push(format!(
                    "{file}: the query uses &{word}, which is not a parameter of the schema"
                ));
            }
        }
        for field in set.children.iter().filter(|c| c.name == "field") {
            let path = field
                .child("dataPath")
                .map(|n| n.text.trim().to_string())
                .unwrap_or_default();
            if !selected.contains(&path) {
                out.push(format!(
                    "{file}: data set field {path} is not selected by the query"
                ));
            }
            known.insert(path);
        }
    }
    for calc in schema
        .children
        .iter()
        .filter(|c| c.name == "calculatedField")
    {
        if let Some(p) = calc.child("dataPath") {
            known.insert(p.text.trim().to_string());
        }
    }
    for total in schema.children.iter().filter(|c| c.name == "totalField") {
        let p = total
            .child("dataPath")
            .map(|n| n.text.trim().to_string())
            .unwrap_or_default();
        if !known.contains(&p) {
            out.push(format!("{file}: resource {p} is not a field of the schema"));
        }
    }
    for variant in schema
        .children
        .iter()
        .filter(|c| c.name == "settingsVariant")
    {
        let name = variant
            .child("name")
            .map(|n| n.text.trim().to_string())
            .unwrap_or_default();
        let mut named = Vec::new();
        variant.walk(&mut |n, _| {
            let is_field = n.name == "field"
                || (n.name == "left" && n.attrs.get("type").is_some_and(|t| t.ends_with(":Field")));
            if is_field {
                named.push(n.text.trim().to_string());
            }
        });
        for f in named {
            if !known.contains(&f) {
                out.push(format!(
                    "{file}: variant {name} names field {f}, which the schema does not have"
                ));
            }
        }
        let mut charts = 0;
        variant.walk(&mut |n, _| {
            if n.name == "item"
                && n.attrs
                    .get("type")
                    .is_some_and(|t| t == "dcsset:StructureItemChart")
            {
                charts += 1;
            }
        });
        if charts == 0 {
            out.push(format!("{file}: variant {name} draws no chart"));
        }
    }
    out
}

/// Who must see what of the section: (object, rights it needs, roles that have them). Every other role of the
/// extension must not have them. Operators see their journal, the missed calls and the reports on their own calls
/// (the report narrows itself to `ВидимыеОператоры`); the supervisor's role ТБ_ПросмотрВсехЗвонков sees the section
/// and the reports; the raw event history is the administrator's; the webhook user sees nothing of it.
const SECTION: &[(&str, &[&str], &[&str])] = &[
    (
        "Subsystem.ТБ_Телефония",
        &["View"],
        &[
            "ТБ_АдминистраторТелефонии",
            "ТБ_ОператорТелефонии",
            "ТБ_ПросмотрВсехЗвонков",
        ],
    ),
    (
        "CommonCommand.ТБ_ОткрытьИсториюЗвонков",
        &["View"],
        &["ТБ_АдминистраторТелефонии", "ТБ_ОператорТелефонии"],
    ),
    (
        "CommonCommand.ТБ_ОткрытьПропущенныеЗвонки",
        &["View"],
        &["ТБ_АдминистраторТелефонии", "ТБ_ОператорТелефонии"],
    ),
    (
        "CommonForm.ТБ_ЖурналЗвонков",
        &["View"],
        &["ТБ_АдминистраторТелефонии", "ТБ_ОператорТелефонии"],
    ),
    (
        "CommonForm.ТБ_КарточкаЗвонка",
        &["View"],
        &["ТБ_АдминистраторТелефонии", "ТБ_ОператорТелефонии"],
    ),
    (
        "CommonForm.ТБ_ИсторияЗвонков",
        &["View"],
        &["ТБ_АдминистраторТелефонии"],
    ),
    (
        "Report.ТБ_АнализЗвонков",
        &["Use", "View"],
        &[
            "ТБ_АдминистраторТелефонии",
            "ТБ_ОператорТелефонии",
            "ТБ_ПросмотрВсехЗвонков",
        ],
    ),
];

/// Rights a role's Rights.xml grants on an object (names of the rights whose value is true).
fn granted(rights: &Node, object: &str) -> BTreeSet<String> {
    rights
        .children
        .iter()
        .filter(|o| o.name == "object" && o.child("name").is_some_and(|n| n.text.trim() == object))
        .flat_map(|o| o.children.iter().filter(|r| r.name == "right"))
        .filter(|r| r.child("value").is_some_and(|v| v.text.trim() == "true"))
        .filter_map(|r| r.child("name").map(|n| n.text.trim().to_string()))
        .collect()
}

/// What is wrong with who reaches the journal, the missed calls and the reports.
fn access_problems(dump: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let content: BTreeSet<String> = dump_checks::subsystem_content(dump)
        .into_iter()
        .filter(|(file, _)| file == "Subsystems/ТБ_Телефония.xml")
        .map(|(_, item)| item)
        .collect();
    let roles: Vec<(String, Node)> = dump_checks::names_in(dump, "Roles")
        .into_iter()
        .map(|r| {
            let rights = root(&dump.join(format!("Roles/{r}/Ext/Rights.xml")));
            (r, rights)
        })
        .collect();
    let reports: Vec<String> = dump_checks::names_in(dump, "Reports")
        .into_iter()
        .map(|r| format!("Report.{r}"))
        .collect();
    for report in &reports {
        if !SECTION.iter().any(|(o, _, _)| o == report) {
            out.push(format!(
                "{report}: no line in SECTION says which roles see it"
            ));
        }
    }
    for (object, needed, allowed) in SECTION {
        if !object.starts_with("Subsystem.") && !content.contains(*object) {
            out.push(format!("{object} is not in the section ТБ_Телефония"));
        }
        for (role, rights) in &roles {
            let has = granted(rights, object);
            let sees = needed.iter().all(|r| has.contains(*r));
            let should = allowed.contains(&role.as_str());
            if should && !sees {
                out.push(format!(
                    "Roles/{role}: does not grant {needed:?} on {object}: the role cannot reach it"
                ));
            }
            if !should && needed.iter().any(|r| has.contains(*r)) {
                out.push(format!(
                    "Roles/{role}: grants {has:?} on {object}, which this role must not see"
                ));
            }
        }
    }
    for report in dump_checks::names_in(dump, "Reports") {
        out.extend(report_restriction_problems(dump, &report));
    }
    out
}

/// The report shows only the operators `ВидимыеОператоры()` allows: the schema's restriction parameters are not the
/// user's (useRestriction), the query applies them, and the object module sets them after its role check.
fn report_restriction_problems(dump: &Path, report: &str) -> Vec<String> {
    let mut out = Vec::new();
    let schema = root(&dump.join(format!(
        "Reports/{report}/Templates/ОсновнаяСхемаКомпоновкиДанных/Ext/Template.xml"
    )));
    let query: String = texts(&schema, "query")
        .iter()
        .map(|q| q.text.clone())
        .collect();
    for name in ["ВсеОператоры", "ВидимыеОператоры"] {
        let parameter = schema.children.iter().find(|p| {
            p.name == "parameter" && p.child("name").is_some_and(|n| n.text.trim() == name)
        });
        match parameter {
            None => out.push(format!(
                "Reports/{report}: the schema has no parameter {name}"
            )),
            Some(p) => {
                if p.child("useRestriction").map(|n| n.text.trim()) != Some("true") {
                    out.push(format!(
                        "Reports/{report}: parameter {name} is not restricted (useRestriction): the user could set it"
                    ));
                }
            }
        }
        if !query.contains(&format!("&{name}")) {
            out.push(format!(
                "Reports/{report}: the query does not apply &{name}"
            ));
        }
    }
    let module_path = dump.join(format!("Reports/{report}/Ext/ObjectModule.bsl"));
    let module = bsl_names::parse_module(&read_path(&module_path));
    match module.method("ПриКомпоновкеРезультата") {
        None => out.push(format!(
            "Reports/{report}: the object module has no ПриКомпоновкеРезультата"
        )),
        Some(m) => {
            let first = m
                .statements
                .first()
                .map(|(_, _, t)| t.trim().to_string())
                .unwrap_or_default();
            if !first.starts_with("ПроверитьПрава") {
                out.push(format!(
                    "Reports/{report}: ПриКомпоновкеРезультата does not check the role first (it starts with `{first}`)"
                ));
            }
            let body: String = m
                .statements
                .iter()
                .map(|(_, _, t)| t.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            for needle in [
                "ТБ_ТелефонияПраваЗвонков.ВидимыеОператоры()",
                "УстановитьЗначениеПараметра(\"ВсеОператоры\"",
                "УстановитьЗначениеПараметра(\"ВидимыеОператоры\"",
                "СтандартнаяОбработка = Ложь",
            ] {
                if !body.contains(needle) {
                    out.push(format!(
                        "Reports/{report}: ПриКомпоновкеРезультата lacks `{needle}`"
                    ));
                }
            }
        }
    }
    out
}

/// (filter name, condition) rows of `ТБ_ТелефонияЖурнал.УсловияОтборов` as the BSL writes them.
fn bsl_filter_table(dump: &Path) -> Vec<(String, Option<(String, String)>)> {
    let text = read_path(&dump.join("CommonModules/ТБ_ТелефонияЖурнал/Ext/Module.bsl"));
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("Условия.Вставить(\"") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let rest = rest.trim_start_matches(',').trim();
        let condition = rest.strip_prefix("УсловиеОтбора(\"").and_then(|r| {
            let (field, value) = r.split_once('"')?;
            let value = value
                .trim_start_matches(',')
                .trim()
                .trim_end_matches(");")
                .trim_end_matches(')');
            Some((field.to_string(), value.trim().to_string()))
        });
        rows.push((name.to_string(), condition));
    }
    rows
}

fn rust_value(v: FieldValue) -> String {
    match v {
        FieldValue::Flag(true) => "Истина".into(),
        FieldValue::Flag(false) => "Ложь".into(),
        FieldValue::Status(s) => format!("\"{s}\""),
    }
}

/// Where the BSL's filters disagree with `tb_calls::journal`.
fn filter_problems(dump: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let expected: Vec<(String, Option<(String, String)>)> = JournalFilter::ALL
        .into_iter()
        .map(|f| {
            (
                f.name().to_string(),
                f.condition()
                    .map(|c| (c.field.to_string(), rust_value(c.value))),
            )
        })
        .collect();
    let bsl = bsl_filter_table(dump);
    if bsl != expected {
        out.push(format!(
            "ТБ_ТелефонияЖурнал.УсловияОтборов says {bsl:?}, tb_calls::journal says {expected:?}"
        ));
    }
    // The journal form offers exactly these filters.
    let form = read_path(&dump.join("CommonForms/ТБ_ЖурналЗвонков/Ext/Form/Module.bsl"));
    let offered: Vec<String> = form
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("Элементы.Отбор.СписокВыбора.Добавить(\"")
        })
        .filter_map(|r| r.split('"').next().map(str::to_string))
        .collect();
    let names: Vec<String> = JournalFilter::ALL
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    if offered != names {
        out.push(format!(
            "the journal form offers {offered:?}, the filters are {names:?}"
        ));
    }
    // The missed-calls command opens the journal with the missed filter.
    let command =
        read_path(&dump.join("CommonCommands/ТБ_ОткрытьПропущенныеЗвонки/Ext/CommandModule.bsl"));
    let filter = command
        .split("Новый Структура(\"Отбор\", \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default();
    if JournalFilter::from_name(filter) != Some(JournalFilter::Missed) {
        out.push(format!("ТБ_ОткрытьПропущенныеЗвонки opens the journal with filter «{filter}», not the missed one"));
    }
    out
}

/// `(key, value)` of every `<map>.Вставить("key", "value");` of a module.
fn string_map(text: &str, map: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{map}.Вставить(\"")))
        .filter_map(|r| {
            let (k, rest) = r.split_once('"')?;
            let v = rest.split('"').nth(1)?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Where the BSL's scope tables (ТБ_ТелефонияЖурнал.ОбластиПользователя, ОператорыОбласти) disagree with
/// `tb_calls::journal::offered_scopes` and `operators_for`.
fn scope_problems(dump: &Path) -> Vec<String> {
    let text = read_path(&dump.join("CommonModules/ТБ_ТелефонияЖурнал/Ext/Module.bsl"));
    let me = "ivanov".to_string();
    let group = vec![me.clone(), "petrov".to_string()];
    let alone = vec![me.clone()];
    let join = |s: Vec<Scope>| s.iter().map(|s| s.name()).collect::<Vec<_>>().join(",");
    let offered = vec![
        ("все".to_string(), join(offered_scopes(None, &me))),
        (
            "группа".to_string(),
            join(offered_scopes(Some(&group), &me)),
        ),
        ("я".to_string(), join(offered_scopes(Some(&alone), &me))),
    ];
    let others = vec!["petrov".to_string()];
    let mut operators = Vec::new();
    for (rights, visible) in [
        ("все", None),
        ("список", Some(group.as_slice())),
        ("чужие", Some(others.as_slice())),
    ] {
        for scope in [Scope::Mine, Scope::Group, Scope::All] {
            let whose = match operators_for(scope, visible, &me) {
                None => "Все",
                Some(list) if list == alone => "Я",
                Some(list) if Some(list.as_slice()) == visible => "Видимые",
                Some(list) if list.is_empty() => "Никого",
                Some(list) => panic!("operators_for gave {list:?}"),
            };
            operators.push((format!("{}|{rights}", scope.name()), whose.to_string()));
        }
    }
    let mut out = Vec::new();
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    let bsl = string_map(&text, "ОбластиПоВидимости");
    if sorted(bsl.clone()) != sorted(offered.clone()) {
        out.push(format!("ТБ_ТелефонияЖурнал.ОбластиПользователя says {bsl:?}, tb_calls::journal says {offered:?}"));
    }
    let bsl = string_map(&text, "ОператорыПоОбласти");
    if sorted(bsl.clone()) != sorted(operators.clone()) {
        out.push(format!("ТБ_ТелефонияЖурнал.ОператорыОбласти says {bsl:?}, tb_calls::journal says {operators:?}"));
    }
    out
}

/// Where the report's callback intervals disagree with `tb_calls::journal`.
fn interval_problems(dump: &Path) -> Vec<String> {
    let schema =
        root(&dump.join(
            "Reports/ТБ_АнализЗвонков/Templates/ОсновнаяСхемаКомпоновкиДанных/Ext/Template.xml",
        ));
    let query: String = texts(&schema, "query")
        .iter()
        .map(|q| q.text.clone())
        .collect();
    let Some(end) = query.find("КАК ИнтервалПерезвона") else {
        return vec!["the report's query has no ИнтервалПерезвона".into()];
    };
    let start = query[..end].rfind("ВЫБОР").unwrap_or(0);
    let case = &query[start..end];
    let mut bounds = Vec::new();
    let mut none = String::new();
    let mut later = String::new();
    let quoted = |s: &str| s.split('"').nth(1).unwrap_or_default().to_string();
    for part in case.split("КОГДА").skip(1) {
        let (cond, then) = part.split_once("ТОГДА").unwrap_or((part, ""));
        let (then, otherwise) = then.split_once("ИНАЧЕ").unwrap_or((then, ""));
        if cond.contains("НЕ Статусы.Перезвонили") {
            none = quoted(then);
        } else if let Some(b) = cond.split("<=").nth(1) {
            bounds.push((b.trim().parse::<i64>().unwrap_or(-1), quoted(then)));
        }
        if !otherwise.is_empty() {
            later = quoted(otherwise);
        }
    }
    let expected: Vec<(i64, String)> = CALLBACK_INTERVALS
        .iter()
        .map(|(b, l)| (*b, l.to_string()))
        .collect();
    let mut out = Vec::new();
    if bounds != expected {
        out.push(format!(
            "the report's callback intervals are {bounds:?}, tb_calls::journal says {expected:?}"
        ));
    }
    if none != CALLBACK_NONE || later != CALLBACK_LATER {
        out.push(format!(
            "the report labels «{none}» and «{later}», tb_calls::journal «{CALLBACK_NONE}» and «{CALLBACK_LATER}»"
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Copies to plant defects in

struct Copy {
    dir: PathBuf,
}

impl Copy {
    fn new(tag: &str) -> Copy {
        fn copy_dir(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("mkdir");
            for e in std::fs::read_dir(from).expect("read_dir") {
                let e = e.expect("entry");
                let target = to.join(e.file_name());
                if e.path().is_dir() {
                    copy_dir(&e.path(), &target);
                } else {
                    std::fs::copy(e.path(), target).expect("copy");
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("tb-ext-reports-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&dump(), &dir);
        Copy { dir }
    }
    fn replace(&self, rel: &str, from: &str, to: &str) {
        let p = self.dir.join(rel);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            text.contains(from),
            "{rel}: the mutation needs `{from}` in it"
        );
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn assert_found(v: &[String], needle: &str) {
    assert!(
        v.iter().any(|x| x.contains(needle)),
        "expected a violation containing «{needle}», got:\n{}",
        v.join("\n")
    );
}

const SCHEMA: &str =
    "Reports/ТБ_АнализЗвонков/Templates/ОсновнаяСхемаКомпоновкиДанных/Ext/Template.xml";

// ---------------------------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_report_schema_reads_fields_its_registers_have_and_draws_a_chart() {
    let v = schema_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_schema_defects_are_found() {
    let copy = Copy::new("schema");
    // A field the register lacks, an undeclared parameter, a variant field the schema lacks, a variant without chart.
    copy.replace(
        SCHEMA,
        "Статусы.Оператор КАК Оператор",
        "Статусы.Сотрудник КАК Оператор",
    );
    copy.replace(
        SCHEMA,
        "МЕЖДУ &amp;НачалоПериода",
        "МЕЖДУ &amp;НачалоОтчета",
    );
    copy.replace(
        SCHEMA,
        "<dcsset:field>Пропущено</dcsset:field>",
        "<dcsset:field>Упущено</dcsset:field>",
    );
    copy.replace(
        SCHEMA,
        "<dcsset:item xsi:type=\"dcsset:StructureItemChart\">",
        "<dcsset:item xsi:type=\"dcsset:StructureItemGroup\">",
    );
    let v = schema_problems(&copy.dir);
    assert_found(
        &v,
        "names Статусы.Сотрудник, which register ТБ_СтатусыЗвонков does not have",
    );
    assert_found(&v, "uses &НачалоОтчета, which is not a parameter");
    assert_found(&v, "names field Упущено");
    assert_found(&v, "variant ПоДням draws no chart");
}

#[test]
fn mutation_schema_of_a_missing_register_or_broken_xml_is_found() {
    let copy = Copy::new("schema-source");
    copy.replace(
        SCHEMA,
        "РегистрСведений.ТБ_СтатусыЗвонков",
        "РегистрСведений.ТБ_НетТакого",
    );
    assert_found(
        &schema_problems(&copy.dir),
        "reads РегистрСведений.ТБ_НетТакого, which the dump does not have",
    );
    let copy = Copy::new("schema-xml");
    copy.replace(SCHEMA, "</dataSet>", "</dataSett>");
    assert_found(&schema_problems(&copy.dir), "does not parse");
    let copy = Copy::new("schema-main");
    copy.replace(
        "Reports/ТБ_АнализЗвонков.xml",
        "<MainDataCompositionSchema>Report.ТБ_АнализЗвонков.Template.ОсновнаяСхемаКомпоновкиДанных",
        "<MainDataCompositionSchema>Report.ТБ_Другой.Template.ОсновнаяСхемаКомпоновкиДанных",
    );
    assert_found(
        &schema_problems(&copy.dir),
        "is not a template of the report",
    );
}

#[test]
fn the_section_is_reached_by_the_roles_that_may_see_it_and_by_no_other() {
    let v = access_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_section_access_defects_are_found() {
    let copy = Copy::new("access");
    // The report leaves the section; the webhook user gets the journal; operators get the raw history; the
    // supervisor loses the report.
    copy.replace(
        "Subsystems/ТБ_Телефония.xml",
        "<xr:Item xsi:type=\"xr:MDObjectRef\">Report.ТБ_АнализЗвонков</xr:Item>",
        "",
    );
    copy.replace(
        "Roles/ТБ_ВебхукиТелефонии/Ext/Rights.xml",
        "</Rights>",
        "\t<object>\n\t\t<name>CommonCommand.ТБ_ОткрытьИсториюЗвонков</name>\n\t\t<right>\n\t\t\t<name>View</name>\n\t\t\t<value>true</value>\n\t\t</right>\n\t</object>\n</Rights>",
    );
    copy.replace(
        "Roles/ТБ_ОператорТелефонии/Ext/Rights.xml",
        "<name>CommonForm.ТБ_КарточкаЗвонка</name>",
        "<name>CommonForm.ТБ_ИсторияЗвонков</name>",
    );
    copy.replace(
        "Roles/ТБ_ПросмотрВсехЗвонков/Ext/Rights.xml",
        "<name>Report.ТБ_АнализЗвонков</name>",
        "<name>Report.ТБ_Другой</name>",
    );
    let v = access_problems(&copy.dir);
    assert_found(&v, "Report.ТБ_АнализЗвонков is not in the section");
    assert_found(&v, "Roles/ТБ_ВебхукиТелефонии: grants");
    assert_found(
        &v,
        "Roles/ТБ_ОператорТелефонии: grants {\"View\"} on CommonForm.ТБ_ИсторияЗвонков",
    );
    assert_found(
        &v,
        "Roles/ТБ_ОператорТелефонии: does not grant [\"View\"] on CommonForm.ТБ_КарточкаЗвонка",
    );
    assert_found(&v, "Roles/ТБ_ПросмотрВсехЗвонков: does not grant [\"Use\", \"View\"] on Report.ТБ_АнализЗвонков");
}

#[test]
fn mutation_report_restriction_defects_are_found() {
    let copy = Copy::new("restriction");
    // The user may set the restriction; the module stops setting it; the role check is no longer first.
    let schema = read_path(&copy.dir.join(SCHEMA));
    let at = schema
        .find("<name>ВсеОператоры</name>")
        .expect("the parameter");
    let tail = &schema[at..];
    let patched = format!(
        "{}{}",
        &schema[..at],
        tail.replacen(
            "<useRestriction>true</useRestriction>",
            "<useRestriction>false</useRestriction>",
            1
        )
    );
    std::fs::write(copy.dir.join(SCHEMA), patched).expect("write");
    let module = "Reports/ТБ_АнализЗвонков/Ext/ObjectModule.bsl";
    copy.replace(
        module,
        "Настройки.ПараметрыДанных.УстановитьЗначениеПараметра(\"ВидимыеОператоры\", Список);",
        "",
    );
    copy.replace(
        module,
        "\tПроверитьПраваОтчета();\n\tСтандартнаяОбработка = Ложь;",
        "\tСтандартнаяОбработка = Ложь;\n\tПроверитьПраваОтчета();",
    );
    let v = access_problems(&copy.dir);
    assert_found(&v, "parameter ВсеОператоры is not restricted");
    assert_found(
        &v,
        "lacks `УстановитьЗначениеПараметра(\"ВидимыеОператоры\"`",
    );
    assert_found(&v, "does not check the role first");
}

#[test]
fn the_journal_filters_are_the_rules_of_tb_calls() {
    let v = filter_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_journal_filter_disagreements_are_found() {
    let copy = Copy::new("filters");
    copy.replace(
        "CommonModules/ТБ_ТелефонияЖурнал/Ext/Module.bsl",
        "УсловиеОтбора(\"Статус\", \"Потерян\")",
        "УсловиеОтбора(\"Статус\", \"Пропущен\")",
    );
    copy.replace(
        "CommonForms/ТБ_ЖурналЗвонков/Ext/Form/Module.bsl",
        "Элементы.Отбор.СписокВыбора.Добавить(\"ПервыйКонтакт\"",
        "Элементы.Отбор.СписокВыбора.Добавить(\"Новые\"",
    );
    copy.replace(
        "CommonCommands/ТБ_ОткрытьПропущенныеЗвонки/Ext/CommandModule.bsl",
        "Новый Структура(\"Отбор\", \"Пропущенные\")",
        "Новый Структура(\"Отбор\", \"Потерянные\")",
    );
    let v = filter_problems(&copy.dir);
    assert_found(&v, "ТБ_ТелефонияЖурнал.УсловияОтборов says");
    assert_found(&v, "the journal form offers");
    assert_found(&v, "with filter «Потерянные»");
}

#[test]
fn the_report_callback_intervals_are_the_rules_of_tb_calls() {
    let v = interval_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_callback_interval_disagreements_are_found() {
    let copy = Copy::new("intervals");
    copy.replace(SCHEMA, "СЕКУНДА) &lt;= 900", "СЕКУНДА) &lt;= 1800");
    copy.replace(SCHEMA, "ИНАЧЕ \"позже суток\"", "ИНАЧЕ \"потом\"");
    let v = interval_problems(&copy.dir);
    assert_found(&v, "the report's callback intervals are [(1800");
    assert_found(&v, "«потом»");
}

#[test]
fn the_journal_scopes_are_the_rules_of_tb_calls() {
    let v = scope_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_journal_scope_disagreements_are_found() {
    let copy = Copy::new("scopes");
    // «Все» offered to a group member; «Все» of a group member widened to everybody.
    copy.replace(
        "CommonModules/ТБ_ТелефонияЖурнал/Ext/Module.bsl",
        "ОбластиПоВидимости.Вставить(\"группа\", \"Мои,Группа\");",
        "ОбластиПоВидимости.Вставить(\"группа\", \"Мои,Группа,Все\");",
    );
    copy.replace(
        "CommonModules/ТБ_ТелефонияЖурнал/Ext/Module.bsl",
        "ОператорыПоОбласти.Вставить(\"Все|список\", \"Видимые\");",
        "ОператорыПоОбласти.Вставить(\"Все|список\", \"Все\");",
    );
    let v = scope_problems(&copy.dir);
    assert_found(&v, "ОбластиПользователя says");
    assert_found(&v, "ОператорыОбласти says");
}

/// The journal reacts to the client's call events (`ОбработкаОповещения` of "ТБ_СобытиеЗвонка") without a server
/// round trip per event: the handler calls no server method of the form and no server-call module, and restarts one
/// idle handler (detached, then attached), which reloads once the burst is over.
fn refresh_problems(dump: &Path) -> Vec<String> {
    let file = "CommonForms/ТБ_ЖурналЗвонков/Ext/Form/Module.bsl";
    let module = bsl_names::parse_module(&read_path(&dump.join(file)));
    let Some(handler) = module.method("ОбработкаОповещения") else {
        return vec![format!(
            "{file}: no ОбработкаОповещения: the journal does not follow call events"
        )];
    };
    let body: String = handler
        .statements
        .iter()
        .map(|(_, _, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    if !body.contains("\"ТБ_СобытиеЗвонка\"") {
        out.push(format!(
            "{file}: ОбработкаОповещения does not react to ТБ_СобытиеЗвонка"
        ));
    }
    for m in module
        .methods
        .iter()
        .filter(|m| m.annotated("НаСервере") || m.annotated("НаСервереБезКонтекста"))
    {
        let called = words(&body)
            .iter()
            .any(|(w, _)| bsl_names::key(w) == bsl_names::key(&m.name));
        if called {
            out.push(format!(
                "{file}: ОбработкаОповещения calls the server method {} on every event",
                m.name
            ));
        }
    }
    if body.contains("ВызовСервера.") {
        out.push(format!(
            "{file}: ОбработкаОповещения calls a server-call module on every event"
        ));
    }
    let attach = body.find("ПодключитьОбработчикОжидания(\"");
    let detach = body.find("ОтключитьОбработчикОжидания(\"");
    match (detach, attach) {
        (Some(d), Some(a)) if d < a => {}
        _ => out.push(format!(
            "{file}: ОбработкаОповещения does not restart one idle handler (ОтключитьОбработчикОжидания, then \
             ПодключитьОбработчикОжидания): events are not debounced"
        )),
    }
    out
}

#[test]
fn the_journal_follows_call_events_with_one_debounced_reload() {
    let v = refresh_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_a_reload_per_event_is_found() {
    let copy = Copy::new("refresh");
    copy.replace(
        "CommonForms/ТБ_ЖурналЗвонков/Ext/Form/Module.bsl",
        "\t\tОтключитьОбработчикОжидания(\"ОбновитьПослеСобытий\");\n\t\tПодключитьОбработчикОжидания(\"ОбновитьПослеСобытий\", 3, Истина);",
        "\t\tЗаполнитьЗвонки();",
    );
    let v = refresh_problems(&copy.dir);
    assert_found(&v, "calls the server method ЗаполнитьЗвонки on every event");
    assert_found(&v, "events are not debounced");
}

/// ConfigDumpInfo.xml lists each report, its object module and each of its templates (object and content) under
/// the uuids of their files, as Designer writes it (`Report.X`, `Report.X.ObjectModule` = `<uuid>.0`,
/// `Report.X.Template.T`, `Report.X.Template.T.Template` = `<template uuid>.0`).
fn dump_info_problems(dump: &Path) -> Vec<String> {
    let info = root(&dump.join("ConfigDumpInfo.xml"));
    let mut ids = std::collections::BTreeMap::new();
    info.walk(&mut |n, _| {
        if n.name == "Metadata" {
            if let (Some(name), Some(id)) = (n.attrs.get("name"), n.attrs.get("id")) {
                ids.insert(name.clone(), id.clone());
            }
        }
    });
    let mut out = Vec::new();
    let mut expect = |name: String, id: String| {
        if ids.get(&name) != Some(&id) {
            out.push(format!(
                "ConfigDumpInfo.xml: {name} is {:?}, its file says {id}",
                ids.get(&name)
            ));
        }
    };
    for report in dump_checks::names_in(dump, "Reports") {
        let object = root(&dump.join(format!("Reports/{report}.xml")));
        let Some(element) = object.child("Report") else {
            continue;
        };
        let uuid = element.attrs.get("uuid").cloned().unwrap_or_default();
        expect(format!("Report.{report}"), uuid.clone());
        if dump
            .join(format!("Reports/{report}/Ext/ObjectModule.bsl"))
            .exists()
        {
            expect(format!("Report.{report}.ObjectModule"), format!("{uuid}.0"));
        }
        for template in element
            .child("ChildObjects")
            .into_iter()
            .flat_map(|c| c.children.iter().filter(|t| t.name == "Template"))
        {
            let t = template.text.trim();
            let tuuid = root(&dump.join(format!("Reports/{report}/Templates/{t}.xml")))
                .child("Template")
                .and_then(|e| e.attrs.get("uuid").cloned())
                .unwrap_or_default();
            expect(format!("Report.{report}.Template.{t}"), tuuid.clone());
            expect(
                format!("Report.{report}.Template.{t}.Template"),
                format!("{tuuid}.0"),
            );
        }
    }
    out
}

#[test]
fn config_dump_info_lists_each_report_its_module_and_templates() {
    let v = dump_info_problems(&dump());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

#[test]
fn mutation_config_dump_info_without_the_schema_is_found() {
    let copy = Copy::new("dump-info");
    copy.replace(
        "ConfigDumpInfo.xml",
        "name=\"Report.ТБ_АнализЗвонков.Template.ОсновнаяСхемаКомпоновкиДанных.Template\"",
        "name=\"Report.ТБ_АнализЗвонков.Template.Другой.Template\"",
    );
    copy.replace(
        "ConfigDumpInfo.xml",
        "name=\"Report.ТБ_АнализЗвонков.ObjectModule\" id=\"ff4195cd-87ce-5a06-94a8-09058fa8c28a.0\"",
        "name=\"Report.ТБ_АнализЗвонков.ObjectModule\" id=\"ff4195cd-87ce-5a06-94a8-09058fa8c28a.1\"",
    );
    let v = dump_info_problems(&copy.dir);
    assert_found(
        &v,
        "Report.ТБ_АнализЗвонков.Template.ОсновнаяСхемаКомпоновкиДанных.Template is None",
    );
    assert_found(&v, "Report.ТБ_АнализЗвонков.ObjectModule is Some");
}
