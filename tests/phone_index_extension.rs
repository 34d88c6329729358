//! The phone-number index in the extension, checked on the dump:
//! - every method reachable from the HTTP services and from the popup's card search (the request path) uses no
//!   `ПОДОБНО`/`LIKE` and reads a catalog only by its reference (a primary-key read, never a scan) or as a one-row
//!   probe (`ВЫБРАТЬ ПЕРВЫЕ 1` without a condition, join, order or grouping: "is there any card", asked only when a
//!   lookup found the index empty, to decide on the automatic rebuild);
//! - the caller is looked up by one read of `ТБ_ИндексТелефонов` filtered on `Номер`, the register's first
//!   dimension (so the read is an index seek);
//! - the card-write subscription names an exported procedure `(Источник, Отказ)` of a server (not client, not
//!   server-call) common module, for the write of any catalog object;
//! - the scheduled job names an exported procedure without parameters of a server common module;
//! - the XML of both (and their place in Configuration.xml) follows the element order real dumps write
//!   (`tests/fixtures/xml-order-2.13/extra.txt`, with its sources).
//!
//! Each check has a mutation test: the defect is planted in an in-memory copy of the dump's texts and the check
//! must report it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{dump, read_path, without_comment};
use std::path::Path;

#[path = "support/bsl_names.rs"]
mod bsl_names;
#[path = "support/dump_checks.rs"]
mod dump_checks;

/// The texts the checks look at, by path relative to the dump (modules and the XML they need).
#[derive(Clone)]
struct Dump {
    files: BTreeMap<String, String>,
}

impl Dump {
    fn load() -> Dump {
        let mut files = BTreeMap::new();
        let mut stack = vec![dump()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dump directory") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("bsl" | "xml")
                ) {
                    let rel = path
                        .strip_prefix(dump())
                        .expect("inside the dump")
                        .to_string_lossy()
                        .replace('\\', "/");
                    files.insert(rel, read_path(&path));
                }
            }
        }
        Dump { files }
    }

    fn get(&self, rel: &str) -> &str {
        self.files
            .get(rel)
            .unwrap_or_else(|| panic!("{rel} is not in the dump"))
    }

    /// A copy with `from` replaced by `to` once in `rel` (the replaced text must be there).
    fn planted(&self, rel: &str, from: &str, to: &str) -> Dump {
        let mut copy = self.clone();
        let text = copy.files.get_mut(rel).expect("file");
        assert!(
            text.contains(from),
            "{rel}: {from:?} is not there to plant on"
        );
        *text = text.replacen(from, to, 1);
        copy
    }

    /// Common module name → its module text.
    fn common_modules(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .filter_map(|(rel, text)| {
                let name = rel
                    .strip_prefix("CommonModules/")?
                    .strip_suffix("/Ext/Module.bsl")?;
                Some((name.to_string(), text.clone()))
            })
            .collect()
    }
}

/// Code without comments; string literals kept (queries live in them).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(without_comment)
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone)]
struct Method {
    name: String,
    params: Vec<String>,
    export: bool,
    body: String,
}

/// The methods of a module: name, parameters, `Экспорт`, body (comments removed).
fn methods(module: &str) -> Vec<Method> {
    let code = without_comments(module);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        let lower = t.to_lowercase();
        let lower = lower.strip_prefix("асинх ").unwrap_or(&lower).to_string();
        let header = ["функция ", "процедура "]
            .iter()
            .any(|k| lower.starts_with(k));
        if header {
            let t = t.strip_prefix("Асинх ").unwrap_or(t);
            let rest = t.split_once(' ').map(|(_, r)| r).unwrap_or("");
            let (name, tail) = rest.split_once('(').unwrap_or((rest, ""));
            let (params, after) = tail.split_once(')').unwrap_or((tail, ""));
            let params = params
                .split(',')
                .map(|p| {
                    let p = p.trim();
                    let p = p.strip_prefix("Знач ").unwrap_or(p);
                    p.split('=').next().unwrap_or("").trim().to_string()
                })
                .filter(|p| !p.is_empty())
                .collect();
            let end = lines[i..]
                .iter()
                .position(|l| {
                    let l = l.trim().to_lowercase();
                    l.starts_with("конецфункции") || l.starts_with("конецпроцедуры")
                })
                .map(|p| i + p)
                .unwrap_or(lines.len());
            out.push(Method {
                name: name.trim().to_string(),
                params,
                export: after.to_lowercase().contains("экспорт"),
                body: lines[i + 1..end].join("\n"),
            });
            i = end;
        }
        i += 1;
    }
    out
}

/// Identifiers followed by `(`, with the module before a dot when there is one: `(Some("М"), "Метод")`.
fn calls(body: &str) -> Vec<(Option<String>, String)> {
    let chars: Vec<char> = body.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    let mut line_start = true;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line_start = true;
            in_string = false;
            i += 1;
            continue;
        }
        if line_start && c.is_whitespace() {
            i += 1;
            continue;
        }
        if line_start && c == '|' {
            in_string = true;
        }
        line_start = false;
        if c == '"' {
            in_string = !in_string;
            i += 1;
            continue;
        }
        if in_string || !ident(c) || (i > 0 && ident(chars[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if chars.get(i) == Some(&'(') {
            let module = (start > 1 && chars[start - 1] == '.').then(|| {
                let mut s = start - 1;
                while s > 0 && ident(chars[s - 1]) {
                    s -= 1;
                }
                chars[s..start - 1].iter().collect::<String>()
            });
            out.push((module, name));
        }
    }
    out
}

/// Every method (module, name) reachable from the HTTP services' modules and the popup's card search.
fn request_path(dump: &Dump) -> Vec<(String, Method)> {
    let modules: BTreeMap<String, Vec<Method>> = dump
        .common_modules()
        .iter()
        .map(|(name, text)| (name.clone(), methods(text)))
        .collect();
    let find = |module: &str, name: &str| -> Option<Method> {
        modules
            .get(module)?
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    let mut queue: VecDeque<(String, Method)> = VecDeque::new();
    for (rel, text) in &dump.files {
        if rel.starts_with("HTTPServices/") && rel.ends_with("/Ext/Module.bsl") {
            for m in methods(text) {
                queue.push_back((rel.clone(), m));
            }
        }
    }
    queue.push_back((
        "ТБ_ТелефонияВызовСервера".into(),
        find("ТБ_ТелефонияВызовСервера", "НайтиКарточку").expect("НайтиКарточку"),
    ));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    while let Some((module, method)) = queue.pop_front() {
        if !seen.insert((module.clone(), method.name.clone())) {
            continue;
        }
        for (target_module, name) in calls(&method.body) {
            let target_module = target_module.unwrap_or_else(|| module.clone());
            if let Some(m) = find(&target_module, &name) {
                queue.push_back((target_module, m));
            }
        }
        out.push((module, method));
    }
    out
}

/// The query texts of a body: each string literal (multi-line ones joined) that holds `ВЫБРАТЬ`.
fn queries(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in body.lines() {
        let t = line.trim_start();
        if let Some(text) = current.as_mut() {
            if let Some(rest) = t.strip_prefix('|') {
                text.push('\n');
                text.push_str(rest);
                if rest.trim_end().ends_with('"') && !rest.trim_end().ends_with("\"\"") {
                    out.push(current.take().unwrap_or_default());
                }
                continue;
            }
            out.push(current.take().unwrap_or_default());
        }
        if let Some(at) = line.find('"') {
            let literal = &line[at + 1..];
            if literal.to_uppercase().contains("ВЫБРАТЬ")
                || literal.to_uppercase().contains("SELECT")
            {
                current = Some(literal.to_string());
            }
        }
    }
    out.extend(current);
    out.into_iter()
        .filter(|q| q.to_uppercase().contains("ВЫБРАТЬ") || q.to_uppercase().contains("SELECT"))
        .collect()
}

/// What on the request path could scan a catalog or match by pattern.
fn scan_problems(dump: &Dump) -> Vec<String> {
    let mut problems = Vec::new();
    for (module, method) in request_path(dump) {
        let upper = method.body.to_uppercase();
        for word in ["ПОДОБНО", " LIKE "] {
            if upper.contains(word) {
                problems.push(format!("{module}.{}: {}", method.name, word.trim()));
            }
        }
        for query in queries(&method.body) {
            let upper = query.to_uppercase();
            // A catalog in FROM (named or substituted): only a read by its reference is allowed.
            let reads_catalog =
                upper.contains("СПРАВОЧНИК.") || upper.contains("CATALOG.") || upper.contains("%1");
            let by_reference = upper.contains(".ССЫЛКА = &") || upper.contains(".REF = &");
            if reads_catalog && !by_reference && !one_row_probe(&upper) {
                problems.push(format!(
                    "{module}.{}: a catalog read that is not by reference",
                    method.name
                ));
            }
        }
    }
    problems
}

/// `ВЫБРАТЬ ПЕРВЫЕ 1 … ИЗ …` with nothing that would make the DBMS look past the first row it meets: no condition,
/// join, order or grouping (an upper-cased query text).
fn one_row_probe(upper: &str) -> bool {
    let words: Vec<&str> = upper.split_whitespace().collect();
    let first_one = words
        .windows(2)
        .any(|w| (w[0] == "ПЕРВЫЕ" || w[0] == "TOP") && w[1] == "1");
    let widened = [
        "ГДЕ",
        "WHERE",
        "СОЕДИНЕНИЕ",
        "JOIN",
        "УПОРЯДОЧИТЬ",
        "ORDER",
        "СГРУППИРОВАТЬ",
        "GROUP",
        "ИМЕЮЩИЕ",
        "HAVING",
    ]
    .iter()
    .any(|w| words.contains(w));
    first_one && !widened
}

const INDEX_MODULE: &str = "CommonModules/ТБ_ИндексТелефоновСервер/Ext/Module.bsl";
const INDEX_REGISTER: &str = "InformationRegisters/ТБ_ИндексТелефонов.xml";

/// The names of the dimensions of an information register, in order.
fn dimensions(register_xml: &str) -> Vec<String> {
    register_xml
        .split("<Dimension ")
        .skip(1)
        .filter_map(|d| {
            let start = d.find("<Name>")? + "<Name>".len();
            Some(d[start..start + d[start..].find("</Name>")?].to_string())
        })
        .collect()
}

/// Whether the caller look-up (`НайтиКарточку` of the index module, reached from the request path) is one read of
/// ТБ_ИндексТелефонов by equality on its first dimension.
fn lookup_problems(dump: &Dump) -> Vec<String> {
    let mut problems = Vec::new();
    let first = dimensions(dump.get(INDEX_REGISTER))
        .into_iter()
        .next()
        .unwrap_or_default();
    if first != "Номер" {
        problems.push(format!(
            "the first dimension of ТБ_ИндексТелефонов is {first:?}, not Номер"
        ));
    }
    let Some(lookup) = methods(dump.get(INDEX_MODULE))
        .into_iter()
        .find(|m| m.name == "НайтиКарточку")
    else {
        return vec!["ТБ_ИндексТелефоновСервер.НайтиКарточку is missing".into()];
    };
    if !request_path(dump)
        .iter()
        .any(|(m, f)| m == "ТБ_ИндексТелефоновСервер" && f.name == "НайтиКарточку")
    {
        problems
            .push("the request path does not reach ТБ_ИндексТелефоновСервер.НайтиКарточку".into());
    }
    let q = queries(&lookup.body);
    if q.len() != 1 {
        problems.push(format!("НайтиКарточку runs {} queries, not one", q.len()));
    }
    for query in q {
        let compact: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if !compact.contains("РегистрСведений.ТБ_ИндексТелефонов КАК Индекс")
        {
            problems.push("НайтиКарточку does not read ТБ_ИндексТелефонов".into());
        }
        if !compact.contains(&format!("ГДЕ Индекс.{first} = &")) {
            problems.push(format!(
                "НайтиКарточку does not filter on Индекс.{first} = &…"
            ));
        }
    }
    problems
}

fn xml_text<'a>(xml: &'a str, element: &str) -> &'a str {
    let open = format!("<{element}>");
    xml.find(&open)
        .and_then(|s| {
            let rest = &xml[s + open.len()..];
            rest.find(&format!("</{element}>")).map(|e| &rest[..e])
        })
        .unwrap_or("")
}

/// `CommonModule.<Модуль>.<Метод>` → the module's XML flags and the method, or what is wrong.
fn handler(dump: &Dump, reference: &str) -> Result<(String, Method), String> {
    let parts: Vec<&str> = reference.trim().split('.').collect();
    let ["CommonModule", module, method] = parts.as_slice() else {
        return Err(format!("{reference}: not CommonModule.<module>.<method>"));
    };
    let xml = dump
        .files
        .get(&format!("CommonModules/{module}.xml"))
        .ok_or_else(|| format!("{reference}: no common module {module}"))?;
    for (flag, wanted) in [
        ("Server", "true"),
        ("ServerCall", "false"),
        ("ClientManagedApplication", "false"),
        ("Global", "false"),
    ] {
        if xml_text(xml, flag) != wanted {
            return Err(format!(
                "{reference}: module {module} has {flag} = {}",
                xml_text(xml, flag)
            ));
        }
    }
    let text = dump
        .files
        .get(&format!("CommonModules/{module}/Ext/Module.bsl"))
        .ok_or_else(|| format!("{reference}: no module text"))?;
    let found = methods(text)
        .into_iter()
        .find(|m| m.name == *method)
        .ok_or_else(|| format!("{reference}: no method {method}"))?;
    if !found.export {
        return Err(format!("{reference}: not exported"));
    }
    Ok((module.to_string(), found))
}

const SUBSCRIPTION: &str = "EventSubscriptions/ТБ_ИндексТелефоновПриЗаписи.xml";
const JOB: &str = "ScheduledJobs/ТБ_ПерестроениеИндексаТелефонов.xml";

fn subscription_problems(dump: &Dump) -> Vec<String> {
    let xml = dump.get(SUBSCRIPTION);
    let mut problems = Vec::new();
    if xml_text(xml, "Event") != "OnWrite" {
        problems.push(format!("event {:?}, not OnWrite", xml_text(xml, "Event")));
    }
    // «Any catalog object» is the type set the platform writes for СправочникОбъект.
    if !xml_text(xml, "Source").contains("<v8:TypeSet>cfg:CatalogObject</v8:TypeSet>") {
        problems.push("the source is not every catalog object (cfg:CatalogObject)".into());
    }
    match handler(dump, xml_text(xml, "Handler")) {
        Err(e) => problems.push(e),
        Ok((_, m)) => {
            // ПриЗаписи of an object: the platform passes (Источник, Отказ).
            if m.params.len() != 2 {
                problems.push(format!(
                    "{}: {} parameters, the platform passes 2",
                    m.name,
                    m.params.len()
                ));
            }
            // The handler runs for every catalog of the base: it must leave at once for the others.
            let first: Vec<&str> = m
                .body
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(8)
                .collect();
            if !first.iter().any(|l| l.contains("СправочникиИндекса()")) {
                problems.push(format!("{}: does not check the catalog first", m.name));
            }
        }
    }
    problems
}

fn job_problems(dump: &Dump) -> Vec<String> {
    let xml = dump.get(JOB);
    let mut problems = Vec::new();
    match handler(dump, xml_text(xml, "MethodName")) {
        Err(e) => problems.push(e),
        Ok((_, m)) if !m.params.is_empty() => problems.push(format!(
            "{}: a scheduled job's method takes no parameters",
            m.name
        )),
        Ok(_) => {}
    }
    if xml_text(xml, "Predefined") != "true" {
        problems.push("the job is not predefined".into());
    }
    problems
}

#[test]
fn the_request_path_uses_no_pattern_match_and_no_catalog_scan() {
    let dump = Dump::load();
    let path = request_path(&dump);
    let names: BTreeSet<String> = path
        .iter()
        .map(|(m, f)| format!("{m}.{}", f.name))
        .collect();
    for needed in [
        "ТБ_ТелефонияСервер.ФактыМаршрутизации",
        "ТБ_ТелефонияСервер.КлиентДляАТС",
        "ТБ_ТелефонияСервер.НайтиКарточкуПоТелефону",
        "ТБ_ИндексТелефоновСервер.ФактыМаршрутизации",
        "ТБ_ИндексТелефоновСервер.НайтиКарточку",
        "ТБ_ИндексТелефоновСервер.КарточкаДоступна",
        "ТБ_ИндексТелефоновСервер.ЕстьКарточки",
    ] {
        assert!(
            names.contains(needed),
            "{needed} is not on the request path: {names:?}"
        );
    }
    assert_eq!(scan_problems(&dump), Vec::<String>::new());
}

#[test]
fn mutation_a_like_or_a_catalog_scan_on_the_request_path_fails() {
    let dump = Dump::load();
    let like = dump.planted(
        INDEX_MODULE,
        "|	Индекс.Номер = &Номер\");",
        "|	Индекс.Представление ПОДОБНО &Номер\");",
    );
    assert!(
        scan_problems(&like)
            .iter()
            .any(|p| p.contains("НайтиКарточку: ПОДОБНО")),
        "{:?}",
        scan_problems(&like)
    );
    // The old way back: a LIKE over contact information in ТБ_ТелефонияСервер, reached through НайтиКарточкуПоТелефону.
    let old = dump.planted(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "	Возврат ТБ_ИндексТелефоновСервер.НайтиКарточку(",
        "	Запрос = Новый Запрос(\"ВЫБРАТЬ ПЕРВЫЕ 1 Контакты.Ссылка ИЗ Справочник.Контрагенты.КонтактнаяИнформация КАК Контакты ГДЕ Контакты.НомерТелефона ПОДОБНО &Шаблон\");\n	Возврат ТБ_ИндексТелефоновСервер.НайтиКарточку(",
    );
    let problems = scan_problems(&old);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("НайтиКарточкуПоТелефону: ПОДОБНО")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("НайтиКарточкуПоТелефону: a catalog read")),
        "{problems:?}"
    );
    // A scan without LIKE: the access check reading the catalog without its reference.
    let scan = dump.planted(
        INDEX_MODULE,
        "|	Карточки.Ссылка = &Ссылка\";",
        "|	Карточки.Наименование <> &Ссылка\";",
    );
    assert!(
        scan_problems(&scan)
            .iter()
            .any(|p| p.contains("КарточкаДоступна: a catalog read")),
        "{:?}",
        scan_problems(&scan)
    );
}

#[test]
fn the_caller_lookup_is_one_read_of_the_index_by_its_first_dimension() {
    assert_eq!(lookup_problems(&Dump::load()), Vec::<String>::new());
}

#[test]
fn mutation_a_lookup_off_the_first_dimension_fails() {
    let dump = Dump::load();
    let xml = dump.get(INDEX_REGISTER);
    // Swap the dimensions: Карточка first.
    let number = &xml[xml.find("\t\t\t<Dimension ").expect("dimension")..];
    let number = &number[..number.find("</Dimension>\n").expect("end") + "</Dimension>\n".len()];
    let swapped = xml.replacen(number, "", 1).replacen(
        "\t\t</ChildObjects>",
        &format!("{number}\t\t</ChildObjects>"),
        1,
    );
    let mut moved = dump.clone();
    moved.files.insert(INDEX_REGISTER.into(), swapped);
    assert!(
        lookup_problems(&moved)
            .iter()
            .any(|p| p.contains("first dimension")),
        "{:?}",
        lookup_problems(&moved)
    );
    let other_field = dump.planted(
        INDEX_MODULE,
        "|	Индекс.Номер = &Номер\");",
        "|	Индекс.Представление = &Номер\");",
    );
    assert!(lookup_problems(&other_field)
        .iter()
        .any(|p| p.contains("does not filter")));
    let two_reads = dump.planted(
        INDEX_MODULE,
        "	Запрос.УстановитьПараметр(\"Номер\", Ключ);",
        "	Запрос.УстановитьПараметр(\"Номер\", Ключ);\n	Второй = Новый Запрос(\"ВЫБРАТЬ 1 КАК Один\");",
    );
    assert!(lookup_problems(&two_reads)
        .iter()
        .any(|p| p.contains("queries, not one")));
    let bypassed = dump.planted(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "	Возврат ТБ_ИндексТелефоновСервер.НайтиКарточку(ТБ_ИндексТелефоновСервер.КлючНомера(Телефон), БезПроверкиПрав);",
        "	Возврат Новый Структура(\"Ссылка\");",
    );
    let bypassed = bypassed.planted(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "	Возврат ТБ_ИндексТелефоновСервер.ФактыМаршрутизации(",
        "	Возврат Неопределено; //",
    );
    assert!(
        lookup_problems(&bypassed)
            .iter()
            .any(|p| p.contains("does not reach")),
        "{:?}",
        lookup_problems(&bypassed)
    );
}

#[test]
fn the_card_write_subscription_calls_what_the_platform_calls() {
    assert_eq!(subscription_problems(&Dump::load()), Vec::<String>::new());
}

#[test]
fn mutation_a_subscription_the_platform_cannot_call_fails() {
    let dump = Dump::load();
    let cases = [
        (INDEX_MODULE, "Процедура ПриЗаписиКарточки(Источник, Отказ) Экспорт", "Процедура ПриЗаписиКарточки(Источник, Отказ)", "not exported"),
        (INDEX_MODULE, "Процедура ПриЗаписиКарточки(Источник, Отказ) Экспорт", "Процедура ПриЗаписиКарточки(Источник) Экспорт", "parameters"),
        (INDEX_MODULE, "Процедура ПриЗаписиКарточки(Источник, Отказ) Экспорт", "Процедура ПриЗаписи(Источник, Отказ) Экспорт", "no method"),
        ("CommonModules/ТБ_ИндексТелефоновСервер.xml", "<ServerCall>false</ServerCall>", "<ServerCall>true</ServerCall>", "ServerCall"),
        ("CommonModules/ТБ_ИндексТелефоновСервер.xml", "<Server>true</Server>", "<Server>false</Server>", "Server"),
        ("CommonModules/ТБ_ИндексТелефоновСервер.xml", "<ClientManagedApplication>false</ClientManagedApplication>", "<ClientManagedApplication>true</ClientManagedApplication>", "ClientManagedApplication"),
        (SUBSCRIPTION, "<Event>OnWrite</Event>", "<Event>BeforeWrite</Event>", "not OnWrite"),
        (SUBSCRIPTION, "cfg:CatalogObject<", "cfg:DocumentObject<", "every catalog object"),
        (SUBSCRIPTION, "CommonModule.ТБ_ИндексТелефоновСервер.", "CommonModule.ТБ_ТелефонияКлиент.", "has Server = false"),
        (INDEX_MODULE, "	Если СправочникиИндекса().Найти(", "	Пауза = 1;\n	Пауза = 2;\n	Пауза = 3;\n	Пауза = 4;\n	Пауза = 5;\n	Пауза = 6;\n	Пауза = 7;\n	Если СправочникиИндекса().Найти(", "check the catalog first"),
    ];
    for (file, from, to, expected) in cases {
        let problems = subscription_problems(&dump.planted(file, from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{to:?}: {problems:?}"
        );
    }
}

#[test]
fn the_scheduled_job_calls_an_exported_server_procedure() {
    assert_eq!(job_problems(&Dump::load()), Vec::<String>::new());
}

#[test]
fn mutation_a_job_method_the_platform_cannot_call_fails() {
    let dump = Dump::load();
    let cases = [
        (
            INDEX_MODULE,
            "Процедура ПерестроитьИндексПоРасписанию() Экспорт",
            "Процедура ПерестроитьИндексПоРасписанию()",
            "not exported",
        ),
        (
            INDEX_MODULE,
            "Процедура ПерестроитьИндексПоРасписанию() Экспорт",
            "Процедура ПерестроитьИндексПоРасписанию(Порция) Экспорт",
            "no parameters",
        ),
        (
            JOB,
            "ТБ_ИндексТелефоновСервер.ПерестроитьИндексПоРасписанию",
            "ТБ_ИндексТелефоновСервер.Перестроить",
            "no method",
        ),
        (
            JOB,
            "<MethodName>CommonModule.ТБ_ИндексТелефоновСервер.",
            "<MethodName>CommonModule.ТБ_Нет.",
            "no common module",
        ),
        (
            JOB,
            "<Predefined>true</Predefined>",
            "<Predefined>false</Predefined>",
            "predefined",
        ),
    ];
    for (file, from, to, expected) in cases {
        let problems = job_problems(&dump.planted(file, from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{to:?}: {problems:?}"
        );
    }
}

fn orders() -> BTreeMap<String, Vec<Vec<String>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xml-order-2.13");
    dump_checks::load_orders(&[dir.join("orders.txt"), dir.join("extra.txt")])
}

fn order_violations(dump: &Dump, rel: &str) -> Vec<String> {
    let doc = dump_checks::parse_str(dump.get(rel)).expect("xml");
    dump_checks::order_violations_in(&doc, rel, &orders())
}

#[test]
fn the_subscription_and_the_job_are_written_in_the_order_real_dumps_have() {
    let o = orders();
    for k in [
        "md:EventSubscription/Properties",
        "md:ScheduledJob/Properties",
    ] {
        assert!(o.contains_key(k), "no learned order for {k}");
    }
    let dump = Dump::load();
    for rel in [SUBSCRIPTION, JOB, "Configuration.xml"] {
        assert_eq!(order_violations(&dump, rel), Vec::<String>::new(), "{rel}");
    }
}

#[test]
fn mutation_the_subscription_or_the_job_out_of_order_fails() {
    let dump = Dump::load();
    let swapped = dump.planted(
        SUBSCRIPTION,
        "<Event>OnWrite</Event>\n\t\t\t<Handler>CommonModule.ТБ_ИндексТелефоновСервер.ПриЗаписиКарточки</Handler>",
        "<Handler>CommonModule.ТБ_ИндексТелефоновСервер.ПриЗаписиКарточки</Handler>\n\t\t\t<Event>OnWrite</Event>",
    );
    let v = order_violations(&swapped, SUBSCRIPTION);
    assert!(
        v.iter().any(|p| p.contains("<Handler> before <Event>")),
        "{v:?}"
    );
    let job = dump.planted(
        JOB,
        "<Use>true</Use>\n\t\t\t<Predefined>true</Predefined>",
        "<Predefined>true</Predefined>\n\t\t\t<Use>true</Use>",
    );
    let v = order_violations(&job, JOB);
    assert!(
        v.iter().any(|p| p.contains("<Predefined> before <Use>")),
        "{v:?}"
    );
    let cfg = dump.planted(
        "Configuration.xml",
        "\t\t\t<EventSubscription>ТБ_ИндексТелефоновПриЗаписи</EventSubscription>\n",
        "",
    );
    let cfg = cfg.planted(
        "Configuration.xml",
        "\t\t\t<InformationRegister>ТБ_ИндексТелефонов</InformationRegister>\n",
        "\t\t\t<InformationRegister>ТБ_ИндексТелефонов</InformationRegister>\n\t\t\t<EventSubscription>ТБ_ИндексТелефоновПриЗаписи</EventSubscription>\n",
    );
    let v = order_violations(&cfg, "Configuration.xml");
    assert!(
        v.iter().any(|p| p.contains("before <EventSubscription>")),
        "{v:?}"
    );
}

/// The "is there any card" probe of the automatic rebuild is allowed only as a one-row read: a condition, an order,
/// or more rows make it a scan again, and the check says so.
#[test]
fn mutation_the_rebuild_probe_widened_into_a_scan_fails() {
    let dump = Dump::load();
    let probe = "|	Справочник.ТБ_Карточки КАК Карточки\";";
    for (what, planted) in [
        (
            "a condition",
            dump.planted(
                INDEX_MODULE,
                probe,
                "|	Справочник.ТБ_Карточки КАК Карточки\n\t\t|ГДЕ\n\t\t|	Карточки.Наименование = &Имя\";",
            ),
        ),
        (
            "an order",
            dump.planted(
                INDEX_MODULE,
                probe,
                "|	Справочник.ТБ_Карточки КАК Карточки\n\t\t|УПОРЯДОЧИТЬ ПО\n\t\t|	Карточки.Наименование\";",
            ),
        ),
        (
            "more rows",
            dump.planted(
                INDEX_MODULE,
                "\"ВЫБРАТЬ ПЕРВЫЕ 1\n\t\t|	Карточки.Ссылка КАК Ссылка",
                "\"ВЫБРАТЬ ПЕРВЫЕ 1000\n\t\t|	Карточки.Ссылка КАК Ссылка",
            ),
        ),
    ] {
        let problems = scan_problems(&planted);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("ЕстьКарточки: a catalog read")),
            "{what}: {problems:?}"
        );
    }
}

const SETTINGS_MODULE: &str = "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl";

/// The body of a method of a module of the dump (comments removed), or a problem.
fn body_of(dump: &Dump, rel: &str, name: &str) -> Result<String, String> {
    methods(dump.get(rel))
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.body)
        .ok_or_else(|| format!("{name} is missing"))
}

/// Whether `first` occurs in `body` and before `then` (which must occur too).
fn in_order(body: &str, first: &str, then: &str) -> bool {
    matches!((body.find(first), body.find(then)), (Some(a), Some(b)) if a < b)
}

/// The automatic rebuild is wired the way docs/phone-index.md says: an unknown caller on the request path checks
/// for an empty index, the add-in decides (`НужноПерестроитьИндекс`), a running rebuild is looked for before a job
/// is started under the rebuild key, and the settings ask after writing, behind the administrator check, with the
/// working hours validated before anything is written.
fn rebuild_wiring_problems(dump: &Dump) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            problems.push(what.to_string());
        }
    };
    let index = |name: &str| body_of(dump, INDEX_MODULE, name).unwrap_or_default();
    let lookup = index("НайтиКарточку");
    need(
        in_order(
            &lookup,
            "Если Не Выборка.Следующий() Тогда",
            "ПерестроитьЕслиИндексПуст();",
        ),
        "НайтиКарточку does not check for an empty index when the caller is unknown",
    );
    let empty = index("ПерестроитьЕслиИндексПуст");
    need(
        in_order(&empty, ".Пустой() Тогда", "ПерестроитьПоРешению(Факты)"),
        "ПерестроитьЕслиИндексПуст does not ask for the decision only when the index is empty",
    );
    let decide = index("ПерестроитьПоРешению");
    need(
        in_order(
            &decide,
            ".НужноПерестроитьИндекс(",
            "Если Решение[\"rebuild\"] <> Истина Тогда",
        ) && in_order(
            &decide,
            "Если Решение[\"rebuild\"] <> Истина Тогда",
            "ЗапуститьПерестроениеИндекса()",
        ),
        "ПерестроитьПоРешению does not start the job only on the add-in's decision",
    );
    let start = index("ЗапуститьПерестроениеИндекса");
    need(
        in_order(&start, "Если ПерестроениеИдет() Тогда", "ФоновыеЗадания.Выполнить(")
            && start.contains("КлючЗаданияПерестроения()"),
        "ЗапуститьПерестроениеИндекса does not look for a running rebuild before starting one under its key",
    );
    need(
        index("ПерестроениеИдет").contains("КлючЗаданияПерестроения()"),
        "ПерестроениеИдет does not look for the rebuild key",
    );
    need(
        index("ПерестроитьПослеЗаписиНастроек").contains("ПерестроитьПоРешению(Факты)"),
        "ПерестроитьПослеЗаписиНастроек does not ask for the decision",
    );
    let save =
        body_of(dump, SETTINGS_MODULE, "ЗаписатьНастройкиАдминистратора").unwrap_or_default();
    need(
        save.trim_start()
            .starts_with("ПроверитьПраваАдминистратора();"),
        "ЗаписатьНастройкиАдминистратора does not check access first",
    );
    need(
        in_order(&save, "ПроверитьРабочиеЧасы(Настройки);", "ТБ_ТелефонияСервер.ЗаписатьНастройку(")
            && in_order(
                &save,
                "ТБ_ТелефонияСервер.ЗаписатьНастройку(",
                "ТБ_ИндексТелефоновСервер.ПерестроитьПослеЗаписиНастроек(",
            ),
        "ЗаписатьНастройкиАдминистратора does not validate the hours before writing and ask for a rebuild after",
    );
    let hours = body_of(dump, SETTINGS_MODULE, "ПроверитьРабочиеЧасы").unwrap_or_default();
    need(
        hours.contains(".РабочееВремя("),
        "ПроверитьРабочиеЧасы does not validate with the add-in's РабочееВремя",
    );
    let form_check = body_of(dump, SETTINGS_MODULE, "ОшибкаРабочихЧасов").unwrap_or_default();
    need(
        form_check
            .trim_start()
            .starts_with("ПроверитьПраваАдминистратора();"),
        "ОшибкаРабочихЧасов does not check access first",
    );
    problems
}

#[test]
fn the_automatic_rebuild_is_wired_as_documented() {
    assert_eq!(rebuild_wiring_problems(&Dump::load()), Vec::<String>::new());
}

#[test]
fn mutation_a_broken_rebuild_wiring_fails() {
    let dump = Dump::load();
    let settings_access = "	ПроверитьПраваАдминистратора();\n	Если Настройки.Свойство(\"РазрешенныеАдресаBinotel\") Тогда";
    for (rel, from, to, expected) in [
        (
            INDEX_MODULE,
            "		ПерестроитьЕслиИндексПуст();\n",
            "",
            "НайтиКарточку does not check",
        ),
        (
            INDEX_MODULE,
            "	Если Решение[\"rebuild\"] <> Истина Тогда\n		Возврат Ложь;\n	КонецЕсли;\n",
            "",
            "ПерестроитьПоРешению does not start",
        ),
        (
            INDEX_MODULE,
            "	Если ПерестроениеИдет() Тогда\n		Возврат Ложь;\n	КонецЕсли;\n	Попытка",
            "	Попытка",
            "ЗапуститьПерестроениеИндекса does not look",
        ),
        (
            SETTINGS_MODULE,
            settings_access,
            "	Если Настройки.Свойство(\"РазрешенныеАдресаBinotel\") Тогда",
            "does not check access first",
        ),
        (
            SETTINGS_MODULE,
            "	ПроверитьРабочиеЧасы(Настройки);\n",
            "",
            "does not validate the hours before writing",
        ),
        (
            SETTINGS_MODULE,
            "	ТБ_ИндексТелефоновСервер.ПерестроитьПослеЗаписиНастроек(БылаВключена, ПрежнийСправочник);\n",
            "",
            "ask for a rebuild after",
        ),
    ] {
        let problems = rebuild_wiring_problems(&dump.planted(rel, from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
}

/// The `pub` field names of a struct of a Rust source (what serde reads: none of these structs renames fields).
fn rust_fields(source: &str, name: &str) -> BTreeSet<String> {
    let start = source
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("struct {name} is not there"));
    let body = &source[start..start + source[start..].find("\n}").expect("end of struct")];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub ")?.split_once(':'))
        .map(|(field, _)| field.trim().to_string())
        .filter(|f| !f.starts_with("struct"))
        .collect()
}

/// The keys of `<Переменная> = Новый Структура("a, b, …"` in a body.
fn structure_keys(body: &str, variable: &str) -> BTreeSet<String> {
    let open = format!("{variable} = Новый Структура(\"");
    body.match_indices(&open)
        .flat_map(|(at, _)| {
            let rest = &body[at + open.len()..];
            rest[..rest.find('"').unwrap_or(0)]
                .split(',')
                .map(|k| k.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|k| !k.is_empty())
        .collect()
}

/// The keys of `<Переменная>.Вставить("key"` in a body.
fn inserted_keys(body: &str, variable: &str) -> BTreeSet<String> {
    let open = format!("{variable}.Вставить(\"");
    body.match_indices(&open)
        .map(|(at, _)| {
            let rest = &body[at + open.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

/// Every key the module writes into the facts JSON of the add-in's decisions is a field the decision reads: a key
/// the decision does not know is ignored by serde, so a typo or a key on the wrong level would silently drop a fact.
fn facts_key_problems(dump: &Dump) -> Vec<String> {
    let source = |rel: &str| read_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join(rel));
    let routing = source("crates/tb-calls/src/routing.rs");
    let rebuild = source("crates/tb-calls/src/index_rebuild.rs");
    let index = |name: &str| body_of(dump, INDEX_MODULE, name).unwrap_or_default();
    let facts = index("ФактыМаршрутизации");
    let manager = index("ФактыМенеджера");
    let checks: Vec<(&str, BTreeSet<String>, BTreeSet<String>)> = vec![
        (
            "ФактыМаршрутизации → RoutingFacts",
            structure_keys(&facts, "Факты")
                .into_iter()
                .chain(inserted_keys(&facts, "Факты"))
                .collect(),
            rust_fields(&routing, "RoutingFacts"),
        ),
        (
            "ФактыМенеджера, ФактыМаршрутизации → Manager",
            structure_keys(&manager, "Факты")
                .into_iter()
                .chain(inserted_keys(&facts, "Факты.manager"))
                .collect(),
            rust_fields(&routing, "Manager"),
        ),
        (
            "ЗвонкиЛинии → LineCall",
            index("ЗвонкиЛинии")
                .split("Новый Структура(\"")
                .skip(1)
                .flat_map(|r| {
                    r[..r.find('"').unwrap_or(0)]
                        .split(',')
                        .map(|k| k.trim().to_string())
                        .collect::<Vec<_>>()
                })
                .collect(),
            rust_fields(&routing, "LineCall"),
        ),
        (
            "ПерестроитьЕслиИндексПуст, ПерестроитьПослеЗаписиНастроек → RebuildFacts",
            structure_keys(&index("ПерестроитьЕслиИндексПуст"), "Факты")
                .into_iter()
                .chain(structure_keys(
                    &index("ПерестроитьПослеЗаписиНастроек"),
                    "Факты",
                ))
                .collect(),
            rust_fields(&rebuild, "RebuildFacts"),
        ),
    ];
    let mut problems = Vec::new();
    for (what, written, read) in checks {
        if written.is_empty() {
            problems.push(format!("{what}: no keys found"));
        }
        for key in written.difference(&read) {
            problems.push(format!("{what}: {key} is not read by the decision"));
        }
    }
    problems
}

#[test]
fn the_facts_the_module_writes_are_the_fields_the_decisions_read() {
    assert_eq!(facts_key_problems(&Dump::load()), Vec::<String>::new());
}

#[test]
fn mutation_a_fact_on_the_wrong_level_or_misspelt_fails() {
    let dump = Dump::load();
    for (from, to, expected) in [
        // history_now inside the manager: serde would ignore it and every live call would count, however old.
        (
            "Новый Структура(\"extension, available, on_call, calls\", \"\", Истина, Ложь, Новый Массив);",
            "Новый Структура(\"extension, available, on_call, calls, history_now\", \"\", Истина, Ложь, Новый Массив, 0);",
            "→ Manager: history_now",
        ),
        (
            "Факты.manager.Вставить(\"schedule\"",
            "Факты.manager.Вставить(\"shedule\"",
            "→ Manager: shedule",
        ),
        (
            "Новый Структура(\"talked, finished, last_event\"",
            "Новый Структура(\"talked, finished, lastEvent\"",
            "→ LineCall: lastEvent",
        ),
        (
            "Новый Структура(\"telephony_enabled, index_rows,",
            "Новый Структура(\"telephony_on, index_rows,",
            "→ RebuildFacts: telephony_on",
        ),
    ] {
        let problems = facts_key_problems(&dump.planted(INDEX_MODULE, from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
}
