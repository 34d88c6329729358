//! Rules of issue 19 (call statuses, missed calls, recording rights) checked on the dump's module and metadata texts:
//! - every writer of ТБ_ИсторияЗвонков also applies statuses: each method that writes the history register is
//!   called only by methods that go on to call `ТБ_ТелефонияСтатусыЗвонков.ПрименитьСобытиеЗвонка` after it (or
//!   calls it itself), so no source's call reaches the history without a status;
//! - the recording URL reaches a client only through `СсылкаНаЗаписьРазговора`, which checks the role first and
//!   `ТБ_ТелефонияПраваЗвонков.МожноСлушатьЗапись` before it reads the URL; no other server-call method reads it;
//! - the missed-call methods of the server-call module check access on their first line;
//! - the callback's read of open missed calls by number is indexed: ТБ_СтатусыЗвонков.НомерКлиента has
//!   `Indexing = Index` (or is a dimension) and the query filters on it;
//! - the names the journal and the reports rely on exist with the agreed types (register fields, rights resources,
//!   modules and their exported functions).
//!
//! Each check returns its violations; every test runs it on the real dump and on a copy with the defect planted.

use std::collections::BTreeMap;
#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{code_of, modules, read};

const SERVER_CALL: &str = "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl";
const STATUSES_XML: &str = "InformationRegisters/ТБ_СтатусыЗвонков.xml";
const APPLY: &str = "ТБ_ТелефонияСтатусыЗвонков.ПрименитьСобытиеЗвонка(";

/// The methods of a module: name → body (code only, comments and string texts removed).
fn methods(module: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in module.lines() {
        let code = code_of(line);
        let t = code.trim();
        let lower = t.to_lowercase();
        let lower = lower.strip_prefix("асинх ").unwrap_or(&lower).to_string();
        if let Some(rest) = ["функция ", "процедура "]
            .iter()
            .find_map(|k| lower.strip_prefix(k))
        {
            // The name as written: `lower` has the same characters as `t`, only in lower case.
            let skip = t.chars().count() - rest.chars().count();
            let name: String = t
                .chars()
                .skip(skip)
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            current = Some((name, Vec::new()));
            continue;
        }
        if lower.starts_with("конецфункции") || lower.starts_with("конецпроцедуры")
        {
            if let Some((name, body)) = current.take() {
                out.insert(name, body.join("\n"));
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push(code);
        }
    }
    out
}

/// The common module a file belongs to (`CommonModules/<Имя>/Ext/Module.bsl`), or "" for forms and others.
fn module_name(file: &str) -> String {
    file.strip_prefix("CommonModules/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string()
}

/// Where `body` calls `name`: `Имя(` unqualified in the same module, or `<Модуль>.Имя(` from anywhere.
fn call_position(body: &str, name: &str, module: &str, same_module: bool) -> Option<usize> {
    let lower = body.to_lowercase();
    let call = format!("{}(", name.to_lowercase());
    let qualified = format!("{}.{}", module.to_lowercase(), call);
    lower.match_indices(&call).map(|(at, _)| at).find(|&at| {
        let before = lower[..at].chars().next_back();
        match before {
            Some(c) if c.is_alphanumeric() || c == '_' => false,
            Some('.') => !module.is_empty() && lower[..at + call.len()].ends_with(&qualified),
            _ => same_module,
        }
    })
}

/// Writers of the history register that do not lead to a status.
fn history_writer_problems(modules: &[(String, String)]) -> Vec<String> {
    let writes = |code: &str| {
        let c = code.to_lowercase();
        ["создатьменеджерзаписи", "создатьнаборзаписей"]
            .iter()
            .any(|m| c.contains(&format!("регистрысведений.тб_историязвонков.{m}")))
    };
    let all: Vec<(String, String, String)> = modules
        .iter()
        .flat_map(|(file, text)| {
            methods(text)
                .into_iter()
                .map(move |(name, body)| (file.clone(), name, body))
        })
        .collect();
    let mut problems = Vec::new();
    let mut writers = 0;
    for (file, writer, body) in all.iter().filter(|(_, _, b)| writes(b)) {
        writers += 1;
        if body.to_lowercase().contains(&APPLY.to_lowercase()) {
            continue;
        }
        let writer_module = module_name(file);
        let callers: Vec<(&String, &String, usize)> = all
            .iter()
            .filter(|(_, name, _)| name != writer)
            .filter_map(|(cfile, name, b)| {
                call_position(b, writer, &writer_module, cfile == file).map(|at| (cfile, name, at))
            })
            .collect();
        if callers.is_empty() {
            problems.push(format!(
                "{file}: {writer} writes ТБ_ИсторияЗвонков and nothing that calls it applies statuses"
            ));
        }
        for (cfile, caller, at_write) in callers {
            let cbody = &all
                .iter()
                .find(|(f, n, _)| f == cfile && n == caller)
                .unwrap()
                .2;
            let lower = cbody.to_lowercase();
            let applied = lower
                .match_indices(&APPLY.to_lowercase())
                .any(|(at, _)| at > at_write);
            if !applied {
                problems.push(format!(
                    "{cfile}: {caller} writes the history ({writer}) without {APPLY}…) after it"
                ));
            }
        }
    }
    if writers == 0 {
        problems.push("no writer of ТБ_ИсторияЗвонков found: the check sees nothing".into());
    }
    problems
}

#[test]
fn every_writer_of_the_history_also_applies_statuses() {
    let real = modules();
    assert_eq!(history_writer_problems(&real), Vec::<String>::new());

    let server = "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl";
    let planted = |f: &dyn Fn(&str) -> String| -> Vec<String> {
        let copy: Vec<(String, String)> = real
            .iter()
            .map(|(p, t)| {
                (
                    p.clone(),
                    if p.ends_with(server) { f(t) } else { t.clone() },
                )
            })
            .collect();
        history_writer_problems(&copy)
    };
    // The status line removed.
    let removed = planted(&|t: &str| {
        t.lines()
            .filter(|l| !l.contains(APPLY))
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert!(
        removed.iter().any(|p| p.contains("ПринятьСобытиеЗвонка")),
        "{removed:?}"
    );
    // The status applied before the history is written does not count.
    let before = planted(&|t: &str| {
        let line = t.lines().find(|l| l.contains(APPLY)).unwrap().to_string();
        let without: Vec<&str> = t.lines().filter(|l| !l.contains(APPLY)).collect();
        let text = without.join("\n");
        text.replacen(
            "\t\tЗаписатьИсторию(Результат",
            &format!("{line}\n\t\tЗаписатьИсторию(Результат"),
            1,
        )
    });
    assert!(!before.is_empty(), "status applied before the write passed");
    // A second writer in another module.
    let mut copy = real.clone();
    copy.push((
        "CommonModules/Planted/Ext/Module.bsl".into(),
        "Процедура Записать() Экспорт\n\tЗапись = РегистрыСведений.ТБ_ИсторияЗвонков.СоздатьНаборЗаписей();\n\
         \tЗапись.Записать();\nКонецПроцедуры\n"
            .into(),
    ));
    let second = history_writer_problems(&copy);
    assert!(second.iter().any(|p| p.contains("Planted")), "{second:?}");
}

/// The first non-empty line of a method body, trimmed ("" for an empty body).
fn first_line(body: &str) -> &str {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Problems of the recording-URL path in the server-call module.
fn recording_url_problems(server_call: &str) -> Vec<String> {
    let all = methods(server_call);
    let mut problems = Vec::new();
    match all.get("СсылкаНаЗаписьРазговора") {
        None => problems.push("СсылкаНаЗаписьРазговора is missing".into()),
        Some(body) => {
            let first = first_line(body);
            if !first.starts_with("ПроверитьПраваОператораИлиАдминистратора()")
            {
                problems.push(format!(
                    "СсылкаНаЗаписьРазговора: the first line is «{first}», not the role check"
                ));
            }
            let check = body.find("ТБ_ТелефонияПраваЗвонков.МожноСлушатьЗапись(");
            let read = body.find("ТБ_ТелефонияСтатусыЗвонков.СсылкаНаЗапись(");
            match (check, read) {
                (Some(c), Some(r)) if c < r => {}
                _ => problems.push(
                    "СсылкаНаЗаписьРазговора: МожноСлушатьЗапись must come before the URL is read"
                        .into(),
                ),
            }
            if !body.contains("Возврат Неопределено") {
                problems.push(
                    "СсылкаНаЗаписьРазговора: no «Возврат Неопределено» for a refusal".into(),
                );
            }
        }
    }
    for (name, body) in &all {
        if name != "СсылкаНаЗаписьРазговора"
            && body.contains("ТБ_ТелефонияСтатусыЗвонков.СсылкаНаЗапись(")
        {
            problems.push(format!(
                "{name} reads the recording URL past СсылкаНаЗаписьРазговора"
            ));
        }
    }
    problems
}

#[test]
fn the_recording_url_reaches_a_client_only_after_the_rights_check() {
    let real = read(SERVER_CALL);
    assert_eq!(recording_url_problems(&real), Vec::<String>::new());
    let check = "\tЕсли Не ТБ_ТелефонияПраваЗвонков.МожноСлушатьЗапись(ИдЗвонка) Тогда\n\t\tВозврат Неопределено;\n\tКонецЕсли;\n";
    assert!(
        real.contains(check),
        "the check as the test plants around it"
    );
    // The rights check removed.
    assert!(!recording_url_problems(&real.replacen(check, "", 1)).is_empty());
    // The URL read before the check.
    let read_line = "\tВозврат ТБ_ТелефонияСтатусыЗвонков.СсылкаНаЗапись(ИдЗвонка);\n";
    assert!(real.contains(read_line));
    let swapped = real
        .replacen(read_line, "", 1)
        .replacen(check, &format!("\tСсылка = ТБ_ТелефонияСтатусыЗвонков.СсылкаНаЗапись(ИдЗвонка);\n{check}\tВозврат Ссылка;\n"), 1);
    assert!(!recording_url_problems(&swapped).is_empty());
    // The role check not first.
    let role = "\tПроверитьПраваОператораИлиАдминистратора();\n\tЕсли Не ТБ_ТелефонияПраваЗвонков";
    assert!(real.contains(role));
    let late = real.replacen(role, "\tЕсли Не ТБ_ТелефонияПраваЗвонков", 1);
    assert!(!recording_url_problems(&late).is_empty());
    // Another exported method handing out the URL.
    let leak = format!(
        "{real}\nФункция ЗаписьБезПроверки(Знач Ид) Экспорт\n\tВозврат ТБ_ТелефонияСтатусыЗвонков.СсылкаНаЗапись(Ид);\nКонецФункции\n"
    );
    assert!(recording_url_problems(&leak)
        .iter()
        .any(|p| p.contains("ЗаписьБезПроверки")));
}

/// Missed-call methods of the server-call module whose first line is not an access check.
fn unchecked_missed_call_methods(server_call: &str) -> Vec<String> {
    let all = methods(server_call);
    [
        "ПропущенныеЗвонки",
        "КоличествоОткрытыхПропущенных",
        "ПересчитатьСтатусыЗвонков",
    ]
    .iter()
    .filter_map(|name| match all.get(*name) {
        None => Some(format!("{name} is missing")),
        Some(body) => {
            let first = first_line(body);
            (!first.starts_with("ПроверитьПрава")).then(|| format!("{name}: first line «{first}»"))
        }
    })
    .collect()
}

#[test]
fn the_missed_call_methods_check_access_first() {
    let real = read(SERVER_CALL);
    assert_eq!(unchecked_missed_call_methods(&real), Vec::<String>::new());
    let planted = real.replacen(
        "\tПроверитьПраваАдминистратора();\n\tЕсли ТБ_ТелефонияСтатусыЗвонков.ЗапуститьПересчет",
        "\tЕсли ТБ_ТелефонияСтатусыЗвонков.ЗапуститьПересчет",
        1,
    );
    assert_ne!(planted, real);
    assert_eq!(
        unchecked_missed_call_methods(&planted).len(),
        1,
        "the recalculation without the administrator check"
    );
}

/// One field of a register: (kind, type text, indexing).
fn register_fields(xml: &str) -> BTreeMap<String, (String, String, String)> {
    let mut out = BTreeMap::new();
    for kind in ["Dimension", "Resource", "Attribute"] {
        for part in xml.split(&format!("<{kind} uuid=")).skip(1) {
            let part = &part[..part.find(&format!("</{kind}>")).unwrap_or(part.len())];
            let tag = |t: &str| {
                part.find(&format!("<{t}>"))
                    .and_then(|a| {
                        let from = a + t.len() + 2;
                        part[from..]
                            .find(&format!("</{t}>"))
                            .map(|b| part[from..from + b].to_string())
                    })
                    .unwrap_or_default()
            };
            let name = tag("Name");
            let ty = tag("Type");
            let ty = if ty.contains("xs:string") {
                format!("String {}", tag("v8:Length"))
            } else if ty.contains("xs:boolean") {
                "Boolean".into()
            } else if ty.contains("xs:dateTime") {
                "DateTime".into()
            } else if ty.contains("xs:decimal") {
                format!("Number {},{}", tag("v8:Digits"), tag("v8:FractionDigits"))
            } else {
                ty
            };
            out.insert(name, (kind.to_string(), ty, tag("Indexing")));
        }
    }
    out
}

/// What the journal and reports rely on, missing or changed.
fn contract_problems(statuses_xml: &str, settings_xml: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let fields = register_fields(statuses_xml);
    if !statuses_xml.contains("<InformationRegisterPeriodicity>Nonperiodical<") {
        problems.push("ТБ_СтатусыЗвонков must be non-periodic".into());
    }
    let expected = [
        ("ИдЗвонка", "String 64"),
        ("Статус", "String 20"),
        ("Входящий", "Boolean"),
        ("Пропущенный", "Boolean"),
        ("ТребуетВнимания", "Boolean"),
        ("ПервыйКонтакт", "Boolean"),
        ("Перезвонили", "Boolean"),
        ("ПерезвонилПользователь", "String 100"),
        ("ВремяПерезвона", "DateTime"),
        ("НомерКлиента", "String 32"),
        ("Оператор", "String 100"),
        ("Ответственный", "String 100"),
        ("Начало", "DateTime"),
        ("ВремяОжидания", "Number 10,0"),
        ("ДлительностьРазговора", "Number 10,0"),
        ("Источник", "String 20"),
    ];
    for (name, ty) in expected {
        match fields.get(name) {
            Some((_, t, _)) if t == ty => {}
            other => problems.push(format!(
                "ТБ_СтатусыЗвонков.{name}: {ty} expected, found {other:?}"
            )),
        }
    }
    if fields.get("ИдЗвонка").map(|f| f.0.as_str()) != Some("Dimension") {
        problems.push("ТБ_СтатусыЗвонков.ИдЗвонка must be the dimension".into());
    }
    // The callback reads open missed calls by number: that read must be indexed.
    match fields.get("НомерКлиента") {
        Some((kind, _, index)) if kind == "Dimension" || index.starts_with("Index") => {}
        other => problems.push(format!(
            "ТБ_СтатусыЗвонков.НомерКлиента is not indexed: {other:?}"
        )),
    }
    let settings = register_fields(settings_xml);
    for (name, ty) in [
        ("ВидимостьЗвонков", "String 10"),
        ("ДоступКЗаписям", "String 10"),
        ("Группа", "String 50"),
    ] {
        match settings.get(name) {
            Some((_, t, _)) if t == ty => {}
            other => problems.push(format!(
                "ТБ_НастройкиПользователей.{name}: {ty} expected, found {other:?}"
            )),
        }
    }
    problems
}

#[test]
fn the_names_the_journal_relies_on_exist_and_the_number_read_is_indexed() {
    let statuses = read(STATUSES_XML);
    let settings = read("InformationRegisters/ТБ_НастройкиПользователей.xml");
    assert_eq!(
        contract_problems(&statuses, &settings),
        Vec::<String>::new()
    );
    // The index dropped.
    let number = statuses.find("<Name>НомерКлиента</Name>").unwrap();
    let index_at = number
        + statuses[number..]
            .find("<Indexing>Index</Indexing>")
            .unwrap();
    let unindexed = format!(
        "{}<Indexing>DontIndex</Indexing>{}",
        &statuses[..index_at],
        &statuses[index_at + "<Indexing>Index</Indexing>".len()..]
    );
    assert!(contract_problems(&unindexed, &settings)
        .iter()
        .any(|p| p.contains("not indexed")));
    // A renamed field, a changed length.
    assert!(!contract_problems(
        &statuses.replace("<Name>Перезвонили<", "<Name>Перезвонен<"),
        &settings
    )
    .is_empty());
    assert!(!contract_problems(
        &statuses,
        &settings.replace("<v8:Length>50</v8:Length>", "<v8:Length>40</v8:Length>")
    )
    .is_empty());

    // The query of the callback filters on that field.
    let module = read("CommonModules/ТБ_ТелефонияСтатусыЗвонков/Ext/Module.bsl");
    assert!(module.contains("\"Статусы.НомерКлиента = &НомерКлиента"));
    // The modules: the rights module is server-only (not a server call), the exported functions exist.
    let rights_xml = read("CommonModules/ТБ_ТелефонияПраваЗвонков.xml");
    assert!(
        rights_xml.contains("<ServerCall>false</ServerCall>")
            && rights_xml.contains("<Server>true</Server>")
    );
    let rights = methods(&read(
        "CommonModules/ТБ_ТелефонияПраваЗвонков/Ext/Module.bsl",
    ));
    for name in ["ВидимыеОператоры", "МожноСлушатьЗапись"] {
        assert!(rights.contains_key(name), "{name}");
    }
    let exported = read("CommonModules/ТБ_ТелефонияПраваЗвонков/Ext/Module.bsl");
    assert!(exported.contains("Функция ВидимыеОператоры() Экспорт"));
    assert!(exported.contains("Функция МожноСлушатьЗапись(ИдЗвонка) Экспорт"));
    let server_call = read(SERVER_CALL);
    for signature in [
        "Функция СсылкаНаЗаписьРазговора(Знач ИдЗвонка) Экспорт",
        "Функция ПропущенныеЗвонки(Знач ТолькоОткрытые) Экспорт",
        "Функция КоличествоОткрытыхПропущенных() Экспорт",
    ] {
        assert!(server_call.contains(signature), "{signature}");
    }
}
