//! A small evaluator of a restricted subset of the 1C:Enterprise language (BSL), enough to run the functions of
//! `ТБ_ТелефонияДоставкаКлиентСервер` as written and compare them with their Rust originals
//! (`tests/delivery_agreement.rs`). 1C cannot run here and no BSL interpreter is available, so this is the honest
//! second best: the module file is parsed as it stands, and anything outside the subset is refused with an error
//! naming the line, never skipped or guessed.
//!
//! The subset:
//! - `Функция`/`Процедура` with plain parameters (`Знач` allowed; default values refused), `Экспорт`;
//!   `#Область`/`#КонецОбласти` lines and `//` comments; nothing else starting with `#` or `&`;
//! - statements: `Возврат [выражение]`, `Если … Тогда … ИначеЕсли … Иначе … КонецЕсли`,
//!   `Для Каждого Имя Из выражение Цикл … КонецЦикла`, `Пока … Цикл … КонецЦикла`, `Имя = выражение` (never to a
//!   parameter: BSL passes those by reference, which this evaluator does not model), a call of a module method or
//!   of a Соответствие's `Вставить`/`Удалить`;
//! - expressions: numbers, strings (`""` inside), `Истина`, `Ложь`, `Неопределено`, `Новый Соответствие`,
//!   variables, `+ - * /`, unary minus, `= <> < > <= >=`, `И`, `ИЛИ`, `НЕ` (short-circuit, as 1C evaluates them),
//!   calls of module functions, `Мин`, `Макс`, `Цел`, `Соответствие.Получить`/`Количество`, and `.Ключ`/`.Значение`
//!   of an element met in `Для Каждого`.
//!
//! Semantics kept as 1C has them where the functions depend on them: names and keywords are case-insensitive,
//! strings compare case-sensitively, `=` of values of different types is `Ложь` (ordering them is an error), a
//! `Соответствие` key is found by value, `Получить` of a missing key gives `Неопределено`, a Функция without
//! `Возврат` gives `Неопределено`. Numbers are `f64` here, 1C's are decimal: every result is checked to be finite and
//! within ±2^53, where the two agree on whole numbers. A `Соответствие` is walked in reverse insertion order — 1C
//! promises no order, and code that relied on one would show here as a disagreement. Loops stop after a step limit.
#![allow(dead_code)] // each test file uses a part of this module

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A value of the subset.
#[derive(Debug, Clone)]
pub enum Value {
    Num(f64),
    Str(String),
    Bool(bool),
    Undef,
    Map(Rc<RefCell<Vec<(Value, Value)>>>),
    /// An element of a Соответствие met in `Для Каждого` (КлючИЗначение).
    Pair(Box<Value>, Box<Value>),
}

impl Value {
    pub fn new_map() -> Value {
        Value::Map(Rc::new(RefCell::new(Vec::new())))
    }

    pub fn str(s: &str) -> Value {
        Value::Str(s.to_string())
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Num(_) => "Число",
            Value::Str(_) => "Строка",
            Value::Bool(_) => "Булево",
            Value::Undef => "Неопределено",
            Value::Map(_) => "Соответствие",
            Value::Pair(..) => "КлючИЗначение",
        }
    }

    pub fn as_bool(&self) -> Result<bool, String> {
        match self {
            Value::Bool(b) => Ok(*b),
            other => Err(format!("Булево expected, got {}", other.type_name())),
        }
    }

    pub fn as_num(&self) -> Result<f64, String> {
        match self {
            Value::Num(n) => Ok(*n),
            other => Err(format!("Число expected, got {}", other.type_name())),
        }
    }

    pub fn map_len(&self) -> Result<usize, String> {
        match self {
            Value::Map(m) => Ok(m.borrow().len()),
            other => Err(format!("Соответствие expected, got {}", other.type_name())),
        }
    }
}

/// `=` of 1C for the subset: values of different types are not equal; maps are equal when they are the same map.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Undef, Value::Undef) => true,
        (Value::Map(x), Value::Map(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

const PUNCTS: [&str; 14] = [
    "<>", "<=", ">=", "(", ")", ",", ";", ".", "=", "<", ">", "+", "-", "*",
];

fn lex(src: &str) -> Result<Vec<Token>, String> {
    let src = src.trim_start_matches('\u{feff}');
    let mut out = Vec::new();
    for (index, raw) in src.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim_start();
        if let Some(directive) = trimmed.strip_prefix('#') {
            let word = directive
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_lowercase();
            if word == "область" || word == "конецобласти" {
                continue;
            }
            return Err(format!(
                "line {line}: preprocessor #{word} is outside the subset"
            ));
        }
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            } else if c == '"' {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("line {line}: a string runs past the line (multi-line strings are outside the subset)")),
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            s.push('"');
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line,
                });
            } else if c.is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n: f64 = text
                    .parse()
                    .map_err(|_| format!("line {line}: bad number {text}"))?;
                out.push(Token {
                    tok: Tok::Num(n),
                    line,
                });
            } else if c.is_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(chars[start..i].iter().collect()),
                    line,
                });
            } else if c == '/' {
                out.push(Token {
                    tok: Tok::Punct("/"),
                    line,
                });
                i += 1;
            } else {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
                    return Err(format!(
                        "line {line}: character «{c}» is outside the subset"
                    ));
                };
                out.push(Token {
                    tok: Tok::Punct(p),
                    line,
                });
                i += p.chars().count();
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------------------
// Syntax

#[derive(Debug, Clone)]
enum Expr {
    Lit(Value),
    NewMap,
    Var(String, usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>, usize),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>, usize),
    MethodCall(Box<Expr>, String, Vec<Expr>, usize),
    Prop(Box<Expr>, String, usize),
}

#[derive(Debug, Clone)]
enum Stmt {
    Return(Option<Expr>),
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
    ForEach(String, Expr, Vec<Stmt>),
    While(Expr, Vec<Stmt>),
    Assign(String, Expr, usize),
    Call(Expr),
}

#[derive(Debug, Clone)]
struct Method {
    name: String,
    is_function: bool,
    params: Vec<String>,
    body: Vec<Stmt>,
}

/// A parsed module: its methods by name (case-insensitive).
#[derive(Debug, Clone)]
pub struct Module {
    methods: HashMap<String, Method>,
    exported: Vec<String>,
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

/// Words that are keywords in the subset or in BSL at large: never a variable name here.
const KEYWORDS: [&str; 34] = [
    "функция",
    "процедура",
    "конецфункции",
    "конецпроцедуры",
    "экспорт",
    "знач",
    "возврат",
    "если",
    "тогда",
    "иначеесли",
    "иначе",
    "конецесли",
    "для",
    "каждого",
    "из",
    "цикл",
    "конеццикла",
    "пока",
    "и",
    "или",
    "не",
    "истина",
    "ложь",
    "неопределено",
    "новый",
    "перем",
    "попытка",
    "исключение",
    "конецпопытки",
    "прервать",
    "продолжить",
    "по",
    "перейти",
    "выполнить",
];

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

impl Parser {
    fn line(&self) -> usize {
        self.toks
            .get(self.at)
            .or(self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        let near = self
            .toks
            .get(self.at)
            .map_or("end of module".to_string(), |t| format!("{:?}", t.tok));
        Err(format!("line {}: {what} (near {near})", self.line()))
    }

    fn peek_word(&self) -> Option<String> {
        match self.toks.get(self.at).map(|t| &t.tok) {
            Some(Tok::Ident(w)) => Some(key(w)),
            _ => None,
        }
    }

    fn is_word(&self, word: &str) -> bool {
        self.peek_word().as_deref() == Some(word)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.toks.get(self.at).map(|t| &t.tok), Some(Tok::Punct(q)) if *q == p)
    }

    fn word(&mut self, word: &str) -> Result<(), String> {
        if self.is_word(word) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(&format!("«{word}» expected"))
        }
    }

    fn punct(&mut self, p: &str) -> Result<(), String> {
        if self.is_punct(p) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(&format!("«{p}» expected"))
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.toks.get(self.at).map(|t| t.tok.clone()) {
            Some(Tok::Ident(w)) if !KEYWORDS.contains(&key(&w).as_str()) => {
                self.at += 1;
                Ok(w)
            }
            _ => self.fail("a name expected"),
        }
    }

    fn module(&mut self) -> Result<Module, String> {
        let mut methods = HashMap::new();
        let mut exported = Vec::new();
        while self.at < self.toks.len() {
            let method = self.method(&mut exported)?;
            if methods.insert(key(&method.name), method.clone()).is_some() {
                return self.fail(&format!("method {} defined twice", method.name));
            }
        }
        Ok(Module { methods, exported })
    }

    fn method(&mut self, exported: &mut Vec<String>) -> Result<Method, String> {
        let is_function = match self.peek_word().as_deref() {
            Some("функция") => true,
            Some("процедура") => false,
            _ => return self.fail("«Функция» or «Процедура» expected (module variables, annotations and module statements are outside the subset)"),
        };
        self.at += 1;
        let name = self.name()?;
        self.punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            if self.is_word("знач") {
                self.at += 1;
            }
            params.push(self.name()?);
            if self.is_punct("=") {
                return self.fail("default parameter values are outside the subset");
            }
            if !self.is_punct(")") {
                self.punct(",")?;
            }
        }
        self.punct(")")?;
        if self.is_word("экспорт") {
            self.at += 1;
            exported.push(name.clone());
        }
        let end = if is_function {
            "конецфункции"
        } else {
            "конецпроцедуры"
        };
        let body = self.block(&[end])?;
        self.word(end)?;
        Ok(Method {
            name,
            is_function,
            params,
            body,
        })
    }

    /// Statements up to one of `ends` (not consumed).
    fn block(&mut self, ends: &[&str]) -> Result<Vec<Stmt>, String> {
        let mut out = Vec::new();
        loop {
            if self.at >= self.toks.len() {
                return self.fail(&format!("«{}» expected", ends[0]));
            }
            if ends.iter().any(|e| self.is_word(e)) {
                return Ok(out);
            }
            if self.is_punct(";") {
                self.at += 1;
                continue;
            }
            out.push(self.statement()?);
            if !self.is_punct(";") && !ends.iter().any(|e| self.is_word(e)) {
                return self.fail("«;» expected");
            }
        }
    }

    fn statement(&mut self) -> Result<Stmt, String> {
        let line = self.line();
        match self.peek_word().as_deref() {
            Some("возврат") => {
                self.at += 1;
                if self.is_punct(";")
                    || self.is_word("конецфункции")
                    || self.is_word("конецпроцедуры")
                {
                    Ok(Stmt::Return(None))
                } else {
                    Ok(Stmt::Return(Some(self.expr()?)))
                }
            }
            Some("если") => {
                self.at += 1;
                let mut arms = Vec::new();
                let cond = self.expr()?;
                self.word("тогда")?;
                let body = self.block(&["иначеесли", "иначе", "конецесли"])?;
                arms.push((cond, body));
                let mut otherwise = Vec::new();
                loop {
                    if self.is_word("иначеесли") {
                        self.at += 1;
                        let cond = self.expr()?;
                        self.word("тогда")?;
                        let body = self.block(&["иначеесли", "иначе", "конецесли"])?;
                        arms.push((cond, body));
                    } else if self.is_word("иначе") {
                        self.at += 1;
                        otherwise = self.block(&["конецесли"])?;
                    } else {
                        self.word("конецесли")?;
                        return Ok(Stmt::If(arms, otherwise));
                    }
                }
            }
            Some("для") => {
                self.at += 1;
                if !self.is_word("каждого") {
                    return self.fail("only «Для Каждого … Из» loops are in the subset");
                }
                self.at += 1;
                let var = self.name()?;
                self.word("из")?;
                let what = self.expr()?;
                self.word("цикл")?;
                let body = self.block(&["конеццикла"])?;
                self.word("конеццикла")?;
                Ok(Stmt::ForEach(var, what, body))
            }
            Some("пока") => {
                self.at += 1;
                let cond = self.expr()?;
                self.word("цикл")?;
                let body = self.block(&["конеццикла"])?;
                self.word("конеццикла")?;
                Ok(Stmt::While(cond, body))
            }
            Some(w) if KEYWORDS.contains(&w) => {
                self.fail(&format!("statement «{w}» is outside the subset"))
            }
            Some(_) => {
                let start = self.at;
                let name = self.name()?;
                if self.is_punct("=") {
                    self.at += 1;
                    return Ok(Stmt::Assign(name, self.expr()?, line));
                }
                self.at = start;
                let call = self.postfix()?;
                match call {
                    Expr::Call(..) | Expr::MethodCall(..) => Ok(Stmt::Call(call)),
                    _ => self.fail("a statement must be an assignment to a name or a call"),
                }
            }
            None => self.fail("a statement expected"),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.is_word("или") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.not_expr()?;
        while self.is_word("и") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.not_expr()?));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, String> {
        if self.is_word("не") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.additive()?;
        for op in ["<>", "<=", ">=", "=", "<", ">"] {
            if self.is_punct(op) {
                let line = self.line();
                self.at += 1;
                let right = self.additive()?;
                if ["<>", "<=", ">=", "=", "<", ">"]
                    .iter()
                    .any(|o| self.is_punct(o))
                {
                    return self.fail("chained comparisons are outside the subset");
                }
                return Ok(Expr::Bin(op, Box::new(left), Box::new(right), line));
            }
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.is_punct("+") {
                "+"
            } else if self.is_punct("-") {
                "-"
            } else {
                return Ok(left);
            };
            let line = self.line();
            self.at += 1;
            left = Expr::Bin(op, Box::new(left), Box::new(self.multiplicative()?), line);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.is_punct("*") {
                "*"
            } else if self.is_punct("/") {
                "/"
            } else {
                return Ok(left);
            };
            let line = self.line();
            self.at += 1;
            left = Expr::Bin(op, Box::new(left), Box::new(self.unary()?), line);
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_punct("-") {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.is_punct("+") {
            self.at += 1;
            return self.unary();
        }
        self.postfix()
    }

    fn args(&mut self) -> Result<Vec<Expr>, String> {
        self.punct("(")?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            if self.is_punct(",") {
                return self.fail("omitted arguments are outside the subset");
            }
            args.push(self.expr()?);
            if !self.is_punct(")") {
                self.punct(",")?;
            }
        }
        self.punct(")")?;
        Ok(args)
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        while self.is_punct(".") {
            let line = self.line();
            self.at += 1;
            let member = self.name()?;
            if self.is_punct("(") {
                let args = self.args()?;
                e = Expr::MethodCall(Box::new(e), member, args, line);
            } else {
                e = Expr::Prop(Box::new(e), member, line);
            }
        }
        if self.is_punct("[") {
            return self.fail("indexing is outside the subset");
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let line = self.line();
        let Some(token) = self.toks.get(self.at).cloned() else {
            return self.fail("an expression expected");
        };
        match token.tok {
            Tok::Num(n) => {
                self.at += 1;
                Ok(Expr::Lit(Value::Num(n)))
            }
            Tok::Str(s) => {
                self.at += 1;
                Ok(Expr::Lit(Value::Str(s)))
            }
            Tok::Punct("(") => {
                self.at += 1;
                let e = self.expr()?;
                self.punct(")")?;
                Ok(e)
            }
            Tok::Ident(w) => match key(&w).as_str() {
                "истина" => {
                    self.at += 1;
                    Ok(Expr::Lit(Value::Bool(true)))
                }
                "ложь" => {
                    self.at += 1;
                    Ok(Expr::Lit(Value::Bool(false)))
                }
                "неопределено" => {
                    self.at += 1;
                    Ok(Expr::Lit(Value::Undef))
                }
                "новый" => {
                    self.at += 1;
                    let type_name = self.name()?;
                    if key(&type_name) != "соответствие" {
                        return self.fail(&format!("«Новый {type_name}» is outside the subset"));
                    }
                    if self.is_punct("(") && !self.args()?.is_empty() {
                        return self.fail("«Новый Соответствие» takes no arguments here");
                    }
                    Ok(Expr::NewMap)
                }
                _ => {
                    let name = self.name()?;
                    if self.is_punct("(") {
                        let args = self.args()?;
                        Ok(Expr::Call(name, args, line))
                    } else {
                        Ok(Expr::Var(name, line))
                    }
                }
            },
            Tok::Punct(p) => self.fail(&format!("«{p}» cannot start an expression")),
        }
    }
}

impl Module {
    /// Parses a module's text; anything outside the subset is an error naming the line.
    pub fn parse(src: &str) -> Result<Module, String> {
        let toks = lex(src)?;
        let module = Parser { toks, at: 0 }.module()?;
        for method in module.methods.values() {
            module.resolve_block(&method.body)?;
        }
        Ok(module)
    }

    /// Every call names a method of the module or a function of the subset: checked before anything runs.
    fn resolve_block(&self, stmts: &[Stmt]) -> Result<(), String> {
        for stmt in stmts {
            match stmt {
                Stmt::Return(e) => {
                    if let Some(e) = e {
                        self.resolve(e)?;
                    }
                }
                Stmt::If(arms, otherwise) => {
                    for (cond, body) in arms {
                        self.resolve(cond)?;
                        self.resolve_block(body)?;
                    }
                    self.resolve_block(otherwise)?;
                }
                Stmt::ForEach(_, e, body) | Stmt::While(e, body) => {
                    self.resolve(e)?;
                    self.resolve_block(body)?;
                }
                Stmt::Assign(_, e, _) | Stmt::Call(e) => self.resolve(e)?,
            }
        }
        Ok(())
    }

    fn resolve(&self, e: &Expr) -> Result<(), String> {
        match e {
            Expr::Lit(_) | Expr::NewMap | Expr::Var(..) => Ok(()),
            Expr::Neg(a) | Expr::Not(a) | Expr::Prop(a, _, _) => self.resolve(a),
            Expr::Bin(_, a, b, _) | Expr::And(a, b) | Expr::Or(a, b) => {
                self.resolve(a)?;
                self.resolve(b)
            }
            Expr::Call(name, args, line) => {
                let k = key(name);
                if !matches!(k.as_str(), "мин" | "макс" | "цел") && !self.methods.contains_key(&k)
                {
                    return Err(format!(
                        "line {line}: {name} is neither a method of the module nor a function of the subset"
                    ));
                }
                args.iter().try_for_each(|a| self.resolve(a))
            }
            Expr::MethodCall(target, method, args, line) => {
                if !matches!(
                    key(method).as_str(),
                    "вставить" | "удалить" | "получить" | "количество"
                ) {
                    return Err(format!(
                        "line {line}: method {method} is outside the subset"
                    ));
                }
                self.resolve(target)?;
                args.iter().try_for_each(|a| self.resolve(a))
            }
        }
    }

    pub fn exported(&self) -> &[String] {
        &self.exported
    }

    /// Calls a method of the module with the given arguments.
    pub fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, String> {
        let mut run = Run {
            module: self,
            steps: 0,
            depth: 0,
        };
        run.call(name, args, 0, false)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

const STEP_LIMIT: u64 = 50_000_000;
const DEPTH_LIMIT: usize = 64;
const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

enum Flow {
    Next,
    Return(Value),
}

struct Run<'m> {
    module: &'m Module,
    steps: u64,
    depth: usize,
}

struct Frame {
    vars: HashMap<String, Value>,
    params: Vec<String>,
}

fn num(n: f64, line: usize) -> Result<Value, String> {
    if n.is_finite() && n.abs() <= EXACT {
        Ok(Value::Num(n))
    } else {
        Err(format!(
            "line {line}: number {n} is outside the exactly representable range"
        ))
    }
}

impl Run<'_> {
    fn call(
        &mut self,
        name: &str,
        args: Vec<Value>,
        line: usize,
        want_value: bool,
    ) -> Result<Value, String> {
        let Some(method) = self.module.methods.get(&key(name)) else {
            return Err(format!("line {line}: {name} is neither a method of the module nor a function of the subset"));
        };
        if want_value && !method.is_function {
            return Err(format!("line {line}: procedure {name} used as a function"));
        }
        if args.len() != method.params.len() {
            return Err(format!(
                "line {line}: {name} takes {} arguments, {} given",
                method.params.len(),
                args.len()
            ));
        }
        self.depth += 1;
        if self.depth > DEPTH_LIMIT {
            return Err(format!(
                "line {line}: calls nested deeper than {DEPTH_LIMIT}"
            ));
        }
        let mut frame = Frame {
            vars: method.params.iter().map(|p| key(p)).zip(args).collect(),
            params: method.params.iter().map(|p| key(p)).collect(),
        };
        let flow = self.block(&method.body, &mut frame)?;
        self.depth -= 1;
        Ok(match flow {
            Flow::Return(v) => v,
            Flow::Next => Value::Undef,
        })
    }

    fn tick(&mut self) -> Result<(), String> {
        self.steps += 1;
        if self.steps > STEP_LIMIT {
            return Err(format!(
                "more than {STEP_LIMIT} steps: a loop that does not end?"
            ));
        }
        Ok(())
    }

    fn block(&mut self, stmts: &[Stmt], frame: &mut Frame) -> Result<Flow, String> {
        for stmt in stmts {
            self.tick()?;
            if let Flow::Return(v) = self.stmt(stmt, frame)? {
                return Ok(Flow::Return(v));
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, stmt: &Stmt, frame: &mut Frame) -> Result<Flow, String> {
        match stmt {
            Stmt::Return(e) => Ok(Flow::Return(match e {
                Some(e) => self.eval(e, frame)?,
                None => Value::Undef,
            })),
            Stmt::If(arms, otherwise) => {
                for (cond, body) in arms {
                    if self
                        .eval(cond, frame)?
                        .as_bool()
                        .map_err(|e| format!("Если: {e}"))?
                    {
                        return self.block(body, frame);
                    }
                }
                self.block(otherwise, frame)
            }
            Stmt::ForEach(var, what, body) => {
                let Value::Map(map) = self.eval(what, frame)? else {
                    return Err(format!(
                        "Для Каждого {var}: only a Соответствие can be walked here"
                    ));
                };
                // 1C promises no order: walk in reverse insertion order, over a snapshot.
                let items: Vec<(Value, Value)> = map.borrow().iter().rev().cloned().collect();
                for (k, v) in items {
                    self.tick()?;
                    frame
                        .vars
                        .insert(key(var), Value::Pair(Box::new(k), Box::new(v)));
                    if let Flow::Return(v) = self.block(body, frame)? {
                        return Ok(Flow::Return(v));
                    }
                }
                Ok(Flow::Next)
            }
            Stmt::While(cond, body) => {
                while self
                    .eval(cond, frame)?
                    .as_bool()
                    .map_err(|e| format!("Пока: {e}"))?
                {
                    self.tick()?;
                    if let Flow::Return(v) = self.block(body, frame)? {
                        return Ok(Flow::Return(v));
                    }
                }
                Ok(Flow::Next)
            }
            Stmt::Assign(name, e, line) => {
                if frame.params.contains(&key(name)) {
                    return Err(format!(
                        "line {line}: assignment to parameter {name} (passed by reference in 1C) is outside the subset"
                    ));
                }
                let v = self.eval(e, frame)?;
                frame.vars.insert(key(name), v);
                Ok(Flow::Next)
            }
            Stmt::Call(e) => {
                match e {
                    Expr::Call(name, args, line) => {
                        let args = self.eval_all(args, frame)?;
                        self.call(name, args, *line, false)?;
                    }
                    _ => {
                        self.eval_member(e, frame, false)?;
                    }
                }
                Ok(Flow::Next)
            }
        }
    }

    fn eval_all(&mut self, args: &[Expr], frame: &mut Frame) -> Result<Vec<Value>, String> {
        args.iter().map(|a| self.eval(a, frame)).collect()
    }

    fn eval(&mut self, e: &Expr, frame: &mut Frame) -> Result<Value, String> {
        self.tick()?;
        match e {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::NewMap => Ok(Value::new_map()),
            Expr::Var(name, line) => frame
                .vars
                .get(&key(name))
                .cloned()
                .ok_or_else(|| format!("line {line}: variable {name} is not defined")),
            Expr::Neg(inner) => {
                let n = self.eval(inner, frame)?.as_num()?;
                Ok(Value::Num(-n))
            }
            Expr::Not(inner) => Ok(Value::Bool(
                !self
                    .eval(inner, frame)?
                    .as_bool()
                    .map_err(|e| format!("НЕ: {e}"))?,
            )),
            Expr::And(a, b) => {
                if !self
                    .eval(a, frame)?
                    .as_bool()
                    .map_err(|e| format!("И: {e}"))?
                {
                    return Ok(Value::Bool(false));
                }
                Ok(Value::Bool(
                    self.eval(b, frame)?
                        .as_bool()
                        .map_err(|e| format!("И: {e}"))?,
                ))
            }
            Expr::Or(a, b) => {
                if self
                    .eval(a, frame)?
                    .as_bool()
                    .map_err(|e| format!("ИЛИ: {e}"))?
                {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(
                    self.eval(b, frame)?
                        .as_bool()
                        .map_err(|e| format!("ИЛИ: {e}"))?,
                ))
            }
            Expr::Bin(op, a, b, line) => {
                let a = self.eval(a, frame)?;
                let b = self.eval(b, frame)?;
                binary(op, &a, &b, *line)
            }
            Expr::Call(name, args, line) => {
                let args = self.eval_all(args, frame)?;
                match key(name).as_str() {
                    "мин" | "макс" => {
                        if args.len() < 2 {
                            return Err(format!(
                                "line {line}: {name} needs two or more numbers here"
                            ));
                        }
                        let mut nums = Vec::new();
                        for a in &args {
                            nums.push(
                                a.as_num()
                                    .map_err(|e| format!("line {line}: {name}: {e}"))?,
                            );
                        }
                        let pick = if key(name) == "мин" {
                            f64::min
                        } else {
                            f64::max
                        };
                        Ok(Value::Num(nums.into_iter().reduce(pick).unwrap_or(0.0)))
                    }
                    "цел" => {
                        if args.len() != 1 {
                            return Err(format!("line {line}: Цел takes one number here"));
                        }
                        Ok(Value::Num(
                            args[0]
                                .as_num()
                                .map_err(|e| format!("line {line}: Цел: {e}"))?
                                .trunc(),
                        ))
                    }
                    _ => self.call(name, args, *line, true),
                }
            }
            Expr::MethodCall(..) => self.eval_member(e, frame, true),
            Expr::Prop(target, prop, line) => match (self.eval(target, frame)?, key(prop).as_str())
            {
                (Value::Pair(k, _), "ключ") => Ok(*k),
                (Value::Pair(_, v), "значение") => Ok(*v),
                (other, _) => Err(format!(
                    "line {line}: property {prop} of {} is outside the subset",
                    other.type_name()
                )),
            },
        }
    }

    fn eval_member(
        &mut self,
        e: &Expr,
        frame: &mut Frame,
        want_value: bool,
    ) -> Result<Value, String> {
        let Expr::MethodCall(target, method, args, line) = e else {
            return Err("a method call expected".into());
        };
        let line = *line;
        let target = self.eval(target, frame)?;
        let args = self.eval_all(args, frame)?;
        let Value::Map(map) = target else {
            return Err(format!(
                "line {line}: method {method} of {} is outside the subset",
                target.type_name()
            ));
        };
        let check_key = |k: &Value| match k {
            Value::Str(_) | Value::Num(_) | Value::Bool(_) => Ok(()),
            other => Err(format!(
                "line {line}: a {} as a Соответствие key is outside the subset",
                other.type_name()
            )),
        };
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "line {line}: {method} takes {n} arguments here, {} given",
                    args.len()
                ))
            }
        };
        let m = key(method);
        let result = match m.as_str() {
            "вставить" => {
                arity(2)?;
                check_key(&args[0])?;
                let mut items = map.borrow_mut();
                match items.iter_mut().find(|(k, _)| equal(k, &args[0])) {
                    Some(slot) => slot.1 = args[1].clone(),
                    None => items.push((args[0].clone(), args[1].clone())),
                }
                None
            }
            "удалить" => {
                arity(1)?;
                map.borrow_mut().retain(|(k, _)| !equal(k, &args[0]));
                None
            }
            "получить" => {
                arity(1)?;
                let items = map.borrow();
                Some(
                    items
                        .iter()
                        .find(|(k, _)| equal(k, &args[0]))
                        .map_or(Value::Undef, |(_, v)| v.clone()),
                )
            }
            "количество" => {
                arity(0)?;
                Some(Value::Num(map.borrow().len() as f64))
            }
            _ => {
                return Err(format!(
                    "line {line}: Соответствие.{method} is outside the subset"
                ))
            }
        };
        match (result, want_value) {
            (Some(v), _) => Ok(v),
            (None, false) => Ok(Value::Undef),
            (None, true) => Err(format!(
                "line {line}: Соответствие.{method} returns no value"
            )),
        }
    }
}

fn binary(op: &str, a: &Value, b: &Value, line: usize) -> Result<Value, String> {
    match op {
        "=" => return Ok(Value::Bool(equal(a, b))),
        "<>" => return Ok(Value::Bool(!equal(a, b))),
        _ => {}
    }
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => match op {
            "+" => num(x + y, line),
            "-" => num(x - y, line),
            "*" => num(x * y, line),
            "/" if *y == 0.0 => Err(format!("line {line}: division by zero")),
            "/" => num(x / y, line),
            "<" => Ok(Value::Bool(x < y)),
            ">" => Ok(Value::Bool(x > y)),
            "<=" => Ok(Value::Bool(x <= y)),
            ">=" => Ok(Value::Bool(x >= y)),
            _ => Err(format!("line {line}: operator {op} is outside the subset")),
        },
        (Value::Str(x), Value::Str(y)) if op == "+" => Ok(Value::Str(format!("{x}{y}"))),
        _ => Err(format!(
            "line {line}: {} {op} {} is outside the subset",
            a.type_name(),
            b.type_name()
        )),
    }
}
