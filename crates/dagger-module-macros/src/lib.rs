//! The attribute macros of `dagger-module-runtime`: a Dagger module read from a Rust struct and
//! its `impl` block. Use them through the runtime (`dagger_module_runtime::object`,
//! `dagger_module_runtime::functions`); its README documents them.
//!
//! - `#[object]` on the struct: the module's name (from the struct's, `HelloWorld` ->
//!   `hello-world`, or `#[object(name = "...")]`) and description (the struct's doc comment).
//! - `#[functions]` on its `impl` block: each `pub fn` / `pub async fn` is a function. The
//!   expansion is the module's `ModuleDef` and its dispatch (`dagger_module_runtime::Module`).
//!
//! Names follow the one rule of `dagger_engine::naming`, whose source file this crate includes,
//! so that a name the engine would refuse or two functions with one Dagger name are compile
//! errors here.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, ImplItem, ItemImpl, ItemStruct, Lit, LitStr,
    Meta, Pat, PathArguments, ReturnType, Type,
};

use dagger_naming as naming;

/// Marks the struct of a Dagger module: its doc comment is the module's description, its name
/// (`HelloWorld`) gives the module's (`hello-world`) unless `#[object(name = "...")]` says
/// otherwise. The module's functions come from an `impl` block marked `#[functions]`.
#[proc_macro_attribute]
pub fn object(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_object(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Marks the `impl` block of a Dagger module's struct: each `pub fn` and `pub async fn` is a
/// function of the module. See the runtime's README for arguments (`#[arg(...)]`), function
/// options (`#[function(...)]`), and the types supported.
#[proc_macro_attribute]
pub fn functions(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr: Tokens = attr.into();
        return syn::Error::new(attr.span(), "#[functions] takes no options")
            .to_compile_error()
            .into();
    }
    match expand_functions(item.into()) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// The description a doc comment gives: lines of one paragraph joined with a space,
/// paragraphs with a blank line (as Markdown renders them).
fn doc_text(attrs: &[Attribute]) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for attr in attrs {
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
        else {
            continue;
        };
        let text = s.value();
        // `///` alone is an empty string: a paragraph break, like a blank line.
        let lines: Vec<&str> = if text.trim().is_empty() {
            vec![""]
        } else {
            text.lines().collect()
        };
        for line in lines {
            let line = line.trim();
            if line.is_empty() {
                if !current.is_empty() {
                    paragraphs.push(current.join(" "));
                    current.clear();
                }
            } else {
                current.push(line.to_string());
            }
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join(" "));
    }
    paragraphs.join("\n\n")
}

/// `HelloWorld` -> `hello-world`.
fn kebab_of_pascal(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand_object(attr: Tokens, item: Tokens) -> syn::Result<Tokens> {
    let item: ItemStruct = syn::parse2(item)?;
    let mut name: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            name = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("#[object] takes only `name = \"module-name\"`"))
        }
    });
    parser.parse2(attr)?;
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "a Dagger module's struct cannot be generic",
        ));
    }
    let ident = &item.ident;
    let (module_name, span) = match &name {
        Some(lit) => (lit.value(), lit.span()),
        None => (kebab_of_pascal(&ident.to_string()), ident.span()),
    };
    let object_name = naming::pascal_case(&module_name).map_err(|e| {
        syn::Error::new(
            span,
            format!("{e}; name the module with #[object(name = \"...\")]"),
        )
    })?;
    if name.is_none() && *ident != object_name {
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "the struct's name must be the module's object name in PascalCase ({object_name:?}); rename it or give #[object(name = \"...\")]"
            ),
        ));
    }
    let description = doc_text(&item.attrs);
    Ok(quote! {
        #item

        impl ::dagger_module_runtime::__private::ObjectInfo for #ident {
            const MODULE_NAME: &'static str = #module_name;
            const OBJECT_NAME: &'static str = #object_name;
            const DESCRIPTION: &'static str = #description;
        }
    })
}

/// What a `#[function(...)]` attribute says.
#[derive(Default)]
struct FunctionOptions {
    name: Option<LitStr>,
    doc: Option<Expr>,
    cache: Option<Tokens>,
    deprecated: Option<LitStr>,
}

/// `never`, `session`, `default`, or a time to live `30s`, `15m`, `6h`, within the engine's
/// bounds (1 s to 168 h, upstream `core/modfunc.go`).
fn cache_policy(lit: &LitStr) -> syn::Result<Tokens> {
    let text = lit.value();
    let rt = quote!(::dagger_module_runtime);
    let bad = |why: &str| {
        syn::Error::new(
            lit.span(),
            format!(
                "cache policy {text:?} {why}: write \"never\", \"session\", \"default\" or a time \
                 to live such as \"30s\", \"15m\", \"6h\" (1 s to 168 h)"
            ),
        )
    };
    Ok(match text.as_str() {
        "never" => quote!(#rt::CachePolicy::Never),
        "session" => quote!(#rt::CachePolicy::PerSession),
        "default" => {
            quote!(#rt::CachePolicy::Default { time_to_live: ::core::option::Option::None })
        }
        ttl => {
            let (number, unit) = ttl.split_at(ttl.len().saturating_sub(1));
            let scale: u64 = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => return Err(bad("is not a policy")),
            };
            let n: u64 = number.parse().map_err(|_| bad("is not a policy"))?;
            let seconds = n.checked_mul(scale).ok_or_else(|| bad("is too long"))?;
            if !(1..=7 * 24 * 3600).contains(&seconds) {
                return Err(bad("is outside the engine's bounds"));
            }
            quote!(#rt::CachePolicy::Default {
                time_to_live: ::core::option::Option::Some(::std::time::Duration::from_secs(#seconds)),
            })
        }
    })
}

fn function_options(attrs: &mut Vec<Attribute>) -> syn::Result<FunctionOptions> {
    let mut options = FunctionOptions::default();
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        if !attr.path().is_ident("function") {
            kept.push(attr);
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                options.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("doc") {
                options.doc = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("cache") {
                let lit: LitStr = meta.value()?.parse()?;
                options.cache = Some(cache_policy(&lit)?);
            } else if meta.path.is_ident("deprecated") {
                options.deprecated = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(
                    "unknown function option: use name = \"...\", doc = \"...\", cache = \"never\" | \"session\" | \"<n>s\", deprecated = \"...\"",
                ));
            }
            Ok(())
        })?;
    }
    *attrs = kept;
    Ok(options)
}

/// What a `#[arg(...)]` attribute says.
#[derive(Default)]
struct ArgOptions {
    default: Option<Expr>,
    doc: Option<Expr>,
    ignore: Option<(Span, Expr)>,
    default_path: Option<LitStr>,
    values: Option<Expr>,
    parse: bool,
}

fn arg_options(attrs: &mut Vec<Attribute>) -> syn::Result<ArgOptions> {
    let mut options = ArgOptions::default();
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        if !attr.path().is_ident("arg") {
            kept.push(attr);
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                options.default = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("doc") {
                options.doc = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("ignore") {
                let span = meta.path.span();
                options.ignore = Some((span, meta.value()?.parse()?));
            } else if meta.path.is_ident("default_path") {
                options.default_path = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("values") {
                options.values = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("parse") {
                options.parse = true;
            } else {
                return Err(meta.error(
                    "unknown argument option: use default = ..., doc = \"...\", ignore = [...], default_path = \"...\", values = ..., parse",
                ));
            }
            Ok(())
        })?;
    }
    *attrs = kept;
    Ok(options)
}

/// The last segment of a path type and its generic arguments.
fn last_segment(ty: &Type) -> Option<(String, Vec<&Type>)> {
    let Type::Path(p) = ty else {
        return None;
    };
    let seg = p.path.segments.last()?;
    let generics = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((seg.ident.to_string(), generics))
}

/// `Option<T>` -> `T`.
fn strip_option(ty: &Type) -> &Type {
    match last_segment(ty) {
        Some((name, generics)) if name == "Option" && generics.len() == 1 => generics[0],
        _ => ty,
    }
}

/// `#[arg(parse)]`: the innermost type (under `Option` and `Vec`) wrapped in `Parsed`.
fn wrap_parsed(ty: &Type) -> Type {
    if let Some((name, generics)) = last_segment(ty) {
        if (name == "Option" || name == "Vec") && generics.len() == 1 {
            let inner = wrap_parsed(generics[0]);
            return if name == "Option" {
                syn::parse_quote!(::core::option::Option<#inner>)
            } else {
                syn::parse_quote!(::std::vec::Vec<#inner>)
            };
        }
    }
    syn::parse_quote!(::dagger_module_runtime::Parsed<#ty>)
}

/// The kind of value a default must be, from the argument's type.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Str,
    Bool,
    Int,
    Float,
    List(Box<Kind>),
    Object,
    Other,
}

impl Kind {
    fn of(ty: &Type, parse: bool) -> Kind {
        let ty = strip_option(ty);
        let Some((name, generics)) = last_segment(ty) else {
            return Kind::Other;
        };
        if name == "Vec" && generics.len() == 1 {
            return Kind::List(Box::new(Kind::of(generics[0], parse)));
        }
        if parse {
            return Kind::Str;
        }
        match name.as_str() {
            "String" | "Platform" => Kind::Str,
            "bool" => Kind::Bool,
            "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" => {
                Kind::Int
            }
            "f32" | "f64" => Kind::Float,
            "Directory" | "File" | "Container" | "Secret" | "CacheVolume" | "Service"
            | "Socket" | "IdOf" => Kind::Object,
            _ => Kind::Other,
        }
    }

    fn describe(&self) -> String {
        match self {
            Kind::Str => "a string literal (\"...\") or a &str constant".into(),
            Kind::Bool => "true or false".into(),
            Kind::Int => "an integer literal or constant".into(),
            Kind::Float => "a number literal or constant".into(),
            Kind::List(inner) => format!("a list [...] of {}", inner.describe_plain()),
            Kind::Object => "nothing".into(),
            Kind::Other => "nothing".into(),
        }
    }

    fn describe_plain(&self) -> String {
        match self {
            Kind::Str => "string literals".into(),
            Kind::Bool => "booleans".into(),
            Kind::Int => "integers".into(),
            Kind::Float => "numbers".into(),
            Kind::List(inner) => format!("lists of {}", inner.describe_plain()),
            Kind::Object | Kind::Other => "values".into(),
        }
    }

    /// The Rust type a constant default must have.
    fn rust_type(&self) -> Option<Tokens> {
        Some(match self {
            Kind::Str => quote!(&str),
            Kind::Bool => quote!(bool),
            Kind::Int => quote!(i64),
            Kind::Float => quote!(f64),
            _ => return None,
        })
    }
}

/// Whether a literal default fits `kind`; `None` when the expression is not a literal.
fn literal_fits(expr: &Expr, kind: &Kind) -> Option<bool> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(matches!(
            (lit, kind),
            (Lit::Str(_), Kind::Str)
                | (Lit::Bool(_), Kind::Bool)
                | (Lit::Int(_), Kind::Int)
                | (Lit::Int(_), Kind::Float)
                | (Lit::Float(_), Kind::Float)
        )),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            literal_fits(&u.expr, kind).map(|fits| fits && matches!(kind, Kind::Int | Kind::Float))
        }
        Expr::Array(a) => match kind {
            Kind::List(inner) => Some(
                a.elems
                    .iter()
                    .all(|e| literal_fits(e, inner).unwrap_or(false)),
            ),
            _ => Some(false),
        },
        _ => None,
    }
}

/// The registration of a default value: `json!` of the literal, or of a constant checked
/// against the type (the mismatch error then points at the constant).
fn default_tokens(expr: &Expr, kind: &Kind, param: &str) -> syn::Result<Tokens> {
    let rt = quote!(::dagger_module_runtime);
    if matches!(kind, Kind::Object) {
        return Err(syn::Error::new(
            expr.span(),
            format!(
                "argument `{param}` is an engine object, which cannot have a default value; \
                 make it Option<...> and use `default_path = \"...\"` to load it from the \
                 module's context directory"
            ),
        ));
    }
    if matches!(kind, Kind::Other) {
        return Err(syn::Error::new(
            expr.span(),
            format!(
                "argument `{param}` has a type whose default cannot be checked; defaults are \
                 for String, bool, integer, float and list arguments, and for `#[arg(parse)]` \
                 arguments (a string)"
            ),
        ));
    }
    match literal_fits(expr, kind) {
        Some(true) => Ok(quote!(#rt::__private::json!(#expr))),
        Some(false) => Err(syn::Error::new(
            expr.span(),
            format!(
                "the default of argument `{param}` must be {}, as its type is",
                kind.describe()
            ),
        )),
        None => match kind.rust_type() {
            Some(ty) => Ok(quote_spanned!(expr.span()=> {
                let value: #ty = #expr;
                #rt::__private::json!(value)
            })),
            None => Err(syn::Error::new(
                expr.span(),
                format!(
                    "the default of list argument `{param}` must be a literal list [...] of {}",
                    match kind {
                        Kind::List(inner) => inner.describe_plain(),
                        _ => "values".into(),
                    }
                ),
            )),
        },
    }
}

/// How a function parameter is filled.
enum Param {
    /// `&CallContext`: the call's context.
    Context,
    /// `&Query`: the `dagger-sdk` query root.
    Query,
    /// An argument of the Dagger function.
    Arg {
        ident: syn::Ident,
        ty: Box<Type>,
        options: Box<ArgOptions>,
    },
}

fn injected(ty: &Type) -> Option<Param> {
    let Type::Reference(r) = ty else {
        return None;
    };
    match last_segment(&r.elem)?.0.as_str() {
        "CallContext" => Some(Param::Context),
        "Query" => Some(Param::Query),
        _ => None,
    }
}

struct Function {
    rust_name: syn::Ident,
    name: String,
    /// A string literal or a `&str` constant.
    description: Tokens,
    is_async: bool,
    has_self: bool,
    params: Vec<Param>,
    ok_type: Type,
    fallible: bool,
    options: FunctionOptions,
}

fn read_function(f: &mut syn::ImplItemFn) -> syn::Result<Function> {
    let options = function_options(&mut f.attrs)?;
    let sig = &mut f.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a Dagger function cannot be generic; give its arguments concrete types",
        ));
    }
    let (name, name_span) = match &options.name {
        Some(lit) => (lit.value(), lit.span()),
        None => {
            let ident = sig.ident.to_string();
            (
                ident.strip_prefix("r#").unwrap_or(&ident).to_string(),
                sig.ident.span(),
            )
        }
    };
    naming::check_snake_case("function", &name).map_err(|e| {
        syn::Error::new(
            name_span,
            format!("{e}; or name it with #[function(name = \"...\")]"),
        )
    })?;
    let mut has_self = false;
    let mut params = Vec::new();
    for input in sig.inputs.iter_mut() {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() || r.mutability.is_some() {
                    return Err(syn::Error::new(
                        r.span(),
                        "a Dagger function takes `&self` (or no receiver): the engine may run \
                         functions of one object side by side",
                    ));
                }
                has_self = true;
            }
            FnArg::Typed(pt) => {
                let options = arg_options(&mut pt.attrs)?;
                if let Some(param) = injected(&pt.ty) {
                    params.push(param);
                    continue;
                }
                let Pat::Ident(pi) = pt.pat.as_ref() else {
                    return Err(syn::Error::new(
                        pt.pat.span(),
                        "a Dagger function's argument needs a plain name (`name: Type`): the name \
                         is the argument's",
                    ));
                };
                let ident = pi.ident.clone();
                let arg_name = ident.to_string();
                let arg_name = arg_name.strip_prefix("r#").unwrap_or(&arg_name).to_string();
                naming::check_snake_case("argument", &arg_name)
                    .map_err(|e| syn::Error::new(ident.span(), e.to_string()))?;
                let ty = (*pt.ty).clone();
                let inner = strip_option(&ty);
                if let Some((span, _)) = &options.ignore {
                    if !matches!(last_segment(inner), Some((n, _)) if n == "Directory") {
                        return Err(syn::Error::new(
                            *span,
                            format!(
                                "`ignore` applies only to a Directory argument; remove it, or \
                                 make `{arg_name}` a Directory (or Option<Directory>)"
                            ),
                        ));
                    }
                }
                if let Some(path) = &options.default_path {
                    let loadable = matches!(last_segment(inner), Some((n, _)) if n == "Directory" || n == "File");
                    let optional = !std::ptr::eq(inner, &ty);
                    if !loadable || !optional {
                        return Err(syn::Error::new(
                            path.span(),
                            format!(
                                "`default_path` applies only to an Option<Directory> or \
                                 Option<File> argument; make `{arg_name}` one of them or remove it"
                            ),
                        ));
                    }
                }
                params.push(Param::Arg {
                    ident,
                    ty: Box::new(ty),
                    options: Box::new(options),
                });
            }
        }
    }
    let (ok_type, fallible) = match &sig.output {
        ReturnType::Default => (syn::parse_quote!(()), false),
        ReturnType::Type(_, ty) => match last_segment(ty) {
            Some((n, generics)) if n == "Result" && !generics.is_empty() => {
                (generics[0].clone(), true)
            }
            _ => ((**ty).clone(), false),
        },
    };
    let description = match &options.doc {
        Some(doc) => quote!(#doc),
        None => {
            let text = doc_text(&f.attrs);
            quote!(#text)
        }
    };
    Ok(Function {
        rust_name: sig.ident.clone(),
        name,
        description,
        is_async: sig.asyncness.is_some(),
        has_self,
        params,
        ok_type,
        fallible,
        options,
    })
}

fn expand_functions(item: Tokens) -> syn::Result<Tokens> {
    let mut item: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "#[functions] goes on the struct's own impl block, not on a trait impl",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "a Dagger module's impl block cannot be generic",
        ));
    }
    let mut functions = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for it in item.items.iter_mut() {
        let ImplItem::Fn(f) = it else { continue };
        if matches!(f.vis, syn::Visibility::Inherited) {
            // Not a function of the module: a helper. `#[arg]`/`#[function]` there is a mistake.
            if f.attrs.iter().any(|a| a.path().is_ident("function")) {
                return Err(syn::Error::new(
                    f.sig.ident.span(),
                    "#[function] on a method that is not `pub`: make it `pub` to export it",
                ));
            }
            continue;
        }
        let function = read_function(f)?;
        let engine = naming::camel_case(&function.name);
        if let Some((other, _)) = seen.iter().find(|(_, e)| *e == engine) {
            let span = function
                .options
                .name
                .as_ref()
                .map_or(function.rust_name.span(), LitStr::span);
            return Err(syn::Error::new(
                span,
                format!(
                    "two functions have the Dagger name {engine:?} (here and `{other}`); rename \
                     one, or give it another #[function(name = \"...\")]"
                ),
            ));
        }
        seen.push((function.rust_name.to_string(), engine));
        // Dagger functions take many arguments by nature.
        f.attrs
            .push(syn::parse_quote!(#[allow(clippy::too_many_arguments)]));
        functions.push(function);
    }
    let self_ty = &item.self_ty;
    let rt = quote!(::dagger_module_runtime);

    let mut defs = Vec::new();
    let mut runners = Vec::new();
    let mut call_arms = Vec::new();
    let mut any_arms = Vec::new();
    let mut returns_arms = Vec::new();
    for f in &functions {
        let name = &f.name;
        let description = &f.description;
        let ok_type = &f.ok_type;
        let return_type =
            quote_spanned!(ok_type.span()=> #rt::__private::return_type::<#ok_type>());
        let mut arg_defs = Vec::new();
        let mut decodes = Vec::new();
        let mut call_args = Vec::new();
        for p in &f.params {
            match p {
                Param::Context => call_args.push(quote!(__dagger_ctx)),
                Param::Query => call_args.push(quote!(&__dagger_query)),
                Param::Arg { ident, ty, options } => {
                    let arg_name = ident.to_string();
                    let arg_name = arg_name.strip_prefix("r#").unwrap_or(&arg_name).to_string();
                    let reg_ty = if options.parse {
                        wrap_parsed(ty)
                    } else {
                        (**ty).clone()
                    };
                    let doc = match &options.doc {
                        Some(doc) => quote!(#doc),
                        None => quote!(""),
                    };
                    let mut setters = Vec::new();
                    if let Some(default) = &options.default {
                        let kind = Kind::of(ty, options.parse);
                        let json = default_tokens(default, &kind, &arg_name)?;
                        setters.push(quote!(arg.default = ::core::option::Option::Some(#json);));
                    }
                    if let Some(path) = &options.default_path {
                        setters.push(quote!(arg.default_path = ::core::option::Option::Some(::std::string::String::from(#path));));
                    }
                    if let Some((_, patterns)) = &options.ignore {
                        setters.push(quote!(arg.ignore = #rt::__private::values(#patterns);));
                    }
                    if let Some(values) = &options.values {
                        setters.push(quote!(arg.allowed_values = #rt::__private::values(#values);));
                    }
                    let arg_def = quote_spanned!(ty.span()=> #rt::__private::arg_def::<#reg_ty>(#arg_name, #doc));
                    arg_defs.push(quote!({
                        #[allow(unused_mut)]
                        let mut arg = #arg_def;
                        #(#setters)*
                        arg
                    }));
                    let decode = quote_spanned!(ty.span()=> #rt::__private::arg::<#reg_ty>(__dagger_args, &__dagger_query, #arg_name)?);
                    let decode = if options.parse {
                        quote!(#rt::Unwrap::unwrap_parsed(#decode))
                    } else {
                        decode
                    };
                    let local = format_ident!("__dagger_arg_{}", arg_name);
                    decodes.push(quote!(let #local = #decode;));
                    call_args.push(quote!(#local));
                }
            }
        }
        let rust_name = &f.rust_name;
        let target = if f.has_self {
            quote!(self.#rust_name)
        } else {
            quote!(Self::#rust_name)
        };
        let invoke = if f.is_async {
            quote!(#target(#(#call_args),*).await)
        } else {
            quote!(#target(#(#call_args),*))
        };
        let finish = if f.fallible {
            quote!(match __dagger_out {
                ::core::result::Result::Ok(value) => ::core::result::Result::Ok(value),
                ::core::result::Result::Err(err) => {
                    #[allow(unused_imports)]
                    use #rt::__private::{ViaDisplay as _, ViaInto as _};
                    ::core::result::Result::Err(
                        (&&#rt::__private::ErrorOf::new(err)).function_error(),
                    )
                }
            })
        } else {
            quote!(::core::result::Result::Ok(__dagger_out))
        };
        let runner = format_ident!("__dagger_run_{}", name);
        runners.push(quote! {
            #[allow(
                clippy::needless_question_mark,
                clippy::needless_borrow,
                clippy::unit_arg,
                clippy::let_unit_value
            )]
            async fn #runner(
                &self,
                __dagger_ctx: &#rt::CallContext,
                __dagger_args: &#rt::Args,
            ) -> ::core::result::Result<#ok_type, #rt::FunctionError> {
                #[allow(unused_variables)]
                let __dagger_query = __dagger_ctx.query();
                #(#decodes)*
                let __dagger_out = #invoke;
                #finish
            }
        });
        let mut options = Vec::new();
        if let Some(cache) = &f.options.cache {
            options.push(quote!(function.cache_policy = ::core::option::Option::Some(#cache);));
        }
        if let Some(reason) = &f.options.deprecated {
            options.push(quote!(function.deprecated = ::core::option::Option::Some(::std::string::String::from(#reason));));
        }
        defs.push(quote!({
            #[allow(unused_mut)]
            let mut function = #rt::FunctionDef::new(#name, #return_type, #description);
            #(function.args.push(#arg_defs);)*
            #(#options)*
            function
        }));
        call_arms.push(quote!(#name => #rt::__private::ret(self.#runner(ctx, args).await?).await,));
        any_arms.push(quote!(#name => ::std::boxed::Box::new(self.#runner(ctx, args).await?),));
        returns_arms.push(quote!(#name => ::core::any::TypeId::of::<#ok_type>() == ::core::any::TypeId::of::<R>(),));
    }

    Ok(quote! {
        #item

        impl #self_ty {
            #(#runners)*

            /// Runs `function` (snake_case) with decoded `args` and returns its Rust value,
            /// when that value is an `R` (see `dagger_returns`): for a caller in Rust that
            /// wants more than the answer the engine gets.
            #[allow(dead_code)]
            pub(crate) async fn dagger_call_as<R: 'static>(
                &self,
                ctx: &#rt::CallContext,
                function: &str,
                args: &#rt::Args,
            ) -> ::core::result::Result<R, #rt::FunctionError> {
                let value: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send> = match function {
                    #(#any_arms)*
                    other => {
                        return ::core::result::Result::Err(#rt::FunctionError::Failed(
                            ::std::format!(
                                "module {:?} has no function {other:?}",
                                <Self as #rt::__private::ObjectInfo>::MODULE_NAME,
                            ),
                        ))
                    }
                };
                value.downcast::<R>().map(|v| *v).map_err(|_| {
                    #rt::FunctionError::Failed(::std::format!(
                        "function {function:?} does not return {}",
                        ::core::any::type_name::<R>(),
                    ))
                })
            }

            /// Whether `function` (snake_case) returns an `R` (the `T` of a `Result<T, E>`).
            #[allow(dead_code)]
            pub(crate) fn dagger_returns<R: 'static>(function: &str) -> bool {
                match function {
                    #(#returns_arms)*
                    _ => false,
                }
            }
        }

        #[#rt::__private::async_trait]
        impl #rt::Module for #self_ty {
            fn definition(&self) -> #rt::ModuleDef {
                let description = <Self as #rt::__private::ObjectInfo>::DESCRIPTION;
                #rt::ModuleDef {
                    name: ::std::string::String::from(<Self as #rt::__private::ObjectInfo>::MODULE_NAME),
                    description: ::std::string::String::from(description),
                    object: #rt::ObjectDef {
                        name: ::std::string::String::from(<Self as #rt::__private::ObjectInfo>::OBJECT_NAME),
                        description: ::std::string::String::from(description),
                        functions: ::std::vec![#(#defs),*],
                    },
                }
            }

            async fn call(
                &self,
                ctx: &#rt::CallContext,
                function: &str,
                args: &#rt::Args,
            ) -> ::core::result::Result<#rt::FunctionResult, #rt::FunctionError> {
                match function {
                    #(#call_arms)*
                    other => ::core::result::Result::Err(#rt::FunctionError::Failed(::std::format!(
                        "module {:?} has no function {other:?}",
                        <Self as #rt::__private::ObjectInfo>::MODULE_NAME,
                    ))),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comments_join_as_markdown_paragraphs() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[doc = " Build a container"]),
            syn::parse_quote!(#[doc = " and publish it."]),
            syn::parse_quote!(#[doc = ""]),
            syn::parse_quote!(#[doc = " Second paragraph."]),
        ];
        assert_eq!(
            doc_text(&attrs),
            "Build a container and publish it.\n\nSecond paragraph."
        );
    }

    #[test]
    fn module_names_from_struct_names() {
        assert_eq!(kebab_of_pascal("Greeter"), "greeter");
        assert_eq!(kebab_of_pascal("HelloWorld"), "hello-world");
        assert_eq!(
            naming::pascal_case(&kebab_of_pascal("HelloWorld")).unwrap(),
            "HelloWorld"
        );
    }

    #[test]
    fn defaults_are_checked_against_the_type() {
        let ty: Type = syn::parse_quote!(Option<Vec<String>>);
        let kind = Kind::of(&ty, false);
        assert_eq!(kind, Kind::List(Box::new(Kind::Str)));
        assert_eq!(
            literal_fits(&syn::parse_quote!(["a", "b"]), &kind),
            Some(true)
        );
        assert_eq!(literal_fits(&syn::parse_quote!([1]), &kind), Some(false));
        assert_eq!(literal_fits(&syn::parse_quote!(-3), &Kind::Int), Some(true));
        assert_eq!(literal_fits(&syn::parse_quote!(CONST), &Kind::Int), None);
        let parsed: Type = syn::parse_quote!(Version);
        assert_eq!(Kind::of(&parsed, true), Kind::Str);
        assert_eq!(Kind::of(&syn::parse_quote!(Directory), false), Kind::Object);
    }

    #[test]
    fn cache_policies_parse_within_the_engines_bounds() {
        for ok in ["never", "session", "default", "1s", "15m", "168h"] {
            assert!(
                cache_policy(&LitStr::new(ok, Span::call_site())).is_ok(),
                "{ok}"
            );
        }
        for bad in ["0s", "169h", "forever", "10", "s", "1d"] {
            let err = cache_policy(&LitStr::new(bad, Span::call_site())).unwrap_err();
            assert!(err.to_string().contains("\"never\""), "{bad}: {err}");
        }
    }
}
