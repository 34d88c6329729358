//! The 1C side of the delivery paths (issue 17), checked on the extension dump:
//! - a client notification is addressed by session numbers only: every `ОтправитьУведомление(` has three arguments,
//!   the third is never `Неопределено` (the platform's «every session» — caller numbers are personal data), and the
//!   method returns before the call when that list is empty;
//! - the fan-out is addressed by the operator's own sessions: a method that sends to an operator (`Разослать(`)
//!   gets the session numbers from the add-in's `СеансыОператора(` in the same method;
//! - `УведомленияКлиента` appears only as the string `Вычислить("УведомленияКлиента")` (compatibility 8.3.18 cannot
//!   compile the name), and only after a build guard (`УведомленияКлиентаДоступны(`) in the same method;
//! - every exported method of the delivery server-call module checks access first (the suite's own check, run on
//!   this module with a planted defect), and the pending-card read takes no parameter: the server picks the user;
//! - no role grants a right on the delivery registers (they are read and written in privileged mode after the
//!   check) and neither register has standard commands.
//!
//! Each check is a function returning its violations; every test runs it on the real dump and on a text or a copy
//! with the defect planted, and asserts both outcomes.

#[path = "support/bsl_names.rs"]
mod bsl_names;
#[path = "support/dump_checks.rs"]
mod dump_checks;

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{
    copy_dir, dump, method_end, method_header, module, modules, read_path, replaced,
    without_comment,
};

const SERVER: &str = "CommonModules/ТБ_ТелефонияДоставка/Ext/Module.bsl";
const SERVER_CALL: &str = "CommonModules/ТБ_ТелефонияДоставкаВызовСервера/Ext/Module.bsl";
const CLIENT: &str = "CommonModules/ТБ_ТелефонияДоставкаКлиент/Ext/Module.bsl";
const REGISTERS: [&str; 2] = ["ТБ_СеансыДоставки", "ТБ_ОжидающиеКарточки"];

/// The methods of a module: (name, first line number, code lines without comments).
fn methods(text: &str) -> Vec<(String, usize, Vec<String>)> {
    let mut out: Vec<(String, usize, Vec<String>)> = Vec::new();
    let mut current: Option<(String, usize, Vec<String>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = without_comment(raw);
        if let Some(name) = method_header(&line) {
            current = Some((name, n + 1, Vec::new()));
            continue;
        }
        if method_end(&line) {
            if let Some(m) = current.take() {
                out.push(m);
            }
            continue;
        }
        if let Some((_, _, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    out
}

/// The arguments of the call that opens at byte `open` (the `(`) of `text`, split at top-level commas.
fn call_args(text: &str, open: usize) -> Vec<String> {
    let mut depth = 0;
    let mut in_string = false;
    let mut args = vec![String::new()];
    for c in text[open..].chars() {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string {
            match c {
                '(' => {
                    depth += 1;
                    if depth == 1 {
                        continue;
                    }
                }
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => {
                    args.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        args.last_mut().expect("one").push(c);
    }
    args.into_iter().map(|a| a.trim().to_string()).collect()
}

/// Whether `word` occurs in `code` as a whole identifier (not as part of a longer name).
fn word_positions(code: &str, word: &str) -> Vec<usize> {
    code.match_indices(word)
        .filter(|(i, _)| {
            let before = code[..*i].chars().next_back();
            let after = code[i + word.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, _)| i)
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Client notifications go to listed sessions only

fn notifications_not_addressed(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in modules {
        for (name, line, lines) in methods(text) {
            let body = lines.join("\n");
            for at in word_positions(&body, "ОтправитьУведомление") {
                let Some(open) = body[at..].find('(').map(|o| at + o) else {
                    continue;
                };
                let args = call_args(&body, open);
                let third = args.get(2).cloned().unwrap_or_default();
                if args.len() != 3 || third.is_empty() || third.to_lowercase() == "неопределено"
                {
                    out.push(format!(
                        "{rel}: {name} (line {line}) sends a client notification without session numbers: {args:?}"
                    ));
                    continue;
                }
                let guard = format!("{third}.Количество() = 0");
                if !body[..at].contains(&guard) {
                    out.push(format!(
                        "{rel}: {name} (line {line}) does not return on an empty {third} before sending"
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn client_notifications_are_addressed_by_session_numbers_only() {
    let m = modules();
    assert!(
        module(&m, SERVER).contains("ОтправитьУведомление("),
        "the delivery module sends client notifications"
    );
    assert_eq!(notifications_not_addressed(&m), Vec::<String>::new());

    let call =
        "МенеджерУведомлений.ОтправитьУведомление(КлючУведомлений(), КонвертJSON, НомераСеансов);";
    // Planted: «every session» (Неопределено), the numbers left out, the empty-list guard gone.
    for (to, needle) in [
        (
            "МенеджерУведомлений.ОтправитьУведомление(КлючУведомлений(), КонвертJSON, Неопределено);",
            "without session numbers",
        ),
        (
            "МенеджерУведомлений.ОтправитьУведомление(КлючУведомлений(), КонвертJSON);",
            "without session numbers",
        ),
        (
            "МенеджерУведомлений.ОтправитьУведомление(КлючУведомлений(), КонвертJSON, Новый Массив);",
            "does not return on an empty",
        ),
    ] {
        let planted = replaced(&m, SERVER, call, to);
        let v = notifications_not_addressed(&planted);
        assert!(v.iter().any(|x| x.contains(needle)), "{to}: {v:?}");
    }
    let planted = replaced(
        &m,
        SERVER,
        "Если ТипЗнч(НомераСеансов) <> Тип(\"Массив\") Или НомераСеансов.Количество() = 0 Тогда",
        "Если ТипЗнч(НомераСеансов) <> Тип(\"Массив\") Тогда",
    );
    let v = notifications_not_addressed(&planted);
    assert!(
        v.iter().any(|x| x.contains("does not return on an empty")),
        "{v:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 2. The fan-out is addressed by the operator's own sessions

fn fanout_not_by_operator_sessions(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let text = module(modules, SERVER);
    let all = methods(text);
    let mut callers = 0;
    for (name, line, lines) in &all {
        let body = lines.join("\n");
        if name == "Разослать" || word_positions(&body, "Разослать").is_empty() {
            continue;
        }
        callers += 1;
        if !body.contains(".СеансыОператора(") {
            out.push(format!(
                "{SERVER}: {name} (line {line}) sends to operators without the add-in's СеансыОператора"
            ));
        }
        if body.contains("ПолучитьСеансыИнформационнойБазы(") && !body.contains(".СеансыОператора(")
        {
            out.push(format!(
                "{SERVER}: {name} (line {line}) addresses raw infobase sessions"
            ));
        }
    }
    if callers == 0 {
        out.push(format!(
            "{SERVER}: nothing calls Разослать — where does the fan-out go?"
        ));
    }
    // The sender of notifications is reached only from Разослать (the operator's sessions) and from the test of the
    // current session.
    for (name, line, lines) in &all {
        let body = lines.join("\n");
        if name != "ОтправитьУведомлениеСеансам"
            && !word_positions(&body, "ОтправитьУведомлениеСеансам").is_empty()
            && name != "Разослать"
            && !body.contains("ПолучитьТекущийСеансИнформационнойБазы().НомерСеанса")
        {
            out.push(format!(
                "{SERVER}: {name} (line {line}) sends notifications to sessions that are neither the operator's nor its own"
            ));
        }
    }
    out
}

#[test]
fn the_fan_out_goes_to_the_operators_own_sessions() {
    let m = modules();
    assert_eq!(fanout_not_by_operator_sessions(&m), Vec::<String>::new());

    // Planted: the numbers come from every live session instead of СеансыОператора.
    let planted = replaced(
        &m,
        SERVER,
        "КомпонентаЦентрифуга.СеансыОператора(Оператор.ИмяПользователя, СеансыJSON)",
        "СеансыJSON",
    );
    let v = fanout_not_by_operator_sessions(&planted);
    assert!(
        v.iter()
            .any(|x| x.contains("without the add-in's СеансыОператора")),
        "{v:?}"
    );
    // Planted: a new sender that passes other sessions to the notification sender.
    let planted = replaced(
        &m,
        SERVER,
        "#КонецОбласти",
        "Процедура ТБ_МутацияВсем(КонвертJSON) Экспорт\n\tОтправитьУведомлениеСеансам(Новый Массив, КонвертJSON);\nКонецПроцедуры\n\n#КонецОбласти",
    );
    let v = fanout_not_by_operator_sessions(&planted);
    assert!(v.iter().any(|x| x.contains("ТБ_МутацияВсем")), "{v:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// 3. УведомленияКлиента only through Вычислить, behind a build guard

fn client_notifications_unguarded(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in modules {
        // Outside methods (module header, variables) the name may not appear in code at all.
        for (name, line, lines) in methods(text) {
            let body = lines.join("\n");
            for at in word_positions(&body, "УведомленияКлиента") {
                let quoted = body[..at].ends_with("Вычислить(\"")
                    && body[at..].starts_with("УведомленияКлиента\")");
                if !quoted {
                    out.push(format!(
                        "{rel}: {name} (line {line}) names УведомленияКлиента outside Вычислить(\"УведомленияКлиента\")"
                    ));
                    continue;
                }
                if !body[..at].contains("УведомленияКлиентаДоступны(") {
                    out.push(format!(
                        "{rel}: {name} (line {line}) evaluates УведомленияКлиента without the build guard УведомленияКлиентаДоступны"
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn client_notifications_are_reached_only_through_evaluate_behind_a_build_guard() {
    let m = modules();
    for rel in [SERVER, CLIENT] {
        assert!(
            module(&m, rel).contains("Вычислить(\"УведомленияКлиента\")"),
            "{rel} uses client notifications"
        );
    }
    assert_eq!(client_notifications_unguarded(&m), Vec::<String>::new());

    // Planted: the name compiled directly (8.3.18 cannot), on the server and on the client.
    let planted = replaced(
        &m,
        SERVER,
        "МенеджерУведомлений.ОтправитьУведомление(",
        "УведомленияКлиента.ОтправитьУведомление(",
    );
    let v = client_notifications_unguarded(&planted);
    assert!(v.iter().any(|x| x.contains("outside Вычислить")), "{v:?}");
    let planted = replaced(
        &m,
        CLIENT,
        "МенеджерУведомлений = Вычислить(\"УведомленияКлиента\");",
        "МенеджерУведомлений = УведомленияКлиента;",
    );
    let v = client_notifications_unguarded(&planted);
    assert!(v.iter().any(|x| x.contains("outside Вычислить")), "{v:?}");
    // Planted: the guard gone.
    let planted = replaced(
        &m,
        CLIENT,
        "Если Не УведомленияКлиентаДоступны(План) Тогда",
        "Если План = Неопределено Тогда",
    );
    let v = client_notifications_unguarded(&planted);
    assert!(
        v.iter().any(|x| x.contains("without the build guard")),
        "{v:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Access first; the pending-card read chooses the user on the server

/// The exported methods of the server-call module that take parameters although they must not (the pending-card
/// read: a parameter would let a client name another operator).
fn reads_that_take_a_user(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = without_comment(raw);
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("Функция ОжидающиеКарточки(") {
            if !rest.starts_with(')') {
                out.push(format!("ОжидающиеКарточки takes parameters: `{t}`"));
            }
        }
    }
    if !text.contains("Функция ОжидающиеКарточки(") {
        out.push("ОжидающиеКарточки is missing".into());
    }
    out
}

#[test]
fn delivery_server_calls_check_access_first_and_choose_the_user_themselves() {
    let v: Vec<String> = dump_checks::missing_access_checks(&dump())
        .into_iter()
        .filter(|x| x.contains("ТБ_ТелефонияДоставка"))
        .collect();
    assert!(v.is_empty(), "{v:?}");
    let m = modules();
    assert_eq!(
        reads_that_take_a_user(module(&m, SERVER_CALL)),
        Vec::<String>::new()
    );
    let planted = module(&m, SERVER_CALL).replacen(
        "Функция ОжидающиеКарточки() Экспорт",
        "Функция ОжидающиеКарточки(Знач Пользователь) Экспорт",
        1,
    );
    assert!(!reads_that_take_a_user(&planted).is_empty());

    // Planted into a copy: the access check moved below the work.
    let dir = std::env::temp_dir().join(format!("tb-delivery-paths-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&dump(), &dir);
    let p = dir.join(SERVER_CALL);
    let text = std::fs::read_to_string(&p).expect("read");
    let from = "\tПроверитьПраваОператора();\n\tВозврат ТБ_ТелефонияДоставка.ОжидающиеКарточки();";
    assert!(text.contains(from));
    std::fs::write(
        &p,
        text.replacen(
            from,
            "\tКарточки = ТБ_ТелефонияДоставка.ОжидающиеКарточки();\n\tПроверитьПраваОператора();\n\tВозврат Карточки;",
            1,
        ),
    )
    .expect("write");
    let v = dump_checks::missing_access_checks(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        v.iter()
            .any(|x| x.contains("ТБ_ТелефонияДоставкаВызовСервера")
                && x.contains("ОжидающиеКарточки")),
        "{v:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 5. The delivery registers: no role right, no standard commands

fn register_exposure(roles: &[(String, String)], registers: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (role, rights) in roles {
        for object in rights.split("<object>").skip(1) {
            let Some(name) = object
                .split("<name>")
                .nth(1)
                .and_then(|n| n.split("</name>").next())
            else {
                continue;
            };
            if REGISTERS
                .iter()
                .any(|r| name == format!("InformationRegister.{r}"))
                && object.contains("<value>true</value>")
            {
                out.push(format!(
                    "{role} grants a right on {name}: delivery records are reached only through the server, after the access check"
                ));
            }
        }
    }
    for (name, xml) in registers {
        if !xml.contains("<UseStandardCommands>false</UseStandardCommands>") {
            out.push(format!("{name} has standard commands"));
        }
    }
    out
}

/// (name, file text) pairs.
type Named = Vec<(String, String)>;

fn roles_and_registers() -> (Named, Named) {
    let mut roles = Vec::new();
    for e in std::fs::read_dir(dump().join("Roles")).expect("roles") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            let name = p.file_name().expect("name").to_string_lossy().to_string();
            roles.push((name, read_path(&p.join("Ext/Rights.xml"))));
        }
    }
    let registers = REGISTERS
        .iter()
        .map(|r| {
            (
                r.to_string(),
                read_path(&dump().join(format!("InformationRegisters/{r}.xml"))),
            )
        })
        .collect();
    (roles, registers)
}

#[test]
fn no_role_reads_the_delivery_registers_and_they_have_no_standard_commands() {
    let (roles, registers) = roles_and_registers();
    assert!(roles.iter().any(|(n, _)| n == "ТБ_ОператорТелефонии"));
    assert_eq!(register_exposure(&roles, &registers), Vec::<String>::new());

    let mut planted = roles.clone();
    let operator = planted
        .iter_mut()
        .find(|(n, _)| n == "ТБ_ОператорТелефонии")
        .expect("operator role");
    operator.1 = operator.1.replacen(
        "</Rights>",
        "\t<object>\n\t\t<name>InformationRegister.ТБ_ОжидающиеКарточки</name>\n\t\t<right>\n\t\t\t<name>Read</name>\n\t\t\t<value>true</value>\n\t\t</right>\n\t</object>\n</Rights>",
        1,
    );
    assert!(!register_exposure(&planted, &registers).is_empty());

    let mut planted = registers.clone();
    planted[0].1 = planted[0].1.replace(
        "<UseStandardCommands>false</UseStandardCommands>",
        "<UseStandardCommands>true</UseStandardCommands>",
    );
    assert!(!register_exposure(&roles, &planted).is_empty());
}

// ---------------------------------------------------------------------------------------------------------------
// 6. The hook: the pending card is written where the extension publishes after writing history

#[test]
fn the_webhook_path_hands_each_publication_to_the_delivery() {
    let m = modules();
    let server = module(&m, "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl");
    let hooked = |text: &str| {
        methods(text).into_iter().any(|(name, _, lines)| {
            let body = lines.join("\n");
            name == "ПринятьСобытиеЗвонка"
                && body.find("ЗаписатьИсторию(").is_some_and(|h| {
                    body.find("ТБ_ТелефонияДоставка.ДоставитьОператорам(")
                        .is_some_and(|d| d > h)
                })
        })
    };
    assert!(hooked(server));
    let planted = server.replacen("ТБ_ТелефонияДоставка.ДоставитьОператорам(", "ТБ_Нет(", 1);
    assert!(!hooked(&planted));
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Every delivery goes through the filters; the web client registers

const CLIENT_MAIN: &str = "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl";

/// What is wrong with how deliveries reach the popup: (a) the envelope of every push path and of the poll passes
/// `ЭтоУстаревшееСобытие` and then `ЭтоПовторСобытия` before `ПоказатьДоставленныйЗвонок`; (b) the add-in's
/// publication passes `ЭтоПовторДоставки` before `ПоказатьЗвонок`; (c) the web client's branch registers the session.
fn delivery_filter_problems(modules: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let body_of = |rel: &str, name: &str| -> String {
        methods(module(modules, rel))
            .into_iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, l)| l.join("\n"))
            .unwrap_or_default()
    };
    let accept = body_of(CLIENT, "ПринятьКонверт");
    let show = accept.find("ПоказатьДоставленныйЗвонок(");
    let stale = accept.find("ЭтоУстаревшееСобытие(");
    let repeat = accept.find("ЭтоПовторСобытия(");
    match (stale, repeat, show) {
        (Some(s), Some(r), Some(p)) if s < r && r < p => {}
        _ => out.push(format!(
            "{CLIENT}: ПринятьКонверт shows a card without ЭтоУстаревшееСобытие then ЭтоПовторСобытия first"
        )),
    }
    for (handler, path) in [
        ("ПриУведомленииКлиента", "notifications"),
        ("ПриСообщенииОбсуждения", "collaboration"),
    ] {
        let body = body_of(CLIENT, handler);
        if !body.contains("ПринятьКонвертJSON(") || !body.contains(&format!("\"{path}\""))
        {
            out.push(format!(
                "{CLIENT}: {handler} does not hand its {path} envelope to ПринятьКонвертJSON"
            ));
        }
    }
    let poll = body_of(CLIENT, "ПрочитатьОжидающиеКарточки");
    if !poll.contains("ПринятьКонвертJSON(") {
        out.push(format!(
            "{CLIENT}: the poll does not hand its envelopes to ПринятьКонвертJSON"
        ));
    }
    let publication = body_of(CLIENT_MAIN, "ОбработатьПубликацию");
    match (
        publication.find("ЭтоПовторДоставки("),
        publication.find("ПоказатьЗвонок("),
    ) {
        (Some(r), Some(p)) if r < p => {}
        _ => out.push(format!(
            "{CLIENT_MAIN}: the add-in's publication is shown without ЭтоПовторДоставки first"
        )),
    }
    let connect = body_of(CLIENT_MAIN, "ПодключитьТелефонию");
    let web = connect
        .split("#Если ВебКлиент Тогда")
        .nth(1)
        .and_then(|rest| rest.split("#Иначе").next())
        .unwrap_or_default();
    if !web.contains("ТБ_ТелефонияДоставкаКлиент.ЗарегистрироватьСеансОператора(")
    {
        out.push(format!(
            "{CLIENT_MAIN}: the web client's branch does not register the session for delivery"
        ));
    }
    out
}

#[test]
fn every_delivery_passes_the_filters_and_the_web_client_registers() {
    let m = modules();
    assert_eq!(delivery_filter_problems(&m), Vec::<String>::new());
    for (rel, from, to, needle) in [
        (
            CLIENT,
            "Если ТБ_ТелефонияДоставкаКлиентСервер.ЭтоПовторСобытия(Доставка.Показанные",
            "Если Ложь И ТБ_ТелефонияДоставкаКлиентСервер.ЭтоПовторСобытияНет(Доставка.Показанные",
            "ПринятьКонверт shows",
        ),
        (
            CLIENT,
            "Если ТБ_ТелефонияДоставкаКлиентСервер.ЭтоУстаревшееСобытие(",
            "Если ТБ_ТелефонияДоставкаКлиентСервер.ЭтоНовоеСобытие(",
            "ПринятьКонверт shows",
        ),
        (
            CLIENT,
            "ПринятьКонвертJSON(Данные, \"notifications\");",
            "ТБ_ТелефонияКлиент.ПоказатьДоставленныйЗвонок(Данные, Истина);",
            "ПриУведомленииКлиента",
        ),
        (
            CLIENT_MAIN,
            "Если ТБ_ТелефонияДоставкаКлиент.ЭтоПовторДоставки(Звонок.ИдЗвонка, Звонок.Событие) Тогда",
            "Если Ложь Тогда",
            "ЭтоПовторДоставки first",
        ),
        (
            CLIENT_MAIN,
            "\tТБ_ТелефонияДоставкаКлиент.ЗарегистрироватьСеансОператора(Параметры, Ложь);\n\tУстановитьСостояние(ТекстВебКлиента()",
            "\tУстановитьСостояние(ТекстВебКлиента()",
            "web client's branch",
        ),
    ] {
        let planted = replaced(&m, rel, from, to);
        let v = delivery_filter_problems(&planted);
        assert!(v.iter().any(|x| x.contains(needle)), "{to}: {v:?}");
    }
}
