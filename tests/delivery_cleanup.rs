//! The delivery's cleanup job (delivery follow-ups, item 3), checked on the extension dump:
//! - the scheduled job `ТБ_ОчисткаОбсужденийДоставки` is listed in Configuration.xml, is predefined and in use, has a
//!   `Schedule.xml` of format 2.13, and its properties stand in the order real dumps write them;
//! - its `MethodName` names an exported procedure without parameters of a server (not server-call) common module
//!   of the extension — what the platform can run as a background job;
//! - the procedure does the three cleanups (old hidden-discussion messages, expired pending cards, dead sessions'
//!   records) and nothing user-related: no access check, no current user (a background job has no operator);
//! - the messages it deletes are only in the extension's own discussions: the key prefix is checked before
//!   `УдалитьСообщение`, and the collaboration calls are the ones БСП makes for its own cleanup;
//! - «Проверить доставку» (item 4): before the collaboration path's test message, the webhook users — the users with
//!   the role `ТБ_ВебхукиТелефонии`, who write the call messages — are checked with the platform's
//!   `СистемаВзаимодействия.ПолучитьИдентификаторПользователя` inside `Попытка` (it raises for a user who is not a
//!   collaboration user, as БСП's `ОбсужденияСлужебный` relies on), and a problem becomes the path's reason.
//!
//! Each check returns its violations; every test runs it on the real dump and on a copy with a planted defect.

#[path = "support/bsl_names.rs"]
mod bsl_names;
#[path = "support/dump_checks.rs"]
mod dump_checks;

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::copy_dir;
use std::path::{Path, PathBuf};

const JOB: &str = "ТБ_ОчисткаОбсужденийДоставки";

fn dump() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bsl-examples/extension")
}

/// A copy of the dump in a fresh temp directory.
fn copy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tb-cleanup-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    copy_dir(&dump(), &dir);
    dir
}

fn plant(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = bsl_names::read_text(&path);
    assert!(text.contains(from), "{file}: the mutation needs `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn text_of(node: &dump_checks::Node, path: &[&str]) -> String {
    node.path(path)
        .map(|n| n.text.trim().to_string())
        .unwrap_or_default()
}

/// The code lines of procedure `name` in `module` text (comments cut), with its header line; None if absent.
fn procedure(module: &str, name: &str) -> Option<(String, Vec<String>)> {
    let mut header = None;
    let mut body = Vec::new();
    for line in module.lines() {
        let code = line.split("//").next().unwrap_or("").trim().to_string();
        let lower = code.to_lowercase();
        if header.is_none() {
            let rest = lower
                .strip_prefix("процедура ")
                .or_else(|| lower.strip_prefix("функция "));
            if rest.is_some_and(|r| r.starts_with(&format!("{}(", name.to_lowercase()))) {
                header = Some(code);
            }
            continue;
        }
        if lower.starts_with("конецпроцедуры") || lower.starts_with("конецфункции")
        {
            break;
        }
        body.push(code);
    }
    header.map(|h| (h, body))
}

/// What is wrong with the cleanup job in the dump at `root`.
fn job_problems(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let cfg = bsl_names::read_text(&root.join("Configuration.xml"));
    if !cfg.contains(&format!("<ScheduledJob>{JOB}</ScheduledJob>")) {
        out.push(format!("Configuration.xml does not list {JOB}"));
    }
    let xml = root.join("ScheduledJobs").join(format!("{JOB}.xml"));
    if !xml.is_file() {
        out.push(format!("{} is missing", xml.display()));
        return out;
    }
    let doc = dump_checks::parse(&xml);
    let Some(job) = doc
        .child("MetaDataObject")
        .and_then(|m| m.child("ScheduledJob"))
    else {
        out.push("no <ScheduledJob>".into());
        return out;
    };
    if text_of(job, &["Properties", "Name"]) != JOB {
        out.push("Name differs from the file name".into());
    }
    for (prop, want) in [("Use", "true"), ("Predefined", "true")] {
        if text_of(job, &["Properties", prop]) != want {
            out.push(format!("{prop} is not {want}"));
        }
    }
    let schedule = root
        .join("ScheduledJobs")
        .join(JOB)
        .join("Ext/Schedule.xml");
    if !schedule.is_file()
        || !bsl_names::read_text(&schedule).contains("<JobSchedule ")
        || !bsl_names::read_text(&schedule).contains("version=\"2.13\"")
    {
        out.push("Ext/Schedule.xml is missing or not a 2.13 JobSchedule".into());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xml-order-2.13");
    let orders = dump_checks::load_orders(&[dir.join("orders.txt"), dir.join("extra.txt")]);
    out.extend(dump_checks::order_violations_in(&doc, JOB, &orders));

    // The method: CommonModule.<module>.<procedure> of a server, non-server-call module, exported, no parameters.
    let method = text_of(job, &["Properties", "MethodName"]);
    let parts: Vec<&str> = method.split('.').collect();
    let [kind, module, proc_name] = parts.as_slice() else {
        out.push(format!(
            "MethodName `{method}` is not CommonModule.<module>.<procedure>"
        ));
        return out;
    };
    if *kind != "CommonModule" {
        out.push(format!("MethodName `{method}` is not a common module's"));
    }
    let module_xml = root.join("CommonModules").join(format!("{module}.xml"));
    if !module_xml.is_file() {
        out.push(format!("the module {module} is missing"));
        return out;
    }
    let props = bsl_names::read_text(&module_xml);
    if !props.contains("<Server>true</Server>") || !props.contains("<ServerCall>false</ServerCall>")
    {
        out.push(format!("{module} is not a server (non-server-call) module"));
    }
    let code = bsl_names::read_text(
        &root
            .join("CommonModules")
            .join(module)
            .join("Ext/Module.bsl"),
    );
    let Some((header, body)) = procedure(&code, proc_name) else {
        out.push(format!("{module} has no {proc_name}"));
        return out;
    };
    let lower = header.to_lowercase();
    if !lower.starts_with("процедура ") || !lower.ends_with("экспорт") {
        out.push(format!("`{header}` is not an exported procedure"));
    }
    if !lower.contains(&format!("{}()", proc_name.to_lowercase())) {
        out.push(format!("`{header}` takes parameters: a job passes none"));
    }
    let body = body.join("\n");
    for cleanup in [
        "УдалитьУстаревшиеКарточки()",
        "УдалитьЗаписиМертвыхСеансов()",
        "УдалитьСтарыеСообщенияОбсуждений()",
    ] {
        if !body.contains(cleanup) {
            out.push(format!("{proc_name} does not call {cleanup}"));
        }
    }
    // A background job has no operator: nothing that checks or reads the current user.
    for user_related in [
        "ПроверитьПрава",
        "РольДоступна",
        "ЭтоОператорТелефонии",
        "ЭтоАдминистраторТелефонии",
        "ИдентификаторПользователя",
        "ИмяПользователя",
        "ТекущийПользователь",
        "ВызватьИсключение",
    ] {
        if body.contains(user_related) {
            out.push(format!(
                "{proc_name} does something user-related: {user_related}"
            ));
        }
    }
    // Only the extension's own discussions lose messages: the key prefix is checked before the deletion.
    match procedure(&code, "УдалитьСтарыеСообщенияОбсуждений") {
        None => out.push("no УдалитьСтарыеСообщенияОбсуждений".into()),
        Some((_, lines)) => {
            let text = lines.join("\n");
            let prefix = text.find("СтрНачинаетсяС(Обсуждение.Ключ, ПрефиксКлючаОбсуждения())");
            let delete = text.find("СистемаВзаимодействия.УдалитьСообщение(");
            match (prefix, delete) {
                (Some(p), Some(d)) if p < d => {}
                _ => out.push(
                    "messages are deleted without checking the discussion is the extension's"
                        .into(),
                ),
            }
            for call in [
                "Новый ОтборОбсужденийСистемыВзаимодействия",
                "СистемаВзаимодействия.ПолучитьОбсуждения(",
                "Новый ОтборСообщенийСистемыВзаимодействия",
                "НаправлениеСортировки.Возр",
                "СистемаВзаимодействия.ПолучитьСообщения(",
            ] {
                if !text.contains(call) {
                    out.push(format!("the discussion cleanup lacks `{call}` (БСП's way)"));
                }
            }
        }
    }
    out
}

#[test]
fn the_cleanup_job_runs_a_server_procedure_that_only_cleans() {
    let found = job_problems(&dump());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn mutations_of_the_cleanup_job_are_found() {
    let module = "CommonModules/ТБ_ТелефонияДоставка/Ext/Module.bsl";
    let job_xml = format!("ScheduledJobs/{JOB}.xml");
    let cases: Vec<(&str, String, String, String, &str)> = vec![
        (
            "not listed",
            "Configuration.xml".into(),
            format!("<ScheduledJob>{JOB}</ScheduledJob>"),
            String::new(),
            "does not list",
        ),
        (
            "method renamed",
            job_xml.clone(),
            "ТБ_ТелефонияДоставка.ОчиститьДоставку<".into(),
            "ТБ_ТелефонияДоставка.ОчиститьВсё<".into(),
            "has no ОчиститьВсё",
        ),
        (
            "a client module",
            job_xml.clone(),
            "CommonModule.ТБ_ТелефонияДоставка.".into(),
            "CommonModule.ТБ_ТелефонияДоставкаКлиент.".into(),
            "not a server",
        ),
        (
            "a parameter",
            module.into(),
            "Процедура ОчиститьДоставку() Экспорт".into(),
            "Процедура ОчиститьДоставку(Пользователь) Экспорт".into(),
            "takes parameters",
        ),
        (
            "not exported",
            module.into(),
            "Процедура ОчиститьДоставку() Экспорт".into(),
            "Процедура ОчиститьДоставку()".into(),
            "not an exported procedure",
        ),
        (
            "a user check",
            module.into(),
            "\tПопытка\n\t\tУдалитьЗаписиМертвыхСеансов();".into(),
            "\tТБ_ТелефонияСервер.ПроверитьПраваАдминистратора();\n\tПопытка\n\t\tУдалитьЗаписиМертвыхСеансов();".into(),
            "user-related",
        ),
        (
            "a cleanup dropped",
            module.into(),
            "\t\tУдалитьСтарыеСообщенияОбсуждений();\n".into(),
            String::new(),
            "does not call УдалитьСтарыеСообщенияОбсуждений",
        ),
        (
            "every hidden discussion cleaned",
            module.into(),
            "\t\tЕсли Не СтрНачинаетсяС(Обсуждение.Ключ, ПрефиксКлючаОбсуждения()) Тогда\n\t\t\tПродолжить; // чужие скрытые обсуждения (БСП и др.) не трогаем\n\t\tКонецЕсли;\n".into(),
            String::new(),
            "without checking the discussion",
        ),
        (
            "properties out of order",
            job_xml.clone(),
            "\t\t\t<Use>true</Use>\n\t\t\t<Predefined>true</Predefined>\n".into(),
            "\t\t\t<Predefined>true</Predefined>\n\t\t\t<Use>true</Use>\n".into(),
            "real 2.13 dumps write",
        ),
        (
            "not predefined",
            job_xml.clone(),
            "<Predefined>true</Predefined>".into(),
            "<Predefined>false</Predefined>".into(),
            "Predefined is not true",
        ),
        (
            "another format",
            format!("ScheduledJobs/{JOB}/Ext/Schedule.xml"),
            "version=\"2.13\"".into(),
            "version=\"2.20\"".into(),
            "not a 2.13 JobSchedule",
        ),
    ];
    for (what, file, from, to, expect) in cases {
        let root = copy();
        plant(&root, &file, &from, &to);
        let found = job_problems(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert!(
            found.iter().any(|v| v.contains(expect)),
            "{what}: expected `{expect}` in {found:#?}"
        );
    }
}

/// What is wrong with the webhook-user diagnostics in the delivery module text.
fn diagnostics_problems(module: &str) -> Vec<String> {
    let mut out = Vec::new();
    match procedure(module, "ОтправитьПробнуюКарточку") {
        None => out.push("no ОтправитьПробнуюКарточку".into()),
        Some((_, lines)) => {
            let text = lines.join("\n");
            let branch = text.find("Путь = \"collaboration\"");
            let check = text.find("ПроблемаПользователяВебхуков()");
            let send = text.find("ОтправитьВОбсуждение(");
            match (branch, check, send) {
                (Some(b), Some(c), Some(s)) if b < c && c < s => {}
                _ => out.push(
                    "the collaboration test is sent without checking the webhook user first".into(),
                ),
            }
            if !text.contains("ВызватьИсключение Проблема") {
                out.push("the webhook user's problem does not become the path's reason".into());
            }
        }
    }
    match procedure(module, "ПроблемаПользователяВебхуков") {
        None => out.push("no ПроблемаПользователяВебхуков".into()),
        Some((_, lines)) => {
            let text = lines.join("\n");
            let attempt = text.find("Попытка");
            let call = text.find("СистемаВзаимодействия.ПолучитьИдентификаторПользователя(");
            let except = text.find("Исключение");
            match (attempt, call, except) {
                (Some(a), Some(c), Some(e)) if a < c && c < e => {}
                _ => out.push(
                    "the collaboration user is not checked by the platform call inside Попытка"
                        .into(),
                ),
            }
            if !text.contains("Роли.Содержит(Роль)")
                || !text.contains("Метаданные.Роли.Найти(\"ТБ_ВебхукиТелефонии\")")
            {
                out.push(
                    "the webhook users are not the users with the role ТБ_ВебхукиТелефонии".into(),
                );
            }
            if !text.contains("ЭтоАдминистраторТелефонии()") {
                out.push("user names are shown to operators too".into());
            }
        }
    }
    out
}

#[test]
fn the_delivery_check_names_a_webhook_user_outside_the_collaboration_system() {
    let path = dump().join("CommonModules/ТБ_ТелефонияДоставка/Ext/Module.bsl");
    let module = bsl_names::read_text(&path);
    let found = diagnostics_problems(&module);
    assert!(found.is_empty(), "{found:#?}");
    for (what, from, to, expect) in [
        (
            "no check",
            "\t\t\t\tПроблема = ПроблемаПользователяВебхуков();\n",
            "\t\t\t\tПроблема = \"\";\n",
            "without checking the webhook user",
        ),
        (
            "not the reason",
            "ВызватьИсключение Проблема;",
            "Проблема = \"\";",
            "does not become the path's reason",
        ),
        (
            "no platform call",
            "СистемаВзаимодействия.ПолучитьИдентификаторПользователя(ПользовательИБ.УникальныйИдентификатор);",
            "Чужие.Количество();",
            "not checked by the platform call",
        ),
        (
            "every user",
            "Если Не ПользовательИБ.Роли.Содержит(Роль) Тогда",
            "Если Ложь Тогда",
            "not the users with the role",
        ),
        (
            "names to operators",
            "Если Не ТБ_ТелефонияСервер.ЭтоАдминистраторТелефонии() Тогда",
            "Если Ложь Тогда",
            "shown to operators",
        ),
    ] {
        assert!(module.contains(from), "{what}: the mutation needs `{from}`");
        let found = diagnostics_problems(&module.replacen(from, to, 1));
        assert!(
            found.iter().any(|v| v.contains(expect)),
            "{what}: expected `{expect}` in {found:#?}"
        );
    }
}
