//! What a push to an operator may carry, checked on the extension dump (delivery follow-ups, item 1).
//!
//! Every push — the Centrifugo publication, the pending card, client notifications, the collaboration message — is
//! built from the event the add-in strips to an allowlist (`tb_calls::delivery::push_event`, used by
//! `ОбъединитьСИсторией`); the BSL around it must not add back what the add-in took out:
//! - a method that hands something to a push (calls one of [`PUSH_SINKS`]) never names a recording link or the raw
//!   body (`record_urls`, `СсылкаНаЗапись`, `ТелоЗапроса`, the key `raw`): a recording is heard only through
//!   `ТБ_ТелефонияВызовСервера.СсылкаНаЗаписьРазговора`, after the rights check;
//! - client code (client common modules, `&НаКлиенте` methods of forms) never reads `record_urls` or `raw` from a
//!   pushed event: what it receives has neither, and reading them would be the way back to a leak.
//!
//! Each check returns its violations; every test runs it on the real dump and on a copy with the defect planted.

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{method_end, method_header, modules, replaced, without_comment};

/// The calls that hand data to a push: publishing to Centrifugo, a client notification, a collaboration message,
/// the pending card (written, built, wrapped in an envelope) and the server's fan-out entry points.
const PUSH_SINKS: [&str; 10] = [
    ".Опубликовать(",
    ".ОтправитьУведомление(",
    "СоздатьСообщение(",
    ".КарточкаОжидания(",
    "ЗаписатьОжидающуюКарточку(",
    "Конверт(",
    "Разослать(",
    "ОпубликоватьОператорам(",
    "ДоставитьОператорам(",
    "ОтправитьВОбсуждение(",
];

/// What no push may carry: the recording links and the raw body, by every name the extension has for them.
const PUSH_FORBIDDEN: [&str; 5] = [
    "record_urls",
    "ссылканазапись",
    "телозапроса",
    "\"raw\"",
    "\"body\"",
];

/// What client code never reads from a pushed event.
const CLIENT_FORBIDDEN: [&str; 2] = ["record_urls", "\"raw\""];

const CLIENT_MODULES: [&str; 2] = [
    "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl",
    "CommonModules/ТБ_ТелефонияДоставкаКлиент/Ext/Module.bsl",
];

/// One method: name, first line, the compilation directive above it (lower case, empty if none), code lines.
struct Method {
    name: String,
    line: usize,
    directive: String,
    code: String,
}

fn methods(text: &str) -> Vec<Method> {
    let mut out = Vec::new();
    let mut current: Option<Method> = None;
    let mut directive = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = without_comment(raw);
        if current.is_none() && line.trim_start().starts_with('&') {
            directive = line.trim().to_lowercase();
            continue;
        }
        if let Some(name) = method_header(&line) {
            current = Some(Method {
                name,
                line: n + 1,
                directive: std::mem::take(&mut directive),
                code: String::new(),
            });
            continue;
        }
        if method_end(&line) {
            out.extend(current.take());
            continue;
        }
        if let Some(m) = current.as_mut() {
            m.code.push_str(&line);
            m.code.push('\n');
        }
    }
    out
}

/// Methods that hand data to a push and name a recording link or the raw body.
fn pushes_with_recordings(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in modules {
        for m in methods(text) {
            // A method that calls a sink, or is one (`Конверт`, `ЗаписатьОжидающуюКарточку`: they build what goes).
            let own = format!("{}(", m.name);
            let sinks: Vec<&str> = PUSH_SINKS
                .iter()
                .copied()
                .filter(|s| m.code.contains(s) || s.trim_start_matches('.') == own)
                .collect();
            if sinks.is_empty() {
                continue;
            }
            let lower = m.code.to_lowercase();
            for bad in PUSH_FORBIDDEN {
                if lower.contains(bad) {
                    out.push(format!(
                        "{rel}:{} {} pushes ({}) and names {bad}",
                        m.line,
                        m.name,
                        sinks.join(", ")
                    ));
                }
            }
        }
    }
    out
}

/// Client code that reads a recording link or the raw body out of a pushed event.
fn client_reads_recordings(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in modules {
        let client_module = CLIENT_MODULES.contains(&rel.as_str());
        let form = rel.starts_with("CommonForms/") && rel.ends_with("/Form/Module.bsl");
        if !client_module && !form {
            continue;
        }
        for m in methods(text) {
            let client = client_module || m.directive.starts_with("&наклиенте");
            if !client {
                continue;
            }
            for bad in CLIENT_FORBIDDEN {
                if m.code.to_lowercase().contains(bad) {
                    out.push(format!("{rel}:{} {} reads {bad}", m.line, m.name));
                }
            }
        }
    }
    out
}

#[test]
fn no_push_carries_a_recording_link_or_the_raw_body() {
    let modules = modules();
    let found = pushes_with_recordings(&modules);
    assert!(found.is_empty(), "{found:#?}");
    // The check sees the pushes it guards: each sink is called somewhere in the dump.
    let all: String = modules.iter().map(|(_, t)| t.as_str()).collect();
    for sink in PUSH_SINKS {
        assert!(all.contains(sink), "no call of {sink}: the list is stale");
    }

    // Planted: the publication gets the recording link back.
    let server = "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl";
    let planted = replaced(
        &modules,
        server,
        "\tКаналы = КаналыПоВнутреннемуНомеру(ВнутреннийНомер);",
        "\tКаналы = КаналыПоВнутреннемуНомеру(ВнутреннийНомер);\n\tДанныеJSON = СтрЗаменить(ДанныеJSON, \"}\", \",\"\"record_urls\"\":[]}\");",
    );
    assert!(
        pushes_with_recordings(&planted)
            .iter()
            .any(|v| v.contains("ОпубликоватьОператорам") && v.contains("record_urls")),
        "a publication with record_urls passed"
    );
    // Planted: the pending card's source takes the history's body.
    let delivery = "CommonModules/ТБ_ТелефонияДоставка/Ext/Module.bsl";
    let planted = replaced(
        &modules,
        delivery,
        "Событие[\"callee\"], \"\", \"\");",
        "Событие[\"callee\"], \"\", Выборка.ТелоЗапроса);",
    );
    assert!(
        pushes_with_recordings(&planted)
            .iter()
            .any(|v| v.contains("КарточкаСИменем") && v.contains("телозапроса")),
        "a pending card with the raw body passed"
    );
    // Planted: the envelope of notifications and collaboration messages carries a recording link.
    let planted = replaced(
        &modules,
        delivery,
        "Новый Структура(\"kind, path, card\", Вид, Путь,",
        "Новый Структура(\"kind, path, СсылкаНаЗапись, card\", Вид, Путь, \"\",",
    );
    assert!(
        pushes_with_recordings(&planted)
            .iter()
            .any(|v| v.contains("Конверт") && v.contains("ссылканазапись")),
        "an envelope with a recording link passed"
    );
    // Planted: a new method elsewhere publishes the raw body.
    let planted = replaced(
        &modules,
        server,
        "#КонецОбласти",
        "Процедура Утечка(К, Д) Экспорт\n\tК.Опубликовать(\"x\", Д[\"raw\"]);\nКонецПроцедуры\n\n#КонецОбласти",
    );
    assert!(
        pushes_with_recordings(&planted)
            .iter()
            .any(|v| v.contains("Утечка")),
        "a new publishing method with the raw body passed"
    );
    // A comment that mentions the names is no push of them.
    let planted = replaced(
        &modules,
        server,
        "\tКаналы = КаналыПоВнутреннемуНомеру(ВнутреннийНомер);",
        "\tКаналы = КаналыПоВнутреннемуНомеру(ВнутреннийНомер); // без record_urls и ТелоЗапроса",
    );
    assert!(pushes_with_recordings(&planted).is_empty());
}

#[test]
fn client_code_never_reads_a_recording_link_from_a_pushed_event() {
    let modules = modules();
    let found = client_reads_recordings(&modules);
    assert!(found.is_empty(), "{found:#?}");

    // Planted: the client takes the link from the publication again (the leak this follow-up closed).
    let planted = replaced(
        &modules,
        CLIENT_MODULES[0],
        "\tЗвонок.СсылкаНаЗапись = \"\";",
        "\tЗвонок.СсылкаНаЗапись = Строка(Модель[\"record_urls\"]);",
    );
    assert!(
        client_reads_recordings(&planted)
            .iter()
            .any(|v| v.contains("ЗвонокИзМодели")),
        "the client reading record_urls passed"
    );
    // Planted: a form's client handler reads the raw body of a notification.
    let form = "CommonForms/ТБ_ВходящийЗвонок/Ext/Form/Module.bsl";
    let planted = replaced(
        &modules,
        form,
        "\t\tСостояние = ПредставлениеСостояния(Параметр.Событие);",
        "\t\tСостояние = ПредставлениеСостояния(Параметр.Событие) + Параметр[\"raw\"];",
    );
    assert!(
        client_reads_recordings(&planted)
            .iter()
            .any(|v| v.contains("ОбработкаОповещения")),
        "a form reading raw passed"
    );
    // The same text in a server method of a form is not client code (the server may read its own history).
    let planted = replaced(
        &modules,
        form,
        "\tИдЗвонка = Параметры.ИдЗвонка;",
        "\tИдЗвонка = Параметры.ИдЗвонка; Х = \"record_urls\";",
    );
    assert!(client_reads_recordings(&planted).is_empty());
}
