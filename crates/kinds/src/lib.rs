//! The value-kind lattice: what the specializer knows about one Python value.
//!
//! A *kind* is more than a type: "some object", "an exact `int`", "an `int` that fits in a
//! machine word and is held unboxed", "the constant 7", "a `range` iterator that was never
//! allocated". Kinds are ordered by precision: `a <= b` means every value described by `a` is
//! also described by `b` (so `b` knows less). The order is a tree below [`Kind::Object`]
//! plus a [`Kind::Bottom`], which makes `join` (least upper bound) the nearest common ancestor
//! and `meet` (greatest lower bound) the lower of two comparable kinds, or `Bottom`.
//!
//! ```text
//!                                  Object
//!       ┌────────────┬─────────────┬───┴──────────┬──────────────────┐
//!   Exact(Int)   Exact(Float)  Exact(Bool)  Exact(RangeIter)   Exact(t) ...
//!       │             │             │              │                 │
//!   MachineInt   UnboxedFloat  MachineBool  VirtualRangeIter   ObjConst(t, id)
//!       │             │             │
//!   IntConst(c)  FloatConst(f)  BoolConst(b)
//! ```
//!
//! This crate knows Python's types only as abstract tags ([`TypeTag`]); it has no notion of
//! CPython's object layout. Each kind also says how compiled code *represents* the value
//! ([`Repr`]): not at all (a constant), as an unboxed machine word or double, as an object
//! pointer, or as a set of fields of a virtual (never allocated) object.

use std::fmt;
use std::str::FromStr;

/// The exact Python types the specializer can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeTag {
    Int,
    Float,
    Bool,
    NoneType,
    Str,
    Tuple,
    List,
    Dict,
    Set,
    Function,
    Builtin,
    Range,
    RangeIter,
    /// Any other type; the constant-pool entry or guard names which one.
    Other,
}

impl TypeTag {
    pub const ALL: [TypeTag; 14] = [
        TypeTag::Int,
        TypeTag::Float,
        TypeTag::Bool,
        TypeTag::NoneType,
        TypeTag::Str,
        TypeTag::Tuple,
        TypeTag::List,
        TypeTag::Dict,
        TypeTag::Set,
        TypeTag::Function,
        TypeTag::Builtin,
        TypeTag::Range,
        TypeTag::RangeIter,
        TypeTag::Other,
    ];

    /// Python's name of the type (`Other` has none of its own).
    pub fn name(self) -> &'static str {
        match self {
            TypeTag::Int => "int",
            TypeTag::Float => "float",
            TypeTag::Bool => "bool",
            TypeTag::NoneType => "NoneType",
            TypeTag::Str => "str",
            TypeTag::Tuple => "tuple",
            TypeTag::List => "list",
            TypeTag::Dict => "dict",
            TypeTag::Set => "set",
            TypeTag::Function => "function",
            TypeTag::Builtin => "builtin_function_or_method",
            TypeTag::Range => "range",
            TypeTag::RangeIter => "range_iterator",
            TypeTag::Other => "other",
        }
    }
}

/// What the compiler knows about a value. See the module documentation for the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// No value at all (unreachable code).
    Bottom,
    /// The integer constant `c`.
    IntConst(i64),
    /// An `int` that fits in an `i64`, held unboxed.
    MachineInt,
    /// The float constant with these IEEE-754 bits (bits, so that `-0.0` and NaNs are exact).
    FloatConst(u64),
    /// A `float`, held unboxed as a double.
    UnboxedFloat,
    /// `True` or `False`, known at compile time.
    BoolConst(bool),
    /// A `bool`, held unboxed as 0 or 1.
    MachineBool,
    /// A `range` iterator that was never allocated: its fields (next value, stop, step) are
    /// held as machine integers and it is built only if compiled code has to leave.
    VirtualRangeIter,
    /// A constant object of exact type `t`, number `id` in the code's constant pool.
    ObjConst(TypeTag, u32),
    /// An object of exactly this type.
    Exact(TypeTag),
    /// Any object (top).
    Object,
}

/// How compiled code holds a value of some kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Repr {
    /// Known at compile time: no run-time storage.
    Constant,
    /// An unboxed 64-bit integer (also used for booleans, as 0 or 1).
    Word,
    /// An unboxed double.
    Double,
    /// A pointer to a live object.
    Object,
    /// A virtual object made of this many machine words.
    Virtual(u8),
    /// Nothing (unreachable).
    None,
}

impl Kind {
    /// The parent of this kind in the tree, or `None` for `Object` and `Bottom`.
    fn parent(self) -> Option<Kind> {
        use Kind::*;
        match self {
            Bottom | Object => None,
            IntConst(_) => Some(MachineInt),
            MachineInt => Some(Exact(TypeTag::Int)),
            FloatConst(_) => Some(UnboxedFloat),
            UnboxedFloat => Some(Exact(TypeTag::Float)),
            BoolConst(_) => Some(MachineBool),
            MachineBool => Some(Exact(TypeTag::Bool)),
            VirtualRangeIter => Some(Exact(TypeTag::RangeIter)),
            ObjConst(t, _) => Some(Exact(t)),
            Exact(_) => Some(Object),
        }
    }

    /// Distance from `Object` in the tree (`Object` is 0).
    fn depth(self) -> u32 {
        let mut depth = 0;
        let mut k = self;
        while let Some(p) = k.parent() {
            depth += 1;
            k = p;
        }
        depth
    }

    /// `self <= other`: every value of kind `self` is also of kind `other`.
    pub fn le(self, other: Kind) -> bool {
        if self == Kind::Bottom || self == other {
            return true;
        }
        let mut k = self;
        while let Some(p) = k.parent() {
            if p == other {
                return true;
            }
            k = p;
        }
        false
    }

    /// Least upper bound: the most precise kind that describes values of both kinds.
    pub fn join(self, other: Kind) -> Kind {
        if self == Kind::Bottom {
            return other;
        }
        if other == Kind::Bottom {
            return self;
        }
        let (mut a, mut b) = (self, other);
        let (mut da, mut db) = (a.depth(), b.depth());
        while da > db {
            a = a.parent().expect("depth > 0 has a parent");
            da -= 1;
        }
        while db > da {
            b = b.parent().expect("depth > 0 has a parent");
            db -= 1;
        }
        while a != b {
            a = a.parent().unwrap_or(Kind::Object);
            b = b.parent().unwrap_or(Kind::Object);
        }
        a
    }

    /// Greatest lower bound: what is known when a value is of both kinds.
    pub fn meet(self, other: Kind) -> Kind {
        if self.le(other) {
            self
        } else if other.le(self) {
            other
        } else {
            Kind::Bottom
        }
    }

    /// Forget compile-time constants (keeping their representation class): used at loop
    /// heads and as a version key past the version cap, so that versions converge.
    pub fn generalize(self) -> Kind {
        match self {
            Kind::IntConst(_) => Kind::MachineInt,
            Kind::FloatConst(_) => Kind::UnboxedFloat,
            Kind::BoolConst(_) => Kind::MachineBool,
            k => k,
        }
    }

    /// How compiled code holds a value of this kind.
    pub fn repr(self) -> Repr {
        match self {
            Kind::Bottom => Repr::None,
            Kind::IntConst(_) | Kind::FloatConst(_) | Kind::BoolConst(_) | Kind::ObjConst(..) => {
                Repr::Constant
            }
            Kind::MachineInt | Kind::MachineBool => Repr::Word,
            Kind::UnboxedFloat => Repr::Double,
            Kind::VirtualRangeIter => Repr::Virtual(3),
            Kind::Exact(_) | Kind::Object => Repr::Object,
        }
    }

    /// The exact Python type of values of this kind, if known.
    pub fn type_tag(self) -> Option<TypeTag> {
        match self {
            Kind::IntConst(_) | Kind::MachineInt => Some(TypeTag::Int),
            Kind::FloatConst(_) | Kind::UnboxedFloat => Some(TypeTag::Float),
            Kind::BoolConst(_) | Kind::MachineBool => Some(TypeTag::Bool),
            Kind::VirtualRangeIter => Some(TypeTag::RangeIter),
            Kind::ObjConst(t, _) | Kind::Exact(t) => Some(t),
            Kind::Bottom | Kind::Object => None,
        }
    }

    /// A float constant from its value.
    pub fn float_const(f: f64) -> Kind {
        Kind::FloatConst(f.to_bits())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Kind::Bottom => write!(f, "bottom"),
            Kind::IntConst(c) => write!(f, "int={c}"),
            Kind::MachineInt => write!(f, "int64"),
            Kind::FloatConst(bits) => write!(f, "float=0x{bits:016x}"),
            Kind::UnboxedFloat => write!(f, "double"),
            Kind::BoolConst(b) => write!(f, "bool={}", if b { "True" } else { "False" }),
            Kind::MachineBool => write!(f, "bool01"),
            Kind::VirtualRangeIter => write!(f, "vrangeiter"),
            Kind::ObjConst(t, id) => write!(f, "const:{}#{id}", t.name()),
            Kind::Exact(t) => write!(f, "exact:{}", t.name()),
            Kind::Object => write!(f, "object"),
        }
    }
}

/// The error of parsing a kind from its text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKindError(pub String);

impl fmt::Display for ParseKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a kind: {:?}", self.0)
    }
}

impl std::error::Error for ParseKindError {}

impl FromStr for TypeTag {
    type Err = ParseKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TypeTag::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| ParseKindError(s.to_string()))
    }
}

impl FromStr for Kind {
    type Err = ParseKindError;
    /// Parses the text form written by `Display`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseKindError(s.to_string());
        Ok(match s {
            "bottom" => Kind::Bottom,
            "int64" => Kind::MachineInt,
            "double" => Kind::UnboxedFloat,
            "bool=True" => Kind::BoolConst(true),
            "bool=False" => Kind::BoolConst(false),
            "bool01" => Kind::MachineBool,
            "vrangeiter" => Kind::VirtualRangeIter,
            "object" => Kind::Object,
            _ => {
                if let Some(c) = s.strip_prefix("int=") {
                    Kind::IntConst(c.parse().map_err(|_| err())?)
                } else if let Some(hex) = s.strip_prefix("float=0x") {
                    Kind::FloatConst(u64::from_str_radix(hex, 16).map_err(|_| err())?)
                } else if let Some(rest) = s.strip_prefix("const:") {
                    let (tag, id) = rest.split_once('#').ok_or_else(err)?;
                    Kind::ObjConst(tag.parse()?, id.parse().map_err(|_| err())?)
                } else if let Some(tag) = s.strip_prefix("exact:") {
                    Kind::Exact(tag.parse()?)
                } else {
                    return Err(err());
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
