//! Checks that see the defect classes which stopped the extension in real bases (issue 15, item 2). Each check is a
//! function over the dump (or over one module's text) returning its violations; each has a mutation test here that
//! plants the defect in a temporary copy of the dump (or in the text) and asserts the check reports it.
//!
//! - the application module against real base configurations (`tests/fixtures/bases/`: БСП, БСП with БПО, bare);
//! - every identifier a module uses resolves (`tests/support/bsl_names.rs`; platform globals from
//!   1c-syntax/vsc-language-1c-bsl `lib/bslGlobals.json`, see `tests/fixtures/platform-globals/README.md`);
//! - every common form but the popup is opened by a command or by code; the secrets register is never listed in a
//!   subsystem nor viewable by a non-admin role;
//! - every exported method of a server-call module checks access first;
//! - the element order of every XML file against the orders real 2.13 dumps have (`tests/fixtures/xml-order-2.13/`).

#[path = "support/bsl_names.rs"]
mod bsl_names;
#[path = "support/dump_checks.rs"]
mod dump_checks;

use std::collections::{BTreeMap, BTreeSet};
#[path = "support/dump_text.rs"]
mod dump_text;

use dump_text::copy_dir;
use std::path::{Path, PathBuf};

use bsl_names::{key, Base, Context, Side};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dump() -> PathBuf {
    root().join("bsl-examples/extension")
}

fn base(name: &str) -> Base {
    Base::load(&root().join("tests/fixtures/bases").join(name))
}

fn app_module_text(dump: &Path) -> String {
    bsl_names::read_text(&dump.join("Ext/ManagedApplicationModule.bsl"))
}

/// A copy of the extension dump in a fresh temporary directory, for planting a defect.
struct Copy {
    dir: PathBuf,
}

impl Copy {
    fn new(tag: &str) -> Copy {
        let dir = std::env::temp_dir().join(format!("tb-ext-checks-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&dump(), &dir);
        Copy { dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
    /// Replaces `from` (which must occur) by `to` in file `rel`.
    fn replace(&self, rel: &str, from: &str, to: &str) {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            text.contains(from),
            "{rel}: the mutation needs `{from}` in it"
        );
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn report(what: &str, v: &[String]) -> String {
    format!("{what}: {} violation(s):\n  {}", v.len(), v.join("\n  "))
}

fn assert_found(v: &[String], needle: &str) {
    assert!(
        v.iter().any(|x| x.contains(needle)),
        "the check missed the planted defect (expected a violation containing `{needle}`), got:\n  {}",
        v.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The application module against real base configurations

#[test]
fn base_fixtures_hold_what_the_checks_need() {
    let bsp = base("bsp");
    assert!(bsp.app_methods.contains(&key("ПриНачалеРаботыСистемы")));
    assert!(
        !bsp.app_methods.contains(&key("ОбработкаВнешнегоСобытия")),
        "БСП 3.1 has no external-event handler"
    );
    assert!(bsp.app_variables.contains(&key("ПараметрыПриложения")));
    assert!(
        bsp.modules.len() > 500,
        "БСП common modules: {}",
        bsp.modules.len()
    );
    assert!(bsp.modules[&key("ОбщегоНазначения")].server);
    assert!(bsp.modules[&key("СерверныеОповещенияГлобальный")].global);
    let bpo = base("bsp-bpo");
    assert!(bpo.app_methods.contains(&key("ОбработкаВнешнегоСобытия")));
    assert!(bpo.app_methods.contains(&key("ПриНачалеРаботыСистемы")));
    let bare = base("bare");
    assert!(
        bare.app_methods.is_empty() && bare.app_variables.is_empty() && bare.modules.is_empty()
    );
}

/// The application module the package ships for a base of kind `variant` (`bare`, `bsp`, `bsp-bpo`, `bpo`): the
/// packager's own derivation (`package::extension::application_module`) from the dump's (`bare`) form, so each
/// variant is checked against its base exactly as it is written into the release.
fn app_module_variant(dump: &Path, variant: &str) -> String {
    let variant = package::extension::Variant::from_name(variant)
        .unwrap_or_else(|| panic!("no extension variant named {variant}"));
    package::extension::application_module(&app_module_text(dump), variant).unwrap_or_else(|e| {
        panic!(
            "the packager cannot derive the {} module: {e}",
            variant.name()
        )
    })
}

#[test]
fn app_module_applies_to_the_bare_base() {
    let v = bsl_names::app_module_violations(&base("bare"), &app_module_variant(&dump(), "bare"));
    assert!(
        v.is_empty(),
        "{}",
        report("the `bare` application module against the bare base", &v)
    );
}

#[test]
fn app_module_applies_to_the_bsp_base() {
    let v = bsl_names::app_module_violations(&base("bsp"), &app_module_variant(&dump(), "bsp"));
    assert!(
        v.is_empty(),
        "{}",
        report("the `bsp` application module against the БСП base", &v)
    );
}

#[test]
fn app_module_applies_to_the_bsp_bpo_base() {
    let v =
        bsl_names::app_module_violations(&base("bsp-bpo"), &app_module_variant(&dump(), "bsp-bpo"));
    assert!(
        v.is_empty(),
        "{}",
        report(
            "the `bsp-bpo` application module against the БСП+БПО base",
            &v
        )
    );
}

#[test]
fn app_module_applies_to_the_bpo_base() {
    let v = bsl_names::app_module_violations(&base("bpo"), &app_module_variant(&dump(), "bpo"));
    assert!(
        v.is_empty(),
        "{}",
        report(
            "the `bpo` application module against a base with only ОбработкаВнешнегоСобытия",
            &v
        )
    );
}

/// The bare base is itself written in the 2.13 order the XML check enforces.
#[test]
fn bare_fixture_is_written_in_the_2_13_order() {
    let v = dump_checks::order_violations(&root().join("tests/fixtures/bases/bare"), &orders());
    assert!(v.is_empty(), "{}", report("tests/fixtures/bases/bare", &v));
}

#[test]
fn mutation_unannotated_handler_the_base_defines_fails() {
    let text = "Процедура ПриНачалеРаботыСистемы()\n\tТБ_ТелефонияКлиент.ПриНачалеРаботыСистемы();\nКонецПроцедуры\n";
    let v = bsl_names::app_module_violations(&base("bsp"), text);
    assert_found(
        &v,
        "ПриНачалеРаботыСистемы is declared without an annotation",
    );
    assert!(
        bsl_names::app_module_violations(&base("bare"), text).is_empty(),
        "the bare base has no such handler"
    );
    let v = bsl_names::app_module_violations(&base("bsp"), "Перем ПараметрыПриложения Экспорт;\n");
    assert_found(&v, "variable ПараметрыПриложения");
}

#[test]
fn mutation_hook_of_a_method_the_base_lacks_fails() {
    for hook in ["После", "Перед", "Вместо"] {
        let text = format!(
            "&{hook}(\"ОбработкаВнешнегоСобытия\")\nПроцедура ТБ_ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\n\
             КонецПроцедуры\n"
        );
        let v = bsl_names::app_module_violations(&base("bsp"), &text);
        assert_found(&v, &format!("&{hook}(\"ОбработкаВнешнегоСобытия\")"));
        assert!(
            bsl_names::app_module_violations(&base("bsp-bpo"), &text).is_empty(),
            "БПО has the handler"
        );
        assert_found(
            &bsl_names::app_module_violations(&base("bare"), &text),
            "has no method ОбработкаВнешнегоСобытия",
        );
    }
}

/// The real defect of issue 15: the dump's module planted into a БСП base fails, with the platform's message.
#[test]
fn mutation_original_app_module_fails_in_bsp_base() {
    let original = "Процедура ПриНачалеРаботыСистемы()\n\tТБ_ТелефонияКлиент.ПриНачалеРаботыСистемы();\n\
                    КонецПроцедуры\n\nПроцедура ОбработкаВнешнегоСобытия(Источник, Событие, Данные)\n\
                    \tТБ_ТелефонияКлиент.ОбработатьВнешнееСобытие(Источник, Событие, Данные);\nКонецПроцедуры\n";
    let v = bsl_names::app_module_violations(&base("bsp"), original);
    assert_found(&v, "уже определена");
    let v = bsl_names::app_module_violations(&base("bsp-bpo"), original);
    assert_eq!(v.len(), 2, "both handlers clash in a БСП+БПО base: {v:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Every identifier resolves

fn platform() -> BTreeSet<String> {
    bsl_names::platform_globals(&root().join("tests/fixtures/platform-globals/names.txt"))
}

/// Every BSL module of a dump with its owner's context: (relative path, default side, extra names).
fn modules_of(dump: &Path) -> Vec<(String, Side, BTreeSet<String>)> {
    let mut out = Vec::new();
    let form_context = form_context_names();
    let app = bsl_names::parse_module(&app_module_text(dump));
    // Exported methods and variables of the extension's application module are global names on the client.
    let app_exports: BTreeSet<String> = app
        .methods
        .iter()
        .filter(|m| m.export)
        .map(|m| key(&m.name))
        .chain(app.vars.iter().filter(|(_, e)| *e).map(|(v, _)| key(v)))
        .collect();
    out.push((
        "Ext/ManagedApplicationModule.bsl".to_string(),
        Side::Client,
        BTreeSet::new(),
    ));
    for m in bsl_names::common_modules(dump) {
        let side = if m.client && !m.server {
            Side::Client
        } else {
            Side::Server
        };
        let extra = if side == Side::Client {
            app_exports.clone()
        } else {
            BTreeSet::new()
        };
        out.push((
            format!("CommonModules/{}/Ext/Module.bsl", m.name),
            side,
            extra,
        ));
    }
    for form in dump_checks::names_in(dump, "CommonForms") {
        let mut extra = form_context.clone();
        extra.extend(app_exports.iter().cloned());
        extra.extend(dump_checks::form_attributes(
            &dump.join(format!("CommonForms/{form}/Ext/Form.xml")),
        ));
        out.push((
            format!("CommonForms/{form}/Ext/Form/Module.bsl"),
            Side::Server,
            extra,
        ));
    }
    // A report's object module runs on the server, with the report object's own members in its context.
    for report in dump_checks::names_in(dump, "Reports") {
        out.push((
            format!("Reports/{report}/Ext/ObjectModule.bsl"),
            Side::Server,
            report_context_names(),
        ));
    }
    for svc in dump_checks::names_in(dump, "HTTPServices") {
        out.push((
            format!("HTTPServices/{svc}/Ext/Module.bsl"),
            Side::Server,
            BTreeSet::new(),
        ));
    }
    out.retain(|(rel, _, _)| dump.join(rel).exists());
    out
}

/// The form module's own context (properties and methods of a managed form), with its source.
fn form_context_names() -> BTreeSet<String> {
    bsl_names::platform_globals(&root().join("tests/fixtures/platform-globals/form-context.txt"))
}

/// The report object module's own context (properties and methods of a report object), with its source.
fn report_context_names() -> BTreeSet<String> {
    bsl_names::platform_globals(&root().join("tests/fixtures/platform-globals/report-context.txt"))
}

fn unresolved_in(dump: &Path) -> Vec<String> {
    let platform = platform();
    let modules: BTreeMap<String, bsl_names::CommonModule> = bsl_names::common_modules(dump)
        .into_iter()
        .map(|m| (key(&m.name), m))
        .collect();
    let bsp = base("bsp");
    let presence = bsl_names::presence_calls(&modules.values().cloned().collect::<Vec<_>>());
    let mut out = Vec::new();
    for (rel, side, extra) in modules_of(dump) {
        let module =
            bsl_names::parse_module_with(&bsl_names::read_text(&dump.join(&rel)), &presence);
        let ctx = Context {
            platform: &platform,
            modules: &modules,
            extra,
            default_side: side,
            bsp: &bsp,
        };
        out.extend(
            bsl_names::unresolved_names(&module, &ctx)
                .into_iter()
                .map(|v| format!("{rel}: {v}")),
        );
    }
    out
}

#[test]
fn every_identifier_resolves() {
    let v = unresolved_in(&dump());
    assert!(
        v.is_empty(),
        "{}",
        report("identifiers that do not resolve in a base without БСП", &v)
    );
}

#[test]
fn mutation_application_parameters_outside_a_guard_fails() {
    let copy = Copy::new("appparams");
    copy.replace(
        "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_Мутация() Экспорт\n\tПараметрыПриложения.Вставить(\"X\", 1);\nКонецПроцедуры\n",
    );
    assert_found(
        &unresolved_in(&copy.dir),
        "ПараметрыПриложения is a БСП name, used directly",
    );
}

#[test]
fn mutation_common_module_that_exists_nowhere_fails() {
    let copy = Copy::new("nomodule");
    copy.replace(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_Мутация() Экспорт\n\tТБ_НетТакогоМодуля.Сделать();\nКонецПроцедуры\n",
    );
    assert_found(
        &unresolved_in(&copy.dir),
        "ТБ_НетТакогоМодуля.Сделать: ТБ_НетТакогоМодуля is not defined anywhere",
    );
}

#[test]
fn mutation_unknown_name_in_a_report_module_fails() {
    // A report's object module is checked too, with the report object's members (КомпоновщикНастроек) known and a
    // form's (Элементы) not.
    let copy = Copy::new("report-names");
    copy.replace(
        "Reports/ТБ_АнализЗвонков/Ext/ObjectModule.bsl",
        "\tДокументРезультат.Очистить();",
        "\tДокументРезультат.Очистить();\n\tТБ_НетТакогоМодуля.Сделать();\n\tЭлементы.Поле.Видимость = Ложь;",
    );
    let v = unresolved_in(&copy.dir);
    assert_found(&v, "Reports/ТБ_АнализЗвонков/Ext/ObjectModule.bsl");
    assert_found(&v, "ТБ_НетТакогоМодуля is not defined anywhere");
    assert_found(&v, "Элементы");
    assert!(
        !v.iter().any(|x| x.contains("КомпоновщикНастроек")),
        "the report object's own members resolve: {v:?}"
    );
}

#[test]
fn mutation_unexported_method_and_unknown_name_fail() {
    let copy = Copy::new("names");
    copy.replace(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_Мутация() Экспорт\n\tТБ_ТелефонияКлиент.НетТакогоМетода();\n\
         \tА = НеОбъявленнаяПеременная + 1;\nКонецПроцедуры\n",
    );
    let v = unresolved_in(&copy.dir);
    assert_found(
        &v,
        "common module ТБ_ТелефонияКлиент is not available on the server",
    );
    assert_found(&v, "ТБ_ТелефонияКлиент.НетТакогоМетода: common module ТБ_ТелефонияКлиент has no exported method");
    assert_found(&v, "НеОбъявленнаяПеременная is not defined");
}

#[test]
fn mutation_background_job_of_a_missing_method_fails() {
    let copy = Copy::new("jobs");
    copy.replace(
        "CommonModules/ТБ_ТелефонияСервер/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_Мутация() Экспорт\n\
         \tФоновыеЗадания.Выполнить(\"ТБ_ТелефонияСервер.НетТакогоМетода\");\n\
         \tФоновыеЗадания.Выполнить(\"ТБ_НетТакогоМодуля.Метод\");\nКонецПроцедуры\n",
    );
    let v = unresolved_in(&copy.dir);
    assert_found(
        &v,
        "ФоновыеЗадания.Выполнить(\"НетТакогоМетода\"…): no such method in ТБ_ТелефонияСервер",
    );
    assert_found(
        &v,
        "ФоновыеЗадания.Выполнить(\"Метод\"…): no such method in ТБ_НетТакогоМодуля",
    );
}

/// The extension's own session state in an exported variable of its application module resolves on the client.
#[test]
fn mutation_own_exported_app_variable_resolves_and_a_missing_one_fails() {
    let copy = Copy::new("ownstate");
    copy.write(
        "Ext/ManagedApplicationModule.bsl",
        &format!(
            "Перем ТБ_СостояниеТелефонии Экспорт;\n\n{}",
            app_module_text(&dump())
        ),
    );
    copy.replace(
        "CommonModules/ТБ_ТелефонияКлиент/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_Мутация() Экспорт\n\tА = ТБ_СостояниеТелефонии;\n\
         \tБ = ТБ_НетТакойПеременной;\nКонецПроцедуры\n",
    );
    let v = unresolved_in(&copy.dir);
    assert!(
        !v.iter().any(|x| x.contains("ТБ_СостояниеТелефонии")),
        "{v:?}"
    );
    assert_found(&v, "ТБ_НетТакойПеременной is not defined");
}

#[test]
fn mutation_bsp_module_by_name_without_a_presence_check_fails() {
    let bsp = base("bsp");
    let platform = platform();
    let modules = BTreeMap::new();
    let ctx = Context {
        platform: &platform,
        modules: &modules,
        extra: BTreeSet::new(),
        default_side: Side::Server,
        bsp: &bsp,
    };
    let unguarded = "Процедура А()\n\tМодуль = Вычислить(\"ОбщегоНазначения\");\nКонецПроцедуры\n";
    assert_found(
        &bsl_names::unresolved_names(&bsl_names::parse_module(unguarded), &ctx),
        "\"ОбщегоНазначения\" reaches БСП by name without a БСП-presence check",
    );
    let guarded = "Процедура А()\n\tЕсли Метаданные.ОбщиеМодули.Найти(\"ОбщегоНазначения\") <> Неопределено Тогда\n\
                   \t\tМодуль = Вычислить(\"ОбщегоНазначения\");\n\tКонецЕсли;\nКонецПроцедуры\n";
    let v = bsl_names::unresolved_names(&bsl_names::parse_module(guarded), &ctx);
    assert!(v.is_empty(), "a guarded Вычислить passes: {v:?}");
    let direct = "Процедура А()\n\tЕсли Метаданные.ОбщиеМодули.Найти(\"ОбщегоНазначения\") <> Неопределено Тогда\n\
                  \t\tОбщегоНазначения.СообщитьПользователю(\"x\");\n\tКонецЕсли;\nКонецПроцедуры\n";
    assert_found(
        &bsl_names::unresolved_names(&bsl_names::parse_module(direct), &ctx),
        "ОбщегоНазначения is a БСП name, used directly",
    );
}

/// The client learns that БСП is there from an exported server function that asks the metadata
/// (`ТБ_ТелефонияВызовСервера.ЕстьПодключениеКомпонентБСП`): its call guards the client's `Вычислить`. Plant a server
/// function that does not ask the metadata and the same client code must fail.
#[test]
fn mutation_client_guard_by_a_server_function_that_asks_nothing_fails() {
    let copy = Copy::new("server-guard");
    let server = "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl";
    let text = bsl_names::read_text(&copy.path(server));
    assert!(
        unresolved_in(&copy.dir).is_empty(),
        "the copy passes before the defect is planted"
    );
    let folded = key(&text);
    assert!(
        folded.contains("метаданные.общиемодули.найти("),
        "{server}: the presence function asks the metadata"
    );
    // The same function, answering from a constant instead of the metadata.
    let planted: String = text
        .replace("Метаданные.ОбщиеМодули.Найти(", "Новый Структура(")
        .replace("метаданные.общиемодули.найти(", "новый структура(");
    std::fs::write(copy.path(server), planted).expect("write");
    assert_found(
        &unresolved_in(&copy.dir),
        "\"ОбщегоНазначенияКлиент\" reaches БСП by name without a БСП-presence check",
    );
}

/// Common commands of the extension that no role but the webhook role may see.
fn commands_nobody_sees(dump: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dump.join("CommonCommands")) else {
        return out;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".xml").map(str::to_owned)
        })
        .collect();
    names.sort();
    let roles: Vec<(String, String)> = std::fs::read_dir(dump.join("Roles"))
        .expect("Roles")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let role = e.file_name().to_string_lossy().into_owned();
            let rights = bsl_names::read_text(&e.path().join("Ext/Rights.xml"));
            (role, rights)
        })
        .filter(|(role, _)| role != "ТБ_ВебхукиТелефонии")
        .collect();
    for name in names {
        let object = format!("<name>CommonCommand.{name}</name>");
        let seen = roles.iter().any(|(_, rights)| {
            rights.split("<object>").any(|o| {
                o.contains(&object)
                    && o.contains("<name>View</name>")
                    && o.contains("<value>true</value>")
            })
        });
        if !seen {
            out.push(format!(
                "CommonCommands/{name}: no role of the extension (but the webhook role) grants View on it — \
                 the command is invisible to every user without full rights"
            ));
        }
    }
    out
}

#[test]
fn every_common_command_is_seen_by_a_role() {
    let v = commands_nobody_sees(&dump());
    assert!(
        v.is_empty(),
        "{}",
        report("common commands nobody sees", &v)
    );
}

#[test]
fn mutation_command_without_a_role_fails() {
    let copy = Copy::new("command-rights");
    for role in ["ТБ_ОператорТелефонии", "ТБ_АдминистраторТелефонии"]
    {
        copy.replace(
            &format!("Roles/{role}/Ext/Rights.xml"),
            "<name>CommonCommand.ТБ_ОткрытьИсториюЗвонков</name>",
            "<name>CommonCommand.ТБ_Другая</name>",
        );
    }
    assert_found(
        &commands_nobody_sees(&copy.dir),
        "CommonCommands/ТБ_ОткрытьИсториюЗвонков: no role",
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Forms are reachable; the secrets register is not

const POPUP: &str = "ТБ_ВходящийЗвонок";
const SECRETS: &str = "InformationRegister.ТБ_ЗащищенныеНастройки";
const ADMIN_ROLES: [&str; 1] = ["ТБ_АдминистраторТелефонии"];

#[test]
fn every_common_form_but_the_popup_is_opened() {
    let v = dump_checks::unopened_forms(&dump(), &[POPUP]);
    assert!(v.is_empty(), "{}", report("common forms nothing opens", &v));
}

#[test]
fn mutation_form_opened_by_nothing_fails() {
    let copy = Copy::new("forms");
    // The raw history form is opened by the journal's code only (the administrator's «История событий»); drop that
    // and the check must see it.
    copy.replace(
        "CommonForms/ТБ_ЖурналЗвонков/Ext/Form/Module.bsl",
        "ОткрытьФорму(\"ОбщаяФорма.ТБ_ИсторияЗвонков\"",
        "ОткрытьФорму(\"ОбщаяФорма.ТБ_ПанельТелефонии\"",
    );
    assert_found(
        &dump_checks::unopened_forms(&copy.dir, &[POPUP]),
        "CommonForms/ТБ_ИсторияЗвонков: nothing opens it",
    );
    // A common command that opens a form counts.
    copy.write(
        "CommonCommands/ТБ_Мутация/Ext/CommandModule.bsl",
        "&НаКлиенте\nПроцедура ОбработкаКоманды(П, ПВ)\n\tОткрытьФорму(\"ОбщаяФорма.ТБ_ИсторияЗвонков\");\nКонецПроцедуры\n",
    );
    let v = dump_checks::unopened_forms(&copy.dir, &[POPUP]);
    assert!(!v.iter().any(|x| x.contains("ТБ_ИсторияЗвонков")), "{v:?}");
}

#[test]
fn secrets_register_is_never_listed_nor_viewable_by_non_admins() {
    let v = dump_checks::exposed_secrets(&dump(), &[SECRETS], &ADMIN_ROLES);
    assert!(
        v.is_empty(),
        "{}",
        report("the secrets register exposed", &v)
    );
}

#[test]
fn mutation_secrets_register_listed_or_viewable_fails() {
    let copy = Copy::new("secrets");
    let subsystem =
        std::fs::read_to_string(copy.path("Subsystems/ТБ_Телефония.xml")).expect("subsystem");
    if !subsystem.contains(SECRETS) {
        copy.replace(
            "Subsystems/ТБ_Телефония.xml",
            "</Content>",
            &format!(
                "\t<xr:Item xsi:type=\"xr:MDObjectRef\">{SECRETS}</xr:Item>\n\t\t\t</Content>"
            ),
        );
    }
    copy.replace(
        "Roles/ТБ_ОператорТелефонии/Ext/Rights.xml",
        "</Rights>",
        &format!("\t<object>\n\t\t<name>{SECRETS}</name>\n\t\t<right>\n\t\t\t<name>View</name>\n\t\t\t<value>true</value>\n\t\t</right>\n\t</object>\n</Rights>"),
    );
    let v = dump_checks::exposed_secrets(&copy.dir, &[SECRETS], &ADMIN_ROLES);
    assert_found(
        &v,
        "Subsystems/ТБ_Телефония.xml: lists InformationRegister.ТБ_ЗащищенныеНастройки",
    );
    assert_found(
        &v,
        "Roles/ТБ_ОператорТелефонии: grants View on InformationRegister.ТБ_ЗащищенныеНастройки",
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Server-call modules check access first

#[test]
fn every_server_call_export_checks_access_first() {
    let v = dump_checks::missing_access_checks(&dump());
    assert!(
        v.is_empty(),
        "{}",
        report(
            "exported server-call methods without an access check first",
            &v
        )
    );
}

#[test]
fn mutation_server_call_export_without_access_check_fails() {
    let copy = Copy::new("access");
    copy.replace(
        "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_МутацияБезПроверки() Экспорт\n\tА = 1;\n\tПроверитьПраваОператора();\nКонецПроцедуры\n\n\
         Процедура ТБ_МутацияСПроверкой() Экспорт\n\tЕсли Не РольДоступна(\"ТБ_ОператорТелефонии\") Тогда\n\
         \t\tВызватьИсключение \"нет прав\";\n\tКонецЕсли;\nКонецПроцедуры\n",
    );
    copy.replace(
        "CommonModules/ТБ_ТелефонияВызовСервера/Ext/Module.bsl",
        "#КонецОбласти",
        "#КонецОбласти\n\nПроцедура ТБ_МутацияСПроцедуройРасширения() Экспорт\n\tПроверитьПраваОператора();\n\tА = 1;\n\
         КонецПроцедуры\n\nПроцедура ПроверитьПраваОператора()\nКонецПроцедуры\n\n\
         Процедура ТБ_МутацияСЧужойПроверкой() Экспорт\n\tНетТакогоМодуля.ПроверитьПраваОператора();\nКонецПроцедуры\n",
    );
    let v = dump_checks::missing_access_checks(&copy.dir);
    assert_found(&v, "exported ТБ_МутацияБезПроверки");
    assert_found(&v, "exported ТБ_МутацияСЧужойПроверкой");
    assert!(
        !v.iter()
            .any(|x| x.contains("ТБ_МутацияСПроцедуройРасширения")),
        "the module's own check counts: {v:?}"
    );
    assert!(
        !v.iter().any(|x| x.contains("ТБ_МутацияСПроверкой")),
        "РольДоступна first counts: {v:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Element order as real 2.13 dumps write it

fn orders() -> BTreeMap<String, Vec<Vec<String>>> {
    let dir = root().join("tests/fixtures/xml-order-2.13");
    dump_checks::load_orders(&[dir.join("orders.txt"), dir.join("extra.txt")])
}

#[test]
fn xml_element_order_matches_real_2_13_dumps() {
    let v = dump_checks::order_violations(&dump(), &orders());
    assert!(
        v.is_empty(),
        "{}",
        report("XML elements out of the 2.13 order", &v)
    );
}

#[test]
fn xml_order_fixtures_cover_what_the_extension_has() {
    let o = orders();
    for k in [
        "md:MetaDataObject/Configuration",
        "md:Configuration/Properties",
        "md:Language/Properties",
        "form:/Form",
        "form:ChildItems/Button",
        "form:ChildItems/Table",
        "md:CommonForm/Properties",
        "md:CommonModule/Properties",
        "md:Report/Properties",
        "md:Template/Properties",
        "DataCompositionSchema:/DataCompositionSchema",
        "DataCompositionSchema:DataCompositionSchema/parameter",
        "DataCompositionSchema:settingsVariant/settings",
    ] {
        assert!(o.contains_key(k), "no learned order for {k}");
    }
}

#[test]
fn mutation_known_wrong_orders_fail() {
    let copy = Copy::new("order");
    let o = orders();
    // 2.16+ order of Configuration.xml: ObjectBelonging first.
    let cfg = std::fs::read_to_string(copy.path("Configuration.xml")).expect("cfg");
    let moved = move_before(&cfg, "<ObjectBelonging>", "</ObjectBelonging>", "<Name>");
    std::fs::write(copy.path("Configuration.xml"), moved).expect("write");
    let lang = std::fs::read_to_string(copy.path("Languages/Русский.xml")).expect("language");
    let moved = move_before(&lang, "<ObjectBelonging>", "</ObjectBelonging>", "<Name>");
    std::fs::write(copy.path("Languages/Русский.xml"), moved).expect("write");
    // A button's DefaultButton after CommandName, a common form's UsePurposes last.
    let v0 = dump_checks::order_violations(&copy.dir, &o);
    assert_found(&v0, "Configuration.xml");
    assert_found(&v0, "<ObjectBelonging>");
    assert_found(
        &v0,
        "Languages/Русский.xml:5: <Properties> has <ObjectBelonging> before <Name>",
    );
    let form = "<Form xmlns=\"http://v8.1c.ru/8.3/xcf/logform\" version=\"2.13\">\n<AutoCommandBar/>\n<Parameters/>\n<Commands/>\n\
                <ChildItems>\n<Button name=\"К\" id=\"1\">\n<Type>UsualButton</Type>\n<CommandName>Form.Command.К</CommandName>\n\
                <DefaultButton>true</DefaultButton>\n</Button>\n<Table name=\"Т\" id=\"2\">\n<ChildItems/>\n\
                <Events/>\n</Table>\n</ChildItems>\n</Form>\n";
    let v = dump_checks::order_violations_in(
        &dump_checks::parse_str(form).expect("xml"),
        "Form.xml",
        &o,
    );
    assert_found(&v, "<Button> has <CommandName> before <DefaultButton>");
    assert_found(&v, "<Table> has <ChildItems> before <Events>");
    assert_found(&v, "<Form> has <Parameters> before <Commands>");
    let common = "<MetaDataObject xmlns=\"http://v8.1c.ru/8.3/MDClasses\" version=\"2.13\"><CommonForm><Properties><Name>Ф</Name>\
                  <FormType>Managed</FormType><IncludeHelpInContents>false</IncludeHelpInContents><UseStandardCommands>false</UseStandardCommands>\
                  <UsePurposes/></Properties></CommonForm></MetaDataObject>";
    let v = dump_checks::order_violations_in(
        &dump_checks::parse_str(common).expect("xml"),
        "CommonForm.xml",
        &o,
    );
    assert_found(
        &v,
        "<Properties> has <UseStandardCommands> before <UsePurposes>",
    );
    // A report's schema with its resources before its calculated fields and a parameter's value after its
    // restriction; the report object with its main schema before its default form.
    let copy = Copy::new("order-report");
    let schema =
        "Reports/ТБ_АнализЗвонков/Templates/ОсновнаяСхемаКомпоновкиДанных/Ext/Template.xml";
    let text = std::fs::read_to_string(copy.path(schema)).expect("schema");
    let text = move_before(&text, "<totalField>", "</totalField>", "<calculatedField>");
    let value =
        "<value xsi:type=\"xs:boolean\">false</value>\n\t\t<useRestriction>true</useRestriction>";
    assert!(
        text.contains(value),
        "{schema}: ВсеОператоры has its value before its restriction"
    );
    let text = text.replacen(
        value,
        "<useRestriction>true</useRestriction>\n\t\t<value xsi:type=\"xs:boolean\">false</value>",
        1,
    );
    std::fs::write(copy.path(schema), text).expect("write");
    let report = "Reports/ТБ_АнализЗвонков.xml";
    let text = std::fs::read_to_string(copy.path(report)).expect("report");
    let text = move_before(
        &text,
        "<MainDataCompositionSchema>",
        "</MainDataCompositionSchema>",
        "<DefaultForm/>",
    );
    std::fs::write(copy.path(report), text).expect("write");
    let v = dump_checks::order_violations(&copy.dir, &o);
    assert_found(
        &v,
        "<DataCompositionSchema> has <totalField> before <calculatedField>",
    );
    assert_found(
        &v,
        "<Properties> has <MainDataCompositionSchema> before <DefaultForm>",
    );
    assert_found(&v, "<parameter> has <useRestriction> before <value>");
}

/// Moves the first `<start…end>` element of `text` to just before the first `anchor`.
fn move_before(text: &str, start: &str, end: &str, anchor: &str) -> String {
    let s = text.find(start).expect("start");
    let e = text[s..].find(end).expect("end") + s + end.len();
    let element = text[s..e].to_string();
    let rest = format!("{}{}", &text[..s], &text[e..]);
    let a = rest.find(anchor).expect("anchor");
    format!("{}{}{}", &rest[..a], element, &rest[a..])
}
