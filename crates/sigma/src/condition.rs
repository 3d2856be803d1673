//! The condition grammar: `and`, `or`, `not`, parentheses, `1 of PATTERN`, `all of PATTERN`,
//! `1 of them` and `all of them`.
//!
//! Precedence from loosest to tightest: `or`, `and`, `not`, `x of`, parentheses. Keywords are
//! case-insensitive. Identifiers are resolved against the rule's search identifiers at parse
//! time, so an unknown identifier or a pattern that matches nothing is a load error and never
//! a condition that is silently false.

use crate::error::ErrorKind;

/// A condition with identifiers resolved to indexes into the rule's search identifiers.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Search(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    And,
    Or,
    Not,
    Open,
    Close,
    OneOf,
    AllOf,
    Them,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '(' || c == ')' {
            chars.next();
            tokens.push(if c == '(' { Token::Open } else { Token::Close });
            continue;
        }
        if c == '|' {
            return Err("aggregation expressions after `|` (such as `| count() by`) are Sigma 1.0 syntax; write a correlation rule instead".into());
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '(' || c == ')' || c == '|' {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let word = &text[start..end];
        let token = match word.to_ascii_lowercase().as_str() {
            "and" => Token::And,
            "or" => Token::Or,
            "not" => Token::Not,
            "them" => Token::Them,
            "of" => return Err("`of` must follow `1`, `any` or `all`".into()),
            "near" => return Err("the `near` operator is not part of Sigma 2; write a temporal correlation rule".into()),
            "1" | "any" | "all" => {
                let quantifier = word.to_ascii_lowercase();
                while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                    chars.next();
                }
                let rest = &text[chars.peek().map_or(text.len(), |(i, _)| *i)..];
                let is_of = rest.len() >= 2
                    && rest[..2].eq_ignore_ascii_case("of")
                    && rest[2..].chars().next().is_none_or(|c| c.is_whitespace() || c == '(');
                if !is_of {
                    if quantifier == "1" {
                        return Err("`1` must be followed by `of`".into());
                    }
                    tokens.push(Token::Ident(word.to_string()));
                    continue;
                }
                chars.next();
                chars.next();
                if quantifier == "all" { Token::AllOf } else { Token::OneOf }
            }
            _ => Token::Ident(word.to_string()),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// Matches a search-identifier pattern where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ni;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Cond::Or(items) })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Cond::And(items) })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing `)`".into()),
                }
            }
            Some(Token::Ident(name)) => match self.names.iter().position(|n| *n == name) {
                Some(index) => Ok(Cond::Search(index)),
                None => Err(format!("`{name}` is not a search identifier of this rule")),
            },
            Some(quantifier @ (Token::OneOf | Token::AllOf)) => {
                let indexes: Vec<usize> = match self.next() {
                    Some(Token::Them) => (0..self.names.len()).filter(|&i| !self.names[i].starts_with('_')).collect(),
                    Some(Token::Ident(pattern)) => {
                        (0..self.names.len()).filter(|&i| glob_match(&pattern, &self.names[i])).collect()
                    }
                    _ => return Err("`of` must be followed by `them` or a search-identifier pattern".into()),
                };
                if indexes.is_empty() {
                    let pattern = match self.tokens.get(self.pos - 1) {
                        Some(Token::Ident(p)) => p.clone(),
                        _ => "them".into(),
                    };
                    return Err(format!("`{pattern}` matches no search identifier of this rule"));
                }
                let items: Vec<Cond> = indexes.into_iter().map(Cond::Search).collect();
                Ok(if items.len() == 1 {
                    items.into_iter().next().expect("one item")
                } else if quantifier == Token::AllOf {
                    Cond::And(items)
                } else {
                    Cond::Or(items)
                })
            }
            Some(other) => Err(format!("unexpected `{}`", token_text(&other))),
            None => Err("the condition ends too early".into()),
        }
    }
}

fn token_text(token: &Token) -> &str {
    match token {
        Token::Ident(s) => s,
        Token::And => "and",
        Token::Or => "or",
        Token::Not => "not",
        Token::Open => "(",
        Token::Close => ")",
        Token::OneOf => "1 of",
        Token::AllOf => "all of",
        Token::Them => "them",
    }
}

/// Parses `condition` against the search identifiers `names`.
pub fn parse_condition(condition: &str, names: &[String]) -> Result<Cond, ErrorKind> {
    let error = |reason: String| ErrorKind::Condition { condition: condition.to_string(), reason };
    let tokens = tokenize(condition).map_err(|reason| {
        if reason.contains("Sigma 1.0") || reason.contains("near") {
            ErrorKind::Unsupported(format!("condition `{condition}`: {reason}"))
        } else {
            error(reason)
        }
    })?;
    let mut parser = Parser { tokens, pos: 0, names };
    let cond = parser.or().map_err(error)?;
    if let Some(token) = parser.peek() {
        return Err(error(format!("unexpected `{}`", token_text(token))));
    }
    Ok(cond)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let n = names(&["a", "b", "c"]);
        let cond = parse_condition("a or b and not c", &n).unwrap();
        assert_eq!(
            cond,
            Cond::Or(vec![Cond::Search(0), Cond::And(vec![Cond::Search(1), Cond::Not(Box::new(Cond::Search(2)))])])
        );
    }

    #[test]
    fn quantifiers_expand() {
        let n = names(&["selection_a", "selection_b", "filter", "_hidden"]);
        assert_eq!(parse_condition("1 of selection_*", &n).unwrap(), Cond::Or(vec![Cond::Search(0), Cond::Search(1)]));
        assert_eq!(
            parse_condition("all of them", &n).unwrap(),
            Cond::And(vec![Cond::Search(0), Cond::Search(1), Cond::Search(2)])
        );
        assert_eq!(
            parse_condition("1 of selection* and not 1 of filter*", &n).unwrap(),
            Cond::And(vec![Cond::Or(vec![Cond::Search(0), Cond::Search(1)]), Cond::Not(Box::new(Cond::Search(2)))])
        );
    }

    #[test]
    fn errors_are_reported() {
        let n = names(&["a"]);
        assert!(parse_condition("1 of nosuch*", &n).is_err());
        assert!(parse_condition("b", &n).is_err());
        assert!(parse_condition("(a", &n).is_err());
        assert!(matches!(parse_condition("a | count() > 5", &n), Err(ErrorKind::Unsupported(_))));
    }

    #[test]
    fn glob_in_the_middle() {
        assert!(glob_match("sel*main", "sel_a_main"));
        assert!(glob_match("sel*main", "selmain"));
        assert!(!glob_match("sel*main", "sel_a_main_x"));
    }
}
