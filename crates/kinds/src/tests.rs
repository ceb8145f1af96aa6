//! Lattice laws, checked as properties over an exhaustive universe of representative kinds.

use super::*;

/// Every shape of kind, with a few distinct constants per constant shape, so that each law is
/// checked on every combination of positions in the tree (same branch, sibling branches,
/// different depths, top and bottom).
fn universe() -> Vec<Kind> {
    let mut kinds = vec![
        Kind::Bottom,
        Kind::MachineInt,
        Kind::UnboxedFloat,
        Kind::MachineBool,
        Kind::VirtualRangeIter,
        Kind::Object,
    ];
    for c in [i64::MIN, -1, 0, 1, 7, i64::MAX] {
        kinds.push(Kind::IntConst(c));
    }
    for f in [0.0f64, -0.0, 1.5, f64::NAN, f64::INFINITY] {
        kinds.push(Kind::float_const(f));
    }
    kinds.push(Kind::BoolConst(true));
    kinds.push(Kind::BoolConst(false));
    for t in TypeTag::ALL {
        kinds.push(Kind::Exact(t));
        kinds.push(Kind::ObjConst(t, 0));
        kinds.push(Kind::ObjConst(t, 3));
    }
    kinds
}

#[test]
fn join_is_commutative_associative_idempotent() {
    let u = universe();
    for &a in &u {
        assert_eq!(a.join(a), a, "idempotent: {a}");
        for &b in &u {
            assert_eq!(a.join(b), b.join(a), "commutative: {a} {b}");
            for &c in &u {
                assert_eq!(a.join(b).join(c), a.join(b.join(c)), "associative: {a} {b} {c}");
            }
        }
    }
}

#[test]
fn meet_is_commutative_associative_idempotent() {
    let u = universe();
    for &a in &u {
        assert_eq!(a.meet(a), a);
        for &b in &u {
            assert_eq!(a.meet(b), b.meet(a), "commutative: {a} {b}");
            for &c in &u {
                assert_eq!(a.meet(b).meet(c), a.meet(b.meet(c)), "associative: {a} {b} {c}");
            }
        }
    }
}

#[test]
fn order_agrees_with_join_and_meet() {
    let u = universe();
    for &a in &u {
        for &b in &u {
            assert_eq!(a.le(b), a.join(b) == b, "le vs join: {a} {b}");
            assert_eq!(a.le(b), a.meet(b) == a, "le vs meet: {a} {b}");
            // Absorption laws tie join and meet together.
            assert_eq!(a.join(a.meet(b)), a, "absorption 1: {a} {b}");
            assert_eq!(a.meet(a.join(b)), a, "absorption 2: {a} {b}");
            // The join is an upper bound, the meet a lower bound.
            assert!(a.le(a.join(b)) && b.le(a.join(b)));
            assert!(a.meet(b).le(a) && a.meet(b).le(b));
        }
    }
}

#[test]
fn order_is_a_partial_order_with_top_and_bottom() {
    let u = universe();
    for &a in &u {
        assert!(a.le(a));
        assert!(Kind::Bottom.le(a));
        assert!(a.le(Kind::Object));
        for &b in &u {
            if a.le(b) && b.le(a) {
                assert_eq!(a, b, "antisymmetric");
            }
            for &c in &u {
                if a.le(b) && b.le(c) {
                    assert!(a.le(c), "transitive: {a} {b} {c}");
                }
            }
        }
    }
}

#[test]
fn generalize_only_climbs_and_keeps_the_representation_class() {
    for a in universe() {
        let g = a.generalize();
        assert!(a.le(g), "{a} <= {g}");
        assert_eq!(g.generalize(), g, "idempotent");
        assert_eq!(a.type_tag(), g.type_tag(), "same Python type");
    }
}

#[test]
fn joins_that_the_specializer_relies_on() {
    assert_eq!(Kind::IntConst(0).join(Kind::IntConst(1)), Kind::MachineInt);
    assert_eq!(Kind::IntConst(0).join(Kind::IntConst(0)), Kind::IntConst(0));
    assert_eq!(Kind::MachineInt.join(Kind::Exact(TypeTag::Int)), Kind::Exact(TypeTag::Int));
    assert_eq!(Kind::MachineInt.join(Kind::UnboxedFloat), Kind::Object);
    assert_eq!(Kind::float_const(0.0).join(Kind::float_const(-0.0)), Kind::UnboxedFloat);
    assert_eq!(Kind::ObjConst(TypeTag::Str, 1).join(Kind::ObjConst(TypeTag::Str, 2)), Kind::Exact(TypeTag::Str));
    assert_eq!(Kind::MachineInt.meet(Kind::UnboxedFloat), Kind::Bottom);
}

#[test]
fn text_form_round_trips() {
    for a in universe() {
        let text = a.to_string();
        assert_eq!(text.parse::<Kind>(), Ok(a), "{text}");
    }
    assert!("int=x".parse::<Kind>().is_err());
    assert!("exact:nonsense".parse::<Kind>().is_err());
}

#[test]
fn representations() {
    assert_eq!(Kind::MachineInt.repr(), Repr::Word);
    assert_eq!(Kind::MachineBool.repr(), Repr::Word);
    assert_eq!(Kind::UnboxedFloat.repr(), Repr::Double);
    assert_eq!(Kind::IntConst(3).repr(), Repr::Constant);
    assert_eq!(Kind::VirtualRangeIter.repr(), Repr::Virtual(3));
    assert_eq!(Kind::Exact(TypeTag::Int).repr(), Repr::Object);
}
