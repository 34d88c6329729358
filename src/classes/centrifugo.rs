//! Class `Centrifugo`: carries only the common members until its capability issue (#4) lands.

use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, PropSpec, Value};

pub struct Centrifugo {
    _ctx: ClassContext,
}

impl AddinClass for Centrifugo {
    const NAME: &'static str = "Centrifugo";

    fn methods() -> &'static [MethodSpec] {
        &[]
    }

    fn props() -> &'static [PropSpec] {
        &[]
    }

    fn new(ctx: ClassContext) -> Self {
        Centrifugo { _ctx: ctx }
    }

    fn call(&mut self, _method: usize, _args: &[Value]) -> Result<Value, AddinError> {
        Err(AddinError::new("no such method", "нет такого метода"))
    }

    fn get_prop(&mut self, _prop: usize) -> Result<Value, AddinError> {
        Err(AddinError::new("no such property", "нет такого свойства"))
    }

    fn set_prop(&mut self, _prop: usize, _value: &Value) -> Result<(), AddinError> {
        Err(AddinError::new("no such property", "нет такого свойства"))
    }
}
