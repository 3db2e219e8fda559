//! asyncmod: find async-Python anti-patterns and rewrite them into correct, concurrent code.
//!
//! The pipeline, one module a stage: [`walk`] finds files, [`prefilter`] skips the ones that cannot
//! match, [`source`] reads bytes faithfully, [`syntax`] parses, [`semantic`] answers "is this async?"
//! and "what does this name refer to?", [`transforms`] produce [`finding::Finding`]s, [`engine`]
//! applies their fixes (with [`imports`] and [`verify`]), [`write`] stores the result atomically and
//! [`print`] reports.

pub mod blocking;
pub mod cache;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod definitions;
pub mod engine;
pub mod finding;
pub mod gitdiff;
pub mod imports;
pub mod naming;
pub mod prefilter;
pub mod print;
pub mod project;
pub mod pyproject;
pub mod semantic;
pub mod slice;
pub mod source;
pub mod stdlib;
pub mod suppress;
pub mod syntax;
pub mod transforms;
pub mod verify;
pub mod walk;
pub mod write;
