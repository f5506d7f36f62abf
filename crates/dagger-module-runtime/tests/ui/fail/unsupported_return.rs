use std::collections::HashMap;

use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Maps;

#[functions]
impl Maps {
    /// Returns a type the engine cannot carry.
    pub fn table(&self) -> HashMap<String, String> {
        HashMap::new()
    }
}

fn main() {}
