//! The Rust types a function's arguments and results can have, and how each is registered and
//! decoded: what the attribute macros ([`crate::object`], [`crate::functions`]) build on.
//!
//! | Rust | Dagger |
//! | --- | --- |
//! | `String` | `String` |
//! | `bool` | `Boolean` |
//! | `i8` ... `i64`, `u8` ... `u64`, `isize`, `usize` | `Int` |
//! | `f64`, `f32` | `Float` |
//! | `Vec<T>` | `[T]` |
//! | `Option<T>` | `T`, optional |
//! | `Directory`, `File`, `Container`, `Secret`, `CacheVolume`, `Service`, `Socket`, ... | the object, by ID |
//! | [`IdOf<T>`] | the object `T`, kept as its ID |
//! | `dagger_sdk::Platform` | `String` (the engine's `Platform` text, `linux/amd64`) |
//! | a `FromStr` type, with `#[arg(parse)]` | `String`, parsed on arrival |
//! | `()` (result only) | `Void` |

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::str::FromStr;

use dagger_sdk::loadable::Loadable;
use dagger_sdk::{Id, Query};
use serde_json::Value;

use crate::def::TypeRef;
use crate::module::{FunctionError, FunctionResult};

/// Why a value could not become an argument's Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The JSON value does not have the type's shape (a string where a number belongs).
    Shape,
    /// A string that the type's parser refused, with the parser's message.
    Parse(String),
}

/// A Rust type a function argument can have: its Dagger type and how a JSON value becomes it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the type of a Dagger function argument",
    label = "unsupported argument type",
    note = "use String, bool, an integer, f64, Vec<T>, Option<T>, an engine object (Directory, \
            File, Container, Secret, CacheVolume, Service, Socket), dagger_sdk::Platform or \
            IdOf<T>; a type that implements FromStr takes `#[arg(parse)]` on the argument"
)]
pub trait FunctionArg: Sized + Send {
    /// The Dagger type (without the optional flag).
    fn type_ref() -> TypeRef;

    /// Whether the argument may be left out (`Option<T>`).
    fn optional() -> bool {
        false
    }

    /// The value from the engine's JSON (`None`: the caller gave none).
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError>;
}

/// A Rust type a function can return: its Dagger type and how it becomes the answer.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a Dagger function",
    label = "unsupported result type",
    note = "return String, bool, an integer, f64, Vec<T>, Option<T>, (), an engine object \
            (Directory, File, Container, ...) or IdOf<T>, or Result<T, E> of one of them with \
            E: Display"
)]
pub trait FunctionReturn: Send + 'static {
    /// The Dagger type.
    fn type_ref() -> TypeRef;

    /// The answer to send back (an object's ID is read here, one query).
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>>;
}

fn ready(
    result: Result<FunctionResult, FunctionError>,
) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
    Box::pin(std::future::ready(result))
}

fn required(value: Option<&Value>) -> Result<&Value, DecodeError> {
    value.filter(|v| !v.is_null()).ok_or(DecodeError::Shape)
}

impl FunctionArg for String {
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn decode(value: Option<&Value>, _: &Query) -> Result<Self, DecodeError> {
        required(value)?
            .as_str()
            .map(str::to_string)
            .ok_or(DecodeError::Shape)
    }
}

impl FunctionReturn for String {
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Value(Value::String(self))))
    }
}

impl FunctionReturn for &'static str {
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Value(Value::String(self.into()))))
    }
}

impl FunctionArg for bool {
    fn type_ref() -> TypeRef {
        TypeRef::Boolean
    }
    fn decode(value: Option<&Value>, _: &Query) -> Result<Self, DecodeError> {
        required(value)?.as_bool().ok_or(DecodeError::Shape)
    }
}

impl FunctionReturn for bool {
    fn type_ref() -> TypeRef {
        TypeRef::Boolean
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Value(Value::Bool(self))))
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FunctionArg for $t {
            fn type_ref() -> TypeRef {
                TypeRef::Integer
            }
            fn decode(value: Option<&Value>, _: &Query) -> Result<Self, DecodeError> {
                let v = required(value)?;
                if let Some(n) = v.as_i64() {
                    return <$t>::try_from(n).map_err(|_| {
                        DecodeError::Parse(format!(
                            "{n} is out of range for {}",
                            stringify!($t)
                        ))
                    });
                }
                let n = v.as_u64().ok_or(DecodeError::Shape)?;
                <$t>::try_from(n).map_err(|_| {
                    DecodeError::Parse(format!("{n} is out of range for {}", stringify!($t)))
                })
            }
        }

        impl FunctionReturn for $t {
            fn type_ref() -> TypeRef {
                TypeRef::Integer
            }
            fn into_result(
                self,
            ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
                ready(Ok(FunctionResult::Value(Value::from(self))))
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! floats {
    ($($t:ty),*) => {$(
        impl FunctionArg for $t {
            fn type_ref() -> TypeRef {
                TypeRef::Float
            }
            fn decode(value: Option<&Value>, _: &Query) -> Result<Self, DecodeError> {
                // JSON numbers are f64; an f32 argument takes the nearest value.
                required(value)?
                    .as_f64()
                    .map(|n| n as $t)
                    .ok_or(DecodeError::Shape)
            }
        }

        impl FunctionReturn for $t {
            fn type_ref() -> TypeRef {
                TypeRef::Float
            }
            fn into_result(
                self,
            ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
                ready(
                    serde_json::Number::from_f64(f64::from(self))
                        .map(|n| FunctionResult::Value(Value::Number(n)))
                        .ok_or_else(|| {
                            FunctionError::Failed(format!(
                                "the result {self} is not a finite number, which JSON cannot carry"
                            ))
                        }),
                )
            }
        }
    )*};
}

floats!(f32, f64);

impl FunctionReturn for () {
    fn type_ref() -> TypeRef {
        TypeRef::Void
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Void))
    }
}

impl<T: FunctionArg> FunctionArg for Option<T> {
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn optional() -> bool {
        true
    }
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::decode(Some(v), query).map(Some),
        }
    }
}

impl<T: FunctionArg> FunctionArg for Vec<T> {
    fn type_ref() -> TypeRef {
        TypeRef::list(T::type_ref())
    }
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
        required(value)?
            .as_array()
            .ok_or(DecodeError::Shape)?
            .iter()
            .map(|v| T::decode(Some(v), query))
            .collect()
    }
}

/// A list result; its elements' IDs (objects) are read one after another.
impl<T: FunctionReturn> FunctionReturn for Vec<T> {
    fn type_ref() -> TypeRef {
        TypeRef::list(T::type_ref())
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        Box::pin(async move {
            let mut items = Vec::with_capacity(self.len());
            for item in self {
                items.push(match item.into_result().await? {
                    FunctionResult::Value(v) => v,
                    FunctionResult::Object(id) => Value::String(id.0),
                    FunctionResult::Container(c) => Value::String(c.id().await?.0),
                    FunctionResult::Void => Value::Null,
                });
            }
            Ok(FunctionResult::Value(Value::Array(items)))
        })
    }
}

/// An optional result: `None` answers null.
impl<T: FunctionReturn> FunctionReturn for Option<T> {
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        match self {
            Some(v) => v.into_result(),
            None => ready(Ok(FunctionResult::Value(Value::Null))),
        }
    }
}

/// An engine object kept as its ID: as an argument it is passed on as the engine sent it (no
/// query, a Secret's plaintext never read); as a result its ID goes back as it is.
pub struct IdOf<T> {
    id: Id,
    kind: PhantomData<fn() -> T>,
}

impl<T> IdOf<T> {
    /// The object `T` with this ID.
    pub fn new(id: Id) -> Self {
        Self {
            id,
            kind: PhantomData,
        }
    }

    /// The ID.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// The ID, owned.
    pub fn into_id(self) -> Id {
        self.id
    }
}

impl<T> Clone for IdOf<T> {
    fn clone(&self) -> Self {
        Self::new(self.id.clone())
    }
}

impl<T: Loadable> std::fmt::Debug for IdOf<T> {
    /// The type only: an ID can hold a secret's name or a path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdOf<{}>(..)", T::graphql_type())
    }
}

impl<T> From<IdOf<T>> for Id {
    fn from(id: IdOf<T>) -> Self {
        id.id
    }
}

impl<T: Loadable> IdOf<T> {
    /// The object, built lazily on `node(id:)`: no round trip here.
    pub fn load(&self, query: &Query) -> T {
        query.r#ref::<T>(self.id.clone())
    }
}

fn read_id(value: Option<&Value>) -> Result<Id, DecodeError> {
    required(value)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|s| Id(s.to_string()))
        .ok_or(DecodeError::Shape)
}

impl<T: Loadable + Send + 'static> FunctionArg for IdOf<T> {
    fn type_ref() -> TypeRef {
        TypeRef::object(T::graphql_type())
    }
    fn decode(value: Option<&Value>, _: &Query) -> Result<Self, DecodeError> {
        read_id(value).map(Self::new)
    }
}

impl<T: Loadable + Send + 'static> FunctionReturn for IdOf<T> {
    fn type_ref() -> TypeRef {
        TypeRef::object(T::graphql_type())
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Object(self.id)))
    }
}

macro_rules! objects {
    ($($t:ident),*) => {$(
        impl FunctionArg for dagger_sdk::$t {
            fn type_ref() -> TypeRef {
                TypeRef::object(stringify!($t))
            }
            fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
                read_id(value).map(|id| query.r#ref::<dagger_sdk::$t>(id))
            }
        }

        impl FunctionReturn for dagger_sdk::$t {
            fn type_ref() -> TypeRef {
                TypeRef::object(stringify!($t))
            }
            fn into_result(
                self,
            ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
                Box::pin(async move { Ok(FunctionResult::Object(self.id().await?)) })
            }
        }
    )*};
}

objects!(
    Directory,
    File,
    Secret,
    CacheVolume,
    Service,
    Socket,
    GitRepository,
    GitRef,
    ModuleSource
);

impl FunctionArg for dagger_sdk::Container {
    fn type_ref() -> TypeRef {
        TypeRef::object("Container")
    }
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
        read_id(value).map(|id| query.r#ref::<dagger_sdk::Container>(id))
    }
}

/// A container result: its ID is read (one query, which also runs its pipeline) by the runtime.
impl FunctionReturn for dagger_sdk::Container {
    fn type_ref() -> TypeRef {
        TypeRef::object("Container")
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        ready(Ok(FunctionResult::Container(self)))
    }
}

/// The engine's `Platform` scalar travels as its text (`linux/amd64`); it is registered as a
/// String.
impl FunctionArg for dagger_sdk::Platform {
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
        String::decode(value, query).map(dagger_sdk::Platform)
    }
}

impl FunctionReturn for dagger_sdk::Platform {
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn into_result(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        self.0.into_result()
    }
}

/// A value of a `FromStr` type, registered as a String and parsed on arrival (`#[arg(parse)]`
/// wraps the argument's type in it; [`Unwrap`] takes it out again).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T>(pub T);

impl<T> FunctionArg for Parsed<T>
where
    T: FromStr + Send,
    T::Err: Display,
{
    fn type_ref() -> TypeRef {
        TypeRef::String
    }
    fn decode(value: Option<&Value>, query: &Query) -> Result<Self, DecodeError> {
        let text = String::decode(value, query)?;
        T::from_str(&text)
            .map(Parsed)
            .map_err(|e| DecodeError::Parse(e.to_string()))
    }
}

/// Takes the values out of [`Parsed`] wrappers, through `Option` and `Vec`.
pub trait Unwrap {
    /// The type with the wrappers removed.
    type Inner;
    /// The value with the wrappers removed.
    fn unwrap_parsed(self) -> Self::Inner;
}

impl<T> Unwrap for Parsed<T> {
    type Inner = T;
    fn unwrap_parsed(self) -> T {
        self.0
    }
}

impl<T: Unwrap> Unwrap for Option<T> {
    type Inner = Option<T::Inner>;
    fn unwrap_parsed(self) -> Self::Inner {
        self.map(Unwrap::unwrap_parsed)
    }
}

impl<T: Unwrap> Unwrap for Vec<T> {
    type Inner = Vec<T::Inner>;
    fn unwrap_parsed(self) -> Self::Inner {
        self.into_iter().map(Unwrap::unwrap_parsed).collect()
    }
}

/// What the expansion of the attribute macros calls; not an API.
#[doc(hidden)]
pub mod __private {
    use std::cell::Cell;

    use super::*;
    use crate::args::{ArgError, Args};
    use crate::def::ArgDef;
    use dagger_engine::naming::cli_flag;

    pub use async_trait::async_trait;
    pub use serde_json::json;

    /// What `#[object]` records of the module's struct.
    pub trait ObjectInfo {
        /// The module's name (`dagger.json`).
        const MODULE_NAME: &'static str;
        /// The main object's name, the module's in PascalCase.
        const OBJECT_NAME: &'static str;
        /// The struct's doc comment.
        const DESCRIPTION: &'static str;
    }

    /// The registration of argument `name` of Rust type `T`.
    pub fn arg_def<T: FunctionArg>(name: &str, description: &str) -> ArgDef {
        ArgDef {
            optional: T::optional(),
            ..ArgDef::required(name, T::type_ref(), description)
        }
    }

    /// The allowed values of a String argument, as text.
    pub fn values<I>(values: I) -> Vec<String>
    where
        I: IntoIterator,
        I::Item: Display,
    {
        values.into_iter().map(|v| v.to_string()).collect()
    }

    /// Argument `name` of function `function`, decoded to `T`.
    pub fn arg<T: FunctionArg>(args: &Args, query: &Query, name: &str) -> Result<T, FunctionError> {
        T::decode(args.value(name), query).map_err(|e| match e {
            DecodeError::Shape => FunctionError::Argument(ArgError::Misuse {
                function: args.function().to_string(),
                name: name.to_string(),
                asked: T::type_ref().describe(),
                declared: "the engine sent another type".into(),
            }),
            // The flag, then the rule it broke, as the CLI shows it.
            DecodeError::Parse(message) => {
                FunctionError::InvalidArgument(format!("{}: {message}", cli_flag(name)))
            }
        })
    }

    /// A function's result, sent back.
    pub fn ret<T: FunctionReturn>(
        value: T,
    ) -> Pin<Box<dyn Future<Output = Result<FunctionResult, FunctionError>> + Send>> {
        value.into_result()
    }

    /// The Dagger type of a function returning `T` (or `Result<T, E>`, split by the macro).
    pub fn return_type<T: FunctionReturn>() -> TypeRef {
        T::type_ref()
    }

    /// The error of a `Result`, for the two conversions below: `Into<FunctionError>` first
    /// (keeps a [`FunctionError`]'s exit code, converts `eyre` and `dagger-sdk` errors), any
    /// other `Display` error as a failure; the expansion calls
    /// `(&&ErrorOf::new(e)).function_error()`, and method lookup tries the first before the
    /// second. The cell lets either take the error out through a reference.
    pub struct ErrorOf<E>(pub Cell<Option<E>>);

    impl<E> ErrorOf<E> {
        /// Wraps `err`.
        pub fn new(err: E) -> Self {
            Self(Cell::new(Some(err)))
        }
    }

    /// The conversion of errors that are, or convert into, a [`FunctionError`].
    pub trait ViaInto {
        /// The error as a [`FunctionError`].
        fn function_error(self) -> FunctionError;
    }

    impl<E: Into<FunctionError>> ViaInto for &&ErrorOf<E> {
        fn function_error(self) -> FunctionError {
            match self.0.take() {
                Some(e) => e.into(),
                None => FunctionError::Failed("the error was already taken".into()),
            }
        }
    }

    /// The conversion of any other error that has a message.
    pub trait ViaDisplay {
        /// The error as a failure with its message.
        fn function_error(self) -> FunctionError;
    }

    impl<E: Display> ViaDisplay for &ErrorOf<E> {
        fn function_error(self) -> FunctionError {
            match self.0.take() {
                Some(e) => FunctionError::Failed(e.to_string()),
                None => FunctionError::Failed("the error was already taken".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::__private::{ErrorOf, ViaDisplay, ViaInto};
    use super::*;

    #[test]
    // The double reference is how the expansion chooses the conversion.
    #[allow(clippy::needless_borrow)]
    fn errors_keep_their_exit_code_or_become_failures() {
        let e = (&&ErrorOf::new(FunctionError::InvalidArgument("bad".into()))).function_error();
        assert_eq!(e.exit_code(), 2);
        let e = (&&ErrorOf::new(eyre::eyre!("root").wrap_err("outer"))).function_error();
        assert_eq!(e, FunctionError::Failed("outer: root".into()));
        let e = (&&ErrorOf::new(std::fmt::Error)).function_error();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("error"), "{e}");
    }

    #[test]
    fn types_register_as_the_table_says() {
        assert_eq!(
            <Vec<Option<String>> as FunctionArg>::type_ref(),
            TypeRef::list(TypeRef::String)
        );
        assert!(<Option<i64> as FunctionArg>::optional());
        assert!(!<Vec<i64> as FunctionArg>::optional());
        assert_eq!(<f64 as FunctionArg>::type_ref(), TypeRef::Float);
        assert_eq!(
            <IdOf<dagger_sdk::Secret> as FunctionArg>::type_ref(),
            TypeRef::object("Secret")
        );
        assert_eq!(
            <dagger_sdk::Directory as FunctionArg>::type_ref(),
            TypeRef::object("Directory")
        );
        assert_eq!(<() as FunctionReturn>::type_ref(), TypeRef::Void);
        assert_eq!(<Parsed<u8> as FunctionArg>::type_ref(), TypeRef::String);
    }
}
