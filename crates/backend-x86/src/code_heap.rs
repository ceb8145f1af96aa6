//! Executable memory shared by all of the dynasm backend's functions: large chunks, each mapped
//! twice, writable at one address and executable at another, with functions packed in them.
//!
//! Why: a separate mapping per function (what `dynasmrt`'s own buffers do) costs `mmap`,
//! `mprotect` and `munmap` system calls and a fresh page fault for every compiled function,
//! and at least a page of memory: that was most of the backend's time for small functions
//! (about 15 of 18 µs for a one-line function). Here installing code is a copy into memory
//! that is already mapped, and nothing is ever writable and executable at one address.
//!
//! A chunk is unmapped once every function in it is freed and no new code goes in it. A forked
//! child shares the parent's chunks (the mappings are shared memory), so after a fork it never
//! writes into a chunk mapped before (`pthread_atfork`): what each process appends goes only
//! into chunks of its own, and code already installed is never written again.
//!
//! Where memfd or the mappings are refused, code goes into a mapping of its own as before.

use crate::CompileError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

/// Size of a chunk (code larger than this gets a chunk of its own size).
const CHUNK_BYTES: usize = 1 << 20;

/// Start of every function, aligned for the decoder's fetch blocks.
const ALIGN: usize = 16;

/// Machine code installed in the heap (or, if the heap is unavailable, in its own buffer).
pub(crate) enum HeapCode {
    Shared { chunk: usize, exec: *const u8, len: usize },
    Own(dynasmrt::ExecutableBuffer),
}

// SAFETY: installed code is immutable and the heap's bookkeeping is behind a mutex; the
// pointer is only read (as bytes, or called).
unsafe impl Send for HeapCode {}
// SAFETY: as above.
unsafe impl Sync for HeapCode {}

impl HeapCode {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `exec` points at `len` installed bytes, mapped until this is dropped.
            HeapCode::Shared { exec, len, .. } => unsafe { std::slice::from_raw_parts(*exec, *len) },
            HeapCode::Own(buffer) => buffer,
        }
    }
}

impl Drop for HeapCode {
    fn drop(&mut self) {
        if let HeapCode::Shared { chunk, .. } = *self {
            heap().release(chunk);
        }
    }
}

/// Copies `code` into executable memory.
pub(crate) fn install(code: &[u8]) -> Result<HeapCode, CompileError> {
    static AT_FORK: Once = Once::new();
    // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
    AT_FORK.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(forked_child));
    });
    if let Some(code) = heap().install(code) {
        return Ok(code);
    }
    install_separately(code)
}

/// Maps the chunk the next code goes into, if there is none yet: the first compilation then
/// finds its memory ready (mapping and first touching a chunk took as long as compiling a
/// small function).
pub(crate) fn reserve() {
    let mut heap = heap();
    if heap.current.is_none() {
        if let Some(chunk) = map_chunk(CHUNK_BYTES) {
            // SAFETY: the chunk's first byte is in bounds and writable; touching it faults the
            // first page in now.
            unsafe { chunk.write.write(0) };
            heap.current = Some(heap.add(chunk));
        }
    }
}

/// Copies `code` into a mapping of its own (the heap's fallback).
pub(crate) fn install_separately(code: &[u8]) -> Result<HeapCode, CompileError> {
    let failed = |e: std::io::Error| CompileError(format!("code buffer: {e}"));
    let mut buffer = dynasmrt::mmap::MutableBuffer::new(code.len().max(1)).map_err(failed)?;
    buffer.set_len(code.len());
    buffer.copy_from_slice(code);
    Ok(HeapCode::Own(buffer.make_exec().map_err(failed)?))
}

/// Set in a forked child until its heap has left the chunks it shares with its parent.
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn forked_child() {
    FORKED.store(true, Ordering::Relaxed);
}

fn heap() -> std::sync::MutexGuard<'static, Heap> {
    static HEAP: Mutex<Heap> = Mutex::new(Heap { chunks: Vec::new(), current: None });
    // A panic while holding the lock leaves the bookkeeping consistent (no step of it panics).
    HEAP.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Chunk {
    exec: *mut u8,
    write: *mut u8,
    size: usize,
    used: usize,
    /// Functions installed in it and not freed yet.
    live: usize,
}

// SAFETY: the pointers are mappings owned by the heap, used under its mutex.
unsafe impl Send for Chunk {}

struct Heap {
    /// Indexed by `HeapCode::Shared::chunk`; `None` once unmapped (the slot is reused).
    chunks: Vec<Option<Chunk>>,
    /// The chunk new code goes into.
    current: Option<usize>,
}

impl Heap {
    fn install(&mut self, code: &[u8]) -> Option<HeapCode> {
        if FORKED.swap(false, Ordering::Relaxed) {
            // Every chunk mapped so far is shared with the parent: write none of them again.
            self.retire_current();
        }
        let fits = |c: &Chunk| c.used.next_multiple_of(ALIGN) + code.len() <= c.size;
        let index = match self.current {
            Some(i) if self.chunks[i].as_ref().is_some_and(fits) => i,
            _ => {
                self.retire_current();
                let chunk = map_chunk(CHUNK_BYTES.max(code.len().next_multiple_of(page_size())))?;
                let i = self.add(chunk);
                self.current = Some(i);
                i
            }
        };
        let chunk = self.chunks[index].as_mut().expect("current chunk is mapped");
        let at = chunk.used.next_multiple_of(ALIGN);
        // SAFETY: `at + code.len() <= size` (checked by `fits` or by sizing the new chunk);
        // the writable view maps the same pages as the executable one.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), chunk.write.add(at), code.len()) };
        chunk.used = at + code.len();
        chunk.live += 1;
        // SAFETY: in bounds, as above.
        Some(HeapCode::Shared { chunk: index, exec: unsafe { chunk.exec.add(at) }, len: code.len() })
    }

    /// Keeps `chunk`, in a free slot if there is one; its index.
    fn add(&mut self, chunk: Chunk) -> usize {
        match self.chunks.iter().position(Option::is_none) {
            Some(free) => {
                self.chunks[free] = Some(chunk);
                free
            }
            None => {
                self.chunks.push(Some(chunk));
                self.chunks.len() - 1
            }
        }
    }

    fn release(&mut self, index: usize) {
        let Some(chunk) = self.chunks[index].as_mut() else { return };
        chunk.live -= 1;
        if chunk.live == 0 && self.current != Some(index) {
            self.unmap(index);
        }
    }

    /// No more code goes into the current chunk; it is unmapped now if nothing lives in it.
    fn retire_current(&mut self) {
        if let Some(i) = self.current.take() {
            if self.chunks[i].as_ref().is_some_and(|c| c.live == 0) {
                self.unmap(i);
            }
        }
    }

    fn unmap(&mut self, index: usize) {
        if let Some(chunk) = self.chunks[index].take() {
            // SAFETY: both views were mapped by `map_chunk` with this size, and no function in
            // the chunk is live (nothing can run or read it any more).
            unsafe {
                libc::munmap(chunk.exec.cast(), chunk.size);
                libc::munmap(chunk.write.cast(), chunk.size);
            }
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

/// Maps `size` bytes of shared memory twice: executable and readable, and writable. `None` if
/// the system refuses (the caller then falls back to a mapping per function).
fn map_chunk(size: usize) -> Option<Chunk> {
    // SAFETY: plain system calls on a file descriptor this function owns; every failure path
    // undoes what succeeded, and the descriptor is closed once mapped (the mappings keep the
    // memory).
    unsafe {
        let fd = libc::memfd_create(c"psyco-code".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return None;
        }
        let map = |prot| libc::mmap(std::ptr::null_mut(), size, prot, libc::MAP_SHARED, fd, 0);
        let chunk = if libc::ftruncate(fd, size as libc::off_t) != 0 {
            None
        } else {
            let write = map(libc::PROT_READ | libc::PROT_WRITE);
            let exec = map(libc::PROT_READ | libc::PROT_EXEC);
            match (write, exec) {
                (w, e) if w != libc::MAP_FAILED && e != libc::MAP_FAILED => {
                    Some(Chunk { exec: e.cast(), write: w.cast(), size, used: 0, live: 0 })
                }
                (w, e) => {
                    for view in [w, e] {
                        if view != libc::MAP_FAILED {
                            libc::munmap(view, size);
                        }
                    }
                    None
                }
            }
        };
        libc::close(fd);
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mov eax, n; ret`
    fn returns(n: u8) -> Vec<u8> {
        vec![0xb8, n, 0, 0, 0, 0xc3]
    }

    fn call(code: &HeapCode) -> u32 {
        // SAFETY: the bytes are `returns(n)`, a complete function of the C ABI.
        unsafe { std::mem::transmute::<*const u8, extern "C" fn() -> u32>(code.bytes().as_ptr())() }
    }

    #[test]
    fn installed_code_runs_packed_and_aligned_and_survives_its_neighbours() {
        let codes: Vec<HeapCode> = (0..100).map(|n| install(&returns(n)).unwrap()).collect();
        for (n, code) in codes.iter().enumerate() {
            assert_eq!(code.bytes().as_ptr() as usize % ALIGN, 0);
            assert_eq!(call(code), n as u32);
        }
        let shared = codes.iter().filter(|c| matches!(c, HeapCode::Shared { .. })).count();
        assert_eq!(shared, 100, "memfd chunks are available on Linux");
        let (evens, odds): (Vec<_>, Vec<_>) = codes.into_iter().enumerate().partition(|(n, _)| n % 2 == 0);
        drop(evens);
        for (n, code) in &odds {
            assert_eq!(call(code), *n as u32);
        }
    }

    #[test]
    fn code_larger_than_a_chunk_gets_its_own_and_the_fallback_runs_too() {
        let mut big = vec![0x90; CHUNK_BYTES + 100];
        big.extend(returns(7));
        let code = install(&big).unwrap();
        assert_eq!(code.bytes().len(), big.len());
        // SAFETY: a run of nops, then `mov eax, 7; ret`.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn() -> u32>(code.bytes().as_ptr()) };
        assert_eq!(f(), 7);
        let own = install_separately(&returns(9)).unwrap();
        assert!(matches!(own, HeapCode::Own(_)));
        assert_eq!(call(&own), 9);
    }
}
