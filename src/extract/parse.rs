//! The one HTML parser for fetched content: html5ever with the nesting depth bounded.
//!
//! A page is untrusted input, and nesting is where it can hurt: html5ever's
//! tree builder walks its stack of open elements for most tags (scope checks),
//! so 100,000 nested elements cost minutes, and any walk over such a tree that
//! recurses can overflow a thread's stack and abort the process. So a guard
//! sits between the tokenizer and the tree builder: once the builder holds
//! about [`MAX_DEPTH`] elements, further start tags are dropped, and the end
//! tags that would have closed them too. Deeper content is flattened into the
//! element at the limit: its text stays, its markup goes. A last linear pass
//! moves up anything the builder still placed deeper, so no node of a parsed
//! tree is more than [`MAX_DEPTH`] levels below the root.

use std::borrow::Cow;
use std::cell::Cell;
use std::marker::PhantomData;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{Tracer, TreeBuilder, TreeBuilderOpts, TreeSink, create_element};
use html5ever::{QualName, local_name, ns};
use scraper::{Html, HtmlTreeSink};

/// How deep a parsed tree may be. Real pages nest 20 to 60 levels; browsers
/// stop at 512.
pub const MAX_DEPTH: usize = 256;

/// Parses a whole page (listing, article, page to suggest selectors for).
pub fn parse_html(text: &str) -> Html {
    parse(text, Kind::Document, MAX_DEPTH).html
}

/// Parses a piece of HTML (a teaser, a feed entry's title) as the content of a `<div>`.
pub fn parse_fragment(text: &str) -> Html {
    parse(text, Kind::Fragment, MAX_DEPTH).html
}

/// What [`parse`] built, and how much of the input's markup the bound cut.
pub(crate) struct Parsed {
    /// The tree, at most [`MAX_DEPTH`] deep.
    pub html: Html,
    /// Tags dropped because they lay deeper than the bound.
    pub dropped_tags: usize,
}

/// Whether `text` is a whole page or a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Document,
    Fragment,
}

/// Parses with the tree builder kept below `limit` open elements and the
/// resulting tree cut to [`MAX_DEPTH`] levels.
pub(crate) fn parse(text: &str, kind: Kind, limit: usize) -> Parsed {
    let (mut html, dropped_tags) = match kind {
        Kind::Document => {
            let sink = HtmlTreeSink::new(Html::new_document());
            let builder = TreeBuilder::new(sink, TreeBuilderOpts::default());
            run(builder, None, text, limit)
        }
        Kind::Fragment => {
            let sink = HtmlTreeSink::new(Html::new_fragment());
            let context = create_element(
                &sink,
                QualName::new(None, ns!(html), local_name!("div")),
                Vec::new(),
            );
            let builder =
                TreeBuilder::new_for_fragment(sink, context, None, TreeBuilderOpts::default());
            let state = builder.tokenizer_state_for_context_elem(false);
            run(builder, Some(state), text, limit)
        }
    };
    flatten_below(&mut html, MAX_DEPTH);
    Parsed { html, dropped_tags }
}

/// Feeds `text` through the tokenizer and the guarded tree builder, as
/// html5ever's own driver does; returns the tree and the tags dropped.
fn run(
    builder: TreeBuilder<NodeId, HtmlTreeSink>,
    initial_state: Option<html5ever::tokenizer::states::State>,
    text: &str,
    limit: usize,
) -> (Html, usize) {
    let opts = TokenizerOpts {
        initial_state,
        ..TokenizerOpts::default()
    };
    let tokenizer = Tokenizer::new(DepthGuard::new(builder, limit), opts);
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    // A script end tag or a `<meta charset>` pauses the tokenizer (for a
    // browser to run it or to switch encodings; the text is decoded already): go on.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    let guard = tokenizer.sink;
    let dropped = guard.dropped.get();
    (guard.builder.sink.finish(), dropped)
}

/// How many elements one start tag can add to what the tree builder holds:
/// the element itself and the ones it implies (`<td>` alone implies
/// `<tbody>` and `<tr>`; the first tag of a page implies `<html>` and `<body>`).
const GROWTH_PER_TAG: usize = 4;

/// The token sink between tokenizer and tree builder that keeps the
/// builder's stack of open elements bounded.
///
/// What the builder holds is counted with its `trace_handles` (the open
/// elements, the list of active formatting elements and a few pointers),
/// which is at least what its stack can grow to without another start tag:
/// text only re-opens formatting elements already in that list. As counting
/// walks the stack, it is done only when the start tags forwarded since the
/// last count could have brought the builder near the limit, and not again
/// once it is full until an end tag reaches it (only an end tag can empty it
/// then, as no start tag reaches it).
struct DepthGuard<Sink: TreeSink> {
    builder: TreeBuilder<Sink::Handle, Sink>,
    limit: usize,
    /// Start tags that may still be forwarded before counting again.
    uncounted: Cell<usize>,
    /// Whether the builder was full at the last count and no end tag has reached it since.
    full: Cell<bool>,
    /// Start tags dropped whose end tags have not come yet.
    open_dropped: Cell<usize>,
    /// Whether the text now read is a dropped `<script>`'s or `<style>`'s:
    /// code, dropped with its element rather than shown as text.
    in_dropped_code: Cell<bool>,
    /// Start and end tags dropped in all.
    dropped: Cell<usize>,
}

impl<Sink: TreeSink> DepthGuard<Sink>
where
    Sink::Handle: Clone,
{
    fn new(builder: TreeBuilder<Sink::Handle, Sink>, limit: usize) -> Self {
        Self {
            builder,
            limit,
            uncounted: Cell::new(0),
            full: Cell::new(false),
            open_dropped: Cell::new(0),
            in_dropped_code: Cell::new(false),
            dropped: Cell::new(0),
        }
    }

    /// What to do with `tag`: a start tag while the builder is full lies
    /// beyond the bound, and so does an end tag closing such a start tag.
    fn verdict(&self, tag: &Tag) -> Verdict {
        let verdict = match tag.kind {
            TagKind::StartTag if self.is_full() => {
                let code = code_kind(&tag.name);
                if code.is_some() || opens_element(tag) {
                    self.open_dropped.set(self.open_dropped.get() + 1);
                }
                self.in_dropped_code.set(code.is_some());
                code.map_or(Verdict::Drop, Verdict::DropCode)
            }
            TagKind::StartTag => Verdict::Forward,
            TagKind::EndTag => match self.open_dropped.get() {
                0 => {
                    self.full.set(false);
                    Verdict::Forward
                }
                open => {
                    self.open_dropped.set(open - 1);
                    self.in_dropped_code.set(false);
                    Verdict::Drop
                }
            },
        };
        if verdict != Verdict::Forward {
            self.dropped.set(self.dropped.get() + 1);
        }
        verdict
    }

    /// Whether one more start tag could take the builder past the limit.
    fn is_full(&self) -> bool {
        if self.full.get() {
            return true;
        }
        if let Some(left) = self.uncounted.get().checked_sub(1) {
            self.uncounted.set(left);
            return false;
        }
        let held = self.held();
        if held + GROWTH_PER_TAG > self.limit {
            self.full.set(true);
            return true;
        }
        // This tag and `uncounted` more may each add GROWTH_PER_TAG.
        self.uncounted.set((self.limit - held) / GROWTH_PER_TAG - 1);
        false
    }

    /// How many elements the tree builder holds.
    fn held(&self) -> usize {
        let counter = Counter(Cell::new(0), PhantomData);
        self.builder.trace_handles(&counter);
        counter.0.get()
    }
}

impl<Sink: TreeSink> TokenSink for DepthGuard<Sink>
where
    Sink::Handle: Clone,
{
    type Handle = Sink::Handle;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<Self::Handle> {
        match &token {
            Token::TagToken(tag) => match self.verdict(tag) {
                Verdict::Forward => {}
                Verdict::Drop => return TokenSinkResult::Continue,
                // The tokenizer reads the code as code, up to its end tag.
                Verdict::DropCode(kind) => return TokenSinkResult::RawData(kind),
            },
            Token::CharacterTokens(_) | Token::NullCharacterToken if self.in_dropped_code.get() => {
                return TokenSinkResult::Continue;
            }
            _ => {}
        }
        self.builder.process_token(token, line_number)
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// What [`DepthGuard`] does with a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// On to the tree builder.
    Forward,
    /// Dropped; text inside stays.
    Drop,
    /// Dropped with the code it holds, which the tokenizer reads as this kind of raw text.
    DropCode(RawKind),
}

/// The raw-text kind of an element whose content is code, not text.
fn code_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" => Some(RawKind::Rawtext),
        _ => None,
    }
}

/// Counts the handles the tree builder reports.
struct Counter<Handle>(Cell<usize>, PhantomData<Handle>);

impl<Handle> Tracer for Counter<Handle> {
    type Handle = Handle;

    fn trace_handle(&self, _: &Handle) {
        self.0.set(self.0.get() + 1);
    }
}

/// Whether a start tag opens an element that an end tag will close: not a
/// void element, not self-closing.
fn opens_element(tag: &Tag) -> bool {
    !tag.self_closing && !crate::sanitize::is_void_element(&tag.name)
}

/// Cuts the tree to `max` levels below the root: where a node at level `max`
/// has children, every descendant of its parent (at level `max - 1`) becomes
/// a direct child of that parent, in document order. Text keeps its order;
/// the markup below is flattened. One walk over the tree, then one over what moves.
fn flatten_below(html: &mut Html, max: usize) {
    let mut too_deep = Vec::new();
    let mut depth = 0usize;
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                depth += 1;
                // `depth` counts the root as 1: this node is at level `max`.
                if depth == max + 1 && node.has_children() {
                    let parent = node.parent().map(|p| p.id());
                    if too_deep.last().copied() != parent {
                        too_deep.extend(parent);
                    }
                }
            }
            Edge::Close(_) => depth -= 1,
        }
    }
    for ancestor in too_deep {
        let Some(node) = html.tree.get(ancestor) else {
            continue;
        };
        let below: Vec<NodeId> = node.descendants().skip(1).map(|n| n.id()).collect();
        if let Some(mut node) = html.tree.get_mut(ancestor) {
            for id in below {
                node.append_id(id);
            }
        }
    }
}

/// `markup` made safe to hand to a library that parses HTML itself with
/// html5ever (ammonia): as it is when its tree building stays within the
/// bound, else the bounded tree serialised, if that in turn stays within
/// twice the bound; `None` if neither does.
pub(crate) fn shallow_markup(markup: &str) -> Option<Cow<'_, str>> {
    // Each tag can add at most GROWTH_PER_TAG open elements.
    if markup.bytes().filter(|&b| b == b'<').count() < MAX_DEPTH / GROWTH_PER_TAG - 1 {
        return Some(Cow::Borrowed(markup));
    }
    let parsed = parse(markup, Kind::Fragment, MAX_DEPTH);
    if parsed.dropped_tags == 0 {
        return Some(Cow::Borrowed(markup));
    }
    let flat = parsed.html.root_element().inner_html();
    (parse(&flat, Kind::Fragment, 2 * MAX_DEPTH).dropped_tags == 0).then_some(Cow::Owned(flat))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many levels below the root the deepest node lies.
    fn depth(html: &Html) -> usize {
        let (mut depth, mut deepest) = (0usize, 0usize);
        for edge in html.tree.root().traverse() {
            match edge {
                Edge::Open(_) => {
                    deepest = deepest.max(depth);
                    depth += 1;
                }
                Edge::Close(_) => depth -= 1,
            }
        }
        deepest
    }

    fn text(html: &Html) -> String {
        html.root_element().text().collect()
    }

    /// Markup that nests `n` levels deep in different ways, each around the text "core".
    fn hostile(n: usize) -> Vec<(&'static str, String)> {
        vec![
            (
                "divs",
                format!("{}core{}", "<div>".repeat(n), "</div>".repeat(n)),
            ),
            ("unclosed spans", format!("{}core", "<span>".repeat(n))),
            (
                "formatting elements",
                format!(
                    "{}core",
                    (0..n).map(|i| format!("<b id={i}>")).collect::<String>()
                ),
            ),
            // A stray `</p>` inserts and closes a `<p>`: the naive count of start
            // minus end tags stays at zero while the tree grows.
            (
                "stray end tags",
                format!(
                    "{}core",
                    (0..n)
                        .map(|i| format!("<i id={i}></p>"))
                        .collect::<String>()
                ),
            ),
            // Formatting elements closed by `</p>` are re-opened by the text after it.
            (
                "re-opened formatting",
                format!(
                    "{}core",
                    (0..n / 4)
                        .map(|i| format!("<p><b id={i}><u id={i}><s id={i}>x</p>y"))
                        .collect::<String>()
                ),
            ),
            ("tables", format!("{}core", "<table><tr><td>".repeat(n / 3))),
            ("svg", format!("<svg>{}core", "<g>".repeat(n))),
        ]
    }

    #[test]
    fn no_parsed_tree_is_deeper_than_the_bound() {
        for (name, markup) in hostile(20_000) {
            for kind in [Kind::Document, Kind::Fragment] {
                let parsed = parse(&markup, kind, MAX_DEPTH);
                assert!(
                    depth(&parsed.html) <= MAX_DEPTH,
                    "{name} ({kind:?}): {} levels",
                    depth(&parsed.html)
                );
                assert!(parsed.dropped_tags > 0, "{name} ({kind:?}) was cut");
                assert!(
                    text(&parsed.html).contains("core"),
                    "{name} ({kind:?}) keeps its text"
                );
            }
        }
    }

    #[test]
    fn nesting_within_the_bound_is_parsed_as_html5ever_parses_it() {
        let markup = format!(
            "<ul><li><a href=\"/1\">{}One{}</a></li><li><b>Two</b> <i>three</p></li></ul>",
            "<span>".repeat(100),
            "</span>".repeat(100)
        );
        let ours = parse(&markup, Kind::Document, MAX_DEPTH);
        assert_eq!(ours.dropped_tags, 0);
        assert_eq!(
            ours.html.root_element().html(),
            Html::parse_document(&markup).root_element().html()
        );
        let ours = parse_fragment(&markup);
        assert_eq!(
            ours.root_element().html(),
            Html::parse_fragment(&markup).root_element().html()
        );
    }

    #[test]
    fn real_pages_are_parsed_as_html5ever_parses_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut pages = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "html") {
                let bytes = std::fs::read(&path).expect("fixture");
                let text = String::from_utf8_lossy(&bytes);
                let ours = parse(&text, Kind::Document, MAX_DEPTH);
                assert_eq!(ours.dropped_tags, 0, "{}", path.display());
                assert!(
                    ours.html.root_element().html()
                        == Html::parse_document(&text).root_element().html(),
                    "{}",
                    path.display()
                );
                pages += 1;
            }
        }
        assert!(pages >= 5, "{pages} pages");
    }

    #[test]
    fn a_charset_declaration_does_not_stop_the_parse() {
        let html = parse_html(
            "<html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Type\" \
             content=\"text/html; charset=windows-1251\"><script>x()</script></head>\
             <body><p>after</p></body></html>",
        );
        assert_eq!(text(&html), "x()after");
    }

    #[test]
    fn deeper_content_keeps_its_text_in_order_and_the_page_goes_on_after_it() {
        let markup = format!(
            "<div id=a>{}deep <b>bold</b> <script>if (a<b) x('</div>')</script>\
             <style>p {{}}</style>text{}</div><p id=after>after</p>",
            "<div>".repeat(1_000),
            "</div>".repeat(1_000)
        );
        let html = parse_html(&markup);
        assert_eq!(
            text(&html),
            "deep bold textafter",
            "code is dropped, not shown"
        );
        let after = scraper::Selector::parse("body > p#after").expect("selector");
        assert_eq!(
            html.select(&after).count(),
            1,
            "the end tags of dropped elements do not close the elements around them"
        );
    }

    #[test]
    fn a_deep_tree_that_html5ever_builds_is_flattened_in_document_order() {
        let markup = format!("{}a<i>b</i>c", "<b>".repeat(400));
        let mut html = Html::parse_document(&markup);
        assert!(depth(&html) > 400);
        flatten_below(&mut html, 10);
        assert_eq!(depth(&html), 10);
        assert_eq!(text(&html), "abc");
    }

    #[test]
    fn markup_handed_to_ammonia_is_shallow() {
        let few = "<p><b>a</b></p>";
        assert!(matches!(shallow_markup(few), Some(Cow::Borrowed(m)) if m == few));
        let many = "<p><b>a</b></p>".repeat(100);
        assert!(matches!(shallow_markup(&many), Some(Cow::Borrowed(_))));
        for (name, markup) in hostile(5_000) {
            match shallow_markup(&markup) {
                Some(shallow) => {
                    let reparsed = parse(&shallow, Kind::Fragment, 2 * MAX_DEPTH);
                    assert_eq!(reparsed.dropped_tags, 0, "{name}");
                    assert!(text(&reparsed.html).contains("core"), "{name}");
                }
                None => panic!("{name}: nothing shallow"),
            }
        }
    }
}
