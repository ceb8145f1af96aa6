//! Whether compiling pays: the tally of native against generic operations, and the three
//! moments it decides to decline code that is mostly generic ([`super::MOSTLY_GENERIC`]).
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

use crate::opcodes::*;

/// Functions with fewer generic operations are finished before being judged: a block
/// emitted again for another version can add native operations that
/// [`Balance::hopeless`]'s bound does not count (`matmul`'s comprehension was such a case).
const SMALL: usize = 8;

/// One round's tally.
#[derive(Default)]
pub(super) struct Balance {
    /// Operations the interpreter would specialize but we emit through the generic C API.
    generic: usize,
    /// Operations we specialize (unboxed arithmetic, virtual ranges, direct calls...).
    native: usize,
    /// Instructions not emitted yet this round that could still add a native operation.
    native_capable_left: usize,
    /// Which instructions this round emitted.
    emitted: Vec<bool>,
}

impl Balance {
    /// The tally at the start of a round over `opcodes` (the code's instructions, in order).
    pub(super) fn new_round(opcodes: impl Iterator<Item = u8>) -> Balance {
        let mut balance = Balance::default();
        for opcode in opcodes {
            balance.native_capable_left += may_be_native(opcode) as usize;
            balance.emitted.push(false);
        }
        balance
    }

    /// Instruction `index`, of `opcode`, is being emitted.
    pub(super) fn emitting(&mut self, index: usize, opcode: u8) {
        if !std::mem::replace(&mut self.emitted[index], true) && may_be_native(opcode) {
            self.native_capable_left -= 1;
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

    /// A `FOR_ITER` over an object, through the C API.
    pub(super) fn generic_iteration(&mut self) {
        self.generic += 1;
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

/// Whether an instruction can compile to a native operation (one that `Balance` counts).
fn may_be_native(opcode: u8) -> bool {
    matches!(opcode, BINARY_OP | COMPARE_OP | FOR_ITER | CALL | LOAD_DEREF | LOAD_METHOD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hopeless_once_generic_outnumbers_all_that_could_still_be_native() {
        let mut balance = Balance::new_round([LOAD_ATTR; 10].into_iter().chain([BINARY_OP]));
        for i in 0..10 {
            balance.emitting(i, LOAD_ATTR);
            balance.generic(LOAD_ATTR);
        }
        // One BINARY_OP is left: it could still be native, 10 > 2 * 1 all the same.
        assert!(balance.hopeless());
        assert!(balance.mostly_generic());
    }

    #[test]
    fn small_or_balanced_code_is_never_hopeless() {
        let mut small = Balance::new_round([LOAD_ATTR; 7].into_iter());
        (0..7).for_each(|i| {
            small.emitting(i, LOAD_ATTR);
            small.generic(LOAD_ATTR);
        });
        assert!(!small.hopeless() && small.mostly_generic());
        let mut balanced = Balance::new_round([LOAD_ATTR; 8].into_iter().chain([BINARY_OP; 4]));
        (0..8).for_each(|i| {
            balanced.emitting(i, LOAD_ATTR);
            balanced.generic(LOAD_ATTR);
        });
        assert!(!balanced.hopeless(), "four operations could still be native");
    }

    #[test]
    fn only_operations_the_interpreter_specializes_count_as_generic() {
        let mut balance = Balance::new_round(std::iter::empty());
        balance.generic(BUILD_TUPLE);
        balance.generic(LOAD_ATTR);
        assert_eq!(balance.generic, 1);
    }
}
