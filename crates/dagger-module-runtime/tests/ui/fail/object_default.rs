use dagger_module_runtime::dagger_sdk::Directory;
use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Builder;

#[functions]
impl Builder {
    /// A Directory with a default value.
    pub fn build(&self, #[arg(default = ".")] src: Directory) -> Directory {
        src
    }
}

fn main() {}
