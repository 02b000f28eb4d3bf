import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Redaction is a second fence: no code path logs a secret on
 * purpose, and these paths catch one that slips into a logged object.
 */
export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'skyrelay' },
      redact: {
        paths: [
          'authentication',
          '*.authentication',
          'encryptKeys',
          '*.encryptKeys',
          'secret',
          '*.secret',
          'password',
          '*.password',
          'pass',
          '*.pass',
          'token',
          '*.token',
          'headers.authorization',
          'req.headers.authorization',
          'url',
          '*.url',
          'transport',
          '*.transport',
        ],
        censor: '***',
      },
    },
    options.destination,
  );
}
