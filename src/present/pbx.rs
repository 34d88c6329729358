//! The texts of the settings UIScom and Binotel share (`classes::pbx`) and of their API calls made before any
//! exchange; the texts of the calls core's errors are in `calls`.

use super::Text;

/// Таймаут outside whole seconds 1..=600.
pub fn timeout_range() -> Text {
    Text::new(
        "must be a whole Number of seconds from 1 to 600",
        "должно быть целым Числом секунд от 1 до 600",
    )
}

/// An API call with no АдресAPI (`example`: an address of this PBX's API).
pub fn api_url_missing(example: &str) -> Text {
    Text::new(
        format!("ApiUrl is not set (e.g. {example})"),
        format!("не задан АдресAPI (например, {example})"),
    )
}
