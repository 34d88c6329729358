//! Agent message texts (`<Event>` and `<CommandResult>`) to JSON.
//!
//! Shape of an event's JSON: every attribute of `<Event>` (Time, Mode, Object, Initiator, ID and any other), then
//! every child element by name. A leaf element becomes its text; the list containers `UploadedFiles`,
//! `DownloadedFiles` and `Comments` become arrays of objects (the item's attributes, plus `Text` for its text); any
//! other element with attributes or children becomes an object the same way. A name repeated among siblings becomes
//! an array. Mode/Object/Initiator values are normalised to the documented spelling.

use quick_xml::events::{BytesRef, BytesStart, Event as XmlEvent};
use quick_xml::Reader;
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::agent_error::AgentErrorCode;
use crate::error::ConnectError;
use crate::model::{EventObject, Initiator, Mode};

/// Containers whose children are list items, even when there is only one item (or none).
const LIST_CONTAINERS: &[&str] = &["UploadedFiles", "DownloadedFiles", "Comments"];
/// Deeper nesting than this is not part of the protocol; refusing it bounds recursion on hostile input.
const MAX_DEPTH: usize = 16;
const EXCERPT_CHARS: usize = 60;

/// An `<Event>`: what it is about and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    /// The `Object` attribute (`Call`, `Message`, … or a value this crate does not know); `None` when absent.
    pub object: Option<EventObject>,
    /// The event's attributes and elements in the shape described in the module docs.
    pub data: Map<String, Value>,
}

/// A `<CommandResult>` as the agent sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandResult {
    pub id: String,
    pub action: String,
    pub result: String,
    /// `None` when `<Error>` is absent or empty.
    pub error: Option<String>,
    pub error_code: Option<AgentErrorCode>,
    /// Any other attributes and children, same shape as event data.
    pub extra: Map<String, Value>,
}

/// One decoded agent message.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentMessage {
    Event(AgentEvent),
    CommandResult(CommandResult),
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

/// Parse one message text. `frame` is only used to say where an error was.
pub fn parse_message(text: &str, frame: u64) -> Result<AgentMessage, ConnectError> {
    let repaired = repair_state_attribute_form(text);
    let root = build_tree(&repaired, frame)?;
    if root.name.eq_ignore_ascii_case("Event") {
        Ok(AgentMessage::Event(event_from(root)))
    } else if root.name.eq_ignore_ascii_case("CommandResult") {
        Ok(AgentMessage::CommandResult(command_result_from(root)))
    } else {
        Err(ConnectError::UnexpectedRoot {
            frame,
            tag: root.name,
        })
    }
}

fn excerpt(text: &str) -> String {
    text.chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn malformed(text: &str, frame: u64, position: u64, detail: impl Into<String>) -> ConnectError {
    ConnectError::MalformedXml {
        frame,
        position,
        detail: detail.into(),
        excerpt: excerpt(text),
    }
}

/// The seed writes states as `<State="Finished">`, which is not XML; agents send `<State>Finished</State>`.
/// Rewrite the former into the latter (also `<State = 'X' />`) before parsing, so both are accepted.
fn repair_state_attribute_form(text: &str) -> Cow<'_, str> {
    const TAG: &str = "<State";
    let needs_repair = text
        .match_indices(TAG)
        .any(|(at, _)| text[at + TAG.len()..].trim_start().starts_with('='));
    if !needs_repair {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(TAG) {
        out.push_str(&rest[..at]);
        let after_tag = &rest[at + TAG.len()..];
        match parse_state_attribute_form(after_tag) {
            Some((value, used)) => {
                out.push_str("<State>");
                out.push_str(value);
                out.push_str("</State>");
                rest = &after_tag[used..];
                changed = true;
            }
            None => {
                out.push_str(TAG);
                rest = after_tag;
            }
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// After `<State`: `\s*=\s*("v"|'v')\s*/?>`. Returns the value and the bytes used.
fn parse_state_attribute_form(s: &str) -> Option<(&str, usize)> {
    let trimmed = s.trim_start();
    let after_eq = trimmed.strip_prefix('=')?.trim_start();
    let quote = after_eq
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    let value_and_rest = &after_eq[1..];
    let close = value_and_rest.find(quote)?;
    let value = &value_and_rest[..close];
    if value.contains('<') {
        return None;
    }
    let tail = value_and_rest[close + 1..].trim_start();
    let tail = tail.strip_prefix('/').unwrap_or(tail);
    let tail = tail.strip_prefix('>')?;
    Some((value, s.len() - tail.len()))
}

fn decode_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn node_from_start(
    start: &BytesStart<'_>,
    text: &str,
    frame: u64,
    position: u64,
) -> Result<Node, ConnectError> {
    let mut node = Node {
        name: decode_name(start.name().as_ref()),
        ..Node::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| {
            malformed(
                text,
                frame,
                position,
                format!("bad attribute in <{}>: {e}", node.name),
            )
        })?;
        let key = decode_name(attribute.key.as_ref());
        let value = attribute.unescape_value().map_err(|e| {
            malformed(
                text,
                frame,
                position,
                format!("bad value of attribute {key} in <{}>: {e}", node.name),
            )
        })?;
        node.attributes.push((key, value.into_owned()));
    }
    Ok(node)
}

fn resolve_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// The element tree under construction, with what an error needs to say where it is.
struct TreeBuilder<'t> {
    text: &'t str,
    frame: u64,
    stack: Vec<Node>,
    root: Option<Node>,
}

impl TreeBuilder<'_> {
    fn error(&self, position: u64, detail: impl Into<String>) -> ConnectError {
        malformed(self.text, self.frame, position, detail)
    }

    /// A finished element goes to its parent, or becomes the root.
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.root = Some(node),
        }
    }

    fn start(
        &mut self,
        start: &BytesStart<'_>,
        position: u64,
        empty: bool,
    ) -> Result<(), ConnectError> {
        if self.root.is_some() {
            return Err(self.error(position, "content after the root element"));
        }
        if !empty && self.stack.len() >= MAX_DEPTH {
            return Err(self.error(position, format!("elements nested deeper than {MAX_DEPTH}")));
        }
        let node = node_from_start(start, self.text, self.frame, position)?;
        if empty {
            self.attach(node);
        } else {
            self.stack.push(node);
        }
        Ok(())
    }

    fn end(&mut self, position: u64) -> Result<(), ConnectError> {
        // quick-xml has already checked that the end name matches the open element.
        let Some(node) = self.stack.pop() else {
            return Err(self.error(position, "unmatched end tag"));
        };
        self.attach(node);
        Ok(())
    }

    /// Text of the open element; `outside` names the kind of content for the error when there is none
    /// (`None`: white space outside the root is allowed).
    fn text(
        &mut self,
        content: &str,
        position: u64,
        outside: Option<&str>,
    ) -> Result<(), ConnectError> {
        match (self.stack.last_mut(), outside) {
            (Some(node), _) => node.text.push_str(content),
            (None, None) if content.trim().is_empty() => {}
            (None, outside) => {
                let what = outside.unwrap_or("text");
                return Err(self.error(position, format!("{what} outside the root element")));
            }
        }
        Ok(())
    }

    fn reference(&mut self, reference: &BytesRef<'_>, position: u64) -> Result<(), ConnectError> {
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(ch)) => Some(ch),
            Ok(None) => reference
                .decode()
                .ok()
                .and_then(|name| resolve_entity(&name)),
            Err(_) => None,
        };
        let Some(ch) = resolved else {
            let name = String::from_utf8_lossy(reference).into_owned();
            return Err(self.error(
                position,
                format!("unknown entity or character reference &{name};"),
            ));
        };
        self.text(ch.encode_utf8(&mut [0; 4]), position, Some("reference"))
    }
}

fn build_tree(text: &str, frame: u64) -> Result<Node, ConnectError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut tree = TreeBuilder {
        text,
        frame,
        stack: Vec::new(),
        root: None,
    };
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| tree.error(reader.error_position(), e.to_string()))?;
        match event {
            XmlEvent::Start(start) => tree.start(&start, position, false)?,
            XmlEvent::Empty(start) => tree.start(&start, position, true)?,
            XmlEvent::End(_) => tree.end(position)?,
            XmlEvent::Text(content) => {
                let decoded = content
                    .xml10_content()
                    .map_err(|e| tree.error(position, e.to_string()))?;
                tree.text(&decoded, position, None)?;
            }
            XmlEvent::CData(content) => {
                let decoded = content
                    .decode()
                    .map_err(|e| tree.error(position, e.to_string()))?;
                tree.text(&decoded, position, Some("CDATA"))?;
            }
            XmlEvent::GeneralRef(reference) => tree.reference(&reference, position)?,
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
            XmlEvent::Eof => break,
        }
    }
    if let Some(open) = tree.stack.last() {
        return Err(tree.error(
            reader.buffer_position(),
            format!("element <{}> is not closed", open.name),
        ));
    }
    let TreeBuilder { root, .. } = tree;
    root.ok_or_else(|| malformed(text, frame, 0, "no root element"))
}

/// Documented attribute names, matched case-insensitively.
const EVENT_ATTRIBUTES: &[&str] = &["Time", "Mode", "Object", "Initiator", "ID", "Action"];

fn canonical_attribute(name: &str) -> &str {
    EVENT_ATTRIBUTES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(name)
}

fn normalized_attribute_value(name: &str, value: String) -> String {
    match name {
        "Mode" => Mode::parse(&value).as_str().to_string(),
        "Object" => EventObject::parse(&value).as_str().to_string(),
        "Initiator" => Initiator::parse(&value).as_str().to_string(),
        _ => value,
    }
}

/// Key/value pairs to an object in first-seen order; a key seen more than once gets an array of its values.
fn group(entries: Vec<(String, Value)>) -> Map<String, Value> {
    let mut map = Map::new();
    let mut repeated: Vec<String> = Vec::new();
    for (key, value) in entries {
        match map.get_mut(&key) {
            None => {
                map.insert(key, value);
            }
            Some(existing) => {
                if repeated.contains(&key) {
                    if let Value::Array(items) = existing {
                        items.push(value);
                    }
                } else {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                    repeated.push(key);
                }
            }
        }
    }
    map
}

fn object_of(node: Node, always_text: bool) -> Map<String, Value> {
    let has_text = !node.text.trim().is_empty();
    let mut entries: Vec<(String, Value)> = node
        .attributes
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    entries.extend(
        node.children
            .into_iter()
            .map(|child| (child.name.clone(), element_value(child))),
    );
    if always_text || has_text {
        entries.push(("Text".to_string(), Value::String(node.text)));
    }
    group(entries)
}

fn element_value(node: Node) -> Value {
    if LIST_CONTAINERS
        .iter()
        .any(|list| list.eq_ignore_ascii_case(&node.name))
    {
        let always_text = node.name.eq_ignore_ascii_case("Comments");
        return Value::Array(
            node.children
                .into_iter()
                .map(|item| Value::Object(object_of(item, always_text)))
                .collect(),
        );
    }
    if node.children.is_empty() && node.attributes.is_empty() {
        return Value::String(node.text);
    }
    Value::Object(object_of(node, false))
}

fn event_from(root: Node) -> AgentEvent {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for (key, value) in root.attributes {
        let key = canonical_attribute(&key).to_string();
        let value = normalized_attribute_value(&key, value);
        entries.push((key, Value::String(value)));
    }
    entries.extend(
        root.children
            .into_iter()
            .map(|child| (child.name.clone(), element_value(child))),
    );
    let data = group(entries);
    let object = data
        .get("Object")
        .and_then(Value::as_str)
        .map(EventObject::parse);
    AgentEvent { object, data }
}

fn command_result_from(root: Node) -> CommandResult {
    let mut extra: Vec<(String, Value)> = Vec::new();
    let mut result = CommandResult {
        id: String::new(),
        action: String::new(),
        result: String::new(),
        error: None,
        error_code: None,
        extra: Map::new(),
    };
    for (key, value) in root.attributes {
        match canonical_attribute(&key) {
            "ID" => result.id = value.trim().to_string(),
            "Action" => result.action = value,
            other => extra.push((other.to_string(), Value::String(value))),
        }
    }
    for child in root.children {
        if child.name.eq_ignore_ascii_case("Result") && child.children.is_empty() {
            result.result = child.text;
        } else if child.name.eq_ignore_ascii_case("Error") && child.children.is_empty() {
            if !child.text.trim().is_empty() {
                result.error_code = AgentErrorCode::from_wire(&child.text);
                result.error = Some(child.text);
            }
        } else {
            extra.push((child.name.clone(), element_value(child)));
        }
    }
    result.extra = group(extra);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(text: &str) -> AgentEvent {
        match parse_message(text, 1) {
            Ok(AgentMessage::Event(event)) => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn seed_example_with_invalid_state_form() {
        let text = r#"<Event Time="2015-03-25 12:00:00" Mode="ServicesClients" Object="Message" Initiator="self">
<State="Finished">
<MessageID>74237de05537513cf8d6aae0c9499378</MessageID>
<ClientID>531ef6c7-deb8-11e0-ad02-000c2926d843</ClientID>
<UserID>531ef6c7-deb8-11e0-ad02-000c2926d843</UserID>
<ServiceID>c72c935f-b9e9-11e0-8fc5-000c2926d843</ServiceID>
<AuthorID>74237de05537513cf8d6aae0c9499378</AuthorID>
<MessageBody>привет </MessageBody>
<Sended>2012-09-14T00:00:00</Sended>
</Event>"#;
        let e = event(text);
        assert_eq!(e.object.as_ref().map(EventObject::as_str), Some("Message"));
        assert_eq!(
            Value::Object(e.data),
            json!({
                "Time": "2015-03-25 12:00:00", "Mode": "ServicesClients", "Object": "Message", "Initiator": "Self",
                "State": "Finished",
                "MessageID": "74237de05537513cf8d6aae0c9499378",
                "ClientID": "531ef6c7-deb8-11e0-ad02-000c2926d843",
                "UserID": "531ef6c7-deb8-11e0-ad02-000c2926d843",
                "ServiceID": "c72c935f-b9e9-11e0-8fc5-000c2926d843",
                "AuthorID": "74237de05537513cf8d6aae0c9499378",
                "MessageBody": "привет ",
                "Sended": "2012-09-14T00:00:00"
            })
        );
    }

    #[test]
    fn real_state_element_and_case_insensitive_values() {
        let e = event(
            r#"<Event Time="t" mode="softphone" Object="CALL" Initiator="INCOMING" ID="42"><State>Finished</State><CallID>c</CallID><CallFrom>a</CallFrom><CallTo>b</CallTo><Duration>12</Duration><CallResult>Success</CallResult></Event>"#,
        );
        assert_eq!(e.object.as_ref().map(EventObject::as_str), Some("Call"));
        assert_eq!(e.data["Mode"], "Softphone");
        assert_eq!(e.data["Object"], "Call");
        assert_eq!(e.data["Initiator"], "Incoming");
        assert_eq!(e.data["ID"], "42");
        assert_eq!(e.data["State"], "Finished");
        assert_eq!(e.data["CallResult"], "Success");
    }

    #[test]
    fn state_attribute_variants_are_repaired() {
        for form in [
            r#"<State="Started">"#,
            r#"<State = 'Started' />"#,
            r#"<State="Started"/>"#,
            "<State>Started</State>",
        ] {
            let e = event(&format!(
                r#"<Event Object="Call">{form}<CallID>x</CallID></Event>"#
            ));
            assert_eq!(e.data["State"], "Started", "{form}");
        }
    }

    #[test]
    fn every_event_kind_of_the_seed() {
        let status = event(
            r#"<Event Time="t" Mode="ServicesClients" Object="AgentOnlineStatus" Initiator="Self"><Status>Away</Status></Event>"#,
        );
        assert_eq!(
            status.object.as_ref().map(EventObject::as_str),
            Some("AgentOnlineStatus")
        );
        assert_eq!(status.data["Status"], "Away");

        let remote = event(
            r#"<Event Time="t" Mode="ServicesClients" Object="RemoteAccessSession" Initiator="Incoming">
<State>Finished</State><SessionID>s</SessionID><AuthorID>a</AuthorID><EndTime>e</EndTime><Duration>60</Duration>
<UploadedFiles><File Name="a.txt" SourceDir="C:\in" DestinDir="D:\out" Size="10" StartTime="s1" Duration="1"/>
<File Name="b &amp; c.txt" SourceDir="x" DestinDir="y" Size="20" StartTime="s2" Duration="2"/></UploadedFiles>
<DownloadedFiles></DownloadedFiles></Event>"#,
        );
        assert_eq!(
            remote.object.as_ref().map(EventObject::as_str),
            Some("RemoteAccessSession")
        );
        assert_eq!(
            remote.data["UploadedFiles"],
            json!([
                {"Name": "a.txt", "SourceDir": "C:\\in", "DestinDir": "D:\\out", "Size": "10", "StartTime": "s1", "Duration": "1"},
                {"Name": "b & c.txt", "SourceDir": "x", "DestinDir": "y", "Size": "20", "StartTime": "s2", "Duration": "2"}
            ])
        );
        assert_eq!(remote.data["DownloadedFiles"], json!([]));

        let treatment = event(
            r#"<Event Time="t" Mode="ServicesClients" Object="Treatment" Initiator="Incoming"><State>Comments</State><TreatmentID>tr</TreatmentID>
<Comments><Comment AuthorID="u1" DateTime="2018-08-07T10:00:00">Всё отлично</Comment><Comment AuthorID="u2" DateTime="d2"/></Comments></Event>"#,
        );
        assert_eq!(
            treatment.object.as_ref().map(EventObject::as_str),
            Some("Treatment")
        );
        assert_eq!(
            treatment.data["Comments"],
            json!([
                {"AuthorID": "u1", "DateTime": "2018-08-07T10:00:00", "Text": "Всё отлично"},
                {"AuthorID": "u2", "DateTime": "d2", "Text": ""}
            ])
        );
    }

    #[test]
    fn unknown_object_keeps_its_name_and_repeated_children_become_arrays() {
        let e = event(
            r#"<Event Object="FileReady"><Part>1</Part><Part>2</Part><Part>3</Part></Event>"#,
        );
        assert_eq!(
            e.object.as_ref().map(EventObject::as_str),
            Some("FileReady")
        );
        assert_eq!(e.data["Part"], json!(["1", "2", "3"]));
        let odd = event(r#"<Event Object="a b"/>"#).object;
        assert_eq!(odd.as_ref().map(EventObject::as_str), Some("a b"));
        assert_eq!(event("<Event/>").object, None);
    }

    #[test]
    fn declaration_comments_cdata_and_char_refs() {
        let e = event(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!-- hi --><Event Object=\"Message\"><MessageBody><![CDATA[<b>]]>&#1055;&#x438;&lt;</MessageBody></Event>",
        );
        assert_eq!(e.data["MessageBody"], "<b>Пи<");
    }

    #[test]
    fn command_result_with_documented_error() {
        let parsed = parse_message(
            r#"<CommandResult Action="SendMessage" ID="id-1"><Result>false</Result><Error>agent is offline</Error></CommandResult>"#,
            3,
        )
        .unwrap();
        let AgentMessage::CommandResult(result) = parsed else {
            panic!("not a command result")
        };
        assert_eq!(result.id, "id-1");
        assert_eq!(result.action, "SendMessage");
        assert_eq!(result.result, "false");
        assert_eq!(result.error.as_deref(), Some("agent is offline"));
        assert_eq!(result.error_code, Some(AgentErrorCode::AgentIsOffline));

        let AgentMessage::CommandResult(ok) =
            parse_message(r#"<CommandResult Action="EventSubscribe" ID="x"><Result>true</Result><Error/></CommandResult>"#, 1)
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(ok.error, None);
    }

    #[test]
    fn malformed_input_is_an_error_with_a_location() {
        for bad in [
            "",
            "   ",
            "<Event>",
            "<Event></Evnt>",
            "<Event a=\"1\" a=\"2\"/>",
            "<Event>&bogus;</Event>",
            "<Event/><Event/>",
            "text",
            "<Event><A><B><C><D><E><F><G><H><I><J><K><L><M><N><O><P><Q></Q></P></O></N></M></L></K></J></I></H></G></F></E></D></C></B></A></Event>",
        ] {
            let err = parse_message(bad, 7).unwrap_err();
            assert_eq!(err.location().0, Some(7), "{bad:?}: {err}");
        }
        assert!(matches!(
            parse_message("<Hello/>", 2),
            Err(ConnectError::UnexpectedRoot { frame: 2, .. })
        ));
    }
}
