//! The texts of the Native API boundary: a call the member table cannot serve (a wrong number or type of
//! parameters, a read-only or write-only property, an object after Done), the common members' settings
//! (ФайлЖурнала, УровеньЖурнала, ЕмкостьОчередиСобытий) and RaiseTestEvents. The boundary names the member; these
//! texts say what is wrong with it. Type names come as the boundary knows them (`(English, Russian)`).

use super::Text;

pub fn object_finished() -> Text {
    Text::new(
        "the object has been finished (Done)",
        "объект завершён (Done)",
    )
}

pub fn no_method_number(method: usize) -> Text {
    Text::new(
        format!("no method number {method}"),
        format!("нет метода с номером {method}"),
    )
}

pub fn no_such_method() -> Text {
    Text::new("no such method", "нет такого метода")
}

pub fn no_such_prop() -> Text {
    Text::new("no such property", "нет такого свойства")
}

pub fn read_only() -> Text {
    Text::new("the property is read-only", "свойство только для чтения")
}

pub fn write_only() -> Text {
    Text::new("the property is write-only", "свойство только для записи")
}

pub fn param_count(expected: usize, got: usize) -> Text {
    Text::new(
        format!("expects {expected} parameter(s), got {got}"),
        format!("ожидается параметров: {expected}, передано: {got}"),
    )
}

/// Parameter `index` (from 0) named `name` is required and was not passed.
pub fn param_required(index: usize, name: (&str, &str)) -> Text {
    Text::new(
        format!("parameter {} ({}) is required", index + 1, name.0),
        format!("параметр {} ({}) обязателен", index + 1, name.1),
    )
}

/// Parameter `index` (from 0) named `name` wants the type `want` (with its article in English) and got `got`.
pub fn param_type(index: usize, name: (&str, &str), want: (&str, &str), got: (&str, &str)) -> Text {
    Text::new(
        format!(
            "parameter {} ({}) must be {}, not {}",
            index + 1,
            name.0,
            want.0,
            got.0
        ),
        format!(
            "параметр {} ({}) должен иметь тип {}, а не {}",
            index + 1,
            name.1,
            want.1,
            got.1
        ),
    )
}

/// A property value of the wrong type.
pub fn expected_type(want: (&str, &str), got: (&str, &str)) -> Text {
    Text::new(
        format!("must be {}, not {}", want.0, got.0),
        format!("должно иметь тип {}, а не {}", want.1, got.1),
    )
}

pub fn log_file(path: &str, reason: &str) -> Text {
    Text::new(
        format!("cannot open the log file \"{path}\": {reason}"),
        format!("не удалось открыть файл журнала \"{path}\": {reason}"),
    )
}

pub fn log_level(value: &str) -> Text {
    Text::new(
        format!("unknown level \"{value}\"; use error, warn, info or debug"),
        format!("неизвестный уровень \"{value}\"; допустимы error, warn, info, debug"),
    )
}

pub fn queue_capacity() -> Text {
    Text::new(
        "must be a whole Number from 1 to 10000000",
        "должно быть целым Числом от 1 до 10000000",
    )
}

pub fn test_events_count() -> Text {
    Text::new(
        "parameter 1 (Count) must be a whole Number from 0 to 10000000",
        "параметр 1 (Количество) должен быть целым Числом от 0 до 10000000",
    )
}

pub fn test_events_running() -> Text {
    Text::new(
        "test events are still being raised; wait for the previous run to finish",
        "тестовые события ещё генерируются; дождитесь окончания предыдущего запуска",
    )
}

/// The operating system refused a thread (`reason` is its text).
pub fn thread_refused(reason: &str) -> Text {
    Text::new(
        format!("cannot start a thread: {reason}"),
        format!("не удалось запустить поток: {reason}"),
    )
}
