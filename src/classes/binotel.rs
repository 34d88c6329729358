//! Class `Binotel`: carries only the common members until its capability issue (#5) lands.

use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, PropSpec, Value};

pub struct Binotel {
    _ctx: ClassContext,
}

impl AddinClass for Binotel {
    const NAME: &'static str = "Binotel";

    fn methods() -> &'static [MethodSpec] {
        &[]
    }

    fn props() -> &'static [PropSpec] {
        &[]
    }

    fn new(ctx: ClassContext) -> Self {
        Binotel { _ctx: ctx }
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
