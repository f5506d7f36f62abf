use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Greeter;

#[functions]
impl Greeter {
    /// A string argument with a number for default.
    pub fn hello(&self, #[arg(default = 5)] name: String) -> String {
        name
    }
}

fn main() {}
