//! The member reference of a class as a Markdown table, generated from the same tables the
//! platform sees, so the README cannot drift from the code (a test compares them).

use super::class::{AddinClass, MethodSpec, ParamKind, ParamSpec, PropSpec};
use super::component::Component;
use super::Value;

fn kind_ru(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Str => "Строка",
        ParamKind::Num => "Число",
        ParamKind::Bool => "Булево",
        ParamKind::Any => "Произвольный",
    }
}

fn default_text(value: &Value) -> String {
    match value {
        Value::Empty => "Неопределено".into(),
        Value::Bool(true) => "Истина".into(),
        Value::Bool(false) => "Ложь".into(),
        Value::Int(i) => i.to_string(),
        Value::Num(n) => n.to_string(),
        Value::Str(s) if s.is_empty() => "\"\"".into(),
        Value::Str(s) => format!("\"{s}\""),
        Value::Blob(_) => "ДвоичныеДанные".into(),
    }
}

fn param_text(param: &ParamSpec) -> String {
    let base = format!("{} / {}: {}", param.ru, param.en, kind_ru(param.kind));
    match &param.default {
        Some(default) => format!("[{base} = {}]", default_text(default)),
        None => base,
    }
}

fn method_row(method: &MethodSpec) -> String {
    let params: Vec<String> = method.params.iter().map(param_text).collect();
    let aliases = if method.aliases.is_empty() {
        String::new()
    } else {
        format!(" (также `{}`)", method.aliases.join("`, `"))
    };
    format!(
        "| `{}` | `{}`{} | {} | {} |",
        method.ru,
        method.en,
        aliases,
        if method.returns {
            "функция"
        } else {
            "процедура"
        },
        if params.is_empty() {
            "—".to_string()
        } else {
            params.join("; ")
        }
    )
}

fn prop_row(prop: &PropSpec) -> String {
    let access = match (prop.readable, prop.writable) {
        (true, true) => "чтение и запись",
        (true, false) => "только чтение",
        (false, true) => "только запись",
        (false, false) => "—",
    };
    format!("| `{}` | `{}` | свойство | {} |", prop.ru, prop.en, access)
}

/// The class's own members (the common ones are listed once, separately).
pub fn class_reference<C: AddinClass>() -> String {
    members_table(
        C::methods().iter().map(|m| &m.spec),
        C::props().iter().map(|p| &p.spec),
    )
}

/// The members every class has (the same whichever class `C` is).
pub fn common_reference<C: AddinClass>() -> String {
    members_table(
        Component::<C>::COMMON_METHODS.iter().map(|m| &m.spec),
        Component::<C>::COMMON_PROPS.iter().map(|p| &p.spec),
    )
}

fn members_table<'a>(
    methods: impl Iterator<Item = &'a MethodSpec>,
    props: impl Iterator<Item = &'a PropSpec>,
) -> String {
    let mut lines = vec![
        "| Русское имя | English name | Вид | Параметры / доступ |".to_string(),
        "| --- | --- | --- | --- |".to_string(),
    ];
    lines.extend(props.map(prop_row));
    lines.extend(methods.map(method_row));
    lines.join("\n")
}
