//! Small XML helpers over quick-xml: an element builder for requests and a read-only tree
//! for answers (looked up by local name, since ГИС ЖКХ prefixes vary between stands).

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

/// An element to write.
#[derive(Clone, Debug, Default)]
pub struct El {
    name: String,
    attrs: Vec<(String, String)>,
    kids: Vec<Kid>,
}

#[derive(Clone, Debug)]
enum Kid {
    El(El),
    Text(String),
    /// Already serialised XML (a signature inserted by the signer).
    Raw(String),
}

impl El {
    pub fn new(name: impl Into<String>) -> Self {
        El {
            name: name.into(),
            ..El::default()
        }
    }

    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((name.into(), value.into()));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.kids.push(Kid::Text(text.into()));
        self
    }

    pub fn child(mut self, child: El) -> Self {
        self.kids.push(Kid::El(child));
        self
    }

    pub fn children(mut self, children: impl IntoIterator<Item = El>) -> Self {
        self.kids.extend(children.into_iter().map(Kid::El));
        self
    }

    /// Adds `child` only when there is one.
    pub fn opt(self, child: Option<El>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// A child element holding `text`.
    pub fn leaf(self, name: &str, text: impl Into<String>) -> Self {
        self.child(El::new(name).text(text))
    }

    pub fn raw_first(mut self, xml: String) -> Self {
        self.kids.insert(0, Kid::Raw(xml));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Serialised, without an XML declaration.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new(Vec::new());
        self.write(&mut writer);
        // The writer only ever receives valid UTF-8 from our strings.
        String::from_utf8(writer.into_inner()).unwrap_or_default()
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) {
        let mut start = BytesStart::new(self.name.as_str());
        for (k, v) in &self.attrs {
            start.push_attribute((k.as_str(), v.as_str()));
        }
        // Writing into a Vec cannot fail.
        let _ = w.write_event(Event::Start(start));
        for kid in &self.kids {
            match kid {
                Kid::El(e) => e.write(w),
                Kid::Text(t) => {
                    let _ = w.write_event(Event::Text(BytesText::new(t)));
                }
                Kid::Raw(xml) => w.get_mut().extend_from_slice(xml.as_bytes()),
            }
        }
        let _ = w.write_event(Event::End(BytesEnd::new(self.name.as_str())));
    }
}

/// A parsed element: local name, attributes by local name, children, text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct ParseError(pub String);

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.to_string(),
    }
}

/// Elements nested deeper than this are refused. ГИС ЖКХ answers nest about twenty
/// deep; a garbled or hostile answer nested a million deep would otherwise overflow the
/// stack (and abort the process) when the tree is searched or dropped.
pub const MAX_DEPTH: usize = 256;

/// Parses a document into a tree of [`Node`]s; namespace prefixes are dropped.
pub fn parse(xml: &[u8]) -> Result<Node, ParseError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ParseError(e.to_string()))?;
        match event {
            Event::Start(s) => {
                if stack.len() > MAX_DEPTH {
                    return Err(ParseError(format!("nested deeper than {MAX_DEPTH}")));
                }
                stack.push(node_of(&s)?)
            }
            Event::Empty(s) => {
                let node = node_of(&s)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(|| ParseError("unbalanced".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err(ParseError("unbalanced".into())),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content().to_string();
                let text = match name.as_str() {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    other => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .unwrap_or_else(|| format!("&{other};")),
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut root = stack.pop().ok_or_else(|| ParseError("empty".into()))?;
    if !stack.is_empty() {
        return Err(ParseError("unclosed element".into()));
    }
    root.children
        .pop()
        .filter(|_| root.children.is_empty())
        .ok_or_else(|| ParseError("no single root element".into()))
}

fn node_of(start: &BytesStart<'_>) -> Result<Node, ParseError> {
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| ParseError(e.to_string()))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| ParseError(e.to_string()))?
            .to_string();
        attrs.push((local(a.key.as_ref()), value));
    }
    Ok(Node {
        name: local(start.name().as_ref()),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

impl Node {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first descendant (depth-first) with this local name.
    pub fn find(&self, name: &str) -> Option<&Node> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(found) = c.find(name) {
                return Some(found);
            }
        }
        None
    }

    /// The text of the first child with this name, trimmed.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// The text of a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<String> {
        let (last, parents) = names.split_last()?;
        let mut node = self;
        for n in parents {
            node = node.child(n)?;
        }
        node.text_of(last)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_and_reads_back_by_local_name() {
        let el = El::new("a:Root")
            .attr("xmlns:a", "urn:x")
            .attr("Id", "x&y")
            .leaf("a:Text", "1 < 2 & \"ok\"")
            .child(El::new("a:Empty"));
        let xml = el.to_xml();
        assert!(xml.contains("1 &lt; 2 &amp;"), "{xml}");
        let node = parse(xml.as_bytes()).unwrap();
        assert_eq!(node.name, "Root");
        assert_eq!(node.attr("Id"), Some("x&y"));
        assert_eq!(node.text_of("Text").unwrap(), "1 < 2 & \"ok\"");
        assert!(node.child("Empty").is_some());
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"").is_err());
    }
}
