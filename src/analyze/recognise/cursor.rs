//! A cursor over a statement's tokens, for the recogniser's hand-written parsers.

use super::*;

pub(super) struct Cursor<'a> {
    pub(super) t: &'a [TokenWithSpan],
    pub(super) i: usize,
    pub(super) dialect: Dialect,
}

pub(super) fn is_word(token: &Token, k: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

pub(super) fn string_value(token: &Token) -> Option<String> {
    match token {
        Token::DollarQuotedString(s) => Some(s.value.clone()),
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::DoubleQuotedString(s) => Some(s.clone()),
        _ => None,
    }
}

impl Cursor<'_> {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.t
            .get(self.i)
            .map(|t| &t.token)
            .filter(|t| !matches!(t, Token::SemiColon | Token::EOF))
    }

    pub(super) fn is_kw(&self, k: &str) -> bool {
        self.peek().is_some_and(|t| is_word(t, k))
    }

    pub(super) fn kw(&mut self, k: &str) -> bool {
        if self.is_kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the whole keyword sequence or nothing.
    pub(super) fn kws(&mut self, ks: &[&str]) -> bool {
        let save = self.i;
        for k in ks {
            if !self.kw(k) {
                self.i = save;
                return false;
            }
        }
        true
    }

    pub(super) fn punct(&mut self, p: &Token) -> bool {
        if self.peek() == Some(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn any_word(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let v = w.value.clone();
                self.i += 1;
                Some(v)
            }
            _ => None,
        }
    }

    pub(super) fn ident(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::Word(Word {
                value, quote_style, ..
            })) => {
                let v = names::fold(value, quote_style.is_some(), self.dialect);
                self.i += 1;
                Some(v)
            }
            _ => None,
        }
    }

    pub(super) fn name(&mut self) -> Option<QName> {
        let mut parts = vec![self.ident()?];
        while self.punct(&Token::Period) {
            parts.push(self.ident()?);
        }
        Some(names::qname(&parts, self.dialect))
    }

    /// A string literal or an identifier, as a plain value (enum labels).
    pub(super) fn label(&mut self) -> Option<String> {
        let v = string_value(self.peek()?)?;
        self.i += 1;
        Some(v)
    }

    pub(super) fn skip_parens(&mut self) {
        if self.peek() != Some(&Token::LParen) {
            return;
        }
        let mut depth = 0;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            self.i += 1;
            if depth == 0 {
                break;
            }
        }
    }

    /// A PostgreSQL option list, `(NAME [value], ...)`, when one comes next: each option's
    /// name (uppercase) and whether it is on. No value, `TRUE`, `ON`, `1` and `YES` are on;
    /// `FALSE`, `OFF`, `0` and `NO` are off; any other value (`PARALLEL 4`) counts as on.
    pub(super) fn options(&mut self) -> Vec<(String, bool)> {
        if self.peek() != Some(&Token::LParen) {
            return Vec::new();
        }
        self.i += 1;
        let mut options = Vec::new();
        let mut current: Option<(String, bool)> = None;
        while let Some(t) = self.peek().cloned() {
            self.i += 1;
            match t {
                Token::RParen => break,
                Token::Comma => options.extend(current.take()),
                Token::Word(w) if current.is_none() => {
                    current = Some((w.value.to_ascii_uppercase(), true));
                }
                other => {
                    if let Some((_, on)) = current.as_mut() {
                        let value = match &other {
                            Token::Word(w) => w.value.to_ascii_uppercase(),
                            Token::Number(n, _) => n.clone(),
                            _ => String::new(),
                        };
                        *on = !matches!(value.as_str(), "FALSE" | "OFF" | "0" | "NO");
                    }
                }
            }
        }
        options.extend(current);
        options
    }

    pub(super) fn rest_text(&self) -> String {
        self.t[self.i.min(self.t.len())..]
            .iter()
            .take_while(|t| !matches!(t.token, Token::SemiColon | Token::EOF))
            .map(|t| t.token.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(super) fn rest_has_word_at_depth0(&self, words: &[&str]) -> bool {
        let mut depth = 0;
        for t in &self.t[self.i.min(self.t.len())..] {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                tok if depth == 0 && words.iter().any(|w| is_word(tok, w)) => return true,
                _ => {}
            }
        }
        false
    }
}
