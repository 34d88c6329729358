//! One file per 1C class: a static member table whose entries bind the bilingual spec and its handler, and the
//! handlers, which hand work to the driver (threads, HTTP) and the facts they get to `present` — and hand the
//! driver the `present` renderers it needs on its threads. No class file starts a thread, opens a socket or
//! writes a text.

mod binotel;
mod centrifugo;
mod connect_agent;
mod pbx;
mod uiscom;

pub use binotel::Binotel;
pub use centrifugo::Centrifugo;
pub use connect_agent::ConnectAgent;
pub use uiscom::UIScom;

/// The scrubbed payload of a worker's panic, for the log line next to the code the user was shown.
fn failure_detail(error: &crate::driver::DriverError) -> &str {
    match error {
        crate::driver::DriverError::Failed { detail, .. } => detail,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::AddinClass;

    /// What the platform is told (IsPropReadable, IsPropWritable) is what the entry can do.
    fn access_matches_the_accessors<C: AddinClass>() {
        let common = crate::native::Component::<C>::COMMON_PROPS;
        let common = common
            .iter()
            .map(|p| (&p.spec, p.get.is_some(), p.set.is_some()));
        let own = C::props()
            .iter()
            .map(|p| (&p.spec, p.get.is_some(), p.set.is_some()));
        for (spec, get, set) in common.chain(own) {
            assert_eq!((spec.readable, spec.writable), (get, set), "{}", spec.en);
        }
    }

    #[test]
    fn every_property_entry_declares_the_access_it_has() {
        access_matches_the_accessors::<ConnectAgent>();
        access_matches_the_accessors::<Centrifugo>();
        access_matches_the_accessors::<UIScom>();
        access_matches_the_accessors::<Binotel>();
    }
}
