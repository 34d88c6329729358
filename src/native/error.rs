//! Localized errors: every failure a 1C developer sees is written in both languages and
//! rendered in the one the platform's locale asks for.

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

impl From<crate::driver::DriverError> for AddinError {
    fn from(error: crate::driver::DriverError) -> Self {
        crate::present::driver::error_text(&error).into()
    }
}
