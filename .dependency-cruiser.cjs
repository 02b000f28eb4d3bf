/**
 * npm run lint: the layers of src/ (docs/architecture.md), enforced. Folders are ranked top to bottom; a folder
 * imports only from folders below it, and from the small shared modules at src/ itself (event.ts, ids.ts, log.ts,
 * ...). Two kinds of module sit below every folder whatever their place: a feature's vocabulary
 * (src/<feature>/types.ts: types and constants only, importing nothing but event.ts and other vocabularies),
 * which the store may speak in without depending on the feature; and a feature's decisions
 * (src/<feature>/decisions.ts: pure functions importing nothing but event.ts, vocabularies and other decisions, so
 * no I/O can reach them), which the store executes in its transactions without making them. The fronts (admin API, dashboard, CLI) do what
 * they do through src/operations, where each use case is written once.
 */
const RANKED = [
  'cli',
  'ui',
  'admin',
  'operations',
  'ledger',
  'metrics',
  'ingest',
  'payouts',
  'retention',
  'alerts',
  'routing',
  'delivery',
  'destinations',
  'skypay',
  'http',
  'store',
  // The component lifecycle and the typed bus every feature plugs into: below all of them.
  'runtime',
];

/** A feature's vocabulary and its decisions: leaves anything may import. */
const LEAVES = ['^src/[a-z-]+/types\\.ts$', '^src/[a-z-]+/decisions\\.ts$'];

/** For each ranked folder, no import of a folder ranked above it (its own vocabulary aside). */
const downwardOnly = RANKED.map((folder, rank) => {
  const above = RANKED.slice(0, rank);
  return {
    name: `layers-${folder}`,
    severity: 'error',
    comment: `src/${folder}/ sits below ${above.join(', ') || 'nothing'}: it must not import them (docs/architecture.md).`,
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(${above.join('|')})/`, pathNot: LEAVES },
  };
}).filter((rule) => rule.to.path !== '^src/()/');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules each need the other to load first; cut it with a smaller module.',
      from: {},
      to: { circular: true },
    },
    ...downwardOnly,
    {
      name: 'fronts-through-operations',
      severity: 'error',
      comment:
        'The admin API, the dashboard and the CLI reach the store only through src/operations, where each use case ' +
        'is written once; take the view types from src/operations/views.ts.',
      from: { path: '^src/(admin|ui|cli)/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'entry-points-on-top',
      severity: 'error',
      comment: 'main.ts, daemon.ts and app.ts wire everything; nothing below imports them.',
      from: { path: '^src/[a-z-]+/' },
      to: { path: '^src/(main|daemon|app)\\.ts$' },
    },
    {
      name: 'store-speaks-only-vocabularies',
      severity: 'error',
      comment:
        'The store executes decisions it is given and knows no feature: of a feature it may import only its ' +
        'vocabulary (src/<feature>/types.ts) and its pure decisions (src/<feature>/decisions.ts).',
      from: { path: '^src/store/' },
      to: { path: '^src/[a-z-]+/', pathNot: ['^src/store/', ...LEAVES] },
    },
    {
      name: 'decisions-are-pure',
      severity: 'error',
      comment:
        "A feature's decisions (decisions.ts) are pure functions the store runs inside its transactions: they import " +
        'only event.ts, vocabularies and other decisions (no node: module, no package, nothing that does I/O).',
      from: { path: '^src/[a-z-]+/decisions\\.ts$' },
      to: { pathNot: ['^src/event\\.ts$', ...LEAVES] },
    },
    {
      name: 'vocabularies-are-leaves',
      severity: 'error',
      comment:
        "A feature's vocabulary (types.ts) imports only event.ts and other vocabularies, so anything may use it.",
      from: { path: '^src/[a-z-]+/types\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/event\\.ts$', '^src/[a-z-]+/types\\.ts$'] },
    },
    {
      name: 'skypay-is-protocol-only',
      severity: 'error',
      comment: "SkyPay's protocol (src/skypay/) knows nothing of Koa, the store or any feature.",
      from: { path: '^src/skypay/' },
      to: {
        path: ['^src/[a-z-]+/', '^node_modules/(koa|@koa|koa-bodyparser|pg|better-sqlite3)/'],
        pathNot: ['^src/skypay/'],
      },
    },
    {
      name: 'config-reads-only-schemas',
      severity: 'error',
      comment:
        'Config is loaded and validated once; it composes the schemas of routing, destinations and http and uses ' +
        'nothing that runs (store, ingest, delivery, alerts, payouts, metrics, fronts).',
      from: { path: '^src/config/' },
      to: { path: '^src/(runtime|cli|ui|admin|operations|metrics|ingest|payouts|alerts|delivery|store)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
