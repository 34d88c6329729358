//! Class `UIScom`: carries only the common members until its capability issue (#5) lands.

use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, PropSpec, Value};

pub struct UIScom {
    _ctx: ClassContext,
}

impl AddinClass for UIScom {
    const NAME: &'static str = "UIScom";

    fn methods() -> &'static [MethodSpec] {
        &[]
    }

    fn props() -> &'static [PropSpec] {
        &[]
    }

    fn new(ctx: ClassContext) -> Self {
        UIScom { _ctx: ctx }
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
