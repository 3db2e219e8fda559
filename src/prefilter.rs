//! A byte scan that skips files which cannot hold any finding, before the (costly) parse.

use memchr::memmem;

use crate::transforms::Transform;

/// Whether `bytes` contains, for some enabled transform, every string of one of its trigger groups.
///
/// Transforms share trigger strings (`async` gates many of them): each distinct string is searched
/// for at most once per file, and not at all when a string it contains is already known to be
/// absent (no `async` means no `async def`).
pub fn may_match(bytes: &[u8], transforms: &[&dyn Transform]) -> bool {
    let mut occurs = occurrences(bytes);
    transforms.iter().any(|transform| triggered(*transform, &mut occurs))
}

/// The transforms among `transforms` that may find something in `bytes`: the others need not
/// look at its tree.
pub fn matching<'a>(bytes: &[u8], transforms: &[&'a dyn Transform]) -> Vec<&'a dyn Transform> {
    let mut occurs = occurrences(bytes);
    let triggered: Vec<bool> =
        transforms.iter().map(|transform| triggered(*transform, &mut occurs)).collect();
    let any = triggered.contains(&true);
    transforms
        .iter()
        .zip(triggered)
        .filter(|(transform, triggered)| *triggered || (any && transform.runs_where_others_trigger()))
        .map(|(transform, _)| *transform)
        .collect()
}

fn triggered(transform: &dyn Transform, occurs: &mut impl FnMut(&'static str) -> bool) -> bool {
    transform.triggers().iter().any(|group| group.iter().all(|needle| occurs(needle)))
}

/// Whether a trigger string occurs in `bytes`, each searched for once.
fn occurrences(bytes: &[u8]) -> impl FnMut(&'static str) -> bool {
    let mut known: Vec<(&str, bool)> = Vec::new();
    move |needle: &'static str| {
        if let Some(&(_, found)) = known.iter().find(|(k, _)| *k == needle) {
            return found;
        }
        let ruled_out = known.iter().any(|(k, found)| !found && needle.contains(k));
        let found = !ruled_out && occurs(bytes, needle);
        known.push((needle, found));
        found
    }
}

/// Whether `needle` occurs in `bytes`; a space in it stands for any blank Python allows between
/// two words (`async  def`, `async\tdef`, a backslash continuation).
fn occurs(bytes: &[u8], needle: &str) -> bool {
    let mut words = needle.split(' ');
    let Some(first) = words.next() else { return true };
    let rest: Vec<&str> = words.collect();
    if rest.is_empty() {
        return memmem::find(bytes, first.as_bytes()).is_some();
    }
    memmem::find_iter(bytes, first.as_bytes()).any(|at| {
        let mut position = at + first.len();
        rest.iter().all(|word| {
            let blank = blank_length(&bytes[position..]);
            let follows = blank > 0 && bytes[position + blank..].starts_with(word.as_bytes());
            position += blank + word.len();
            follows
        })
    })
}

/// How many bytes of blanks (spaces, tabs, form feeds, backslash continuations) `bytes` starts
/// with.
fn blank_length(bytes: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match bytes[at..] {
            [b' ' | b'\t' | b'\x0c', ..] => at += 1,
            [b'\\', b'\n', ..] => at += 2,
            [b'\\', b'\r', b'\n', ..] => at += 3,
            _ => return at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::transforms::FileContext;

    struct Triggers(&'static [&'static [&'static str]]);

    impl Transform for Triggers {
        fn id(&self) -> &'static str {
            "test"
        }
        fn triggers(&self) -> &'static [&'static [&'static str]] {
            self.0
        }
        fn check(&self, _: &FileContext<'_, '_>, _: &mut Vec<Finding>) {}
    }

    #[test]
    fn a_transform_matches_when_every_string_of_one_group_occurs() {
        let sleep = Triggers(&[&["async", "sleep"], &["create_task"]]);
        let def = Triggers(&[&["async def"]]);
        let transforms: [&dyn Transform; 2] = [&sleep, &def];
        assert!(may_match(b"async x; time.sleep(1)", &transforms));
        assert!(may_match(b"loop.create_task(x)", &transforms));
        assert!(may_match(b"async def f(): pass", &transforms));
        assert!(!may_match(b"async with x: sleep", &transforms[1..]), "`async def` does not occur");
        assert!(!may_match(b"time.sleep(1)", &transforms), "`async` is missing from the first group");
        assert!(!may_match(b"def f(): pass", &transforms), "no `async`, hence no `async def`");
        assert!(!may_match(b"", &transforms));
        assert!(!may_match(b"async def f(): pass", &[]));
    }

    #[test]
    fn matching_keeps_the_transforms_whose_triggers_occur() {
        let sleep = Triggers(&[&["async", "sleep"]]);
        let task = Triggers(&[&["create_task"]]);
        let transforms: [&dyn Transform; 2] = [&sleep, &task];
        let ids = |bytes: &[u8]| -> Vec<_> {
            matching(bytes, &transforms).iter().map(|t| t.triggers()[0][0]).collect()
        };
        assert_eq!(ids(b"async def f(): await asyncio.sleep(1)"), ["async"]);
        assert_eq!(ids(b"loop.create_task(x)"), ["create_task"]);
        assert_eq!(ids(b"async def f(): sleep(1); create_task(x)"), ["async", "create_task"]);
        assert!(ids(b"def f(): pass").is_empty());
    }

    #[test]
    fn a_space_in_a_trigger_stands_for_any_blanks_between_words() {
        let def = Triggers(&[&["async def"]]);
        let transforms: [&dyn Transform; 1] = [&def];
        for spelled in
            ["async def f", "async  def f", "async\tdef f", "async \\\n def f", "x = 1; async\x0cdef f"]
        {
            assert!(may_match(spelled.as_bytes(), &transforms), "{spelled:?}");
        }
        for spelled in ["asyncdef f", "async\ndef f", "async with x: pass", "def f(): pass"] {
            assert!(!may_match(spelled.as_bytes(), &transforms), "{spelled:?}");
        }
    }

    #[test]
    fn a_transform_that_runs_where_others_trigger_comes_with_them() {
        struct Tagalong;
        impl Transform for Tagalong {
            fn id(&self) -> &'static str {
                "tagalong"
            }
            fn triggers(&self) -> &'static [&'static [&'static str]] {
                &[&["async def"]]
            }
            fn runs_where_others_trigger(&self) -> bool {
                true
            }
            fn check(&self, _: &FileContext<'_, '_>, _: &mut Vec<Finding>) {}
        }
        let task = Triggers(&[&["create_task"]]);
        let transforms: [&dyn Transform; 2] = [&Tagalong, &task];
        let ids = |bytes: &[u8]| -> Vec<_> { matching(bytes, &transforms).iter().map(|t| t.id()).collect() };
        assert_eq!(ids(b"loop.create_task(job())"), ["tagalong", "test"]);
        assert_eq!(ids(b"async def f(): pass"), ["tagalong"]);
        assert!(ids(b"def f(): pass").is_empty());
    }
}
