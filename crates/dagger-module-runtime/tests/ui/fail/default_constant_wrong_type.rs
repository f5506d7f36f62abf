use dagger_module_runtime::{functions, object};

const RETRIES: i64 = 3;

/// A module.
#[object]
struct Greeter;

#[functions]
impl Greeter {
    /// A boolean argument with an integer constant for default.
    pub fn hello(&self, #[arg(default = RETRIES)] shout: bool) -> bool {
        shout
    }
}

fn main() {}
