//! What keeps the extension safe on the internet and its data rights right, checked on the dump itself:
//! - the webhook module asks the add-in's gate (source, secret, Content-Length) before it reads a body, refuses
//!   when the gate says so, accepts a Binotel-style push only after `ДопуститьPush`, and never passes a body to the
//!   event log except as `ОтпечатокТела`;
//! - no role of the extension grants anything on the secrets register or the replay-key register, operators get no
//!   right on the history register (they read their own calls through the server), and neither technical register
//!   has standard commands (so no section or list shows it);
//! - the register fields carry their new names everywhere (НомерЗвонящего / НомерВызываемого).
//!
//! Each check is a function returning the first violation; the tests run it on the real dump and on copies with the
//! defect planted, and both outcomes are asserted, so a check that cannot fail fails here.

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{dump, method, read};
use std::path::{Path, PathBuf};

const WEBHOOKS: &str = "CommonModules/ТБ_ТелефонияHTTPСервисы/Ext/Module.bsl";

fn position(text: &str, what: &str, method: &str) -> Result<usize, String> {
    text.find(what)
        .ok_or_else(|| format!("{method}: `{what}` not found"))
}

/// The webhook gates come first, and bodies reach the log only as fingerprints.
fn check_webhook_module(module: &str) -> Result<(), String> {
    for (name, gate) in [
        ("ОбработатьУведомлениеUIS", ".ДопуститьУведомление("),
        ("ОбработатьPushAsterisk", ".ДопуститьЗапрос("),
        ("ОбработатьВебхукBinotel", ".ДопуститьВебхук("),
        ("ОтветитьНаЗапросВызоваUIS", ".ДопуститьУведомление("),
        ("ОтветитьНаПоискAsterisk", ".ДопуститьВебхук("),
    ] {
        let text = method(module, name)?;
        let gate_at = position(&text, gate, name)?;
        let refuse_at = position(&text, "Если Вердикт[\"accept\"] <> Истина Тогда", name)?;
        // A question of the PBX (whom to ring, who calls) stores nothing: what it reads of the request (body or
        // query parameters) must come after the gate's refusal.
        if matches!(
            name,
            "ОтветитьНаЗапросВызоваUIS" | "ОтветитьНаПоискAsterisk"
        ) {
            let reads: Vec<usize> = ["ТелоЗапроса(Запрос)", "ПараметрыЗапросаJSON(Запрос)"]
                .iter()
                .filter_map(|r| text.find(r))
                .collect();
            if !(gate_at < refuse_at && !reads.is_empty() && reads.iter().all(|&r| refuse_at < r)) {
                return Err(format!(
                    "{name}: the request is read before the gate's refusal is acted on"
                ));
            }
            continue;
        }
        let body_at = position(&text, "ТелоЗапроса(Запрос)", name)?;
        let accept_at = position(&text, "ТБ_ТелефонияСервер.ПринятьСобытиеЗвонка(", name)?;
        if !(gate_at < refuse_at && refuse_at < body_at) {
            return Err(format!(
                "{name}: the body is read before the gate's refusal is acted on"
            ));
        }
        if text.contains("ПолучитьТелоКак") {
            return Err(format!(
                "{name}: reads the body directly instead of through ТелоЗапроса after the gate"
            ));
        }
        if name == "ОбработатьPushAsterisk" {
            let push_gates: Vec<usize> =
                text.match_indices(".ДопуститьPush(").map(|m| m.0).collect();
            if push_gates.len() < 2 || push_gates.iter().any(|&at| at < body_at) {
                return Err(format!(
                    "{name}: a push must pass ДопуститьPush (signature, then replay) after the body is read"
                ));
            }
            let replay_at = push_gates[push_gates.len() - 1];
            let store_at = position(&text, "ЗаписатьКлючPush(", name)?;
            if !(push_gates[0] < accept_at && replay_at < accept_at && accept_at < store_at) {
                return Err(format!(
                    "{name}: the event is accepted before the signature and replay gates"
                ));
            }
        } else if accept_at < body_at {
            return Err(format!("{name}: the event is accepted before the body"));
        }
    }
    // Binotel's apiCallCompleted: written once per generalCallID, the key read under lock and stored with it.
    let name = "ЗаписатьЗавершениеBinotel";
    let text = method(module, name)?;
    let order = [
        "ЗаблокироватьКлючиPush(",
        "ПринятыеКлючиPush(",
        ".РазобратьВебхук(",
        "Если Разбор[\"repeated\"] <> Истина Тогда",
        "ТБ_ТелефонияСервер.ПринятьСобытиеЗвонка(",
        "ЗаписатьКлючPush(",
        "ЗафиксироватьТранзакцию()",
    ];
    let mut last = 0;
    for step in order {
        let at = position(&text, step, name)?;
        if at < last {
            return Err(format!(
                "{name}: `{step}` is out of order (lock, keys, check, write, key, commit)"
            ));
        }
        last = at;
    }
    // A body is never an argument of the log writers: only its fingerprint is. Statements, not lines: a call's
    // arguments continue on the next line.
    let code: String = module
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    for statement in code.split(';') {
        let logs = statement.contains("ЗаписатьОшибку(")
            || statement.contains("Отказ(")
            || statement.contains("ЗаписьЖурналаРегистрации(");
        if logs && bare_body_argument(statement) {
            return Err(format!("a body reaches the log: {}", statement.trim()));
        }
    }
    Ok(())
}

/// Whether `Тело` appears as a whole argument (not inside `ОтпечатокТела(Тело)` and not as part of a longer name).
fn bare_body_argument(code: &str) -> bool {
    let cleaned = code.replace("ОтпечатокТела(Тело)", "");
    cleaned.match_indices("Тело").any(|(at, _)| {
        let before = cleaned[..at].chars().next_back();
        let after = cleaned[at + "Тело".len()..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        boundary(before) && boundary(after)
    })
}

#[test]
fn the_webhooks_ask_the_gate_before_the_body_and_never_log_it() {
    let module = read(WEBHOOKS);
    assert_eq!(check_webhook_module(&module), Ok(()));

    // Planted: the body is read before the gate (the old order).
    let early_body = module.replacen(
        "\tТокен = Запрос.ПараметрыURL.Получить(\"Токен\");",
        "\tТело = ТелоЗапроса(Запрос);\n\tТокен = Запрос.ПараметрыURL.Получить(\"Токен\");",
        1,
    );
    assert_ne!(early_body, module);
    assert!(check_webhook_module(&early_body).is_err());

    // Planted: the gate's refusal is ignored.
    let ignored = module.replacen(
        "Если Вердикт[\"accept\"] <> Истина Тогда",
        "Если Ложь Тогда",
        1,
    );
    assert!(check_webhook_module(&ignored).is_err());

    // Planted: a push accepted without the replay gate.
    let no_replay = module.replacen(
        "\t\tВердикт = ТБ_ТелефонияСервер.ПрочитатьJSONВСоответствие(КомпонентаBinotel.ДопуститьPush(Тело,\n\t\t\tТипСодержимого, Сейчас, ТБ_ТелефонияСервер.ЗаписатьВJSON(Ключи)));\n",
        "",
        1,
    );
    assert_ne!(
        no_replay, module,
        "the replay gate's text moved: update the planted defect"
    );
    assert!(check_webhook_module(&no_replay).is_err());

    // Planted: the Binotel webhook's address gate ignored.
    let at = module.find("Функция ОбработатьВебхукBinotel(").unwrap();
    let ignored = format!(
        "{}{}",
        &module[..at],
        module[at..].replacen(
            "Если Вердикт[\"accept\"] <> Истина Тогда",
            "Если Ложь Тогда",
            1
        )
    );
    assert_ne!(ignored, module);
    assert!(check_webhook_module(&ignored).is_err());

    // Planted: UIS's question answered before its token is checked.
    let at = module.find("Функция ОтветитьНаЗапросВызоваUIS(").unwrap();
    let ungated = format!(
        "{}{}",
        &module[..at],
        module[at..].replacen(
            "Если Вердикт[\"accept\"] <> Истина Тогда",
            "Если Ложь Тогда",
            1
        )
    );
    assert!(check_webhook_module(&ungated).is_err());

    // Planted: Asterisk's look-up read before its address is checked.
    let at = module.find("Функция ОтветитьНаПоискAsterisk(").unwrap();
    let early = format!(
        "{}{}",
        &module[..at],
        module[at..].replacen(
            "\tПопытка\n",
            "\tПараметры = ПараметрыЗапросаJSON(Запрос);\n\tПопытка\n",
            1
        )
    );
    assert_ne!(early, module);
    assert!(check_webhook_module(&early).is_err());

    // Planted: a repeated apiCallCompleted written again.
    let repeated = module.replacen(
        "Если Разбор[\"repeated\"] <> Истина Тогда",
        "Если Истина Тогда",
        1,
    );
    assert_ne!(repeated, module);
    assert!(check_webhook_module(&repeated).is_err());

    // Planted: the completion's key stored before the event is written (a failed write would block the retry).
    let early_key = module.replacen(
        "\t\tЕсли Разбор[\"repeated\"] <> Истина Тогда\n",
        "\t\tТБ_ТелефонияСервер.ЗаписатьКлючPush(Ключ, Ключ);\n\t\tЕсли Разбор[\"repeated\"] <> Истина Тогда\n",
        1,
    );
    assert_ne!(early_key, module);
    assert!(check_webhook_module(&early_key).is_err());

    // Planted: the body in the event log (what the module did before).
    let logged = module.replacen("КомпонентаUIS.ОтпечатокТела(Тело));", "Тело);", 1);
    assert_ne!(logged, module);
    assert!(check_webhook_module(&logged).is_err());
    assert!(bare_body_argument(
        "ЗаписатьОшибку(Что, Инфо, Лев(Тело, 4000));"
    ));
    assert!(!bare_body_argument(
        "Отказ(Вердикт, КомпонентаBinotel.ОтпечатокТела(Тело));"
    ));
    assert!(!bare_body_argument(
        "ЗаписатьОшибку(Что, Инфо, ТелоЗапроса);"
    ));
}

/// Role names (without `Role.`) and the objects each grants any right on.
fn role_grants(role: &str, rights_xml: &str) -> Vec<(String, String)> {
    rights_xml
        .split("<object>")
        .skip(1)
        .filter_map(|object| {
            let name = object.split("<name>").nth(1)?.split("</name>").next()?;
            object
                .contains("<value>true</value>")
                .then(|| (role.to_string(), name.to_string()))
        })
        .collect()
}

fn check_rights(roles: &[(String, String)], registers: &[(String, String)]) -> Result<(), String> {
    for (role, rights) in roles {
        for (role, object) in role_grants(role, rights) {
            if object == "InformationRegister.ТБ_ЗащищенныеНастройки"
                || object == "InformationRegister.ТБ_ПринятыеPush"
            {
                return Err(format!("{role} grants a right on {object}"));
            }
            if role == "ТБ_ОператорТелефонии" && object == "InformationRegister.ТБ_ИсторияЗвонков"
            {
                return Err(format!(
                    "{role} grants a right on {object}: operators read only their own calls, through the server"
                ));
            }
        }
    }
    for (name, xml) in registers {
        if (name == "ТБ_ЗащищенныеНастройки" || name == "ТБ_ПринятыеPush")
            && !xml.contains("<UseStandardCommands>false</UseStandardCommands>")
        {
            return Err(format!(
                "{name} has standard commands: a section or list could show it"
            ));
        }
    }
    Ok(())
}

/// (name, file text) pairs.
type Named = Vec<(String, String)>;

fn roles_and_registers() -> (Named, Named) {
    let mut roles = Vec::new();
    for entry in std::fs::read_dir(dump().join("Roles")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            roles.push((name.clone(), read(&format!("Roles/{name}/Ext/Rights.xml"))));
        }
    }
    roles.sort();
    let registers = ["ТБ_ЗащищенныеНастройки", "ТБ_ПринятыеPush"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                read(&format!("InformationRegisters/{n}.xml")),
            )
        })
        .collect();
    (roles, registers)
}

#[test]
fn no_role_reads_secrets_or_replay_keys_and_operators_do_not_list_the_history() {
    let (roles, registers) = roles_and_registers();
    assert!(roles.len() >= 4, "{roles:?}");
    assert_eq!(check_rights(&roles, &registers), Ok(()));

    // Planted: the administrator role reads the secrets register (as it did).
    let mut planted = roles.clone();
    let admin = planted
        .iter_mut()
        .find(|(n, _)| n == "ТБ_АдминистраторТелефонии")
        .unwrap();
    admin.1 = admin.1.replacen(
        "</Rights>",
        "\t<object>\n\t\t<name>InformationRegister.ТБ_ЗащищенныеНастройки</name>\n\t\t<right>\n\t\t\t<name>Read</name>\n\t\t\t<value>true</value>\n\t\t</right>\n\t</object>\n</Rights>",
        1,
    );
    assert!(check_rights(&planted, &registers).is_err());

    // Planted: operators view the history register list (as they did).
    let mut planted = roles.clone();
    let operator = planted
        .iter_mut()
        .find(|(n, _)| n == "ТБ_ОператорТелефонии")
        .unwrap();
    operator.1 = operator.1.replacen(
        "</Rights>",
        "\t<object>\n\t\t<name>InformationRegister.ТБ_ИсторияЗвонков</name>\n\t\t<right>\n\t\t\t<name>View</name>\n\t\t\t<value>true</value>\n\t\t</right>\n\t</object>\n</Rights>",
        1,
    );
    assert!(check_rights(&planted, &registers).is_err());

    // Planted: the secrets register gets its standard commands back.
    let mut planted = registers.clone();
    planted[0].1 = planted[0].1.replace(
        "<UseStandardCommands>false</UseStandardCommands>",
        "<UseStandardCommands>true</UseStandardCommands>",
    );
    assert!(check_rights(&roles, &planted).is_err());
}

/// Code and metadata never use the old, swapped field names (comments that say what the field was called may).
fn check_field_names(files: &[(String, String)]) -> Result<(), String> {
    for (path, text) in files {
        for line in text.lines() {
            let code = if path.ends_with(".bsl") {
                line.split("//").next().unwrap_or_default()
            } else if line.contains("<Comment>") {
                ""
            } else {
                line
            };
            for old in ["ВызываемыйНомер", "ЗвонящийНомер"] {
                if code.contains(old) {
                    return Err(format!("{path}: old field name {old}: {}", line.trim()));
                }
            }
        }
    }
    Ok(())
}

fn extension_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "bsl" || x == "xml") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&dump(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dump())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = read(&rel);
            (rel, text)
        })
        .collect()
}

#[test]
fn the_history_fields_say_who_called_whom() {
    let files = extension_files();
    assert!(files.len() > 20);
    assert_eq!(check_field_names(&files), Ok(()));
    let register = read("InformationRegisters/ТБ_ИсторияЗвонков.xml");
    for name in [
        "<Name>НомерЗвонящего</Name>",
        "<Name>НомерВызываемого</Name>",
    ] {
        assert!(register.contains(name), "{name}");
    }
    // The rename keeps the ids, so the platform sees a rename, not a new field: НомерЗвонящего has the id the
    // caller's number always had (ВызываемыйНомер), НомерВызываемого the callee's (ЗвонящийНомер).
    let dump_info = read("ConfigDumpInfo.xml");
    assert!(
        dump_info.contains("Resource.НомерЗвонящего\" id=\"90246d99-8192-5ab8-9904-d708feb10e4a\"")
    );
    assert!(dump_info
        .contains("Resource.НомерВызываемого\" id=\"eb519076-52db-5e6f-bfc1-78e94767bd2e\""));

    // Planted: a query still selecting the old name.
    let mut planted = files.clone();
    let server = planted
        .iter_mut()
        .find(|(p, _)| p.ends_with("ТБ_ТелефонияСервер/Ext/Module.bsl"))
        .unwrap();
    server.1 = server.1.replacen(
        "История.НомерЗвонящего КАК НомерЗвонящего",
        "История.ВызываемыйНомер КАК НомерЗвонящего",
        1,
    );
    assert!(check_field_names(&planted).is_err());
}
