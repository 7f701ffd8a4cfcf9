//! Why an article could not be rendered. Each message is written for the author, who
//! can fix the article; none of them says anything about the server.

/// An article refused by one of the [`Limits`](crate::Limits). Nothing else can fail:
/// any text is valid Markdown, and unsafe parts are dropped, not refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkupError {
    /// The Markdown is longer than `max` bytes; refused before any parsing.
    #[error("the article is too long: at most {max} bytes of Markdown are allowed")]
    TooLong {
        /// The limit that was exceeded, in bytes.
        max: usize,
    },
    /// The article shows more than `max` pictures.
    #[error("the article has too many pictures: at most {max} are allowed")]
    TooManyImages {
        /// The limit that was exceeded, in pictures.
        max: usize,
    },
    /// Quotes, lists or other blocks are nested more than `max` levels deep.
    #[error(
        "the article nests quotes, lists or emphasis too deeply: at most {max} levels are allowed"
    )]
    TooDeep {
        /// The limit that was exceeded, in levels.
        max: usize,
    },
}
