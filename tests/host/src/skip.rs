//! Loud, counted skips: the one way a test of this workspace may decline to run.
//!
//! A test that cannot run here (a tool is missing, it needs root, the Windows pass under Wine cannot start a
//! Linux program) calls [`skip`] and returns. Outside CI that writes one machine-readable line to the real
//! standard error, past the test harness's capture, so it shows whether the test passes or not:
//!
//! ```text
//! TB-SKIP: <reason> | <test> | <message>
//! ```
//!
//! `scripts/test.sh` collects these lines from every test run and ends with a count per reason. With `CI` set
//! (`scripts/test.sh` sets it) a skip is a failure instead — the test panics, saying what is missing — unless
//! its reason is listed in `TB_ALLOWED_SKIPS` (comma-separated): the Wine pass allows exactly the reason it
//! cannot avoid and lists those skips by name. So a green CI run has run every test it claims, and the
//! summary of a Linux CI run reads zero.

use std::io::Write;

/// How every skip line starts (what `scripts/test.sh` greps for).
pub const LINE_PREFIX: &str = "TB-SKIP:";

/// What a skip does in this run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// `CI` is set: a skip fails the test.
    pub ci: bool,
    /// Reasons that may still skip in CI (`TB_ALLOWED_SKIPS`).
    pub allowed: Vec<String>,
}

impl Policy {
    /// From `CI` and `TB_ALLOWED_SKIPS`. `CI` counts when set to anything but empty, `0` or `false`.
    pub fn from_env() -> Policy {
        Policy::parse(
            std::env::var("CI").ok().as_deref(),
            std::env::var("TB_ALLOWED_SKIPS").ok().as_deref(),
        )
    }

    pub fn parse(ci: Option<&str>, allowed: Option<&str>) -> Policy {
        let ci = ci.is_some_and(|v| {
            let v = v.trim();
            !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
        });
        let allowed = allowed
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        Policy { ci, allowed }
    }

    /// A CI run where nothing may skip.
    pub fn ci() -> Policy {
        Policy {
            ci: true,
            allowed: Vec::new(),
        }
    }

    /// Whether a skip for `reason` fails the test.
    pub fn fails(&self, reason: &str) -> bool {
        self.ci && !self.allowed.iter().any(|r| r == reason)
    }
}

/// The line a skip prints (with its newline). `reason` is a short slug (`tool-missing`, `not-root`, …): the
/// summary counts by it.
pub fn line(reason: &str, test: &str, message: &str) -> String {
    let flat = |text: &str| text.replace(['\r', '\n', '|'], " ");
    format!(
        "{LINE_PREFIX} {reason} | {} | {}\n",
        flat(test),
        flat(message)
    )
}

/// The running test's name (libtest names each test's thread after it).
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed thread>")
        .to_string()
}

/// Skips the calling test (it returns right after): one `TB-SKIP` line on standard error, or, in CI, a panic.
#[track_caller]
pub fn skip(reason: &str, message: &str) {
    skip_with(&Policy::from_env(), reason, message);
}

/// [`skip`] under an explicit policy (the tests of this machinery use it without touching the environment).
#[track_caller]
pub fn skip_with(policy: &Policy, reason: &str, message: &str) {
    // Written to the real stderr in one call: `eprintln!` would be captured by the test harness and lost for
    // a passing test, and one write keeps the line whole among the harness's own output.
    skip_to(policy, reason, message, &mut std::io::stderr());
}

/// [`skip_with`] writing its line to `out`.
#[track_caller]
pub fn skip_to(policy: &Policy, reason: &str, message: &str, out: &mut dyn Write) {
    assert!(
        !reason.is_empty()
            && reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "a skip reason is a slug of a-z, 0-9 and '-': {reason:?}"
    );
    let test = current_test();
    if policy.fails(reason) {
        panic!(
            "{test} would be skipped ({reason}: {message}), but CI is set: in CI every test must run. Install \
             what is missing (scripts/setup/*.sh) or, if this environment can never run it, add the reason to \
             TB_ALLOWED_SKIPS"
        );
    }
    let _ = out.write_all(line(reason, &test, message).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_read_like_the_usual_ci_systems_set_it() {
        assert!(Policy::parse(Some("true"), None).ci);
        assert!(Policy::parse(Some("1"), None).ci);
        for off in [None, Some(""), Some("0"), Some("false"), Some(" FALSE ")] {
            assert!(!Policy::parse(off, None).ci, "{off:?}");
        }
        let policy = Policy::parse(Some("true"), Some(" wine-linux-program , ,other"));
        assert_eq!(policy.allowed, ["wine-linux-program", "other"]);
        assert!(!policy.fails("wine-linux-program"));
        assert!(policy.fails("tool-missing"));
        assert!(!Policy::parse(None, None).fails("tool-missing"));
    }

    /// The mutation test of the machinery: with CI set, a skip panics (and names what was skipped); outside CI it
    /// returns.
    #[test]
    fn in_ci_a_skip_is_a_failure() {
        let mut out = Vec::new();
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            skip_to(
                &Policy::ci(),
                "tool-missing",
                "centrifugo is not installed",
                &mut out,
            )
        }));
        let payload = failed.expect_err("a skip in CI panics");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            text.contains("tool-missing") && text.contains("centrifugo is not installed"),
            "{text}"
        );
        assert!(out.is_empty(), "a failing skip prints no skip line");
        skip_to(&Policy::default(), "tool-missing", "outside CI", &mut out);
        let allowed = Policy::parse(Some("true"), Some("tool-missing"));
        skip_to(&allowed, "tool-missing", "allowed in CI", &mut out);
        let test = current_test();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "TB-SKIP: tool-missing | {test} | outside CI\nTB-SKIP: tool-missing | {test} | allowed in CI\n"
            )
        );
    }

    #[test]
    fn the_line_stays_one_parseable_line() {
        assert_eq!(
            line("not-root", "a::b", "needs root\nto chown | really"),
            "TB-SKIP: not-root | a::b | needs root to chown   really\n"
        );
        let bad = std::panic::catch_unwind(|| {
            skip_to(&Policy::default(), "Not A Slug", "", &mut Vec::new())
        });
        assert!(bad.is_err());
    }
}
