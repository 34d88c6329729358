//! What a 1C class declares: a static table of members in which each entry binds the bilingual spec to its
//! handler, so a member's name and its behaviour cannot drift apart and reordering a table rewires nothing.

use super::{AddinError, ClassContext, Value};

/// What a parameter accepts. The boundary checks and converts before the class sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Строка. Numbers are accepted and written as text, because 1C developers often hold
    /// phone numbers and identifiers in numeric variables.
    Str,
    /// Число.
    Num,
    /// Булево.
    Bool,
    /// Any value, passed on as given.
    Any,
}

impl ParamKind {
    pub(crate) fn names(self) -> (&'static str, &'static str) {
        match self {
            ParamKind::Str => ("a String", "Строка"),
            ParamKind::Num => ("a Number", "Число"),
            ParamKind::Bool => ("a Boolean", "Булево"),
            ParamKind::Any => ("any value", "любое значение"),
        }
    }
}

#[derive(Debug)]
pub struct ParamSpec {
    pub en: &'static str,
    pub ru: &'static str,
    pub kind: ParamKind,
    /// `Some` makes the parameter optional in 1C: the platform asks for this value when the
    /// caller leaves the parameter out.
    pub default: Option<Value>,
}

// `const` so the member tables stay plain statics the README generator and the boundary read as they are.
impl ParamSpec {
    /// A required Строка.
    pub const fn text(en: &'static str, ru: &'static str) -> ParamSpec {
        ParamSpec {
            en,
            ru,
            kind: ParamKind::Str,
            default: None,
        }
    }

    /// A Строка the caller may leave out; it then arrives empty.
    pub const fn optional_text(en: &'static str, ru: &'static str) -> ParamSpec {
        ParamSpec {
            en,
            ru,
            kind: ParamKind::Str,
            default: Some(Value::Str(String::new())),
        }
    }

    /// A required Число.
    pub const fn number(en: &'static str, ru: &'static str) -> ParamSpec {
        ParamSpec {
            en,
            ru,
            kind: ParamKind::Num,
            default: None,
        }
    }
}

#[derive(Debug)]
pub struct MethodSpec {
    pub en: &'static str,
    pub ru: &'static str,
    /// Further names FindMethod accepts (spellings of the vendor driver, for instance).
    pub aliases: &'static [&'static str],
    pub params: &'static [ParamSpec],
    /// Функция (true) or Процедура (false).
    pub returns: bool,
}

impl MethodSpec {
    /// A Функция with no alias names.
    pub const fn function(
        en: &'static str,
        ru: &'static str,
        params: &'static [ParamSpec],
    ) -> MethodSpec {
        MethodSpec {
            en,
            ru,
            aliases: &[],
            params,
            returns: true,
        }
    }

    /// A Процедура with no alias names.
    pub const fn procedure(
        en: &'static str,
        ru: &'static str,
        params: &'static [ParamSpec],
    ) -> MethodSpec {
        MethodSpec {
            en,
            ru,
            aliases: &[],
            params,
            returns: false,
        }
    }
}

#[derive(Debug)]
pub struct PropSpec {
    pub en: &'static str,
    pub ru: &'static str,
    pub readable: bool,
    pub writable: bool,
}

impl PropSpec {
    pub const fn read_write(en: &'static str, ru: &'static str) -> PropSpec {
        PropSpec {
            en,
            ru,
            readable: true,
            writable: true,
        }
    }

    /// State the object reports; 1C cannot assign it.
    pub const fn read_only(en: &'static str, ru: &'static str) -> PropSpec {
        PropSpec {
            en,
            ru,
            readable: true,
            writable: false,
        }
    }

    /// For credentials: they go in and never come back out.
    pub const fn write_only(en: &'static str, ru: &'static str) -> PropSpec {
        PropSpec {
            en,
            ru,
            readable: false,
            writable: true,
        }
    }
}

/// A method handler: the arguments hold exactly the declared parameters, checked and converted by kind.
/// Procedures return `Value::Empty`.
pub type MethodFn<C> = fn(&mut C, &[Value]) -> Result<Value, AddinError>;
pub type GetFn<C> = fn(&mut C) -> Result<Value, AddinError>;
pub type SetFn<C> = fn(&mut C, &Value) -> Result<(), AddinError>;

/// One method of a class: its bilingual spec and its handler in one entry.
pub struct Method<C: ?Sized> {
    pub spec: MethodSpec,
    pub call: MethodFn<C>,
}

impl<C> Method<C> {
    /// For specs without parameters or with a named parameter list (`MethodSpec::function(…)`); a table with
    /// parameters inline writes the `Method { spec: MethodSpec { … }, call }` literal, whose `&[…]` a `const`
    /// table keeps (a function argument's would not live long enough).
    pub const fn new(spec: MethodSpec, call: MethodFn<C>) -> Method<C> {
        Method { spec, call }
    }

    /// The same method also found under `aliases` (spellings of the vendor driver, for instance).
    pub const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Method<C> {
        self.spec.aliases = aliases;
        self
    }
}

/// One property of a class: its bilingual spec and its accessors in one entry. The spec's access flags are
/// those of the accessors given.
pub struct Prop<C: ?Sized> {
    pub spec: PropSpec,
    pub get: Option<GetFn<C>>,
    pub set: Option<SetFn<C>>,
}

impl<C> Prop<C> {
    pub const fn read_write(
        en: &'static str,
        ru: &'static str,
        get: GetFn<C>,
        set: SetFn<C>,
    ) -> Prop<C> {
        Prop {
            spec: PropSpec::read_write(en, ru),
            get: Some(get),
            set: Some(set),
        }
    }

    /// State the object reports; 1C cannot assign it.
    pub const fn read_only(en: &'static str, ru: &'static str, get: GetFn<C>) -> Prop<C> {
        Prop {
            spec: PropSpec::read_only(en, ru),
            get: Some(get),
            set: None,
        }
    }

    /// For credentials: they go in and never come back out.
    pub const fn write_only(en: &'static str, ru: &'static str, set: SetFn<C>) -> Prop<C> {
        Prop {
            spec: PropSpec::write_only(en, ru),
            get: None,
            set: Some(set),
        }
    }
}

/// One 1C class: `Новый("AddIn.TelephonyBridge.<NAME>")`.
pub trait AddinClass: Sized + 'static {
    const NAME: &'static str;

    /// The class's own methods (the common ones come first, from the Native API layer).
    fn methods() -> &'static [Method<Self>];
    /// The class's own properties.
    fn props() -> &'static [Prop<Self>];

    /// Called when the platform creates the object. Start no threads here: 1C creates
    /// objects freely, so threads start with the first method that needs one.
    fn new(ctx: ClassContext) -> Self;

    /// The class's own part of Diagnostics(): state and counters, never a secret.
    fn diagnostics(&self) -> serde_json::Value {
        serde_json::Value::Object(Default::default())
    }

    /// Stops and joins every thread the object started, within a bounded time.
    fn shutdown(&mut self) {}
}
