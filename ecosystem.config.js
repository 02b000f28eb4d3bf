// pm2 requires this file: it must stay CommonJS.
'use strict';

const path = require('node:path');

const instances = Number(process.env.SKYRELAY_INSTANCES || 1);
// Where pm2 writes the daemon's stdout/stderr (relative to this folder unless absolute).
const logDir = process.env.SKYRELAY_LOG_DIR || 'logs';

module.exports = {
  apps: [
    {
      name: 'skyrelay',
      script: 'dist/main.js',
      cwd: __dirname,
      // pm2 sets NODE_APP_INSTANCE by default, which node-config would read as an overlay name.
      instance_var: 'INSTANCE_ID',
      // Cluster mode lets `pm2 reload` replace workers one by one with no refused callback.
      exec_mode: 'cluster',
      instances,
      // Online only after process.send('ready'): the port is bound and the database migrated.
      wait_ready: true,
      listen_timeout: 15000,
      // Longer than the drain: server.shutdownTimeoutMs (10 s) plus delivery.timeoutMs (10 s).
      kill_timeout: 30000,
      max_memory_restart: '300M',
      // An invalid configuration exits 78 (CONFIG_ERROR_EXIT_CODE in src/config/load.ts): restarting cannot fix it,
      // and 15 quick restarts ended `errored` with the reason buried. Crashes exit 1 and are still restarted.
      stop_exit_codes: [78],
      out_file: path.join(logDir, 'skyrelay.out.log'),
      error_file: path.join(logDir, 'skyrelay.err.log'),
      merge_logs: true,
      env: { NODE_ENV: 'development' },
      env_production: { NODE_ENV: 'production' },
    },
  ],
};
