//! The Markdown-level policy, applied to pulldown-cmark's events before they are
//! written as HTML: raw HTML becomes text, pictures must be attachments, links must
//! have an allowed destination, headings lose ids, table alignment leaves `style`, and
//! the nesting and picture limits are enforced. The text for the excerpt is collected
//! on the way.

use std::collections::{HashSet, VecDeque};

use pulldown_cmark::{Alignment, CodeBlockKind, CowStr, Event, LinkType, Tag, TagEnd};

use crate::excerpt::Excerpt;
use crate::{Limits, MarkupError, sanitize, urls};

/// Wraps pulldown-cmark's event stream; iterating it yields the events to render. On a
/// broken limit it stops early and keeps the error, which the caller must then check
/// with [`Rewriter::finish`].
pub(crate) struct Rewriter<'a, I> {
    events: I,
    limits: Limits,
    /// Events made from one input event that are still to be yielded.
    queued: VecDeque<Event<'a>>,
    /// Tags open now (pictures, whose content is read at once, excepted).
    depth: usize,
    /// For each link open now, whether it was kept (else its end is dropped too).
    links: Vec<bool>,
    /// The alignment of each column of the table open now.
    alignments: Vec<Alignment>,
    in_table_head: bool,
    cell: usize,
    /// The text of the raw HTML block being read, which becomes a paragraph.
    html_block: Option<String>,
    images: usize,
    image_refs: Vec<String>,
    seen_refs: HashSet<String>,
    excerpt: Excerpt,
    error: Option<MarkupError>,
}

/// What the rewriter gathered besides the events.
pub(crate) struct Gathered {
    pub(crate) image_refs: Vec<String>,
    pub(crate) excerpt: String,
}

impl<'a, I: Iterator<Item = Event<'a>>> Rewriter<'a, I> {
    pub(crate) fn new(events: I, limits: &Limits) -> Self {
        Self {
            events,
            limits: *limits,
            queued: VecDeque::new(),
            depth: 0,
            links: Vec::new(),
            alignments: Vec::new(),
            in_table_head: false,
            cell: 0,
            html_block: None,
            images: 0,
            image_refs: Vec::new(),
            seen_refs: HashSet::new(),
            excerpt: Excerpt::default(),
            error: None,
        }
    }

    /// The attachments and excerpt, or the limit that stopped the rendering.
    pub(crate) fn finish(self) -> Result<Gathered, MarkupError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(Gathered {
                image_refs: self.image_refs,
                excerpt: self.excerpt.finish(),
            }),
        }
    }

    /// Turns one input event into zero or more output events (queued).
    fn rewrite(&mut self, event: Event<'a>) -> Result<(), MarkupError> {
        match event {
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => self.image(&dest_url, title)?,
            Event::Start(tag) => {
                self.depth += 1;
                if self.depth > self.limits.max_depth {
                    return Err(MarkupError::TooDeep {
                        max: self.limits.max_depth,
                    });
                }
                self.start(tag);
            }
            Event::End(tag) => {
                self.depth = self.depth.saturating_sub(1);
                self.end(tag);
            }
            Event::Html(html) | Event::InlineHtml(html) => match &mut self.html_block {
                Some(block) => block.push_str(&html),
                None => self.text(html),
            },
            Event::Text(text) => self.text(text),
            Event::Code(code) => {
                self.excerpt.push(&code);
                self.queued.push_back(Event::Code(code));
            }
            // Extensions this crate does not enable (math, footnotes); should they ever
            // appear, they are shown as plain text.
            Event::InlineMath(text) | Event::DisplayMath(text) => self.text(text),
            Event::FootnoteReference(name) => self.text(format!("[^{name}]").into()),
            Event::SoftBreak | Event::HardBreak | Event::Rule => {
                self.excerpt.gap();
                self.queued.push_back(event);
            }
            Event::TaskListMarker(_) => self.queued.push_back(event),
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'a>) {
        if !matches!(
            tag,
            Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. }
        ) {
            // A block (or cell) begins: in the excerpt, a space, as a browser shows it.
            self.excerpt.gap();
        }
        let tag = match tag {
            // Raw HTML is shown as the text it is, as a paragraph of its own.
            Tag::HtmlBlock => {
                self.html_block = Some(String::new());
                return;
            }
            Tag::Heading { level, .. } => Tag::Heading {
                level,
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            },
            Tag::BlockQuote(_) => Tag::BlockQuote(None),
            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => {
                let language = info
                    .split_whitespace()
                    .next()
                    .filter(|name| sanitize::is_code_language(name))
                    .unwrap_or_default();
                Tag::CodeBlock(CodeBlockKind::Fenced(language.to_owned().into()))
            }
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            } => {
                let dest = match link_type {
                    LinkType::Email => urls::link_href(&format!("mailto:{dest_url}")),
                    _ => urls::link_href(&dest_url),
                };
                self.links.push(dest.is_some());
                let Some(dest) = dest else { return };
                Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: dest.into(),
                    title,
                    id,
                }
            }
            // The alignment would be written as a `style` attribute, which articles may
            // not have; the cells are written here with `align` instead.
            Tag::Table(alignments) => {
                self.alignments = alignments;
                Tag::Table(Vec::new())
            }
            Tag::TableHead => {
                self.in_table_head = true;
                self.cell = 0;
                Tag::TableHead
            }
            Tag::TableRow => {
                self.cell = 0;
                Tag::TableRow
            }
            Tag::TableCell => {
                let element = if self.in_table_head { "th" } else { "td" };
                let align = match self.alignments.get(self.cell) {
                    Some(Alignment::Left) => " align=\"left\"",
                    Some(Alignment::Center) => " align=\"center\"",
                    Some(Alignment::Right) => " align=\"right\"",
                    Some(Alignment::None) | None => "",
                };
                self.queued
                    .push_back(Event::Html(format!("<{element}{align}>").into()));
                return;
            }
            tag => tag,
        };
        self.queued.push_back(Event::Start(tag));
    }

    fn end(&mut self, tag: TagEnd) {
        // A link whose destination was refused was never opened.
        if tag == TagEnd::Link && self.links.pop() != Some(true) {
            return;
        }
        match tag {
            TagEnd::HtmlBlock => {
                if let Some(block) = self.html_block.take() {
                    self.queued.push_back(Event::Start(Tag::Paragraph));
                    self.text(block.trim_end().to_owned().into());
                    self.queued.push_back(Event::End(TagEnd::Paragraph));
                }
                self.excerpt.gap();
                return;
            }
            TagEnd::TableHead => self.in_table_head = false,
            TagEnd::TableCell => {
                let element = if self.in_table_head { "th" } else { "td" };
                self.queued
                    .push_back(Event::Html(format!("</{element}>").into()));
                self.cell += 1;
                self.excerpt.gap();
                return;
            }
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::TableRow => self.excerpt.gap(),
            _ => {}
        }
        self.queued.push_back(Event::End(tag));
    }

    fn text(&mut self, text: CowStr<'a>) {
        self.excerpt.push(&text);
        self.queued.push_back(Event::Text(text));
    }

    /// A picture: its description is read now, as plain text (what `alt` can hold). An
    /// attachment becomes an `img` of the attachment's path; anything else is dropped
    /// and its description stays as text.
    fn image(&mut self, dest: &str, title: CowStr<'a>) -> Result<(), MarkupError> {
        let alt = self.image_description();
        let Some(id) = urls::attachment_id(dest) else {
            if !alt.is_empty() {
                self.text(alt.into());
            }
            return Ok(());
        };
        self.images += 1;
        if self.images > self.limits.max_images {
            return Err(MarkupError::TooManyImages {
                max: self.limits.max_images,
            });
        }
        if self.seen_refs.insert(id.to_owned()) {
            self.image_refs.push(id.to_owned());
        }
        self.queued.extend([
            Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url: format!("{}{id}", urls::ATTACHMENT_PATH).into(),
                title,
                id: CowStr::Borrowed(""),
            }),
            Event::Text(alt.into()),
            Event::End(TagEnd::Image),
        ]);
        Ok(())
    }

    /// Reads the events up to the picture's end and returns their text. A description
    /// may itself hold pictures and links; only their text is kept, as CommonMark's
    /// own HTML writer does.
    fn image_description(&mut self) -> String {
        let mut alt = String::new();
        let mut nested = 0usize;
        for event in self.events.by_ref() {
            match event {
                Event::Start(_) => nested += 1,
                Event::End(_) if nested == 0 => break,
                Event::End(_) => nested -= 1,
                Event::Text(text)
                | Event::Code(text)
                | Event::InlineHtml(text)
                | Event::Html(text)
                | Event::InlineMath(text)
                | Event::DisplayMath(text) => alt.push_str(&text),
                Event::SoftBreak | Event::HardBreak => alt.push(' '),
                Event::FootnoteReference(_) | Event::Rule | Event::TaskListMarker(_) => {}
            }
        }
        alt
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Rewriter<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if self.error.is_some() {
                return None;
            }
            if let Some(event) = self.queued.pop_front() {
                return Some(event);
            }
            let event = self.events.next()?;
            if let Err(error) = self.rewrite(event) {
                self.error = Some(error);
            }
        }
    }
}
