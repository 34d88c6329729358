//! The delivery rules exist twice: in Rust (`tb_calls::delivery`, used through the add-in by the server and the
//! thin and thick clients) and in BSL (`ТБ_ТелефонияДоставкаКлиентСервер`, for the web client, which cannot load
//! the add-in). This test evaluates both on one table of cases — state ranks, poll back-off, staleness,
//! de-duplication sequences across paths and over the seen-set's cap, the constants — and fails on any difference.
//! The BSL module is read from the dump as written and run by the subset evaluator of `support/bsl_subset.rs`.
//!
//! Mutation tests plant a changed constant or a flipped comparison in a temporary copy of the module and see the
//! agreement fail; the evaluator's own tests show it refuses what it does not model.

#[path = "support/bsl_subset.rs"]
mod bsl;

use std::path::{Path, PathBuf};

use bsl::{Module, Value};
use tb_calls::delivery::{
    is_stale, next_poll_interval, state_rank, Seen, CLOCK_SKEW_MS, DEFAULT_MAX_AGE_SECS,
    FAST_POLL_SECS, MAX_POLL_SECS, SAFETY_POLL_SECS, SEEN_CAP,
};

fn module_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "bsl-examples/extension/CommonModules/ТБ_ТелефонияДоставкаКлиентСервер/Ext/Module.bsl",
    )
}

fn load(path: &Path) -> Result<Module, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Module::parse(&text)
}

fn n(x: i64) -> Value {
    Value::Num(x as f64)
}

/// The BSL result as the Rust types compare: a whole number or a boolean, or the evaluator's error.
#[derive(Debug, PartialEq)]
enum Got {
    Int(i64),
    Bool(bool),
}

fn got(v: Result<Value, String>) -> Result<Got, String> {
    match v? {
        Value::Num(x) if x.fract() == 0.0 => Ok(Got::Int(x as i64)),
        Value::Bool(b) => Ok(Got::Bool(b)),
        other => Err(format!("unexpected result {other:?}")),
    }
}

const STATES: [&str; 13] = [
    "ringing",
    "answered",
    "transferred",
    "in_progress",
    "finished",
    "lost",
    "record_ready",
    "error",
    "",
    "Ringing",
    "RINGING",
    "ringing ",
    "bogus",
];

/// A small deterministic generator for the random sequences (no dependency, the same run every time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

/// Sequences of (call id, state) as paths deliver them: two paths with the same cards late and out of order, a
/// replay, random traffic over a few calls, and more calls than the seen-set holds.
fn sequences() -> Vec<Vec<(String, String)>> {
    let seq = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let mut out = vec![
        seq(&[
            ("c1", "ringing"),
            ("c1", "ringing"),
            ("c1", "answered"),
            ("c2", "answered"),
            ("c1", "ringing"),
            ("c2", "ringing"),
            ("c1", "finished"),
            ("c1", "lost"),
            ("c1", "record_ready"),
            ("c1", "answered"),
            ("", "ringing"),
            ("c3", "bogus"),
            ("c3", "ringing"),
        ]),
        seq(&[
            ("x", "in_progress"),
            ("x", "transferred"),
            ("x", "in_progress"),
            ("x", "error"),
            ("x", "finished"),
        ]),
    ];
    let mut rng = Lcg(17);
    let ids = ["a", "b", "c", "d", "e", "", "A", "a "];
    for _ in 0..4 {
        let mut s = Vec::new();
        for _ in 0..400 {
            s.push((
                ids[rng.next(ids.len())].to_string(),
                STATES[rng.next(STATES.len())].to_string(),
            ));
        }
        out.push(s);
    }
    // Over the cap: 300 calls ring, some are answered (shown again, so remembered longer), then all ring again and
    // finish: what was forgotten is shown again, in both versions alike.
    let mut s = Vec::new();
    for k in 0..300 {
        s.push((format!("call-{k}"), "ringing".to_string()));
    }
    for k in (0..300).step_by(7) {
        s.push((format!("call-{k}"), "answered".to_string()));
    }
    for k in 0..300 {
        s.push((format!("call-{k}"), "ringing".to_string()));
    }
    for k in (0..300).rev().step_by(3) {
        s.push((format!("call-{k}"), "finished".to_string()));
    }
    out.push(s);
    out
}

/// Every difference between the BSL module at `path` and the Rust rules, as text; empty when they agree.
fn disagreements(path: &Path) -> Vec<String> {
    let module = match load(path) {
        Ok(m) => m,
        Err(e) => return vec![format!("the module does not parse: {e}")],
    };
    let mut out = Vec::new();
    let mut check = |what: String, bsl: Result<Got, String>, rust: Got| {
        if bsl.as_ref() != Ok(&rust) {
            out.push(format!("{what}: BSL {bsl:?}, Rust {rust:?}"));
        }
    };
    let constants = [
        ("БыстрыйИнтервалОпроса", i64::from(FAST_POLL_SECS)),
        ("ПредельныйИнтервалОпроса", i64::from(MAX_POLL_SECS)),
        ("ИнтервалСтраховочногоОпроса", i64::from(SAFETY_POLL_SECS)),
        ("ПределПоказанныхЗвонков", SEEN_CAP as i64),
        ("МаксВозрастСобытияПоУмолчанию", DEFAULT_MAX_AGE_SECS),
        ("ДопускРасхожденияЧасовМс", CLOCK_SKEW_MS),
    ];
    for (name, value) in constants {
        check(
            name.to_string(),
            got(module.call(name, vec![])),
            Got::Int(value),
        );
    }
    for state in STATES {
        check(
            format!("РангСостояния({state:?})"),
            got(module.call("РангСостояния", vec![Value::str(state)])),
            Got::Int(i64::from(state_rank(state))),
        );
    }
    for current in (0..=40).chain([59, 60, 100, 1000]) {
        for found in [false, true] {
            check(
                format!("СледующийИнтервалОпроса({current}, {found})"),
                got(module.call(
                    "СледующийИнтервалОпроса",
                    vec![n(current), Value::Bool(found)],
                )),
                Got::Int(i64::from(next_poll_interval(current as u32, found))),
            );
        }
    }
    stale_cases(&module, &mut check);
    dedupe_cases(&module, &mut out);
    out
}

fn stale_cases(module: &Module, check: &mut impl FnMut(String, Result<Got, String>, Got)) {
    let now: i64 = 1_800_000_000_000;
    let max_ages = [0, -5, 1, 60, 120, 3600];
    let mut ages = vec![-600_000, -1, 0, 1, 5_000, 86_400_000];
    for m in max_ages {
        let limit = if m > 0 {
            m * 1000
        } else {
            DEFAULT_MAX_AGE_SECS * 1000
        } + CLOCK_SKEW_MS;
        ages.extend([limit - 1, limit, limit + 1]);
    }
    let mut ats: Vec<i64> = ages.iter().map(|d| now - d).collect();
    ats.extend([0, -1, 1]);
    let expiries = [
        0,
        -1,
        now - CLOCK_SKEW_MS - 1,
        now - CLOCK_SKEW_MS,
        now,
        now + 120_000,
    ];
    for &at in &ats {
        for expires in expiries {
            for max_age in max_ages {
                check(
                    format!("ЭтоУстаревшееСобытие({at}, {expires}, {now}, {max_age})"),
                    got(module.call(
                        "ЭтоУстаревшееСобытие",
                        vec![n(at), n(expires), n(now), n(max_age)],
                    )),
                    Got::Bool(is_stale(at, expires, now, max_age)),
                );
            }
        }
    }
}

fn dedupe_cases(module: &Module, out: &mut Vec<String>) {
    for (index, sequence) in sequences().into_iter().enumerate() {
        let shown = Value::new_map();
        let mut seen = Seen::new(SEEN_CAP);
        for (step, (id, state)) in sequence.iter().enumerate() {
            let bsl = got(module.call(
                "ЭтоПовторСобытия",
                vec![shown.clone(), Value::str(id), Value::str(state)],
            ));
            let rust = Got::Bool(seen.is_repeat(id, state));
            let count = shown.map_len().unwrap_or(usize::MAX);
            if bsl.as_ref() != Ok(&rust) || count != seen.len() {
                out.push(format!(
                    "sequence {index} step {step} ЭтоПовторСобытия({id:?}, {state:?}): BSL {bsl:?} with {count} \
                     calls remembered, Rust {rust:?} with {}",
                    seen.len()
                ));
                // One sequence that went apart goes apart at every later step: its first difference says it all.
                break;
            }
        }
    }
}

#[test]
fn rust_and_bsl_agree_on_every_case() {
    let found = disagreements(&module_path());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_module_exports_exactly_the_functions_the_web_client_uses() {
    let module = load(&module_path()).unwrap();
    let mut exported: Vec<&str> = module.exported().iter().map(String::as_str).collect();
    exported.sort();
    let mut expected = vec![
        "БыстрыйИнтервалОпроса",
        "ПредельныйИнтервалОпроса",
        "ИнтервалСтраховочногоОпроса",
        "ПределПоказанныхЗвонков",
        "МаксВозрастСобытияПоУмолчанию",
        "ДопускРасхожденияЧасовМс",
        "РангСостояния",
        "ЭтоПовторСобытия",
        "ЭтоУстаревшееСобытие",
        "СледующийИнтервалОпроса",
    ];
    expected.sort();
    assert_eq!(exported, expected);
}

/// Plants `from` → `to` in a temporary copy of the module and returns what the agreement finds.
fn mutated(from: &str, to: &str) -> Vec<String> {
    let text = std::fs::read_to_string(module_path()).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "the anchor {from:?} is unique"
    );
    let dir = std::env::temp_dir().join(format!(
        "tb-delivery-agreement-{}-{}",
        std::process::id(),
        from.len() * 31 + to.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("Module.bsl");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let found = disagreements(&path);
    let _ = std::fs::remove_dir_all(&dir);
    found
}

#[test]
fn mutation_changed_constants_are_found() {
    for (from, to, needle) in [
        ("Возврат 30;", "Возврат 32;", "ПредельныйИнтервалОпроса"),
        (
            "БыстрыйИнтервалОпроса() Экспорт\n\n\tВозврат 2;",
            "БыстрыйИнтервалОпроса() Экспорт\n\n\tВозврат 3;",
            "БыстрыйИнтервалОпроса",
        ),
        ("Возврат 256;", "Возврат 255;", "ПределПоказанныхЗвонков"),
        (
            "Возврат 30000;",
            "Возврат 3000;",
            "ДопускРасхожденияЧасовМс",
        ),
        (
            "Возврат 120;",
            "Возврат 180;",
            "МаксВозрастСобытияПоУмолчанию",
        ),
        ("Возврат 60;", "Возврат 90;", "ИнтервалСтраховочногоОпроса"),
        (
            "Возврат 6;",
            "Возврат 7;",
            "РангСостояния(\"record_ready\")",
        ),
    ] {
        let found = mutated(from, to);
        assert!(
            found.iter().any(|f| f.contains(needle)),
            "{from} → {to}: {found:?}"
        );
    }
}

#[test]
fn mutation_flipped_comparisons_and_changed_rules_are_found() {
    for (from, to, needle) in [
        // A repeat of the same state would be shown again.
        ("Ранг <= Запись", "Ранг < Запись", "ЭтоПовторСобытия"),
        // The event exactly at the age limit would be dropped.
        (
            "> МаксВозрастМс + Допуск",
            ">= МаксВозрастМс + Допуск",
            "ЭтоУстаревшееСобытие",
        ),
        // The expiry ignored.
        (
            "Возврат СрокМс > 0 И СейчасМс > СрокМс + Допуск;",
            "Возврат Ложь;",
            "ЭтоУстаревшееСобытие",
        ),
        // The newest call forgotten instead of the oldest.
        ("Номер < ДавнийНомер", "Номер > ДавнийНомер", "sequence"),
        // The interval never capped.
        (
            "Мин(ТекущийИнтервал",
            "Макс(ТекущийИнтервал",
            "СледующийИнтервалОпроса",
        ),
        // An event no longer resets the interval.
        (
            "Если БылиСобытия Или",
            "Если БылиСобытия И",
            "СледующийИнтервалОпроса",
        ),
        // `lost` no longer ends a call.
        (" Или Состояние = \"lost\"", "", "РангСостояния(\"lost\")"),
        // An empty call id shown.
        ("ИдЗвонка = \"\" Или ", "", "ЭтоПовторСобытия(\"\""),
    ] {
        let found = mutated(from, to);
        assert!(
            found.iter().any(|f| f.contains(needle)),
            "{from} → {to}: {found:?}"
        );
    }
}

#[test]
fn mutation_code_outside_the_subset_is_refused_not_skipped() {
    let found = mutated(
        "Функция БыстрыйИнтервалОпроса() Экспорт",
        "Перем Кэш;\nФункция БыстрыйИнтервалОпроса() Экспорт",
    );
    assert!(
        found.len() == 1 && found[0].starts_with("the module does not parse"),
        "{found:?}"
    );
    let found = mutated(
        "Возврат Ложь;\n\nКонецФункции",
        "Возврат СтрДлина(ИдЗвонка) = 0;\n\nКонецФункции",
    );
    assert!(
        found.len() == 1 && found[0].contains("СтрДлина is neither a method"),
        "{found:?}"
    );
}

// --- The evaluator itself: what it runs, and what it refuses. ---------------------------------------------------

fn run(body: &str) -> Result<Value, String> {
    let src = format!("Функция Ф() Экспорт\n{body}\nКонецФункции\n");
    Module::parse(&src)?.call("Ф", vec![])
}

fn run_value(body: &str) -> Got {
    got(run(body)).unwrap_or_else(|e| panic!("{body}: {e}"))
}

#[test]
fn the_evaluator_runs_the_subset_with_1c_semantics() {
    assert_eq!(run_value("Возврат 2 + 3 * 4;"), Got::Int(14));
    assert_eq!(run_value("Возврат (2 + 3) * 4 - -1;"), Got::Int(21));
    assert_eq!(run_value("Возврат Цел(-7 / 2);"), Got::Int(-3));
    assert_eq!(run_value("Возврат Мин(5, 3, 9) + Макс(1, 4);"), Got::Int(7));
    assert_eq!(run_value("Возврат НЕ Ложь И Ложь;"), Got::Bool(false));
    assert_eq!(
        run_value("Возврат Ложь ИЛИ Истина И Истина;"),
        Got::Bool(true)
    );
    // И/ИЛИ stop early, as in 1C: the division by zero is never evaluated.
    assert_eq!(run_value("Возврат Истина Или 1 / 0 = 1;"), Got::Bool(true));
    assert_eq!(run_value("Возврат Ложь И 1 / 0 = 1;"), Got::Bool(false));
    // Strings compare case-sensitively; values of different types are not equal.
    assert_eq!(run_value("Возврат \"А\" = \"а\";"), Got::Bool(false));
    assert_eq!(run_value("Возврат 1 = \"1\";"), Got::Bool(false));
    assert_eq!(
        run_value("Возврат Неопределено = Неопределено;"),
        Got::Bool(true)
    );
    assert_eq!(
        run_value("Возврат \"a\"\"b\" = \"a\" + \"\"\"\" + \"b\";"),
        Got::Bool(true)
    );
    // Keywords and names in any case.
    assert_eq!(
        run_value("х = 1; ЕСЛИ Х = 1 ТОГДА возврат 5; конецесли;"),
        Got::Int(5)
    );
    assert_eq!(
        run_value("С = 0; Сумма = 0; Пока С < 5 Цикл С = С + 1; Сумма = Сумма + С; КонецЦикла; Возврат Сумма;"),
        Got::Int(15)
    );
    assert_eq!(
        run_value(
            "М = Новый Соответствие; М.Вставить(\"a\", 1); М.Вставить(\"b\", 2); М.Вставить(\"a\", 5); \
             М.Удалить(\"b\"); С = 0; Для Каждого Э Из М Цикл С = С + Э.Значение; КонецЦикла; \
             Возврат С * 10 + М.Количество();"
        ),
        Got::Int(51)
    );
    assert_eq!(
        run_value("М = Новый Соответствие(); Возврат М.Получить(\"нет\") = Неопределено;"),
        Got::Bool(true)
    );
    // A Функция without Возврат gives Неопределено.
    assert!(matches!(run("х = 1;"), Ok(Value::Undef)));
}

#[test]
fn the_evaluator_refuses_what_it_does_not_model() {
    let cases = [
        (
            "Попытка Возврат 1; Исключение Возврат 2; КонецПопытки;",
            "outside the subset",
        ),
        (
            "Для Сч = 1 По 3 Цикл КонецЦикла; Возврат 1;",
            "only «Для Каждого",
        ),
        ("Возврат ?(Истина, 1, 2);", "outside the subset"),
        ("Возврат 7 % 2;", "outside the subset"),
        (
            "М = Новый Массив; Возврат 1;",
            "«Новый Массив» is outside the subset",
        ),
        ("Возврат СтрДлина(\"abc\");", "СтрДлина is neither a method"),
        (
            "М = Новый Соответствие; М.Очистить(); Возврат 1;",
            "method Очистить is outside the subset",
        ),
        ("х = 1; Возврат х.Ключ;", "property Ключ of Число"),
        ("Возврат 1 < \"2\";", "Число < Строка is outside the subset"),
        ("Возврат у + 1;", "variable у is not defined"),
        ("Если 1 Тогда Возврат 1; КонецЕсли;", "Булево expected"),
        ("Возврат 1 / 0;", "division by zero"),
        ("Возврат 9007199254740992 * 4;", "exactly representable"),
        ("Прервать;", "statement «прервать» is outside the subset"),
        ("Пока Истина Цикл КонецЦикла;", "steps"),
        ("Возврат \"строка\n|дальше\";", "multi-line strings"),
        (
            "М = Новый Соответствие; М.Вставить(М, 1); Возврат 1;",
            "as a Соответствие key",
        ),
        ("Возврат 1 = 1 = Истина;", "chained comparisons"),
    ];
    for (body, needle) in cases {
        let result = run(body);
        match result {
            Err(e) => assert!(e.contains(needle), "{body}: {e}"),
            Ok(v) => panic!("{body}: accepted, gave {v:?}"),
        }
    }
    for (src, needle) in [
        ("#Если Сервер Тогда\n#КонецЕсли\n", "preprocessor #если"),
        ("&НаКлиенте\nФункция Ф()\nКонецФункции\n", "character «&»"),
        ("Перем А;\n", "«Функция» or «Процедура» expected"),
        (
            "Функция Ф(А = 1)\nКонецФункции\n",
            "default parameter values",
        ),
        (
            "Функция Ф()\nКонецФункции\nФункция ф()\nКонецФункции\n",
            "defined twice",
        ),
        (
            "Функция Ф(А)\nА = 1;\nКонецФункции\n",
            "assignment to parameter",
        ),
    ] {
        let result = Module::parse(src).and_then(|m| m.call("Ф", vec![Value::Num(1.0)]));
        match result {
            Err(e) => assert!(e.contains(needle), "{src}: {e}"),
            Ok(v) => panic!("{src}: accepted, gave {v:?}"),
        }
    }
    // A procedure is no function, and arguments must match.
    let module =
        Module::parse("Процедура П()\nКонецПроцедуры\nФункция Ф()\nВозврат П();\nКонецФункции\n")
            .unwrap();
    assert!(module
        .call("Ф", vec![])
        .unwrap_err()
        .contains("used as a function"));
    assert!(module
        .call("П", vec![Value::Num(1.0)])
        .unwrap_err()
        .contains("takes 0 arguments"));
}

// --- The table of cases in docs/delivery-rules.md is what the rules choose. -------------------------------------

fn docs_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/delivery-rules.md")
}

/// The rows of the «Таблица случаев» table that differ from what `choose_paths` gives, and how.
fn documented_case_problems(doc: &str) -> Vec<String> {
    use tb_calls::delivery::{choose_paths, ClientKind, Path as DPath, SessionFacts};
    let section = doc
        .split("### Таблица случаев")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or("");
    let path_of =
        |word: &str| -> Option<DPath> { DPath::ALL.into_iter().find(|p| p.as_str() == word) };
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut problems = Vec::new();
    let mut rows = 0;
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 9 || cells[0] == "Клиент" || cells[0].starts_with("---") {
            continue;
        }
        rows += 1;
        let client = match cells[0].split_whitespace().next().unwrap_or("") {
            "тонкий" => ClientKind::Thin,
            "толстый" => ClientKind::Thick,
            "веб" => ClientKind::Web,
            "мобильный" => ClientKind::Mobile,
            other => {
                problems.push(format!("{line}: unknown client {other}"));
                continue;
            }
        };
        let facts = SessionFacts {
            client,
            addin: cells[1].starts_with("да"),
            addin_supported: cells[1] != "нет сборки",
            platform: cells[2].to_string(),
            collaboration: cells[3] == "зарегистрирована",
            file_base: cells[3] == "файловая база",
            centrifugo: !cells[1].contains("Centrifugo не настроен"),
            disabled: ticked(cells[4]).iter().filter_map(|w| path_of(w)).collect(),
        };
        let plan = choose_paths(&facts);
        let primary = ticked(cells[5]);
        let fanout: Vec<String> = ticked(cells[6]);
        let got_fanout: Vec<String> = plan.fanout.iter().map(|p| p.as_str().to_string()).collect();
        let numbers = (cells[7].parse::<u32>(), cells[8].parse::<u32>());
        if primary.first().map(String::as_str) != Some(plan.primary.as_str())
            || fanout != got_fanout
            || numbers != (Ok(plan.poll_seconds), Ok(plan.safety_poll_seconds))
        {
            problems.push(format!("{line}: the rules give {plan:?}"));
        }
        if let Some(reason) = primary.get(1) {
            if plan.verdict(plan.primary).reason.as_str() != reason {
                problems.push(format!(
                    "{line}: the primary's reason is {:?}",
                    plan.verdict(plan.primary).reason
                ));
            }
        }
    }
    if rows < 8 {
        problems.push(format!("only {rows} rows found in «Таблица случаев»"));
    }
    problems
}

#[test]
fn the_documented_cases_are_what_the_rules_choose() {
    let doc = std::fs::read_to_string(docs_path()).unwrap();
    let problems = documented_case_problems(&doc);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn mutation_a_wrong_documented_case_is_found() {
    let doc = std::fs::read_to_string(docs_path()).unwrap();
    let row = "| веб | — | 8.5.1.1118 | файловая база | — | `polling` | — | 2 | 0 |";
    assert!(doc.contains(row));
    for wrong in [
        "| веб | — | 8.5.1.1118 | файловая база | — | `notifications` | — | 2 | 0 |",
        "| веб | — | 8.5.1.1118 | файловая база | — | `polling` | — | 2 | 60 |",
        "| веб | — | 8.5.1.1119 | файловая база | — | `polling` | — | 2 | 0 |",
    ] {
        let problems = documented_case_problems(&doc.replacen(row, wrong, 1));
        assert_eq!(problems.len(), 1, "{wrong}: {problems:?}");
    }
    let empty = documented_case_problems("### Таблица случаев\n\n## Next\n");
    assert!(empty[0].contains("only 0 rows"), "{empty:?}");
}
