//! A byte scan that skips files which cannot hold any finding, before the (costly) parse.

use memchr::memmem;

use crate::transforms::Transform;

/// Whether `bytes` contains, for some enabled transform, every string of one of its trigger groups.
pub fn may_match(bytes: &[u8], transforms: &[&dyn Transform]) -> bool {
    transforms.iter().any(|transform| {
        transform
            .triggers()
            .iter()
            .any(|group| group.iter().all(|needle| memmem::find(bytes, needle.as_bytes()).is_some()))
    })
}
