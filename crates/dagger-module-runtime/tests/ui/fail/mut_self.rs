use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Counter;

#[functions]
impl Counter {
    /// Changes the object.
    pub fn bump(&mut self) -> i64 {
        1
    }
}

fn main() {}
