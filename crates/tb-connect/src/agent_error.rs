//! The error constants the agent puts into `<CommandResult><Error>` (seed, section 2.2.1); the add-in explains them.

/// A documented `<Error>` value of a `CommandResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentErrorCode {
    ActionNotRecognized,
    InitiatorNotRecognized,
    ModeNotRecognized,
    ObjectOrActionNotRecognized,
    StatusNotRecognized,
    XmlParsingError,
    UnableToFindUserForService,
    ServiceIdNotFound,
    UnableToFindColleague,
    AgentIsOffline,
    AgentNotLogged,
    StatusNotPossible,
}

struct Entry {
    code: AgentErrorCode,
    wire: &'static str,
}

const TABLE: &[Entry] = &[
    Entry {
        code: AgentErrorCode::ActionNotRecognized,
        wire: "Action is not recognized",
    },
    Entry {
        code: AgentErrorCode::InitiatorNotRecognized,
        wire: "Initiator is not recognized",
    },
    Entry {
        code: AgentErrorCode::ModeNotRecognized,
        wire: "Mode is not recognized",
    },
    Entry {
        code: AgentErrorCode::ObjectOrActionNotRecognized,
        wire: "Object or Action is not recognized",
    },
    Entry {
        code: AgentErrorCode::StatusNotRecognized,
        wire: "Status is not recognized",
    },
    Entry {
        code: AgentErrorCode::XmlParsingError,
        wire: "XML parsing error",
    },
    Entry {
        code: AgentErrorCode::UnableToFindUserForService,
        wire: "Unable to find user for service",
    },
    Entry {
        code: AgentErrorCode::ServiceIdNotFound,
        wire: "ServiceID not found",
    },
    Entry {
        code: AgentErrorCode::UnableToFindColleague,
        wire: "Unable to find Colleague",
    },
    Entry {
        code: AgentErrorCode::AgentIsOffline,
        wire: "agent is offline",
    },
    Entry {
        code: AgentErrorCode::AgentNotLogged,
        wire: "Agent not Logged",
    },
    Entry {
        code: AgentErrorCode::StatusNotPossible,
        wire: "Not possible to establish this status",
    },
];

impl AgentErrorCode {
    pub const ALL: [AgentErrorCode; 12] = [
        AgentErrorCode::ActionNotRecognized,
        AgentErrorCode::InitiatorNotRecognized,
        AgentErrorCode::ModeNotRecognized,
        AgentErrorCode::ObjectOrActionNotRecognized,
        AgentErrorCode::StatusNotRecognized,
        AgentErrorCode::XmlParsingError,
        AgentErrorCode::UnableToFindUserForService,
        AgentErrorCode::ServiceIdNotFound,
        AgentErrorCode::UnableToFindColleague,
        AgentErrorCode::AgentIsOffline,
        AgentErrorCode::AgentNotLogged,
        AgentErrorCode::StatusNotPossible,
    ];

    fn entry(self) -> &'static Entry {
        // The table lists every variant; the fallback is unreachable but keeps this free of panics.
        TABLE.iter().find(|e| e.code == self).unwrap_or(&TABLE[0])
    }

    /// Recognise an `<Error>` text: case-insensitive, surrounding whitespace and a trailing period ignored.
    pub fn from_wire(text: &str) -> Option<Self> {
        let text = text.trim().trim_end_matches('.').trim_end();
        TABLE
            .iter()
            .find(|e| e.wire.eq_ignore_ascii_case(text))
            .map(|e| e.code)
    }

    /// The exact string the agent sends.
    pub fn wire(self) -> &'static str {
        self.entry().wire
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_round_trips() {
        assert_eq!(TABLE.len(), AgentErrorCode::ALL.len());
        for code in AgentErrorCode::ALL {
            assert_eq!(AgentErrorCode::from_wire(code.wire()), Some(code));
            assert_eq!(code.entry().code, code);
        }
    }

    #[test]
    fn matching_is_lenient() {
        assert_eq!(
            AgentErrorCode::from_wire("  Agent Is Offline. "),
            Some(AgentErrorCode::AgentIsOffline)
        );
        assert_eq!(AgentErrorCode::from_wire("something new"), None);
    }
}
