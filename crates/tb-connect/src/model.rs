//! The protocol's vocabulary: modes, event objects, initiators, subscription keys, and the subscription groups of
//! the vendor's driver as data (which keys each group covers; the add-in names the methods).
//!
//! Values are matched case-insensitively (the seed writes `Initiator="self"`, real agents send `Self`) and rendered
//! in the documented spelling; values this crate does not know are kept verbatim, so a newer agent still works.

use std::fmt;
use std::hash::{Hash, Hasher};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Eq)]
        pub enum $name {
            $($variant,)+
            /// A value this crate does not know, kept as received.
            Other(String),
        }

        impl $name {
            /// Every documented value, in the documented spelling.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// Case-insensitive; surrounding whitespace ignored; unknown values kept verbatim.
            pub fn parse(value: &str) -> Self {
                let trimmed = value.trim();
                $(if trimmed.eq_ignore_ascii_case($text) { return $name::$variant; })+
                $name::Other(trimmed.to_string())
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(value) => value,
                }
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                match (self, other) {
                    ($name::Other(a), $name::Other(b)) => a.eq_ignore_ascii_case(b),
                    (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
                }
            }
        }

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().to_ascii_lowercase().hash(state);
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Attribute `Mode`: which part of the program the event belongs to.
    Mode {
        ServicesClients => "ServicesClients",
        Colleagues => "Colleagues",
        Softphone => "Softphone",
    }
);

vocabulary!(
    /// Attribute `Object`: what the event is about.
    EventObject {
        AgentOnlineStatus => "AgentOnlineStatus",
        Message => "Message",
        Call => "Call",
        RemoteAccessSession => "RemoteAccessSession",
        Treatment => "Treatment",
    }
);

vocabulary!(
    /// Attribute `Initiator`: towards the program (`Incoming`) or from it (`Self`).
    Initiator {
        Incoming => "Incoming",
        SelfInitiated => "Self",
    }
);

vocabulary!(
    /// Values of `<Status>` in `ChangeMyOnlineStatus` and `AgentOnlineStatus` events.
    OnlineStatus {
        Connecting => "Connecting",
        Online => "Online",
        Away => "Away",
        Talking => "Talking",
        DoNotDisturb => "DoNotDisturb",
        BusyForNewRequests => "BusyForNewRequests",
    }
);

/// One event category the agent can be subscribed to: the attributes of `EventSubscribe`/`EventUnSubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubscriptionKey {
    pub mode: Mode,
    pub object: EventObject,
    pub initiator: Initiator,
}

impl SubscriptionKey {
    pub fn new(mode: Mode, object: EventObject, initiator: Initiator) -> Self {
        SubscriptionKey {
            mode,
            object,
            initiator,
        }
    }

    /// From the caller's strings (any case). `None` when a part is empty.
    pub fn parse(mode: &str, object: &str, initiator: &str) -> Option<Self> {
        if [mode, object, initiator]
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return None;
        }
        Some(SubscriptionKey::new(
            Mode::parse(mode),
            EventObject::parse(object),
            Initiator::parse(initiator),
        ))
    }
}

impl fmt::Display for SubscriptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mode={} Object={} Initiator={}",
            self.mode, self.object, self.initiator
        )
    }
}

/// The subscription groups of the vendor's driver (one subscribe and one unsubscribe method each), and what each
/// sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverSubscription {
    /// The agent's own online status.
    OnlineStatus,
    /// Calls of the softphone.
    Softphone,
    /// Calls among colleagues.
    ColleaguesCall,
    /// Calls with clients of services.
    ClientsCall,
    /// All three call groups.
    AllCall,
}

/// Both call directions: the driver's methods are documented as "incoming/outgoing calls".
const CALL_INITIATORS: [Initiator; 2] = [Initiator::Incoming, Initiator::SelfInitiated];

impl DriverSubscription {
    pub const ALL: [DriverSubscription; 5] = [
        DriverSubscription::OnlineStatus,
        DriverSubscription::Softphone,
        DriverSubscription::ColleaguesCall,
        DriverSubscription::ClientsCall,
        DriverSubscription::AllCall,
    ];

    /// The modes whose `Call` object this method covers.
    fn call_modes(self) -> &'static [Mode] {
        match self {
            DriverSubscription::OnlineStatus => &[],
            DriverSubscription::Softphone => &[Mode::Softphone],
            DriverSubscription::ColleaguesCall => &[Mode::Colleagues],
            DriverSubscription::ClientsCall => &[Mode::ServicesClients],
            DriverSubscription::AllCall => {
                &[Mode::Softphone, Mode::Colleagues, Mode::ServicesClients]
            }
        }
    }

    /// The subscription keys this method subscribes to (or unsubscribes from), one command each, in send order.
    pub fn keys(self) -> Vec<SubscriptionKey> {
        if self == DriverSubscription::OnlineStatus {
            // Mode as in the seed's own EventSubscribe example.
            return vec![SubscriptionKey::new(
                Mode::ServicesClients,
                EventObject::AgentOnlineStatus,
                Initiator::SelfInitiated,
            )];
        }
        self.call_modes()
            .iter()
            .flat_map(|mode| {
                CALL_INITIATORS.iter().map(|initiator| {
                    SubscriptionKey::new(mode.clone(), EventObject::Call, initiator.clone())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(mode: Mode, object: EventObject, initiator: Initiator) -> SubscriptionKey {
        SubscriptionKey::new(mode, object, initiator)
    }

    #[test]
    fn parses_case_insensitively_and_keeps_unknown() {
        assert_eq!(Initiator::parse("self"), Initiator::SelfInitiated);
        assert_eq!(Initiator::parse(" INCOMING "), Initiator::Incoming);
        assert_eq!(Mode::parse("servicesclients").as_str(), "ServicesClients");
        assert_eq!(
            EventObject::parse("remoteaccesssession").as_str(),
            "RemoteAccessSession"
        );
        let other = EventObject::parse("FileTransfer");
        assert_eq!(other.as_str(), "FileTransfer");
        assert!(!other.is_known());
        assert_eq!(other, EventObject::parse("filetransfer"));
        assert_ne!(Mode::Softphone, Mode::Colleagues);
    }

    #[test]
    fn online_status_maps_to_agent_online_status_self() {
        assert_eq!(
            DriverSubscription::OnlineStatus.keys(),
            vec![key(
                Mode::ServicesClients,
                EventObject::AgentOnlineStatus,
                Initiator::SelfInitiated
            )]
        );
    }

    #[test]
    fn call_methods_cover_both_directions() {
        assert_eq!(
            DriverSubscription::Softphone.keys(),
            vec![
                key(Mode::Softphone, EventObject::Call, Initiator::Incoming),
                key(Mode::Softphone, EventObject::Call, Initiator::SelfInitiated),
            ]
        );
        assert_eq!(
            DriverSubscription::ColleaguesCall.keys(),
            vec![
                key(Mode::Colleagues, EventObject::Call, Initiator::Incoming),
                key(
                    Mode::Colleagues,
                    EventObject::Call,
                    Initiator::SelfInitiated
                ),
            ]
        );
        assert_eq!(
            DriverSubscription::ClientsCall.keys(),
            vec![
                key(
                    Mode::ServicesClients,
                    EventObject::Call,
                    Initiator::Incoming
                ),
                key(
                    Mode::ServicesClients,
                    EventObject::Call,
                    Initiator::SelfInitiated
                ),
            ]
        );
    }

    #[test]
    fn all_call_is_the_union_of_the_three() {
        let all = DriverSubscription::AllCall.keys();
        assert_eq!(all.len(), 6);
        let union: Vec<_> = [
            DriverSubscription::Softphone,
            DriverSubscription::ColleaguesCall,
            DriverSubscription::ClientsCall,
        ]
        .iter()
        .flat_map(|d| d.keys())
        .collect();
        assert_eq!(all, union);
    }

    #[test]
    fn subscription_key_parse_rejects_empty_parts() {
        assert!(SubscriptionKey::parse("Softphone", "Call", "").is_none());
        assert_eq!(
            SubscriptionKey::parse("softphone", "call", "self"),
            Some(key(
                Mode::Softphone,
                EventObject::Call,
                Initiator::SelfInitiated
            ))
        );
    }
}
