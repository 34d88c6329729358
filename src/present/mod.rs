//! The 1C vocabulary of the add-in, and the only place that knows it below the class tables: event names and
//! their `Data` JSON, `Diagnostics` keys, the user's language ([`Lang`]), and every text a 1C developer reads, in
//! both languages ([`Text`], [`AddinError`]; `tests/layering.rs` fails on one made anywhere else).
//!
//! The protocol cores (`crates/tb-*`), the driver and the transports return typed facts — events, outcomes,
//! states, error variants — and know nothing of 1C; the classes hand those facts to this module (or hand its
//! renderers to the driver) and pass on what it renders. It sits above `driver` and `transport` so that it can
//! name their error types; they never name it.
//!
//! Rules kept here:
//! - Each error variant's English and Russian texts stand together in one match arm ([`Text`]); the language is
//!   chosen at the boundary ([`Text::pick`], `AddinError`).
//! - `Diagnostics` keys are `snake_case` everywhere (the class's own keys and the cores' parts alike).
//! - Events are declared as data in [`events`] (name, class, fields with descriptions), so README.md lists every
//!   event with its fields and `tests/readme_reference.rs` keeps the two in step.
pub mod call_status;
pub mod calls;
pub mod centrifugo;
pub mod connect;
pub mod delivery;
pub mod driver;
pub mod events;
pub mod native;
pub mod pbx;

use std::fmt;

/// The user's language, taken from SetLocale / SetUserInterfaceLanguageCode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// `ru_RU`, `ru`, `rus`, `Russian` and the like are Russian; anything else is English.
    pub fn from_locale(locale: &str) -> Lang {
        let lower = locale.trim().to_lowercase();
        if lower.starts_with("ru") || lower.starts_with("рус") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    pub fn pick<'a>(self, en: &'a str, ru: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }
}

/// A failure of a method or property, without the member name (the boundary adds it).
#[derive(Debug, Clone, PartialEq)]
pub struct AddinError {
    pub en: String,
    pub ru: String,
}

impl AddinError {
    pub fn new(en: impl Into<String>, ru: impl Into<String>) -> Self {
        AddinError {
            en: en.into(),
            ru: ru.into(),
        }
    }

    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.ru)
    }
}

impl fmt::Display for AddinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

impl std::error::Error for AddinError {}

/// One text in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub ru: String,
}

impl Text {
    pub fn new(en: impl Into<String>, ru: impl Into<String>) -> Self {
        Text {
            en: en.into(),
            ru: ru.into(),
        }
    }

    pub fn pick(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.ru)
    }
}

impl From<Text> for AddinError {
    fn from(text: Text) -> Self {
        AddinError::new(text.en, text.ru)
    }
}
