//! Every runtime function that compiled code calls, declared once: its name in printed IR
//! (`call @load_attr(...)`), what the call may do ([`Effect`]) and where it is.
//!
//! Each entry is a function returning the [`Helper`] the front end passes to
//! `Builder::call`; generic stack operations are checked to have the [`StackOp`] signature.
//! Effects, from least to most: `Pure` (no effect Python can see, cannot fail), `MayRaise`
//! (may fail or change what Python sees, such as the exception state, but runs no Python
//! code), `MayRunPython` (may run any Python code: `__eq__`, `__hash__`, finalizers of the
//! references it drops, callees).

use crate::helpers::StackOp;
use ir::{Effect, Helper, HelperDecl};

/// One function per helper: `name = function, Effect`, and `as StackOp` for the generic
/// stack operations, whose signature is then checked.
macro_rules! helpers {
    ($($name:ident = $function:path, $effect:ident $(as $signature:ty)?;)*) => {
        $(
            pub fn $name() -> Helper {
                $(let _: $signature = $function;)?
                HelperDecl::new(stringify!($name), Effect::$effect).at($function as *const () as u64)
            }
        )*
    };
}

helpers! {
    unbox_int = crate::helpers::unbox_int, Pure;
    int_fits_word = crate::helpers::int_fits_word, Pure;
    box_int = crate::helpers::box_int, MayRaise;
    box_float = crate::helpers::box_float, MayRaise;
    float_floor_div = crate::helpers::float_floor_div, Pure;
    float_mod = crate::helpers::float_mod, Pure;
    float_pow = crate::helpers::float_pow, Pure;
    materialize_range_iter = crate::helpers::materialize_range_iter, MayRaise;
    dealloc = crate::cpython::_Py_Dealloc, MayRunPython;
    load_global = crate::jit::side_tables::load_global, Pure;
    truth = crate::helpers::truth, MayRunPython;
    truth_consume = crate::helpers::truth_consume, MayRunPython;
    contains = crate::helpers::contains, MayRunPython;
    for_iter = crate::helpers::for_iter, MayRunPython;
    store_deref = crate::helpers::store_deref, MayRunPython;
    make_cell = crate::helpers::make_cell, MayRaise;
    copy_free_vars = crate::helpers::copy_free_vars, MayRaise;
    push_exc_info = crate::helpers::push_exc_info, MayRaise;
    pop_except = crate::helpers::pop_except, MayRunPython;
    enter_handler = crate::helpers::enter_handler, MayRunPython;
    handle_pending = crate::helpers::handle_pending, MayRunPython;
    profile_mispredicted = crate::helpers::profile_mispredicted, Pure;
    str_item = crate::helpers::str_item, MayRaise;
    str_equal = crate::helpers::str_equal, Pure;
    length = crate::helpers::length, MayRunPython;


    binary_op = crate::helpers::binary_op, MayRunPython as StackOp;
    compare_op = crate::helpers::compare_op, MayRunPython as StackOp;
    unary_op = crate::helpers::unary_op, MayRunPython as StackOp;
    is_op = crate::helpers::is_op, MayRunPython as StackOp;
    load_attr = crate::helpers::load_attr, MayRunPython as StackOp;
    store_attr = crate::helpers::store_attr, MayRunPython as StackOp;
    load_method = crate::helpers::load_method, MayRunPython as StackOp;
    binary_subscr = crate::helpers::binary_subscr, MayRunPython as StackOp;
    store_subscr = crate::helpers::store_subscr, MayRunPython as StackOp;
    build_tuple = crate::helpers::build_tuple, MayRaise as StackOp;
    build_list = crate::helpers::build_list, MayRaise as StackOp;
    build_map = crate::helpers::build_map, MayRunPython as StackOp;
    build_const_key_map = crate::helpers::build_const_key_map, MayRunPython as StackOp;
    build_slice = crate::helpers::build_slice, MayRunPython as StackOp;
    build_string = crate::helpers::build_string, MayRunPython as StackOp;
    unpack_sequence = crate::helpers::unpack_sequence, MayRunPython as StackOp;
    collection_add = crate::helpers::collection_add, MayRunPython as StackOp;
    map_add = crate::helpers::map_add, MayRunPython as StackOp;
    format_value = crate::helpers::format_value, MayRunPython as StackOp;
    get_iter = crate::helpers::get_iter, MayRunPython as StackOp;
    check_exc_match = crate::helpers::check_exc_match, MayRunPython as StackOp;
    make_function = crate::helpers::make_function, MayRaise as StackOp;
    call = crate::helpers::call, MayRunPython as StackOp;
    call_method_descriptor = crate::helpers::call_method_descriptor, MayRunPython as StackOp;
    call_function = crate::calls::call_function, MayRunPython as StackOp;
    call_method_function = crate::calls::call_method_function, MayRunPython as StackOp;
    call_cached = crate::calls::call_cached, MayRunPython as StackOp;
    instantiate = crate::calls::instantiate, MayRunPython as StackOp;
    call_property = crate::calls::call_property, MayRunPython as StackOp;
    super_method = crate::calls::super_method, Pure;
    record_output = crate::helpers::record_output, Pure;
}
