use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Greeter;

#[functions]
impl Greeter {
    /// Hello.
    pub fn greet(&self) -> String {
        "hello".into()
    }

    /// Another hello, under the same Dagger name.
    #[function(name = "greet")]
    pub fn greet_again(&self) -> String {
        "hello again".into()
    }
}

fn main() {}
