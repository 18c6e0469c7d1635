//! Text folding for slugs and the search index: accents off, lower case, ASCII tokens.

use std::collections::BTreeSet;

/// Longest token kept in the index; longer words are cut (a prefix search still finds them).
pub const MAX_TOKEN_LEN: usize = 40;
/// Most tokens one product puts in the index (bounds the write transaction).
pub const MAX_TOKENS: usize = 12;
pub const MAX_SLUG_LEN: usize = 100;

/// "Crème Brûlée" → "creme brulee".
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

/// "Crème Brûlée — 250 g" → "creme-brulee-250-g".
pub fn slugify(text: &str) -> String {
    let folded = fold(text);
    let mut slug = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug.truncate(MAX_SLUG_LEN);
    slug.trim_end_matches('-').to_owned()
}

pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_SLUG_LEN
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The words of `text`, folded: "Blue Mug (XL)" → {"blue", "mug", "xl"}.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    fold(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_TOKEN_LEN).collect::<String>())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The index tokens of a product: the words of its name, its whole SKU and the SKU's parts, at most
/// [`MAX_TOKENS`], name words first.
pub fn tokens(name: &str, sku: Option<&str>) -> BTreeSet<String> {
    let mut ordered: Vec<String> = words(name).collect();
    if let Some(sku) = sku {
        let whole: String = fold(sku)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(MAX_TOKEN_LEN)
            .collect();
        ordered.push(whole);
        ordered.extend(words(sku));
    }
    let mut tokens = BTreeSet::new();
    for token in ordered.into_iter().filter(|t| !t.is_empty()) {
        if tokens.len() == MAX_TOKENS {
            break;
        }
        tokens.insert(token);
    }
    tokens
}

/// Most words of a product's descriptions and localized texts in the index, beside its name and SKU tokens: with
/// them a full rewrite of a product (every listing, name and text) stays near one transaction's 100 items.
pub const MAX_TEXT_TOKENS: usize = 16;
/// Shorter words of descriptions are not indexed: they match too much to help.
const MIN_TEXT_TOKEN_LEN: usize = 3;
/// Words that describe nothing, skipped in descriptions so the token budget goes to words that do.
const STOP_WORDS: &[&str] = &[
    "about", "all", "and", "are", "but", "can", "for", "from", "has", "have", "its", "not", "our", "that", "the",
    "their", "this", "was", "will", "with", "you", "your",
];

/// Index tokens from long texts (descriptions, localized titles and descriptions, in the order given): their first
/// [`MAX_TEXT_TOKENS`] distinct words of at least three characters that are not in `taken` (the name and SKU
/// tokens) nor common words, with HTML tags skipped.
pub fn text_tokens<'a>(texts: impl IntoIterator<Item = &'a str>, taken: &BTreeSet<String>) -> BTreeSet<String> {
    let mut tokens = BTreeSet::new();
    for text in texts {
        for word in words(&without_tags(text)) {
            if tokens.len() == MAX_TEXT_TOKENS {
                return tokens;
            }
            if word.chars().count() >= MIN_TEXT_TOKEN_LEN
                && !STOP_WORDS.contains(&word.as_str())
                && !taken.contains(&word)
            {
                tokens.insert(word);
            }
        }
    }
    tokens
}

/// `<p>Blue&nbsp;<b>mug</b></p>` → ` Blue  mug  `: markup and character references are not content.
fn without_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            '&' => {
                // `&amp;`, `&#233;`: skipped whole when it is one.
                let name = rest.split(';').next().unwrap_or_default();
                if rest.len() > name.len()
                    && (1..=8).contains(&name.len())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '#')
                {
                    rest = &rest[name.len() + 1..];
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Crème BRÛLÉE"), "creme brulee");
        assert_eq!(slugify("Crème Brûlée — 250 g!"), "creme-brulee-250-g");
        assert_eq!(slugify("  --Ünïcödé--  "), "unicode");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn slugs_are_checked() {
        assert!(is_slug("blue-mug-2"));
        for bad in ["", "Blue", "blue_mug", "-blue", "blue-", "blue--mug", &"a".repeat(101)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_cover_name_and_sku() {
        let tokens = tokens("Blue Café Mug", Some("MUG-BL-01"));
        for expected in ["blue", "cafe", "mug", "mugbl01", "bl", "01"] {
            assert!(tokens.contains(expected), "{expected} missing from {tokens:?}");
        }
        let many = super::tokens(
            &"word "
                .repeat(5)
                .chars()
                .chain("a b c d e f g h i j k l m n".chars())
                .collect::<String>(),
            None,
        );
        assert!(many.len() <= MAX_TOKENS);
    }

    #[test]
    fn text_tokens_skip_markup_short_common_and_name_words() {
        let taken = tokens("Blue Mug", None);
        let found = text_tokens(
            [
                "<p>The <strong>blue</strong> mug: stoneware, dishwasher-safe &amp; 350&nbsp;ml.</p>",
                "Tasse en grès",
            ],
            &taken,
        );
        let expected = ["stoneware", "dishwasher", "safe", "350", "tasse", "gres"];
        assert_eq!(found, expected.iter().map(|w| w.to_string()).collect());
    }

    #[test]
    fn text_tokens_are_bounded_and_keep_the_first_words() {
        let long: String = (0..100).map(|i| format!("word{i:03} ")).collect();
        let found = text_tokens([long.as_str()], &BTreeSet::new());
        assert_eq!(found.len(), MAX_TEXT_TOKENS);
        assert!(found.contains("word000") && found.contains("word015") && !found.contains("word016"));
    }
}
