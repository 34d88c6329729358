//! The bilingual member table of a class as the platform numbers it: common members first, then the class's
//! own. The numbers are positions in these lists, resolved here to the entry that holds the handler.

use std::collections::HashMap;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::class::{AddinClass, MethodSpec, PropSpec};
use super::component::Component;
use super::platform::to_utf16z;

pub(crate) struct Names {
    pub en: Vec<u16>,
    pub ru: Vec<u16>,
}

/// Where a member number leads: a common member of the Native API layer or one of the class's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Common(usize),
    Class(usize),
}

pub(crate) struct ClassTable {
    pub extension_name: Vec<u16>,
    pub methods: Vec<&'static MethodSpec>,
    pub method_names: Vec<Names>,
    pub props: Vec<&'static PropSpec>,
    pub prop_names: Vec<Names>,
    method_lookup: HashMap<String, usize>,
    prop_lookup: HashMap<String, usize>,
    common_methods: usize,
    common_props: usize,
}

/// 1C names are case-insensitive in both alphabets.
pub(crate) fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl ClassTable {
    fn build<C: AddinClass>() -> ClassTable {
        let common_methods = Component::<C>::COMMON_METHODS;
        let common_props = Component::<C>::COMMON_PROPS;
        let methods: Vec<&'static MethodSpec> = common_methods
            .iter()
            .map(|m| &m.spec)
            .chain(C::methods().iter().map(|m| &m.spec))
            .collect();
        let props: Vec<&'static PropSpec> = common_props
            .iter()
            .map(|p| &p.spec)
            .chain(C::props().iter().map(|p| &p.spec))
            .collect();
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
            common_methods: common_methods.len(),
            common_props: common_props.len(),
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

    pub fn method_slot(&self, method: usize) -> Option<Slot> {
        slot(method, self.common_methods, self.methods.len())
    }

    pub fn prop_slot(&self, prop: usize) -> Option<Slot> {
        slot(prop, self.common_props, self.props.len())
    }
}

fn slot(number: usize, common: usize, total: usize) -> Option<Slot> {
    match number.checked_sub(common) {
        None => Some(Slot::Common(number)),
        Some(own) if number < total => Some(Slot::Class(own)),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lead_to_the_common_part_then_to_the_class_part() {
        assert_eq!(slot(0, 2, 5), Some(Slot::Common(0)));
        assert_eq!(slot(1, 2, 5), Some(Slot::Common(1)));
        assert_eq!(slot(2, 2, 5), Some(Slot::Class(0)));
        assert_eq!(slot(4, 2, 5), Some(Slot::Class(2)));
        assert_eq!(slot(5, 2, 5), None);
    }
}
