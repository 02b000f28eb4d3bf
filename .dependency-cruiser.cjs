/**
 * npm run lint: no module may import itself back through others (a cycle hides an order-of-load bug), and the layers
 * hold: the fronts (admin API, dashboard, CLI) do what they do through src/operations, which knows no front.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules each need the other to load first; cut it with a smaller module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'fronts-through-operations',
      severity: 'error',
      comment:
        'The admin API, the dashboard and the CLI reach the store only through src/operations, where each use case ' +
        'is written once; take the view types from src/operations/views.',
      from: { path: '^src/(admin|ui|cli)/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'operations-know-no-front',
      severity: 'error',
      comment: 'src/operations serves every front alike: it parses no request and renders nothing.',
      from: { path: '^src/operations/' },
      to: { path: '^src/(admin|ui|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
