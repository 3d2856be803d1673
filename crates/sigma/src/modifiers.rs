//! Value modifiers, wildcards and backslash escaping.
//!
//! A rule value goes through three steps, in this order:
//! 1. placeholders (`|expand`) are replaced by their values;
//! 2. the Sigma escaping rules turn the text into pieces: literal text, `*`, `?`;
//! 3. the transformation modifiers (`windash`, `base64`, `base64offset`, `utf16*`) run in the
//!    order written, and `contains`, `startswith` and `endswith` add `*` at the ends.
//!
//! Escaping runs before the modifiers, so `startswith: 'C:\Windows\'` keeps its trailing
//! backslash as a literal instead of turning the added `*` into a literal asterisk.

use base64::Engine as _;

use crate::error::ErrorKind;

/// One modifier from a `field|modifier` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    /// UTF-16 little endian with a byte order mark.
    Utf16,
    Windash,
    Re,
    /// `re` sub-modifier `i`: case-insensitive.
    ReI,
    /// `re` sub-modifier `m`: `^` and `$` match at line boundaries.
    ReM,
    /// `re` sub-modifier `s`: `.` matches newlines.
    ReS,
    Cidr,
    Exists,
    FieldRef,
    Gt,
    Gte,
    Lt,
    Lte,
    Neq,
    Cased,
    Expand,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// Parses the modifier names of a field key. Unknown names are an error, as the
/// specification requires, so a rule never silently loses part of its meaning.
pub fn parse_modifiers(names: &[&str]) -> Result<Vec<Modifier>, ErrorKind> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let modifier = match name.trim() {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" => Modifier::ReI,
            "m" => Modifier::ReM,
            "s" => Modifier::ReS,
            "cidr" => Modifier::Cidr,
            "exists" => Modifier::Exists,
            "fieldref" => Modifier::FieldRef,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "neq" => Modifier::Neq,
            "cased" => Modifier::Cased,
            "expand" => Modifier::Expand,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            other => return Err(ErrorKind::UnknownModifier(other.to_string())),
        };
        if matches!(modifier, Modifier::ReI | Modifier::ReM | Modifier::ReS) && !out.contains(&Modifier::Re) {
            return Err(ErrorKind::Invalid {
                key: name.to_string(),
                reason: "the regular expression flags i, m and s must follow `re`".into(),
            });
        }
        out.push(modifier);
    }
    Ok(out)
}

/// The characters `windash` treats as interchangeable flag prefixes: hyphen-minus, slash,
/// en dash (U+2013), em dash (U+2014) and horizontal bar (U+2015).
pub const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One element of a parsed Sigma string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    Lit(String),
    /// `*`: any number of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
    /// A `windash` position: any one of [`DASHES`].
    Dash,
}

/// A parsed Sigma string: literal pieces and wildcards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pattern(pub Vec<Piece>);

impl Pattern {
    /// Parses rule text with Sigma's escaping rules. `\*`, `\?` and `\\` stand for the
    /// character after the backslash, and any other backslash, including a trailing one, is a
    /// literal backslash. So `\\*` is a backslash and a wildcard, and `\\\\` is two backslashes.
    pub fn parse(text: &str) -> Pattern {
        let mut pattern = Pattern::default();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        pattern.push_char(next);
                    }
                    _ => pattern.push_char('\\'),
                },
                '*' => pattern.push(Piece::Star),
                '?' => pattern.push(Piece::One),
                other => pattern.push_char(other),
            }
        }
        pattern
    }

    /// Builds a pattern that matches `text` literally.
    pub fn literal(text: &str) -> Pattern {
        let mut pattern = Pattern::default();
        if !text.is_empty() {
            pattern.0.push(Piece::Lit(text.to_string()));
        }
        pattern
    }

    fn push_char(&mut self, c: char) {
        if let Some(Piece::Lit(s)) = self.0.last_mut() {
            s.push(c);
        } else {
            self.0.push(Piece::Lit(c.to_string()));
        }
    }

    fn push(&mut self, piece: Piece) {
        match (&piece, self.0.last_mut()) {
            (Piece::Star, Some(Piece::Star)) => {}
            (Piece::Lit(text), Some(Piece::Lit(last))) => last.push_str(text),
            _ => self.0.push(piece),
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.0.iter().any(|p| !matches!(p, Piece::Lit(_)))
    }

    /// Returns the text when the pattern is a plain literal.
    pub fn as_literal(&self) -> Option<&str> {
        match self.0.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    fn with_star_before(mut self) -> Pattern {
        if self.0.first() != Some(&Piece::Star) {
            self.0.insert(0, Piece::Star);
        }
        self
    }

    fn with_star_after(mut self) -> Pattern {
        self.push(Piece::Star);
        self
    }

    /// Replaces every dash character in literal pieces with a [`Piece::Dash`] position.
    fn windash(self) -> Pattern {
        let mut out = Pattern::default();
        for piece in self.0 {
            match piece {
                Piece::Lit(text) => {
                    for c in text.chars() {
                        if DASHES.contains(&c) {
                            out.push(Piece::Dash);
                        } else {
                            out.push_char(c);
                        }
                    }
                }
                other => out.push(other),
            }
        }
        out
    }
}

/// A value during transformation: a pattern, or bytes produced by a UTF-16 encoding.
enum Stage {
    Pattern(Pattern),
    Bytes(Vec<u8>),
}

impl Stage {
    fn into_bytes(self, modifier: &str) -> Result<Vec<u8>, ErrorKind> {
        match self {
            Stage::Bytes(bytes) => Ok(bytes),
            Stage::Pattern(pattern) => match pattern.as_literal() {
                Some(text) => Ok(text.as_bytes().to_vec()),
                None => Err(ErrorKind::Unsupported(format!("`{modifier}` on a value with wildcards or windash positions"))),
            },
        }
    }

    fn into_pattern(self) -> Result<Pattern, ErrorKind> {
        match self {
            Stage::Pattern(pattern) => Ok(pattern),
            Stage::Bytes(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(Pattern::literal(&text)),
                Err(_) => Err(ErrorKind::Unsupported(
                    "a UTF-16 encoded value that is not valid UTF-8 text; add `base64` or `base64offset` after it".into(),
                )),
            },
        }
    }
}

fn utf16(text: &[u8], little_endian: bool, bom: bool) -> Result<Vec<u8>, ErrorKind> {
    let text = std::str::from_utf8(text).map_err(|_| ErrorKind::Unsupported("UTF-16 encoding of non-UTF-8 bytes".into()))?;
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if bom {
        out.extend_from_slice(if little_endian { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
    }
    for unit in text.encode_utf16() {
        let bytes = if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() };
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Returns the three base64 forms of `bytes` at each offset modulo 3 inside a longer
/// encoded text, with the leading and trailing characters that depend on neighbouring
/// bytes removed.
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::with_capacity(3);
    for shift in 0..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(bytes);
        let encoded = engine.encode(&shifted);
        let start = [0, 2, 3][shift];
        let end_trim = [0, 3, 2][(bytes.len() + shift) % 3];
        let end = encoded.len().saturating_sub(end_trim);
        if start < end {
            out.push(encoded[start..end].to_string());
        }
    }
    out
}

/// Applies the transformation and match-type modifiers of `modifiers` to one value text and
/// returns its alternatives (more than one for `base64offset`), each ORed.
pub fn build_patterns(text: &str, modifiers: &[Modifier]) -> Result<Vec<Pattern>, ErrorKind> {
    let mut stages = vec![Stage::Pattern(Pattern::parse(text))];
    for modifier in modifiers {
        stages = match modifier {
            Modifier::Windash => stages
                .into_iter()
                .map(|s| s.into_pattern().map(|p| Stage::Pattern(p.windash())))
                .collect::<Result<_, _>>()?,
            Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 => stages
                .into_iter()
                .map(|s| {
                    let bytes = s.into_bytes("utf16")?;
                    let little = !matches!(modifier, Modifier::Utf16Be);
                    utf16(&bytes, little, matches!(modifier, Modifier::Utf16)).map(Stage::Bytes)
                })
                .collect::<Result<_, _>>()?,
            Modifier::Base64 => stages
                .into_iter()
                .map(|s| {
                    let bytes = s.into_bytes("base64")?;
                    Ok(Stage::Pattern(Pattern::literal(&base64::engine::general_purpose::STANDARD.encode(bytes))))
                })
                .collect::<Result<_, ErrorKind>>()?,
            Modifier::Base64Offset => {
                let mut out = Vec::new();
                for stage in stages {
                    let bytes = stage.into_bytes("base64offset")?;
                    out.extend(base64_offsets(&bytes).iter().map(|s| Stage::Pattern(Pattern::literal(s))));
                }
                out
            }
            _ => stages,
        };
    }
    let contains = modifiers.contains(&Modifier::Contains);
    let starts = contains || modifiers.contains(&Modifier::EndsWith);
    let ends = contains || modifiers.contains(&Modifier::StartsWith);
    stages
        .into_iter()
        .map(|stage| {
            let mut pattern = stage.into_pattern()?;
            if starts {
                pattern = pattern.with_star_before();
            }
            if ends {
                pattern = pattern.with_star_after();
            }
            Ok(pattern)
        })
        .collect()
}

/// Replaces `%name%` placeholders in `text` with each of their values (the cartesian product
/// when there are several) and turns `\%` into a plain `%`. Returns `Err(name)` for the first
/// placeholder without values.
pub fn expand_placeholders(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("\\%") {
            results.iter_mut().for_each(|r| r.push('%'));
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix('%')
            && let Some(end) = after.find('%')
        {
            let name = &after[..end];
            let values = lookup(name).filter(|v| !v.is_empty()).ok_or_else(|| name.to_string())?;
            results = results.iter().flat_map(|prefix| values.iter().map(move |v| format!("{prefix}{v}"))).collect();
            rest = &after[end + 1..];
            continue;
        }
        let c = rest.chars().next().expect("rest is not empty");
        results.iter_mut().for_each(|r| r.push(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Lit(s.to_string())
    }

    #[test]
    fn escaping_follows_the_specification() {
        assert_eq!(Pattern::parse(r"C:\Windows\").0, vec![lit(r"C:\Windows\")]);
        assert_eq!(Pattern::parse(r"a\*b").0, vec![lit("a*b")]);
        assert_eq!(Pattern::parse(r"a\?b").0, vec![lit("a?b")]);
        assert_eq!(Pattern::parse(r"a\\*").0, vec![lit(r"a\"), Piece::Star]);
        assert_eq!(Pattern::parse(r"a\\\*").0, vec![lit(r"a\*")]);
        assert_eq!(Pattern::parse(r"\\\\.\pipe\").0, vec![lit(r"\\.\pipe\")]);
        assert_eq!(Pattern::parse(r"\\\x").0, vec![lit(r"\\x")]);
        assert_eq!(Pattern::parse(r"a*?b").0, vec![lit("a"), Piece::Star, Piece::One, lit("b")]);
    }

    #[test]
    fn startswith_keeps_trailing_backslash() {
        let patterns = build_patterns(r"C:\Windows\", &[Modifier::StartsWith]).unwrap();
        assert_eq!(patterns[0].0, vec![lit(r"C:\Windows\"), Piece::Star]);
    }

    #[test]
    fn base64offset_matches_spec_example() {
        // Sigma's own documentation example: "/bin/bash" at the three alignments.
        let variants = base64_offsets(b"/bin/bash");
        assert_eq!(variants, vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(utf16(b"cmd", true, false).unwrap(), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
        assert_eq!(utf16(b"cmd", false, false).unwrap(), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
        assert_eq!(utf16(b"cmd", true, true).unwrap()[..2], [0xFF, 0xFE]);
    }

    #[test]
    fn wide_base64offset_chain() {
        let patterns = build_patterns("ping", &[Modifier::Utf16Le, Modifier::Base64Offset, Modifier::Contains]).unwrap();
        assert_eq!(patterns.len(), 3);
        assert!(patterns.iter().all(|p| p.0.first() == Some(&Piece::Star)));
    }

    #[test]
    fn windash_marks_every_dash() {
        let patterns = build_patterns(" -a /b ", &[Modifier::Windash]).unwrap();
        assert_eq!(patterns[0].0, vec![lit(" "), Piece::Dash, lit("a "), Piece::Dash, lit("b ")]);
    }

    #[test]
    fn placeholders_expand() {
        let lookup = |name: &str| (name == "Admins").then(|| vec!["adm_*".to_string(), "root".to_string()]);
        assert_eq!(expand_placeholders("%Admins%", &lookup).unwrap(), vec!["adm_*", "root"]);
        assert_eq!(expand_placeholders(r"\%plain%Admins%", &lookup).unwrap(), vec!["%plainadm_*", "%plainroot"]);
        assert_eq!(expand_placeholders("%Nope%", &lookup), Err("Nope".to_string()));
    }

    #[test]
    fn unknown_modifier_rejected() {
        assert_eq!(parse_modifiers(&["contians"]), Err(ErrorKind::UnknownModifier("contians".into())));
        assert!(parse_modifiers(&["i"]).is_err());
    }
}
