/**
 * The dependency rule of followback (DESIGN.md section 4, README "Layout"), checked by
 * `npm run check` (so CI's `.ci/run` fails on a violation): `npm run deps` runs it alone.
 *
 *   shared/domain        pure: imports only shared/domain, and of the outside only what is computation
 *                        without I/O: node:crypto (hashes, HMAC, random bytes), node:zlib (in-memory
 *                        compression of id sets) and pure-rand (seeded randomness).
 *   shared/presentation  pure too: HTML, text and CSV renderings of domain models and use cases' view
 *                        models; imports shared/domain, itself, node:crypto (the hash of an inline
 *                        style for a CSP) and only types from shared/ports and shared/app.
 *   shared/ports         interfaces: import only shared/domain (and each other); never an adapter, the
 *                        runtime, a use case or a library.
 *   shared/app           use cases: take ports as arguments; never import shared/adapters,
 *                        shared/runtime, an AWS SDK, a network client library or node's network modules.
 *                        (The global `fetch` is banned there by Biome: biome.json `overrides`.)
 *   functions/handlers   thin: parse the event, call a use case, answer. They may not import the
 *                        engine's policy (shared/domain/engine, shared/app/engine, shared/domain/observe-plan, shared/domain/observe)
 *                        and may use the domain's values only for its errors (shared/domain/errors.ts, to
 *                        tell a retry from a failure); types are free.
 *
 * test/deps/fixtures holds one deliberate violation per rule; test/deps/rules.test.ts proves each is
 * caught (and that the real tree passes).
 */

/** Libraries that talk to a network or a cloud: adapters' business, never a use case's. */
const IO_LIBRARIES = [
  '(^|/)node_modules/@aws-sdk/',
  '(^|/)node_modules/@smithy/',
  '(^|/)node_modules/twitter-api-v2/',
  '(^|/)node_modules/@atproto/',
  '(^|/)node_modules/@atcute/',
  '(^|/)node_modules/masto/',
  '(^|/)node_modules/nodemailer/',
  '(^|/)node_modules/(undici|node-fetch|axios|got|ky|cross-fetch|isomorphic-fetch|ws)/',
  '(^|/)node_modules/dynalite/',
  '(^|/)node_modules/@aws-lambda-powertools/',
  '(^|/)node_modules/@middy/',
];
const NETWORK_BUILTINS = '^(node:)?(http|https|http2|net|tls|dgram|dns|child_process|cluster)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'shared/domain imports nothing outward: no port, use case, adapter, config, runtime or library (but node:crypto, node:zlib and pure-rand, which do no I/O).',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: {
        pathNot: ['^shared/domain/', '^(node:)?(crypto|zlib)$', '(^|/)node_modules/pure-rand/'],
      },
    },
    {
      name: 'presentation-is-pure',
      comment:
        'shared/presentation renders models: it imports the domain and itself, and types of ports and use cases (view models); no adapter, runtime, config or library.',
      severity: 'error',
      from: { path: '^shared/presentation/' },
      to: { pathNot: ['^shared/(presentation|domain|ports|app)/', '^(node:)?crypto$'] },
    },
    {
      name: 'presentation-takes-only-types-from-ports-and-app',
      comment: 'Presentation renders what a use case returns; it calls no port and no use case.',
      severity: 'error',
      from: { path: '^shared/presentation/' },
      to: { path: '^shared/(ports|app)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ports-import-no-implementation',
      comment:
        'shared/ports are interfaces over domain types: no adapter, runtime, use case, config or library.',
      severity: 'error',
      from: { path: '^shared/ports/' },
      to: { pathNot: ['^shared/(ports|domain)/'] },
    },
    {
      name: 'app-imports-no-adapter',
      comment:
        'Use cases take ports as arguments: shared/app never imports shared/adapters or shared/runtime.',
      severity: 'error',
      from: { path: '^shared/app/' },
      to: { path: '^shared/(adapters|runtime)/' },
    },
    {
      name: 'app-imports-no-io-library',
      comment:
        'shared/app imports no AWS SDK, no network client (twitter-api-v2, @atproto, masto, fetch wrappers), no MIME builder and no network module of node.',
      severity: 'error',
      from: { path: '^shared/app/' },
      to: { path: [...IO_LIBRARIES, NETWORK_BUILTINS] },
    },
    {
      name: 'handlers-hold-no-engine-policy',
      comment:
        'functions/handlers are thin: the engine policy (shared/domain/engine, shared/app/engine, shared/domain/observe-plan, shared/domain/observe) belongs in the use cases.',
      severity: 'error',
      from: { path: '^functions/handlers/' },
      to: {
        path: [
          '^shared/domain/engine/',
          '^shared/app/engine/',
          '^shared/domain/observe-plan\\.ts$',
          '^shared/domain/observe/',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'handlers-use-only-domain-errors',
      comment:
        'functions/handlers use no value of the domain but its errors (types are free): decisions are the use cases\u2019.',
      severity: 'error',
      from: { path: '^functions/handlers/' },
      to: {
        path: '^shared/domain/',
        pathNot: '^shared/domain/errors\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing (a moved file) fails here before it fails at run time.',
      severity: 'error',
      from: { path: '^(shared|functions|cli)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^cdk\\.out/', '^\\.followback/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
