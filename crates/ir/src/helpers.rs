//! The helpers a function calls: each [`Op::Call`](crate::Op::Call) names an entry of its
//! function's helper table ([`Function::helpers`](crate::Function::helpers)) by [`HelperId`],
//! and the entry says what is called (a name for dumps, an address for the backends) and
//! what the call may do to the rest of the world ([`Effect`]), which passes need to know
//! before they move, merge or drop anything across a call.
//!
//! The front end declares each helper once, as a constant, and places it at its address where
//! it calls it (a function's address is not a constant expression in Rust, so the two halves
//! meet at run time):
//!
//! ```
//! use ir::{Builder, Effect, HelperDecl, Type};
//! const WEIGH: HelperDecl = HelperDecl::new("weigh", Effect::Pure);
//! extern "sysv64" fn weigh(x: u64) -> u64 { x * 3 }
//!
//! let mut b = Builder::new("f", 1);
//! let entry = b.create_block(&[]);
//! b.switch_to(entry);
//! let x = b.param(0);
//! let y = b.call(WEIGH.at(weigh as *const () as u64), &[x], Some(Type::I64));
//! let z = b.call(WEIGH.at(weigh as *const () as u64), &[y], Some(Type::I64));
//! b.ret(z);
//! let f = b.finish();
//! assert_eq!(f.helpers.len(), 1, "one table entry for both calls");
//! assert!(ir::text::print(&f).contains("v2 = call @weigh(v1) -> i64"));
//! ```
//!
//! Names are plain identifiers chosen by the front end; this crate gives them no meaning.

use std::borrow::Cow;

/// An entry of a function's helper table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HelperId(pub u32);

/// What a call of a helper may do besides computing its result, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// No side effect visible to Python, and cannot fail.
    Pure,
    /// May set a Python exception (the caller checks its result), but runs no Python code.
    MayRaise,
    /// May run arbitrary Python code (finalizers, `__eq__`, callees, ...), so anything
    /// cached about the heap is stale after it.
    MayRunPython,
}

/// A helper as the front end declares it once, before its address is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HelperDecl {
    pub name: &'static str,
    pub effect: Effect,
}

impl HelperDecl {
    pub const fn new(name: &'static str, effect: Effect) -> HelperDecl {
        HelperDecl { name, effect }
    }

    /// This helper, at `address` (a function item's is `my_helper as *const () as u64`).
    pub fn at(self, address: u64) -> Helper {
        Helper { name: Cow::Borrowed(self.name), address, effect: self.effect }
    }
}

/// A helper table entry: the function at `address`, called `name` in dumps.
///
/// The name is borrowed when it comes from a [`HelperDecl`] (no allocation per call site)
/// and owned when the text parser read it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Helper {
    pub name: Cow<'static, str>,
    pub address: u64,
    pub effect: Effect,
}
