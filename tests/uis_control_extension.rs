//! What keeps UIS call control in the extension safe, checked on the dump itself:
//! - the server-call entry points check the operator role first (`ПроверитьПраваОператора`), so a user without it
//!   can neither transfer nor end a call nor change anyone's availability;
//! - `ТБ_ТелефонияУправлениеUIS.ВыполнитьДействие` asks `ЗвонокОператора` before it creates the add-in object, and
//!   `ЗвонокОператора` limits the history query to the operator's own extension unless he may see all calls — an
//!   operator cannot control another operator's call by guessing its session id;
//! - the UIS access token is read only on the server: the forms and the client module of the call control never
//!   name it;
//! - the long actions (consultation, blind transfer) never hold the operator's window: the server call starts a
//!   background job for each action the add-in says takes more than one UIS request, the client polls it from an
//!   idle handler with a bounded interval and gives up after the budget of those requests' timeouts;
//! - the buttons follow the call: each form shows exactly the actions in the add-in's offered list (the names of
//!   `tb_calls::uis_control::ControlAction`), sets their visibility nowhere else, and asks the server again on
//!   every event of the call it shows; the table of `docs/call-sources.md` is the add-in's rule, row by row.
//!
//! Each check is a function returning the first violation; the tests run it on the real dump and on copies with the
//! defect planted, and both outcomes are asserted, so a check that cannot fail fails here.

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{method, read};
use std::path::Path;

use tb_calls::uis_control::{ControlAction, ControlState, Phase};

const SERVER: &str = "CommonModules/ТБ_ТелефонияУправлениеUIS/Ext/Module.bsl";
const SERVER_CALL: &str = "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl";
const CLIENT: &str = "CommonModules/ТБ_ТелефонияУправлениеUISКлиент/Ext/Module.bsl";
const APPLICATION: &str = "Ext/ManagedApplicationModule.bsl";
const CARD: &str = "CommonForms/ТБ_ВходящийЗвонок/Ext/Form/Module.bsl";
const PANEL: &str = "CommonForms/ТБ_ПанельТелефонии/Ext/Form/Module.bsl";
const CLIENT_SIDE: [&str; 3] = [
    "CommonModules/ТБ_ТелефонияУправлениеUISКлиент/Ext/Module.bsl",
    "CommonForms/ТБ_ВходящийЗвонок/Ext/Form/Module.bsl",
    "CommonForms/ТБ_ПанельТелефонии/Ext/Form/Module.bsl",
];

/// The first statement of a method's body (after the header line and its parameters).
fn first_statement(code: &str) -> &str {
    let body = code.split_once(')').map(|(_, b)| b).unwrap_or_default();
    let body = body.split_once('\n').map(|(_, b)| b).unwrap_or_default();
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

fn check_entry_points(server_call: &str) -> Result<(), String> {
    for name in [
        "УправлениеЗвонкомUIS",
        "РезультатУправленияЗвонкомUIS",
        "СостояниеЗвонкаUIS",
        "ДоступностьДляЗвонковUIS",
    ] {
        let code = method(server_call, name)?;
        if first_statement(&code) != "ПроверитьПраваОператора();" {
            return Err(format!(
                "{name}: the first statement must be ПроверитьПраваОператора();, found `{}`",
                first_statement(&code)
            ));
        }
    }
    Ok(())
}

/// `what` is called in `method` before `then` (both must be there).
fn asks_before(server: &str, method_name: &str, what: &str, then: &str) -> Result<(), String> {
    let code = method(server, method_name)?;
    let asked = code
        .find(what)
        .ok_or_else(|| format!("{method_name} never calls {what}"))?;
    let done = code
        .find(then)
        .ok_or_else(|| format!("{method_name} never calls {then}"))?;
    if asked > done {
        return Err(format!("{method_name} calls {then} before {what}"));
    }
    Ok(())
}

fn check_ownership(server: &str) -> Result<(), String> {
    // Every path to UIS asks whose call it is first: the direct action, the background job's start, and the
    // state of the buttons (which would otherwise tell another operator's call's last event).
    asks_before(
        server,
        "ВыполнитьДействие",
        "ПричинаОтказа(",
        "НоваяКомпонентаUIS(",
    )?;
    asks_before(
        server,
        "НачатьДействие",
        "ПричинаОтказа(",
        "ФоновыеЗадания.Выполнить(",
    )?;
    asks_before(
        server,
        "СостояниеЗвонка",
        "ПоследнееСобытиеЗвонкаОператора(",
        "Новый(\"AddIn.",
    )?;
    // The background job re-checks in its own session: it runs the action only through ВыполнитьДействие.
    let job = method(server, "ВыполнитьДействиеВФоне")?;
    if !job.contains("= ВыполнитьДействие(Действие, ИдСессии, Номер, СостояниеУправления);")
        || job.contains("НоваяКомпонентаUIS(")
    {
        return Err(
            "ВыполнитьДействиеВФоне runs the action around ВыполнитьДействие's checks".into(),
        );
    }
    let refusal = method(server, "ПричинаОтказа")?;
    if !refusal.contains("Не ЗвонокОператора(ИдСессии)") {
        return Err("ПричинаОтказа never asks ЗвонокОператора".into());
    }
    let owner = method(server, "ЗвонокОператора")?;
    if !owner.contains("Возврат ПоследнееСобытиеЗвонкаОператора(ИдСессии) <> Неопределено;")
    {
        return Err("ЗвонокОператора does not come from ПоследнееСобытиеЗвонкаОператора".into());
    }
    let name = "ПоследнееСобытиеЗвонкаОператора";
    let query = method(server, name)?;
    let filter = "История.Канал = &ВнутреннийНомер";
    let text_start = query
        .find("Запрос.Текст =")
        .ok_or(format!("{name}: no query text"))?;
    let text_end = query[text_start..]
        .find("\";")
        .map(|e| text_start + e)
        .ok_or(format!("{name}: the query text has no end"))?;
    if !query[text_start..text_end].contains(&format!("И {filter}")) {
        return Err(format!("{name}: the query text has no `И {filter}`"));
    }
    // The filter may be dropped only for those who may see every call.
    let drop = query
        .find(&format!("СтрЗаменить(Запрос.Текст, \"И {filter}\""))
        .ok_or(format!(
            "{name}: the operator filter is never dropped for those who may see all calls"
        ))?;
    let guard = query[..drop]
        .rfind("Если ВидитВсеЗвонки Тогда")
        .ok_or(format!(
            "{name} drops the operator filter without `Если ВидитВсеЗвонки Тогда`"
        ))?;
    if query[guard..drop].contains("КонецЕсли") {
        return Err(format!(
            "{name} drops the operator filter outside `Если ВидитВсеЗвонки`"
        ));
    }
    if !query.contains("ВидитВсеЗвонки = ТБ_ТелефонияСервер.ВидитВсеЗвонки()")
    {
        return Err(format!(
            "{name}: ВидитВсеЗвонки must come from ТБ_ТелефонияСервер.ВидитВсеЗвонки()"
        ));
    }
    Ok(())
}

fn check_token_stays_on_server(files: &[(&str, String)]) -> Result<(), String> {
    for (name, text) in files {
        if let Some(line) = text
            .lines()
            .position(|l| l.contains("ТокенДоступа") || l.contains("ПрочитатьСекрет("))
        {
            return Err(format!(
                "{name}:{}: the UIS token is named on the client side",
                line + 1
            ));
        }
    }
    Ok(())
}

#[test]
fn uis_call_control_entry_points_check_the_operator_role_first() {
    let text = read(SERVER_CALL);
    assert_eq!(check_entry_points(&text), Ok(()));
    for header in [
        "Функция УправлениеЗвонкомUIS(Знач Действие, Знач ИдЗвонка, Знач Номер = \"\", Знач СостояниеУправления = \"\") Экспорт\n\n",
        "Функция РезультатУправленияЗвонкомUIS(Знач Задание, Знач Адрес) Экспорт\n\n",
        "Функция СостояниеЗвонкаUIS(Знач ИдЗвонка, Знач СостояниеУправления = \"\", Знач Событие = \"\") Экспорт\n\n",
    ] {
        let planted = text.replacen(
            &format!("{header}\tПроверитьПраваОператора();"),
            &format!("{header}\tПроверитьДоступКТелефонии();"),
            1,
        );
        assert_ne!(planted, text, "the defect was planted: {header}");
        assert!(check_entry_points(&planted).is_err(), "not caught: {header}");
    }
    let planted = text.replacen(
        "Функция ДоступностьДляЗвонковUIS(Знач Доступен = Неопределено) Экспорт\n\n\tПроверитьПраваОператора();\n",
        "Функция ДоступностьДляЗвонковUIS(Знач Доступен = Неопределено) Экспорт\n\n",
        1,
    );
    assert_ne!(planted, text, "the defect was planted");
    assert!(check_entry_points(&planted).is_err());
}

#[test]
fn only_the_operators_own_calls_can_be_controlled() {
    let text = read(SERVER);
    assert_eq!(check_ownership(&text), Ok(()));
    let mutants = [
        // The ownership question dropped.
        (
            "	Если ПустаяСтрока(ИдСессии) Или Не ЗвонокОператора(ИдСессии) Тогда",
            "	Если ПустаяСтрока(ИдСессии) Тогда",
        ),
        // The operator filter dropped for everyone.
        ("	Если ВидитВсеЗвонки Тогда\n", "	Если Истина Тогда\n"),
        // The filter removed from the query.
        ("	|	И История.Канал = &ВнутреннийНомер\n", "	|	И ИСТИНА\n"),
        // Ownership answered without the history.
        (
            "	Возврат ПоследнееСобытиеЗвонкаОператора(ИдСессии) <> Неопределено;",
            "	Возврат Истина;",
        ),
        // The add-in created before the question (the direct action, the job, the buttons' state).
        (
            "	Результат = Новый Структура(\"Успех, Текст, Состояние, Действия\", Ложь, \"\", \"\", \"\");\n",
            "	Результат = Новый Структура(\"Успех, Текст, Состояние, Действия\", Ложь, \"\", \"\", \"\");\n	НоваяКомпонентаUIS();\n",
        ),
        (
            "	Результат.Текст = ПричинаОтказа(Действие, ИдСессии, Номер);\n	Если Не ПустаяСтрока(Результат.Текст) Тогда\n		Возврат Результат;\n	КонецЕсли;\n	// Адрес живёт",
            "	// Адрес живёт",
        ),
        // The job calls UIS itself, skipping the checks.
        (
            "	Результат = ВыполнитьДействие(Действие, ИдСессии, Номер, СостояниеУправления);\n	ПоместитьВоВременноеХранилище(Результат, Адрес);",
            "	НоваяКомпонентаUIS().ПереадресоватьЗвонок(ИдСессии, Номер);\n	ПоместитьВоВременноеХранилище(Истина, Адрес);",
        ),
        (
            "	Последнее = ПоследнееСобытиеЗвонкаОператора(ИдСессии);\n	Если Последнее = Неопределено Тогда\n		Возврат Результат;\n	КонецЕсли;\n",
            "	КомпонентаUIS = Новый(\"AddIn.TelephonyBridge.UIScom\");\n	Последнее = ПоследнееСобытиеЗвонкаОператора(ИдСессии);\n",
        ),
    ];
    for (from, to) in mutants {
        let planted = text.replacen(from, to, 1);
        assert_ne!(planted, text, "the defect was planted: {from}");
        assert!(check_ownership(&planted).is_err(), "not caught: {from}");
    }
}

#[test]
fn the_uis_token_never_reaches_the_client_side() {
    let files: Vec<(&str, String)> = CLIENT_SIDE.iter().map(|f| (*f, read(f))).collect();
    assert_eq!(check_token_stays_on_server(&files), Ok(()));
    let mut planted = files.clone();
    planted[0]
        .1
        .push_str("\n// Компонента.ТокенДоступа = Токен;\n");
    assert!(check_token_stays_on_server(&planted).is_err());
    let mut planted = files;
    planted[2]
        .1
        .push_str("\nТокен = ТБ_ТелефонияСервер.ПрочитатьСекрет(\"ТокенДоступаUIS\");\n");
    assert!(check_token_stays_on_server(&planted).is_err());
}

/// The five buttons of both forms and the action each shows.
const BUTTONS: [(&str, ControlAction); 5] = [
    ("КонсультацияUIS", ControlAction::Consult),
    ("СоединитьUIS", ControlAction::Connect),
    ("ВернутьUIS", ControlAction::Restore),
    ("ПереадресоватьUIS", ControlAction::Transfer),
    ("ЗавершитьUIS", ControlAction::Release),
];

/// The actions the BSL names in `Возврат Действие = "…" Или Действие = "…";` of `ДлительноеДействие`.
fn long_actions_of(server: &str) -> Result<Vec<String>, String> {
    let code = method(server, "ДлительноеДействие")?;
    let line = code
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Возврат "))
        .ok_or("ДлительноеДействие: no Возврат")?;
    let mut names = Vec::new();
    for part in line
        .trim_start_matches("Возврат ")
        .trim_end_matches(';')
        .split(" Или ")
    {
        let name = part
            .trim()
            .strip_prefix("Действие = \"")
            .and_then(|p| p.strip_suffix('"'))
            .ok_or_else(|| format!("ДлительноеДействие: `{part}` is not `Действие = \"…\"`"))?;
        names.push(name.to_string());
    }
    names.sort();
    Ok(names)
}

/// The long actions run in a background job and the client waits for them without holding the window.
fn check_long_actions(
    server: &str,
    server_call: &str,
    client: &str,
    application: &str,
) -> Result<(), String> {
    // 1. What is long is the add-in's rule: every action of more than one UIS request.
    let mut expected: Vec<String> = ControlAction::ALL
        .into_iter()
        .filter(|a| a.max_requests() > 1)
        .map(|a| a.name().to_string())
        .collect();
    expected.sort();
    let long = long_actions_of(server)?;
    if long != expected {
        return Err(format!(
            "ДлительноеДействие names {long:?}, the add-in's actions of more than one request are {expected:?}"
        ));
    }
    // 2. The client's only entry point starts them, it never runs them.
    let entry = method(server_call, "УправлениеЗвонкомUIS")?;
    if !entry.contains("ТБ_ТелефонияУправлениеUIS.НачатьДействие(")
        || entry.contains("ТБ_ТелефонияУправлениеUIS.ВыполнитьДействие(")
    {
        return Err(
            "УправлениеЗвонкомUIS must go through НачатьДействие, never ВыполнитьДействие".into(),
        );
    }
    let start = method(server, "НачатьДействие")?;
    let direct = start
        .find("Если Не ДлительноеДействие(Действие) Тогда")
        .ok_or("НачатьДействие runs actions without asking ДлительноеДействие")?;
    let direct_end = start[direct..]
        .find("КонецЕсли;")
        .map(|e| direct + e)
        .ok_or("НачатьДействие: the direct branch has no end")?;
    let job = start
        .find("ФоновыеЗадания.Выполнить(\"ТБ_ТелефонияУправлениеUIS.ВыполнитьДействиеВФоне\"")
        .ok_or("НачатьДействие never starts ВыполнитьДействиеВФоне in a background job")?;
    if start.matches("ВыполнитьДействие(").count() != 1
        || !start[direct..direct_end].contains("ВыполнитьДействие(")
        || job < direct_end
    {
        return Err(
            "НачатьДействие runs an action outside `Если Не ДлительноеДействие` or before the job"
                .into(),
        );
    }
    // Nothing on the server waits for the job.
    for (name, text) in [("server", server), ("server call", server_call)] {
        if text.contains("ОжидатьЗавершени") {
            return Err(format!("the {name} module waits for a background job"));
        }
    }
    // 3. The job's budget is the longest action's requests times the timeout, plus a margin.
    let most = ControlAction::ALL
        .into_iter()
        .map(ControlAction::max_requests)
        .max()
        .unwrap_or(1);
    let budget = method(server, "ПределОжиданияЗадания")?;
    if !budget.contains(&format!("Возврат ТаймаутUIS() * {most} + ")) {
        return Err(format!(
            "ПределОжиданияЗадания is not ТаймаутUIS() * {most} + margin"
        ));
    }
    // 4. The client: a job result registers a wait and polls; the poll gives up at the deadline; the interval is
    //    bounded; the app module's handler calls the poll.
    let run = method(client, "ВыполнитьНаСервере")?;
    let registered = run
        .find("Если Результат.Успех И Не ПустаяСтрока(Результат.Задание) Тогда")
        .ok_or("ВыполнитьНаСервере does not tell a started job from a finished action")?;
    let branch = &run[registered..];
    let branch = &branch[..branch.find("КонецЕсли;").unwrap_or(branch.len())];
    if !branch.contains("ОжидающиеДействия().Добавить(") || !branch.contains("ПодключитьОпрос();")
    {
        return Err("ВыполнитьНаСервере does not wait for a started job".into());
    }
    let poll = method(client, "ОпроситьДействия")?;
    if !poll.contains("ТБ_ТелефонияВызовСервера.РезультатУправленияЗвонкомUIS(")
        || !poll.contains("ИначеЕсли Сейчас >= Ожидание.Срок Тогда")
    {
        return Err("ОпроситьДействия does not ask the job's result or never gives up".into());
    }
    let attach = method(client, "ПодключитьОпрос")?;
    if !attach.contains(
        "ПодключитьОбработчикОжидания(\"ТБ_ОжиданиеУправленияЗвонкомUIS\", Мин(1 + Цел(Опросов / 3), 3), Истина);",
    ) {
        return Err("ПодключитьОпрос: the idle handler is not one-shot with a bounded interval".into());
    }
    let handler = method(application, "ТБ_ОжиданиеУправленияЗвонкомUIS")?;
    if !handler.contains("ТБ_ТелефонияУправлениеUISКлиент.ОпроситьДействия();")
    {
        return Err("the application module's idle handler does not poll".into());
    }
    if !application.contains("Процедура ТБ_ОжиданиеУправленияЗвонкомUIS() Экспорт")
    {
        return Err("the idle handler is not exported from the application module".into());
    }
    Ok(())
}

/// Each form shows exactly the offered actions: the five buttons' visibility is set in
/// `ПринятьСостояниеУправленияUIS` only, each from its own action's name, and the form asks the server again on
/// the events of the call it shows.
fn check_buttons_follow_the_call(form: &str, follows_events: &str) -> Result<(), String> {
    let accept = method(form, "ПринятьСостояниеУправленияUIS")?;
    if !accept.contains("Действия = \",\" + Ответ.Действия + \",\";") {
        return Err("ПринятьСостояниеУправленияUIS does not read the offered list".into());
    }
    for (button, action) in BUTTONS {
        let wanted = format!(
            "Элементы.{button}.Видимость = СтрНайти(Действия, \",{},\") > 0;",
            action.name()
        );
        if !accept.contains(&wanted) {
            return Err(format!("ПринятьСостояниеУправленияUIS: no `{wanted}`"));
        }
        let everywhere = form
            .matches(&format!("Элементы.{button}.Видимость"))
            .count();
        if everywhere != 1 {
            return Err(format!(
                "{button}: its visibility is set {everywhere} times; only the offered list may decide it"
            ));
        }
    }
    let handler = method(form, "ОбработкаОповещения")?;
    let event = handler
        .find("ИмяСобытия = \"ТБ_СобытиеЗвонка\"")
        .ok_or("ОбработкаОповещения ignores the call's events")?;
    let branch = &handler[event..];
    let branch = &branch[..branch.find("ИначеЕсли ИмяСобытия").unwrap_or(branch.len())];
    if !branch.contains(&format!(
        "ПринятьСостояниеУправленияUIS(ТБ_ТелефонияВызовСервера.СостояниеЗвонкаUIS({follows_events}"
    )) {
        return Err("the buttons do not follow the call's events".into());
    }
    if !handler.contains("ИмяСобытия = \"ТБ_УправлениеЗвонкомUIS\"") {
        return Err("the form ignores the results of actions taken elsewhere".into());
    }
    Ok(())
}

#[test]
fn long_actions_run_in_a_background_job_and_the_client_polls() {
    let (server, server_call, client, application) = (
        read(SERVER),
        read(SERVER_CALL),
        read(CLIENT),
        read(APPLICATION),
    );
    assert_eq!(
        check_long_actions(&server, &server_call, &client, &application),
        Ok(())
    );
    let server_mutants = [
        // The blind transfer run synchronously again.
        (
            "	Возврат Действие = \"Консультация\" Или Действие = \"Переадресовать\";",
            "	Возврат Действие = \"Консультация\";",
        ),
        // The direct branch taken for every action.
        (
            "	Если Не ДлительноеДействие(Действие) Тогда",
            "	Если Истина Тогда",
        ),
        // The server waits for its job.
        (
            "	Результат.Успех = Истина;\n	Результат.Текст = НСтр(\"ru = 'Запрос отправлен в UIS'\");",
            "	Задание.ОжидатьЗавершенияВыполнения(20);\n	Результат.Успех = Истина;\n	Результат.Текст = НСтр(\"ru = 'Запрос отправлен в UIS'\");",
        ),
        // A budget shorter than the blind transfer's four requests.
        (
            "	Возврат ТаймаутUIS() * 4 + 10;",
            "	Возврат ТаймаутUIS() * 2 + 10;",
        ),
    ];
    for (from, to) in server_mutants {
        let planted = server.replacen(from, to, 1);
        assert_ne!(planted, server, "the defect was planted: {from}");
        assert!(
            check_long_actions(&planted, &server_call, &client, &application).is_err(),
            "not caught: {from}"
        );
    }
    let planted = server_call.replacen(
        "ТБ_ТелефонияУправлениеUIS.НачатьДействие(",
        "ТБ_ТелефонияУправлениеUIS.ВыполнитьДействие(",
        1,
    );
    assert_ne!(planted, server_call);
    assert!(check_long_actions(&server, &planted, &client, &application).is_err());
    let client_mutants = [
        // Never gives up.
        (
            "		ИначеЕсли Сейчас >= Ожидание.Срок Тогда",
            "		ИначеЕсли Ложь Тогда",
        ),
        // Polls without a bound on the interval.
        ("Мин(1 + Цел(Опросов / 3), 3)", "1 + Опросов"),
        // Shows "sent" and forgets the job.
        ("		ОжидающиеДействия().Добавить(Ожидание);\n", ""),
    ];
    for (from, to) in client_mutants {
        let planted = client.replacen(from, to, 1);
        assert_ne!(planted, client, "the defect was planted: {from}");
        assert!(
            check_long_actions(&server, &server_call, &planted, &application).is_err(),
            "not caught: {from}"
        );
    }
    let planted = application.replacen(
        "	ТБ_ТелефонияУправлениеUISКлиент.ОпроситьДействия();",
        "",
        1,
    );
    assert_ne!(planted, application);
    assert!(check_long_actions(&server, &server_call, &client, &planted).is_err());
}

#[test]
fn the_buttons_show_only_the_offered_actions() {
    for (form, follows) in [(CARD, "ИдЗвонка,"), (PANEL, "ЗвонокУправленияUIS,")]
    {
        let text = read(form);
        assert_eq!(
            check_buttons_follow_the_call(&text, follows),
            Ok(()),
            "{form}"
        );
        let mutants = [
            // Two buttons swapped.
            (
                "	Элементы.СоединитьUIS.Видимость = СтрНайти(Действия, \",Соединить,\") > 0;",
                "	Элементы.СоединитьUIS.Видимость = СтрНайти(Действия, \",Вернуть,\") > 0;",
            ),
            // A button always shown.
            (
                "	Элементы.ЗавершитьUIS.Видимость = СтрНайти(Действия, \",Завершить,\") > 0;",
                "	Элементы.ЗавершитьUIS.Видимость = Истина;",
            ),
            // The list replaced by the form's own guess.
            (
                "	Действия = \",\" + Ответ.Действия + \",\";",
                "	Действия = \",Консультация,Соединить,Вернуть,Переадресовать,Завершить,\";",
            ),
            // The buttons stop following the call's events.
            (
                "ПринятьСостояниеУправленияUIS(ТБ_ТелефонияВызовСервера.СостояниеЗвонкаUIS(",
                "ПринятьСостояниеУправленияUIS(Новый Структура(\"Состояние, Действия\", \"\", \"\"), (",
            ),
        ];
        for (from, to) in mutants {
            let planted = if from.starts_with("ПринятьСостояниеУправленияUIS(ТБ_")
            {
                // The event's call, not the first one (creation) of the card.
                let at = text
                    .find("ИмяСобытия = \"ТБ_СобытиеЗвонка\"")
                    .expect("the event branch");
                format!("{}{}", &text[..at], text[at..].replacen(from, to, 1))
            } else {
                text.replacen(from, to, 1)
            };
            assert_ne!(planted, text, "{form}: the defect was planted: {from}");
            assert!(
                check_buttons_follow_the_call(&planted, follows).is_err(),
                "{form}: not caught: {from}"
            );
        }
        // A second place that decides a button.
        let planted = text.replacen(
            "КонецПроцедуры",
            "	Элементы.ВернутьUIS.Видимость = Истина;\nКонецПроцедуры",
            1,
        );
        assert!(
            check_buttons_follow_the_call(&planted, follows).is_err(),
            "{form}"
        );
    }
}

/// One row of the docs' table: the phase, the consultation (None for «—»), the buttons' titles.
type DocsRow = (String, Option<bool>, Vec<String>);

/// The rows of the table «Какие кнопки видны» in `docs/call-sources.md`.
fn docs_button_rows(docs: &str) -> Result<Vec<DocsRow>, String> {
    let start = docs
        .find("| Состояние звонка | Консультацию начал этот оператор | Видны кнопки |")
        .ok_or("docs/call-sources.md: no table of buttons")?;
    let mut rows = Vec::new();
    for line in docs[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 3 {
            return Err(format!("not three cells: {line}"));
        }
        let phase = cells[0]
            .strip_prefix('`')
            .and_then(|c| c.split('`').next())
            .ok_or_else(|| format!("no phase: {line}"))?;
        let consultation = match cells[1] {
            "да" => Some(true),
            "нет" => Some(false),
            "—" => None,
            other => return Err(format!("consultation `{other}`: {line}")),
        };
        let buttons = if cells[2] == "нет" {
            Vec::new()
        } else {
            cells[2]
                .split('«')
                .skip(1)
                .map(|b| b.split('»').next().unwrap_or_default().to_string())
                .collect()
        };
        rows.push((phase.to_string(), consultation, buttons));
    }
    Ok(rows)
}

/// The button titles of the docs for the add-in's actions.
fn title(action: ControlAction) -> &'static str {
    match action {
        ControlAction::Consult => "Консультация...",
        ControlAction::Connect => "Соединить",
        ControlAction::Restore => "Вернуть",
        ControlAction::Transfer => "Перевести...",
        ControlAction::Release => "Завершить",
    }
}

fn check_docs_table(docs: &str) -> Result<(), String> {
    let rows = docs_button_rows(docs)?;
    let mut covered = Vec::new();
    for (phase_name, consultation, buttons) in rows {
        let phase =
            Phase::from_name(&phase_name).ok_or_else(|| format!("unknown phase {phase_name}"))?;
        let flags = consultation.map_or(vec![false, true], |c| vec![c]);
        for consultation in flags {
            let state = ControlState {
                phase,
                consultation,
            };
            let offered: Vec<&str> = state.offered().into_iter().map(title).collect();
            if offered != buttons {
                return Err(format!(
                    "{phase_name}, consultation {consultation}: the docs say {buttons:?}, the add-in offers {offered:?}"
                ));
            }
            covered.push((phase, consultation));
        }
    }
    for phase in [
        Phase::Unknown,
        Phase::Ringing,
        Phase::Talking,
        Phase::Transferred,
        Phase::Finished,
    ] {
        for consultation in [false, true] {
            if !covered.contains(&(phase, consultation)) {
                return Err(format!(
                    "the docs have no row for {}, consultation {consultation}",
                    phase.name()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_docs_table_of_buttons_is_the_add_ins_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/call-sources.md");
    let docs = std::fs::read_to_string(&path).expect("docs/call-sources.md");
    assert_eq!(check_docs_table(&docs), Ok(()));
    let mutants = [
        (
            "| `ringing` — звонит (`ringing`) | — | «Завершить» |",
            "| `ringing` — звонит (`ringing`) | — | «Консультация...», «Завершить» |",
        ),
        (
            "| да | «Соединить», «Вернуть», «Завершить» |",
            "| да | «Вернуть», «Завершить» |",
        ),
        ("| `unknown` — событий ещё нет | — | «Завершить» |\n", ""),
    ];
    for (from, to) in mutants {
        let planted = docs.replacen(from, to, 1);
        assert_ne!(planted, docs, "the defect was planted: {from}");
        assert!(check_docs_table(&planted).is_err(), "not caught: {from}");
    }
}
