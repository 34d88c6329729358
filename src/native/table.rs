//! The bilingual member table of a class: common members first, then the class's own.

use std::collections::HashMap;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::class::{AddinClass, MethodSpec, ParamKind, ParamSpec, PropSpec};
use super::platform::to_utf16z;
use super::Value;

pub(crate) const METHOD_DIAGNOSTICS: usize = 0;
pub(crate) const METHOD_RAISE_TEST_EVENTS: usize = 1;

pub(crate) const COMMON_METHODS: &[MethodSpec] = &[
    MethodSpec {
        en: "Diagnostics",
        ru: "Диагностика",
        aliases: &[],
        params: &[],
        returns: true,
    },
    // Lets a 1C developer check that the form's ВнешнееСобытие handler is wired, and lets the
    // tests drive the event path of the real library without a network peer.
    MethodSpec {
        en: "RaiseTestEvents",
        ru: "СгенерироватьТестовыеСобытия",
        aliases: &[],
        params: &[ParamSpec {
            en: "Count",
            ru: "Количество",
            kind: ParamKind::Num,
            default: Some(Value::Int(1)),
        }],
        returns: false,
    },
];

pub(crate) const PROP_VERSION: usize = 0;
pub(crate) const PROP_LAST_ERROR: usize = 1;
pub(crate) const PROP_LOG_FILE: usize = 2;
pub(crate) const PROP_LOG_LEVEL: usize = 3;
pub(crate) const PROP_EVENT_QUEUE_CAPACITY: usize = 4;

pub(crate) const COMMON_PROPS: &[PropSpec] = &[
    PropSpec {
        en: "Version",
        ru: "Версия",
        readable: true,
        writable: false,
    },
    PropSpec {
        en: "LastError",
        ru: "ОписаниеОшибки",
        readable: true,
        writable: false,
    },
    PropSpec {
        en: "LogFile",
        ru: "ФайлЖурнала",
        readable: true,
        writable: true,
    },
    PropSpec {
        en: "LogLevel",
        ru: "УровеньЖурнала",
        readable: true,
        writable: true,
    },
    PropSpec {
        en: "EventQueueCapacity",
        ru: "ЕмкостьОчередиСобытий",
        readable: true,
        writable: true,
    },
];

pub(crate) struct Names {
    pub en: Vec<u16>,
    pub ru: Vec<u16>,
}

pub(crate) struct ClassTable {
    pub extension_name: Vec<u16>,
    pub methods: Vec<&'static MethodSpec>,
    pub method_names: Vec<Names>,
    pub props: Vec<&'static PropSpec>,
    pub prop_names: Vec<Names>,
    method_lookup: HashMap<String, usize>,
    prop_lookup: HashMap<String, usize>,
}

/// 1C names are case-insensitive in both alphabets.
pub(crate) fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl ClassTable {
    fn build<C: AddinClass>() -> ClassTable {
        let methods: Vec<&'static MethodSpec> =
            COMMON_METHODS.iter().chain(C::methods().iter()).collect();
        let props: Vec<&'static PropSpec> = COMMON_PROPS.iter().chain(C::props().iter()).collect();
        let mut method_lookup = HashMap::new();
        for (index, method) in methods.iter().enumerate() {
            for name in [method.en, method.ru].iter().chain(method.aliases.iter()) {
                method_lookup.entry(fold(name)).or_insert(index);
            }
        }
        let mut prop_lookup = HashMap::new();
        for (index, prop) in props.iter().enumerate() {
            for name in [prop.en, prop.ru] {
                prop_lookup.entry(fold(name)).or_insert(index);
            }
        }
        let names = |en: &str, ru: &str| Names {
            en: to_utf16z(en),
            ru: to_utf16z(ru),
        };
        ClassTable {
            extension_name: to_utf16z(C::NAME),
            method_names: methods.iter().map(|m| names(m.en, m.ru)).collect(),
            prop_names: props.iter().map(|p| names(p.en, p.ru)).collect(),
            methods,
            props,
            method_lookup,
            prop_lookup,
        }
    }

    /// One table per class for the life of the process (a handful of kilobytes).
    pub fn of<C: AddinClass>() -> &'static ClassTable {
        static TABLES: Lazy<Mutex<HashMap<&'static str, &'static ClassTable>>> =
            Lazy::new(|| Mutex::new(HashMap::new()));
        let mut tables = TABLES.lock();
        tables
            .entry(C::NAME)
            .or_insert_with(|| Box::leak(Box::new(Self::build::<C>())))
    }

    pub fn find_method(&self, name: &str) -> Option<usize> {
        self.method_lookup.get(&fold(name)).copied()
    }

    pub fn find_prop(&self, name: &str) -> Option<usize> {
        self.prop_lookup.get(&fold(name)).copied()
    }
}
