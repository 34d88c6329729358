//! The 1C vocabulary of the add-in, and the only place that knows it below the class tables: event names and
//! their `Data` JSON, `Diagnostics` keys, and every text a 1C developer reads, in both languages.
//!
//! The protocol cores (`crates/tb-*`) emit typed facts — events, outcomes, states, error variants — and know
//! nothing of 1C; the classes and workers hand those facts to this module and pass on what it renders.
//!
//! Rules kept here:
//! - Each error variant's English and Russian texts stand together in one match arm ([`Text`]); the language is
//!   chosen at the boundary ([`Text::pick`], `AddinError`).
//! - `Diagnostics` keys are `snake_case` everywhere (the class's own keys and the cores' parts alike).
//! - Events are declared as data in [`events`] (name, class, fields with descriptions), so README.md lists every
//!   event with its fields and `tests/readme_reference.rs` keeps the two in step.
pub mod calls;
pub mod centrifugo;
pub mod connect;
pub mod driver;
pub mod events;

use crate::native::{AddinError, Lang};

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
