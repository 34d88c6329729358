//! Class `ConnectAgent`: carries only the common members until its capability issue (#3) lands.

use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, PropSpec, Value};

pub struct ConnectAgent {
    _ctx: ClassContext,
}

impl AddinClass for ConnectAgent {
    const NAME: &'static str = "ConnectAgent";

    fn methods() -> &'static [MethodSpec] {
        &[]
    }

    fn props() -> &'static [PropSpec] {
        &[]
    }

    fn new(ctx: ClassContext) -> Self {
        ConnectAgent { _ctx: ctx }
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
