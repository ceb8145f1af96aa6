//! Leaving compiled code: counting the exit, rebuilding the frame as the interpreter expects
//! it at the snapshot ([`leave`]), and going on in a continuation version or the interpreter.

use crate::cpython::{self, ffi, ffi::PyObject, InterpreterFrame, ThreadState};
use crate::frontend::Start;
use crate::jit::code_cache::{arg_kind, CodeEntry, Version};
use crate::jit::compile::build_version;
use crate::jit::run::{run_default, run_native, thread_allows_compiled};
use crate::jit::state::{jit, Jit, Mode};
use crate::reasons::ExitReason;
use ir::{ExitKind, Kind};
use std::os::raw::c_int;
use std::ptr::null_mut;

/// Failures of one `type_changed` guard of a call version after which it is compiled again.
const MISPREDICTIONS_TO_RECOMPILE: u64 = 16;

/// Compiled code left `frame` through `snapshot` of `version`: count it, rebuild the frame,
/// and finish the call, in continuation versions while there are fitting ones, then in the
/// interpreter.
#[cold]
pub(super) unsafe fn after_exit(
    mut version: *mut Version,
    mut snapshot: usize,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
) -> *mut PyObject {
    // SAFETY: the version just ran on this frame; GIL held; `active_native > 0` keeps every
    // version alive, and the frame keeps the code object and so its entry.
    unsafe {
        let e = (*version).owner;
        loop {
            let jit = jit();
            let v = &mut *version;
            v.exit_counts[snapshot] += 1;
            let (reason, kind) = v.exit_reason(snapshot);
            *(*e).exits.entry(reason).or_insert(0) += 1;
            jit.stats.exit(reason);
            let continued = kind == ExitKind::Resume && reason.continued();
            let snap_pc = v.snapshots[snapshot].pc;
            let depth = v.snapshots[snapshot].stack_depth;
            let raise = leave(v, snapshot, frame) || kind == ExitKind::Raise;
            if reason == ExitReason::InlinedCallFailed {
                // The call is made from now on: its site's input is marked as mispredicted.
                (*(*e).profiles.site(snap_pc)).input.mispredicted();
            }
            // A speculation on a site's type, or an inlined call, that keeps failing (the
            // site's profile says so now) is compiled again without it: a call version is
            // retired once it failed often, a continuation at once (it was compiled for a
            // frame in the middle of its work, and the frames that enter it next are like
            // that one).
            let mispredicting = matches!(reason, ExitReason::TypeChanged | ExitReason::InlinedCallFailed)
                && match v.start {
                    Start::Call => v.exit_counts[snapshot] == MISPREDICTIONS_TO_RECOMPILE,
                    Start::Resume { .. } => true,
                };
            let reoptimize = reason == ExitReason::Reoptimize || mispredicting;
            if reoptimize {
                // Its loop has filled the profiles: calls and this frame go on in versions
                // compiled with them.
                (*e).reoptimized += (reason == ExitReason::Reoptimize) as u32;
                jit.cache.retire(&mut *e, version);
            }
            // A continuation that left where it started made no progress: running it (or
            // another) again could go round forever, so the interpreter takes over (not after
            // a reoptimization, which retired it).
            let progressed = reoptimize || v.start != (Start::Resume { pc: snap_pc, depth });
            let next = if continued && !raise && progressed { continuation(jit, e, ts, frame, snap_pc, depth) } else { None };
            let Some(next) = next else {
                // The interpreter finishes the call: warm the code up as its RESUME would have.
                cpython::warm_up((*frame).f_code);
                if raise {
                    return cpython::tracing::throw_without_call_event(ts, frame);
                }
                return run_default(ts, frame, 0);
            };
            version = next;
            // Compiled code keeps the frame's stack to itself (as in a call it runs from the
            // start): the interpreter must not see those entries, nor release them on return.
            (*frame).stacktop = (*(*frame).f_code).co_nlocalsplus;
            let outcome = run_native(version, ts, frame);
            if outcome.exit == 0 {
                return outcome.value as *mut PyObject;
            }
            snapshot = (outcome.exit - 1) as usize;
        }
    }
}

/// The continuation version for `frame`, rebuilt to resume at `pc` with `depth` stack
/// entries: one that accepts what the frame holds, else one compiled now (at most
/// `max_versions` per offset, then one generic version), if compiled code may run.
unsafe fn continuation(
    jit: &mut Jit,
    e: *mut CodeEntry,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
    pc: u32,
    depth: u32,
) -> Option<*mut Version> {
    // SAFETY: the frame was just rebuilt; its first `nlocals + depth` slots are live.
    unsafe {
        if jit.mode == Mode::Off || !thread_allows_compiled(ts) {
            return None;
        }
        let entry = &mut *e;
        let nlocals = (*(*frame).f_code).co_nlocalsplus as usize;
        let kinds: Vec<Kind> = (0..nlocals + depth as usize)
            .map(|i| {
                let obj = *cpython::frame_slot(frame, i);
                match (obj.is_null(), arg_kind(obj)) {
                    (true, _) => Kind::Bottom,
                    // The frame owns its stack entries: they stay objects.
                    (false, k) if i >= nlocals => k.type_tag().map_or(Kind::Object, Kind::Exact),
                    (false, k) => k,
                }
            })
            .collect();
        let start = Start::Resume { pc, depth };
        let (globals, builtins) = ((*frame).f_globals, (*frame).f_builtins);
        let fits = |v: &Version| v.start == start && v.globals == globals && v.builtins == builtins && accepts_slots(&v.key, &kinds);
        if let Some(&k) = entry.continuations.iter().find(|&&k| jit.cache.version(k).is_some_and(fits)) {
            return jit.cache.version_ptr(k);
        }
        if !matches!(jit.mode, Mode::Compiling { .. }) || entry.continuations_declined.contains(&pc) {
            return None;
        }
        let here = entry.continuations.iter().filter(|&&k| jit.cache.version(k).is_some_and(|v| v.start == start)).count();
        let kinds = if here < jit.options.max_versions {
            kinds
        } else if here == jit.options.max_versions {
            // Past the cap, one generic version: every slot any object or NULL.
            vec![Kind::Object; kinds.len()]
        } else {
            return None;
        };
        match build_version(jit, entry, ts, frame, start, kinds) {
            Ok(version) => {
                let key = jit.cache.add_version(entry, version, true);
                jit.cache.version_ptr(key)
            }
            Err(_) => {
                entry.continuations_declined.push(pc);
                None
            }
        }
    }
}

/// Whether a continuation made for slot kinds `key` accepts a frame whose slots hold
/// `actual` (`Bottom`: NULL; a key's `Object` takes anything, NULL included).
fn accepts_slots(key: &[Kind], actual: &[Kind]) -> bool {
    key.iter().zip(actual).all(|(&k, &a)| match (k, a) {
        (Kind::Object, _) => true,
        (Kind::Bottom, a) => a == Kind::Bottom,
        (_, Kind::Bottom) => false,
        (k, a) => k == a || a.le(k),
    })
}

/// Rebuilds the frame as the interpreter expects it at a snapshot. Returns true if building
/// an object failed (an exception is then pending and the frame must take the raise path).
unsafe fn leave(version: *mut Version, snapshot: usize, frame: *mut InterpreterFrame) -> bool {
    // SAFETY: the version is live; the frame is the one the compiled code ran on.
    unsafe {
        let v = &*version;
        let snap = &v.snapshots[snapshot];
        let values: Vec<u64> = v.exit_buffer[..snap.exit_values().count()].to_vec();
        let code = (*frame).f_code;
        let nlocals = (*code).co_nlocalsplus as usize;
        let mut failed = false;
        // Building objects (a range iterator calls `range()`) must not see the exception a
        // raise exit carries: set it aside meanwhile.
        let (mut ty, mut value, mut tb) = (null_mut(), null_mut(), null_mut());
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        let mut next = values.into_iter();
        // One number held in several slots becomes one object, as it was in CPython.
        let mut built: Vec<(Kind, u64, *mut PyObject)> = Vec::new();
        for entry in &snap.entries {
            let mut word = || next.next().unwrap_or(0);
            let scalar = matches!(entry.kind, Kind::MachineInt | Kind::UnboxedFloat | Kind::MachineBool);
            if scalar {
                let bits = word();
                let obj = match built.iter().find(|(k, b, _)| *k == entry.kind && *b == bits) {
                    Some(&(_, _, obj)) => {
                        ffi::Py_INCREF(obj);
                        obj
                    }
                    None => {
                        let obj = match entry.kind {
                            Kind::MachineInt => ffi::PyLong_FromLongLong(bits as i64),
                            Kind::UnboxedFloat => ffi::PyFloat_FromDouble(f64::from_bits(bits)),
                            _ => ffi::PyBool_FromLong(bits as _),
                        };
                        if !obj.is_null() {
                            built.push((entry.kind, bits, obj));
                        }
                        obj
                    }
                };
                failed |= store_rebuilt(frame, nlocals, entry.slot as usize, obj);
                continue;
            }
            let obj = match entry.kind {
                Kind::IntConst(c) => ffi::PyLong_FromLongLong(c),
                Kind::FloatConst(bits) => ffi::PyFloat_FromDouble(f64::from_bits(bits)),
                Kind::BoolConst(b) => ffi::PyBool_FromLong(b as _),
                Kind::ObjConst(_, id) => {
                    let o = v.tables.consts.get(id);
                    ffi::Py_INCREF(o);
                    o
                }
                Kind::VirtualRangeIter => {
                    let (a, b, c) = (word() as i64, word() as i64, word() as i64);
                    crate::helpers::range_iterator(a, b, c)
                }
                // An object the frame's locals hold, borrowed by a stack entry: the stack
                // takes a reference of its own.
                Kind::Exact(_) | Kind::Object => {
                    let obj = word() as *mut PyObject;
                    ffi::Py_INCREF(obj);
                    obj
                }
                Kind::MachineInt | Kind::UnboxedFloat | Kind::MachineBool => unreachable!("handled above"),
                Kind::Bottom => null_mut(),
            };
            if entry.kind == Kind::Bottom {
                *cpython::frame_slot(frame, entry.slot as usize) = null_mut();
            } else {
                failed |= store_rebuilt(frame, nlocals, entry.slot as usize, obj);
            }
        }
        if failed {
            // The failure's own exception (MemoryError) wins, as it would have in the
            // interpreter had it happened first.
            ffi::Py_XDECREF(ty);
            ffi::Py_XDECREF(value);
            ffi::Py_XDECREF(tb);
        } else {
            ffi::PyErr_Restore(ty, value, tb);
        }
        (*frame).stacktop = (nlocals + snap.stack_depth as usize) as c_int;
        let first = (*code).co_code_adaptive.as_mut_ptr();
        (*frame).prev_instr = match snap.kind {
            ExitKind::Resume => first.add(snap.pc as usize).offset(-1),
            ExitKind::Raise => first.add(snap.pc as usize),
        };
        failed
    }
}

/// Stores a rebuilt object (a new reference, or NULL if building failed, in which case None
/// stands in and `true` is returned) into a frame slot, releasing what a local slot held.
unsafe fn store_rebuilt(frame: *mut InterpreterFrame, nlocals: usize, slot: usize, obj: *mut PyObject) -> bool {
    // SAFETY: the slot belongs to the frame being rebuilt; locals own their old value.
    unsafe {
        let failed = obj.is_null();
        let obj = if failed {
            ffi::Py_INCREF(ffi::Py_None());
            ffi::Py_None()
        } else {
            obj
        };
        let p = cpython::frame_slot(frame, slot);
        if slot < nlocals {
            let old = *p;
            *p = obj;
            ffi::Py_XDECREF(old);
        } else {
            *p = obj;
        }
        failed
    }
}
