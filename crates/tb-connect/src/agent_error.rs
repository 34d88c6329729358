//! The error constants the agent puts into `<CommandResult><Error>`, with explanations (seed, section 2.2.1).

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
    name: &'static str,
    wire: &'static str,
    ru: &'static str,
    en: &'static str,
}

const TABLE: &[Entry] = &[
    Entry {
        code: AgentErrorCode::ActionNotRecognized,
        name: "ActionNotRecognized",
        wire: "Action is not recognized",
        ru: "Агент не распознал атрибут Action команды",
        en: "The agent did not recognise the command's Action attribute",
    },
    Entry {
        code: AgentErrorCode::InitiatorNotRecognized,
        name: "InitiatorNotRecognized",
        wire: "Initiator is not recognized",
        ru: "Агент не распознал атрибут Initiator (ожидается Incoming или Self)",
        en: "The agent did not recognise the Initiator attribute (expected Incoming or Self)",
    },
    Entry {
        code: AgentErrorCode::ModeNotRecognized,
        name: "ModeNotRecognized",
        wire: "Mode is not recognized",
        ru: "Агент не распознал атрибут Mode (ожидается ServicesClients, Colleagues или Softphone)",
        en: "The agent did not recognise the Mode attribute (expected ServicesClients, Colleagues or Softphone)",
    },
    Entry {
        code: AgentErrorCode::ObjectOrActionNotRecognized,
        name: "ObjectOrActionNotRecognized",
        wire: "Object or Action is not recognized",
        ru: "Агент не распознал атрибут Object (или Action) команды",
        en: "The agent did not recognise the command's Object (or Action) attribute",
    },
    Entry {
        code: AgentErrorCode::StatusNotRecognized,
        name: "StatusNotRecognized",
        wire: "Status is not recognized",
        ru: "Агент не распознал тег Status (допустимы Online, Away, DoNotDisturb, BusyForNewRequests)",
        en: "The agent did not recognise the Status tag (allowed: Online, Away, DoNotDisturb, BusyForNewRequests)",
    },
    Entry {
        code: AgentErrorCode::XmlParsingError,
        name: "XmlParsingError",
        wire: "XML parsing error",
        ru: "Агент не смог разобрать XML команды",
        en: "The agent could not parse the command's XML",
    },
    Entry {
        code: AgentErrorCode::UnableToFindUserForService,
        name: "UnableToFindUserForService",
        wire: "Unable to find user for service",
        ru: "Агент не нашел UserID по указанному ServiceID",
        en: "The agent found no user (UserID) for the given ServiceID",
    },
    Entry {
        code: AgentErrorCode::ServiceIdNotFound,
        name: "ServiceIdNotFound",
        wire: "ServiceID not found",
        ru: "Агент не нашел указанный ServiceID",
        en: "The agent did not find the given ServiceID",
    },
    Entry {
        code: AgentErrorCode::UnableToFindColleague,
        name: "UnableToFindColleague",
        wire: "Unable to find Colleague",
        ru: "Агент не нашел коллегу по указанному идентификатору",
        en: "The agent did not find the colleague by the given ID",
    },
    Entry {
        code: AgentErrorCode::AgentIsOffline,
        name: "AgentIsOffline",
        wire: "agent is offline",
        ru: "Агент не в сети: сообщение не отправлено",
        en: "The agent is offline: the message was not sent",
    },
    Entry {
        code: AgentErrorCode::AgentNotLogged,
        name: "AgentNotLogged",
        wire: "Agent not Logged",
        ru: "Агент не авторизован (не выполнен вход в 1С-Коннект)",
        en: "The agent is not logged in to 1C-Connect",
    },
    Entry {
        code: AgentErrorCode::StatusNotPossible,
        name: "StatusNotPossible",
        wire: "Not possible to establish this status",
        ru: "Нет возможности установить заданный статус (например, «Разговариваю»)",
        en: "This status cannot be set (for example, Talking)",
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

    /// A stable identifier (`Data.ErrorCode`).
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    pub fn ru(self) -> &'static str {
        self.entry().ru
    }

    pub fn en(self) -> &'static str {
        self.entry().en
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_round_trips_and_is_explained() {
        assert_eq!(TABLE.len(), AgentErrorCode::ALL.len());
        for code in AgentErrorCode::ALL {
            assert_eq!(AgentErrorCode::from_wire(code.wire()), Some(code));
            assert!(!code.ru().is_empty() && !code.en().is_empty());
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
