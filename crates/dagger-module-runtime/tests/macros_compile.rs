//! The attribute macros at compile time: a module using every supported kind of argument and
//! result compiles under `missing_docs` and `unreachable_pub`, and each misuse is an error at
//! the offending token whose message names the fix (the `.stderr` files beside each case).
//!
//! After a deliberate change of a message: `TRYBUILD=overwrite cargo test -p
//! dagger-module-runtime --test macros_compile`, then review the diff of the `.stderr` files.

#[test]
fn macros_accept_a_full_module_and_refuse_misuse() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
