use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Clock;

#[functions]
impl Clock {
    /// Cached longer than the engine allows.
    #[function(cache = "200h")]
    pub fn now(&self) -> String {
        String::new()
    }
}

fn main() {}
