use dagger_module_runtime::dagger_sdk::File;
use dagger_module_runtime::{functions, object};

/// A module.
#[object]
struct Builder;

#[functions]
impl Builder {
    /// Ignore patterns on a File.
    pub fn build(&self, #[arg(ignore = ["**/target"])] src: File) -> String {
        let _ = src;
        String::new()
    }
}

fn main() {}
