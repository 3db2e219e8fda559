//! Inline suppression comments: `# asyncmod: ignore`, `# asyncmod: ignore[id,...]`, a bare
//! `# noqa`, and `# noqa: CODE` naming the equivalent Ruff rule.

use crate::definitions;

/// Whether a comment silences `transform` on its line.
pub fn silences(comment: &str, transform: &str) -> bool {
    let mut rest = comment;
    while let Some(hash) = rest.find('#') {
        rest = &rest[hash + 1..];
        let directive = rest.trim_start();
        if let Some(after) = strip_prefix_ignore_case(directive, "asyncmod:") {
            let after = after.trim_start();
            if let Some(list) = after.strip_prefix("ignore") {
                match list.trim_start().strip_prefix('[') {
                    Some(ids) => {
                        let ids = ids.split(']').next().unwrap_or("");
                        if ids.split(',').any(|id| id.trim() == transform) {
                            return true;
                        }
                    }
                    None => return true,
                }
            }
        } else if let Some(after) = strip_prefix_ignore_case(directive, "noqa") {
            let Some(codes) = after.trim_start().strip_prefix(':') else {
                // A bare `# noqa` (not `# noqa123`) silences everything on the line.
                if !after.starts_with(|c: char| c.is_alphanumeric()) {
                    return true;
                }
                continue;
            };
            let ruff_codes = definitions::get(transform).map_or(&[][..], |d| d.ruff.as_slice());
            let named = codes
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(str::trim)
                .take_while(|code| !code.starts_with('#'))
                .filter(|code| !code.is_empty());
            for code in named {
                if code == transform || ruff_codes.iter().any(|r| r.eq_ignore_ascii_case(code)) {
                    return true;
                }
            }
        }
    }
    false
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::silences;

    #[test]
    fn directives() {
        assert!(silences("# asyncmod: ignore", "time-sleep"));
        assert!(silences("# asyncmod: ignore[time-sleep, dangling-task]", "dangling-task"));
        assert!(!silences("# asyncmod: ignore[dangling-task]", "time-sleep"));
        assert!(silences("# noqa", "time-sleep"));
        assert!(silences("# noqa: ASYNC251", "time-sleep"));
        assert!(silences("# noqa: E501, ASYNC251", "time-sleep"));
        assert!(!silences("# noqa: RUF006", "time-sleep"));
        assert!(silences("# noqa: RUF006", "dangling-task"));
        assert!(silences("# type: ignore  # noqa: ASYNC251", "time-sleep"));
        assert!(!silences("# just a comment", "time-sleep"));
    }
}
