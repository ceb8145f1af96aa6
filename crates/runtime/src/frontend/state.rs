//! The abstract state: what each frame slot holds while compiled code runs
//! ([`AbstractValue`]), what is known of it at a block entry ([`SlotKind`]), and the entry
//! states that key block versions ([`EntryState`]).

use ir::{Kind, TypeTag, Value};

/// What is known of a slot at a block entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotKind {
    /// NULL (an unbound local, or the NULL that `LOAD_GLOBAL` pushes before a callable).
    Null,
    /// An object in the frame that may be NULL.
    MaybeNull,
    /// A value of this kind (in the representation `Kind::repr` says).
    Is(Kind),
}

impl SlotKind {
    fn join(self, other: SlotKind) -> SlotKind {
        use SlotKind::*;
        match (self, other) {
            (Null, Null) => Null,
            (Null, _) | (_, Null) | (MaybeNull, _) | (_, MaybeNull) => MaybeNull,
            (Is(a), Is(b)) => Is(a.join(b)),
        }
    }

    /// How a slot of this kind is held at a block entry: in the frame (NULL or an object),
    /// as a word, as a double, or as a virtual object's words. Constants count as what they
    /// widen to.
    fn holding(self) -> ir::Repr {
        match self {
            SlotKind::Null | SlotKind::MaybeNull => ir::Repr::Object,
            SlotKind::Is(k) => k.generalize().repr(),
        }
    }

    /// Whether a value of this kind can enter a block version that expects `to`.
    fn fits(self, to: SlotKind) -> bool {
        match (self, to) {
            (_, SlotKind::MaybeNull) => true,
            (SlotKind::Null, SlotKind::Null) => true,
            (SlotKind::Is(a), SlotKind::Is(b)) => a.le(b),
            _ => false,
        }
    }
}

/// An abstract value: what one frame slot holds while compiled code runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum AbstractValue {
    /// The object (or NULL) lives in the frame slot, owned by the frame.
    Obj(SlotKind),
    /// An unboxed `MachineInt` or `MachineBool`.
    Word(Kind, Value),
    /// An unboxed float.
    Double(Value),
    /// A compile-time constant kind.
    Const(Kind),
    /// A virtual range iterator: next value, stop, step.
    Range(Value, Value, Value),
    /// On the value stack only: the object `ptr` that local `local` holds, pushed by
    /// `LOAD_FAST` without a reference of its own (the frame's stack slot holds garbage), for
    /// an operation that only reads it (`obj.attr`, `seq[i]`). Anything else that meets it
    /// gives it its reference in the frame first (`Frontend::own`): a generic operation, a
    /// jump, the local rebound or deleted. A snapshot lists it by its pointer (the rebuilt
    /// frame takes a reference).
    Borrowed { local: usize, kind: Kind, ptr: Value },
}

impl AbstractValue {
    pub(super) fn slot_kind(self) -> SlotKind {
        match self {
            AbstractValue::Obj(k) => k,
            AbstractValue::Word(k, _) => SlotKind::Is(k),
            AbstractValue::Double(_) => SlotKind::Is(Kind::UnboxedFloat),
            AbstractValue::Const(k) => SlotKind::Is(k),
            AbstractValue::Range(..) => SlotKind::Is(Kind::VirtualRangeIter),
            AbstractValue::Borrowed { kind, .. } => SlotKind::Is(kind),
        }
    }

    /// The kind of an object on the stack, in the frame or borrowed.
    pub(super) fn object_kind(self) -> Option<Kind> {
        match self {
            AbstractValue::Obj(SlotKind::Is(k)) | AbstractValue::Borrowed { kind: k, .. } => Some(k),
            _ => None,
        }
    }

    /// The machine words a snapshot or a block argument carries for this value.
    pub(super) fn parts(self) -> Vec<Value> {
        match self {
            AbstractValue::Word(_, v) | AbstractValue::Double(v) => vec![v],
            AbstractValue::Range(a, b, c) => vec![a, b, c],
            AbstractValue::Borrowed { ptr, .. } => vec![ptr],
            AbstractValue::Obj(_) | AbstractValue::Const(_) => vec![],
        }
    }

    pub(super) fn is_int(self) -> bool {
        matches!(self, AbstractValue::Word(Kind::MachineInt, _) | AbstractValue::Const(Kind::IntConst(_)))
    }

    pub(super) fn is_float(self) -> bool {
        matches!(self, AbstractValue::Double(_) | AbstractValue::Const(Kind::FloatConst(_)))
    }

    /// The kind the hook would give this value as an argument (see `hook::arg_kind`).
    pub(super) fn static_kind(self) -> Kind {
        let kind = match self.slot_kind() {
            SlotKind::Is(k) => k,
            _ => Kind::Object,
        };
        match kind {
            Kind::IntConst(_) | Kind::FloatConst(_) | Kind::BoolConst(_) => kind.generalize(),
            Kind::MachineInt | Kind::MachineBool | Kind::UnboxedFloat => kind,
            Kind::ObjConst(t, _) | Kind::Exact(t) if !matches!(t, TypeTag::Other | TypeTag::RangeIter) => {
                Kind::Exact(t)
            }
            _ => Kind::Object,
        }
    }

    /// The exact type of the value, when its kind knows it.
    pub(super) fn slot_kind_boxed_tag(self) -> Option<TypeTag> {
        match self.slot_kind_boxed() {
            SlotKind::Is(Kind::Exact(tag)) => Some(tag),
            _ => None,
        }
    }

    /// The kind a value has once boxed into the frame.
    pub(super) fn slot_kind_boxed(self) -> SlotKind {
        match self.slot_kind() {
            SlotKind::Is(k) => SlotKind::Is(match k.type_tag() {
                Some(t) => Kind::Exact(t),
                None => Kind::Object,
            }),
            other => other,
        }
    }
}

/// The abstract frame: locals then value stack.
#[derive(Clone, Debug)]
pub(super) struct State {
    pub(super) slots: Vec<AbstractValue>,
    pub(super) depth: usize,
    /// Per local: whether its frame slot already holds a box of its current unboxed value
    /// (so that callees, which may look at the frame, see it without boxing it again).
    pub(super) synced: Vec<bool>,
}

/// A block entry state, the key of the fixpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EntryState {
    /// What each live slot holds.
    pub(super) kinds: Vec<SlotKind>,
    pub(super) depth: usize,
    /// Per local, whether its frame slot holds a box of its unboxed value (see
    /// `State::synced`; a version may require it).
    pub(super) synced: Vec<bool>,
}

impl EntryState {
    /// Whether a jump bringing `incoming` can enter the version made for `self`.
    pub(super) fn admits(&self, incoming: &EntryState) -> bool {
        self.kinds.iter().zip(&incoming.kinds).all(|(k, i)| i.fits(*k))
            && self.synced.iter().zip(&incoming.synced).all(|(needed, synced)| !needed || *synced)
    }

    /// Whether widening `self` to admit `incoming` keeps how every slot is held (see
    /// `SlotKind::holding`): what is lost is then only a type check or a constant, not an
    /// unboxed representation.
    pub(super) fn widens_to_admit(&self, incoming: &EntryState) -> bool {
        self.depth == incoming.depth
            && self.kinds.iter().zip(&incoming.kinds).all(|(a, b)| {
                let held = a.holding();
                b.holding() == held && a.join(*b).holding() == held
            })
    }

    /// Widens `self` to admit `incoming` as well (a version absorbing a state).
    pub(super) fn absorb(&mut self, incoming: &EntryState) {
        self.kinds = self.kinds.iter().zip(&incoming.kinds).map(|(a, b)| a.join(*b)).collect();
        self.synced = self.synced.iter().zip(&incoming.synced).map(|(a, b)| *a && *b).collect();
    }
}
