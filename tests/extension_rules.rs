//! Rules of issue 15 that the other extension checks do not see, checked on the dump's module texts:
//! - an operator's «Мои настройки» reach the server only as his 1C-Connect login: `ЗаписатьНастройкиОператора` of
//!   the server-call module calls nothing of the server but `ЗаписатьЛогинКоннект` (the internal number and the UIS
//!   employee id are the administrator's, or an operator could take a colleague's calls and dial as him);
//! - the call list a client asks for is limited by the server: `ПоследниеЗвонки` of the server-call module decides
//!   «all calls» through `ТБ_ТелефонияСервер.ВидитВсеЗвонки()` (role check), never from the client's arguments alone;
//! - no module of the extension calls a platform global that 1C deprecated in 8.3.17 (`КраткоеПредставлениеОшибки`,
//!   `ПодробноеПредставлениеОшибки` — replaced by `ОбработкаОшибок.…`, 8.3.17 change list), and no CLIENT code calls
//!   a synchronous/modal one that the «Не использовать» mode of modern bases refuses (`Вопрос`, `Предупреждение`,
//!   `ОткрытьФормуМодально`, `ВвестиЗначение`, `ВвестиСтроку`, `ВвестиЧисло`, `ВвестиДату`,
//!   `ПодключитьВнешнююКомпоненту`, `УстановитьВнешнююКомпоненту`, `ПоместитьФайл`, `ПолучитьФайл` — their
//!   `…Асинх`/`Показать…`/`Начать…` forms are the ones to use; ИТС standard 703 «Ограничение на использование
//!   модальных окон и синхронных вызовов»). On the server the synchronous attach is the platform's only form.
//!
//! Each check returns its violations; every test runs it on the real dump and on a text with the defect planted.

#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::{code_of, dump, read_path};
use std::path::{Path, PathBuf};

const SERVER_CALL: &str = "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl";

/// The body of method `name` of a module (code only), or an error if the module has no such method.
fn body(module: &str, name: &str) -> Result<String, String> {
    let lines: Vec<&str> = module.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            let t = code_of(l).trim_start().to_lowercase();
            let t = t.strip_prefix("асинх ").unwrap_or(&t).to_string();
            ["функция ", "процедура "].iter().any(|k| {
                t.strip_prefix(k)
                    .is_some_and(|rest| rest.starts_with(&format!("{}(", name.to_lowercase())))
            })
        })
        .ok_or_else(|| format!("{name}: no such method"))?;
    let end = lines[start..]
        .iter()
        .position(|l| {
            let t = code_of(l).trim().to_lowercase();
            t.starts_with("конецфункции") || t.starts_with("конецпроцедуры")
        })
        .ok_or_else(|| format!("{name}: no end"))?;
    Ok(lines[start + 1..start + end]
        .iter()
        .map(|l| code_of(l))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Every `ТБ_ТелефонияСервер.<Метод>(` a text calls.
fn server_calls(code: &str) -> Vec<String> {
    let prefix = "ТБ_ТелефонияСервер.";
    code.match_indices(prefix)
        .map(|(at, _)| {
            code[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn operator_settings_problems(server_call_module: &str) -> Vec<String> {
    match body(server_call_module, "ЗаписатьНастройкиОператора") {
        Err(e) => vec![e],
        Ok(code) => server_calls(&code)
            .into_iter()
            .filter(|m| m != "ЗаписатьЛогинКоннект")
            .map(|m| {
                format!(
                    "ЗаписатьНастройкиОператора calls ТБ_ТелефонияСервер.{m}: an operator writes only his 1C-Connect \
                     login (the internal number and the UIS employee id are set by the administrator)"
                )
            })
            .collect(),
    }
}

#[test]
fn an_operator_writes_only_his_login() {
    let module = read_path(&dump().join(SERVER_CALL));
    assert_eq!(operator_settings_problems(&module), Vec::<String>::new());
    let planted = module.replacen(
        "ТБ_ТелефонияСервер.ЗаписатьЛогинКоннект(Настройки.ЛогинКоннект);",
        "ТБ_ТелефонияСервер.ЗаписатьНастройкиОператора(Настройки);",
        1,
    );
    assert_ne!(planted, module, "the mutation needs the login write");
    let v = operator_settings_problems(&planted);
    assert!(
        v.iter()
            .any(|x| x.contains("ТБ_ТелефонияСервер.ЗаписатьНастройкиОператора")),
        "{v:?}"
    );
}

fn call_list_problems(server_call_module: &str) -> Vec<String> {
    match body(server_call_module, "ПоследниеЗвонки") {
        Err(e) => vec![e],
        Ok(code) => {
            let calls = server_calls(&code);
            let mut out = Vec::new();
            if !calls.iter().any(|m| m == "ПоследниеЗвонки") {
                out.push("ПоследниеЗвонки does not read the calls through ТБ_ТелефонияСервер.ПоследниеЗвонки".into());
            }
            if !calls.iter().any(|m| m == "ВидитВсеЗвонки") {
                out.push(
                    "ПоследниеЗвонки decides «all calls» without ТБ_ТелефонияСервер.ВидитВсеЗвонки(): a client could \
                     read every operator's calls"
                        .into(),
                );
            }
            out
        }
    }
}

#[test]
fn the_call_list_is_limited_by_the_server() {
    let module = read_path(&dump().join(SERVER_CALL));
    assert_eq!(call_list_problems(&module), Vec::<String>::new());
    let planted = module.replacen(
        "ТолькоМои <> Истина И ТБ_ТелефонияСервер.ВидитВсеЗвонки()",
        "ТолькоМои <> Истина",
        1,
    );
    assert_ne!(planted, module, "the mutation needs the role check");
    let v = call_list_problems(&planted);
    assert!(v.iter().any(|x| x.contains("ВидитВсеЗвонки")), "{v:?}");
}

/// Platform globals deprecated in 8.3.17: forbidden in every module.
const DEPRECATED: [&str; 2] = ["КраткоеПредставлениеОшибки", "ПодробноеПредставлениеОшибки"];

/// Synchronous or modal platform globals: forbidden in client code.
const SYNCHRONOUS: [&str; 11] = [
    "Вопрос",
    "Предупреждение",
    "ОткрытьФормуМодально",
    "ВвестиЗначение",
    "ВвестиСтроку",
    "ВвестиЧисло",
    "ВвестиДату",
    "ПодключитьВнешнююКомпоненту",
    "УстановитьВнешнююКомпоненту",
    "ПоместитьФайл",
    "ПолучитьФайл",
];

/// Where a module's code runs, for [`forbidden_calls`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Runs {
    Client,
    Server,
    /// A form module: each method by its directive (`&НаКлиенте` — client, `&НаСервере…` — server).
    ByDirective,
}

/// Calls of a forbidden global in a module's text: `Имя(` not preceded by `.` (a method of an object or module,
/// such as `ОбработкаОшибок.КраткоеПредставлениеОшибки(`, is another thing) nor by a letter.
fn forbidden_calls(module: &str, runs: Runs) -> Vec<String> {
    let mut out = Vec::new();
    let mut client = runs == Runs::Client;
    for (n, line) in module.lines().enumerate() {
        let code = code_of(line);
        let directive = code.trim().to_lowercase();
        if runs == Runs::ByDirective && directive.starts_with('&') {
            client = directive.starts_with("&наклиенте");
        }
        let names = DEPRECATED
            .iter()
            .chain(SYNCHRONOUS.iter().filter(|_| client));
        for name in names {
            for (at, _) in code.match_indices(name) {
                let before = code[..at].chars().next_back();
                let after = code[at + name.len()..].trim_start().chars().next();
                let bare = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
                if bare && after == Some('(') {
                    out.push(format!("line {}: {name}(…)", n + 1));
                }
            }
        }
    }
    out
}

/// Where the code of a module file of the dump runs: the application module and command modules on the client,
/// form modules by directive, common modules by their flags (client-only modules on the client).
fn runs_of(root: &Path, file: &Path) -> Runs {
    let rel = file.strip_prefix(root).unwrap();
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.first().map(String::as_str) {
        Some("Ext") | Some("CommonCommands") => Runs::Client,
        Some("CommonForms") => Runs::ByDirective,
        Some("CommonModules") => {
            let xml = read_path(&root.join("CommonModules").join(format!("{}.xml", parts[1])));
            let flag = |name: &str| xml.contains(&format!("<{name}>true</{name}>"));
            if flag("ClientManagedApplication") && !flag("Server") {
                Runs::Client
            } else {
                Runs::Server
            }
        }
        _ => Runs::Server,
    }
}

fn bsl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            bsl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "bsl") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_calls_a_deprecated_or_synchronous_global() {
    let root = dump();
    let mut files = Vec::new();
    bsl_files(&root, &mut files);
    assert!(files.len() >= 10, "the dump's modules: {}", files.len());
    let client_modules = files
        .iter()
        .filter(|f| runs_of(&root, f) == Runs::Client)
        .count();
    assert!(
        client_modules >= 3,
        "client modules found: {client_modules}"
    );
    let mut found = Vec::new();
    for f in &files {
        for v in forbidden_calls(&read_path(f), runs_of(&root, f)) {
            found.push(format!("{}: {v}", f.strip_prefix(&root).unwrap().display()));
        }
    }
    assert_eq!(found, Vec::<String>::new());
    // The planted defects: the old error text, a modal question, a synchronous attach; the async and qualified
    // forms next to them stay allowed.
    let planted = "Процедура А()\n\tТекст = КраткоеПредставлениеОшибки(ИнформацияОбОшибке());\n\
                   \tОтвет = Вопрос(\"?\", РежимДиалогаВопрос.ДаНет);\n\
                   \tПодключитьВнешнююКомпоненту(\"x\", \"y\");\n\
                   \tТекст = ОбработкаОшибок.КраткоеПредставлениеОшибки(ИнформацияОбОшибке()); // Вопрос(\n\
                   \tПоказатьВопрос(Неопределено, \"Вопрос(\", РежимДиалогаВопрос.ДаНет);\nКонецПроцедуры\n";
    assert_eq!(
        forbidden_calls(planted, Runs::Client),
        vec![
            "line 2: КраткоеПредставлениеОшибки(…)".to_string(),
            "line 3: Вопрос(…)".to_string(),
            "line 4: ПодключитьВнешнююКомпоненту(…)".to_string(),
        ]
    );
    // On the server only the deprecated name is a defect; in a form, the directive decides.
    assert_eq!(
        forbidden_calls(planted, Runs::Server),
        vec!["line 2: КраткоеПредставлениеОшибки(…)".to_string()]
    );
    let form = "&НаСервере\nПроцедура С()\n\tПодключитьВнешнююКомпоненту(\"x\");\nКонецПроцедуры\n\
                &НаКлиенте\nПроцедура К()\n\tПредупреждение(\"x\");\nКонецПроцедуры\n";
    assert_eq!(
        forbidden_calls(form, Runs::ByDirective),
        vec!["line 7: Предупреждение(…)".to_string()]
    );
}
