use std::process::ExitCode;

// One allocator for Rust and (through `tree_sitter::set_allocator`) for tree-sitter's C code.
//
// jemalloc with one arena for every thread: the workers share the memory they free, so a run's
// peak is the most they hold together. An allocator that keeps freed memory per thread
// (mimalloc, glibc's arenas, jemalloc's default of four arenas per core) lets each worker keep
// what its own largest files needed, and the peak then rises with the length of the run (README,
// Performance). Each thread still has its cache of small blocks, so the speed is the same. Freed
// pages go back to the system after about 100 ms (as the run goes on allocating: there is no
// background thread). Windows uses the system allocator: tikv-jemalloc-sys does not support MSVC.
#[cfg(not(windows))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Read by jemalloc before `main` (as `malloc_conf`; the crate prefixes its symbols).
/// `MALLOC_CONF`-style settings in `_RJEM_MALLOC_CONF` still override it.
#[cfg(not(windows))]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_CONF: Option<&'static std::ffi::c_char> =
    // SAFETY: a pointer to the first byte of a static, nul-terminated string.
    Some(unsafe { &*c"narenas:1,dirty_decay_ms:100,muzzy_decay_ms:0".as_ptr() });

fn main() -> ExitCode {
    #[cfg(not(windows))]
    {
        let allocator = tree_sitter::Allocator {
            malloc: jemalloc::malloc,
            calloc: jemalloc::calloc,
            realloc: jemalloc::realloc,
            free: jemalloc::free,
        };
        // SAFETY: called once, before any other tree-sitter call, with one allocator family whose
        // functions return malloc-aligned memory and never null (they abort instead, as
        // tree-sitter's own defaults do).
        unsafe { tree_sitter::set_allocator(Some(allocator)) };
    }
    asyncmod::cli::main()
}

/// tree-sitter's allocation functions, on jemalloc.
#[cfg(not(windows))]
mod jemalloc {
    use std::ffi::c_void;
    use tikv_jemalloc_sys as sys;

    fn or_abort(pointer: *mut c_void, size: usize) -> *mut c_void {
        if pointer.is_null() && size > 0 {
            eprintln!("error: out of memory allocating {size} bytes");
            std::process::abort();
        }
        pointer
    }

    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        or_abort(unsafe { sys::malloc(size) }, size)
    }

    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        or_abort(unsafe { sys::calloc(count, size) }, count.saturating_mul(size))
    }

    pub unsafe extern "C" fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
        or_abort(unsafe { sys::realloc(pointer, size) }, size)
    }

    pub unsafe extern "C" fn free(pointer: *mut c_void) {
        unsafe { sys::free(pointer) }
    }
}
