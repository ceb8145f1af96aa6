//! Whether compiling pays: the tally of native against generic operations, and the three
//! moments it decides to decline code that is mostly generic (`DeclineReason::MostlyGeneric`).
//!
//! Generic operations through the C API are slower than the interpreter's own specialized
//! instructions (3.11 quickens attribute access, float arithmetic, subscripts...): code made
//! mostly of them (generic > 2 × native) stays interpreted. Declining must cost little, so it
//! is decided as early as the evidence allows:
//! 1. before emitting anything, on the interpreter's evidence when it has warmed the code up
//!    (`crate::feedback`);
//! 2. while emitting the first round, as soon as the generic operations outnumber twice every
//!    native one the round could still emit ([`Balance::hopeless`]);
//! 3. at the end of the first round (later rounds only widen block versions, which changed
//!    the balance for none of ~1,800 compilations of the benchmark programs and standard
//!    modules measured), and of the last.
//!
//! Code compiled before the interpreter ran it (a function with a loop, at its first call) has
//! no evidence for moment 1, and moment 2's bound must assume that every call and operator
//! not emitted yet may be native: big functions made of object operations (`re`'s parser)
//! were emitted half-way and more before being declined. So without the interpreter's
//! evidence the first round also *scouts* ([`Balance::scouted_generic`]): once a quarter of
//! the code (or 200 instructions) is emitted, generic operations outnumbering native ones four to one (twice the
//! final rule's margin, 32 of them at least) decline it. Checked on the benchmark programs,
//! `re.compile` and the imports of the start-up benchmark, at the default policy and at
//! `PSYCO_THRESHOLD=0` (617 compiled functions): of the 107 compilations it would stop, none
//! ended compiled.

use crate::bytecode::Instr;
use crate::feedback;
use crate::opcodes::*;

/// Functions with fewer generic operations are finished before being judged: a block
/// emitted again for another version can add native operations that
/// [`Balance::hopeless`]'s bound does not count (`matmul`'s comprehension was such a case).
const SMALL: usize = 8;

/// Scouting judges once this fraction of the instructions (1 / `SCOUT_DIVISOR`) is emitted,
/// or this many of them in big code...
const SCOUT_DIVISOR: usize = 4;
const SCOUT_ENOUGH: usize = 200;
/// ... and at least this many generic operations seen (small code is finished first)...
const SCOUT_MIN_GENERIC: usize = 32;
/// ... when they outnumber the native ones this many times (twice the final rule's margin).
const SCOUT_RATIO: usize = 4;

/// One round's tally.
#[derive(Default)]
pub(super) struct Balance {
    /// Operations the interpreter would specialize but we emit through the generic C API.
    generic: usize,
    /// Operations we specialize (unboxed arithmetic, virtual ranges, direct calls...).
    native: usize,
    /// Instructions not emitted yet this round that could still add a native operation.
    native_capable_left: usize,
    /// Which instructions this round emitted, and how many.
    emitted: Vec<bool>,
    emitted_count: usize,
    /// Whether this round scouts (see the module's doc).
    scouting: bool,
}

impl Balance {
    /// The tally at the start of a round, given which instructions may be native
    /// ([`native_capable`]); `scouting` for a first round without the interpreter's evidence.
    pub(super) fn new_round(capable: &[bool], scouting: bool) -> Balance {
        Balance {
            native_capable_left: capable.iter().filter(|&&c| c).count(),
            emitted: vec![false; capable.len()],
            scouting,
            ..Balance::default()
        }
    }

    /// Instruction `index` is being emitted; `capable` is its `native_capable` entry.
    pub(super) fn emitting(&mut self, index: usize, capable: bool) {
        if !std::mem::replace(&mut self.emitted[index], true) {
            self.emitted_count += 1;
            if capable {
                self.native_capable_left -= 1;
            }
        }
    }

    pub(super) fn native(&mut self) {
        self.native += 1;
    }

    /// A generic operation for `opcode`, counted if the interpreter would have specialized it.
    pub(super) fn generic(&mut self, opcode: u8) {
        if matches!(
            opcode,
            BINARY_OP | COMPARE_OP | LOAD_ATTR | STORE_ATTR | LOAD_METHOD | BINARY_SUBSCR | STORE_SUBSCR | UNPACK_SEQUENCE
        ) {
            self.generic += 1;
        }
    }

    /// Whether a scouting round has seen enough of the code, and it overwhelmingly generic.
    pub(super) fn scouted_generic(&self) -> bool {
        self.scouting
            && (self.emitted_count * SCOUT_DIVISOR >= self.emitted.len() || self.emitted_count >= SCOUT_ENOUGH)
            && self.generic >= SCOUT_MIN_GENERIC
            && self.generic > SCOUT_RATIO * self.native
    }

    pub(super) fn mostly_generic(&self) -> bool {
        self.generic > 2 * self.native
    }

    /// Whether the round already shows the code mostly generic whatever the rest of it emits:
    /// even if every instruction not emitted yet became a native operation, the generic ones
    /// would outnumber them two to one.
    pub(super) fn hopeless(&self) -> bool {
        self.generic >= SMALL && self.generic > 2 * (self.native + self.native_capable_left)
    }
}

/// Per instruction, whether it can compile to a native operation (one that `Balance`
/// counts): by its opcode, and for code the interpreter has quickened (`quickened`), by what
/// 3.11 made of it too (`crate::feedback`): a site it specialized for strs, attributes or
/// bound methods will not be native either.
pub(super) fn native_capable(instrs: &[Instr], quickened: Option<&[u16]>) -> Vec<bool> {
    let by_feedback = |i: usize, ins: &Instr| match quickened {
        None => true,
        Some(units) if ins.opcode == CALL => match i.checked_sub(1).map(|p| instrs[p]) {
            Some(precall) if precall.opcode == PRECALL => feedback::call_may_be_native(units, precall.pc),
            _ => true,
        },
        Some(units) => feedback::may_be_native_at(units, ins.pc),
    };
    instrs.iter().enumerate().map(|(i, ins)| may_be_native(ins.opcode) && by_feedback(i, ins)).collect()
}

/// Whether an opcode can compile to a native operation at all.
fn may_be_native(opcode: u8) -> bool {
    matches!(opcode, BINARY_OP | COMPARE_OP | FOR_ITER | CALL | LOAD_DEREF | LOAD_METHOD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hopeless_once_generic_outnumbers_all_that_could_still_be_native() {
        let capable: Vec<bool> = [LOAD_ATTR; 10].into_iter().chain([BINARY_OP]).map(may_be_native).collect();
        let mut balance = Balance::new_round(&capable, false);
        for i in 0..10 {
            balance.emitting(i, capable[i]);
            balance.generic(LOAD_ATTR);
        }
        // One BINARY_OP is left: it could still be native, 10 > 2 * 1 all the same.
        assert!(balance.hopeless());
        assert!(balance.mostly_generic());
    }

    #[test]
    fn small_or_balanced_code_is_never_hopeless() {
        let mut small = Balance::new_round(&[false; 7], false);
        (0..7).for_each(|i| {
            small.emitting(i, false);
            small.generic(LOAD_ATTR);
        });
        assert!(!small.hopeless() && small.mostly_generic());
        let capable: Vec<bool> = [LOAD_ATTR; 8].into_iter().chain([BINARY_OP; 4]).map(may_be_native).collect();
        let mut balanced = Balance::new_round(&capable, false);
        (0..8).for_each(|i| {
            balanced.emitting(i, capable[i]);
            balanced.generic(LOAD_ATTR);
        });
        assert!(!balanced.hopeless(), "four operations could still be native");
    }

    #[test]
    fn only_operations_the_interpreter_specializes_count_as_generic() {
        let mut balance = Balance::new_round(&[], false);
        balance.generic(BUILD_TUPLE);
        balance.generic(LOAD_ATTR);
        assert_eq!(balance.generic, 1);
    }

    #[test]
    fn scouting_judges_a_quarter_of_the_code_when_overwhelmingly_generic() {
        let capable = vec![true; 160];
        let scout = |scouting: bool, emitted: usize, native: usize| {
            let mut balance = Balance::new_round(&capable, scouting);
            (0..emitted).for_each(|i| {
                balance.emitting(i, true);
                balance.generic(LOAD_ATTR);
            });
            (0..native).for_each(|_| balance.native());
            balance.scouted_generic()
        };
        assert!(scout(true, 40, 9), "a quarter emitted, 40 generic > 4 x 9 native");
        assert!(!scout(true, 39, 0), "less than a quarter emitted");
        let big = vec![true; 1000];
        let mut balance = Balance::new_round(&big, true);
        (0..200).for_each(|i| {
            balance.emitting(i, true);
            balance.generic(LOAD_ATTR);
        });
        assert!(balance.scouted_generic(), "200 instructions of big code are enough");
        assert!(!scout(true, 40, 10), "40 generic is not more than 4 x 10 native");
        assert!(!scout(false, 160, 0), "only rounds without the interpreter's evidence scout");
        let mut small = Balance::new_round(&[true; 40], true);
        (0..31).for_each(|i| {
            small.emitting(i, true);
            small.generic(LOAD_ATTR);
        });
        assert!(!small.scouted_generic(), "fewer than 32 generic operations");
    }
}
