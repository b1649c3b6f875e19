//! A small XML tree (parsed with quick-xml) keeping what exclusive canonicalisation needs —
//! element and attribute prefixes, namespace declarations, text — and Exclusive XML
//! Canonicalization 1.0 without comments (<http://www.w3.org/2001/10/xml-exc-c14n#>) over it.
//!
//! The canonicalisation is written by hand: the pure-Rust crates that offer it are young and
//! little used, and the ones that are used bind libxml2 (a C library). It covers what SAML
//! signatures need — a subtree as the document subset, with the enveloped signature left out,
//! and no InclusiveNamespaces prefix list — and is checked against an independent
//! implementation (signxml/lxml in tests/conformance verify what the emulator signs).

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;
use std::collections::BTreeMap;

/// The `xmlns:xml` namespace, never declared.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    /// Processing instructions are kept (exc-c14n outputs them); comments are dropped.
    Pi(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The prefix as written (`""` for none).
    pub prefix: String,
    pub local: String,
    /// The element's namespace URI (`""` for none), resolved at parse time.
    pub ns: String,
    /// Namespace declarations on this element: prefix (`""` = default) → URI.
    pub decls: Vec<(String, String)>,
    /// Attributes other than namespace declarations: (prefix, local name, namespace, value).
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: String,
    pub local: String,
    pub ns: String,
    pub value: String,
}

/// Parses a whole document; anything not well-formed (or with a DTD) is an error.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    config.check_end_names = true;
    // The stack of open elements with the namespace scope each opens.
    let mut stack: Vec<(Element, BTreeMap<String, String>)> = Vec::new();
    let mut root: Option<Element> = None;
    let scope = BTreeMap::new();
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(start) => {
                let inherited = stack.last().map_or(&scope, |(_, s)| s).clone();
                let (element, inner) = open(&start, inherited)?;
                stack.push((element, inner));
            }
            Event::Empty(start) => {
                let inherited = stack.last().map_or(&scope, |(_, s)| s).clone();
                let (element, _) = open(&start, inherited)?;
                close(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                let (element, _) = stack.pop().ok_or("unbalanced end tag")?;
                close(&mut stack, &mut root, element)?;
            }
            Event::Text(t) => push_text(&mut stack, &t.xml_content(XmlVersion::Implicit1_0))?,
            Event::CData(c) => {
                push_text(&mut stack, &c.xml_content(XmlVersion::Implicit1_0))?;
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                push_text(&mut stack, ch.encode_utf8(&mut [0; 4]))?;
            }
            Event::PI(pi) => {
                if let Some((element, _)) = stack.last_mut() {
                    let content = pi.content().trim_start();
                    let body = if content.is_empty() {
                        pi.target().to_string()
                    } else {
                        format!("{} {content}", pi.target())
                    };
                    element.children.push(Node::Pi(body));
                }
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::DocType(_) => return Err("a DTD is not allowed".into()),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn push_text(stack: &mut [(Element, BTreeMap<String, String>)], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some((element, _)) => {
            if let Some(Node::Text(last)) = element.children.last_mut() {
                last.push_str(text);
            } else {
                element.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

fn close(
    stack: &mut [(Element, BTreeMap<String, String>)],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), String> {
    match stack.last_mut() {
        Some((parent, _)) => parent.children.push(Node::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

fn split(qname: &str) -> (String, String) {
    match qname.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), qname.to_string()),
    }
}

fn open(
    start: &BytesStart<'_>,
    mut scope: BTreeMap<String, String>,
) -> Result<(Element, BTreeMap<String, String>), String> {
    let name = start.name().as_ref().to_string();
    let mut decls = Vec::new();
    let mut raw_attrs = Vec::new();
    for attr in start.attributes() {
        let attr: Attribute<'_> = attr.map_err(|e| e.to_string())?;
        let key = attr.key.as_ref().to_string();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        if key == "xmlns" {
            decls.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(format!("xmlns:{prefix} cannot be undeclared"));
            }
            decls.push((prefix.to_string(), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    for (prefix, uri) in &decls {
        scope.insert(prefix.clone(), uri.clone());
    }
    let resolve = |prefix: &str| -> Result<String, String> {
        match prefix {
            "xml" => Ok(XML_NS.to_string()),
            _ => scope
                .get(prefix)
                .cloned()
                .ok_or_else(|| format!("undeclared prefix {prefix}")),
        }
    };
    let (prefix, local) = split(&name);
    let ns = if prefix.is_empty() {
        scope.get("").cloned().unwrap_or_default()
    } else {
        resolve(&prefix)?
    };
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (prefix, local) = split(&key);
        let ns = if prefix.is_empty() {
            String::new()
        } else {
            resolve(&prefix)?
        };
        if attrs.iter().any(|a: &Attr| a.local == local && a.ns == ns) {
            return Err(format!("attribute {key} appears twice"));
        }
        attrs.push(Attr {
            prefix,
            local,
            ns,
            value,
        });
    }
    let element = Element {
        prefix,
        local,
        ns,
        decls,
        attrs,
        children: Vec::new(),
    };
    Ok((element, scope))
}

impl Element {
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this namespace and local name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.ns == ns && e.local == local)
    }

    /// Every child element with this namespace and local name.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.elements()
            .filter(move |e| e.ns == ns && e.local == local)
    }

    /// The concatenated text of the element's direct text children.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every descendant element (this one first), depth first.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![self];
        for child in self.elements() {
            out.extend(child.descendants());
        }
        out
    }
}

/// The in-scope namespaces of `target` inside `root` (declarations on its ancestors and on
/// itself), or None when `target` is not in `root`.
pub fn scope_of(root: &Element, target: *const Element) -> Option<BTreeMap<String, String>> {
    fn walk(
        e: &Element,
        target: *const Element,
        mut scope: BTreeMap<String, String>,
    ) -> Option<BTreeMap<String, String>> {
        for (p, u) in &e.decls {
            scope.insert(p.clone(), u.clone());
        }
        if std::ptr::eq(e, target) {
            return Some(scope);
        }
        e.elements().find_map(|c| walk(c, target, scope.clone()))
    }
    walk(root, target, BTreeMap::new())
}

fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Exclusive canonical form (without comments) of `element` as the apex of the document
/// subset, where `scope` is the namespace scope in force at it (see [`scope_of`]) and `skip`
/// is an element left out with its subtree (the enveloped signature).
pub fn exc_c14n(
    element: &Element,
    scope: &BTreeMap<String, String>,
    skip: Option<*const Element>,
) -> String {
    let mut out = String::new();
    write_c14n(element, scope, &BTreeMap::new(), skip, &mut out);
    out
}

fn write_c14n(
    e: &Element,
    scope: &BTreeMap<String, String>,
    rendered: &BTreeMap<String, String>,
    skip: Option<*const Element>,
    out: &mut String,
) {
    // Namespaces visibly utilised: the element's own prefix and its attributes' prefixes.
    let mut used: Vec<&str> = vec![e.prefix.as_str()];
    for a in &e.attrs {
        if !a.prefix.is_empty() && !used.contains(&a.prefix.as_str()) {
            used.push(&a.prefix);
        }
    }
    let mut emit: BTreeMap<String, String> = BTreeMap::new();
    for prefix in used {
        if prefix == "xml" {
            continue;
        }
        let uri = scope.get(prefix).cloned().unwrap_or_default();
        // The default namespace counts as rendered empty above the apex.
        let render = if prefix.is_empty() {
            rendered.get("").map_or("", String::as_str) != uri
        } else {
            rendered.get(prefix) != Some(&uri)
        };
        if render {
            emit.insert(prefix.to_string(), uri);
        }
    }
    out.push('<');
    if !e.prefix.is_empty() {
        out.push_str(&e.prefix);
        out.push(':');
    }
    out.push_str(&e.local);
    // BTreeMap order puts the default namespace ("") first, then prefixes in order.
    for (prefix, uri) in &emit {
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attr(uri, out);
        out.push('"');
    }
    let mut attrs: Vec<&Attr> = e.attrs.iter().collect();
    attrs.sort_by(|a, b| (&a.ns, &a.local).cmp(&(&b.ns, &b.local)));
    for a in attrs {
        out.push(' ');
        if !a.prefix.is_empty() {
            out.push_str(&a.prefix);
            out.push(':');
        }
        out.push_str(&a.local);
        out.push_str("=\"");
        escape_attr(&a.value, out);
        out.push('"');
    }
    out.push('>');
    let mut inner_rendered = rendered.clone();
    inner_rendered.extend(emit);
    let mut inner_scope = scope.clone();
    for child in &e.children {
        match child {
            Node::Element(c) => {
                if skip.is_some_and(|s| std::ptr::eq(c, s)) {
                    continue;
                }
                inner_scope.clone_from(scope);
                for (p, u) in &c.decls {
                    inner_scope.insert(p.clone(), u.clone());
                }
                write_c14n(c, &inner_scope, &inner_rendered, skip, out);
            }
            Node::Text(t) => escape_text(t, out),
            Node::Pi(p) => {
                out.push_str("<?");
                out.push_str(p);
                out.push_str("?>");
            }
        }
    }
    out.push_str("</");
    if !e.prefix.is_empty() {
        out.push_str(&e.prefix);
        out.push(':');
    }
    out.push_str(&e.local);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n_of(doc: &str, local: &str) -> String {
        let root = parse(doc).unwrap();
        let target = root
            .descendants()
            .into_iter()
            .find(|e| e.local == local)
            .unwrap();
        let scope = scope_of(&root, target).unwrap();
        exc_c14n(target, &scope, None)
    }

    #[test]
    fn only_visibly_utilised_namespaces_are_rendered() {
        let doc = r#"<a:R xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><a:X z="1" b:y="2" a="3"><Y/><a:Z xmlns:a="urn:a"/></a:X></a:R>"#;
        assert_eq!(
            c14n_of(doc, "X"),
            r#"<a:X xmlns:a="urn:a" xmlns:b="urn:b" a="3" z="1" b:y="2"><Y xmlns="urn:d"></Y><a:Z></a:Z></a:X>"#
        );
    }

    #[test]
    fn text_and_attributes_are_escaped_canonically() {
        let doc = "<r a=\"x&#13;&lt;&gt;&quot;'\">a &amp; b &gt; c\r\n<!-- gone --><?pi x?>'\"</r>";
        assert_eq!(
            c14n_of(doc, "r"),
            "<r a=\"x&#xD;&lt;>&quot;'\">a &amp; b &gt; c\n<?pi x?>'\"</r>"
        );
    }

    #[test]
    fn default_namespace_undeclared_below_is_rendered_empty() {
        let doc = r#"<r xmlns="urn:d"><s xmlns=""><t/></s></r>"#;
        assert_eq!(
            c14n_of(doc, "r"),
            r#"<r xmlns="urn:d"><s xmlns=""><t></t></s></r>"#
        );
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            "<a><b></a>",
            "<a>",
            "<a/><b/>",
            "<p:a/>",
            "<!DOCTYPE a><a/>",
            "<a x='1' x='2'/>",
            "<a>&foo;</a>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
