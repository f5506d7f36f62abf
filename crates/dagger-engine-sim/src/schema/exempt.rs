//! The fields the mock engine declares but does not simulate, each with its reason: they need
//! a running service, a terminal, a GPU, the client's filesystem or the module runtime, none of
//! which a test kit without containers has. Selecting one answers a GraphQL error naming the
//! field and the reason (never "Cannot query field"), so a pipeline using one fails with a
//! clear message at the step that uses it.
//!
//! [`EXEMPT`] is the one list: the SDL below declares exactly these fields (a unit test checks
//! it), `schema::resolve` answers them from it, and `tests/field_coverage.rs` counts it against
//! the engine's schema (at most 40 fields). The object types they return are declared with
//! their `id` only.

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

const SERVICE: &str = "it needs a running service; the mock runs no container";
const TERMINAL: &str = "it needs an interactive terminal";
const GPU: &str = "it needs a GPU";
const HOST_FS: &str =
    "it writes to or reads from the client's filesystem or sockets; declare host \
                       directories with MockEngine::add_host_directory instead";
const MODULES: &str = "it belongs to the module runtime and workspace API, which the mock does \
                       not simulate beyond the module protocol's calls";
const CHANGESET: &str = "changesets are not simulated (the mock keeps no file metadata to diff)";
const TARBALL: &str = "the mock builds no image layers, so it has no archive to write";
const GIT_DIR: &str =
    "the mock keeps no git objects, so a directory cannot be read as a repository";
const CLOUD: &str = "it needs Dagger Cloud, an LLM provider or the engine's own runtime";

/// Every exempt field: `(type, field, why the mock does not simulate it)`.
pub(crate) const EXEMPT: &[(&str, &str, &str)] = &[
    ("Container", "asService", SERVICE),
    ("Container", "asTarball", TARBALL),
    ("Container", "experimentalWithAllGPUs", GPU),
    ("Container", "experimentalWithGPU", GPU),
    ("Container", "export", HOST_FS),
    ("Container", "exportImage", HOST_FS),
    ("Container", "terminal", TERMINAL),
    ("Container", "up", SERVICE),
    ("Container", "withServiceBinding", SERVICE),
    ("Container", "withUnixSocket", HOST_FS),
    ("Container", "withoutUnixSocket", HOST_FS),
    ("Directory", "asGit", GIT_DIR),
    ("Directory", "asModule", MODULES),
    ("Directory", "asModuleSource", MODULES),
    ("Directory", "changes", CHANGESET),
    ("Directory", "withChanges", CHANGESET),
    ("Directory", "terminal", TERMINAL),
    ("Directory", "export", HOST_FS),
    ("File", "export", HOST_FS),
    ("GitRepository", "uncommitted", CHANGESET),
    ("Host", "containerImage", HOST_FS),
    ("Host", "findUp", HOST_FS),
    ("Host", "service", SERVICE),
    ("Host", "tunnel", SERVICE),
    ("Host", "unixSocket", HOST_FS),
    ("Address", "service", SERVICE),
    ("Address", "socket", HOST_FS),
    ("Query", "changeset", CHANGESET),
    ("Query", "cloud", CLOUD),
    ("Query", "currentEnv", MODULES),
    ("Query", "currentModule", MODULES),
    ("Query", "currentTypeDefs", MODULES),
    ("Query", "currentWorkspace", MODULES),
    ("Query", "engine", CLOUD),
    ("Query", "env", MODULES),
    ("Query", "generatedCode", MODULES),
    ("Query", "llm", CLOUD),
    ("Query", "moduleSource", MODULES),
    ("Query", "sourceMap", MODULES),
];

/// The exempt fields' declarations (from the engine's v0.21.8 schema) and the types they
/// return, with their `id` only.
pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Service",
    sdl: r#"
input PortForward { frontend: Int backend: Int! protocol: NetworkProtocol = TCP }
enum ModuleSourceKind { LOCAL_SOURCE GIT_SOURCE DIR_SOURCE }
type Service implements Node & Syncer { id: ID! }
type Socket implements Node { id: ID! }
type Changeset implements Node & Syncer { id: ID! }
type ModuleSource implements Node & Syncer { id: ID! }
type Cloud implements Node { id: ID! }
type Engine implements Node { id: ID! }
type Env implements Node { id: ID! }
type LLM implements Node & Syncer { id: ID! }
type GeneratedCode implements Node { id: ID! }
type SourceMap implements Node { id: ID! }
type Workspace implements Node { id: ID! }
type CurrentModule implements Node { id: ID! }
extend type Container {
  asService(args: [String!] = [], useEntrypoint: Boolean = false, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Service!
  asTarball(platformVariants: [ID!] = [] @expectedType(name: "Container"), forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes): File!
  experimentalWithAllGPUs: Container!
  experimentalWithGPU(devices: [String!]!): Container!
  export(path: String!, platformVariants: [ID!] = [] @expectedType(name: "Container"), forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes, expand: Boolean = false): String!
  exportImage(name: String!, platformVariants: [ID!] = [] @expectedType(name: "Container"), forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes): Void!
  terminal(cmd: [String!] = [], experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false): Container!
  up(random: Boolean = false, ports: [PortForward!] = [], args: [String!] = [], useEntrypoint: Boolean = false, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Void
  withServiceBinding(alias: String!, service: ID! @expectedType(name: "Service")): Container!
  withUnixSocket(path: String!, source: ID! @expectedType(name: "Socket"), owner: String = "", expand: Boolean = false): Container!
  withoutUnixSocket(path: String!, expand: Boolean = false): Container!
}
extend type Directory {
  asGit: GitRepository!
  asModule(sourceRootPath: String = "."): Module!
  asModuleSource(sourceRootPath: String = "."): ModuleSource!
  changes(from: ID! @expectedType(name: "Directory")): Changeset!
  withChanges(changes: ID! @expectedType(name: "Changeset")): Directory!
  terminal(container: ID @expectedType(name: "Container"), cmd: [String!] = [], experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false): Directory!
  export(path: String!, wipe: Boolean = false): String!
}
extend type File {
  export(path: String!, allowParentDirPath: Boolean = false): String!
}
extend type GitRepository {
  uncommitted: Changeset!
}
extend type Host {
  containerImage(name: String!): Container!
  findUp(name: String!, noCache: Boolean = false): String
  service(ports: [PortForward!]!, host: String = "localhost"): Service!
  tunnel(service: ID! @expectedType(name: "Service"), native: Boolean = false, ports: [PortForward!] = []): Service!
  unixSocket(path: String!): Socket!
}
extend type Address {
  service: Service!
  socket: Socket!
}
extend type Query {
  changeset: Changeset!
  cloud: Cloud!
  currentEnv: Env!
  currentModule: CurrentModule!
  currentTypeDefs(returnAllTypes: Boolean = false, hideCore: Boolean): [TypeDef!]!
  currentWorkspace: Workspace!
  engine: Engine!
  env(privileged: Boolean = false, writable: Boolean = false): Env!
  generatedCode(code: ID! @expectedType(name: "Directory")): GeneratedCode!
  llm(model: String, maxAPICalls: Int): LLM!
  moduleSource(refString: String!, refPin: String = "", disableFindUp: Boolean = false, allowNotExists: Boolean = false, requireKind: ModuleSourceKind): ModuleSource!
  sourceMap(filename: String!, line: Int!, column: Int!): SourceMap!
}
"#,
    resolve: unreachable_type,
    apply: no_chain,
};

/// The object types only exempt fields return (declared with their `id` only).
const EXEMPT_TYPES: &[&str] = &[
    "Service",
    "Socket",
    "Changeset",
    "ModuleSource",
    "Cloud",
    "Engine",
    "Env",
    "LLM",
    "GeneratedCode",
    "SourceMap",
    "Workspace",
    "CurrentModule",
];

/// Whether only exempt fields return objects of type `ty`: a selection of its fields is not
/// refused at validation, as the exempt field that would return it fails first with its
/// reason.
pub(crate) fn only_from_exempt_fields(ty: &str) -> bool {
    EXEMPT_TYPES.contains(&ty)
}

/// Why the mock does not simulate `ty.field`, if it is exempt.
pub(crate) fn reason(ty: &str, field: &str) -> Option<&'static str> {
    EXEMPT
        .iter()
        .find(|(t, f, _)| *t == ty && *f == field)
        .map(|(_, _, why)| *why)
}

/// The error an exempt field answers.
pub(crate) fn error(ty: &str, field: &str, why: &str) -> FieldError {
    FieldError::new(format!(
        "{ty}.{field} is not simulated by the mock engine: {why}"
    ))
}

/// The types above can only be reached through an exempt field, which fails first.
fn unreachable_type(
    _ctx: &Ctx,
    parent: &Obj,
    field: &str,
    _args: &Args,
) -> Result<Out, FieldError> {
    Err(error(
        &parent.ty,
        field,
        "objects of this type are made only by fields the mock does not simulate",
    ))
}

fn no_chain(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdl_declares_exactly_the_exempt_fields() {
        let doc = graphql_parser::parse_schema::<String>(TYPE.sdl).unwrap();
        let mut declared: Vec<(String, String)> = Vec::new();
        for def in &doc.definitions {
            if let graphql_parser::schema::Definition::TypeExtension(
                graphql_parser::schema::TypeExtension::Object(o),
            ) = def
            {
                declared.extend(o.fields.iter().map(|f| (o.name.clone(), f.name.clone())));
            }
        }
        let mut listed: Vec<(String, String)> = EXEMPT
            .iter()
            .map(|(t, f, _)| (t.to_string(), f.to_string()))
            .collect();
        declared.sort();
        listed.sort();
        assert_eq!(declared, listed);
        assert!(EXEMPT.len() <= 40, "{} exempt fields", EXEMPT.len());
        let mut types: Vec<String> = doc
            .definitions
            .iter()
            .filter_map(|d| match d {
                graphql_parser::schema::Definition::TypeDefinition(
                    graphql_parser::schema::TypeDefinition::Object(o),
                ) => Some(o.name.clone()),
                _ => None,
            })
            .collect();
        types.sort();
        let mut only: Vec<String> = EXEMPT_TYPES.iter().map(|t| t.to_string()).collect();
        only.sort();
        assert_eq!(types, only);
    }
}
