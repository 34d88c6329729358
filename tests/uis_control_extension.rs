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

use std::path::Path;

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

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bsl-examples/extension")
        .join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim_start_matches('\u{feff}')
        .to_string()
}

/// The code of one method (header to end keyword), with `//` comments removed.
fn method(module: &str, name: &str) -> Result<String, String> {
    let start = [format!("Функция {name}("), format!("Процедура {name}(")]
        .into_iter()
        .find_map(|h| module.find(&h))
        .ok_or_else(|| format!("method {name} not found"))?;
    let rest = &module[start..];
    let end = ["КонецФункции", "КонецПроцедуры"]
        .iter()
        .filter_map(|k| rest.find(k))
        .min()
        .ok_or_else(|| format!("{name}: no end"))?;
    Ok(rest[..end]
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n"))
}

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
