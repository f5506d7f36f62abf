use dagger_module_runtime::{functions, object};

/// A point.
pub struct Point {
    pub x: i64,
}

/// A module.
#[object]
struct Shapes;

#[functions]
impl Shapes {
    /// Takes a type the engine cannot carry.
    pub fn area(&self, p: Point) -> i64 {
        p.x
    }
}

fn main() {}
