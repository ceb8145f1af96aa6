//! Why compiled code leaves, and why code is not compiled: every reason declared once, with
//! its name (in `stats()`, `explain()`, the log and printed IR) and what the runtime does
//! about it. Counters are keyed by these enums, never by strings.

use crate::opcodes;
use std::borrow::Cow;
use std::fmt;

/// Declares `ExitReason`: one line per reason, `Variant = "name", continued, "why"`.
/// `continued` says that a frame leaving for this reason goes on in a continuation compiled
/// for what it holds then (a guard on a kind or a value failed, and the rest of the code is
/// worth specializing again); otherwise the interpreter finishes the call.
macro_rules! exit_reasons {
    ($($variant:ident = $name:literal, $continued:literal, $doc:literal;)*) => {
        /// Why compiled code left for the interpreter (each snapshot has one).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ExitReason {
            $(#[doc = $doc] $variant,)*
            /// An instruction the front end does not compile (here, or at all).
            Unsupported { opcode: u8 },
        }

        impl ExitReason {
            /// Every reason but `Unsupported`.
            pub const NAMED: &'static [ExitReason] = &[$(ExitReason::$variant),*];

            /// The name of a reason other than `Unsupported`, without building a string (a
            /// snapshot takes one per exit).
            fn static_name(self) -> Option<&'static str> {
                match self {
                    $(ExitReason::$variant => Some($name),)*
                    ExitReason::Unsupported { .. } => None,
                }
            }

            /// Whether the frame goes on in a continuation version (see the macro's doc).
            pub fn continued(self) -> bool {
                match self {
                    $(ExitReason::$variant => $continued,)*
                    ExitReason::Unsupported { .. } => false,
                }
            }
        }
    };
}

exit_reasons! {
    UnboundLocal = "unbound_local", false, "A local read or deleted while unbound: the interpreter raises.";
    UnboundFreeVariable = "unbound_free_variable", false, "An empty cell read: the interpreter raises NameError.";
    KindChanged = "kind_changed", true, "A speculated kind (a cell's value) no longer holds.";
    TypeChanged = "type_changed", true, "A value's type is not the one its site's profile saw.";
    Reoptimize = "reoptimize", true, "A loop ran long enough for its sites' profiles: the code is compiled again with them.";
    IntOverflow = "int_overflow", true, "A machine-int operation overflowed: the int outgrew a word.";
    IntShift = "int_shift", true, "A shift count out of the machine range (or negative).";
    IntBeyondFloat = "int_beyond_float", false, "A machine int compared with a float is beyond 2**53: the interpreter compares them exactly.";
    IntDivision = "int_division", false, "Integer division or modulo by zero, or overflowing.";
    FloatDivisionByZero = "float_division_by_zero", false, "Float division by zero: the interpreter raises.";
    FloatPower = "float_power", false, "A float power C's pow does not compute as CPython: a base not positive and finite, an infinite exponent or result.";
    RangeOverflow = "range_overflow", false, "A virtual range iterator stepped past the machine range.";
    RangeZeroStep = "range_zero_step", false, "range() with a zero step: the interpreter raises ValueError.";
    GlobalMissing = "global_missing", false, "A global or builtin not defined: the interpreter raises NameError.";
    GlobalChanged = "global_changed", true, "A global the code was specialized for was rebound.";
    BoxFailed = "box_failed", false, "Boxing an unboxed value failed (out of memory).";
    TracingEnabled = "tracing_enabled", false, "A callee switched tracing or profiling on.";
    Exception = "exception", false, "An operation raised and no compiled handler covers it.";
    ExceptionWhileTracing = "exception_while_tracing", false, "An operation raised while tracing was switched on.";
    EvalBreaker = "eval_breaker", false, "A signal, pending call or GIL request at a back-edge, or at the entry of an inlined call.";
    InlinedCodeReplaced = "inlined_code_replaced", true, "The function of an inlined call has another __code__ now: the interpreter makes the call.";
    InlinedCallFailed = "inlined_call_failed", true, "An inlined call's body could not finish (an overflow, a zero divisor...): the call is made, and the site calls from then on.";
    RecursionLimit = "recursion_limit", false, "An inlined call at the recursion limit: the interpreter makes it, and raises RecursionError.";
    Raise = "raise", false, "RAISE_VARARGS or RERAISE: the interpreter raises.";
    TruthOfConstantObject = "truth_of_constant_object", false, "The truth of a constant the compiler cannot decide.";
    CompareOpArgument = "compare_op_argument", false, "A COMPARE_OP argument out of range.";
    ForIterOverScalar = "for_iter_over_scalar", false, "FOR_ITER over an unboxed value.";
    ContainerNotInFrame = "container_not_in_frame", false, "A comprehension's container is not a frame object.";
}

impl ExitReason {
    /// The reason's name: `int_overflow` (built for no named reason: every snapshot takes
    /// one), or `unsupported_<opcode name>`.
    pub fn name(self) -> Cow<'static, str> {
        match self {
            ExitReason::Unsupported { opcode } => {
                format!("unsupported_{}", opcodes::name(opcode).to_lowercase()).into()
            }
            named => named.static_name().expect("named reasons have a name").into(),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Declares `DeclineReason`: one line per reason, `Variant = "name", key_only`.
/// `key_only` says that only the argument kinds it was compiled for are declined: the code
/// may be worth compiling for others (ints, floats), up to a few keys.
macro_rules! decline_reasons {
    ($($variant:ident = $name:literal, $key_only:literal;)*) => {
        /// Why code runs interpreted instead of compiled.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DeclineReason {
            $($variant,)*
        }

        impl DeclineReason {
            pub const ALL: &'static [DeclineReason] = &[$(DeclineReason::$variant),*];

            /// The reason as `stats()['declined']`, `explain()` and the log name it.
            pub fn name(self) -> &'static str {
                match self {
                    $(DeclineReason::$variant => $name,)*
                }
            }

            /// Whether only the argument kinds are declined (see the macro's doc).
            pub fn key_only(self) -> bool {
                match self {
                    $(DeclineReason::$variant => $key_only,)*
                }
            }
        }
    };
}

decline_reasons! {
    Generator = "generator or coroutine", false;
    MostlyGeneric = "mostly generic operations (the interpreter is faster)", true;
    NotAFunction = "module or class body (runs once; names looked up in dicts)", false;
    ImportEntry = "the import system's entry point (runs once per import)", false;
    TooManyArguments = "more than 16 arguments", false;
    NotDicts = "globals or builtins are not dicts", false;
    NoBytecode = "no bytecode", false;
    OutOfMemory = "out of memory while compiling", false;
    StackDepthAtJoin = "stack depth differs at a join", false;
    NoFixpoint = "no fixpoint for block kinds", false;
    HandlerDeeperThanStack = "exception handler deeper than the stack", false;
    FellOffTheEnd = "fell off the end of the bytecode", false;
    Unbound = "unbound by psyco.unbind()", false;
    CannotCompile = "psyco.cannotcompile()", false;
    Filtered = "setfilter() predicate said no", false;
    MemoryMax = "memorymax reached", false;
    Backend = "backend error", false;
    CompilerPanic = "internal error (compiler panic)", false;
    Internal = "internal error", false;
}

impl fmt::Display for DeclineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reason with this name (the inverse of [`ExitReason::name`]).
    fn from_name(name: &str) -> Option<ExitReason> {
        let all = ExitReason::NAMED.iter().copied().chain((0..=u8::MAX).map(|opcode| ExitReason::Unsupported { opcode }));
        all.into_iter().find(|r| r.name() == name)
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<String> = ExitReason::NAMED.iter().map(|r| r.name().into_owned()).collect();
        for &r in ExitReason::NAMED {
            assert_eq!(from_name(&r.name()), Some(r));
        }
        let unsupported = ExitReason::Unsupported { opcode: opcodes::LOAD_NAME };
        assert_eq!(unsupported.name(), "unsupported_load_name");
        assert_eq!(from_name("unsupported_load_name"), Some(unsupported));
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    #[test]
    fn decline_names_are_unique_and_only_mostly_generic_is_per_key() {
        let mut names: Vec<&str> = DeclineReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DeclineReason::ALL.len());
        let per_key: Vec<DeclineReason> = DeclineReason::ALL.iter().copied().filter(|r| r.key_only()).collect();
        assert_eq!(per_key, [DeclineReason::MostlyGeneric]);
    }

    #[test]
    fn only_failed_speculations_and_reoptimization_continue() {
        let continued: Vec<String> = ExitReason::NAMED.iter().filter(|r| r.continued()).map(|r| r.name().into_owned()).collect();
        assert_eq!(
            continued,
            ["kind_changed", "type_changed", "reoptimize", "int_overflow", "int_shift", "global_changed", "inlined_code_replaced", "inlined_call_failed"]
        );
        assert!(!ExitReason::Unsupported { opcode: opcodes::LOAD_NAME }.continued());
    }
}
