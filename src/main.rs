use std::ffi::c_void;
use std::process::ExitCode;

// Parsing allocates every syntax node: mimalloc's thread-local free lists beat glibc's malloc
// there, for Rust and (through `set_allocator`) for tree-sitter's C code alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mimalloc.h` (the Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// How long freed memory may stay resident, in milliseconds. mimalloc 3 waits a second, and on a
/// long run the memory of files already processed piles up meanwhile (scanning 99k files, RSS
/// climbs to 46 MB in saw-teeth); after 10 ms it stays between 13 and 20 MB.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

fn main() -> ExitCode {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first thing in `main`, before any thread starts (the option is a plain
        // global that mimalloc reads when it purges).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    let allocator =
        tree_sitter::Allocator { malloc: ts_malloc, calloc: ts_calloc, realloc: ts_realloc, free: ts_free };
    // SAFETY: called once, before any other tree-sitter call, with one allocator family whose
    // functions return malloc-aligned memory and never null (they abort instead, as tree-sitter's
    // own defaults do).
    unsafe { tree_sitter::set_allocator(Some(allocator)) };
    asyncmod::cli::main()
}

fn or_abort(pointer: *mut c_void, size: usize) -> *mut c_void {
    if pointer.is_null() && size > 0 {
        eprintln!("error: out of memory allocating {size} bytes");
        std::process::abort();
    }
    pointer
}

unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    or_abort(unsafe { libmimalloc_sys::mi_malloc(size) }, size)
}

unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
    or_abort(unsafe { libmimalloc_sys::mi_calloc(count, size) }, count.saturating_mul(size))
}

unsafe extern "C" fn ts_realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
    or_abort(unsafe { libmimalloc_sys::mi_realloc(pointer, size) }, size)
}

unsafe extern "C" fn ts_free(pointer: *mut c_void) {
    unsafe { libmimalloc_sys::mi_free(pointer) }
}
