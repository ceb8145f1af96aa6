//! Stable addresses for printed IR: the front end embeds real helper addresses and object
//! pointers, which change from run to run. [`with_stable_addresses`] replaces them with fake
//! ones (0x1000, 0x1008, ...; one real address always maps to the same fake one), so that IR
//! snapshots are reproducible.
//!
//! Helper addresses are known for what they are, from the helper table. Object pointers are
//! not: the front end embeds them (types, singletons, constants, caches) as plain `iconst`s,
//! so for constants the address is still a guess, [`ADDRESS_THRESHOLD`].

use crate::{Function, Op};
use std::collections::{HashMap, HashSet};

/// `iconst`s at least this large (in magnitude) are taken for object pointers: user-space
/// pointers on x86-64 Linux lie far above it, and integer constants in code rarely do.
pub const ADDRESS_THRESHOLD: u64 = 1 << 40;

/// A copy of `f` whose helper addresses and address-like constants are fake, stable
/// addresses: the helpers' first, in table order (the order the text declares them), then
/// constants in the order a reader meets them. A constant equal to a helper's address (a
/// helper passed as an argument) gets that helper's fake address.
pub fn with_stable_addresses(f: &Function) -> Function {
    let mut map: HashMap<u64, u64> = HashMap::new();
    let mut fake = |real: u64| -> u64 {
        let next = 0x1000 + 8 * map.len() as u64;
        *map.entry(real).or_insert(next)
    };
    let helper_addresses: HashSet<u64> = f.helpers.iter().map(|h| h.address).collect();
    let mut out = f.clone();
    for h in &mut out.helpers {
        h.address = fake(h.address);
    }
    // Visit in block order (the order a reader meets them), then any detached instructions.
    let mut order: Vec<usize> = f.blocks.iter().flat_map(|b| b.insts.iter().map(|v| v.0 as usize)).collect();
    let listed: HashSet<usize> = order.iter().copied().collect();
    order.extend((0..f.insts.len()).filter(|i| !listed.contains(i)));
    for i in order {
        if let Op::IConst(c) = &mut out.insts[i].op {
            if c.unsigned_abs() >= ADDRESS_THRESHOLD || helper_addresses.contains(&(*c as u64)) {
                *c = fake(*c as u64) as i64;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Effect, HelperDecl, Type};

    #[test]
    fn addresses_become_stable_and_small_constants_stay() {
        const LOOKUP: HelperDecl = HelperDecl::new("lookup", Effect::MayRaise);
        const SMALL: HelperDecl = HelperDecl::new("small", Effect::Pure);
        let mut b = Builder::new("f", 1);
        let entry = b.create_block(&[]);
        b.switch_to(entry);
        let p = b.param(0);
        let obj = b.iconst(0x7f12_3456_7890);
        let small = b.iconst(1_000_000_007);
        let r = b.call(LOOKUP.at(0x5555_dead_beef), &[p, obj, small], Some(Type::I64));
        let again = b.iconst(0x7f12_3456_7890);
        // A helper at a low address is still a helper; the constant that passes it along
        // becomes its fake address too.
        let helper_as_value = b.iconst(0x40_0000);
        let s = b.call(SMALL.at(0x40_0000), &[r, again, helper_as_value], Some(Type::I64));
        b.ret(s);
        let f = with_stable_addresses(&b.finish());
        let addresses: Vec<u64> = f.helpers.iter().map(|h| h.address).collect();
        assert_eq!(addresses, [0x1000, 0x1008]);
        let consts: Vec<i64> = f
            .insts
            .iter()
            .filter_map(|i| match i.op {
                Op::IConst(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(consts, [0x1010, 1_000_000_007, 0x1010, 0x1008]);
    }
}
